import Basics
import CBitKernels
import Testing
@testable import AcceleratorModel
@testable import Workloads

/// Review of the accelerator speed-up (issue 5): one test per suspicion about the C fast paths, each on the
/// input that would expose it. Two confirmed bugs (both older than the speed-up) were fixed; their tests say so.
@Suite struct ReviewTests {
    // MARK: Engine (matrix kernel, row kernel)

    /// A layer of explicit values, one batch element and one head.
    static func layer(bits: Int, queries: Int, keys: Int, d: Int, q: [Int32], k: [Int32], threshold: Int64,
                      mask: AttentionMask = .none) -> LayerTrace {
        LayerTrace(bits: bits, batchSize: 1, headCount: 1, queryCount: queries, keyCount: keys, headDim: d, valueDim: 4,
                   threshold: .perLayer(threshold), mask: mask, scaleQ: 1, scaleK: 1, q: q, k: k)
    }

    static func expectSame(_ layer: LayerTrace, _ context: String, parallel: Bool = false,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        let fast = BitSerialEngine.run(layer, parallel: parallel)
        let reference = BitSerialEngine.runReference(layer)
        #expect(fast.planes == reference.planes, "planes: \(context)", sourceLocation: sourceLocation)
        #expect(fast.kept == reference.kept, "kept: \(context)", sourceLocation: sourceLocation)
        #expect(fast.statistics == reference.statistics, "statistics: \(context)", sourceLocation: sourceLocation)
    }

    /// Suspicion: clamping T into [−sMax, sMax + 1] (sMax = |q|₁·2^(B−1)) or the int32 gaps go wrong at the edges
    /// of the score range, or for thresholds at the ends of Int64. Bits 13 with d = 48 is the widest layer the
    /// matrix kernel admits (48·2^24 < 2^30); values at the extremes of the range.
    @Test(arguments: [(2, 16), (8, 33), (13, 48)])
    func matrixKernelThresholdsAtTheEdges(bits: Int, d: Int) {
        let stride = (d + 15) / 16 * 16
        #expect(leopard_matrix_kernel_available(Int32(stride), Int32(bits)) != 0 || leopard_kernel_level() < 2)
        let layer = Self.extremeLayer(bits: bits, d: d)
        for t in Self.edgeThresholds(bits: bits, d: d) {
            var at = layer
            at.threshold = .perLayer(t)
            Self.expectSame(at, "bits \(bits) d \(d) T \(t)")
        }
    }

    /// Queries and keys at the extremes of the B-bit range (and zero, −1, alternating signs).
    static func extremeLayer(bits: Int, d: Int) -> LayerTrace {
        let minV = -Int32(1 << (bits - 1)), maxV = Int32((1 << (bits - 1)) - 1)
        let rows: [[Int32]] = [
            .init(repeating: minV, count: d), .init(repeating: maxV, count: d), .init(repeating: 0, count: d),
            .init(repeating: -1, count: d), (0..<d).map { $0 % 2 == 0 ? minV : maxV }, (0..<d).map { $0 % 2 == 0 ? maxV : minV },
        ]
        let n = 2 * rows.count + 1
        let values = (0..<n).flatMap { rows[$0 % rows.count] }
        return Self.layer(bits: bits, queries: n, keys: n, d: d, q: values, k: values.reversed(), threshold: 0)
    }

    /// Int64's ends, ±2^62 (Quantization's clamp), and ±(d·2^(2B−2)) ± 1 around the largest |S|.
    static func edgeThresholds(bits: Int, d: Int) -> [Int64] {
        let sMax = Int64(d) << Int64(2 * bits - 2)
        return [Int64.min, Int64.min + 1, -(1 << 62), -sMax - 1, -sMax, -sMax + 1, -1, 0, 1,
                sMax - 1, sMax, sMax + 1, sMax + 2, 1 << 62, Int64.max - 1, Int64.max]
    }

    /// The same edges on the row kernel (layers the matrix kernel does not admit: B = 14 with d = 16, B = 13
    /// with d = 64), Int64's ends included (the row kernel clamps T as the matrix kernel does).
    @Test(arguments: [(14, 16), (13, 64)])
    func rowKernelThresholdsAtTheEdges(bits: Int, d: Int) {
        #expect(leopard_matrix_kernel_available(Int32((d + 15) / 16 * 16), Int32(bits)) == 0)
        let layer = Self.extremeLayer(bits: bits, d: d)
        for t in Self.edgeThresholds(bits: bits, d: d) {
            var at = layer
            at.threshold = .perLayer(t)
            Self.expectSame(at, "bits \(bits) d \(d) T \(t)")
        }
    }

