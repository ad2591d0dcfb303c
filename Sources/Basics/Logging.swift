// Logging without printing: libraries emit `LogRecord`s to a sink that the command layer installs (stderr on a
// terminal, a file, or nothing in tests). The default sink drops everything, so a library never writes to the
// console on its own.

import Foundation

public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case debug = 0, info, warning, error

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

    public var label: String {
        switch self {
        case .debug: return "debug"
        case .info: return "info"
        case .warning: return "warning"
        case .error: return "error"
        }
    }
}

public struct LogRecord: Sendable {
    public let level: LogLevel
    public let subsystem: String
    public let message: String
    public let date: Date
}

/// A named logger; cheap to create. All loggers share one process-wide sink and minimum level.
public struct Logger: Sendable {
    public let subsystem: String

    public init(_ subsystem: String) { self.subsystem = subsystem }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var sink: (@Sendable (LogRecord) -> Void)?
    nonisolated(unsafe) private static var minimumLevel: LogLevel = .info

    /// Installs the process-wide sink (the command layer does this once at start-up).
    public static func install(minimumLevel level: LogLevel, sink newSink: (@Sendable (LogRecord) -> Void)?) {
        lock.lock(); defer { lock.unlock() }
        minimumLevel = level
        sink = newSink
    }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        Self.lock.lock()
        let current = Self.sink
        let minimum = Self.minimumLevel
        Self.lock.unlock()
        guard let current, level >= minimum else { return }
        current(LogRecord(level: level, subsystem: subsystem, message: message(), date: Date()))
    }

    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
}
