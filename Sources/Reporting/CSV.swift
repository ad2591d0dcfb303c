// CSV with a header and fixed number formats (RFC 4180 quoting; `.` decimal separator whatever the locale), so a
// rerun of the same sweep writes byte-identical files and spreadsheets and pandas read them without options.

public enum CSVCell: Equatable, Sendable {
    case text(String)
    case integer(Int)
    /// A number with a fixed count of decimals; NaN and infinities print as empty cells.
    case fixed(Double, decimals: Int)
    case empty

    public var rendered: String {
        switch self {
        case .text(let s): return CSVTable.quote(s)
        case .integer(let i): return String(i)
        case .fixed(let d, let decimals): return d.isFinite ? formatFixed(d, decimals: decimals) : ""
        case .empty: return ""
        }
    }
}

public struct CSVTable: Sendable {
    public let header: [String]
    public private(set) var rows: [[CSVCell]] = []

    public init(header: [String]) { self.header = header }

    public mutating func append(_ row: [CSVCell]) {
        precondition(row.count == header.count, "CSV row has \(row.count) cells for \(header.count) columns")
        rows.append(row)
    }

    /// The whole table, `\n` line endings, trailing newline.
    public func render() -> String {
        var out = header.map(Self.quote).joined(separator: ",") + "\n"
        for row in rows { out += row.map(\.rendered).joined(separator: ",") + "\n" }
        return out
    }

    /// Quotes a field when it holds a comma, quote, CR or LF (doubling inner quotes).
    public static func quote(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Fixed-point formatting without Foundation's locale-dependent formatters: round half away from zero at
/// `decimals` places. Values beyond 1e15 fall back to Swift's shortest representation.
public func formatFixed(_ value: Double, decimals: Int) -> String {
    precondition(decimals >= 0 && decimals <= 12, "decimals out of range")
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
    guard scaled < 9.0e15 else { return "\(value)" }
    let integer = UInt64(scaled)
    let sign = value < 0 && integer != 0 ? "-" : ""
    if decimals == 0 { return sign + String(integer) }
    let unit = UInt64(scale)
    var fraction = String(integer % unit)
    fraction = String(repeating: "0", count: decimals - fraction.count) + fraction
    return "\(sign)\(integer / unit).\(fraction)"
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