    /// Found by the review (fixed): for T near Int64.max and S < 0 the row kernel's gap T − S overflowed, so the
    /// score was reported as running all B planes instead of terminating after the first. The row kernel now
    /// clamps T into [−sMax, sMax + 1] like the matrix kernel.
    @Test func rowKernelThresholdAtInt64Max() {
        let layer = Self.extremeLayer(bits: 14, d: 16)
        var at = layer
        at.threshold = .perLayer(Int64.max)
        Self.expectSame(at, "bits 14 d 16 T Int64.max")
    }

    /// Suspicion: layers with no keys or no queries (empty output buffers, baseAddress of an empty array) crash
    /// or mis-count in the matrix path.
    @Test(arguments: [(5, 0), (0, 5), (3, 1)])
    func emptyShapes(queries: Int, keys: Int) {
        let d = 20, bits = 12
        var rng = SeededGenerator(seed: 3)
        let q = (0..<(queries * d)).map { _ in Int32(rng.nextInt(below: 4096)) - 2048 }
        let k = (0..<(keys * d)).map { _ in Int32(rng.nextInt(below: 4096)) - 2048 }
        Self.expectSame(Self.layer(bits: bits, queries: queries, keys: keys, d: d, q: q, k: k, threshold: 100),
                        "\(queries)×\(keys)")
    }

    // MARK: Cycle model (schedule_row.c)

    /// Suspicion: relative times near the int16 limit (FRONT_TIME_LIMIT = 16000, lanes hold 2·time + kept)
    /// overflow. Rows of maximal latency (16 planes, every key kept) whose length is at the guard's limit and
    /// one past it, for 1 to 16 units: the fast path must take the first and give exactly the general path's
    /// result, and hand the second back.
    @Test(arguments: [1, 2, 5, 16])
    func frontEndTimesAtTheInt16Limit(units: Int) {
        guard leopard_fast_rows_available() != 0 else { return }
        let cyclesPerPlane = 20, latency = 16 * cyclesPerPlane  // guard: latency·(n/U + 2) < 16000 ⇔ n/U ≤ 47
        for (n, fastExpected) in [(47 * units + units - 1, true), (48 * units, false)] {
            for fixed in [nil, UInt8(16)] as [UInt8?] {
                let planes = [UInt8](repeating: 16, count: n), kept = [UInt8](repeating: 1, count: n)
                var fast = SchedulerState(units: units, fifoDepth: n + 16, horizon: 16 * cyclesPerPlane + 2)
                var general = fast
                general.fastPathEnabled = false
                var timingFast = MatrixTiming(), timingGeneral = MatrixTiming()
                let (endFast, endGeneral) = planes.withUnsafeBufferPointer { p in
                    kept.withUnsafeBufferPointer { k in
                        (FastPathTests.scheduleOne(&fast, 3, p.baseAddress!, k.baseAddress!, n, fixed, false,
                                                   cyclesPerPlane, 1, &timingFast),
                         FastPathTests.scheduleOne(&general, 3, p.baseAddress!, k.baseAddress!, n, fixed, false,
                                                   cyclesPerPlane, 1, &timingGeneral))
                    }
                }
                let context = "units \(units) n \(n) fixed \(String(describing: fixed))"
                #expect(endFast == endGeneral && endFast == 3 + (n + units - 1) / units * latency, "\(context)")
                #expect(timingFast.unitBusyCycles == timingGeneral.unitBusyCycles, "\(context)")
                #expect(timingFast.backBusyCycles == timingGeneral.backBusyCycles, "\(context)")
                #expect(fast.backFree == general.backFree && fast.pushCount == general.pushCount, "\(context)")
                #expect(fast.fifoStarts == general.fifoStarts, "\(context)")
                #expect((fast.fastRows == 1) == fastExpected, "\(context): fast rows \(fast.fastRows)")
            }
        }
    }

