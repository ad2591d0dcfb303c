// The memn2n preset on the 20 bAbI 1k tasks (`babi/qa1` … `babi/qa20`) as a PruningTask.
// Encoding: the vocabulary is built from the training questions, their (last 50) memories AND the words of the
// training answers (the answer matrix is tied to the last output table, so answer words need embeddings; qa19's
// "n", "s", "e", "w" never occur in a story). Memories are stored most recent first — slot i holds the
// (i+1)-th most recent statement, so temporal row i means the same recency in every story (as the paper's T_A(i))
// and the valid memories stay a prefix (what the attention mask needs). Padding words become −1 (no embedding).
import Basics
import Datasets
import Layers
import Models
import Tensors

public struct MemN2NSettings: Sendable, Equatable {
    public var embedding: Int
    public var hops: Int
    public var memorySlots: Int
    public var batchSize: Int
    /// Examples per evaluation forward.
    public var evaluationBatchSize: Int

    /// Probability of inserting an empty memory before each memory in training batches (the paper's RN: 0.1).
    public var randomNoise: Double

    public init(embedding: Int = 32, hops: Int = 3, memorySlots: Int = 50, batchSize: Int = 32, evaluationBatchSize: Int = 200,
                randomNoise: Double = 0.1) {
        self.embedding = embedding; self.hops = hops; self.memorySlots = memorySlots; self.batchSize = batchSize
        self.evaluationBatchSize = evaluationBatchSize; self.randomNoise = randomNoise
    }

    /// Dense training: AdamW (no weight decay) at 0.01 with linear decay, global-norm clipping at 40 (the paper's).
    public static let recipe = FamilyRecipe(epochs: 60, learningRate: 0.01, warmupSteps: 0, weightDecay: 0.1, clipNorm: 40)
}

/// One split encoded for the network.
struct EncodedMemorySplit {
    let count: Int
    let memorySlots: Int
    let sentenceLength: Int
    /// [count, M, S], −1 = padding word; slot 0 = most recent memory.
    let memories: [Int32]
    let counts: [Int32]
    /// [count, S], −1 = padding.
    let questions: [Int32]
    /// Class ids; −1 for an answer never seen in training.
    let answers: [Int32]

    init(_ e: EncodedBabi) {
        count = e.count; memorySlots = e.memorySlots; sentenceLength = e.sentenceLength
        let m = e.memorySlots, s = e.sentenceLength
        var memories = [Int32](repeating: -1, count: e.memories.count)
        for q in 0..<e.count {
            let n = Int(e.memoryCounts[q])
            for slot in 0..<n {
                // The encoder keeps oldest first in slots 0..<n; reverse the valid prefix.
                let from = (q * m + slot) * s, to = (q * m + (n - 1 - slot)) * s
                for j in 0..<s { let w = e.memories[from + j]; memories[to + j] = w == 0 ? -1 : w }
            }
        }
        self.memories = memories
        counts = e.memoryCounts
        questions = e.questions.ids.map { $0 == 0 ? -1 : $0 }
        answers = e.answers
    }

    /// Rows `indices` as a batch; answers −1 (unseen in training) become the loss's ignore index. With a noise
    /// generator (training only), the paper's random noise (RN): before each memory, with probability
    /// `noise`, an empty memory (no words; its embedding is its temporal row alone) is inserted, which shifts the
    /// temporal indices of the older memories (the oldest fall off when the slots are full).
    func batch(_ indices: some Collection<Int>, noise: Double = 0, generator: inout SeededGenerator) -> MemoryBatch {
        let m = memorySlots, s = sentenceLength
        var mem = [Int32](repeating: -1, count: indices.count * m * s), cnt: [Int32] = [], qs: [Int32] = [], ans: [Int32] = []
        for (row, i) in indices.enumerated() {
            let n = Int(counts[i])
            var slot = 0
            for source in 0..<n where slot < m {
                if noise > 0, generator.nextUnit() < noise { slot += 1; if slot >= m { break } }
                let from = (i * m + source) * s, to = (row * m + slot) * s
                for j in 0..<s { mem[to + j] = memories[from + j] }
                slot += 1
            }
            cnt.append(Int32(slot))
            qs.append(contentsOf: questions[(i * s)..<((i + 1) * s)])
            ans.append(answers[i] < 0 ? CrossEntropy.defaultIgnoreIndex : answers[i])
        }
        return MemoryBatch(batch: indices.count, memories: mem, counts: cnt, questions: qs, answers: ans)
    }

    func batch(_ indices: some Collection<Int>) -> MemoryBatch {
        var unused = SeededGenerator(seed: 0)
        return batch(indices, noise: 0, generator: &unused)
    }
}

public final class MemN2NTask: ArgmaxPredictingTask {
    public let presetName = "memn2n"
    public let task: TaskDescription
    public let settings: MemN2NSettings
    public let network: MemoryNetwork
    let train, validation, test: EncodedMemorySplit
    private let order: EpochOrder
    private let seed: UInt64

    public var parameters: ParameterSet { network.parameters }
    public var model: any AttentionPrunable { network }
    public var batchesPerEpoch: Int { order.batchesPerEpoch }
    /// Examples per split (train, validation, test).
    public var splitSizes: (train: Int, validation: Int, test: Int) { (train.count, validation.count, test.count) }
    /// Training questions (random noise in training batches is seeded per (seed, epoch, batch), not stateful).
    public var trainingExamples: Int { train.count }
    public var modelMetadata: [String: String] { network.metadata }

