// The argument list of one command invocation. Commands pull what they accept — flags, options with values,
// positionals — and `finish()` rejects anything left over, so a typo is a usage error, never silently ignored.
// Accepted spellings: `--name value`, `--name=value`; `--` ends options.

import Basics

public struct Arguments {
    private var items: [String]
    private var afterTerminator: [String] = []

    public init(_ items: [String]) {
        if let dash = items.firstIndex(of: "--") {
            self.items = Array(items[..<dash])
            self.afterTerminator = Array(items[(dash + 1)...])
        } else {
            self.items = items
        }
    }

    public var isEmpty: Bool { items.isEmpty && afterTerminator.isEmpty }

    public func peek() -> String? { items.first ?? afterTerminator.first }

    /// Removes and returns the first argument (used to walk subcommand names).
    public mutating func popFirst() -> String? {
        if !items.isEmpty { return items.removeFirst() }
        return afterTerminator.isEmpty ? nil : afterTerminator.removeFirst()
    }

    /// True (and consumed) when `name` is present; `--name=value` for a flag is a usage error.
    public mutating func flag(_ name: String) throws -> Bool {
        var found = false
        var remaining: [String] = []
        for item in items {
            if item == name { found = true; continue }
            if item.hasPrefix(name + "=") { throw UsageError("\(name) is a flag and takes no value") }
            remaining.append(item)
        }
        items = remaining
        return found
    }

    /// The value of `--name VALUE` / `--name=VALUE`, or nil when absent. Given twice is a usage error.
    public mutating func option(_ name: String) throws -> String? {
        var value: String?
        var remaining: [String] = []
        var i = 0
        while i < items.count {
            let item = items[i]
            var found: String?
            if item == name {
                guard i + 1 < items.count, !items[i + 1].hasPrefix("--") else { throw UsageError("\(name) needs a value") }
                found = items[i + 1]
                i += 2
            } else if item.hasPrefix(name + "=") {
                found = String(item.dropFirst(name.count + 1))
                i += 1
            } else {
                remaining.append(item)
                i += 1
                continue
            }
            if value != nil { throw UsageError("\(name) given more than once") }
            value = found
        }
        items = remaining
        return value
    }

    /// An integer option within a range.
    public mutating func intOption(_ name: String, range: ClosedRange<Int>) throws -> Int? {
        guard let text = try option(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("\(name) = \(text); expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A floating-point option (finite), optionally bounded below.
    public mutating func doubleOption(_ name: String, minimum: Double? = nil) throws -> Double? {
        guard let text = try option(name) else { return nil }
        guard let value = Double(text), value.isFinite, value >= (minimum ?? -.infinity) else {
            let bound = minimum.map { " ≥ \(CanonicalJSON.formatNumber($0))" } ?? ""
            throw UsageError("\(name) = \(text); expected a number\(bound)")
        }
        return value
    }

    /// An option restricted to a set of words.
    public mutating func choiceOption(_ name: String, choices: [String]) throws -> String? {
        guard let text = try option(name) else { return nil }
        guard choices.contains(text) else {
            throw UsageError("\(name) = \(text); expected one of: \(choices.joined(separator: ", "))")
        }
        return text
    }

    /// The next positional argument (not starting with `--`), or nil.
    public mutating func positional() -> String? {
        if let index = items.firstIndex(where: { !$0.hasPrefix("--") || $0 == "-" }) {
            return items.remove(at: index)
        }
        return afterTerminator.isEmpty ? nil : afterTerminator.removeFirst()
    }

    /// A required positional argument named `name` in messages.
    public mutating func requiredPositional(_ name: String) throws -> String {
        guard let value = positional() else { throw UsageError("missing argument <\(name)>") }
        return value
    }

    /// Throws for anything not consumed.
    public func finish() throws {
        if let unknown = items.first {
            throw UsageError(unknown.hasPrefix("-") ? "unknown option '\(unknown)'" : "unexpected argument '\(unknown)'")
        }
        if let extra = afterTerminator.first { throw UsageError("unexpected argument '\(extra)'") }
    }
}
