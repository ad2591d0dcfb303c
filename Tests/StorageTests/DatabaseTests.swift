// The SQLite wrapper against real files: typed binds and columns, the one error path, transactions that commit
// on return and roll back on throw (rethrowing the first error), and user_version migrations.

import Basics
import CSQLite
import Foundation
import Testing
@testable import Storage

private struct BodyFailed: Error, Equatable {}

@Suite struct DatabaseTests {
    @Test func bindsAndReadsEveryType() throws {
        let dir = try TemporaryDirectory()
        let db = try Database(path: dir.file("t.sqlite"))
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)")
        let values: [SQLValue] = [.integer(Int64.min), .real(-0.125), .text("héllo ✓"), .blob([0, 255, 7]), .null]
        try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", values)
        try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [.integer(1), .real(.infinity), .text(""), .blob([]), .null])
        let rows = try db.query("SELECT i, r, s, b, n FROM t ORDER BY rowid") { row in (0..<5).map { row.value(at: $0) } }
        #expect(rows[0] == values)
        #expect(rows[1] == [.integer(1), .real(.infinity), .text(""), .blob([]), .null])
        let typed = try db.query("SELECT i, r, s, b, n FROM t ORDER BY rowid LIMIT 1") {
            ($0.int64(at: 0), $0.double(at: 1), $0.string(at: 2), $0.blob(at: 3), $0.optionalDouble(at: 4))
        }[0]
        #expect(typed.0 == Int64.min && typed.1 == -0.125 && typed.2 == "héllo ✓" && typed.3 == [0, 255, 7] && typed.4 == nil)
    }

    @Test func errorsCarryCodesMessageSQLAndFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("e.sqlite")
        let db = try Database(path: path)
        try db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        try db.run("INSERT INTO t VALUES ('a')")
        let error = #expect(throws: SQLiteError.self) { try db.run("INSERT INTO t VALUES ('a')") }
        #expect(error?.code == SQLITE_CONSTRAINT)
        #expect(error?.extendedCode == SQLITE_CONSTRAINT | (6 << 8))  // SQLITE_CONSTRAINT_PRIMARYKEY (a macro Swift cannot import)
        #expect(error?.sql == "INSERT INTO t VALUES ('a')")
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("UNIQUE constraint failed: t.k") == true)

        let syntax = #expect(throws: SQLiteError.self) { try db.prepare("SELEC 1") }
        #expect(syntax?.code == SQLITE_ERROR)
        #expect(syntax?.message.contains("syntax error") == true)
    }

    @Test func openingAMissingFileReadOnlyFailsNamingIt() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("absent.sqlite")
        let error = #expect(throws: SQLiteError.self) { try Database(path: path, mode: .readOnly) }
        #expect(error?.code == SQLITE_CANTOPEN)
        #expect(error?.message.hasPrefix(path) == true)
    }

    @Test func transactionCommitsOnReturn() throws {
        let dir = try TemporaryDirectory()
        let db = try Database(path: dir.file("c.sqlite"))
        try db.execute("CREATE TABLE t (v INTEGER)")
        let returned = try db.transaction { () -> Int in
            try db.run("INSERT INTO t VALUES (1)")
            try db.run("INSERT INTO t VALUES (2)")
            return 42
        }
        #expect(returned == 42)
        #expect(try db.scalar("SELECT SUM(v) FROM t") == .integer(3))
        #expect(db.isAutocommit)
    }

    @Test func transactionRollsBackOnThrowAndRethrowsTheBodysError() throws {
        let dir = try TemporaryDirectory()
        let db = try Database(path: dir.file("r.sqlite"))
        try db.execute("CREATE TABLE t (v INTEGER)")
        #expect(throws: BodyFailed()) {
            try db.transaction {
                try db.run("INSERT INTO t VALUES (1)")
                throw BodyFailed()
            }
        }
        #expect(try db.scalar("SELECT COUNT(*) FROM t") == .integer(0))
        #expect(db.isAutocommit)
    }

    @Test func firstErrorWinsWhenTheTransactionIsAlreadyGone() throws {
        // The body ends the transaction itself, so the wrapper's ROLLBACK has nothing to roll back; the caller must
        // still see the body's error, not a "no transaction is active" error.
        let dir = try TemporaryDirectory()
        let db = try Database(path: dir.file("f.sqlite"))
        try db.execute("CREATE TABLE t (v INTEGER)")
        #expect(throws: BodyFailed()) {
            try db.transaction {
                try db.run("INSERT INTO t VALUES (1)")
                try db.execute("ROLLBACK")
                throw BodyFailed()
            }
        }
        #expect(db.isAutocommit)
    }

    @Test func failedCommitRollsBackAndReportsTheCommitError() throws {
        // A deferred foreign key violation only surfaces at COMMIT.
        let dir = try TemporaryDirectory()
        let db = try Database(path: dir.file("d.sqlite"))
        try db.execute("""
            CREATE TABLE parent (id INTEGER PRIMARY KEY);
            CREATE TABLE child (pid INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
            """)
        let error = #expect(throws: SQLiteError.self) {
            try db.transaction { try db.run("INSERT INTO child VALUES (7)") }
        }
        #expect(error?.code == SQLITE_CONSTRAINT)
        #expect(error?.sql == "COMMIT")
        #expect(db.isAutocommit)
        #expect(try db.scalar("SELECT COUNT(*) FROM child") == .integer(0))
    }

    @Test func migrationsRunInOrderOnceEach() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("m.sqlite")
        let first = [Migration(version: 1, summary: "a") { try $0.execute("CREATE TABLE a (x)") }]
        let both = first + [Migration(version: 2, summary: "b") { try $0.execute("CREATE TABLE b (x)") }]
        do {
            let db = try Database(path: path)
            #expect(try Migrator.migrate(db, with: first) == [1])
            #expect(try Migrator.migrate(db, with: first) == [])
            #expect(try Migrator.migrate(db, with: both) == [2])
            #expect(try db.userVersion() == 2)
        }
        let db = try Database(path: path)
        let error = #expect(throws: NewerSchemaError.self) { try Migrator.migrate(db, with: first) }
        #expect(error?.foundVersion == 2)
        #expect(error?.message.contains(path) == true)
    }

    @Test func aFailingMigrationLeavesTheVersionUnchanged() throws {
        let dir = try TemporaryDirectory()
        let db = try Database(path: dir.file("mf.sqlite"))
        let migrations = [
            Migration(version: 1, summary: "ok") { try $0.execute("CREATE TABLE a (x)") },
            Migration(version: 2, summary: "broken") { db in
                try db.execute("CREATE TABLE b (x)")
                try db.execute("CREATE TABLE a (x)")  // already exists
            },
        ]
        #expect(throws: SQLiteError.self) { try Migrator.migrate(db, with: migrations) }
        #expect(try db.userVersion() == 1)
        #expect(try db.scalar("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'b'") == .integer(0))
    }
}
