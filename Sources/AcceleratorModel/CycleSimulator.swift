// The cycle-level model (the reference): an event simulation of one attention matrix after another.
//
// Per matrix (one batch element × head): the pipeline starts empty; K, V (and Q) that fit their buffers are
// loaded from DRAM first (ceil(bits / (8·dramBytesPerCycle)) cycles). Then, per valid query row:
//   • row setup: rowSetupCycles (broadcast q, form Q⁺), plus streaming the q row when Q does not fit;
//   • the row's valid keys are dispatched in order, each to the free unit of lowest index; a key occupies its
//     unit for planes × ceil(d/dpuWidth) cycles (planes = B without early termination);
//   • a kept score is pushed into the FIFO when its unit finishes; if the FIFO is full the unit stalls until the
//     back-end takes an entry (an entry leaves when the back-end starts on it; a slot freed at cycle t can be
//     refilled at t). Pushes happen in completion order, ties by unit index;
//   • the back-end processes entries in FIFO order, backCyclesPerKept each (more when V streams from DRAM);
//   • row boundary: the next row starts when every unit is free; the back-end normalises the row
//     (normalizeCycles) after its last entry and after the row's front-end has finished;
//   • when K does not fit, the row's processed planes are streamed from DRAM and the row's front-end cannot end
//     before they have arrived (bandwidth bound per row).
// Two implementations of a row give identical results. The general path (SchedulerState.runRow, the
// reference) keeps units in a calendar of per-cycle bitmasks (bit u = unit u has an event then), so finding the
// next event and the lowest-index unit is a trailing-zero count, and it models FIFO stalls. The fast path
// (CycleSimulator+FastRows.swift, C in CBitKernels/schedule_row.c) tracks unit free times only, as a sorted
// vector, for hardware with ≤ 16 units, and hands a row back to the general path when a unit would stall.
// Tests compare the two on random and adversarial rows, hardware points and modes.

import CBitKernels
import Dispatch
import Workloads

struct MatrixTiming {
    var cycles = 0
    var unitBusyCycles = 0
    var unitStallCycles = 0
    var backBusyCycles = 0

    static func + (a: MatrixTiming, b: MatrixTiming) -> MatrixTiming {
        MatrixTiming(cycles: a.cycles + b.cycles, unitBusyCycles: a.unitBusyCycles + b.unitBusyCycles,
                     unitStallCycles: a.unitStallCycles + b.unitStallCycles, backBusyCycles: a.backBusyCycles + b.backBusyCycles)
    }
}

/// Simulates the matrices of one layer in one mode.
struct CycleSimulator {
    let hardware: HardwareConfig
    let layer: LayerTrace
    let mode: SimulationMode
    let plan: MemoryPlan
    let cyclesPerPlane: Int
    let backCycles: Int
    let normalizeCycles: Int
    let rowSetup: Int
    let bytesPerCycle: Int
    /// Rows try the fast path (CycleSimulator+FastRows.swift) first; tests turn it off to compare.
    var fastPath = true

    init(hardware hw: HardwareConfig, layer: LayerTrace, mode: SimulationMode) {
        hardware = hw
        self.layer = layer
        self.mode = mode
        plan = MemoryPlan(hardware: hw, bits: layer.bits, headDim: layer.headDim, valueDim: layer.valueDim,
                          queryCount: layer.queryCount, keyCount: layer.keyCount)
        bytesPerCycle = hw.dramBytesPerCycle
        cyclesPerPlane = hw.cyclesPerPlane(headDim: layer.headDim)
        let vRowBits = layer.valueDim * hw.valueBits
        let vStream = plan.vFits ? 0 : Self.ceilDiv(vRowBits, 8 * hw.dramBytesPerCycle)
        backCycles = max(hw.backCyclesPerKept(valueDim: layer.valueDim), vStream)
        normalizeCycles = hw.normalizeCycles(valueDim: layer.valueDim)
        let qStream = plan.qFits ? 0 : Self.ceilDiv(layer.headDim * layer.bits, 8 * hw.dramBytesPerCycle)
        rowSetup = hw.rowSetupCycles(headDim: layer.headDim) + qStream
    }

