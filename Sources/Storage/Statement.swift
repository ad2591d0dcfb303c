// A prepared statement, finalised in deinit. Bind indices are 1-based (SQLite's convention), column indices
// 0-based. Holding a strong reference to its `Database` guarantees the connection outlives the statement.

import Basics
import CSQLite

public final class Statement {
    public let database: Database
    public let sql: String
    let handle: OpaquePointer

    init(database: Database, handle: OpaquePointer, sql: String) {
        self.database = database
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// True when the statement cannot change the database (`sqlite3_stmt_readonly`).
    public var isReadOnly: Bool { sqlite3_stmt_readonly(handle) != 0 }

    // MARK: Binding

    public func bind(_ value: SQLValue, at index: Int32) throws {
        let code: Int32
        switch value {
        case .integer(let v): code = sqlite3_bind_int64(handle, index, v)
        case .real(let v): code = sqlite3_bind_double(handle, index, v)
        case .text(let v): code = sqlite3_bind_text(handle, index, v, -1, sqliteTransient)
        case .blob(let bytes):
            code = bytes.withUnsafeBytes { raw in
                // A zero-length blob must still be a blob (not NULL): zeroblob(0) is one.
                raw.baseAddress == nil || raw.isEmpty
                    ? sqlite3_bind_zeroblob(handle, index, 0)
                    : sqlite3_bind_blob64(handle, index, raw.baseAddress, sqlite3_uint64(raw.count), sqliteTransient)
            }
        case .null: code = sqlite3_bind_null(handle, index)
        }
        try database.check(code, sql: sql)
    }

    public func bind(_ value: Int64, at index: Int32) throws { try bind(.integer(value), at: index) }
    public func bind(_ value: Int, at index: Int32) throws { try bind(.integer(Int64(value)), at: index) }
    public func bind(_ value: Double, at index: Int32) throws { try bind(.real(value), at: index) }
    public func bind(_ value: String, at index: Int32) throws { try bind(.text(value), at: index) }
    public func bind(_ value: [UInt8], at index: Int32) throws { try bind(.blob(value), at: index) }
    public func bindNull(at index: Int32) throws { try bind(.null, at: index) }

    /// Binds `values` to parameters 1...n; the count must match the statement's parameters (programmer error).
    public func bind(_ values: [SQLValue]) throws {
        precondition(values.count == Int(sqlite3_bind_parameter_count(handle)),
                     "\(values.count) bindings for \(sqlite3_bind_parameter_count(handle)) parameters in: \(sql)")
        for (offset, value) in values.enumerated() { try bind(value, at: Int32(offset + 1)) }
    }

    // MARK: Stepping

    /// Advances; true when a row is available, false when the statement is done.
    @discardableResult
    public func step() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        // Reset so the statement is reusable and the connection's error state is this failure.
        try database.check(code, sql: sql)
        return false
    }

    /// Makes the statement runnable again; bindings are kept unless `clearingBindings`.
    public func reset(clearingBindings: Bool = false) {
        sqlite3_reset(handle)  // returns the last step's error again, which step() has already thrown
        if clearingBindings { sqlite3_clear_bindings(handle) }
    }

    /// Runs the statement with `values` to completion and resets it: the inner loop of batched writes.
    public func run(_ values: [SQLValue]) throws {
        defer { reset() }
        try bind(values)
        while try step() {}
    }

    // MARK: Columns of the current row

    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    public func columnName(at index: Int) -> String { String(cString: sqlite3_column_name(handle, Int32(index))) }

    public func isNull(at index: Int) -> Bool { sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL }

    public func int64(at index: Int) -> Int64 { sqlite3_column_int64(handle, Int32(index)) }

    public func int(at index: Int) -> Int { Int(sqlite3_column_int64(handle, Int32(index))) }

    public func double(at index: Int) -> Double { sqlite3_column_double(handle, Int32(index)) }

    public func optionalInt64(at index: Int) -> Int64? { isNull(at: index) ? nil : int64(at: index) }

    public func optionalDouble(at index: Int) -> Double? { isNull(at: index) ? nil : double(at: index) }

    /// Text of the column, nil for NULL.
    public func string(at index: Int) -> String? {
        guard let text = sqlite3_column_text(handle, Int32(index)) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Bytes of the column (empty for NULL or an empty blob).
    public func blob(at index: Int) -> [UInt8] {
        // column_blob before column_bytes, as SQLite's documentation requires.
        guard let pointer = sqlite3_column_blob(handle, Int32(index)) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    public func value(at index: Int) -> SQLValue {
        switch sqlite3_column_type(handle, Int32(index)) {
        case SQLITE_INTEGER: return .integer(int64(at: index))
        case SQLITE_FLOAT: return .real(double(at: index))
        case SQLITE_TEXT: return .text(string(at: index) ?? "")
        case SQLITE_BLOB: return .blob(blob(at: index))
        default: return .null
        }
    }
}
