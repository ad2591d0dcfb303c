// The learned-pruning protocol (DESIGN.md §1), written once against `PruningTask`:
//   1. Dense training (AdamW, 10% linear warmup, linear decay, clip 1.0) → dense metric on the test and validation
//      splits, `dense.safetensors` (or: load the dense checkpoint of an earlier run, `denseCheckpoint`).
//   2. For each λ: reload the SAME dense weights (from the checkpoint file when one was written), install one
//      ThresholdScoreTransform per attention layer with regulariser weight λ/L (so the loss is L_task + λ·mean_ℓ R_ℓ,
//      R_ℓ the soft kept fraction of layer ℓ over its valid scores), fine-tune weights (AdamW at the preset's
//      fine-tune rate, a tenth of the dense peak by default, same schedule shape) and thresholds (Adam, own constant
//      learning rate) together. Dropout restarts from the seed before every fine-tuning, so a λ gives the same
//      result alone, in a list, or from a loaded dense checkpoint (bert-minilm excepted for now: its dropout stream
//      runs on through the protocol, as in the runs of docs/results-minilm.md; see PretrainedGlueTask+PruningTask).
//      Threshold initialisation (default `denseQuantile(0.1)`): each layer starts at the 10% quantile of its dense
//      valid scores on (up to) `calibrationExamples` validation examples — a start that prunes little, so λ alone
//      decides how far the thresholds rise; `constant(x)` starts every layer at x.
//      With `control` on, the dense weights are first fine-tuned for the same steps at the same rate with NO
//      thresholds (the control): a dense model that is not fully converged gains from any extra training, and the
//      control metric is the reference that isolates what pruning costs from what the extra steps gain.
//      With `distillation` α (GLUE encoders), the control and every fine-tune train against (1 − α)·label + α·the
//      output of a frozen copy of the dense weights (`DistillationTeacher`).
//   3. Hard-rule evaluation on the validation split (metric and prune rate, for choosing settings) and on the test
//      split: pruned metric, per-layer and overall prune rates, thresholds.
//   4. On the same DENSE weights: top-k per row (keep fraction 1 − learned prune rate) and the fixed threshold
//      (each layer's threshold = its dense-score quantile at the learned overall prune rate, calibrated on the
//      validation examples), and the dense metric with q/k fake-quantised to B bits alone.
//   5. Attention trace of the fine-tuned model on the first `traceExamples` test examples (Workloads format).
// Deterministic for a seed: the task's data order and dropout are seeded, all reductions run in a fixed order.
// One training step = one minibatch (no accumulation), so the regulariser gradient needs no loss scaling.
import Basics
import Datasets
import Foundation
import Layers
import Models
import Tensors

public struct PruningSettings: Sendable {
    public var preset: Preset
    public var taskName: String
    public var dataDirectory: DataDirectory
    public var seed: UInt64 = 1
    public var lambdas: [Double]
    public var epochs: Int
    public var fineTuneEpochs: Int
    /// Cap on the steps of each fine-tune (nil = whole epochs); defaults to the preset's.
    public var fineTuneSteps: Int?
    /// Also fine-tune the dense weights without thresholds for the same steps (the control, see above).
    public var control = false
    public var steepness: Float = ThresholdScoreTransform.defaultSteepness
    public var prunedMagnitude: Float = 1000
    public var surrogate: ThresholdSurrogate
    public var perHeadThresholds = false
    public var thresholdInitialisation: ThresholdInitialisation
    /// B for the "Q/K quantised alone" metric and for the trace.
    public var quantizationBits = 12
    public var traceExamples = 32
    /// Validation examples used for threshold initialisation and fixed-threshold calibration.
    public var calibrationExamples = 256
    /// Cap on the test examples evaluated (nil = the whole split).
    public var evaluationLimit: Int?
    /// Where dense.safetensors, pruned.safetensors and trace/ go (nil = nothing written).
    public var outputDirectory: String?
    /// Steer λ toward this prune rate during each fine-tune instead of keeping it fixed (nil = fixed λ); each λ of
    /// `lambdas` is then the starting value. See `PruneRateTarget`.
    public var pruneRateTarget: PruneRateTarget?
    /// Distil from the dense model while fine-tuning (control and every λ): the training target becomes
    /// (1 − α)·label + α·(the dense weights' output on the same batch), α = this weight in (0, 1]; nil = labels alone.
    /// GLUE encoders only (`DistillingPruningTask`); defaults to the preset's.
    public var distillation: Double?
    /// With `distillation`, also match every layer's output to the dense copy's with this weight β > 0 (see
    /// `DistillingPruningTask`); nil = the outputs alone. Defaults to the preset's.
    public var hiddenDistillation: Double?
    /// Start from this dense checkpoint (a `dense.safetensors` written by an earlier run of the same preset, task
    /// and seed) instead of training densely; its metadata must match (preset, task, seed, model config).
    public var denseCheckpoint: String?

