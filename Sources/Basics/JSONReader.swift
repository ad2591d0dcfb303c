// Typed, path-aware reading of parsed JSON, for manifests, hardware descriptions, trace metadata and checkpoint
// headers. Every failure is an `InputError` naming the file, the JSON path, the offending value and what was
// expected, e.g. `experiments/x.json: hardware.qkUnits[2] = 0; expected an integer ≥ 1`.

public struct JSONReader: Sendable {
    public let value: JSONValue
    public let path: String
    public let file: String

    public init(_ value: JSONValue, file: String, path: String = "") {
        self.value = value
        self.file = file
        self.path = path
    }

    /// Parses `bytes` as JSON; a syntax error becomes an `InputError` with line and column.
    public static func parse(bytes: [UInt8], file: String) throws -> JSONReader {
        do {
            return JSONReader(try JSONParser.parse(bytes: bytes), file: file)
        } catch let e as JSONParseError {
            let place = "line \(e.line), column \(e.column)" + (e.path.isEmpty ? "" : " (at \(e.path))")
            throw InputError(file: file, place: place, problem: e.problem)
        }
    }

    /// The error for this value: `file: path = value; expected …`.
    public func fail(_ expected: String) -> InputError {
        let shown = Self.abbreviate(CanonicalJSON.encode(value))
        let place = path.isEmpty ? "(top level)" : path
        return InputError(file: file, place: "", problem: "\(place) = \(shown); expected \(expected)")
    }

    static func abbreviate(_ text: String) -> String {
        text.count <= 60 ? text : String(text.prefix(57)) + "..."
    }

    public func string() throws -> String {
        guard let s = value.stringValue else { throw fail("a string") }
        return s
    }

    public func string(oneOf choices: [String]) throws -> String {
        guard let s = value.stringValue, choices.contains(s) else {
            throw fail("one of " + choices.map { "\"\($0)\"" }.joined(separator: ", "))
        }
        return s
    }

    public func bool() throws -> Bool {
        guard let b = value.boolValue else { throw fail("true or false") }
        return b
    }

    public func int(min: Int? = nil, max: Int? = nil) throws -> Int {
        guard let i = value.intValue, i >= (min ?? Int.min), i <= (max ?? Int.max) else {
            throw fail("an integer" + Self.rangeText(min.map(Double.init), max.map(Double.init), integer: true))
        }
        return i
    }

    public func double(min: Double? = nil, max: Double? = nil, minExclusive: Bool = false) throws -> Double {
        guard let d = value.doubleValue, d.isFinite,
              min.map({ minExclusive ? d > $0 : d >= $0 }) ?? true, d <= (max ?? .infinity)
        else {
            var range = Self.rangeText(min, max, integer: false)
            if minExclusive, let min { range = " > \(CanonicalJSON.formatNumber(min))" + (max.map { " and ≤ \(CanonicalJSON.formatNumber($0))" } ?? "") }
            throw fail("a number" + range)
        }
        return d
    }

    static func rangeText(_ min: Double?, _ max: Double?, integer: Bool) -> String {
        switch (min, max) {
        case let (lo?, hi?): return " from \(CanonicalJSON.formatNumber(lo)) to \(CanonicalJSON.formatNumber(hi))"
        case let (lo?, nil): return " ≥ \(CanonicalJSON.formatNumber(lo))"
        case let (nil, hi?): return " ≤ \(CanonicalJSON.formatNumber(hi))"
        default: return ""
        }
    }

    public func array(nonEmpty: Bool = false) throws -> [JSONReader] {
        guard let items = value.arrayValue else { throw fail(nonEmpty ? "a non-empty array" : "an array") }
        if nonEmpty && items.isEmpty { throw fail("a non-empty array") }
        return items.enumerated().map { JSONReader($1, file: file, path: JSONPath.appending(index: $0, to: path)) }
    }

    /// An array of T read by `element`, or a single value treated as a one-element array (for sweep axes).
    public func arrayOrScalar<T>(_ element: (JSONReader) throws -> T) throws -> [T] {
        if value.arrayValue != nil { return try array(nonEmpty: true).map(element) }
        return [try element(self)]
    }

    public func object() throws -> JSONObjectReader {
        guard let members = value.objectValue else { throw fail("an object") }
        return JSONObjectReader(members: members, file: file, path: path)
    }
}

/// Reads the members of an object, remembering which keys were consumed so `finish()` can reject unknown keys.
public final class JSONObjectReader {
    public let members: [String: JSONValue]
    public let file: String
    public let path: String
    private var consumed: Set<String> = []

    init(members: [String: JSONValue], file: String, path: String) {
        self.members = members
        self.file = file
        self.path = path
    }

    private func child(_ key: String) -> JSONReader? {
        consumed.insert(key)
        guard let v = members[key] else { return nil }
        return JSONReader(v, file: file, path: JSONPath.appending(key: key, to: path))
    }

    /// A required member; missing → `file: path: missing key "key"; expected <what>`.
    public func required(_ key: String, _ expected: String = "a value") throws -> JSONReader {
        guard let c = child(key) else {
            let where_ = path.isEmpty ? "(top level)" : path
            throw InputError(file: file, place: "", problem: "\(where_): missing key \"\(key)\"; expected \(expected)")
        }
        return c
    }

    /// An optional member; absent or null → nil.
    public func optional(_ key: String) -> JSONReader? {
        guard let c = child(key) else { return nil }
        if case .null = c.value { return nil }
        return c
    }

    /// Rejects keys that were never asked for, naming the first (sorted) and listing the allowed ones.
    public func finish(allowed extra: [String] = []) throws {
        let unknown = members.keys.filter { !consumed.contains($0) && !extra.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        let known = (consumed.union(extra)).sorted().joined(separator: ", ")
        throw InputError(file: file, place: "", problem: "\(JSONPath.appending(key: first, to: path)): unknown key; expected one of: \(known)")
    }
}
