// The real model presets (Training's `Presets` registry: bert-tiny, bert-mini, and every family that joins it) as
// a sweep backend. The learned-pruning protocol (DESIGN.md §1) is split into the DAG's stages so that one dense
// checkpoint serves every λ and one fine-tuned checkpoint serves every hardware point:
//   dense-train   train the preset from scratch, evaluate the dense metric → safetensors checkpoint
//   finetune(λ)   load the dense weights, thresholds initialised per the manifest, L_task + λ·R (weights at the
//                 preset's fine-tune rate, against the dense outputs when the preset distils — both, the surrogate
//                 and its steepness overridable by the manifest's `training`), hard-rule metric,
//                 prune rates, learned thresholds, and the top-k / fixed-threshold baselines at the learned rate
//                 → safetensors checkpoint with the thresholds in its metadata
//   capture-trace load it, hard thresholds in place, record q/k on the first N test examples, quantise to B bits
// The training loop mirrors `PruningProtocol.train` (AdamW with warmup + linear decay, clipping at norm 1, Adam on
// the thresholds at their own rate), because that one runs all stages in one call.
//
// Presets named in the catalogue below but absent from the registry (families not linked into this build) are
// *planned*: manifests naming them validate and `sweep plan` counts their jobs, but their jobs fail with a reason.

import Basics
import Datasets
import Foundation
import Layers
import Models
import Tensors
import Training
import Workloads

public struct PresetBackend: ModelBackend {
    /// The preset names of DESIGN.md / issues 4 and 7, with their families and the tasks each is meant for.
    static let catalogue: [String: (family: String, tasks: [String])] = {
        let glue = ["glue/sst2", "glue/cola", "glue/mrpc", "glue/stsb", "glue/rte"]
        let babi = (1...20).map { "babi/qa\($0)" }
        return [
            "memn2n": ("memn2n", babi),
            "bert-tiny": ("bert", glue),
            "bert-mini": ("bert", glue),
            "bert-minilm": ("bert", glue),
            "albert-tiny": ("albert", glue),
            "gpt2-tiny": ("gpt2", ["ptb", "shakespeare"]),
            "vit-tiny": ("vit", ["fashion-mnist"]),
        ]
    }()

    /// Presets whose training code is linked into this build.
    public static var availableModels: [String] { Presets.names }

    public static func isAvailable(model: String) -> Bool { catalogue[model] != nil || Presets.all[model] != nil }

    public init() {}

    /// The encoders' training subsets before the subset entered the dense-train key (2026-12-05; bert-mini's then
    /// changed from 8,000 to 16,000). A preset absent here (a new one) is always keyed.
    static let trainingSubsetsBeforeKeying: [String: Int] = ["bert-tiny": 16_000, "albert-tiny": 16_000, "bert-mini": 8_000]

    public func family(model: String) -> String { Self.catalogue[model]?.family ?? model.split(separator: "-").first.map(String.init) ?? model }

    public func validate(model: String, task: String) throws {
        let tasks = Presets.all[model]?.tasks ?? Self.catalogue[model]?.tasks ?? []
        guard tasks.contains(task) else {
            throw RuntimeError("model \(model) has no task \"\(task)\"; expected one of: \(tasks.joined(separator: ", "))")
        }
    }

    public func datasetIdentity(task: String, dataDirectory: String) throws -> JSONValue {
        // The task and the loaders' split definition version; the files themselves are checked by the loaders.
        ["source": "leopard-datasets", "task": .string(task), "version": 1]
    }