    public init(preset: Preset, taskName: String, dataDirectory: DataDirectory, seed: UInt64 = 1, lambdas: [Double]? = nil,
                epochs: Int? = nil, fineTuneEpochs: Int? = nil, outputDirectory: String? = nil) {
        self.preset = preset; self.taskName = taskName; self.dataDirectory = dataDirectory; self.seed = seed
        self.lambdas = lambdas ?? [preset.defaultLambda]
        self.epochs = epochs ?? preset.epochs(for: taskName)
        self.fineTuneEpochs = fineTuneEpochs ?? preset.fineTuneEpochs
        self.fineTuneSteps = preset.fineTuneSteps
        self.thresholdInitialisation = preset.thresholdInitialisation
        self.pruneRateTarget = preset.pruneRateTarget
        self.surrogate = preset.surrogate
        self.distillation = preset.distillation
        self.hiddenDistillation = preset.hiddenDistillation
        self.outputDirectory = outputDirectory
    }
}

public struct ProgressEvent: Sendable {
    /// "dense" or "fine-tune λ=…".
    public let stage: String
    public let epoch: Int
    public let epochs: Int
    public let step: Int
    public let stepsPerEpoch: Int
    /// Mean loss over the steps since the previous event.
    public let meanLoss: Double
    /// Fine-tunes with a prune-rate target: λ after the last step (mean over layers when steered per layer), and
    /// the hard-rule prune rate of the training minibatches since the previous event (nil otherwise).
    public var lambda: Double?
    public var trainingPruneRate: Double?
}

/// A target prune rate for threshold fine-tuning, reached by steering λ (a PI controller on the Lagrange
/// multiplier of the constraint "prune rate = r*"). After every optimiser step, with r the hard-rule prune rate of
/// that step's training minibatch (x < Th over the valid pairs, counted in the training forward) and λ₀ the
/// starting λ:
///   λ_I ← λ_I + η·λ₀·(r* − r)        (integral: the λ at which the thresholds balance the task loss at r*)
///   λ   = λ_I + κ·max(λ₀, |λ_I|)·(r* − r)   (proportional: pulls back at once when the rate overshoots, even
///                                           after the integral has grown large against a strong task gradient)
/// The rate steered is what the thresholds prune on the VALIDATION split, not on training minibatches: the two
/// differ (SST-2 trains on phrases of ~9 words and tests on sentences of ~19; dropout is on in training). Every
/// `probeInterval` steps the controller runs the hard rule on the first `calibrationExamples` validation examples
/// (inference mode) and sets each group's offset b = (training rate, exponential mean over recent steps) −
/// (validation rate); between probes the per-step target of the training rate is r* + b.
/// λ may become negative: the regulariser then rewards keeping scores and pulls the thresholds down, which a fixed
/// λ ≥ 0 never does (with Adam the thresholds move at their learning rate whatever the gradient's size, so a small
/// λ alone does not bring an overshooting threshold back). `perLayer` gives every threshold its own λ and the
/// target r* — every layer, or every head with per-head thresholds — so no layer can run away to a prune rate of 1
/// while another keeps everything; otherwise one λ
/// for the model and the overall rate (valid pairs of all layers) is steered. λ stays in [−10⁶, 10⁶]. Under a
/// target the thresholds' learning rate decays linearly to 0 over the fine-tune (constant otherwise): a layer whose
/// scores are packed tightly (SST-2's second bert-tiny layer: 0.25 of threshold spans 40 points of prune rate)
/// would otherwise dither by whole Adam steps around the target.
public struct PruneRateTarget: Sendable, Equatable {
    /// r*, in (0, 1).
    public var rate: Double
    /// One λ and the target per layer (true), or one λ for the overall rate.
    public var perLayer: Bool
    /// η, integral gain per step in units of λ₀.
    public var integralGain: Double
    /// κ, proportional gain in units of λ₀.
    public var proportionalGain: Double

