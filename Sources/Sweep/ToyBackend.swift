// The built-in `toy` model family: a cheap, deterministic stand-in for a real model with the same job shapes
// (checkpoint bytes in, checkpoint bytes out, a real attention trace at the end). It exists so the engine — the
// DAG, the store, resume, failure isolation, SIGINT, concurrency, Pareto and plots — is testable in seconds, and
// so orchestration overhead and `--jobs` scaling can be measured on CPU-bound jobs of known size.
//
// Tasks: `toy/easy` and `toy/hard` (different dense metrics), `toy/diverge` (dense training fails like a
// diverging run), `toy/fragile` (fine-tuning fails for λ ≥ 1). Work: `training.steps` CPU-bound steps (default
// 2,000 ≈ a few milliseconds); the trace is a Workloads synthetic trace at the fine-tuned prune rate. The other
// `training` fields (epochs, learning rates, distillation, surrogate, steepness, ...) are accepted and keyed as for
// a preset, so toy sweeps exercise the same keys, but they change nothing in a toy job's work or results.

import Basics
import Foundation
import Workloads

public struct ToyBackend: ModelBackend {
    public static let models = ["toy", "toy-large"]
    public static let tasks = ["toy/easy", "toy/hard", "toy/diverge", "toy/fragile"]
    static let defaultSteps = 2_000
    static let layerCount = 2

    public init() {}

    public func family(model: String) -> String { "toy" }

    public func validate(model: String, task: String) throws {
        guard Self.tasks.contains(task) else {
            throw RuntimeError("model \(model) has no task \"\(task)\"; expected one of: \(Self.tasks.joined(separator: ", "))")
        }
    }

    public func datasetIdentity(task: String, dataDirectory: String) throws -> JSONValue {
        ["source": "toy", "task": .string(task), "version": 1]
    }

    /// CPU-bound busy work: `steps` passes of a multiply-add over 256 floats. Returns a checksum so the work is
    /// observable (it goes into the checkpoint) and cannot be optimised away.
    static func work(steps: Int, seed: UInt64, isCancelled: () -> Bool) throws -> Double {
        var rng = SeededGenerator(seed: seed)
        var x = (0..<256).map { _ in rng.nextUnitFloat() }
        for step in 0..<steps {
            if step % 4096 == 4095, isCancelled() { throw RuntimeError("interrupted at step \(step)") }
            for i in 0..<x.count { x[i] = x[i] * 0.999 + 0.001 * Float(i & 7) }
        }
        return Double(x.reduce(0, +))
    }

    public func denseTrain(model: String, task: String, training: TrainingOverrides, environment: JobEnvironment) throws -> DenseOutcome {
        var rng = SeededGenerator(seed: environment.seed)
        let steps = (training.steps ?? Self.defaultSteps) * (model == "toy-large" ? 4 : 1)
        if task == "toy/diverge" {
            throw RuntimeError("dense training diverged at step \(steps / 2): loss is NaN (tensor: logits)")
        }
        let checksum = try Self.work(steps: steps, seed: environment.seed, isCancelled: environment.isCancelled)
        let base = task == "toy/hard" ? 0.70 : 0.90
        let metric = ((base + 0.02 * rng.nextUnit()) * 10_000).rounded() / 10_000
        let checkpoint: JSONValue = ["model": .string(model), "task": .string(task), "metric": JSONValue(metric),
                                     "checksum": JSONValue((checksum * 1000).rounded() / 1000)]
        return DenseOutcome(checkpoint: Array(CanonicalJSON.encode(checkpoint).utf8), metric: metric,
                            metricName: "accuracy", higherIsBetter: true, extraMetrics: [("train_steps", Double(steps))])
    }

    public func fineTune(model: String, task: String, dense: [UInt8], lambda: Double, thresholdInit: ThresholdInit,
                         training: TrainingOverrides, baselines: Bool, environment: JobEnvironment) throws -> FineTuneOutcome {
        if task == "toy/fragile" && lambda >= 1 {
            throw RuntimeError("fine-tuning diverged at step 3 with λ = \(CanonicalJSON.formatNumber(lambda)): loss is Inf (tensor: thresholds)")
        }
        let parsed = try JSONParser.parse(bytes: dense)
        guard let denseMetric = parsed["metric"]?.doubleValue else { throw RuntimeError("toy dense checkpoint has no metric") }
        _ = try Self.work(steps: (training.steps ?? Self.defaultSteps) / 2, seed: environment.seed, isCancelled: environment.isCancelled)
        var rng = SeededGenerator(seed: environment.seed)
        // Prune rate saturates with λ; the metric falls slowly below ~60% pruned and quadratically beyond.
        let pruneRate = 0.95 * (1 - exp(-6 * lambda)) + 0.05 * rng.nextUnit() * (lambda > 0 ? 1 : 0)
        let loss = 0.001 * rng.nextUnit() + 0.4 * pow(max(0, pruneRate - 0.6), 2)
        let metric = round4(denseMetric - loss)
        let layerRates = (0..<Self.layerCount).map { l in round4(min(0.99, max(0, pruneRate + (l == 0 ? -0.05 : 0.05)))) }
        let thresholds = layerRates.map { round4(-1 + 2.5 * $0) }
        let checkpoint: JSONValue = ["denseMetric": JSONValue(denseMetric), "lambda": JSONValue(lambda),
                                     "layerPruneRates": JSONValue(layerRates), "thresholds": JSONValue(thresholds)]
        return FineTuneOutcome(checkpoint: Array(CanonicalJSON.encode(checkpoint).utf8), metric: metric,
                               pruneRate: round4(layerRates.reduce(0, +) / Double(layerRates.count)),
                               layerPruneRates: layerRates, thresholds: thresholds,
                               topKMetric: baselines ? round4(metric - 0.004 - 0.3 * pow(max(0, pruneRate - 0.5), 2)) : nil,
                               fixedThresholdMetric: baselines ? round4(metric - 0.008 - 0.5 * pow(max(0, pruneRate - 0.4), 2)) : nil)
    }

    public func captureTrace(model: String, task: String, checkpoint: [UInt8], trace settings: TraceSettings,
                             initDirectory: String?, environment: JobEnvironment) throws -> AttentionTrace {
        let parsed = try JSONParser.parse(bytes: checkpoint)
        guard let rates = parsed["layerPruneRates"]?.arrayValue?.compactMap(\.doubleValue), rates.count == Self.layerCount else {
            throw RuntimeError("toy fine-tuned checkpoint has no layerPruneRates")
        }
        let size = model == "toy-large" ? 32 : 16
        let layers = rates.enumerated().map { index, rate in
            SyntheticTrace.make(seed: environment.seed &+ UInt64(index), layerCount: 1, batchSize: min(settings.examples, 2),
                                headCount: 2, queryCount: size, keyCount: size, headDim: 16, valueDim: 16,
                                bits: settings.bits, pruneRate: rate).layers[0]
        }
        return AttentionTrace(layers: layers)
    }
}

func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
