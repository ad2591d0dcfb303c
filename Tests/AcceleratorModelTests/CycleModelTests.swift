import Basics
import Testing
@testable import AcceleratorModel
@testable import Workloads

/// Hand-worked schedules of the cycle-level model on tiny rows whose planes and decisions are given directly.
@Suite struct CycleModelTests {
    /// One matrix, one query row, four keys, B = 4, d = dv = 4 (Q and K are irrelevant: the outcome is given).
    static func tinyLayer() -> LayerTrace {
        LayerTrace(bits: 4, batchSize: 1, headCount: 1, queryCount: 1, keyCount: 4, headDim: 4, valueDim: 4,
                   threshold: .perLayer(0), mask: .none, scaleQ: 1, scaleK: 1,
                   q: [Int32](repeating: 0, count: 4), k: [Int32](repeating: 0, count: 16))
    }

    static func outcome(planes: [UInt8], kept: [UInt8]) -> LayerOutcome {
        var s = tinyLayer().shapeStatistics()
        s.keptPairs = kept.reduce(0) { $0 + Int($1) }
        for p in planes { s.planeHistogram[Int(p)] += 1 }
        return LayerOutcome(batchSize: 1, headCount: 1, queryCount: 1, keyCount: 4, planes: planes, kept: kept, statistics: s)
    }

    /// 2 units, dpuWidth 4 (1 cycle per plane, row setup 1), vMacs 4 (1 back-end cycle per kept score and 1 to
    /// normalise), FIFO 4. Loads: (1 + 4)·4·4 + 4·4·16 = 336 bits at 64 B/cycle → 1 cycle.
    static func tinyHardware() -> HardwareConfig {
        var hw = HardwareConfig()
        hw.qkUnits = 2; hw.dpuWidth = 4; hw.fifoDepth = 4; hw.vMacs = 4; hw.dramBytesPerCycle = 64
        return hw
    }

    static func simulate(_ hw: HardwareConfig, _ mode: SimulationMode, planes: [UInt8], kept: [UInt8]) -> MatrixTiming {
        CycleSimulator(hardware: hw, layer: tinyLayer(), mode: mode).run(outcome: outcome(planes: planes, kept: kept), parallel: false)
    }

    /// Pruning + early termination, planes [4, 1, 2, 4], kept [1, 0, 0, 1]:
    ///   0–1 load; 1–2 row setup; at 2: unit0 ← key0 (4 cycles, done 6), unit1 ← key1 (1, done 3)
    ///   3: unit1 pruned, ← key2 (2, done 5);  5: unit1 pruned, ← key3 (4, done 9)
    ///   6: unit0 pushes key0, back-end 6–7; no keys left;  9: unit1 pushes key3, back-end 9–10
    ///   front-end ends at 9; normalisation 10–11 → 11 cycles; unit busy 4+1+2+4 = 11; back busy 2+1 = 3.
    @Test func handWorkedEarlyTermination() {
        let t = Self.simulate(Self.tinyHardware(), .pruningAndTermination, planes: [4, 1, 2, 4], kept: [1, 0, 0, 1])
        #expect(t.cycles == 11)
        #expect(t.unitBusyCycles == 11)
        #expect(t.unitStallCycles == 0)
        #expect(t.backBusyCycles == 3)
    }

    /// Baseline (all 4 planes, all kept): at 2 both units start (done 6); 6: pushes → back-end 6–7 and 7–8,
    /// keys 2 and 3 start (done 10); 10: pushes → 10–11, 11–12; normalisation 12–13 → 13 cycles.
    /// Pruning only (all 4 planes, kept [1, 0, 0, 1]): 6: key0 pushed (6–7); 10: key3 pushed (10–11);
    /// normalisation 11–12 → 12 cycles.
    @Test(arguments: [(SimulationMode.baseline, 13), (.pruningOnly, 12), (.pruningAndTermination, 11)])
    func handWorkedModes(mode: SimulationMode, cycles: Int) {
        #expect(Self.simulate(Self.tinyHardware(), mode, planes: [4, 1, 2, 4], kept: [1, 0, 0, 1]).cycles == cycles)
    }

    /// Back-pressure: FIFO depth 1 and a slow back-end (vMacs 1: 4 cycles per kept score and per normalisation),
    /// baseline mode. Setup ends at 2; both units finish at 6.
    ///   6: unit0 pushes (entry 0 starts at once, 6–10); unit1 pushes (entry 0 has left, so the slot is free):
    ///      entry 1 waits in the FIFO and starts at 10 (10–14); keys 2, 3 start, done at 10.
    ///   10: unit0 pushes (entry 1 left at 10) → starts 14 (14–18); unit1 finds the FIFO full (entry 2 waits
    ///       until 14): it stalls 4 cycles, pushes at 14 → starts 18 (18–22).
    ///   front-end ends at 14; normalisation 22–26 → 26 cycles; stall 4; back busy 4·4 + 4 = 20.
    @Test func handWorkedBackPressure() {
        var hw = Self.tinyHardware()
        hw.fifoDepth = 1
        hw.vMacs = 1
        let t = Self.simulate(hw, .baseline, planes: [4, 4, 4, 4], kept: [1, 1, 1, 1])
        #expect(t.cycles == 26)
        #expect(t.unitStallCycles == 4)
        #expect(t.backBusyCycles == 20)
        // A deep FIFO removes the stall but not the back-end bound: 6–10, 10–14, 14–18, 18–22, norm 22–26.
        hw.fifoDepth = 8
        let deep = Self.simulate(hw, .baseline, planes: [4, 4, 4, 4], kept: [1, 1, 1, 1])
        #expect(deep.unitStallCycles == 0)
        #expect(deep.cycles == 26)
    }