    /// The preset's defaults that a stage's result depends on (see `ModelBackend.recipe`). Manifest overrides
    /// are in the job's `training` parameters as well; the recipe holds what applies when the manifest is silent.
    /// Presets planned but not linked have none (their jobs fail anyway).
    public func recipe(model: String, task: String, stage: JobKind) -> JSONValue? {
        guard let p = Presets.all[model] else { return nil }
        switch stage {
        case .denseTrain:
            var recipe: [String: JSONValue] = ["epochs": JSONValue(p.epochs(for: task)), "learning_rate": JSONValue(p.learningRate),
                                               "batch_size": JSONValue(p.batchSize)]
            // The GLUE encoders' training subset (the families' and MiniLM's are fixed per task in their code), keyed
            // only where it differs from the subset the preset had when recipes entered the keys, so that stores of
            // presets whose subset never changed keep their keys (as `hidden_distillation` below).
            if let shape = Presets.encoderShapes[model], Self.trainingSubsetsBeforeKeying[model] != shape.trainingSubset {
                recipe["training_subset"] = shape.trainingSubset.map { JSONValue($0) } ?? .null
            }
            return .object(recipe)
        case .fineTune:
            var recipe: [String: JSONValue] = [
                "fine_tune_epochs": JSONValue(p.fineTuneEpochs), "fine_tune_steps": p.fineTuneSteps.map { JSONValue($0) } ?? .null,
                "fine_tune_learning_rate": JSONValue(p.fineTuneLearningRate),
                "threshold_learning_rate": JSONValue(p.thresholdLearningRate), "surrogate": .string(p.surrogate.rawValue),
                "distillation": p.distillation.map { JSONValue($0) } ?? .null]
            // Only when set, so that the keys of presets without it stay as they were.
            if p.distillation != nil, let beta = p.hiddenDistillation { recipe["hidden_distillation"] = JSONValue(beta) }
            return .object(recipe)
        case .captureTrace, .hardwareEval:
            return nil
        }
    }

    /// Plan-time check of an experiment's `init`: a valid checkpoint folder for pretrained presets, refused for
    /// presets trained from scratch. Absent for a pretrained preset is not a plan error (so manifests such as
    /// experiments/paper.json plan on machines without the checkpoint); its jobs then fail saying what to add.
    public func validateInit(model: String, directory: String?) throws {
        let pretrained = PretrainedPresets.shapes[model] != nil
        guard let directory else { return }
        guard pretrained else { throw RuntimeError("expected no value: model \(model) trains from scratch") }
        guard let preset = Presets.all[model] else { return }  // planned, not linked: its jobs fail with a reason
        _ = try preset.initialised(from: directory)
    }

    /// Plan-time check of an experiment's fine-tune settings, refusing what `leopard train` refuses: a distillation
    /// weight on a task without a teacher's output distribution (GLUE only), and a hidden-state weight where the
    /// experiment does not distil ("off", or a preset that does not distil by default). `path` gives the JSON path of
    /// a `training` key. A preset planned but not linked has unknown defaults: only what the manifest says is checked.
    public func validateFineTuneOverrides(model: String, task: String, training: TrainingOverrides,
                                          path: (String) -> String) throws {
        if case .some(.some(let alpha)) = training.distillation, !task.hasPrefix("glue/") {
            throw RuntimeError("\(path("distill")) = \(CanonicalJSON.formatNumber(alpha)); expected no value or \"off\": distillation "
                               + "from the dense model needs a GLUE task and an encoder preset (the teacher's outputs are class "
                               + "probabilities or a regression value); \(model) on \(task) has none")
        }
        guard case .some(.some(let beta)) = training.hiddenDistillation else { return }
        let why: String
        switch training.distillation {
        case .some(.some): return
        case .some(.none): why = "\(path("distill")) = \"off\""
        case .none:
            guard let preset = Presets.all[model], preset.distillation == nil else { return }
            why = "\(model) does not distil by default; set distill to a weight in (0, 1]"
        }
        throw RuntimeError("\(path("distillHidden")) = \(CanonicalJSON.formatNumber(beta)); expected no value or \"off\": hidden-state "
                           + "distillation needs distillation from the dense model (\(why))")
    }

