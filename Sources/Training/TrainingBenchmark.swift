// The training benchmark (issue 3): AdamW training steps of a preset on a fixed random batch, timed after warm-up,
// with the sgemm rate of this machine measured in the same process for the efficiency ratio, and peak RSS.
import Basics
import Foundation
import Models
import Tensors

public struct TrainingBenchmarkReport: Sendable {
    public let model: String
    public let threads: Int
    /// "engine" (products split over Dispatch workers, BLAS single-threaded) or "openblas" (BLAS threads).
    public let gemmThreading: String
    public let batch: Int
    public let time: Int
    public let steps: Int
    public let stepsPerSecond: Double
    public let tokensPerSecond: Double
    /// Matrix-product FLOPs the engine executes per step (forward + backward) divided by the mean step time.
    public let achievedGflops: Double
    /// The full model's matrix-product FLOPs per step (what PyTorch executes) divided by the mean step time.
    public let nominalGflops: Double
    /// cblas_sgemm rate on 1024×1024×1024 products in this process (median of repetitions).
    public let sgemmGflops: Double
    public let medianStepMilliseconds: Double
    /// Process CPU time (all threads) per timed step: robust to other processes competing for the cores, and at
    /// one thread the best estimate of the uncontended step time.
    public let cpuMillisecondsPerStep: Double
    public let peakRSSMegabytes: Double
    public let finalLoss: Double
    /// OPENBLAS_* environment variables in effect (they change the sgemm kernel and blocking).
    public let openblasEnvironment: [String: String]

    public var json: JSONValue {
        .object([
            "model": .string(model), "threads": JSONValue(threads), "gemm_threading": .string(gemmThreading), "batch": JSONValue(batch), "seq": JSONValue(time),
            "steps": JSONValue(steps), "steps_per_s": JSONValue(stepsPerSecond), "tokens_per_s": JSONValue(tokensPerSecond),
            "achieved_gflops": JSONValue(achievedGflops), "nominal_gflops": JSONValue(nominalGflops), "sgemm_gflops": JSONValue(sgemmGflops),
            "efficiency": JSONValue(achievedGflops / sgemmGflops), "median_step_ms": JSONValue(medianStepMilliseconds),
            "cpu_ms_per_step": JSONValue(cpuMillisecondsPerStep),
            "peak_rss_mb": JSONValue(peakRSSMegabytes), "final_loss": JSONValue(finalLoss),
            "openblas_env": .object(openblasEnvironment.mapValues { .string($0) }),
        ])
    }
}

public enum TrainingBenchmark {
    public static let models = ["bert-tiny"]

    /// `fullLastLayer` disables the compact last layer (to measure the full model's work, as PyTorch does it).
    public static func run(model: String, threads: Int, steps: Int = 50, warmupSteps: Int = 5, batch: Int = 32,
                           fullLastLayer: Bool = false, splitGemms: Bool = true) throws -> TrainingBenchmarkReport {
        guard model == "bert-tiny" else {
            throw UsageError("unknown benchmark model \"\(model)\"; expected one of: \(models.joined(separator: ", "))")
        }
        guard steps >= 1 else { throw UsageError("--steps must be ≥ 1") }
        Compute.setThreads(threads, splitGemms: splitGemms)
        let config = BertConfig.bertTiny
        let net = BertClassifier(config: config, seed: 1)
        net.computeFullLastLayer = fullLastLayer
        let data = TokenBatch.random(batch: batch, time: config.maxTime, vocabulary: config.vocabulary, classes: config.classes, seed: 2)
        let trainer = Trainer(model: net, optimizer: AdamW(weightDecay: 0.01),
                              settings: TrainerSettings(schedule: LearningRateSchedule(peak: 1e-4), clipNorm: nil))
        for _ in 0..<warmupSteps { try trainer.trainStep(data) }
        var stepSeconds: [Double] = []
        var loss = 0.0
        let start = monotonicSeconds(), cpuStart = processCPUSeconds()
        for _ in 0..<steps {
            let t0 = monotonicSeconds()
            loss = try trainer.trainStep(data).loss
            stepSeconds.append(monotonicSeconds() - t0)
        }
        let elapsed = monotonicSeconds() - start
        let cpu = processCPUSeconds() - cpuStart
        let sgemm = measureSgemmGflops()
        let flops = config.trainingFlops(batch: batch, time: config.maxTime, compactLastLayer: !net.computeFullLastLayer)
        let nominal = config.trainingFlops(batch: batch, time: config.maxTime)
        let stepsPerSecond = Double(steps) / elapsed
        return TrainingBenchmarkReport(
            model: model, threads: threads, gemmThreading: splitGemms ? "engine" : "openblas", batch: batch, time: config.maxTime, steps: steps,
            stepsPerSecond: stepsPerSecond, tokensPerSecond: stepsPerSecond * Double(batch * config.maxTime),
            achievedGflops: flops * stepsPerSecond / 1e9, nominalGflops: nominal * stepsPerSecond / 1e9, sgemmGflops: sgemm,
            medianStepMilliseconds: median(stepSeconds) * 1000, cpuMillisecondsPerStep: cpu / Double(steps) * 1000,
            peakRSSMegabytes: peakRSSMegabytes(),
            finalLoss: loss, openblasEnvironment: ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("OPENBLAS") })
    }

    /// Median GFLOP/s of square sgemm products of size `size` (C = A·B, fresh output each call).
    public static func measureSgemmGflops(size: Int = 1024, repetitions: Int = 15) -> Double {
        let a = Tensor(shape: [size, size]), b = Tensor(shape: [size, size]), c = Tensor(shape: [size, size])
        var rng = SeededGenerator(seed: 3)
        Initialiser.uniform(a.view, bound: 1, using: &rng)
        Initialiser.uniform(b.view, bound: 1, using: &rng)
        var rates: [Double] = []
        for r in 0..<(repetitions + 2) {
            let t0 = monotonicSeconds()
            Gemm.sgemm(.none, .none, m: size, n: size, k: size, a: a.pointer, lda: size, b: b.pointer, ldb: size, c: c.pointer, ldc: size)
            let dt = monotonicSeconds() - t0
            if r >= 2 { rates.append(Gemm.flops(m: size, n: size, k: size) / dt / 1e9) }
        }
        return median(rates)
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        if s.isEmpty { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    public static func processCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Peak resident set size (VmHWM in /proc/self/status), in MiB; 0 where unavailable.
    public static func peakRSSMegabytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }
}
