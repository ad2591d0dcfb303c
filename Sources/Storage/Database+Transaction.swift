// Closure transactions: BEGIN IMMEDIATE (take the write lock now, so a busy database fails or waits here rather
// than halfway through the body), COMMIT when the body returns, ROLLBACK when it throws. The error the caller sees
// is always the FIRST one: the body's error even if the rollback fails too, or COMMIT's error (after a rollback).

import Basics
import CSQLite

extension Database {
    public func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        precondition(isAutocommit, "\(path): nested transaction; transactions do not nest")
        try execute("BEGIN IMMEDIATE")
        let result: Result
        do {
            result = try body()
        } catch {
            rollbackIgnoringErrors()
            throw error
        }
        do {
            try execute("COMMIT")
        } catch {
            // A failed COMMIT (e.g. SQLITE_BUSY, a deferred foreign-key violation) leaves the transaction open.
            rollbackIgnoringErrors()
            throw error
        }
        return result
    }

    /// Rolls back if a transaction is still open. A failure here is secondary to the error being rethrown; SQLite
    /// has then already rolled back on its own (the only way ROLLBACK fails with a transaction open is I/O).
    private func rollbackIgnoringErrors() {
        if !isAutocommit { _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
    }
}