    /// Steps between validation probes (0: never probe, steer the training-minibatch rate itself).
    public var probeInterval: Int

    public init(rate: Double, perLayer: Bool = true, integralGain: Double = 2, proportionalGain: Double = 50, probeInterval: Int = 25) {
        precondition(rate > 0 && rate < 1 && integralGain >= 0 && proportionalGain >= 0 && probeInterval >= 0)
        self.rate = rate; self.perLayer = perLayer; self.integralGain = integralGain; self.proportionalGain = proportionalGain
        self.probeInterval = probeInterval
    }

    public var description: String {
        "prune rate \(CanonicalJSON.formatNumber(rate)) \(perLayer ? "per layer" : "overall") "
            + "(η \(CanonicalJSON.formatNumber(integralGain)), κ \(CanonicalJSON.formatNumber(proportionalGain)))"
    }
}

/// The λ of one fine-tune under a `PruneRateTarget`; sets each transform's regulariser weight to λ/L (λ of its
/// group: its own layer, or the whole model).
final class LambdaController {
    /// One threshold: transform `layer`, threshold `index` (its head with per-head thresholds, else 0).
    struct Unit: Hashable { let layer: Int, index: Int }

    let target: PruneRateTarget
    let transforms: [ThresholdScoreTransform]
    let startingLambda: Double
    /// Thresholds per group: each threshold alone (per-layer mode: a layer, or a head with per-head thresholds),
    /// or all of them (overall mode).
    let groups: [[Unit]]
    private var integral: [Double]
    private(set) var lambdas: [Double]
    /// Per group: exponential mean of the training rate, and training − validation rate at the last probe.
    private var trainingRate: [Double]
    private(set) var offsets: [Double]
    /// Hard-rule counts per transform and threshold on the validation probe examples (inference mode).
    private let probe: (() throws -> [[PruneCounts]])?
    private var steps = 0
    private var counts = PruneCounts()

    init(target: PruneRateTarget, startingLambda: Double, transforms: [ThresholdScoreTransform],
         probe: (() throws -> [[PruneCounts]])?) {
        precondition(startingLambda > 0, "a prune-rate target needs a starting λ > 0")
        self.target = target; self.transforms = transforms; self.startingLambda = startingLambda
        self.probe = target.probeInterval > 0 ? probe : nil
        let units = transforms.enumerated().flatMap { layer, t in t.thresholds.indices.map { Unit(layer: layer, index: $0) } }
        groups = target.perLayer ? units.map { [$0] } : [units]
        integral = Array(repeating: startingLambda, count: groups.count)
        lambdas = integral
        trainingRate = Array(repeating: .nan, count: groups.count)
        offsets = Array(repeating: 0, count: groups.count)
        apply()
    }

    /// Regulariser weights λ/L: a transform's single weight, or per threshold when its thresholds are steered apart.
    private func apply() {
        var weights = transforms.map { Array(repeating: 0.0, count: $0.thresholds.count) }
        for (g, members) in groups.enumerated() {
            for unit in members { weights[unit.layer][unit.index] = lambdas[g] / Double(transforms.count) }
        }
        for (t, w) in zip(transforms, weights) {
            if w.allSatisfy({ $0 == w[0] }) {
                t.regularizerWeight = w[0]; t.thresholdRegularizerWeights = nil
            } else {
                t.thresholdRegularizerWeights = w
            }
        }
    }

