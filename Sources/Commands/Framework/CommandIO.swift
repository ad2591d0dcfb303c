// Where command output goes. The real process writes to stdout/stderr; tests capture into strings, so every
// command is testable in-process as argv → (stdout, stderr, exit code).

import Basics
import Foundation

public final class CommandIO: @unchecked Sendable {
    private let writeOut: (String) -> Void
    private let writeErr: (String) -> Void
    /// True when stderr is a terminal (progress bars draw only then).
    public let isTerminal: Bool
    public let environment: [String: String]

    public init(isTerminal: Bool, environment: [String: String],
                out: @escaping (String) -> Void, err: @escaping (String) -> Void) {
        self.isTerminal = isTerminal
        self.environment = environment
        self.writeOut = out
        self.writeErr = err
    }

    /// The process's standard streams.
    public static func standard() -> CommandIO {
        CommandIO(isTerminal: isatty(STDERR_FILENO) == 1, environment: ProcessInfo.processInfo.environment,
                  out: { FileHandle.standardOutput.write(Data($0.utf8)) },
                  err: { FileHandle.standardError.write(Data($0.utf8)) })
    }

    /// One line to stdout.
    public func print(_ line: String = "") { writeOut(line + "\n") }

    /// Raw text to stdout (no newline added).
    public func write(_ text: String) { writeOut(text) }

    /// One line to stderr (diagnostics, progress, log records).
    public func printError(_ line: String) { writeErr(line + "\n") }

    /// Raw text to stderr (progress bars redraw with `\r`).
    public func writeError(_ text: String) { writeErr(text) }

    /// Prints `value` as one pretty JSON object on stdout (sorted keys: stable for scripts and diffs).
    public func printJSON(_ value: JSONValue) { print(CanonicalJSON.encodePretty(value)) }
}
