// The analytic model: a closed form from per-layer statistics, ignoring imbalance between units and FIFO
// stalls (so the pipeline checks it against the cycle-level model and stores the gap). Per layer and mode:
//   load  = ceil(bits loaded into fitting buffers / (8·dramBytesPerCycle))         (summed over matrices)
//   front = max( rows·rowSetup + Σ_p histogram[p]·p·ceil(d/dpuWidth) / qkUnits,
//                rows·rowSetup + Σ planes·d / (8·dramBytesPerCycle) when K streams from DRAM )
//   back  = kept·backCyclesPerKept + rows·normalizeCycles
//   total = load + max(front, back) + matrices·(min(qkUnits, kept/row)·backCyclesPerKept + normalizeCycles)
//           (the drain at the end of each matrix: the last wave of pushes and the row normalisation)
// When every row has the same work, keys divide evenly among the units and the back-end keeps up, this equals
// the cycle-level count exactly (tested).

import Workloads

public enum AnalyticModel {
    /// Cycles and busy figures of one layer in one mode from its statistics alone.
    static func layerTiming(_ s: LayerStatistics, mode: SimulationMode, hardware hw: HardwareConfig, plan: MemoryPlan)
        -> (cycles: Double, unitBusy: Double, backBusy: Double) {
        let work = ModeWork(s, mode: mode)
        let bandwidthBits = Double(8 * hw.dramBytesPerCycle)
        let cyclesPerPlane = Double(hw.cyclesPerPlane(headDim: s.headDim))
        let vStream = plan.vFits ? 0 : (Double(s.valueDim * hw.valueBits) / bandwidthBits).rounded(.up)
        let backPerKept = max(Double(hw.backCyclesPerKept(valueDim: s.valueDim)), vStream)
        let normalize = Double(hw.normalizeCycles(valueDim: s.valueDim))
        let qStream = plan.qFits ? 0 : (Double(s.headDim * s.bits) / bandwidthBits).rounded(.up)
        let rowSetup = Double(hw.rowSetupCycles(headDim: s.headDim)) + qStream
        let rows = Double(s.validRows)

        // Loads are per matrix in the cycle model; the sum of per-matrix ceilings is approximated by one ceiling.
        var loadBits = 0.0
        if plan.qFits { loadBits += Double(s.validRows * s.headDim * s.bits) }
        if plan.kFits { loadBits += Double(s.validKeySlots * s.headDim * s.bits) }
        if plan.vFits { loadBits += Double(s.validKeySlots * s.valueDim * hw.valueBits) }
        let load = (loadBits / bandwidthBits).rounded(.up)

        let unitBusy = Double(work.totalPlanes) * cyclesPerPlane
        var front = rows * rowSetup + unitBusy / Double(hw.qkUnits)
        if !plan.kFits {
            front = max(front, rows * rowSetup + Double(work.totalPlanes * s.headDim) / bandwidthBits)
        }
        let back = Double(work.kept) * backPerKept + rows * normalize
        // Drain after the last row's front-end: its last wave of pushes (at most one per unit) and the
        // normalisation, once per matrix.
        let lastWave = rows > 0 ? min(Double(hw.qkUnits), (Double(work.kept) / rows).rounded(.up)) : 0
        let drain = Double(s.matrixCount) * (lastWave * backPerKept + normalize)
        return (load + max(front, back) + drain, unitBusy, back)
    }
}