    /// After a training step: one controller step per group from that step's hard-rule prune rate; every
    /// `probeInterval` steps, first a validation probe that re-measures the offsets.
    func update() throws {
        steps += 1
        var stepRates = [Double?](repeating: nil, count: groups.count)
        for (g, members) in groups.enumerated() {
            let step = members.map { transforms[$0.layer].lastTrainingThresholdCounts[$0.index] }.reduce(PruneCounts(), +)
            guard step.validPairs > 0 else { continue }
            stepRates[g] = step.pruneRate
            trainingRate[g] = trainingRate[g].isNaN ? step.pruneRate : 0.8 * trainingRate[g] + 0.2 * step.pruneRate
        }
        counts = counts + transforms.map(\.lastTrainingCounts).reduce(PruneCounts(), +)
        if let probe, steps % target.probeInterval == 0 {
            let validation = try probe()
            for (g, members) in groups.enumerated() where !trainingRate[g].isNaN {
                let measured = members.map { validation[$0.layer][$0.index] }.reduce(PruneCounts(), +)
                if measured.validPairs > 0 { offsets[g] = trainingRate[g] - measured.pruneRate }
            }
        }
        for g in groups.indices {
            guard let rate = stepRates[g] else { continue }
            let error = target.rate + offsets[g] - rate
            integral[g] = min(1e6, max(-1e6, integral[g] + target.integralGain * startingLambda * error))
            // The proportional term scales with the integral's size: a layer whose task gradient needed a large λ
            // to get moving reverses as soon as it overshoots instead of waiting for the integral to unwind.
            let scale = max(startingLambda, abs(integral[g]))
            lambdas[g] = min(1e6, max(-1e6, integral[g] + target.proportionalGain * scale * error))
        }
        apply()
    }

    /// Mean λ over the groups (what progress lines show).
    var meanLambda: Double { lambdas.reduce(0, +) / Double(lambdas.count) }

    /// Hard-rule prune rate of the training steps since the last call (nil if none had valid pairs).
    func takeTrainingPruneRate() -> Double? {
        defer { counts = PruneCounts() }
        return counts.validPairs == 0 ? nil : counts.pruneRate
    }
}