    /// The preset with the manifest's overrides applied, as `leopard train` applies the same flags (`--epochs`,
    /// `--fine-tune-epochs`, `--fine-tune-lr`, `--threshold-lr`, `--distill`, `--distill-hidden`, `--surrogate`);
    /// `steepness` is not a preset field: `fineTune` gives it to the threshold transforms.
    func preset(_ model: String, _ training: TrainingOverrides) throws -> Preset {
        guard var preset = Presets.all[model] else {
            throw RuntimeError("preset \(model) is planned but its training code is not linked into this leopard build "
                               + "(presets available: \(Presets.names.joined(separator: ", ")))")
        }
        if let directory = training.initDirectory { preset = try preset.initialised(from: directory) }
        if let e = training.epochs { preset.epochs = e; preset.taskEpochs = [:] }
        if let e = training.fineTuneEpochs { preset.fineTuneEpochs = e }
        if let lr = training.learningRate { preset.learningRate = lr }
        if let lr = training.thresholdLearningRate { preset.thresholdLearningRate = lr }
        if let lr = training.fineTuneLearningRate { preset.fineTuneLearningRate = lr }
        if let alpha = training.distillation { preset.distillation = alpha }
        if let beta = training.hiddenDistillation { preset.hiddenDistillation = beta }
        if let surrogate = training.surrogate { preset.surrogate = surrogate }
        return preset
    }

    /// s of the fine-tune's surrogate and regulariser: the manifest's `steepness`, else the transforms' default
    /// (as `leopard train --steepness`; not a preset field).
    static func steepness(_ training: TrainingOverrides) -> Float {
        training.steepness.map(Float.init) ?? ThresholdScoreTransform.defaultSteepness
    }

    func makeTask(_ preset: Preset, _ task: String, _ environment: JobEnvironment) throws -> any PruningTask {
        try preset.factory(task, DataDirectory(path: environment.dataDirectory), environment.seed)
    }

    public func denseTrain(model: String, task taskName: String, training: TrainingOverrides, environment: JobEnvironment) throws -> DenseOutcome {
        let preset = try preset(model, training)
        let task = try makeTask(preset, taskName, environment)
        task.model.scoreTransforms = Array(repeating: nil, count: task.model.attentionLayerCount)
        try PresetTraining.train(task, epochs: preset.epochs(for: taskName), learningRate: Float(preset.learningRate), thresholds: nil,
                                 isCancelled: environment.isCancelled)
        let metric = try task.evaluate(.test, limit: training.evalSubset)
        let checkpoint = SafetensorsFile.encode(tensors: task.parameters.entries.map { ($0.name, task.parameters.view($0.name)) },
                                                metadata: ["preset": model, "task": taskName, "stage": "dense"])
        return DenseOutcome(checkpoint: checkpoint, metric: metric, metricName: task.task.metric.rawValue,
                            higherIsBetter: task.task.higherIsBetter,
                            extraMetrics: [("parameters", Double(task.parameters.parameterCount)), ("epochs", Double(preset.epochs(for: taskName)))])
    }

    public func fineTune(model: String, task taskName: String, dense: [UInt8], lambda: Double, thresholdInit: ThresholdInit,
                         training: TrainingOverrides, baselines: Bool, environment: JobEnvironment) throws -> FineTuneOutcome {
        try fineTune(preset: preset(model, training), task: taskName, dense: dense, lambda: lambda, thresholdInit: thresholdInit,
                     training: training, baselines: baselines, environment: environment)
    }

