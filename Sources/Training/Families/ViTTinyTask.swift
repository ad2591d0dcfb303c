// The vit-tiny preset on `fashion-mnist` as a PruningTask: 28×28 grey images cut into 7×7 patches (16 tokens +
// CLS = 17), pixels normalised with the Fashion-MNIST training mean and standard deviation
// ((x/255 − 0.2860) / 0.3530). Training uses the first `trainingImages` images of the train split (all 55,000
// by default), shuffled per epoch. Metric: accuracy (fraction).
import Basics
import Datasets
import Layers
import Models
import Tensors

public struct ViTTinySettings: Sendable, Equatable {
    public var patch: Int
    public var channels: Int
    public var heads: Int
    public var layers: Int
    public var ffHidden: Int
    public var batchSize: Int
    public var evaluationBatchSize: Int
    /// Images of the train split used for training (nil = all).
    public var trainingImages: Int?

    public init(patch: Int = 7, channels: Int = 64, heads: Int = 4, layers: Int = 2, ffHidden: Int = 128,
                batchSize: Int = 64, evaluationBatchSize: Int = 250, trainingImages: Int? = nil) {
        self.patch = patch; self.channels = channels; self.heads = heads; self.layers = layers; self.ffHidden = ffHidden
        self.batchSize = batchSize; self.evaluationBatchSize = evaluationBatchSize; self.trainingImages = trainingImages
    }

    public static let recipe = FamilyRecipe(epochs: 8, learningRate: 2e-3, warmupSteps: 100, weightDecay: 0.05, clipNorm: 1)

    static let pixelMean: Float = 0.2860, pixelStd: Float = 0.3530
}

public final class ViTTinyTask: ArgmaxPredictingTask {
    public let presetName = "vit-tiny"
    public let task: TaskDescription
    public let settings: ViTTinySettings
    public let network: VisionTransformer
    let train, validation, test: ImageSet
    private let order: EpochOrder

    public var parameters: ParameterSet { network.parameters }
    public var model: any AttentionPrunable { network }
    public var batchesPerEpoch: Int { order.batchesPerEpoch }
    public var splitSizes: (train: Int, validation: Int, test: Int) { (train.count, validation.count, test.count) }
    public var trainingExamples: Int { train.count }
    public var modelMetadata: [String: String] { network.metadata }

    public init(loaded: LoadedTask, settings: ViTTinySettings = ViTTinySettings(), seed: UInt64) {
        guard case .images(let splits) = loaded.data else { preconditionFailure("\(loaded.name) is not an image task") }
        task = loaded.description
        self.settings = settings
        train = settings.trainingImages.map { n in splits.train.selecting(Array(0..<min(n, splits.train.count))) } ?? splits.train
        validation = splits.validation
        test = splits.test
        precondition(train.rows == train.columns, "square images expected")
        network = VisionTransformer(config: ViTConfig(imageSize: train.rows, patch: settings.patch, channels: settings.channels,
                                                      heads: settings.heads, layers: settings.layers, ffHidden: settings.ffHidden,
                                                      classes: loaded.classNames.count),
                                    seed: seed)
        order = EpochOrder(count: train.count, batchSize: settings.batchSize, seed: seed)
    }

    private func batch(_ images: ImageSet, _ indices: some Collection<Int>) -> ImageBatch {
        let n = images.pixelsPerImage
        let scale = 1 / (255 * ViTTinySettings.pixelStd), shift = ViTTinySettings.pixelMean / ViTTinySettings.pixelStd
        var pixels: [Float] = []
        pixels.reserveCapacity(indices.count * n)
        for i in indices {
            for byte in images.pixels[(i * n)..<((i + 1) * n)] { pixels.append(Float(byte) * scale - shift) }
        }
        return ImageBatch(batch: indices.count, pixels: pixels, labels: indices.map { Int32(images.labels[$0]) })
    }

    public func accumulateGradients(batch index: Int, epoch: Int) -> Double {
        let loss = network.forward(batch(train, order.indices(batch: index, epoch: epoch)), training: true)
        network.backward(lossScale: 1)
        return loss
    }

    /// Arg-max classes and labels of the first `limit` images of a split (inference mode).
    public func predictions(_ which: EvaluationSplit, limit: Int?) -> (predicted: [Int32], labels: [Int32]) {
        let data = which == .validation ? validation : test
        let count = min(limit ?? data.count, data.count)
        var predictions: [Int32] = []
        predictions.reserveCapacity(count)
        for range in chunks(count: count, size: settings.evaluationBatchSize) {
            network.forward(batch(data, range), training: false)
            predictions += argmaxRows(network.logits, columns: network.config.classes)
        }
        return (predictions, data.labels.prefix(count).map { Int32($0) })
    }

    public func captureAttention(examples: Int) throws -> [AttentionRecorder.Record] {
        let recorder = AttentionRecorder()
        network.attentionRecorder = recorder
        defer { network.attentionRecorder = nil }
        for range in chunks(count: min(examples, test.count), size: settings.evaluationBatchSize) {
            network.forward(batch(test, range), training: false)
        }
        return recorder.records
    }
}

/// `vit-tiny` on `fashion-mnist`.
public func makeViTTinyTask(task name: String, dataDirectory: DataDirectory, seed: UInt64,
                            settings: ViTTinySettings = ViTTinySettings()) throws -> any PruningTask {
    let loaded = try TaskCatalog.load(name, from: dataDirectory)
    guard case .images = loaded.data else { throw UsageError("vit-tiny runs on fashion-mnist, not \(name)") }
    return ViTTinyTask(loaded: loaded, settings: settings, seed: seed)
}