    /// Balanced work (every row has the same keys, keys divide among the units, the back-end keeps up and the
    /// FIFO never fills): the analytic model equals the cycle-level model exactly.
    @Test(arguments: [1, 2, 4])
    func analyticEqualsCycleWhenBalanced(units: Int) {
        let trace = SyntheticTrace.make(seed: 4, batchSize: 2, headCount: 2, queryCount: 8, keyCount: 8, headDim: 16,
                                        valueDim: 16, bits: 8, pruneRate: 0.6)
        var hw = HardwareConfig()
        hw.qkUnits = units; hw.dpuWidth = 16; hw.vMacs = 16; hw.fifoDepth = 8; hw.dramBytesPerCycle = 32
        let cycle = Accelerator.evaluate(trace: trace, hardware: hw, model: .cycle).result!
        let analytic = Accelerator.evaluate(trace: trace, hardware: hw, model: .analytic).result!
        // Per matrix: load 4096 bits / 256 = 16; 8 rows × (setup 1 + 8 keys/units × 8 planes); drain units·1 + 1.
        let expected = 4 * (16 + 8 * (1 + 64 / units) + units + 1)
        #expect(cycle.cycles(.baseline) == Double(expected))
        #expect(analytic.cycles(.baseline) == cycle.cycles(.baseline))
        #expect(cycle.layers[0].result(.baseline).unitStallCycles == 0)
        #expect(analytic.counts(.baseline) == cycle.counts(.baseline))
        #expect(analytic.counts(.pruningAndTermination) == cycle.counts(.pruningAndTermination))
    }

    /// The analytic model ignores imbalance and stalls; on unbalanced work it stays close and the gap is reported.
    @Test func analyticGapIsReportedAndModest() {
        let trace = SyntheticTrace.make(seed: 8, batchSize: 1, headCount: 3, queryCount: 32, keyCount: 32, headDim: 32,
                                        valueDim: 32, bits: 12, pruneRate: 0.7, mask: .causal)
        let hw = HardwareConfig()
        let cycle = Accelerator.evaluate(trace: trace, hardware: hw, model: .cycle).result!
        let analytic = Accelerator.evaluate(trace: trace, hardware: hw, model: .analytic).result!
        let gap = Accelerator.gap(analytic: analytic, cycle: cycle)
        for mode in SimulationMode.allCases {
            #expect(abs(gap[mode]!) < 0.35, "\(mode): gap \(gap[mode]!)")
        }
    }

    /// More bits → more planes per score → more cycles without early termination.
    @Test func moreBitsMeanMoreCycles() {
        var previous = 0.0
        for bits in 4...12 {
            let trace = SyntheticTrace.make(seed: 2, headCount: 2, queryCount: 12, keyCount: 12, headDim: 16, bits: bits)
            let r = Accelerator.evaluate(trace: trace, hardware: HardwareConfig(), model: .cycle).result!
            #expect(r.cycles(.baseline) > previous, "bits \(bits)")
            #expect(r.cycles(.pruningOnly) <= r.cycles(.baseline))
            previous = r.cycles(.baseline)
        }
    }

    /// A higher threshold never costs the analytic model more cycles in any mode.
    @Test func higherThresholdNeverCostsMoreAnalyticCycles() {
        var trace = SyntheticTrace.make(seed: 6, headCount: 2, queryCount: 16, keyCount: 16, headDim: 16, bits: 10)
        var previous = Double.infinity
        for rate in stride(from: 0.0, through: 1.0, by: 0.1) {
            trace.layers[0].threshold = .perLayer(SyntheticTrace.thresholdAtPruneRate(trace.layers[0], pruneRate: rate))
            let r = Accelerator.evaluate(trace: trace, hardware: HardwareConfig(), model: .analytic).result!
            #expect(r.cycles(.pruningAndTermination) <= previous)
            previous = r.cycles(.pruningAndTermination)
        }
    }

