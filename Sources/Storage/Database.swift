// A SQLite connection. One `Database` is used by one thread at a time (the store's single writer, or one reader);
// it is not shared across threads without outside serialisation (`ResultStore` adds a lock).
//
// Connection settings and why:
//   journal_mode = WAL     readers keep working while the writer commits (read-write connections only);
//   synchronous = NORMAL   in WAL mode a killed process never loses a committed transaction nor corrupts the file;
//                          only an OS crash / power cut may roll back the last few commits (never corrupt);
//   busy_timeout           a connection waits for a lock held by another connection instead of failing at once;
//   foreign_keys = ON      SQLite's default is OFF per connection.

import Basics
import CSQLite

/// A value bound to or read from SQL.
public enum SQLValue: Equatable, Sendable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null
}

/// `SQLITE_TRANSIENT` is a C macro (`(sqlite3_destructor_type)-1`) that Swift cannot import: SQLite must copy the
/// bound bytes before the bind call returns.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

public final class Database {
    public enum Mode: Sendable {
        /// Open an existing file for reading; writes fail with `SQLITE_READONLY`.
        case readOnly
        /// Open an existing file for reading and writing.
        case readWrite
        /// Open for reading and writing, creating the file if it does not exist.
        case readWriteCreate
    }

    /// The path as given; every error names it.
    public let path: String
    public let mode: Mode
    let handle: OpaquePointer

    public init(path: String, mode: Mode = .readWriteCreate, busyTimeoutMilliseconds: Int32 = 5_000) throws {
        self.path = path
        self.mode = mode
        var flags: Int32 = SQLITE_OPEN_NOMUTEX
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .readWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            // Even on failure SQLite usually allocates a handle that carries the message; it must be closed.
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            let extended = opened.map { sqlite3_extended_errcode($0) } ?? code
            sqlite3_close_v2(opened)
            throw SQLiteError(file: path, code: code & 0xFF, extendedCode: extended, sqliteMessage: message, sql: nil)
        }
        handle = opened
        sqlite3_extended_result_codes(handle, 1)
        try check(sqlite3_busy_timeout(handle, busyTimeoutMilliseconds), sql: "busy_timeout")
        try execute("PRAGMA foreign_keys = ON")
    }

    deinit {
        // close_v2 defers the close until every statement is finalised; statements hold a strong reference to
        // their database, so by the time this runs none are left.
        sqlite3_close_v2(handle)
    }

    // MARK: The one error path

    /// Throws `SQLiteError` unless `code` is one of the success codes (`SQLITE_OK`, `SQLITE_ROW`, `SQLITE_DONE`).
    @discardableResult
    func check(_ code: Int32, sql: String?) throws -> Int32 {
        switch code & 0xFF {
        case SQLITE_OK, SQLITE_ROW, SQLITE_DONE: return code
        default:
            // sqlite3_errmsg describes the most recent failure on this connection, which is this one.
            throw SQLiteError(file: path, code: code & 0xFF, extendedCode: sqlite3_extended_errcode(handle),
                              sqliteMessage: String(cString: sqlite3_errmsg(handle)), sql: sql)
        }
    }

    // MARK: Running SQL

    /// Runs one or more statements without bindings or results (schema, pragmas).
    public func execute(_ sql: String) throws {
        var errorText: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorText)
        sqlite3_free(errorText)  // check() reads the same message from the connection
        try check(code, sql: sql)
    }

    public func prepare(_ sql: String) throws -> Statement {
        var raw: OpaquePointer?
        try check(sqlite3_prepare_v2(handle, sql, -1, &raw, nil), sql: sql)
        guard let raw else { preconditionFailure("empty SQL statement: \(sql)") }
        return Statement(database: self, handle: raw, sql: sql)
    }

    /// Runs one statement with `bindings` to completion; returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ bindings: [SQLValue] = []) throws -> Int {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        while try statement.step() {}
        return changes
    }

    /// Runs a query and maps every row.
    public func query<Row>(_ sql: String, _ bindings: [SQLValue] = [], row: (Statement) throws -> Row) throws -> [Row] {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        var rows: [Row] = []
        while try statement.step() { rows.append(try row(statement)) }
        return rows
    }

    /// The first column of the first row, or nil when there is no row.
    public func scalar(_ sql: String, _ bindings: [SQLValue] = []) throws -> SQLValue? {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        return try statement.step() ? statement.value(at: 0) : nil
    }

    /// Rows changed by the most recent INSERT/UPDATE/DELETE.
    public var changes: Int { Int(sqlite3_changes64(handle)) }

    /// True when no transaction is open.
    public var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    // MARK: Pragmas

    /// `PRAGMA user_version`: the schema version that migrations maintain.
    public func userVersion() throws -> Int {
        guard case .integer(let v)? = try scalar("PRAGMA user_version") else { return 0 }
        return Int(v)
    }

    public func setUserVersion(_ version: Int) throws {
        precondition(version >= 0)
        try execute("PRAGMA user_version = \(version)")
    }

    /// Switches a read-write connection to write-ahead logging; returns the journal mode now in force.
    @discardableResult
    public func enableWriteAheadLog() throws -> String {
        let mode = try scalar("PRAGMA journal_mode = WAL")
        try execute("PRAGMA synchronous = NORMAL")
        if case .text(let name)? = mode { return name }
        return ""
    }

    /// `PRAGMA integrity_check`: `["ok"]` for a sound file, else SQLite's list of problems (naming pages).
    public func integrityCheck(maximumErrors: Int = 100) throws -> [String] {
        try query("PRAGMA integrity_check(\(maximumErrors))") { $0.string(at: 0) ?? "" }
    }
}
