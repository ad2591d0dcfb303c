// What one run of the learned-pruning protocol produced for one λ (everything `leopard train --json` prints).
// Metrics are fractions as the task defines them (accuracy 0.81, not 81); `metricLoss` is in the same unit and
// positive when pruning hurts (dense − pruned for higher-is-better metrics, pruned − dense otherwise).
import Basics

public struct BaselineResult: Sendable, Equatable {
    public var metric: Double
    public var pruneRate: Double
    /// Real-domain thresholds per layer (fixed-threshold baseline only).
    public var thresholds: [Double]

    public init(metric: Double, pruneRate: Double, thresholds: [Double] = []) {
        self.metric = metric; self.pruneRate = pruneRate; self.thresholds = thresholds
    }
}

/// The same run measured on the validation split (dense and pruned), for choosing λ and other settings without
/// looking at the test split.
public struct ValidationResult: Sendable, Equatable {
    public var denseMetric: Double
    public var prunedMetric: Double
    public var pruneRate: Double

    public init(denseMetric: Double, prunedMetric: Double, pruneRate: Double) {
        self.denseMetric = denseMetric; self.prunedMetric = prunedMetric; self.pruneRate = pruneRate
    }
}

public struct TraceSummary: Sendable, Equatable {
    public var directory: String
    public var examples: Int
    public var bits: Int
    /// Fraction of valid pairs with integer score S < T in the written trace.
    public var integerPruneRate: Double
    /// The model's hard-rule prune rate on the same examples (float scores).
    public var modelPruneRate: Double
}

public struct PruningReport: Sendable, Equatable {
    public var model: String
    public var task: String
    public var seed: UInt64
    public var lambda: Double
    public var metricName: String
    public var higherIsBetter: Bool
    public var denseMetric: Double
    public var prunedMetric: Double
    /// Overall prune rate on the test split: pruned valid pairs / valid pairs, all layers.
    public var pruneRate: Double
    public var layerPruneRates: [Double]
    /// Learned thresholds: per layer, one value (or one per head with per-head thresholds).
    public var thresholds: [[Double]]
    public var thresholdInitialisation: String
    /// Dense and pruned metric and the prune rate on the validation split.
    public var validation: ValidationResult
    public var topK: BaselineResult
    public var fixedThreshold: BaselineResult
    public var quantizedBits: Int
    /// Dense model with q and k fake-quantised to `quantizedBits` bits (no pruning).
    public var quantizedMetric: Double?
    public var trace: TraceSummary?
    public var parameterCount: Int
    public var trainingExamples: Int
    public var epochs: Int
    public var fineTuneEpochs: Int
    /// Optimiser steps of the dense phase and of each fine-tune (the fine-tune may stop before its last epoch ends,
    /// see `Preset.fineTuneSteps`).
    public var denseSteps = 0
    public var fineTuneSteps = 0
    /// The control: the dense weights fine-tuned for the same steps at the same rate WITHOUT thresholds (nil when
    /// not run). It separates what pruning costs from what the extra training gains.
    public var controlMetric: Double?
    public var controlSeconds: Double?
    /// Fine-tunes steered toward a prune rate (`lambda` is then the starting λ): the target and λ at the end (one
    /// per layer, or one for the model).
    public var pruneRateTarget: PruneRateTarget?
    public var finalLambdas: [Double]?
    /// Fraction of the test split's (head, query) rows with valid keys, over all layers, whose valid scores the
    /// learned thresholds ALL prune: such a row attends to nothing and its attention output is zero.
    public var emptyRowRate: Double?
    /// The test loss as a paired difference over the test examples, with its standard error (exact for accuracy, a
    /// paired bootstrap for every other metric, `PairedLoss`), and the same on the validation split; nil for a task
    /// that gives no per-example answers.
    public var pairedLoss: PairedLoss?
    public var validationPairedLoss: PairedLoss?
    /// The training surrogate's steepness s and pruned-branch magnitude c.
    public var steepness: Double = 10
    public var prunedMagnitude: Double = 1000
    /// The surrogate's form ("tanh" or "log-sigmoid").
    public var surrogate = "tanh"
    /// Weight α of the dense model's outputs in the fine-tuning target (nil: labels alone), see `DistillationTeacher`.
    public var distillation: Double?
    /// Weight β of the hidden-state term (every layer's output matched to the dense model's); nil: none.
    public var hiddenDistillation: Double?
    /// Fraction of the token slots of the first training epoch's batches that are padding (tasks that cut batches
    /// to their longest example and say so; nil otherwise).
    public var trainingPaddingFraction: Double?
    public var denseSeconds: Double
    public var fineTuneSeconds: Double
    public var wallSeconds: Double

    public var metricLoss: Double { higherIsBetter ? denseMetric - prunedMetric : prunedMetric - denseMetric }
    public var validationMetricLoss: Double {
        higherIsBetter ? validation.denseMetric - validation.prunedMetric : validation.prunedMetric - validation.denseMetric
    }
    /// Loss against the control (same training, no pruning); positive when pruning hurts.
    public var controlLoss: Double? {
        controlMetric.map { higherIsBetter ? $0 - prunedMetric : prunedMetric - $0 }
    }

