// Benchmarks — timing harnesses for the hardware side. This target may import COpenBLAS (owned by Tensors on
// the ML side) only to time a dense float sgemm reference; it never imports an ML module, and nothing but the
// command layer imports it.
//
// AcceleratorBenchmark: a synthetic BERT-base-sized layer (12 heads × 512 queries × 512 keys, d = 64, 12-bit
// Q/K from a seeded Gaussian, threshold at a 70% prune rate). Reports the cycle-level simulation time over the
// time of the dense float QKᵀ (cblas_sgemm, per head [512×64]·[64×512]) on the same data in the same run, and
// analytic-model evaluations per second on one core. Medians of several repetitions (wall time, with the
// configured parallelism), plus one-thread CPU-time minima of sgemm, engine and cycle model, which other
// processes on a shared machine disturb much less.

import AcceleratorModel
import Basics
import COpenBLAS
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Workloads

public struct AcceleratorBenchmarkReport: Sendable {
    public let headCount: Int
    public let sequenceLength: Int
    public let headDim: Int
    public let bits: Int
    public let pruneRate: Double
    public let repetitions: Int
    /// Median seconds of the dense float QKᵀ via sgemm for all heads.
    public let sgemmSeconds: Double
    /// Median seconds of the functional engine (planes and decisions for every score).
    public let engineSeconds: Double
    /// Median seconds of the cycle-level model in the pruning + early-termination mode (engine output given).
    public let cycleSeconds: Double
    /// Median seconds of engine + cycle-level model in all three modes (what `leopard simulate` does).
    public let fullSimulateSeconds: Double
    /// (engine + cycle model, pruning + early termination) / sgemm: the headline ratio.
    public var simOverSgemm: Double { (engineSeconds + cycleSeconds) / sgemmSeconds }
    public var fullSimulateOverSgemm: Double { fullSimulateSeconds / sgemmSeconds }
    public let analyticPointsPerSecond: Double
    /// One-thread CPU seconds (min of the repetitions; the calling thread's CPU clock, so less disturbed by other
    /// processes than wall time): sgemm with OpenBLAS limited to one thread, engine, cycle model (ET mode).
    public let sgemmCPUSeconds1Thread: Double
    public let engineCPUSeconds1Thread: Double
    public let cycleCPUSeconds1Thread: Double
    public var simOverSgemm1ThreadCPU: Double { (engineCPUSeconds1Thread + cycleCPUSeconds1Thread) / sgemmCPUSeconds1Thread }
    public let speedup: Double
    public let meanPlanes: Double
    public let parallel: Bool
    /// The 1-minute load average when the run ended (other processes distort every timing); −1 if unknown.
    public let loadAverage: Double

    public var json: JSONValue {
        .object([
            "heads": JSONValue(headCount), "sequence_length": JSONValue(sequenceLength), "d": JSONValue(headDim),
            "bits": JSONValue(bits), "prune_rate": JSONValue(pruneRate), "repetitions": JSONValue(repetitions),
            "sgemm_s": JSONValue(sgemmSeconds), "engine_s": JSONValue(engineSeconds), "cycle_s": JSONValue(cycleSeconds),
            "full_simulate_s": JSONValue(fullSimulateSeconds), "sim_over_sgemm": JSONValue(simOverSgemm),
            "full_simulate_over_sgemm": JSONValue(fullSimulateOverSgemm),
            "analytic_points_per_s": JSONValue(analyticPointsPerSecond), "speedup": JSONValue(speedup),
            "mean_planes": JSONValue(meanPlanes), "parallel": JSONValue(parallel),
            "load_average_1m": JSONValue(loadAverage),
            "sgemm_cpu_s_1thread": JSONValue(sgemmCPUSeconds1Thread), "engine_cpu_s_1thread": JSONValue(engineCPUSeconds1Thread),
            "cycle_cpu_s_1thread": JSONValue(cycleCPUSeconds1Thread), "sim_over_sgemm_1thread_cpu": JSONValue(simOverSgemm1ThreadCPU),
        ])
    }
}

