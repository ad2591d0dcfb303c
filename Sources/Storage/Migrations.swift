// Schema migrations keyed on `PRAGMA user_version`. Version n is reached by applying migrations 1...n in order,
// each in its own transaction together with the user_version bump, so a crash leaves the file at a whole version.

import Basics

public struct Migration: Sendable {
    /// The user_version this migration produces (1, 2, ...).
    public let version: Int
    /// One line for people (`store inspect`, errors).
    public let summary: String
    public let apply: @Sendable (Database) throws -> Void

    public init(version: Int, summary: String, apply: @escaping @Sendable (Database) throws -> Void) {
        self.version = version
        self.summary = summary
        self.apply = apply
    }
}

/// A database written by a newer Leopard: its schema version is above the newest this code knows.
public struct NewerSchemaError: LeopardError, Equatable {
    public let file: String
    public let foundVersion: Int
    public let newestKnownVersion: Int

    public var message: String {
        "\(file): schema version \(foundVersion) is newer than this Leopard supports (\(newestKnownVersion)); "
            + "use a newer Leopard to open it"
    }
}

public enum Migrator {
    /// Brings `database` up to the newest version in `migrations`; returns the versions applied (empty when current).
    @discardableResult
    public static func migrate(_ database: Database, with migrations: [Migration]) throws -> [Int] {
        for (offset, migration) in migrations.enumerated() {
            precondition(migration.version == offset + 1, "migrations must be numbered 1, 2, ... in order")
        }
        let newest = migrations.count
        let current = try database.userVersion()
        if current > newest {
            throw NewerSchemaError(file: database.path, foundVersion: current, newestKnownVersion: newest)
        }
        var applied: [Int] = []
        for migration in migrations where migration.version > current {
            try database.transaction {
                try migration.apply(database)
                try database.setUserVersion(migration.version)
            }
            applied.append(migration.version)
        }
        return applied
    }
}