    public init(loaded: LoadedTask, settings: MemN2NSettings = MemN2NSettings(), seed: UInt64) {
        guard case .questionAnswering(let splits) = loaded.data else { preconditionFailure("\(loaded.name) is not a bAbI task") }
        task = loaded.description
        self.settings = settings
        let tokenizer = WordTokenizer()
        // Sentence length and word counts over what the network reads; answer words added for the tied W.
        let sized = BabiEncoder.build(training: splits.train, memorySlots: settings.memorySlots, tokenizer: tokenizer)
        var counts: [String: Int] = [:]
        for q in splits.train {
            for w in tokenizer.tokenize(q.question) { counts[w, default: 0] += 1 }
            for memory in q.memories.suffix(settings.memorySlots) { for w in tokenizer.tokenize(memory) { counts[w, default: 0] += 1 } }
        }
        let answerWords = loaded.classNames.map { tokenizer.tokenize($0) }
        for words in answerWords { for w in words { counts[w, default: 0] += 1 } }
        let vocabulary = Vocabulary.build(counts: counts, specials: SpecialTokens.all, unknownToken: SpecialTokens.unknown,
                                          minimumFrequency: 1, maximumSize: nil)
        let encoder = BabiEncoder(tokenizer: tokenizer, vocabulary: vocabulary, memorySlots: settings.memorySlots,
                                  sentenceLength: sized.sentenceLength)
        train = EncodedMemorySplit(encoder.encode(splits.train, classNames: loaded.classNames))
        validation = EncodedMemorySplit(encoder.encode(splits.validation, classNames: loaded.classNames))
        test = EncodedMemorySplit(encoder.encode(splits.test, classNames: loaded.classNames))
        let answerLength = max(1, answerWords.map(\.count).max() ?? 1)
        var answerTokens = [Int32](repeating: -1, count: answerWords.count * answerLength)
        for (c, words) in answerWords.enumerated() {
            for (j, id) in vocabulary.encode(words).enumerated() { answerTokens[c * answerLength + j] = id }
        }
        let config = MemoryNetworkConfig(vocabulary: vocabulary.count, memorySlots: settings.memorySlots,
                                         sentenceLength: sized.sentenceLength, embedding: settings.embedding,
                                         hops: settings.hops, classes: loaded.classNames.count,
                                         answerTokens: answerTokens, answerLength: answerLength)
        network = MemoryNetwork(config: config, seed: seed)
        order = EpochOrder(count: train.count, batchSize: settings.batchSize, seed: seed)
        self.seed = seed
    }

    public func accumulateGradients(batch index: Int, epoch: Int) -> Double {
        var generator = SeededGenerator(seed: seed ^ UInt64(epoch &* 1_000_003 &+ index) &* 0xD1B5_4A32_D192_ED03)
        let batch = train.batch(order.indices(batch: index, epoch: epoch), noise: settings.randomNoise, generator: &generator)
        let loss = network.forward(batch, training: true)
        network.backward(lossScale: 1)
        return loss
    }

    private func split(_ s: EvaluationSplit) -> EncodedMemorySplit { s == .validation ? validation : test }

    /// Arg-max answers and true answers of the first `limit` questions of a split (inference mode); the metric is the
    /// accuracy (fraction) over them, answers unseen in training counting as wrong.
    public func predictions(_ which: EvaluationSplit, limit: Int?) -> (predicted: [Int32], labels: [Int32]) {
        let data = split(which)
        let count = min(limit ?? data.count, data.count)
        var predictions: [Int32] = []
        predictions.reserveCapacity(count)
        for range in chunks(count: count, size: settings.evaluationBatchSize) {
            network.forward(data.batch(range), training: false)
            predictions += argmaxRows(network.logits, columns: network.config.classes)
        }
        return (predictions, Array(data.answers.prefix(count)))
    }

    public func captureAttention(examples: Int) throws -> [AttentionRecorder.Record] {
        let recorder = AttentionRecorder()
        network.attentionRecorder = recorder
        defer { network.attentionRecorder = nil }
        for range in chunks(count: min(examples, test.count), size: settings.evaluationBatchSize) {
            network.forward(test.batch(range), training: false)
        }
        return recorder.records
    }
}

/// Index of the largest value of each row (first on ties).
func argmaxRows(_ values: [Float], columns: Int) -> [Int32] {
    stride(from: 0, to: values.count, by: columns).map { start in
        var best = start
        for j in start..<(start + columns) where values[j] > values[best] { best = j }
        return Int32(best - start)
    }
}

/// `memn2n` on `babi/qaN`: loads the task from the data directory.
public func makeMemN2NTask(task name: String, dataDirectory: DataDirectory, seed: UInt64,
                           settings: MemN2NSettings = MemN2NSettings()) throws -> any PruningTask {
    let loaded = try TaskCatalog.load(name, from: dataDirectory)
    guard case .questionAnswering = loaded.data else {
        throw UsageError("memn2n runs on the bAbI tasks babi/qa1 … babi/qa20, not \(name)")
    }
    return MemN2NTask(loaded: loaded, settings: settings, seed: seed)
}