public enum AcceleratorBenchmark {
    /// Runs the benchmark. `parallel` lets the engine and the cycle model use every core (sgemm uses OpenBLAS's
    /// own threading either way, as configured by the environment).
    public static func run(headCount: Int = 12, sequenceLength: Int = 512, headDim: Int = 64, bits: Int = 12,
                           pruneRate: Double = 0.7, repetitions: Int = 5, analyticSeconds: Double = 0.5,
                           parallel: Bool = true, hardware: HardwareConfig = HardwareConfig()) -> AcceleratorBenchmarkReport {
        let trace = SyntheticTrace.make(seed: 2022, headCount: headCount, queryCount: sequenceLength,
                                        keyCount: sequenceLength, headDim: headDim, valueDim: headDim,
                                        bits: bits, pruneRate: pruneRate)
        let layer = trace.layers[0]
        var hw = hardware
        hw.maxBits = max(hw.maxBits, bits)

        // Dense float reference on the same integer data.
        let qFloat = layer.q.map { Float($0) }, kFloat = layer.k.map { Float($0) }
        var scores = [Float](repeating: 0, count: sequenceLength * sequenceLength)
        let denseScores = {
            qFloat.withUnsafeBufferPointer { q in
                kFloat.withUnsafeBufferPointer { k in
                    scores.withUnsafeMutableBufferPointer { s in
                        for h in 0..<headCount {
                            let offset = h * sequenceLength * headDim
                            let n = Int32(sequenceLength), dd = Int32(headDim)
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, dd, 1,
                                        q.baseAddress! + offset, dd, k.baseAddress! + offset, dd, 0, s.baseAddress!, n)
                        }
                    }
                }
            }
        }
        var outcome: LayerOutcome?
        let engine = median(repetitions) { outcome = BitSerialEngine.run(layer, parallel: parallel) }
        let outcomes = [outcome!]
        let hwET = hw
        let cycle = median(repetitions) {
            _ = Accelerator.evaluateCycleMode(trace: trace, outcomes: outcomes, hardware: hwET,
                                              mode: .pruningAndTermination, parallel: parallel)
        }
        var result: SimulationResult?
        let full = median(repetitions) {
            result = Accelerator.evaluate(trace: trace, hardware: hw, model: .cycle, parallel: parallel).result
        }
        // The sgemm is timed after the simulator, not before: OpenBLAS's worker threads busy-wait for a while
        // after each call (about 0.1 s), and timed first they held the second core through the engine's
        // repetitions (measured on the idle machine: engine 11.4 ms instead of 5.9 ms in about half the runs).
        let sgemm = median(repetitions, denseScores)

        // One thread each, CPU time: OpenBLAS limited to one thread for the duration, then restored.
        let blasThreads = openblas_get_num_threads()
        openblas_set_num_threads(1)
        let sgemmCPU = minimumCPU(repetitions, denseScores)
        openblas_set_num_threads(blasThreads)
        let engineCPU = minimumCPU(repetitions) { _ = BitSerialEngine.run(layer, parallel: false) }
        let cycleCPU = minimumCPU(repetitions) {
            _ = Accelerator.evaluateCycleMode(trace: trace, outcomes: outcomes, hardware: hwET,
                                              mode: .pruningAndTermination, parallel: false)
        }

        // Analytic model: many hardware points (qkUnits varied) on the layer's statistics, one core.
        let statistics = [outcome!.statistics]
        var evaluations = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        var sink = 0.0
        while elapsed < analyticSeconds {
            for units in 1...64 {
                var point = hw
                point.qkUnits = units
                if let r = Accelerator.evaluateAnalytic(statistics: statistics, hardware: point).result {
                    sink += r.cycles(.pruningAndTermination)
                }
            }
            evaluations += 64
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        precondition(sink > 0)
        return AcceleratorBenchmarkReport(
            headCount: headCount, sequenceLength: sequenceLength, headDim: headDim, bits: bits,
            pruneRate: outcome!.statistics.pruneRate, repetitions: repetitions, sgemmSeconds: sgemm,
            engineSeconds: engine, cycleSeconds: cycle, fullSimulateSeconds: full,
            analyticPointsPerSecond: Double(evaluations) / elapsed,
            sgemmCPUSeconds1Thread: sgemmCPU, engineCPUSeconds1Thread: engineCPU, cycleCPUSeconds1Thread: cycleCPU,
            speedup: result!.speedup(.pruningAndTermination), meanPlanes: result!.meanPlanes, parallel: parallel,
            loadAverage: currentLoadAverage())
    }

    /// Minimum CPU seconds of the calling thread over `repetitions` runs of `body` (after one warm-up run).
    static func minimumCPU(_ repetitions: Int, _ body: () -> Void) -> Double {
        func now() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        body()
        var best = Double.infinity
        for _ in 0..<max(1, repetitions) {
            let t0 = now()
            body()
            best = min(best, now() - t0)
        }
        return best
    }

    /// The first field of /proc/loadavg, or −1 where it does not exist.
    static func currentLoadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let value = Double(first) else { return -1 }
        return value
    }

    /// Median wall-clock seconds of `repetitions` runs of `body` (after one warm-up run).
    static func median(_ repetitions: Int, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0..<max(1, repetitions) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        times.sort()
        return times[times.count / 2]
    }
}
