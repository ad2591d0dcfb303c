// The training side as the sweep sees it: a model family that can train densely, fine-tune thresholds per λ from
// a dense checkpoint, and capture an attention trace from a fine-tuned checkpoint. Checkpoints travel between
// jobs as bytes (stored zstd-compressed in the store), so each job is independent of the process that ran its
// parent — which is what makes kill -9 and resume exact.
//
// Backends are looked up by model name. The built-in `toy` family (ToyBackend.swift) is a cheap deterministic
// stand-in used by the tests, the smoke manifest and the orchestration benchmarks; the real presets come from
// the Training side's registry (PresetBackend.swift).

import Basics
import Workloads

/// Everything a job may depend on besides its parent's artifacts. `seed` comes from the job's stable key, never
/// from scheduling order, so `--jobs 1` and `--jobs 2` give identical results.
public struct JobEnvironment: Sendable {
    public let seed: UInt64
    public let dataDirectory: String
    /// True when several jobs run at once: backends must stay single-threaded (BLAS pinned to one thread).
    public let sharedMachine: Bool
    /// Polled by long jobs: true once the sweep was interrupted (they may stop early by throwing).
    public let isCancelled: @Sendable () -> Bool

    public init(seed: UInt64, dataDirectory: String, sharedMachine: Bool, isCancelled: @escaping @Sendable () -> Bool = { false }) {
        self.seed = seed
        self.dataDirectory = dataDirectory
        self.sharedMachine = sharedMachine
        self.isCancelled = isCancelled
    }
}

public struct DenseOutcome: Sendable {
    public let checkpoint: [UInt8]
    /// The dense metric on the evaluation split (accuracy in [0, 1], perplexity, Matthews correlation, ...).
    public let metric: Double
    public let metricName: String
    public let higherIsBetter: Bool
    public let extraMetrics: [(name: String, value: Double)]

    public init(checkpoint: [UInt8], metric: Double, metricName: String, higherIsBetter: Bool,
                extraMetrics: [(name: String, value: Double)] = []) {
        self.checkpoint = checkpoint
        self.metric = metric
        self.metricName = metricName
        self.higherIsBetter = higherIsBetter
        self.extraMetrics = extraMetrics
    }
}

public struct FineTuneOutcome: Sendable {
    public let checkpoint: [UInt8]
    /// Metric with the hard threshold rule.
    public let metric: Double
    /// Pruned valid scores / valid scores, over every layer.
    public let pruneRate: Double
    public let layerPruneRates: [Double]
    /// Learned thresholds (real domain), one per layer.
    public let thresholds: [Double]
    /// Heuristic baselines on the same model at the learned prune rate (nil when not requested).
    public let topKMetric: Double?
    public let fixedThresholdMetric: Double?
    /// Paired standard errors of each metric's loss against the dense model on the same test examples (metric units,
    /// `PairedLoss`: exact for accuracy, a bootstrap otherwise); nil where the backend gives none.
    public var standardError: Double?
    public var topKStandardError: Double?
    public var fixedThresholdStandardError: Double?

    public init(checkpoint: [UInt8], metric: Double, pruneRate: Double, layerPruneRates: [Double], thresholds: [Double],
                topKMetric: Double?, fixedThresholdMetric: Double?) {
        self.checkpoint = checkpoint
        self.metric = metric
        self.pruneRate = pruneRate
        self.layerPruneRates = layerPruneRates
        self.thresholds = thresholds
        self.topKMetric = topKMetric
        self.fixedThresholdMetric = fixedThresholdMetric
    }
}

public protocol ModelBackend: Sendable {
    /// Family name for grouping ("toy", "bert", "gpt2", ...).
    func family(model: String) -> String
    /// Throws an `InputError`-style message when the model or task is unknown (checked at plan time).
    func validate(model: String, task: String) throws
    /// Identity of the data a (model, task) trains on: part of the dense-train key, so changed data re-runs it.
    func datasetIdentity(task: String, dataDirectory: String) throws -> JSONValue
    func denseTrain(model: String, task: String, training: TrainingOverrides, environment: JobEnvironment) throws -> DenseOutcome
    func fineTune(model: String, task: String, dense: [UInt8], lambda: Double, thresholdInit: ThresholdInit,
                  training: TrainingOverrides, baselines: Bool, environment: JobEnvironment) throws -> FineTuneOutcome
    /// `initDirectory`: the pretrained checkpoint folder the experiment started from (nil for from-scratch models).
    func captureTrace(model: String, task: String, checkpoint: [UInt8], trace: TraceSettings, initDirectory: String?,
                      environment: JobEnvironment) throws -> AttentionTrace
    /// The model's built-in defaults a stage depends on (see the extension; nil by default).
    func recipe(model: String, task: String, stage: JobKind) -> JSONValue?
}

extension ModelBackend {
    /// What a job of `stage` depends on besides its manifest parameters: the model's built-in defaults (learning
    /// rates, epochs, surrogate) as linked into this build. Part of the dense-train and finetune keys when not nil,
    /// so a store made before a preset's defaults changed re-runs the jobs they affect instead of reusing them.
    public func recipe(model: String, task: String, stage: JobKind) -> JSONValue? { nil }
}

/// Model name → backend. The toy family is always present; real presets register through `PresetBackend`.
public enum ModelBackends {
    public static func backend(for model: String) -> (any ModelBackend)? {
        if ToyBackend.models.contains(model) { return ToyBackend() }
        if PresetBackend.isAvailable(model: model) { return PresetBackend() }
        return nil
    }

    /// Every model name a manifest may use in this build.
    public static var knownModels: [String] { ToyBackend.models + Set(PresetBackend.catalogue.keys).union(PresetBackend.availableModels).sorted() }
}
