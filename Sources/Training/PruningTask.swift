// The contract between the learned-pruning protocol (dense training → threshold fine-tuning per λ → hard-threshold
// evaluation, DESIGN.md §1) and a model family bound to a task's data. Each family (encoder on GLUE, decoder on
// PTB/Shakespeare, ViT on Fashion-MNIST, MemN2N on bAbI) provides one conforming type; the protocol code is
// written once against this.
import Basics
import Datasets
import Models
import Tensors

public enum EvaluationSplit: String, Sendable {
    case validation, test
}

public protocol PruningTask: AnyObject {
    /// Preset name, e.g. "bert-tiny".
    var presetName: String { get }
    /// The task (name, metric, higher-is-better).
    var task: TaskDescription { get }
    /// The model's trainable weights (flat values + gradients). Thresholds are NOT here: they belong to the
    /// score transforms and have their own optimiser and learning rate.
    var parameters: ParameterSet { get }
    /// The model as seen by pruning.
    var model: any AttentionPrunable { get }
    /// Minibatches per training epoch (of the training subset in use).
    var batchesPerEpoch: Int { get }
    /// Training examples per epoch (of the training subset in use): sentences, questions, images, or windows of
    /// `sequenceLength` tokens for language models. Reported as `training_examples`.
    var trainingExamples: Int { get }
    /// What identifies the architecture in a checkpoint's safetensors metadata: at least `"config"`, the canonical
    /// JSON of the model's configuration (sizes, heads, layers, vocabulary, sequence length, classes).
    var modelMetadata: [String: String] { get }
    /// Restarts every random stream used in training mode (dropout) from `seed`. The protocol calls it before
    /// each fine-tuning, so a λ's result does not depend on what ran before it (other λ values, or dense training
    /// in the same process vs a dense checkpoint loaded from disk). Tasks without randomness in training do nothing.
    func reseedTrainingNoise(_ seed: UInt64)
    /// Fraction of the token positions of epoch 0's training batches that are padding (reported as
    /// `training_padding_fraction`); nil for tasks whose batches are never padded or do not track it.
    var trainingPaddingFraction: Double? { get }
    /// Forward + backward of training minibatch `index` of `epoch` (order shuffled deterministically from the
    /// task's seed and the epoch), ACCUMULATING into `parameters.gradients` and into the transforms' own
    /// gradients. Returns the loss: task loss plus every transform's `regularizerLoss`.
    func accumulateGradients(batch index: Int, epoch: Int) -> Double
    /// The task metric on a split, in inference mode (hard rule in transforms, no dropout). `limit` caps the
    /// number of examples (nil = the whole split).
    func evaluate(_ split: EvaluationSplit, limit: Int?) throws -> Double
    /// Runs inference on the first `examples` examples of the test split with a recorder attached and returns
    /// what it recorded (one record per attention layer per forward batch).
    func captureAttention(examples: Int) throws -> [AttentionRecorder.Record]
    /// `evaluate` and, from the same inference pass, what the model answered on each example (classes, regression
    /// outputs or per-window losses, `ExampleOutcomes`), so that the protocol can give the metric loss a paired
    /// standard error (`PairedLoss`). The metric is the one `evaluate` returns, to the last bit. The default
    /// returns `evaluate` and no outcomes.
    func evaluateWithOutcomes(_ split: EvaluationSplit, limit: Int?) throws -> (metric: Double, outcomes: ExampleOutcomes?)
}

/// A family whose metric comes from arg-max predictions against integer labels (memn2n, vit-tiny): its metric and
/// per-example answers both follow from `predictions`, in one pass.
public protocol ArgmaxPredictingTask: PruningTask {
    /// Arg-max classes and labels of the first `limit` examples of a split (inference mode).
    func predictions(_ which: EvaluationSplit, limit: Int?) -> (predicted: [Int32], labels: [Int32])
}

extension ArgmaxPredictingTask {
    public func evaluate(_ which: EvaluationSplit, limit: Int?) throws -> Double {
        try evaluateWithOutcomes(which, limit: limit).metric
    }

    public func evaluateWithOutcomes(_ which: EvaluationSplit, limit: Int?) throws -> (metric: Double, outcomes: ExampleOutcomes?) {
        let p = predictions(which, limit: limit)
        return (task.score(predictions: p.predicted, labels: p.labels)[task.metric] ?? 0,
                .classes(predicted: p.predicted, labels: p.labels))
    }
}

extension PruningTask {
    public func reseedTrainingNoise(_ seed: UInt64) {}
    public func evaluateWithOutcomes(_ split: EvaluationSplit, limit: Int?) throws -> (metric: Double, outcomes: ExampleOutcomes?) {
        (try evaluate(split, limit: limit), nil)
    }
    public var trainingPaddingFraction: Double? { nil }
}

/// A task whose fine-tuning can distil from the dense model (the GLUE encoders): the training target becomes a mix
/// of the label and the output of a frozen copy of the weights taken when distillation starts (see
/// `DistillationTeacher`). The protocol starts it after dense training, before the control and the fine-tunes.
public protocol DistillingPruningTask: PruningTask {
    /// From now on each training step's target is (1 − weight)·label + weight·(the current weights' output, frozen
    /// now); nil returns to the labels alone. 0 < weight ≤ 1. `hiddenWeight` β > 0 also matches every layer's
    /// output to the frozen copy's (β · mean squared difference over valid tokens and channels, averaged over layers).
    func distill(weight: Double?, hiddenWeight: Double?)
}

extension DistillingPruningTask {
    /// Output distillation alone (no hidden-state term).
    public func distill(weight: Double?) { distill(weight: weight, hiddenWeight: nil) }
}