    /// Suspicion: back-end backlogs far beyond int16 (the ring's history and the running maximum are int32
    /// relative to the row start) and FIFOs deeper than the row, or of depth 1...9 around the 8-push vector
    /// step, diverge from the general path. Random rows after a long back-end backlog and a slow back-end.
    @Test func backEndWithLongBacklogs() {
        guard leopard_fast_rows_available() != 0 else { return }
        var rng = SeededGenerator(seed: 11)
        var fastRows = 0, handedBack = 0
        for trial in 0..<60 {
            let units = 1 + rng.nextInt(below: 16), depth = [1, 2, 7, 8, 9, 300][trial % 6]
            let backCycles = 1 + rng.nextInt(below: trial % 2 == 0 ? 3 : 400)
            var fast = SchedulerState(units: units, fifoDepth: depth, horizon: 40)
            var general = fast
            general.fastPathEnabled = false
            fast.startMatrix(at: 0)
            general.startMatrix(at: 0)
            var now = 0
            for row in 0..<4 {
                let n = 1 + rng.nextInt(below: 250)
                let planes = (0..<n).map { _ in UInt8(1 + rng.nextInt(below: 12)) }
                let kept = (0..<n).map { _ in UInt8(rng.nextInt(below: 3) == 0 ? 1 : 0) }
                // A backlog of up to ~2^17 cycles before the row (as after long normalisations).
                let backlog = row == 0 ? 70_000 + rng.nextInt(below: 60_000) : rng.nextInt(below: 3)
                fast.backFree = max(fast.backFree, now) + backlog
                general.backFree = max(general.backFree, now) + backlog
                var timingFast = MatrixTiming(), timingGeneral = MatrixTiming()
                let (endFast, endGeneral) = planes.withUnsafeBufferPointer { p in
                    kept.withUnsafeBufferPointer { k in
                        (FastPathTests.scheduleOne(&fast, now, p.baseAddress!, k.baseAddress!, n, nil, false, 2,
                                                   backCycles, &timingFast),
                         FastPathTests.scheduleOne(&general, now, p.baseAddress!, k.baseAddress!, n, nil, false, 2,
                                                   backCycles, &timingGeneral))
                    }
                }
                let context = "trial \(trial) row \(row) depth \(depth) back \(backCycles)"
                #expect(endFast == endGeneral, "\(context)")
                #expect(timingFast.unitStallCycles == timingGeneral.unitStallCycles, "\(context)")
                #expect(timingFast.backBusyCycles == timingGeneral.backBusyCycles, "\(context)")
                #expect(fast.backFree == general.backFree && fast.pushCount == general.pushCount
                        && fast.fifoSlot == general.fifoSlot && fast.fifoStarts == general.fifoStarts, "\(context)")
                now = endFast
            }
            fastRows += fast.fastRows
            handedBack += fast.handedBack
        }
        #expect(fastRows > 60 && handedBack > 10, "fast rows \(fastRows), handed back \(handedBack)")
    }

    /// Suspicion: a layer whose 16-row groups fall on both sides of the front-end's time guard (causal rows of
    /// 1 to 300 keys; 13 cycles per plane and 2 units put the limit near 150 keys), with FIFO stalls, diverges
    /// from the general path when groups switch between the fast path and the general one. All modes, matrices
    /// in parallel.
    @Test func layerAcrossTheFrontEndTimeGuard() {
        var hw = HardwareConfig()
        hw.qkUnits = 2; hw.dpuWidth = 4; hw.fifoDepth = 6; hw.vMacs = 32
        let layer = SyntheticTrace.make(seed: 21, batchSize: 1, headCount: 2, queryCount: 300, keyCount: 300, headDim: 52,
                                        valueDim: 64, bits: 8, pruneRate: 0.8, mask: .causal).layers[0]
        #expect(hw.cyclesPerPlane(headDim: 52) == 13)
        let outcome = BitSerialEngine.run(layer, parallel: false)
        FastPathTests.expectFastMatchesGeneral(hw, layer, outcome, parallel: true, "across the time guard")
        // The fast path must take some rows of the matrix and leave others (those past the guard) to the general one.
        guard leopard_fast_rows_available() != 0 else { return }
        let simulator = CycleSimulator(hardware: hw, layer: layer, mode: .pruningAndTermination)
        var state = SchedulerState(units: hw.qkUnits, fifoDepth: hw.fifoDepth, horizon: layer.bits * 13 + 2)
        outcome.planes.withUnsafeBufferPointer { p in
            outcome.kept.withUnsafeBufferPointer { k in
                _ = simulator.simulateMatrix(batch: 0, head: 0, planes: p.baseAddress!, kept: k.baseAddress!, state: &state)
            }
        }
        #expect(state.fastRows > 30 && state.fastRows < 250, "fast rows \(state.fastRows) of 300")
    }

    /// Found by the review (fixed): with a 2^30-cycle backlog and kept·backCycles = 2^30 the back-end end, 2^31,
    /// wrapped in int32 and the call succeeded with backFree = start − 2^31; the guard now declines at 2^30
    /// (the header promises 0 when times could leave 32 bits).
    @Test func backRowDeclinesAtTheGuard() {
        let start: Int64 = 1000
        var times = [Int16](repeating: 0, count: 32)
        var ring = [Int64](repeating: 0, count: 4)
        var scratch = [Int32](repeating: 0, count: Int(leopard_back_row_scratch_count(32, 4)))
        var pushCount: Int64 = 0, slot: Int64 = 0, backFree = start + (1 << 30), backBusy: Int64 = 0
        let ok = times.withUnsafeMutableBufferPointer { t in
            var row = LeopardRowFront(keptTimes: t.baseAddress!, keptCount: 1, span: 1, busy: 1)
            return leopard_back_row(start, &row, 1 << 30, 4, &ring, &pushCount, &slot, &backFree, &scratch, &backBusy)
        }
        #expect(ok == 0 && backFree == start + (1 << 30), "ok \(ok), backFree − start = \(backFree - start)")
    }
}

