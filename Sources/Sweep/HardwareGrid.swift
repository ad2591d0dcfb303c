// The hardware axes of a manifest: each key is a simulator parameter (HARDWARE.md), each value a number or a
// non-empty list of numbers; the grid is their Cartesian product, enumerated into immutable points (values, not
// nested loops). Parameters not named keep HardwareConfig's defaults.

import AcceleratorModel
import Basics

/// One point of the grid: the full configuration and the values of the axes that vary (for CSV columns).
public struct HardwarePoint: Sendable, Equatable {
    public let config: HardwareConfig
    /// Axis name → value, for every axis of the manifest (also single-valued ones).
    public let axisValues: [String: Double]
}

public struct HardwareGrid: Sendable, Equatable {
    enum Kind { case integer, real }

    /// Every parameter a manifest may sweep: its kind and range. Zero units are rejected here (a manifest typo);
    /// buffers smaller than a row are allowed and come back as infeasible results.
    static let parameters: [(name: String, kind: Kind, min: Double, max: Double)] = [
        ("maxBits", .integer, 2, 16),
        ("qkUnits", .integer, 1, 65_536),
        ("dpuWidth", .integer, 1, 65_536),
        ("fifoDepth", .integer, 1, 1_048_576),
        ("expPerCycle", .real, 1e-6, 1_048_576),
        ("vMacs", .integer, 1, 65_536),
        ("valueBits", .integer, 1, 64),
        ("qBufferBytes", .integer, 1, 1e12),
        ("kBufferBytes", .integer, 1, 1e12),
        ("vBufferBytes", .integer, 1, 1e12),
        ("dramBytesPerCycle", .integer, 1, 1_048_576),
        ("frequencyMHz", .real, 1e-3, 1e6),
    ]
    /// Points per grid at most: a larger product is almost certainly a manifest mistake.
    public static let maximumPoints = 100_000

    /// Axis name → values, in manifest order within an axis.
    public let axes: [String: [Double]]
    public let technology: String

    init(technology: String) {
        axes = [:]
        self.technology = technology
    }

    init(reader: JSONReader, technology: String) throws {
        self.technology = technology
        let o = try reader.object()
        var axes: [String: [Double]] = [:]
        for p in Self.parameters {
            guard let r = o.optional(p.name) else { continue }
            axes[p.name] = try Manifest.uniqueList(r) { item in
                switch p.kind {
                case .integer: return Double(try item.int(min: Int(p.min), max: Int(p.max)))
                case .real: return try item.double(min: p.min, max: p.max)
                }
            }
        }
        try o.finish(allowed: Manifest.commentKeys)
        self.axes = axes
        let count = axes.values.reduce(1.0) { $0 * Double($1.count) }
        if count > Double(Self.maximumPoints) {
            throw reader.fail("a grid of at most \(Self.maximumPoints) points (these axes give \(Int(count)))")
        }
    }

    /// The axes in a fixed order (sorted by name).
    public var axisNames: [String] { axes.keys.sorted() }

    public var pointCount: Int { axes.values.reduce(1) { $0 * $1.count } }

    /// Every point, the last axis (by name) varying fastest.
    public var points: [HardwarePoint] {
        var combos: [[String: Double]] = [[:]]
        for name in axisNames {
            combos = combos.flatMap { partial in axes[name]!.map { value in partial.merging([name: value]) { $1 } } }
        }
        return combos.map { values in
            var c = HardwareConfig()
            c.technology = technology
            for (name, v) in values { Self.set(name, v, in: &c) }
            c.name = values.isEmpty ? "default" : axisNames.map { "\($0)=\(CanonicalJSON.formatNumber(values[$0]!))" }.joined(separator: ",")
            return HardwarePoint(config: c, axisValues: values)
        }
    }

    static func set(_ name: String, _ v: Double, in c: inout HardwareConfig) {
        switch name {
        case "maxBits": c.maxBits = Int(v)
        case "qkUnits": c.qkUnits = Int(v)
        case "dpuWidth": c.dpuWidth = Int(v)
        case "fifoDepth": c.fifoDepth = Int(v)
        case "expPerCycle": c.expPerCycle = v
        case "vMacs": c.vMacs = Int(v)
        case "valueBits": c.valueBits = Int(v)
        case "qBufferBytes": c.qBufferBytes = Int(v)
        case "kBufferBytes": c.kBufferBytes = Int(v)
        case "vBufferBytes": c.vBufferBytes = Int(v)
        case "dramBytesPerCycle": c.dramBytesPerCycle = Int(v)
        case "frequencyMHz": c.frequencyMHz = v
        default: preconditionFailure("unknown hardware axis \(name)")
        }
    }
}
