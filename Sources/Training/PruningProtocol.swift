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
    public var steepness: Float = 10
    public var prunedMagnitude: Float = 1000
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
}

public enum PruningProtocol {
    /// Runs the whole protocol; one report per λ (in the order given). Progress goes to `progress`.
    public static func run(_ settings: PruningSettings, progress: (ProgressEvent) -> Void = { _ in }) throws -> [PruningReport] {
        precondition(!settings.lambdas.isEmpty, "at least one λ")
        let started = Date()
        let task = try settings.preset.factory(settings.taskName, settings.dataDirectory, settings.seed)
        let model = task.model, parameters = task.parameters
        let layers = model.attentionLayerCount

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
            denseSteps = file.metadata["dense_steps"].flatMap { Int($0) } ?? 0
        } else {
            denseSteps = try train(task, epochs: settings.epochs, learningRate: Float(settings.preset.learningRate),
                                   thresholds: nil, stage: "dense", progress: progress)
            metadata["dense_steps"] = String(denseSteps)
        }
        let denseSeconds = Date().timeIntervalSince(denseStart)
        model.scoreTransforms = Array(repeating: nil, count: layers)
        let denseMetric = try task.evaluate(.test, limit: settings.evaluationLimit)
        let denseValidationMetric = try task.evaluate(.validation, limit: settings.evaluationLimit)
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
                                               regularizerWeight: lambda / Double(layers))
            }
            model.scoreTransforms = transforms
            task.reseedTrainingNoise(settings.seed &+ 0x5EED_F1E7)
            let fineTuneStart = Date()
            let stage = "fine-tune λ=\(CanonicalJSON.formatNumber(lambda))"
            let fineTuneSteps = try train(task, epochs: settings.fineTuneEpochs, maxSteps: settings.fineTuneSteps,
                                          learningRate: Float(settings.preset.fineTuneLearningRate),
                                          thresholds: (transforms, Float(settings.preset.thresholdLearningRate)),
                                          stage: stage, progress: progress)
            let fineTuneSeconds = Date().timeIntervalSince(fineTuneStart)

            // 3. Hard-rule evaluation: validation (for choosing settings without looking at test), then test.
            for t in transforms { t.resetCounters() }
            let prunedValidationMetric = try task.evaluate(.validation, limit: settings.evaluationLimit)
            let validationPruneRate = transforms.map(\.counts).reduce(PruneCounts(), +).pruneRate
            for t in transforms { t.resetCounters() }
            let prunedMetric = try task.evaluate(.test, limit: settings.evaluationLimit)
            let layerCounts = transforms.map(\.counts)
            let total = layerCounts.reduce(PruneCounts(), +)
            let pruneRate = total.pruneRate
            let thresholds = transforms.map { $0.thresholds.map(Double.init) }

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
    }

    /// Epochs of minibatch steps (at most `maxSteps`): AdamW on the weights (peak `learningRate`, 10% warmup, linear
    /// decay to 0 at the last step taken, global norm clipped at 1; no weight update at all when `learningRate` is
    /// 0) and, when given, Adam on the thresholds (constant rate). Returns the steps taken.
    @discardableResult
    static func train(_ task: any PruningTask, epochs: Int, maxSteps: Int? = nil, learningRate: Float,
                      thresholds: (transforms: [ThresholdScoreTransform], learningRate: Float)?,
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
                thresholdOptimizer?.step()
                lossSum += loss; lossCount += 1; step += 1
                if (index + 1) % reportEvery == 0 || index + 1 == perEpoch || step == steps {
                    progress(ProgressEvent(stage: stage, epoch: epoch, epochs: epochs, step: index + 1, stepsPerEpoch: perEpoch,
                                           meanLoss: lossSum / Double(lossCount)))
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

    func step() {
        t += 1
        let c1 = 1 - pow(0.9, Double(t)), c2 = 1 - pow(0.999, Double(t))
        for (l, transform) in transforms.enumerated() {
            for h in transform.thresholds.indices {
                let g = transform.thresholdGradients[h]
                guard g.isFinite else { continue }
                m[l][h] = 0.9 * m[l][h] + 0.1 * g
                v[l][h] = 0.999 * v[l][h] + 0.001 * g * g
                let update = Double(learningRate) * (m[l][h] / c1) / ((v[l][h] / c2).squareRoot() + 1e-8)
                transform.thresholds[h] -= Float(update)
            }
        }
    }
}
