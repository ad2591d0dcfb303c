// AcceleratorModel — the LeOPArd-style bit-serial attention accelerator, as our reconstruction (DESIGN.md §2).
//
// Owns: the hardware description and its JSON form (HARDWARE.md), the functional bit-serial engine with exact
// early termination, the cycle-level simulator (the reference), the analytic model, action counts, the energy
// and area tables, and infeasibility as data. Reads workloads only through Workloads (traces, statistics).
// Must not import any ML module (Tensors, Layers, Models, Training) nor any C library but its own kernels
// (CBitKernels: the engine's 16-bit multiply-add loops, which Swift SIMD types do not compile to).

import Basics
import Foundation

/// One hardware point. Counts may be zero here: `feasibility` turns impossible points into reasons, not crashes.
public struct HardwareConfig: Equatable, Sendable {
    public static let formatName = "leopard-hardware"
    public static let formatVersion = 1

    public var name = "leopard-default"
    /// Widest Q/K precision the datapath supports; traces with more bits are infeasible.
    public var maxBits = 12
    /// Bit-serial dot-product units in the front-end (QK-PU).
    public var qkUnits = 16
    /// Elements of one key bit plane a unit consumes per cycle: a plane takes ceil(d / dpuWidth) cycles.
    public var dpuWidth = 64
    /// Entries between front-end and back-end; a full FIFO stalls the unit that wants to push.
    public var fifoDepth = 16
    /// Exponentials per cycle in the online softmax (may be fractional: 0.5 = one every 2 cycles).
    public var expPerCycle = 1.0
    /// Multipliers of the V-PU: a kept score costs ceil(dv / vMacs) cycles.
    public var vMacs = 64
    /// Bits of each V element (V is not quantised by the trace; only its storage and MAC width matter).
    public var valueBits = 16
    public var qBufferBytes = 65536
    public var kBufferBytes = 65536
    public var vBufferBytes = 65536
    public var dramBytesPerCycle = 32
    public var frequencyMHz = 800.0
    /// Name of the built-in energy/area table ("45nm", "7nm").
    public var technology = "45nm"

    public init() {}

    // MARK: Derived per-layer timing (integers: everything is counted in whole cycles)

    /// Cycles per key bit plane.
    public func cyclesPerPlane(headDim d: Int) -> Int { (d + dpuWidth - 1) / dpuWidth }

    /// Back-end cycles per kept score: the V-PU pass or the exponential, whichever is slower.
    public func backCyclesPerKept(valueDim dv: Int) -> Int {
        max((dv + vMacs - 1) / vMacs, Int((1 / expPerCycle).rounded(.up)), 1)
    }

    /// Back-end cycles to normalise one output row (dv multiplies by 1/Σ on the V-PU).
    public func normalizeCycles(valueDim dv: Int) -> Int { (dv + vMacs - 1) / vMacs }

    /// Front-end cycles at each row boundary: broadcast the query and form Q⁺ = Σ max(q, 0).
    public func rowSetupCycles(headDim d: Int) -> Int { (d + dpuWidth - 1) / dpuWidth }

    // MARK: JSON

    public var json: JSONValue {
        .object([
            "format": .string(Self.formatName), "version": JSONValue(Self.formatVersion), "name": .string(name),
            "maxBits": JSONValue(maxBits), "qkUnits": JSONValue(qkUnits), "dpuWidth": JSONValue(dpuWidth),
            "fifoDepth": JSONValue(fifoDepth), "expPerCycle": JSONValue(expPerCycle), "vMacs": JSONValue(vMacs),
            "valueBits": JSONValue(valueBits), "qBufferBytes": JSONValue(qBufferBytes),
            "kBufferBytes": JSONValue(kBufferBytes), "vBufferBytes": JSONValue(vBufferBytes),
            "dramBytesPerCycle": JSONValue(dramBytesPerCycle), "frequencyMHz": JSONValue(frequencyMHz),
            "technology": .string(technology),
        ])
    }

    /// Reads a hardware description; every key but "format" and "version" is optional (defaults above).
    /// Syntax and type errors are `InputError`s with the JSON path; zero units etc. parse fine and are reported
    /// by `feasibility` as infeasible results.
    public init(json reader: JSONReader) throws {
        let o = try reader.object()
        _ = try o.required("format", "\"\(Self.formatName)\"").string(oneOf: [Self.formatName])
        _ = try o.required("version", "1").int(min: Self.formatVersion, max: Self.formatVersion)
        if let r = o.optional("name") { name = try r.string() }
        if let r = o.optional("maxBits") { maxBits = try r.int(min: 2, max: 16) }
        if let r = o.optional("qkUnits") { qkUnits = try r.int(min: 0, max: 1 << 20) }
        if let r = o.optional("dpuWidth") { dpuWidth = try r.int(min: 0, max: 1 << 20) }
        if let r = o.optional("fifoDepth") { fifoDepth = try r.int(min: 0, max: 1 << 20) }
        if let r = o.optional("expPerCycle") { expPerCycle = try r.double(min: 0, max: 1_048_576) }
        if let r = o.optional("vMacs") { vMacs = try r.int(min: 0, max: 1 << 20) }
        if let r = o.optional("valueBits") { valueBits = try r.int(min: 1, max: 64) }
        if let r = o.optional("qBufferBytes") { qBufferBytes = try r.int(min: 0) }
        if let r = o.optional("kBufferBytes") { kBufferBytes = try r.int(min: 0) }
        if let r = o.optional("vBufferBytes") { vBufferBytes = try r.int(min: 0) }
        if let r = o.optional("dramBytesPerCycle") { dramBytesPerCycle = try r.int(min: 0) }
        if let r = o.optional("frequencyMHz") { frequencyMHz = try r.double(min: 0) }
        if let r = o.optional("technology") { technology = try r.string(oneOf: EnergyTable.builtinNames) }
        try o.finish()
    }

    /// Reads a hardware description file.
    public static func load(path: String) throws -> HardwareConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, problem: "cannot read the hardware description (missing or unreadable)")
        }
        return try HardwareConfig(json: JSONReader.parse(bytes: [UInt8](data), file: path))
    }
}
