import Basics
import CBitKernels
import Testing
@testable import AcceleratorModel
@testable import Workloads

/// The fast paths against the general ones: the engine's matrix kernel against the reference, and the cycle
/// model's fast row path against the general calendar, on random and adversarial inputs. Results must be equal
/// bit for bit (cycles, busy and stall counts, FIFO state), and the fast paths must actually be exercised.
@Suite struct FastPathTests {
    // MARK: Engine

    /// Random layers with shapes that exercise partial tiles (queries not a multiple of 4, keys not a multiple
    /// of 16 or fewer than 8), d not a multiple of 16, per-head thresholds, masks and padding.
    @Test(arguments: [(2, 5, 7, 3), (4, 9, 13, 17), (8, 40, 33, 6), (10, 64, 21, 50), (12, 72, 9, 16), (12, 64, 64, 64),
                      (11, 100, 5, 1)])
    func matrixKernelMatchesReference(bits: Int, d: Int, queries: Int, keys: Int) {
        let align = 16
        #expect(leopard_matrix_kernel_available(Int32((d + align - 1) / align * align), Int32(bits)) != 0
                || leopard_kernel_level() < 2, "bits \(bits), d \(d) should take the matrix kernel")
        for (index, mask) in [AttentionMask.none, .causal].enumerated() where mask == .none || queries == keys {
            var layer = SyntheticTrace.make(seed: UInt64(bits * 1000 + d * 10 + index), batchSize: 2, headCount: 3,
                                            queryCount: queries, keyCount: keys, headDim: d, valueDim: 4, bits: bits,
                                            pruneRate: 0.6, mask: mask,
                                            lengths: queries == keys ? [Int32(keys), Int32(max(1, keys / 2))] : nil).layers[0]
            // Per-head thresholds: one ordinary, one far above every score (all pruned), one far below (all kept).
            let t = layer.threshold.value(head: 0)
            layer.threshold = .perHead([t, Int64.max / 4, Int64.min / 4])
            let fast = BitSerialEngine.run(layer, parallel: false)
            let reference = BitSerialEngine.runReference(layer)
            #expect(fast.planes == reference.planes, "bits \(bits) d \(d) \(queries)×\(keys) \(mask)")
            #expect(fast.kept == reference.kept)
            #expect(fast.statistics == reference.statistics)
        }
    }

    /// Adversarial values: keys all 0, all −1 (every plane set), all −2^(B−1) (sign plane only), all maximal;
    /// queries zero, all negative, extreme; thresholds exactly on scores and one off.
    @Test(arguments: [2, 3, 8, 12])
    func matrixKernelAdversarialValues(bits: Int) {
        Self.checkAdversarialValues(bits: bits)
    }

    /// The body of matrixKernelAdversarialValues (KernelLevelTests runs it at every kernel level): on these
    /// values many scores need a third test and more (all-positive queries against all-ones keys leave no slack).
    static func checkAdversarialValues(bits: Int) {
        let minV = -Int32(1 << (bits - 1)), maxV = Int32((1 << (bits - 1)) - 1)
        let d = 20, n = 12
        let keyRows: [[Int32]] = [
            .init(repeating: 0, count: d), .init(repeating: -1, count: d), .init(repeating: minV, count: d),
            .init(repeating: maxV, count: d), (0..<d).map { $0 % 2 == 0 ? minV : maxV }, (0..<d).map { Int32($0 % 3) - 1 },
        ]
        let queryRows: [[Int32]] = [
            .init(repeating: 0, count: d), .init(repeating: -1, count: d), .init(repeating: minV, count: d),
            .init(repeating: maxV, count: d), (0..<d).map { $0 % 2 == 0 ? maxV : minV }, (0..<d).map { max(minV, min(maxV, Int32($0 % 5) - 2)) },
        ]
        let k = (0..<n).flatMap { keyRows[$0 % keyRows.count] }
        let q = (0..<n).flatMap { queryRows[$0 % queryRows.count] }
        var layer = LayerTrace(bits: bits, batchSize: 1, headCount: 1, queryCount: n, keyCount: n, headDim: d, valueDim: 4,
                               threshold: .perLayer(0), mask: .none, scaleQ: 1, scaleK: 1, q: q, k: k)
        let scores = Set(SyntheticTrace.validScores(layer))
        for s in scores.sorted() {
            for t in [s - 1, s, s + 1] {
                layer.threshold = .perLayer(t)
                let fast = BitSerialEngine.run(layer, parallel: false)
                let reference = BitSerialEngine.runReference(layer)
                #expect(fast.planes == reference.planes, "bits \(bits) T \(t)")
                #expect(fast.kept == reference.kept, "bits \(bits) T \(t)")
            }
        }
    }

    /// A batch element that is all padding (length 0) and one of a single token: rows without keys stay zero.
    @Test(arguments: [AttentionMask.none, .causal])
    func emptyAndSingleTokenRows(mask: AttentionMask) {
        let layer = SyntheticTrace.make(seed: 5, batchSize: 3, headCount: 2, queryCount: 7, keyCount: 7, headDim: 20,
                                        valueDim: 8, bits: 12, pruneRate: 0.5, mask: mask, lengths: [7, 0, 1]).layers[0]
        let fast = BitSerialEngine.run(layer, parallel: false)
        let reference = BitSerialEngine.runReference(layer)
        #expect(fast.planes == reference.planes && fast.kept == reference.kept)
        #expect(fast.statistics == reference.statistics)
        for mode in SimulationMode.allCases {
            var simulator = CycleSimulator(hardware: HardwareConfig(), layer: layer, mode: mode)
            let a = simulator.run(outcome: fast, parallel: false)
            simulator.fastPath = false
            let b = simulator.run(outcome: fast, parallel: false)
            #expect(a.cycles == b.cycles && a.unitBusyCycles == b.unitBusyCycles && a.backBusyCycles == b.backBusyCycles, "\(mode): \(a) vs \(b)")
        }
    }

    // MARK: Cycle model

    /// Whole layers on hardware points around the fast path's limits (units 1 to 16 and beyond, FIFO depth 1
    /// and 2 that stall, slow back-ends, K streaming, several cycles per plane), all three modes: the fast path
    /// must give exactly the general path's timing.
    @Test(arguments: [
        ("default", 16, 64, 16, 64, 1.0, 65536),
        ("fifo1", 16, 64, 1, 64, 1.0, 65536),
        ("fifo2-slow-back", 8, 64, 2, 16, 0.5, 65536),
        ("one-unit", 1, 64, 3, 64, 1.0, 65536),
        ("three-units", 3, 16, 4, 32, 1.0, 65536),
        ("dpu8", 5, 8, 16, 64, 1.0, 65536),
        ("k-streams", 16, 64, 8, 64, 1.0, 512),
        ("units64", 64, 64, 16, 64, 1.0, 65536),
    ])
    func fastRowsMatchGeneralPath(name: String, units: Int, dpuWidth: Int, fifoDepth: Int, vMacs: Int,
                                  expPerCycle: Double, kBufferBytes: Int) {
        var hw = HardwareConfig()
        hw.qkUnits = units; hw.dpuWidth = dpuWidth; hw.fifoDepth = fifoDepth; hw.vMacs = vMacs
        hw.expPerCycle = expPerCycle; hw.kBufferBytes = kBufferBytes
        for (index, pruneRate) in [0.0, 0.7, 0.97].enumerated() {
            let layer = SyntheticTrace.make(seed: UInt64(100 + index), batchSize: 2, headCount: 2, queryCount: 24,
                                            keyCount: 24, headDim: 32, valueDim: 32, bits: 10, pruneRate: pruneRate,
                                            mask: index == 1 ? .causal : .none, lengths: [24, 13]).layers[0]
            let outcome = BitSerialEngine.run(layer, parallel: false)
            Self.expectFastMatchesGeneral(hw, layer, outcome, parallel: false, "\(name) prune \(pruneRate)")
        }
    }

    /// Every mode of the cycle model with the fast row path (run `parallel` or not) against the general path
    /// alone: cycles, unit busy and stall cycles and back-end busy cycles must be equal.
    static func expectFastMatchesGeneral(_ hw: HardwareConfig, _ layer: LayerTrace, _ outcome: LayerOutcome,
                                         parallel: Bool, _ label: String) {
        for mode in SimulationMode.allCases {
            var fast = CycleSimulator(hardware: hw, layer: layer, mode: mode)
            var general = fast
            fast.fastPath = true
            general.fastPath = false
            let a = fast.run(outcome: outcome, parallel: parallel), b = general.run(outcome: outcome, parallel: false)
            #expect(a.cycles == b.cycles, "\(label) \(mode)")
            #expect(a.unitBusyCycles == b.unitBusyCycles, "\(label) \(mode)")
            #expect(a.unitStallCycles == b.unitStallCycles, "\(label) \(mode)")
            #expect(a.backBusyCycles == b.backBusyCycles, "\(label) \(mode)")
        }
    }

    /// Row by row on random rows with random FIFO backlogs carried between rows: every row is scheduled by
    /// both paths from the same state; results and the whole state after it must match, and both the fast path
    /// and its hand-back on stalls must occur.
    @Test func randomRowsMatchGeneralPath() {
        Self.checkRandomRows()
    }

    static func checkRandomRows() {
        guard leopard_fast_rows_available() != 0 else {
            print("SKIP: randomRowsMatchGeneralPath: the fast row path needs AVX2")
            return
        }
        var rng = SeededGenerator(seed: 42)
        var fastRows = 0, handedBack = 0
        for trial in 0..<300 {
            let units = 1 + rng.nextInt(below: 16)
            let depth = 1 + rng.nextInt(below: trial % 3 == 0 ? 3 : 24)
            let cyclesPerPlane = 1 + rng.nextInt(below: 3)
            let backCycles = 1 + rng.nextInt(below: trial % 4 == 0 ? 8 : 2)
            let bits = 2 + rng.nextInt(below: 15)
            var fast = SchedulerState(units: units, fifoDepth: depth, horizon: bits * cyclesPerPlane + 2)
            var general = fast
            general.fastPathEnabled = false
            fast.startMatrix(at: 0)
            general.startMatrix(at: 0)
            var now = rng.nextInt(below: 5)
            for _ in 0..<6 {
                let n = 1 + rng.nextInt(below: trial % 5 == 0 ? 200 : 40)
                let keptRate = rng.nextUnit()
                let planes = (0..<n).map { _ in UInt8(1 + rng.nextInt(below: bits)) }
                let kept = (0..<n).map { _ in UInt8(rng.nextUnit() < keptRate ? 1 : 0) }
                let fixed: UInt8? = rng.nextInt(below: 4) == 0 ? UInt8(bits) : nil
                let allKept = fixed != nil && rng.nextInt(below: 2) == 0
                var timingFast = MatrixTiming(), timingGeneral = MatrixTiming()
                let start = now + rng.nextInt(below: 3)
                let (endFast, endGeneral) = planes.withUnsafeBufferPointer { p in
                    kept.withUnsafeBufferPointer { k in
                        (Self.scheduleOne(&fast, start, p.baseAddress!, k.baseAddress!, n, fixed, allKept, cyclesPerPlane,
                                          backCycles, &timingFast),
                         Self.scheduleOne(&general, start, p.baseAddress!, k.baseAddress!, n, fixed, allKept, cyclesPerPlane,
                                          backCycles, &timingGeneral))
                    }
                }
                #expect(endFast == endGeneral, "trial \(trial)")
                #expect(timingFast.unitBusyCycles == timingGeneral.unitBusyCycles, "trial \(trial)")
                #expect(timingFast.unitStallCycles == timingGeneral.unitStallCycles, "trial \(trial)")
                #expect(timingFast.backBusyCycles == timingGeneral.backBusyCycles, "trial \(trial)")
                #expect(fast.pushCount == general.pushCount && fast.fifoSlot == general.fifoSlot, "trial \(trial)")
                #expect(fast.backFree == general.backFree, "trial \(trial)")
                #expect(fast.fifoStarts == general.fifoStarts, "trial \(trial)")
                // Row boundary as in simulateMatrix: a normalisation of random length.
                let normalize = rng.nextInt(below: 3)
                fast.backFree = max(fast.backFree, endFast) + normalize
                general.backFree = max(general.backFree, endGeneral) + normalize
                now = endFast
            }
            handedBack += fast.handedBack
            fastRows += fast.fastRows
        }
        #expect(fastRows > 300, "the fast path must be exercised")
        #expect(handedBack > 20, "stalling rows must be handed back to the general path")
    }

    /// Front-ends computed in groups of 1 to 16 rows of different lengths (together: shorter rows padded with
    /// latency-0 keys) equal the same rows computed one at a time, and the general path's.
    @Test func groupedFrontsMatchSingleRows() {
        Self.checkGroupedFronts()
    }

    static func checkGroupedFronts() {
        guard leopard_fast_rows_available() != 0 else {
            print("SKIP: groupedFrontsMatchSingleRows: the fast row path needs AVX2")
            return
        }
        var rng = SeededGenerator(seed: 7)
        for trial in 0..<200 {
            let rows = Int(LEOPARD_FRONT_ROWS)
            let units = 1 + rng.nextInt(below: 16), count = 1 + rng.nextInt(below: rows)
            let lengths = (0..<count).map { _ in rng.nextInt(below: trial % 2 == 0 ? 40 : 6) }
            // Row r's planes and kept flags at r·40 in two flat buffers (pointers stay valid for the trial).
            let planes = UnsafeMutablePointer<UInt8>.allocate(capacity: rows * 40)
            let kept = UnsafeMutablePointer<UInt8>.allocate(capacity: rows * 40)
            defer { planes.deallocate(); kept.deallocate() }
            for x in 0..<(rows * 40) {
                planes[x] = UInt8(1 + rng.nextInt(below: 12))
                kept[x] = UInt8(rng.nextInt(below: 2))
            }
            var state = SchedulerState(units: units, fifoDepth: 4, horizon: 40)
            let scratch = state.prepareFastRows(keyCount: 40)
            func front(_ r: Int) -> (Int32, Int64, [Int16]) {
                let f = scratch.fronts[r]
                return (f.span, f.busy, (0..<Int(f.keptCount)).map { f.keptTimes[$0] })
            }
            func describe(_ r: Int) -> LeopardRowKeys {
                LeopardRowKeys(planes: planes + r * 40, kept: kept + r * 40, keyCount: Int32(lengths[r]))
            }
            for r in 0..<count { scratch.keys[r] = describe(r) }
            let groupedOK = state.fastFronts(count: count, fixedPlanes: nil, allKept: false, cyclesPerPlane: 2)
            #expect(groupedOK)
            let grouped = (0..<count).map(front)
            var single: [(Int32, Int64, [Int16])] = []
            for r in 0..<count {
                scratch.keys[0] = describe(r)
                let singleOK = state.fastFronts(count: 1, fixedPlanes: nil, allKept: false, cyclesPerPlane: 2)
                #expect(singleOK)
                single.append(front(0))
            }
            for r in 0..<count {
                #expect(grouped[r].0 == single[r].0 && grouped[r].1 == single[r].1 && grouped[r].2 == single[r].2,
                        "trial \(trial): row \(r) of \(count), lengths \(lengths)")
            }
        }
    }

    /// One row through simulateMatrix's sequence: the fast front-end and back-end, else the general path.
    static func scheduleOne(_ state: inout SchedulerState, _ start: Int, _ planes: UnsafePointer<UInt8>,
                            _ kept: UnsafePointer<UInt8>, _ n: Int, _ fixed: UInt8?, _ allKept: Bool, _ cyclesPerPlane: Int,
                            _ backCycles: Int, _ timing: inout MatrixTiming) -> Int {
        if state.fastPathEnabled {
            state.prepareFastRows(keyCount: n).keys[0] = LeopardRowKeys(planes: planes, kept: kept, keyCount: Int32(n))
        }
        if state.fastFronts(count: 1, fixedPlanes: fixed, allKept: allKept, cyclesPerPlane: cyclesPerPlane) {
            if let end = state.fastBack(slot: 0, start: start, backCycles: backCycles, timing: &timing) { return end }
            state.handedBack += 1
        }
        return state.runRow(start: start, keys: 0..<n, planes: planes, kept: kept, fixedPlanes: fixed, allKept: allKept,
                            cyclesPerPlane: cyclesPerPlane, backCycles: backCycles, timing: &timing)
    }
}

/// The cycle model's front-end at every instruction-set level this CPU has (AVX2 only; the 32-register
/// insertion network; the AVX-512 VBMI2 compaction): grouped rows against single rows, and single rows against
/// the general path.
@Suite(.serialized) struct FrontLevelTests {
    @Test func everyFrontLevelMatchesTheGeneralPath() {
        guard leopard_fast_rows_available() != 0 else {
            print("SKIP: everyFrontLevelMatchesTheGeneralPath: the fast row path needs AVX2")
            return
        }
        let best = leopard_force_front_level(-1)
        defer { _ = leopard_force_front_level(-1) }
        for level in 0...best {
            #expect(leopard_force_front_level(level) == level)
            FastPathTests.checkGroupedFronts()
            FastPathTests.checkRandomRows()
        }
        print("front-end levels checked: 0...\(best) (0 AVX2, 1 AVX-512VL network, 2 AVX-512 VBMI2 compaction)")
    }
}