    static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }

    /// All matrices of the layer; matrices are independent (the pipeline drains between them), so they may run
    /// on several threads; the sum is the same either way.
    func run(outcome: LayerOutcome, parallel: Bool) -> MatrixTiming {
        let matrices = layer.batchSize * layer.headCount
        var timings = [MatrixTiming](repeating: MatrixTiming(), count: matrices)
        outcome.planes.withUnsafeBufferPointer { planes in
            outcome.kept.withUnsafeBufferPointer { kept in
                timings.withUnsafeMutableBufferPointer { timingBuffer in
                    let out = timingBuffer.baseAddress!
                    func body(_ m: Int) {
                        var state = SchedulerState(units: hardware.qkUnits, fifoDepth: hardware.fifoDepth,
                                                   horizon: layer.bits * cyclesPerPlane + 2)
                        state.fastPathEnabled = fastPath
                        out[m] = simulateMatrix(batch: m / layer.headCount, head: m % layer.headCount,
                                                planes: planes.baseAddress!, kept: kept.baseAddress!, state: &state)
                    }
                    if parallel && matrices > 1 {
                        DispatchQueue.concurrentPerform(iterations: matrices) { body($0) }
                    } else {
                        for m in 0..<matrices { body(m) }
                    }
                }
            }
        }
        return timings.reduce(MatrixTiming(), +)
    }

    func simulateMatrix(batch b: Int, head h: Int, planes: UnsafePointer<UInt8>, kept: UnsafePointer<UInt8>,
                        state: inout SchedulerState) -> MatrixTiming {
        let d = layer.headDim, bits = layer.bits
        var timing = MatrixTiming()
        // Rows with any valid key and the valid key count (for loads).
        var validRows = 0
        for i in 0..<layer.queryCount where !layer.validKeys(batch: b, query: i).isEmpty { validRows += 1 }
        let validKeys = layer.validLength(batch: b)
        var loadBits = 0
        if plan.qFits { loadBits += validRows * d * bits }
        if plan.kFits { loadBits += validKeys * d * bits }
        if plan.vFits { loadBits += validKeys * layer.valueDim * hardware.valueBits }
        var now = Self.ceilDiv(loadBits, 8 * bytesPerCycle)
        state.startMatrix(at: now)
        let fixedPlanes: UInt8? = mode == .pruningAndTermination ? nil : UInt8(bits)
        let matrixRows = (b * layer.headCount + h) * layer.queryCount
        // Rows in groups of up to LEOPARD_FRONT_ROWS (16): the fast path computes their front-ends together (they
        // do not depend on the state), then each row's back-end in order; a row it cannot take runs on the
        // general path.
        let scratch = state.fastPathEnabled ? state.prepareFastRows(keyCount: layer.keyCount) : nil
        let groupSize = Int(LEOPARD_FRONT_ROWS)
        var failedGroups = 0  // consecutive groups the fast path handed back entirely
        withUnsafeTemporaryAllocation(of: Int.self, capacity: groupSize) { queries in  // the group's query indices
            var i = 0
            while i < layer.queryCount {
                var count = 0
                while count < groupSize && i < layer.queryCount {
                    let keys = layer.validKeys(batch: b, query: i)
                    if !keys.isEmpty {
                        queries[count] = i
                        if let scratch {
                            let row = (matrixRows + i) * layer.keyCount + keys.lowerBound
                            scratch.keys[count] = LeopardRowKeys(planes: planes + row, kept: kept + row,
                                                                 keyCount: Int32(keys.count))
                        }
                        count += 1
                    }
                    i += 1
                }
                guard count > 0 else { break }
                // Rows whose FIFO stalls go back to the general path; after two whole groups of them (e.g. the
                // baseline mode, where every row stalls) the rest of the matrix skips the fast attempt.
                let fronts = scratch != nil && failedGroups < 2
                    && state.fastFronts(count: count, fixedPlanes: fixedPlanes, allKept: mode == .baseline,
                                        cyclesPerPlane: cyclesPerPlane)
                var groupSucceeded = false
                for slot in 0..<count {
                    let keys = layer.validKeys(batch: b, query: queries[slot])
                    let row = (matrixRows + queries[slot]) * layer.keyCount
                    let frontStart = now + rowSetup
                    var frontEnd: Int
                    if fronts, let end = state.fastBack(slot: slot, start: frontStart, backCycles: backCycles, timing: &timing) {
                        frontEnd = end
                        groupSucceeded = true
                    } else {
                        if fronts { state.handedBack += 1 }
                        frontEnd = state.runRow(start: frontStart, keys: keys, planes: planes + row, kept: kept + row,
                                                fixedPlanes: fixedPlanes, allKept: mode == .baseline,
                                                cyclesPerPlane: cyclesPerPlane, backCycles: backCycles, timing: &timing)
                    }
                    if !plan.kFits {
                        var rowPlanes = 0
                        for j in keys { rowPlanes += Int(fixedPlanes ?? planes[row + j]) }
                        frontEnd = max(frontEnd, frontStart + Self.ceilDiv(rowPlanes * d, 8 * bytesPerCycle))
                    }
                    // Row boundary: normalise after the row's last entry and after its front-end is done.
                    state.backFree = max(state.backFree, frontEnd) + normalizeCycles
                    timing.backBusyCycles += normalizeCycles
                    now = frontEnd
                }
                if fronts { failedGroups = groupSucceeded ? 0 : failedGroups + 1 }
            }
        }
        timing.cycles = max(now, state.backFree)
        return timing
    }
}

