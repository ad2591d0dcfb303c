// The gpt2-tiny preset on the language-model tasks (`ptb`, word level; `shakespeare`, character level) as a
// PruningTask. Data: non-overlapping windows of `sequenceLength` tokens with next-token targets
// (`TokenCorpus.windows`); training uses the first `trainingWindows` windows of the train stream (a contiguous
// prefix, so a run is cheap and reproducible), shuffled per epoch. Metric: perplexity = exp(mean NLL per token)
// over the evaluated windows — lower is better (`TaskDescription.higherIsBetter` is false for perplexity).
import Basics
import Datasets
import Layers
import Models
import Tensors

public struct GPT2TinySettings: Sendable, Equatable {
    public var channels: Int
    public var heads: Int
    public var layers: Int
    public var ffHidden: Int
    public var sequenceLength: Int
    public var batchSize: Int
    /// Windows of the train stream used for training (nil = all).
    public var trainingWindows: Int?

    public init(channels: Int = 128, heads: Int = 4, layers: Int = 2, ffHidden: Int = 512, sequenceLength: Int = 64,
                batchSize: Int = 16, trainingWindows: Int? = nil) {
        self.channels = channels; self.heads = heads; self.layers = layers; self.ffHidden = ffHidden
        self.sequenceLength = sequenceLength; self.batchSize = batchSize; self.trainingWindows = trainingWindows
    }

    /// The preset per task (documented in docs/results-families.md). PTB's 10,000-word tied output layer
    /// dominates the cost, so its model is narrower; Shakespeare's ~80 characters cost nothing at the output.
    public static func preset(for task: String) -> GPT2TinySettings {
        task == "ptb" ? GPT2TinySettings(channels: 64, heads: 4, layers: 2, ffHidden: 256, batchSize: 16, trainingWindows: 8_000)
                      : GPT2TinySettings(channels: 128, heads: 4, layers: 2, ffHidden: 512, batchSize: 32, trainingWindows: 16_000)
    }

    public static func recipe(for task: String) -> FamilyRecipe {
        FamilyRecipe(epochs: 1, learningRate: 3e-3, warmupSteps: 50, weightDecay: 0.01, clipNorm: 1)
    }
}

public final class GPT2TinyTask: PruningTask {
    public let presetName = "gpt2-tiny"
    public let task: TaskDescription
    public let settings: GPT2TinySettings
    public let network: CausalDecoder
    let train, validation, test: LanguageModelWindows
    private let order: EpochOrder

    public var parameters: ParameterSet { network.parameters }
    public var model: any AttentionPrunable { network }
    public var batchesPerEpoch: Int { order.batchesPerEpoch }
    /// Windows per split (train = the subset in use).
    public var splitSizes: (train: Int, validation: Int, test: Int) { (train.count, validation.count, test.count) }
    /// Windows of `sequenceLength` tokens in the training subset.
    public var trainingExamples: Int { train.count }
    public var modelMetadata: [String: String] { network.metadata }

    public init(loaded: LoadedTask, settings: GPT2TinySettings, seed: UInt64) {
        guard case .languageModel(let corpus) = loaded.data else { preconditionFailure("\(loaded.name) is not a language-model task") }
        task = loaded.description
        self.settings = settings
        let l = settings.sequenceLength
        let trainStream = settings.trainingWindows.map { Array(corpus.train.prefix($0 * l + 1)) } ?? corpus.train
        train = TokenCorpus.windows(trainStream, sequenceLength: l)
        validation = TokenCorpus.windows(corpus.validation, sequenceLength: l)
        test = TokenCorpus.windows(corpus.test, sequenceLength: l)
        network = CausalDecoder(config: DecoderConfig(vocabulary: corpus.vocabularySize, maxTime: l, channels: settings.channels,
                                                      heads: settings.heads, layers: settings.layers, ffHidden: settings.ffHidden),
                                seed: seed)
        order = EpochOrder(count: train.count, batchSize: settings.batchSize, seed: seed)
    }

    private func batch(_ w: LanguageModelWindows, _ indices: some Collection<Int>) -> SequenceBatch {
        let l = w.sequenceLength
        var inputs: [Int32] = [], targets: [Int32] = []
        inputs.reserveCapacity(indices.count * l); targets.reserveCapacity(indices.count * l)
        for i in indices {
            inputs.append(contentsOf: w.inputs[(i * l)..<((i + 1) * l)])
            targets.append(contentsOf: w.targets[(i * l)..<((i + 1) * l)])
        }
        return SequenceBatch(batch: indices.count, time: l, inputs: inputs, targets: targets)
    }

    public func accumulateGradients(batch index: Int, epoch: Int) -> Double {
        let loss = network.forward(batch(train, order.indices(batch: index, epoch: epoch)), training: true)
        network.backward(lossScale: 1)
        return loss
    }

    /// Perplexity over the first `limit` windows (nil = all) of the split.
    public func evaluate(_ which: EvaluationSplit, limit: Int?) throws -> Double {
        try evaluateWithOutcomes(which, limit: limit).metric
    }

    /// Perplexity, and each window's summed next-token loss for the paired bootstrap (`PairedLoss`).
    public func evaluateWithOutcomes(_ which: EvaluationSplit, limit: Int?) throws -> (metric: Double, outcomes: ExampleOutcomes?) {
        let data = which == .validation ? validation : test
        let count = min(limit ?? data.count, data.count)
        precondition(count > 0, "no windows to evaluate")
        let l = data.sequenceLength
        var total = 0.0
        var windowLosses: [Double] = []
        windowLosses.reserveCapacity(count)
        for range in chunks(count: count, size: settings.batchSize) {
            network.forward(batch(data, range), training: false)
            total += network.taskLoss * Double(range.count)
            let rows = network.rowLosses
            for w in 0..<range.count { windowLosses.append(rows[(w * l)..<((w + 1) * l)].reduce(0, +)) }
        }
        let metric = task.score(meanNegativeLogLikelihood: total / Double(count))[task.metric] ?? .infinity
        return (metric, .windows(negativeLogLikelihood: windowLosses, tokens: Array(repeating: l, count: count)))
    }

    public func captureAttention(examples: Int) throws -> [AttentionRecorder.Record] {
        let recorder = AttentionRecorder()
        network.attentionRecorder = recorder
        defer { network.attentionRecorder = nil }
        for range in chunks(count: min(examples, test.count), size: settings.batchSize) {
            network.forward(batch(test, range), training: false)
        }
        return recorder.records
    }
}

/// `gpt2-tiny` on `ptb` or `shakespeare`.
public func makeGPT2TinyTask(task name: String, dataDirectory: DataDirectory, seed: UInt64,
                             settings: GPT2TinySettings? = nil) throws -> any PruningTask {
    let loaded = try TaskCatalog.load(name, from: dataDirectory)
    guard case .languageModel = loaded.data else {
        throw UsageError("gpt2-tiny runs on the language-model tasks ptb and shakespeare, not \(name)")
    }
    return GPT2TinyTask(loaded: loaded, settings: settings ?? .preset(for: name), seed: seed)
}
