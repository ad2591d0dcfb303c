// Canonical JSON: sorted keys, no insignificant whitespace, integers without a fraction, other numbers in
// Swift's shortest round-trip form. Two equal values always encode to the same bytes, which is what stable
// job keys hash. A pretty variant (two-space indent, still sorted) is for files people read.

public enum CanonicalJSON {
    public static func encode(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out, indent: nil, level: 0)
        return out
    }

    public static func encodePretty(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out, indent: "  ", level: 0)
        return out
    }

    /// Formats a Double deterministically; non-finite values (which JSON cannot carry) become null.
    public static func formatNumber(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return d == 0 ? "0" : String(Int64(d)) }
        return "\(d)"
    }

    public static func escape(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func write(_ value: JSONValue, into out: inout String, indent: String?, level: Int) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .number(let d): out += formatNumber(d)
        case .string(let s): out += escape(s)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (n, item) in items.enumerated() {
                if n > 0 { out += "," }
                newline(&out, indent, level + 1)
                write(item, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            // Sort by UTF-8 bytes so the order never depends on locale or Unicode normalisation.
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (n, key) in keys.enumerated() {
                if n > 0 { out += "," }
                newline(&out, indent, level + 1)
                out += escape(key)
                out += indent == nil ? ":" : ": "
                write(members[key]!, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "}"
        }
    }

    private static func newline(_ out: inout String, _ indent: String?, _ level: Int) {
        guard let indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }
}

/// Stable keys: the SHA-256 of the canonical JSON of a job's inputs (parameters, parent key, data identity,
/// code and schema version). Equal inputs give equal keys on every machine and every run.
public enum StableKey {
    public static func of(_ inputs: JSONValue) -> String {
        SHA256.hexDigest(Array(CanonicalJSON.encode(inputs).utf8))
    }

    /// A key for a job of `kind` with `parameters`, under `parent` (if any), versioned by the code version.
    public static func job(kind: String, parameters: JSONValue, parent: String?) -> String {
        of(.object([
            "kind": .string(kind),
            "parameters": parameters,
            "parent": parent.map { .string($0) } ?? .null,
            "leopard": .string(LeopardVersion.string),
        ]))
    }
}