    /// The `--json` object; `includeTiming: false` drops the wall-clock fields (for determinism checks).
    public func json(includeTiming: Bool = true) -> JSONValue {
        func numbers(_ xs: [Double]) -> JSONValue { .array(xs.map { JSONValue($0) }) }
        func baseline(_ b: BaselineResult) -> JSONValue {
            var o: [String: JSONValue] = ["metric": JSONValue(b.metric), "prune_rate": JSONValue(b.pruneRate)]
            if !b.thresholds.isEmpty { o["thresholds"] = numbers(b.thresholds) }
            return .object(o)
        }
        var o: [String: JSONValue] = [
            "model": .string(model), "task": .string(task), "seed": JSONValue(Int(seed)), "lambda": JSONValue(lambda),
            "metric_name": .string(metricName), "higher_is_better": .bool(higherIsBetter),
            "dense_metric": JSONValue(denseMetric), "pruned_metric": JSONValue(prunedMetric),
            "metric_loss": JSONValue(metricLoss), "prune_rate": JSONValue(pruneRate),
            "layer_prune_rates": numbers(layerPruneRates),
            "thresholds": .array(thresholds.map { $0.count == 1 ? JSONValue($0[0]) : numbers($0) }),
            "threshold_init": .string(thresholdInitialisation),
            "validation": .object([
                "dense_metric": JSONValue(validation.denseMetric), "pruned_metric": JSONValue(validation.prunedMetric),
                "metric_loss": JSONValue(validationMetricLoss), "prune_rate": JSONValue(validation.pruneRate),
            ]),
            "baselines": .object([
                "top_k": baseline(topK), "fixed_threshold": baseline(fixedThreshold),
                "qk_quantized": .object(["bits": JSONValue(quantizedBits),
                                         "metric": quantizedMetric.map { JSONValue($0) } ?? .null]),
            ]),
            "parameter_count": JSONValue(parameterCount), "training_examples": JSONValue(trainingExamples),
            "epochs": JSONValue(epochs), "fine_tune_epochs": JSONValue(fineTuneEpochs),
            "dense_steps": JSONValue(denseSteps), "fine_tune_steps": JSONValue(fineTuneSteps),
        ]
        if let pruneRateTarget, let finalLambdas {
            o["prune_rate_target"] = .object([
                "rate": JSONValue(pruneRateTarget.rate), "per_layer": .bool(pruneRateTarget.perLayer),
                "integral_gain": JSONValue(pruneRateTarget.integralGain),
                "proportional_gain": JSONValue(pruneRateTarget.proportionalGain),
                "final_lambdas": numbers(finalLambdas),
            ])
        }
        if let emptyRowRate { o["empty_row_rate"] = JSONValue(emptyRowRate) }
        func paired(_ p: PairedLoss) -> JSONValue {
            var o: [String: JSONValue] = ["examples": JSONValue(p.examples), "loss": JSONValue(p.loss),
                                          "standard_error": JSONValue(p.standardError), "method": .string(p.method.rawValue)]
            if let changed = p.changed { o["changed"] = JSONValue(changed) }
            if let resamples = p.resamples { o["resamples"] = JSONValue(resamples) }
            if let i = p.interval95 { o["interval_95"] = .array([JSONValue(i.lowerBound), JSONValue(i.upperBound)]) }
            return .object(o)
        }
        if let pairedLoss { o["metric_loss_paired"] = paired(pairedLoss) }
        if let validationPairedLoss { o["validation_metric_loss_paired"] = paired(validationPairedLoss) }
        o["surrogate"] = .object(["form": .string(surrogate), "steepness": JSONValue(steepness),
                                  "pruned_magnitude": JSONValue(prunedMagnitude)])
        if let distillation {
            var d: [String: JSONValue] = ["weight": JSONValue(distillation), "temperature": JSONValue(1)]
            if let hiddenDistillation { d["hidden_weight"] = JSONValue(hiddenDistillation) }
            o["distillation"] = .object(d)
        }
        if let trainingPaddingFraction { o["training_padding_fraction"] = JSONValue(trainingPaddingFraction) }
        if let controlMetric, let controlLoss {
            var control: [String: JSONValue] = ["metric": JSONValue(controlMetric), "metric_loss": JSONValue(controlLoss)]
            if includeTiming, let controlSeconds { control["seconds"] = JSONValue(controlSeconds) }
            o["control"] = .object(control)
        }
        if let trace {
            o["trace"] = .object([
                "directory": .string(trace.directory), "examples": JSONValue(trace.examples), "bits": JSONValue(trace.bits),
                "integer_prune_rate": JSONValue(trace.integerPruneRate), "model_prune_rate": JSONValue(trace.modelPruneRate),
            ])
        }
        if includeTiming {
            o["dense_seconds"] = JSONValue(denseSeconds)
            o["fine_tune_seconds"] = JSONValue(fineTuneSeconds)
            o["wall_seconds"] = JSONValue(wallSeconds)
        }
        return .object(o)
    }
}