    /// The finetune stage for a resolved preset (tests pass variants of a registered one).
    func fineTune(preset: Preset, task taskName: String, dense: [UInt8], lambda: Double, thresholdInit: ThresholdInit,
                  training: TrainingOverrides, baselines: Bool, environment: JobEnvironment) throws -> FineTuneOutcome {
        let model = preset.name
        let task = try makeTask(preset, taskName, environment)
        let model_ = task.model, layers = model_.attentionLayerCount
        let denseFile = try SafetensorsFile(bytes: dense, file: "dense checkpoint")
        try task.parameters.load(from: denseFile)
        // As `leopard train`: a preset that distils fine-tunes against a frozen copy of these dense weights (with the
        // hidden-state term only when it distils at all).
        if let weight = preset.distillation {
            guard let distilling = task as? DistillingPruningTask else {
                throw RuntimeError("distillation from the dense model is implemented for the GLUE encoder presets; \(model) has none")
            }
            distilling.distill(weight: weight, hiddenWeight: preset.hiddenDistillation)
        }

        // The dense model's answers on the test examples, for the paired standard error of every loss below.
        let denseOutcomes = try task.evaluateWithOutcomes(.test, limit: training.evalSubset).outcomes
        func standardError(_ outcomes: ExampleOutcomes?) -> Double? {
            PairedLoss(dense: denseOutcomes, pruned: outcomes, task: task.task)?.standardError
        }

        // Dense score samples per layer (validation): quantile initialisation and the fixed-threshold baseline.
        var denseScores: [[Float]] = []
        if baselines || { if case .quantile = thresholdInit { return true }; return false }() {
            let samplers = (0..<layers).map { _ in ScoreSampleTransform(stride: 3) }
            model_.scoreTransforms = samplers
            _ = try task.evaluate(.validation, limit: 256)
            denseScores = samplers.map(\.samples)
        }
        let transforms = (0..<layers).map { layer -> ThresholdScoreTransform in
            var start: Float
            switch thresholdInit {
            case .zero: start = 0
            case .value(let v): start = Float(v)
            case .quantile(let q): start = FixedThreshold.calibrate(samples: denseScores[layer], pruneRate: q)
            }
            if !start.isFinite { start = 0 }
            return ThresholdScoreTransform(thresholds: [start], steepness: Self.steepness(training),
                                           regularizerWeight: lambda / Double(layers), surrogate: preset.surrogate)
        }
        model_.scoreTransforms = transforms
        try PresetTraining.train(task, epochs: preset.fineTuneEpochs, maxSteps: preset.fineTuneSteps,
                                 learningRate: Float(preset.fineTuneLearningRate),
                                 thresholds: (transforms, Float(preset.thresholdLearningRate)), isCancelled: environment.isCancelled)
        for t in transforms { t.resetCounters() }
        let (metric, outcomes) = try task.evaluateWithOutcomes(.test, limit: training.evalSubset)
        let counts = transforms.map(\.counts)
        let pruneRate = counts.reduce(PruneCounts(), +).pruneRate
        let thresholds = transforms.map { Double($0.thresholds[0]) }
        let checkpoint = SafetensorsFile.encode(
            tensors: task.parameters.entries.map { ($0.name, task.parameters.view($0.name)) },
            metadata: ["preset": model, "task": taskName, "stage": "finetune", "lambda": CanonicalJSON.formatNumber(lambda),
                       "thresholds": CanonicalJSON.encode(JSONValue(thresholds))])

        var topK: (metric: Double, outcomes: ExampleOutcomes?)?, fixed: (metric: Double, outcomes: ExampleOutcomes?)?
        if baselines {
            try task.parameters.load(from: denseFile)
            model_.scoreTransforms = (0..<layers).map { _ in TopKScoreTransform(keepFraction: max(1e-6, 1 - pruneRate)) }
            topK = try task.evaluateWithOutcomes(.test, limit: training.evalSubset)
            model_.scoreTransforms = denseScores.map { FixedThreshold.transform(threshold: FixedThreshold.calibrate(samples: $0, pruneRate: pruneRate)) }
            fixed = try task.evaluateWithOutcomes(.test, limit: training.evalSubset)
        }
        var outcome = FineTuneOutcome(checkpoint: checkpoint, metric: metric, pruneRate: pruneRate,
                                      layerPruneRates: counts.map(\.pruneRate), thresholds: thresholds,
                                      topKMetric: topK?.metric, fixedThresholdMetric: fixed?.metric)
        outcome.standardError = standardError(outcomes)
        outcome.topKStandardError = topK.flatMap { standardError($0.outcomes) }
        outcome.fixedThresholdStandardError = fixed.flatMap { standardError($0.outcomes) }
        return outcome
    }

