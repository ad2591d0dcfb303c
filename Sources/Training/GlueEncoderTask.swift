// The BERT-family presets bound to a GLUE task (PruningTask): a from-scratch word vocabulary built from the
// training split, `[CLS] A [SEP] (B [SEP])` inputs, a BertClassifier (2-way head, or 1 output with MSE for STS-B).
// Batches are cut to the longest example they hold, rounded up to a multiple of 16 tokens (fewer padded scores,
// same results: padding is masked). The training order is a seeded shuffle per epoch; evaluation runs the split
// in file order in batches of `evaluationBatchSize`.
import Basics
import Datasets
import Layers
import Models

/// Size and training-data settings of one encoder preset.
public struct EncoderPresetShape: Sendable {
    public var channels: Int
    public var heads: Int
    public var layers: Int
    public var ffHidden: Int
    /// Vocabulary cap (specials included); rarer words map to [UNK].
    public var vocabularyLimit: Int
    /// Sequence length for single-sentence tasks and for pair tasks.
    public var singleLength: Int
    public var pairLength: Int
    /// Training examples used per epoch (first N of a seeded shuffle of the train split); nil = all.
    public var trainingSubset: Int?
    public var dropout: Float
    /// ALBERT: factorised embedding width (nil = BERT) and one layer shared across the depth.
    public var embeddingSize: Int?
    public var sharedLayers: Bool

    public init(channels: Int, heads: Int, layers: Int, ffHidden: Int, vocabularyLimit: Int = 8000,
                singleLength: Int = 64, pairLength: Int = 128, trainingSubset: Int? = nil, dropout: Float = 0.1,
                embeddingSize: Int? = nil, sharedLayers: Bool = false) {
        self.channels = channels; self.heads = heads; self.layers = layers; self.ffHidden = ffHidden
        self.vocabularyLimit = vocabularyLimit; self.singleLength = singleLength; self.pairLength = pairLength
        self.trainingSubset = trainingSubset; self.dropout = dropout
        self.embeddingSize = embeddingSize; self.sharedLayers = sharedLayers
    }
}

public final class GlueEncoderTask: DistillingPruningTask {
    public let presetName: String
    public let task: TaskDescription
    public let classifier: BertClassifier
    public let batchSize: Int
    public let evaluationBatchSize = 64
    public let seed: UInt64
    let train: EncodedSentences, validation: EncodedSentences, test: EncodedSentences
    let trainRows: [Int]
    private var epochOrder: (epoch: Int, rows: [Int])?
    private var teacher: DistillationTeacher?

    public var parameters: ParameterSet { classifier.parameters }
    public var model: any AttentionPrunable { classifier }
    public var batchesPerEpoch: Int { trainRows.count / batchSize }
    /// Training examples per epoch.
    public var trainingExamples: Int { trainRows.count }
    public var modelMetadata: [String: String] { classifier.metadata }

    /// Dropout is the only randomness in training mode.
    public func reseedTrainingNoise(_ seed: UInt64) {
        classifier.dropoutGenerator = SeededGenerator(seed: seed ^ 0xD50F_0A7E)
    }

    public init(presetName: String, shape: EncoderPresetShape, taskName: String, dataDirectory: DataDirectory,
                seed: UInt64, batchSize: Int) throws {
        let loaded = try TaskCatalog.load(taskName, from: dataDirectory)
        guard case .sentences(let splits) = loaded.data, taskName.hasPrefix("glue/") else {
            throw UsageError("model \(presetName) runs on GLUE tasks (glue/sst2, glue/cola, glue/mrpc, glue/stsb, glue/rte); got \(taskName)")
        }
        self.presetName = presetName
        self.task = loaded.description
        self.batchSize = batchSize
        self.seed = seed
        let isPair = splits.train.first?.textB != nil
        let length = isPair ? shape.pairLength : shape.singleLength
        let encoder = WordSentenceEncoder.build(training: splits.train, maximumSize: shape.vocabularyLimit)
        train = encoder.encode(splits.train, maximumLength: length)
        validation = encoder.encode(splits.validation, maximumLength: length)
        test = encoder.encode(splits.test, maximumLength: length)
        var rows = Array(0..<splits.train.count)
        if let subset = shape.trainingSubset, subset < rows.count {
            var rng = SeededGenerator(key: SHA256.hexDigest(Array("leopard-subset:\(taskName)".utf8)))
            rng.shuffle(&rows)
            rows = Array(rows.prefix(subset)).sorted()
        }
        trainRows = rows
        guard rows.count >= batchSize else {
            throw InputError(file: dataDirectory.filePath("glue"), place: taskName,
                             problem: "\(rows.count) training examples; expected at least one batch of \(batchSize)")
        }
        let config = BertConfig(vocabulary: encoder.vocabulary.count, maxTime: length, channels: shape.channels,
                                heads: shape.heads, layers: shape.layers, ffHidden: shape.ffHidden,
                                classes: loaded.description.kind == .regression ? 1 : max(2, loaded.classNames.count),
                                dropout: shape.dropout, embeddingSize: shape.embeddingSize, sharedLayers: shape.sharedLayers)
        classifier = BertClassifier(config: config, seed: seed)
    }

    /// Rows of `data` as a batch cut to its longest example (rounded up to 16 tokens).
    func batch(_ data: EncodedSentences, rows: ArraySlice<Int>) -> TokenBatch {
        let full = data.ids.sequenceLength
        let longest = rows.map { Int(data.ids.lengths[$0]) }.max() ?? 1
        let time = min(full, max(16, (longest + 15) / 16 * 16))
        var tokens: [Int32] = []
        tokens.reserveCapacity(rows.count * time)
        for r in rows { tokens += data.ids.ids[(r * full)..<(r * full + time)] }
        return TokenBatch(batch: rows.count, time: time, tokens: tokens,
                          lengths: rows.map { data.ids.lengths[$0] },
                          labels: task.kind == .regression ? [] : rows.map { data.labels[$0] },
                          targets: task.kind == .regression ? rows.map { data.targets[$0] } : [])
    }

    private func order(epoch: Int) -> [Int] {
        if let cached = epochOrder, cached.epoch == epoch { return cached.rows }
        var rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch) &+ 1)
        var rows = trainRows
        rng.shuffle(&rows)
        epochOrder = (epoch, rows)
        return rows
    }

    public func accumulateGradients(batch index: Int, epoch: Int) -> Double {
        precondition(index >= 0 && index < batchesPerEpoch, "batch \(index) of \(batchesPerEpoch)")
        let rows = order(epoch: epoch)[(index * batchSize)..<((index + 1) * batchSize)]
        var input = batch(train, rows: rows)
        if let teacher { input = teacher.distilled(input) }
        let loss = classifier.forward(input, training: true)
        classifier.backward(lossScale: 1)
        return loss
    }

    public func distill(weight: Double?, hiddenWeight: Double?) {
        teacher = weight.map { DistillationTeacher(copying: classifier, weight: $0, hiddenWeight: hiddenWeight) }
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

    public func evaluateWithOutcomes(_ split: EvaluationSplit, limit: Int?) throws -> (metric: Double, outcomes: ExampleOutcomes?) {
        let r = SentenceClassification.evaluateWithOutcomes(classifier, task: task, data: data(split), limit: limit,
                                                            batchSize: evaluationBatchSize, batch: batch)
        return (r.metric, r.outcomes)
    }

    public func captureAttention(examples: Int) throws -> [AttentionRecorder.Record] {
        SentenceClassification.captureAttention(classifier, test: test, examples: examples, batch: batch)
    }
}