/// The per-thread mutable state: the unit calendar, the FIFO's back-end start times, the back-end clock.
struct SchedulerState {
    let units: Int
    let words: Int
    var ringMask: Int
    /// buckets[(t & ringMask) * words + w]: bit u of word w set = unit 64w + u has an event at cycle t.
    var buckets: [UInt64]
    /// Whether the unit's current key is kept (it must push into the FIFO when it finishes).
    var pendingKept: [Bool]
    let fifoDepth: Int
    /// Back-end start time of FIFO entry n, at index n % fifoDepth.
    var fifoStarts: [Int]
    var pushCount = 0
    /// pushCount % fifoDepth, kept incrementally (a division per push is measurable here).
    var fifoSlot = 0
    var backFree = 0

    init(units: Int, fifoDepth: Int, horizon: Int) {
        self.units = units
        words = (units + 63) / 64
        var size = 1
        while size <= horizon { size <<= 1 }
        ringMask = size - 1
        buckets = [UInt64](repeating: 0, count: size * words)
        pendingKept = [Bool](repeating: false, count: units)
        self.fifoDepth = fifoDepth
        fifoStarts = [Int](repeating: 0, count: fifoDepth)
    }

    /// The largest plane count a key can take (B ≤ 16).
    let planesCap = 16

    /// Makes the calendar cover events up to `horizon` cycles ahead; only called while it is empty.
    mutating func ensureHorizon(_ horizon: Int) {
        guard horizon > ringMask else { return }
        var size = ringMask + 1
        while size <= horizon { size <<= 1 }
        ringMask = size - 1
        buckets = [UInt64](repeating: 0, count: size * words)
    }

    /// Whether rows try the C fast path first (tests turn it off to compare with the general path).
    var fastPathEnabled = true
    /// Rows the fast path scheduled, and rows it handed back to the general path (tests check both occur).
    var fastRows = 0
    var handedBack = 0
    /// Buffers of the fast path (CycleSimulator+FastRows.swift), allocated on first use.
    var fastScratch: FastRowScratch?

    mutating func startMatrix(at time: Int) {
        pushCount = 0
        fifoSlot = 0
        backFree = time
    }