    public func captureTrace(model: String, task taskName: String, checkpoint: [UInt8], trace settings: TraceSettings,
                             initDirectory: String?, environment: JobEnvironment) throws -> AttentionTrace {
        var training = TrainingOverrides()
        training.initDirectory = initDirectory
        let preset = try preset(model, training)
        let task = try makeTask(preset, taskName, environment)
        let file = try SafetensorsFile(bytes: checkpoint, file: "fine-tuned checkpoint")
        try task.parameters.load(from: file)
        guard let text = file.metadata["thresholds"], let values = try JSONParser.parse(text).arrayValue?.compactMap(\.doubleValue),
              values.count == task.model.attentionLayerCount else {
            throw RuntimeError("the fine-tuned checkpoint has no thresholds for its \(task.model.attentionLayerCount) layers")
        }
        task.model.scoreTransforms = values.map { ThresholdScoreTransform(thresholds: [Float($0)]) }
        let records = try task.captureAttention(examples: settings.examples)
        return AttentionTraceCapture.traces(records: records, thresholds: values.map { [$0] }, bits: settings.bits,
                                            valueDimension: task.model.attentionValueDimension)
    }
}

/// The protocol's training loop (see `PruningProtocol.train`), with a cancellation check between steps.
enum PresetTraining {
    static func train(_ task: any PruningTask, epochs: Int, maxSteps: Int? = nil, learningRate: Float,
                      thresholds: (transforms: [ThresholdScoreTransform], learningRate: Float)?,
                      isCancelled: () -> Bool) throws {
        let parameters = task.parameters
        let perEpoch = task.batchesPerEpoch
        let steps = min(epochs * perEpoch, maxSteps ?? Int.max), total = max(1, steps)
        let schedule = LearningRateSchedule(peak: learningRate, warmupSteps: total / 10, totalSteps: total, decay: .linear)
        let optimizer = AdamW(weightDecay: 0.01)
        var thresholdAdam = thresholds.map { ThresholdAdamState(transforms: $0.transforms, learningRate: Double($0.learningRate)) }
        var step = 0
        for epoch in 0..<epochs {
            for index in 0..<perEpoch where step < steps {
                if isCancelled() { throw JobInterrupted() }
                parameters.zeroGradients()
                thresholds?.transforms.forEach { $0.zeroGradients() }
                let loss = task.accumulateGradients(batch: index, epoch: epoch)
                guard loss.isFinite else { throw RuntimeError("training diverged at step \(step): loss is \(loss)") }
                let norm = GradientClipping.clip(parameters, maxNorm: 1)
                if !norm.isFinite {
                    throw RuntimeError("training diverged at step \(step): non-finite gradient in \(parameters.firstNonFinite()?.name ?? "gradients")")
                }
                optimizer.step(parameters, learningRate: schedule.rate(at: step))
                thresholdAdam?.step()
                step += 1
            }
        }
    }
}

/// Adam (β = 0.9, 0.999, ε = 1e-8, no weight decay) on the thresholds: m ← β1·m + (1−β1)·g,
/// v ← β2·v + (1−β2)·g², Th ← Th − lr·m̂/(√v̂ + ε) with bias-corrected m̂, v̂.
struct ThresholdAdamState {
    let transforms: [ThresholdScoreTransform]
    let learningRate: Double
    var m: [[Double]], v: [[Double]]
    var t = 0

    init(transforms: [ThresholdScoreTransform], learningRate: Double) {
        self.transforms = transforms
        self.learningRate = learningRate
        m = transforms.map { Array(repeating: 0, count: $0.thresholds.count) }
        v = m
    }

    mutating func step() {
        t += 1
        let c1 = 1 - pow(0.9, Double(t)), c2 = 1 - pow(0.999, Double(t))
        for (l, transform) in transforms.enumerated() {
            for h in transform.thresholds.indices {
                let g = transform.thresholdGradients[h]
                m[l][h] = 0.9 * m[l][h] + 0.1 * g
                v[l][h] = 0.999 * v[l][h] + 0.001 * g * g
                transform.thresholds[h] -= Float(learningRate * (m[l][h] / c1) / ((v[l][h] / c2).squareRoot() + 1e-8))
            }
        }
    }
}
