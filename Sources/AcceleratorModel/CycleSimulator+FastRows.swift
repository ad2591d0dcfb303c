// The cycle model's fast path (CBitKernels/schedule_row.c): a row's front-end as a sorted multiset of unit free
// times (16 rows at a time, one vector lane per row), which also yields the kept completions in time order; its
// back-end as one pass over those FIFO pushes. It applies when the hardware has at most 16 units and no unit stalls on the FIFO in
// the row; otherwise the row runs on the general path (SchedulerState.runRow). Both give identical cycles,
// counts and FIFO state (FastPathTests compares them).

import CBitKernels

/// Buffers of the fast path for rows of up to `keyCount` keys: a group's row descriptors and front-ends (kept
/// completion times), the front-end's working buffer and the back-end's FIFO history.
final class FastRowScratch {
    let keyCount: Int
    let keys: UnsafeMutablePointer<LeopardRowKeys>
    let fronts: UnsafeMutablePointer<LeopardRowFront>
    let keptTimes: UnsafeMutablePointer<Int16>
    let frontWork: UnsafeMutablePointer<Int16>
    let history: UnsafeMutablePointer<Int32>

    init(keyCount: Int, fifoDepth: Int) {
        self.keyCount = keyCount
        let rows = Int(LEOPARD_FRONT_ROWS)
        // Per row: one entry per key and the final 16 lanes (see LeopardRowFront).
        let perRow = keyCount + 16
        keys = .allocate(capacity: rows)
        keys.initialize(repeating: LeopardRowKeys(), count: rows)
        fronts = .allocate(capacity: rows)
        fronts.initialize(repeating: LeopardRowFront(), count: rows)
        keptTimes = .allocate(capacity: rows * perRow)
        for r in 0..<rows { fronts[r].keptTimes = keptTimes + r * perRow }
        frontWork = .allocate(capacity: Int(leopard_front_rows_scratch_count(Int32(keyCount))))
        history = .allocate(capacity: Int(leopard_back_row_scratch_count(Int32(perRow), Int32(fifoDepth))))
    }

    deinit {
        keys.deallocate()
        fronts.deallocate()
        keptTimes.deallocate()
        frontWork.deallocate()
        history.deallocate()
    }
}

extension SchedulerState {
    /// The fast path's buffers for rows of up to `keyCount` keys (fill `keys` before fastFronts).
    mutating func prepareFastRows(keyCount: Int) -> FastRowScratch {
        if let scratch = fastScratch, scratch.keyCount >= keyCount { return scratch }
        let scratch = FastRowScratch(keyCount: keyCount, fifoDepth: fifoDepth)
        fastScratch = scratch
        return scratch
    }

    /// Computes the front-ends of the `count` rows described in the scratch's `keys`; false when the fast path
    /// does not apply (the rows then run on the general path).
    mutating func fastFronts(count: Int, fixedPlanes: UInt8?, allKept: Bool, cyclesPerPlane: Int) -> Bool {
        guard fastPathEnabled, units <= Int(LEOPARD_FAST_ROW_MAX_UNITS), let scratch = fastScratch else { return false }
        let fixedLatency = Int32(Int(fixedPlanes ?? 0) * cyclesPerPlane)
        return leopard_front_rows(scratch.keys, Int32(count), fixedLatency, allKept ? 1 : 0, Int32(cyclesPerPlane),
                                  Int32(units), scratch.frontWork, scratch.fronts) != 0
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