public enum PruningProtocol {
    /// Runs the whole protocol; one report per λ (in the order given). Progress goes to `progress`.
    public static func run(_ settings: PruningSettings, progress: (ProgressEvent) -> Void = { _ in }) throws -> [PruningReport] {
        precondition(!settings.lambdas.isEmpty, "at least one λ")
        let started = Date()
        let task = try settings.preset.factory(settings.taskName, settings.dataDirectory, settings.seed)
        let model = task.model, parameters = task.parameters
        let layers = model.attentionLayerCount
        if let weight = settings.distillation {
            guard task is DistillingPruningTask else {
                throw UsageError("distillation from the dense model is implemented for the GLUE encoder presets; \(task.presetName) has none")
            }
            guard weight > 0, weight <= 1 else { throw UsageError("distillation weight \(weight); expected a number in (0, 1]") }
        }
        if let beta = settings.hiddenDistillation {
            guard settings.distillation != nil else { throw UsageError("hidden-state distillation needs distillation from the dense model (--distill)") }
            guard beta > 0, beta.isFinite else { throw UsageError("hidden-state distillation weight \(beta); expected a positive number") }
        }

        // 1. Dense training (or the dense checkpoint of an earlier run).
        let denseStart = Date()
        var metadata = checkpointMetadata(task, settings)
        var denseEpochs = settings.epochs
        var denseSteps = 0
        if let path = settings.denseCheckpoint {
            let file = try SafetensorsFile.read(path: path)
            try checkDenseCheckpoint(file.metadata, expected: metadata, path: path)
            try parameters.load(from: file)
            denseEpochs = file.metadata["epochs"].flatMap { Int($0) } ?? denseEpochs
            metadata["epochs"] = String(denseEpochs)
            // What the dense weights were trained on: a checkpoint from before the key existed leaves it unknown
            // (the checkpoints this run writes then say nothing rather than this run's count).
            metadata["training_examples"] = file.metadata["training_examples"]
            denseSteps = file.metadata["dense_steps"].flatMap { Int($0) } ?? 0
        } else {
            denseSteps = try train(task, epochs: settings.epochs, learningRate: Float(settings.preset.learningRate),
                                   thresholds: nil, stage: "dense", progress: progress)
            metadata["dense_steps"] = String(denseSteps)
        }
        let denseSeconds = Date().timeIntervalSince(denseStart)
        model.scoreTransforms = Array(repeating: nil, count: layers)
        // The dense metric and the dense model's per-example answers, for the paired standard error of the loss.
        let (denseMetric, denseOutcomes) = try task.evaluateWithOutcomes(.test, limit: settings.evaluationLimit)
        let (denseValidationMetric, denseValidationOutcomes) = try task.evaluateWithOutcomes(.validation, limit: settings.evaluationLimit)
        var denseValues = Array(UnsafeBufferPointer(start: parameters.values.pointer, count: parameters.values.count))
        if let out = settings.outputDirectory {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let path = out + "/dense.safetensors"
            try parameters.write(path: path, metadata: metadata)
            // Every λ starts from the checkpoint as written (what a later `--resume` would load too).
            try parameters.load(from: SafetensorsFile.read(path: path))
            denseValues = Array(UnsafeBufferPointer(start: parameters.values.pointer, count: parameters.values.count))
        }
        func restoreDense() {
            denseValues.withUnsafeBufferPointer { parameters.values.pointer.update(from: $0.baseAddress!, count: $0.count) }
            model.scoreTransforms = Array(repeating: nil, count: layers)
        }

        // Dense-score samples per layer (validation) for threshold initialisation and the fixed-threshold baseline.
        let samplers = (0..<layers).map { _ in ScoreSampleTransform(stride: 3) }
        model.scoreTransforms = samplers
        _ = try task.evaluate(.validation, limit: settings.calibrationExamples)
        let denseScores = samplers.map(\.samples)
        restoreDense()

        // Q/K quantised alone (dense weights).
        var quantizedMetric: Double?
        if let quantizable = model as? QKQuantizable {
            quantizable.qkQuantizationBits = settings.quantizationBits
            quantizedMetric = try task.evaluate(.test, limit: settings.evaluationLimit)
            quantizable.qkQuantizationBits = nil
        }

        // From here on (control and every λ) the fine-tunes distil from a frozen copy of the dense weights.
        let distilling = settings.distillation.flatMap { _ in task as? DistillingPruningTask }
        restoreDense()
        distilling?.distill(weight: settings.distillation, hiddenWeight: settings.hiddenDistillation)
        defer { distilling?.distill(weight: nil) }

        // The control: the same fine-tune without thresholds.
        var control: (metric: Double, seconds: Double)?
        if settings.control {
            restoreDense()
            let controlStart = Date()
            try train(task, epochs: settings.fineTuneEpochs, maxSteps: settings.fineTuneSteps,
                      learningRate: Float(settings.preset.fineTuneLearningRate), thresholds: nil, stage: "control",
                      progress: progress)
            control = (try task.evaluate(.test, limit: settings.evaluationLimit), Date().timeIntervalSince(controlStart))
        }

        var reports: [PruningReport] = []
        for lambda in settings.lambdas {
            // 2. Threshold fine-tuning from the dense weights.
            restoreDense()
            let heads = settings.perHeadThresholds ? model.attentionHeadCount : 1
            let transforms = (0..<layers).map { layer -> ThresholdScoreTransform in
                let start: Float
                switch settings.thresholdInitialisation {
                case .constant(let v): start = Float(v)
                case .denseQuantile(let q): start = FixedThreshold.calibrate(samples: denseScores[layer], pruneRate: q)
                }
                return ThresholdScoreTransform(thresholds: Array(repeating: start.isFinite ? start : 0, count: heads),
                                               steepness: settings.steepness, prunedMagnitude: settings.prunedMagnitude,
                                               regularizerWeight: lambda / Double(layers), surrogate: settings.surrogate)
            }
            model.scoreTransforms = transforms
            let controller = settings.pruneRateTarget.map { target in
                LambdaController(target: target, startingLambda: lambda, transforms: transforms, probe: {
                    for t in transforms { t.resetCounters() }
                    _ = try task.evaluate(.validation, limit: settings.calibrationExamples)
                    defer { for t in transforms { t.resetCounters() } }
                    return transforms.map(\.thresholdCounts)
                })
            }
            task.reseedTrainingNoise(settings.seed &+ 0x5EED_F1E7)
            let fineTuneStart = Date()
            let stage = "fine-tune λ=\(CanonicalJSON.formatNumber(lambda))"
                + (settings.pruneRateTarget.map { " → rate \(CanonicalJSON.formatNumber($0.rate))" } ?? "")
            let fineTuneSteps = try train(task, epochs: settings.fineTuneEpochs, maxSteps: settings.fineTuneSteps,
                                          learningRate: Float(settings.preset.fineTuneLearningRate),
                                          thresholds: (transforms, Float(settings.preset.thresholdLearningRate)),
                                          controller: controller, stage: stage, progress: progress)
            let fineTuneSeconds = Date().timeIntervalSince(fineTuneStart)

            // 3. Hard-rule evaluation: validation (for choosing settings without looking at test), then test.
            for t in transforms { t.resetCounters() }
            let (prunedValidationMetric, prunedValidationOutcomes) = try task.evaluateWithOutcomes(.validation, limit: settings.evaluationLimit)
            let validationPruneRate = transforms.map(\.counts).reduce(PruneCounts(), +).pruneRate
            let validationPaired = PairedLoss(dense: denseValidationOutcomes, pruned: prunedValidationOutcomes, task: task.task)
            for t in transforms { t.resetCounters() }
            let (prunedMetric, prunedOutcomes) = try task.evaluateWithOutcomes(.test, limit: settings.evaluationLimit)
            let layerCounts = transforms.map(\.counts)
            let total = layerCounts.reduce(PruneCounts(), +)
            let pruneRate = total.pruneRate
            let thresholds = transforms.map { $0.thresholds.map(Double.init) }
            let testPaired = PairedLoss(dense: denseOutcomes, pruned: prunedOutcomes, task: task.task)

            // 5. Checkpoint and trace of the fine-tuned model.
            var trace: TraceSummary?
            if let out = settings.outputDirectory {
                let dir = settings.lambdas.count == 1 ? out : out + "/lambda-\(CanonicalJSON.formatNumber(lambda))"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                var prunedMetadata = metadata
                prunedMetadata["lambda"] = CanonicalJSON.formatNumber(lambda)
                prunedMetadata["thresholds"] = CanonicalJSON.encode(.array(thresholds.map { JSONValue($0) }))
                try parameters.write(path: dir + "/pruned.safetensors", metadata: prunedMetadata)
                for t in transforms { t.resetCounters() }
                let records = try task.captureAttention(examples: settings.traceExamples)
                let modelRate = transforms.map(\.counts).reduce(PruneCounts(), +).pruneRate
                trace = try AttentionTraceCapture.write(records: records, thresholds: thresholds, bits: settings.quantizationBits,
                                                        valueDimension: model.attentionValueDimension,
                                                        directory: dir + "/trace", modelPruneRate: modelRate)
            }

            // 4. Baselines on the dense weights at the learned prune rate.
            restoreDense()
            let keep = max(1e-6, 1 - pruneRate)
            let topK = (0..<layers).map { _ in TopKScoreTransform(keepFraction: keep) }
            model.scoreTransforms = topK
            let topKMetric = try task.evaluate(.test, limit: settings.evaluationLimit)
            let topKRate = topK.map(\.counts).reduce(PruneCounts(), +).pruneRate
            let fixedThresholds = denseScores.map { FixedThreshold.calibrate(samples: $0, pruneRate: pruneRate) }
            let fixed = fixedThresholds.map { FixedThreshold.transform(threshold: $0) }
            model.scoreTransforms = fixed
            let fixedMetric = try task.evaluate(.test, limit: settings.evaluationLimit)
            let fixedRate = fixed.map(\.counts).reduce(PruneCounts(), +).pruneRate
            restoreDense()

            var report = PruningReport(
                model: task.presetName, task: task.task.name, seed: settings.seed, lambda: lambda,
                metricName: task.task.metric.rawValue, higherIsBetter: task.task.higherIsBetter,
                denseMetric: denseMetric, prunedMetric: prunedMetric, pruneRate: pruneRate,
                layerPruneRates: layerCounts.map(\.pruneRate), thresholds: thresholds,
                thresholdInitialisation: settings.thresholdInitialisation.description,
                validation: ValidationResult(denseMetric: denseValidationMetric, prunedMetric: prunedValidationMetric,
                                             pruneRate: validationPruneRate),
                topK: BaselineResult(metric: topKMetric, pruneRate: topKRate),
                fixedThreshold: BaselineResult(metric: fixedMetric, pruneRate: fixedRate,
                                               thresholds: fixedThresholds.map { Double($0) }),
                quantizedBits: settings.quantizationBits, quantizedMetric: quantizedMetric, trace: trace,
                parameterCount: parameters.parameterCount, trainingExamples: task.trainingExamples,
                epochs: denseEpochs, fineTuneEpochs: settings.fineTuneEpochs,
                denseSeconds: denseSeconds, fineTuneSeconds: fineTuneSeconds,
                wallSeconds: Date().timeIntervalSince(started))
            report.denseSteps = denseSteps
            report.fineTuneSteps = fineTuneSteps
            if let controller {
                report.pruneRateTarget = controller.target
                report.finalLambdas = controller.lambdas
            }
            report.emptyRowRate = total.emptyRowRate
            report.pairedLoss = testPaired
            report.validationPairedLoss = validationPaired
            report.steepness = Double(settings.steepness)
            report.prunedMagnitude = Double(settings.prunedMagnitude)
            report.surrogate = settings.surrogate.rawValue
            report.distillation = settings.distillation
            report.hiddenDistillation = settings.distillation == nil ? nil : settings.hiddenDistillation
            report.controlMetric = control?.metric
            report.controlSeconds = control?.seconds
            report.trainingPaddingFraction = task.trainingPaddingFraction
            reports.append(report)
        }
        return reports
    }