/// The review's matrix-kernel checks at both matrix kernels (AVX2 and AVX-512 VNNI, those this CPU has).
/// Serialized: the kernel level is process-global. (Other suites' engine calls may run meanwhile; levels 2 and 3
/// both have the matrix kernel, so forcing one of them never sends a concurrent call to the missing-kernel trap.)
@Suite(.serialized) struct ReviewKernelLevelTests {
    static func atEveryMatrixKernel(_ body: (Int) -> Void) {
        let best = Int(leopard_force_kernel_level(-1))
        defer { _ = leopard_force_kernel_level(-1) }
        guard best >= 2 else {
            print("SKIP: no matrix kernel on this CPU")
            return
        }
        for level in 2...best {
            #expect(Int(leopard_force_kernel_level(Int32(level))) == level)
            body(level)
        }
    }

    /// Suspicion: the VNNI kernel's list of scores still searching after two tests (FOUND_CAPACITY entries,
    /// flushed above capacity − 64) and the AVX2 kernel's kept = 2 marks mishandle many such scores in one call.
    /// All-ones keys against non-negative queries leave no slack (f(m) = 0), so with T just above the scores every
    /// pruned score needs B − 1 tests: tens of thousands per 64-row call (dozens of flushes). 70 queries (two
    /// work items, a partial tile), 520 keys (a partial 16-key block), every 9th key random, run in parallel.
    @Test(arguments: [5, 13])
    func manyScoresNeedingLateTests(bits: Int) {
        Self.atEveryMatrixKernel { level in Self.checkManyLateScores(bits: bits, level: level) }
    }

    static func checkManyLateScores(bits: Int, level: Int) {
        let queries = 70, keys = 520, d = 37
        let maxV = Int32((1 << (bits - 1)) - 1), minV = -Int32(1 << (bits - 1))
        var rng = SeededGenerator(seed: UInt64(bits))
        let q: [Int32] = (0..<(queries * d)).map { x in
            x / d < 50 ? Int32(rng.nextInt(below: Int(maxV) + 1)) : minV + Int32(rng.nextInt(below: 1 << bits))
        }
        let k: [Int32] = (0..<(keys * d)).map { x in x / d % 9 == 0 ? minV + Int32(rng.nextInt(below: 1 << bits)) : -1 }
        // S against an all-ones key is −Σq: T one above the largest such score among the non-negative queries.
        let highest = (0..<50).map { i in -(0..<d).reduce(Int64(0)) { $0 + Int64(q[i * d + $1]) } }.max()!
        let layer = ReviewTests.layer(bits: bits, queries: queries, keys: keys, d: d, q: q, k: k, threshold: highest + 1)
        #expect(leopard_matrix_kernel_available(48, Int32(bits)) != 0 || leopard_kernel_level() < 2)
        ReviewTests.expectSame(layer, "level \(level) bits \(bits)", parallel: true)
    }

    /// Suspicion: partial blocks and tiles, rows of length 0 between valid rows, and a per-query keyEnd inside a
    /// 16-key block read or write past the valid keys. Every key count 1...35 against queries 1...9 with padding
    /// (lengths) and a causal mask, both matrix kernels.
    @Test func everySmallShapeAtEveryMatrixKernel() {
        Self.atEveryMatrixKernel { level in Self.checkSmallShapes(level: level) }
    }

    static func checkSmallShapes(level: Int) {
        for keys in 1...35 {
            for queries in [1, 2, 3, 4, 5, 9] where queries <= keys {
                let mask: AttentionMask = keys % 2 == 0 ? .causal : .none
                let lengths: [Int32]? = queries == keys ? [Int32(keys), Int32(keys / 3), 0] : nil
                let layer = SyntheticTrace.make(seed: UInt64(keys * 10 + queries), batchSize: 3, headCount: 1,
                                                queryCount: queries, keyCount: keys, headDim: 17, valueDim: 4, bits: 9,
                                                pruneRate: 0.8, mask: mask, lengths: lengths).layers[0]
                ReviewTests.expectSame(layer, "level \(level) \(queries)×\(keys) \(mask)")
            }
        }
    }

}
