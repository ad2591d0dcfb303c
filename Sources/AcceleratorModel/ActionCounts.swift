// Action counts: how many times each energy-bearing action happens. They are additive (layers, matrices and
// rows sum), both performance models produce the same counts from the same statistics, and a point's energy is
// Σ count × energy-per-action from an `EnergyTable`, so stored counts can be re-priced without re-simulating.

import Basics
import Workloads

public struct ActionCounts: Equatable, Sendable {
    /// One element-wide add per element of every key bit plane processed: Σ planes × d.
    public var bitPlaneAdds = 0
    /// Forming Q⁺ = Σ max(q, 0) once per query row (early termination only): rows × d.
    public var queryPrepAdds = 0
    /// Bound comparisons: one per plane with early termination, one per score for pruning only.
    public var terminationChecks = 0
    /// Bits read from the on-chip buffers.
    public var qBufferBits = 0
    public var kBufferBits = 0
    public var vBufferBits = 0
    /// Bytes moved from DRAM into the buffers.
    public var dramBytes = 0
    /// Exponentials of the online softmax: one per kept score.
    public var exponentials = 0
    /// V-PU multiply-accumulates: dv per kept score.
    public var valueMacs = 0
    /// Output normalisation multiplies: dv per row.
    public var normalizeMultiplies = 0
    /// FIFO pushes (each later popped): one per kept score.
    public var fifoPushes = 0

    public init() {}

    /// The counts by their energy-table action names, in a fixed order.
    public var named: [(name: String, count: Int)] {
        [("bitPlaneAdd", bitPlaneAdds), ("queryPrepAdd", queryPrepAdds), ("terminationCheck", terminationChecks),
         ("qBufferReadBit", qBufferBits), ("kBufferReadBit", kBufferBits), ("vBufferReadBit", vBufferBits),
         ("dramByte", dramBytes), ("exponential", exponentials), ("valueMac", valueMacs),
         ("normalizeMultiply", normalizeMultiplies), ("fifoPush", fifoPushes)]
    }

    public static let actionNames: [String] = ActionCounts().named.map(\.name)

    public static func + (a: ActionCounts, b: ActionCounts) -> ActionCounts {
        var s = ActionCounts()
        s.bitPlaneAdds = a.bitPlaneAdds + b.bitPlaneAdds
        s.queryPrepAdds = a.queryPrepAdds + b.queryPrepAdds
        s.terminationChecks = a.terminationChecks + b.terminationChecks
        s.qBufferBits = a.qBufferBits + b.qBufferBits
        s.kBufferBits = a.kBufferBits + b.kBufferBits
        s.vBufferBits = a.vBufferBits + b.vBufferBits
        s.dramBytes = a.dramBytes + b.dramBytes
        s.exponentials = a.exponentials + b.exponentials
        s.valueMacs = a.valueMacs + b.valueMacs
        s.normalizeMultiplies = a.normalizeMultiplies + b.normalizeMultiplies
        s.fifoPushes = a.fifoPushes + b.fifoPushes
        return s
    }

    /// snake_case JSON for storage; `init(json:)` reads it back for re-pricing.
    public var json: JSONValue {
        .object(Dictionary(uniqueKeysWithValues: named.map { ($0.name, JSONValue($0.count)) }))
    }

    public init(json reader: JSONReader) throws {
        let o = try reader.object()
        func read(_ name: String) throws -> Int { try o.required(name, "a count ≥ 0").int(min: 0) }
        bitPlaneAdds = try read("bitPlaneAdd"); queryPrepAdds = try read("queryPrepAdd")
        terminationChecks = try read("terminationCheck"); qBufferBits = try read("qBufferReadBit")
        kBufferBits = try read("kBufferReadBit"); vBufferBits = try read("vBufferReadBit")
        dramBytes = try read("dramByte"); exponentials = try read("exponential"); valueMacs = try read("valueMac")
        normalizeMultiplies = try read("normalizeMultiply"); fifoPushes = try read("fifoPush")
        try o.finish()
    }
}

/// The three ways of running the same datapath (DESIGN.md §2).
public enum SimulationMode: String, CaseIterable, Sendable {
    /// Neither pruning nor early termination: all planes, every score to the back-end.
    case baseline
    /// The back-end skips pruned scores; the front-end still processes all planes.
    case pruningOnly = "pruning_only"
    /// Pruning and exact bit-serial early termination.
    case pruningAndTermination = "pruning_and_termination"
}

/// Which buffers hold a whole matrix's working set (else that operand is streamed from DRAM).
struct MemoryPlan {
    let qFits: Bool, kFits: Bool, vFits: Bool

    init(hardware hw: HardwareConfig, bits: Int, headDim d: Int, valueDim dv: Int, queryCount: Int, keyCount: Int) {
        qFits = queryCount * d * bits <= hw.qBufferBytes * 8
        kFits = keyCount * d * bits <= hw.kBufferBytes * 8
        vFits = keyCount * dv * hw.valueBits <= hw.vBufferBytes * 8
    }
}

/// The work each mode does, derived from the engine's statistics: planes per valid pair and kept scores.
struct ModeWork {
    let totalPlanes: Int
    let kept: Int
    let planeHistogram: [Int]

    init(_ s: LayerStatistics, mode: SimulationMode) {
        switch mode {
        case .baseline, .pruningOnly:
            var histogram = [Int](repeating: 0, count: s.bits + 1)
            histogram[s.bits] = s.validPairs
            planeHistogram = histogram
            totalPlanes = s.validPairs * s.bits
            kept = mode == .baseline ? s.validPairs : s.keptPairs
        case .pruningAndTermination:
            planeHistogram = s.planeHistogram
            totalPlanes = s.totalPlanes
            kept = s.keptPairs
        }
    }
}

extension ActionCounts {
    /// The counts of one layer in one mode (identical for the cycle and the analytic model).
    static func of(_ s: LayerStatistics, mode: SimulationMode, hardware hw: HardwareConfig, plan: MemoryPlan) -> ActionCounts {
        let work = ModeWork(s, mode: mode)
        let d = s.headDim, dv = s.valueDim
        var c = ActionCounts()
        c.bitPlaneAdds = work.totalPlanes * d
        c.queryPrepAdds = mode == .pruningAndTermination ? s.validRows * d : 0
        c.terminationChecks = mode == .pruningAndTermination ? work.totalPlanes : (mode == .pruningOnly ? s.validPairs : 0)
        c.qBufferBits = s.validRows * d * s.bits
        c.kBufferBits = work.totalPlanes * d
        c.vBufferBits = work.kept * dv * hw.valueBits
        c.exponentials = work.kept
        c.valueMacs = work.kept * dv
        c.normalizeMultiplies = s.validRows * dv
        c.fifoPushes = work.kept
        // DRAM: Q once per row either way; K and V once per matrix when they fit, else re-streamed (K: only the
        // planes processed, since K is stored bit-plane-major; V: only the rows of kept scores).
        let qBits = s.validRows * d * s.bits
        let kBits = plan.kFits ? s.validKeySlots * d * s.bits : work.totalPlanes * d
        let vBits = plan.vFits ? s.validKeySlots * dv * hw.valueBits : work.kept * dv * hw.valueBits
        c.dramBytes = (qBits + 7) / 8 + (kBits + 7) / 8 + (vBits + 7) / 8
        return c
    }
}
