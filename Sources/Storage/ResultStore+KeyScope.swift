// Restricting the job life cycle to a set of keys: the sweep engine claims, skips, retries and counts only the jobs
// of the plan its manifest makes now, so the jobs an edited manifest (or a changed preset default) superseded stay
// in the store untouched. The keys live in a TEMP table of this store's connection: nothing is written to the file
// (no schema change, nothing for other processes to see), it disappears when the store is closed, and a claim
// stays the one guarded transaction it was (the scope only joins its SELECT). A TEMP table rather than bound
// parameters because a plan has up to ~130,000 keys, beyond SQLite's limit on host parameters.

import Basics

/// A set of job keys held by one `ResultStore` (see above). Made with `ResultStore.makeKeyScope(_:)`; valid only
/// with the store that made it.
public struct JobKeyScope: Sendable, Equatable {
    /// The TEMP table holding the keys (one column, `key`).
    let table: String
    let store: ObjectIdentifier
    /// How many distinct keys it holds.
    public let count: Int

    /// SQL condition restricting `column` (a job key) to the scope.
    func condition(_ column: String) -> String { "\(column) IN (SELECT key FROM temp.\(table))" }
}

extension ResultStore {
    /// Stores `keys` in a new TEMP table of this connection (the store must be open for writing: filling the
    /// table is a transaction, which takes the writer's lock like any other).
    public func makeKeyScope<Keys: Sequence<String>>(_ keys: Keys) throws -> JobKeyScope {
        try write {
            keyScopeCount += 1
            let table = "job_key_scope_\(keyScopeCount)"
            try database.execute("CREATE TEMP TABLE \(table) (key TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID")
            let count = try database.transaction { () -> Int in
                let insert = try database.prepare("INSERT INTO temp.\(table) (key) VALUES (?) ON CONFLICT (key) DO NOTHING")
                var count = 0
                for key in keys {
                    try insert.run([.text(key)])
                    count += database.changes
                }
                return count
            }
            return JobKeyScope(table: table, store: ObjectIdentifier(self), count: count)
        }
    }

    /// Drops the scope's TEMP table (the scope must not be used afterwards).
    public func dropKeyScope(_ scope: JobKeyScope) throws {
        precondition(scope.store == ObjectIdentifier(self), "\(path): a JobKeyScope made by another ResultStore")
        try write { try database.execute("DROP TABLE IF EXISTS temp.\(scope.table)") }
    }

    /// The scope's condition on `column`, checking that the scope was made by this store (programmer error).
    func scopeCondition(_ scope: JobKeyScope, column: String) -> String {
        precondition(scope.store == ObjectIdentifier(self), "\(path): a JobKeyScope made by another ResultStore")
        return scope.condition(column)
    }
}
