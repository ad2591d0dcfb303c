// Errors. Libraries throw errors that conform to `LeopardError`; the command layer prints `message` (one line,
// pointing at the fix) and maps the error to an exit code: `UsageError` → 64, everything else → 1.

public protocol LeopardError: Error, CustomStringConvertible, Sendable {
    /// One human-readable sentence: what failed, where (file, JSON path, line, offset), what was expected.
    var message: String { get }
}

extension LeopardError {
    public var description: String { message }
}

/// A command line that cannot be run as given (unknown flag, missing argument, bad value). Exit code 64.
public struct UsageError: LeopardError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// A failure about a named input file: a malformed manifest, data file, trace or hardware description.
/// `place` is a JSON path, `line N`, `byte offset N`, or empty when the whole file is at fault.
public struct InputError: LeopardError, Equatable {
    public let file: String
    public let place: String
    public let problem: String

    public init(file: String, place: String = "", problem: String) {
        self.file = file
        self.place = place
        self.problem = problem
    }

    public var message: String {
        place.isEmpty ? "\(file): \(problem)" : "\(file): \(place): \(problem)"
    }
}

/// A generic failure with a prepared message (I/O, an external tool, a failed check).
public struct RuntimeError: LeopardError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// Describes any error for a person: a `LeopardError`'s message, or the best text Swift gives otherwise.
public func describeError(_ error: any Error) -> String {
    if let e = error as? any LeopardError { return e.message }
    return String(describing: error)
}
