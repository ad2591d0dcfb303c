// The one error type of the SQLite wrapper. Every SQLite return code goes through `Database.check`, which builds
// this value from the connection's error state, so every failure carries the same facts: which database file,
// the primary and extended result codes, SQLite's message and the SQL being run.

import Basics
import CSQLite

public struct SQLiteError: LeopardError, Equatable {
    /// Path of the database file (as opened).
    public let file: String
    /// Primary result code (`SQLITE_BUSY`, `SQLITE_CORRUPT`, ...): the low 8 bits of `extendedCode`.
    public let code: Int32
    /// Extended result code (e.g. `SQLITE_CONSTRAINT_PRIMARYKEY`).
    public let extendedCode: Int32
    /// SQLite's own message (`sqlite3_errmsg`), or the generic text of the code.
    public let sqliteMessage: String
    /// The statement that failed, when there was one.
    public let sql: String?

    public init(file: String, code: Int32, extendedCode: Int32, sqliteMessage: String, sql: String?) {
        self.file = file
        self.code = code
        self.extendedCode = extendedCode
        self.sqliteMessage = sqliteMessage
        self.sql = sql
    }

    /// Name of the primary code as SQLite spells it in prose ("database is locked", "database disk image is malformed").
    public var codeDescription: String { String(cString: sqlite3_errstr(code)) }

    public var isCorruption: Bool { code == SQLITE_CORRUPT || code == SQLITE_NOTADB }
    public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }
    public var isConstraint: Bool { code == SQLITE_CONSTRAINT }

    public var message: String {
        var text = "\(file): SQLite error \(code)"
        if extendedCode != code { text += " (extended \(extendedCode))" }
        text += ": \(sqliteMessage)"
        if let sql { text += " — while running: \(Self.abbreviate(sql))" }
        return text
    }

    private static func abbreviate(_ sql: String) -> String {
        let oneLine = sql.split(whereSeparator: { $0 == "\n" }).map { $0.trimmingCharacters() }.joined(separator: " ")
        return oneLine.count > 200 ? String(oneLine.prefix(200)) + "…" : oneLine
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