    /// Matrices drain between each other, so cycles and counts of a batch are the sums over its examples; counts
    /// of a two-layer trace are the sums over its layers.
    @Test func cyclesAndCountsAreAdditive() {
        let both = SyntheticTrace.make(seed: 12, batchSize: 2, headCount: 2, queryCount: 10, keyCount: 10, headDim: 8,
                                       valueDim: 8, bits: 8, mask: .causal, lengths: [10, 7]).layers[0]
        func example(_ b: Int) -> LayerTrace {
            let perQ = both.headCount * both.queryCount * both.headDim, perK = both.headCount * both.keyCount * both.headDim
            return LayerTrace(bits: 8, batchSize: 1, headCount: 2, queryCount: 10, keyCount: 10, headDim: 8, valueDim: 8,
                              threshold: both.threshold, mask: .causal, scaleQ: 1, scaleK: 1,
                              q: Array(both.q[(b * perQ)..<((b + 1) * perQ)]), k: Array(both.k[(b * perK)..<((b + 1) * perK)]),
                              lengths: [both.lengths![b]])
        }
        var hw = HardwareConfig()
        hw.qkUnits = 3
        hw.fifoDepth = 2
        let whole = Accelerator.evaluate(trace: AttentionTrace(layers: [both]), hardware: hw, model: .cycle).result!
        let parts = [0, 1].map { Accelerator.evaluate(trace: AttentionTrace(layers: [example($0)]), hardware: hw, model: .cycle).result! }
        for mode in SimulationMode.allCases {
            #expect(whole.cycles(mode) == parts[0].cycles(mode) + parts[1].cycles(mode))
            #expect(whole.counts(mode) == parts[0].counts(mode) + parts[1].counts(mode))
        }
        let twoLayers = Accelerator.evaluate(trace: AttentionTrace(layers: [example(0), example(1)]), hardware: hw, model: .cycle).result!
        #expect(twoLayers.counts(.pruningAndTermination) == parts[0].counts(.pruningAndTermination) + parts[1].counts(.pruningAndTermination))
        #expect(twoLayers.cycles(.baseline) == parts[0].cycles(.baseline) + parts[1].cycles(.baseline))
    }

    @Test func earlyTerminationSpeedsUpAndSavesEnergyOnASyntheticLayer() {
        let trace = SyntheticTrace.make(seed: 1, headCount: 2, queryCount: 64, keyCount: 64, headDim: 64, bits: 12)
        let r = Accelerator.evaluate(trace: trace, hardware: HardwareConfig(), model: .cycle).result!
        #expect(r.speedup(.pruningOnly) >= 1)
        #expect(r.speedup(.pruningAndTermination) > r.speedup(.pruningOnly))
        #expect(r.energyReduction(.pruningAndTermination, table: .builtin("45nm")) > 1)
        #expect(r.meanPlanes < 12 && r.meanPlanes > 1)
        #expect(abs(r.pruneRate - 0.7) < 0.01)
    }

    /// When K does not fit, it streams from DRAM bit-plane-major: early termination fetches fewer bytes.
    @Test func streamingKFetchesOnlyProcessedPlanes() {
        let trace = SyntheticTrace.make(seed: 3, headCount: 1, queryCount: 32, keyCount: 32, headDim: 64, bits: 12)
        var small = HardwareConfig()
        small.kBufferBytes = 1024  // 32 keys × 64 × 12 bits = 3 KiB do not fit
        small.dramBytesPerCycle = 4
        let fits = Accelerator.evaluate(trace: trace, hardware: HardwareConfig(), model: .cycle).result!
        let streams = Accelerator.evaluate(trace: trace, hardware: small, model: .cycle).result!
        let planes = streams.layers[0].statistics.totalPlanes
        let s = streams.counts(.pruningAndTermination), p = streams.counts(.pruningOnly)
        #expect(s.dramBytes < p.dramBytes)
        #expect(s.dramBytes == (32 * 64 * 12 + 7) / 8 + (planes * 64 + 7) / 8 + 32 * 16 * 16 / 8)  // Q once, K planes, V (dv = 16) once
        for mode in SimulationMode.allCases { #expect(streams.cycles(mode) >= fits.cycles(mode)) }
    }
}

/// A back-end far slower than the front-end (1 V multiplier: 64 cycles per kept score and per row
/// normalisation) on short causal rows builds a backlog that grows row after row; units then wait on the FIFO
/// for arbitrarily long. The simulation must stay exact and finish: cycles ≥ the back-end's total work.
@Suite struct BackEndBoundTests {
    @Test func growingBackEndBacklog() {
        let trace = SyntheticTrace.make(seed: 21, headCount: 1, queryCount: 48, keyCount: 48, headDim: 64, valueDim: 64,
                                        bits: 12, pruneRate: 0.2, mask: .causal)
        var hw = HardwareConfig()
        hw.vMacs = 1
        hw.fifoDepth = 2
        let r = Accelerator.evaluate(trace: trace, hardware: hw, model: .cycle).result!
        let s = r.layers[0].statistics
        for mode in SimulationMode.allCases {
            let kept = mode == .baseline ? s.validPairs : s.keptPairs
            #expect(r.cycles(mode) >= Double(kept * 64 + s.validRows * 64))
            #expect(r.layers[0].result(mode).unitStallCycles > 0)
        }
    }
}