    /// Schedules one row's keys; returns the cycle at which every unit is free again.
    /// (Written as one flat loop over raw pointers: this is the simulator's hot path.)
    mutating func runRow(start: Int, keys: Range<Int>, planes: UnsafePointer<UInt8>, kept: UnsafePointer<UInt8>,
                         fixedPlanes: UInt8?, allKept: Bool, cyclesPerPlane: Int, backCycles: Int,
                         timing: inout MatrixTiming) -> Int {
        // A unit blocked on the FIFO waits at most until the back-end reaches its entry: the back-end's backlog
        // at the row start (which row normalisations can make long) plus this row's kept scores. The calendar
        // is empty between rows, so it can simply be reallocated larger.
        ensureHorizon(max(planesCap * cyclesPerPlane, max(backFree - start, 0) + keys.count * backCycles) + 2)
        let words = self.words, ringMask = self.ringMask, fifoDepth = self.fifoDepth
        var now = start
        var nextKey = keys.lowerBound
        let endKey = keys.upperBound
        var busy = 0
        var lastFree = start
        var unitBusy = 0, stall = 0, backBusy = 0
        var pushCount = self.pushCount, backFree = self.backFree, slot = self.fifoSlot
        let uniformLatency = Int(fixedPlanes ?? 0) * cyclesPerPlane
        buckets.withUnsafeMutableBufferPointer { bucketBuffer in
            pendingKept.withUnsafeMutableBufferPointer { pendingBuffer in
                fifoStarts.withUnsafeMutableBufferPointer { startsBuffer in
                    let bucket = bucketBuffer.baseAddress!, pending = pendingBuffer.baseAddress!
                    let starts = startsBuffer.baseAddress!
                    // Every unit is free at the row start: the first keys go to units 0, 1, ... in order.
                    let first = min(units, keys.count)
                    for unit in 0..<first {
                        let j = nextKey
                        nextKey &+= 1
                        let latency = fixedPlanes == nil ? Int(planes[j]) &* cyclesPerPlane : uniformLatency
                        unitBusy &+= latency
                        pending[unit] = allKept || kept[j] != 0
                        bucket[((now &+ latency) & ringMask) &* words &+ (unit >> 6)] |= UInt64(1) << UInt64(unit & 63)
                    }
                    busy = first
                    while busy > 0 {
                        let base = (now & ringMask) &* words
                        var w = 0
                        while w < words {
                            let x = bucket[base &+ w]
                            if x == 0 { w &+= 1; continue }
                            bucket[base &+ w] = x & (x &- 1)
                            let unit = w << 6 | x.trailingZeroBitCount
                            if pending[unit] {
                                pending[unit] = false
                                // FIFO push n needs entry n − depth to have left (started on the back-end).
                                let pushTime = pushCount >= fifoDepth ? max(now, starts[slot]) : now
                                let backStart = max(pushTime, backFree)
                                backFree = backStart &+ backCycles
                                starts[slot] = backStart
                                pushCount &+= 1
                                slot &+= 1
                                if slot == fifoDepth { slot = 0 }
                                backBusy &+= backCycles
                                if pushTime > now {
                                    precondition(pushTime &- now <= ringMask, "calendar horizon exceeded")
                                    stall &+= pushTime &- now
                                    bucket[(pushTime & ringMask) &* words &+ (unit >> 6)] |= UInt64(1) << UInt64(unit & 63)
                                    continue
                                }
                            }
                            if nextKey < endKey {
                                let j = nextKey
                                nextKey &+= 1
                                let latency = fixedPlanes == nil ? Int(planes[j]) &* cyclesPerPlane : uniformLatency
                                unitBusy &+= latency
                                pending[unit] = allKept || kept[j] != 0
                                bucket[((now &+ latency) & ringMask) &* words &+ (unit >> 6)] |= UInt64(1) << UInt64(unit & 63)
                            } else {
                                busy &-= 1
                                lastFree = now
                            }
                        }
                        now &+= 1
                    }
                }
            }
        }
        self.pushCount = pushCount
        self.fifoSlot = slot
        self.backFree = backFree
        timing.unitBusyCycles += unitBusy
        timing.unitStallCycles += stall
        timing.backBusyCycles += backBusy
        return lastFree
    }
}