    /// Safetensors metadata of the checkpoints: the model's configuration (`PruningTask.modelMetadata`) plus what
    /// produced the weights.
    static func checkpointMetadata(_ task: any PruningTask, _ settings: PruningSettings) -> [String: String] {
        var metadata = task.modelMetadata
        metadata["preset"] = task.presetName
        metadata["task"] = task.task.name
        metadata["seed"] = String(settings.seed)
        metadata["epochs"] = String(settings.epochs)
        metadata["training_examples"] = String(task.trainingExamples)
        return metadata
    }

    /// A dense checkpoint given with `denseCheckpoint` must come from the same preset, task, seed and model
    /// configuration (the config also pins the vocabulary size and sequence length).
    static func checkDenseCheckpoint(_ found: [String: String], expected: [String: String], path: String) throws {
        for key in ["preset", "task", "seed", "config"] where found[key] != expected[key] {
            throw InputError(file: path, place: "__metadata__.\(key)",
                             problem: "found \(found[key].map { "\"\($0)\"" } ?? "nothing"), expected \"\(expected[key] ?? "")\" "
                                 + "(the dense checkpoint must come from the same preset, task and seed)")
        }
        // Checkpoints written before the key existed do not record it.
        if let examples = found["training_examples"], examples != expected["training_examples"] {
            throw InputError(file: path, place: "__metadata__.training_examples",
                             problem: "found \"\(examples)\", expected \"\(expected["training_examples"] ?? "")\" "
                                 + "(the dense checkpoint was trained on another number of examples per epoch; see --training-subset)")
        }
    }

    /// Epochs of minibatch steps (at most `maxSteps`): AdamW on the weights (peak `learningRate`, 10% warmup, linear
    /// decay to 0 at the last step taken, global norm clipped at 1; no weight update at all when `learningRate` is
    /// 0) and, when given, Adam on the thresholds (constant rate). Returns the steps taken.
    @discardableResult
    static func train(_ task: any PruningTask, epochs: Int, maxSteps: Int? = nil, learningRate: Float,
                      thresholds: (transforms: [ThresholdScoreTransform], learningRate: Float)?,
                      controller: LambdaController? = nil,
                      stage: String, progress: (ProgressEvent) -> Void) throws -> Int {
        let parameters = task.parameters
        let perEpoch = task.batchesPerEpoch
        let steps = min(epochs * perEpoch, maxSteps ?? Int.max), total = max(1, steps)
        let schedule = LearningRateSchedule(peak: learningRate, warmupSteps: total / 10, totalSteps: total, decay: .linear)
        let optimizer = AdamW(weightDecay: 0.01)
        let thresholdOptimizer = thresholds.map { ThresholdAdam(transforms: $0.transforms, learningRate: $0.learningRate) }
        let reportEvery = max(1, perEpoch / 4)
        var step = 0, lossSum = 0.0, lossCount = 0
        for epoch in 0..<epochs {
            for index in 0..<perEpoch where step < steps {
                parameters.zeroGradients()
                thresholds?.transforms.forEach { $0.zeroGradients() }
                let loss = task.accumulateGradients(batch: index, epoch: epoch)
                guard loss.isFinite else { throw TrainingDivergedError(step: step, tensor: "loss", detail: "value \(loss) (\(stage))") }
                let norm = GradientClipping.clip(parameters, maxNorm: 1)
                if !norm.isFinite {
                    let culprit = parameters.firstNonFinite()
                    throw TrainingDivergedError(step: step, tensor: culprit?.name ?? "gradients", detail: "gradient (\(stage))")
                }
                // A zero weight rate freezes the weights exactly (no AdamW step, so no weight decay either): the
                // thresholds alone learn, against gradients that still flow through the frozen weights.
                if learningRate > 0 { optimizer.step(parameters, learningRate: schedule.rate(at: step)) }
                // Under a prune-rate target the thresholds' rate decays linearly to 0 over the fine-tune, so they
                // settle where the controller holds them instead of dithering by a full Adam step at the end.
                thresholdOptimizer?.step(scale: controller == nil ? 1 : Float(total - step) / Float(total))
                try controller?.update()
                lossSum += loss; lossCount += 1; step += 1
                if (index + 1) % reportEvery == 0 || index + 1 == perEpoch || step == steps {
                    var event = ProgressEvent(stage: stage, epoch: epoch, epochs: epochs, step: index + 1, stepsPerEpoch: perEpoch,
                                              meanLoss: lossSum / Double(lossCount))
                    event.lambda = controller?.meanLambda
                    event.trainingPruneRate = controller?.takeTrainingPruneRate()
                    progress(event)
                    lossSum = 0; lossCount = 0
                }
            }
        }
        return step
    }
}

/// Adam (β = 0.9, 0.999, ε = 1e-8, no weight decay) on the thresholds of a set of transforms.
final class ThresholdAdam {
    let transforms: [ThresholdScoreTransform]
    let learningRate: Float
    private var m: [[Double]], v: [[Double]]
    private var t = 0

    init(transforms: [ThresholdScoreTransform], learningRate: Float) {
        self.transforms = transforms; self.learningRate = learningRate
        m = transforms.map { Array(repeating: 0, count: $0.thresholds.count) }
        v = m
    }

    /// One Adam step at `scale` × the learning rate.
    func step(scale: Float = 1) {
        t += 1
        let c1 = 1 - pow(0.9, Double(t)), c2 = 1 - pow(0.999, Double(t))
        for (l, transform) in transforms.enumerated() {
            for h in transform.thresholds.indices {
                let g = transform.thresholdGradients[h]
                guard g.isFinite else { continue }
                m[l][h] = 0.9 * m[l][h] + 0.1 * g
                v[l][h] = 0.999 * v[l][h] + 0.001 * g * g
                let update = Double(learningRate * scale) * (m[l][h] / c1) / ((v[l][h] / c2).squareRoot() + 1e-8)
                transform.thresholds[h] -= Float(update)
            }
        }
    }
}
