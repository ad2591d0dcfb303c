// The result store: one SQLite file per sweep output (`results/<sweep>.sqlite`), schema documented in README.md.
//
// Opening checks, in order, so that a wrong file gives one clear message naming it: the file exists (read-only),
// starts with the SQLite header, carries Leopard's application_id (or is empty and new), and has a schema version
// this code knows; then it is migrated (writers only). Damage that SQLite detects while doing so (SQLITE_CORRUPT,
// SQLITE_NOTADB) becomes `StoreError.corrupt`, with the truncation point when the file is shorter than its header.
//
// Thread safety: every public method takes the store's lock, so a `ResultStore` may be shared by threads; the
// sweep engine still funnels writes through one writer, as DESIGN.md asks.

import Basics
import Foundation

public final class ResultStore: @unchecked Sendable {
    public enum Access: Sendable {
        /// Reading only: no lock, works while another process writes (WAL).
        case readOnly
        /// Reading and writing: takes the writer lock (waiting up to `lockTimeoutSeconds`; 0 fails at once when
        /// another process holds it), creates the file if missing, migrates the schema.
        case write(lockTimeoutSeconds: Double = 0)
    }

    public static var schemaVersion: Int { StoreSchema.latestVersion }

    public let path: String
    public let isWritable: Bool
    let database: Database
    private let writerLock: WriterLock?
    let lock = NSRecursiveLock()
    /// Key scopes made on this connection so far (names their temp tables; ResultStore+KeyScope.swift).
    var keyScopeCount = 0
    /// The clock for every timestamp the store writes (seconds since the Unix epoch); tests replace it.
    var now: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    public init(path: String, access: Access) throws {
        self.path = path
        switch access {
        case .readOnly:
            isWritable = false
            writerLock = nil
            guard FileManager.default.fileExists(atPath: path) else {
                throw StoreError.notWritable(file: path, detail: "no such store (nothing has been written there yet)")
            }
            try Self.checkHeader(path: path)
            database = try Self.translatingCorruption(path: path) { try Database(path: path, mode: .readOnly) }
        case .write(let timeout):
            isWritable = true
            writerLock = try WriterLock(storePath: path, timeoutSeconds: timeout)
            try Self.checkHeader(path: path)
            database = try Self.translatingCorruption(path: path) { try Database(path: path, mode: .readWriteCreate) }
        }
        try Self.translatingCorruption(path: path) { try self.prepareSchema() }
    }

    /// Testing hook: a store whose clock is `clock`.
    convenience init(path: String, access: Access, clock: @escaping @Sendable () -> Double) throws {
        try self.init(path: path, access: access)
        now = clock
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    func requireWritable() throws {
        if !isWritable { throw StoreError.notWritable(file: path, detail: "the store was opened read-only") }
    }

    /// Runs `body`, turning SQLite's corruption codes into `StoreError.corrupt` naming the file (and, for a
    /// truncated file, where it stops).
    static func translatingCorruption<T>(path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SQLiteError where error.isCorruption {
            var detail = error.sqliteMessage
            if let truncation = truncationDiagnosis(path: path) { detail += "; " + truncation }
            if let sql = error.sql { detail += " (while running: \(sql.prefix(80)))" }
            throw StoreError.corrupt(file: path, detail: detail)
        }
    }

    // MARK: Opening

    /// A non-empty file must start with SQLite's 16-byte magic string.
    private static func checkHeader(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }  // absent: a writer creates it
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 100))
        if head.isEmpty { return }
        let magic = Array("SQLite format 3\u{0}".utf8)
        guard head.count >= 16, Array(head[0..<16]) == magic else {
            throw StoreError.notAStore(file: path, detail: "it does not start with the SQLite header")
        }
        if head.count < 100 {
            throw StoreError.corrupt(file: path, detail: "the file is \(head.count) bytes long, shorter than SQLite's 100-byte header")
        }
    }

    /// When the file is shorter than the page count its header declares, says so with the first missing page.
    static func truncationDiagnosis(path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 100))
        guard head.count == 100 else { return nil }
        func be32(_ o: Int) -> Int { Int(head[o]) << 24 | Int(head[o + 1]) << 16 | Int(head[o + 2]) << 8 | Int(head[o + 3]) }
        let rawPageSize = Int(head[16]) << 8 | Int(head[17])
        let pageSize = rawPageSize == 1 ? 65_536 : rawPageSize
        let declaredPages = be32(28)
        // The in-header size is valid only when the change counter (offset 24) equals version-valid-for (92).
        guard pageSize >= 512, declaredPages > 0, be32(24) == be32(92) else { return nil }
        guard let fileBytes = fileSize(path), fileBytes < declaredPages * pageSize else { return nil }
        let firstMissingPage = fileBytes / pageSize + 1
        return "the file is truncated: \(fileBytes) bytes, but its header declares \(declaredPages) pages of \(pageSize) bytes "
            + "(\(declaredPages * pageSize) bytes); page \(firstMissingPage) onwards is missing"
    }

    private func prepareSchema() throws {
        let applicationID = Int32(truncatingIfNeeded: try database.scalar("PRAGMA application_id").flatMap { value -> Int64? in
            if case .integer(let v) = value { return v }; return nil
        } ?? 0)
        let version = try database.userVersion()
        let tableCount: Int64 = try {
            if case .integer(let n)? = try database.scalar("SELECT COUNT(*) FROM sqlite_schema") { return n }
            return 0
        }()
        let isEmpty = applicationID == 0 && version == 0 && tableCount == 0
        if !isEmpty && applicationID != StoreSchema.applicationID {
            throw StoreError.notAStore(file: path, detail: applicationID == 0
                ? "a SQLite database with \(tableCount) schema objects and no Leopard application_id"
                : "a SQLite database with application_id \(applicationID), not Leopard's \(StoreSchema.applicationID)")
        }
        if version > StoreSchema.latestVersion {
            throw NewerSchemaError(file: path, foundVersion: version, newestKnownVersion: StoreSchema.latestVersion)
        }
        if isWritable {
            try database.enableWriteAheadLog()
            try Migrator.migrate(database, with: StoreSchema.migrations)
        } else if isEmpty {
            throw StoreError.notAStore(file: path, detail: "an empty SQLite database")
        } else if version < StoreSchema.latestVersion {
            throw StoreError.notWritable(file: path, detail: "schema version \(version) needs migrating to \(StoreSchema.latestVersion); open it for writing once")
        }
    }

    // MARK: Maintenance

    /// `PRAGMA integrity_check`: `["ok"]` when the file is sound.
    public func integrityCheck() throws -> [String] {
        try locked { try Self.translatingCorruption(path: path) { try database.integrityCheck() } }
    }

    /// Runs a read-only query for diagnostics and tests (e.g. `sqlite3`-style inspection of a view).
    public func rows(_ sql: String, _ bindings: [SQLValue] = []) throws -> [[SQLValue]] {
        try locked {
            try Self.translatingCorruption(path: path) {
                let statement = try database.prepare(sql)
                precondition(statement.isReadOnly, "rows(_:) runs read-only SQL only: \(sql)")
                try statement.bind(bindings)
                var result: [[SQLValue]] = []
                while try statement.step() { result.append((0..<statement.columnCount).map { statement.value(at: $0) }) }
                return result
            }
        }
    }
}
