// Canonical JSON: sorted keys, no insignificant whitespace, integers without a fraction, other numbers in
// Swift's shortest round-trip form. Two equal values always encode to the same bytes, which is what stable
// job keys hash. A pretty variant (two-space indent, still sorted) is for files people read.

public enum CanonicalJSON {
    public static func encode(_ value: JSONValue) -> String {
        String(decoding: encodeUTF8(value), as: UTF8.self)
    }

    /// The canonical encoding as UTF-8 bytes (what stable keys hash; no String round trip).
    public static func encodeUTF8(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        write(value, into: &out, indent: nil, level: 0)
        return out
    }

    public static func encodePretty(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        write(value, into: &out, indent: Array("  ".utf8), level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// Formats a Double deterministically; non-finite values (which JSON cannot carry) become null.
    public static func formatNumber(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return d == 0 ? "0" : String(Int64(d)) }
        return "\(d)"
    }

    public static func escape(_ s: String) -> String {
        var out: [UInt8] = []
        appendEscaped(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `s` as a JSON string literal: `"` `\\` and the control characters escaped (the short forms where JSON has
    /// them, else `\u00XX` in lower-case hex), everything else as is. Works on UTF-8 bytes: every byte of a
    /// multi-byte scalar is ≥ 0x80, so only ASCII bytes can need escaping, and runs without one are copied whole.
    static func appendEscaped(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var runStart = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                runStart = index + 1
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "\n"): out.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): out.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): out.append(UInt8(ascii: "t"))
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                default:
                    out.append(contentsOf: "u00".utf8)
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0xF)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// One object member, `"name":value`, in the compact canonical form (StableKey.JobPrefix writes objects in parts).
    static func appendMember(_ name: String, _ value: JSONValue, into out: inout [UInt8]) {
        appendEscaped(name, into: &out)
        out.append(UInt8(ascii: ":"))
        write(value, into: &out, indent: nil, level: 0)
    }

    private static func write(_ value: JSONValue, into out: inout [UInt8], indent: [UInt8]?, level: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .integer(let i): out.append(contentsOf: String(i).utf8)
        case .number(let d): out.append(contentsOf: formatNumber(d).utf8)
        case .string(let s): appendEscaped(s, into: &out)
        case .array(let items):
            if items.isEmpty { out.append(contentsOf: "[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent, level + 1)
                write(item, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.isEmpty { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            // Sort by UTF-8 bytes so the order never depends on locale or Unicode normalisation.
            let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (n, member) in sorted.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent, level + 1)
                appendEscaped(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                write(member.value, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], _ indent: [UInt8]?, _ level: Int) {
        guard let indent else { return }
        out.append(UInt8(ascii: "\n"))
        for _ in 0..<level { out.append(contentsOf: indent) }
    }
}

/// Stable keys: the SHA-256 of the canonical JSON of a job's inputs (parameters, parent key, data identity,
/// code and schema version). Equal inputs give equal keys on every machine and every run.
public enum StableKey {
    public static func of(_ inputs: JSONValue) -> String {
        SHA256.hexDigest(CanonicalJSON.encodeUTF8(inputs))
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
