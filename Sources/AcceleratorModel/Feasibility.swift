// Impossible hardware points are results, not crashes (Timeloop style): "infeasible: K buffer 512 B < one key
// row of 768 B". A point is checked against the shapes of every layer it would run.

import Workloads

public enum Feasibility: Equatable, Sendable {
    case feasible
    case infeasible(reason: String)

    public var reason: String? { if case .infeasible(let r) = self { return r }; return nil }
}

extension HardwareConfig {
    /// The first reason this point cannot run a layer of `bits`, `headDim` d and `valueDim` dv, or `.feasible`.
    public func feasibility(bits: Int, headDim d: Int, valueDim dv: Int) -> Feasibility {
        let queryRowBytes = (d * bits + 7) / 8
        let keyRowBytes = (d * bits + 7) / 8
        let valueRowBytes = (dv * valueBits + 7) / 8
        // Reasons are built only for a failing check (this runs once per analytic evaluation).
        let checks: [(Bool, () -> String)] = [
            (qkUnits < 1, { "qkUnits = 0; the front-end needs at least one dot-product unit" }),
            (dpuWidth < 1, { "dpuWidth = 0; a unit must consume at least one element of a bit plane per cycle" }),
            (vMacs < 1, { "vMacs = 0; the V-PU needs at least one multiplier" }),
            (fifoDepth < 1, { "fifoDepth = 0; the FIFO between front-end and back-end needs at least one entry" }),
            (!(expPerCycle >= 1.0 / 4096), { "expPerCycle = \(expPerCycle); expected at least 1/4096 (one exponential per 4096 cycles)" }),
            (dramBytesPerCycle < 1, { "dramBytesPerCycle = 0; buffers could never be filled" }),
            (!(frequencyMHz > 0), { "frequencyMHz = \(frequencyMHz); the clock must be positive" }),
            (bits > maxBits, { "the trace has \(bits)-bit Q/K but the datapath supports at most maxBits = \(maxBits)" }),
            (qBufferBytes < queryRowBytes, { "Q buffer \(qBufferBytes) B < one query row of \(queryRowBytes) B (d = \(d), \(bits) bits)" }),
            (kBufferBytes < keyRowBytes, { "K buffer \(kBufferBytes) B < one key row of \(keyRowBytes) B (d = \(d), \(bits) bits)" }),
            (vBufferBytes < valueRowBytes, { "V buffer \(vBufferBytes) B < one value row of \(valueRowBytes) B (dv = \(dv), \(valueBits) bits)" }),
        ]
        for (failed, reason) in checks where failed { return .infeasible(reason: reason()) }
        return .feasible
    }

    public func feasibility(for layer: LayerTrace) -> Feasibility {
        feasibility(bits: layer.bits, headDim: layer.headDim, valueDim: layer.valueDim)
    }
}
