// The cycle model's fast path (CBitKernels/schedule_row.c): a row's front-end as a sorted vector of unit free
// times (two rows at a time), which also yields the kept completions in time order; its back-end as one pass
// over those FIFO pushes. It applies when the hardware has at most 16 units and no unit stalls on the FIFO in
// the row; otherwise the row runs on the general path (SchedulerState.runRow). Both give identical cycles,
// counts and FIFO state (CycleModelTests compares them).

import CBitKernels

/// Buffers of the fast path for rows of up to `keyCount` keys: two rows' front-ends (kept completion times)
/// and the back-end's FIFO history.
final class FastRowScratch {
    let keyCount: Int
    let fifoDepth: Int
    let keptTimes: UnsafeMutablePointer<Int16>
    let history: UnsafeMutablePointer<Int32>
    var fronts: UnsafeMutablePointer<LeopardRowFront>

    init(keyCount: Int, fifoDepth: Int) {
        self.keyCount = keyCount
        self.fifoDepth = fifoDepth
        // Per row: one entry per key and the final 16 lanes (see LeopardRowFront).
        let perRow = keyCount + 16
        keptTimes = .allocate(capacity: 2 * perRow)
        let historyCount = Int(leopard_back_row_scratch_count(Int32(perRow), Int32(fifoDepth)))
        history = .allocate(capacity: historyCount)
        fronts = .allocate(capacity: 2)
        fronts.initialize(repeating: LeopardRowFront(), count: 2)
        fronts[0].keptTimes = keptTimes
        fronts[1].keptTimes = keptTimes + perRow
    }

    deinit {
        keptTimes.deallocate()
        history.deallocate()
        fronts.deallocate()
    }
}

extension SchedulerState {
    /// Computes the front-ends of two rows (keyCountB may be 0) into the scratch; false when the fast path
    /// does not apply (the rows then run on the general path).
    mutating func fastFronts(planesA: UnsafePointer<UInt8>, keptA: UnsafePointer<UInt8>, keyCountA: Int,
                             planesB: UnsafePointer<UInt8>, keptB: UnsafePointer<UInt8>, keyCountB: Int,
                             fixedPlanes: UInt8?, allKept: Bool, cyclesPerPlane: Int) -> Bool {
        guard fastPathEnabled, units <= Int(LEOPARD_FAST_ROW_MAX_UNITS) else { return false }
        let longest = max(keyCountA, keyCountB)
        if fastScratch == nil || fastScratch!.keyCount < longest {
            fastScratch = FastRowScratch(keyCount: longest, fifoDepth: fifoDepth)
        }
        let fronts = fastScratch!.fronts
        let fixedLatency = Int32(Int(fixedPlanes ?? 0) * cyclesPerPlane)
        return leopard_front_rows(planesA, keptA, Int32(keyCountA), planesB, keptB, Int32(keyCountB), fixedLatency,
                                  allKept ? 1 : 0, Int32(cyclesPerPlane), Int32(units), fronts, fronts + 1) != 0
    }

    /// The back-end of the row whose front-end is in scratch slot `slot`, started at `start`: returns the
    /// row's front-end end, or nil (state untouched) when a unit would stall on the FIFO.
    mutating func fastBack(slot: Int, start: Int, backCycles: Int, timing: inout MatrixTiming) -> Int? {
        let scratch = fastScratch!
        let front = scratch.fronts + slot
        var pushes = Int64(pushCount), fifoSlot = Int64(self.fifoSlot), back = Int64(backFree), backBusy: Int64 = 0
        let done = fifoStarts.withUnsafeMutableBufferPointer { starts in
            starts.withMemoryRebound(to: Int64.self) { ring in
                leopard_back_row(Int64(start), front, Int32(backCycles), Int32(fifoDepth), ring.baseAddress!,
                                 &pushes, &fifoSlot, &back, scratch.history, &backBusy)
            }
        }
        guard done != 0 else { return nil }
        pushCount = Int(pushes)
        self.fifoSlot = Int(fifoSlot)
        backFree = Int(back)
        fastRows += 1
        timing.unitBusyCycles += Int(front.pointee.busy)
        timing.backBusyCycles += Int(backBusy)
        return start + Int(front.pointee.span)
    }
}
