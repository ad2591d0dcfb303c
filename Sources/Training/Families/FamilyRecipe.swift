// Pieces shared by the memn2n, gpt2-tiny and vit-tiny PruningTask adapters: the deterministic minibatch order,
// the dense-training recipe of each family, and a small dense-training loop (used by tests and by the
// measurements in docs/results-families.md; the learned-pruning protocol has its own loop).
import Basics
import Datasets
import Models
import Tensors

/// Minibatch order of one training set: each epoch is a fresh permutation drawn from (seed, epoch); an epoch has
/// ⌊count / batchSize⌋ full batches (the remainder, different every epoch, is left out so every batch has one shape).
final class EpochOrder {
    let count: Int
    let batchSize: Int
    let seed: UInt64
    private var cachedEpoch = -1
    private var permutation: [Int] = []

    init(count: Int, batchSize: Int, seed: UInt64) {
        precondition(batchSize >= 1 && count >= batchSize, "need at least one batch of \(batchSize) from \(count) examples")
        self.count = count; self.batchSize = batchSize; self.seed = seed
    }

    var batchesPerEpoch: Int { count / batchSize }

    /// Example indices of batch `index` of `epoch`.
    func indices(batch index: Int, epoch: Int) -> ArraySlice<Int> {
        precondition(index >= 0 && index < batchesPerEpoch, "batch \(index) outside 0..<\(batchesPerEpoch)")
        if epoch != cachedEpoch {
            var rng = SeededGenerator(seed: seed ^ (UInt64(epoch) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
            permutation = Array(0..<count)
            rng.shuffle(&permutation)
            cachedEpoch = epoch
        }
        return permutation[(index * batchSize)..<((index + 1) * batchSize)]
    }
}

/// Evaluation chunks: consecutive ranges of at most `size` examples covering 0..<count.
func chunks(count: Int, size: Int) -> [Range<Int>] {
    stride(from: 0, to: count, by: size).map { $0..<min(count, $0 + size) }
}

/// How a family's dense model is trained (AdamW with linear warmup and decay, gradient clipping).
public struct FamilyRecipe: Sendable, Equatable {
    public var epochs: Int
    public var learningRate: Float
    public var warmupSteps: Int
    public var weightDecay: Float
    public var clipNorm: Double?

    public init(epochs: Int, learningRate: Float, warmupSteps: Int = 0, weightDecay: Float = 0, clipNorm: Double? = 1) {
        self.epochs = epochs; self.learningRate = learningRate; self.warmupSteps = warmupSteps
        self.weightDecay = weightDecay; self.clipNorm = clipNorm
    }

    public func schedule(batchesPerEpoch: Int) -> LearningRateSchedule {
        LearningRateSchedule(peak: learningRate, minimum: learningRate * 0.05, warmupSteps: warmupSteps,
                             totalSteps: epochs * batchesPerEpoch, decay: .linear)
    }
}

public struct DenseTrainingResult: Sendable {
    public let epochs: Int
    public let steps: Int
    public let seconds: Double
    /// Mean training loss of each epoch.
    public let epochLosses: [Double]
}

public enum FamilyTraining {
    /// Trains `task`'s weights densely (no transforms expected) with `recipe`. `progress(epoch, meanLoss)` is
    /// called after every epoch. Throws `TrainingDivergedError` on a non-finite loss or gradient.
    public static func trainDense(_ task: any PruningTask, recipe: FamilyRecipe,
                                  progress: (Int, Double) -> Void = { _, _ in }) throws -> DenseTrainingResult {
        let p = task.parameters
        let optimizer = AdamW(weightDecay: recipe.weightDecay)
        let schedule = recipe.schedule(batchesPerEpoch: task.batchesPerEpoch)
        let start = TrainingBenchmark.monotonicSeconds()
        var step = 0
        var losses: [Double] = []
        for epoch in 0..<recipe.epochs {
            var total = 0.0
            for index in 0..<task.batchesPerEpoch {
                p.zeroGradients()
                let loss = task.accumulateGradients(batch: index, epoch: epoch)
                if !loss.isFinite { throw TrainingDivergedError(step: step, tensor: "loss", detail: "value \(loss)") }
                let norm = recipe.clipNorm.map { GradientClipping.clip(p, maxNorm: $0) } ?? GradientClipping.globalNorm(p)
                if !norm.isFinite {
                    let culprit = p.firstNonFinite()
                    throw TrainingDivergedError(step: step, tensor: culprit?.name ?? "gradients", detail: "gradient")
                }
                optimizer.step(p, learningRate: schedule.rate(at: step))
                total += loss
                step += 1
            }
            losses.append(total / Double(max(task.batchesPerEpoch, 1)))
            progress(epoch, losses.last!)
        }
        return DenseTrainingResult(epochs: recipe.epochs, steps: step, seconds: TrainingBenchmark.monotonicSeconds() - start, epochLosses: losses)
    }
}

/// The three family presets of this folder, by name: which tasks they run on, their dense recipe and factory.
/// (The learned-pruning `Presets` registry lists them with its own λ and threshold settings.)
public struct FamilyPreset: Sendable {
    public let name: String
    public let tasks: [String]
    public let recipe: @Sendable (String) -> FamilyRecipe
    public let make: @Sendable (String, DataDirectory, UInt64) throws -> any PruningTask

    public static let memn2n = FamilyPreset(
        name: "memn2n", tasks: Babi.taskNumbers.map { "babi/qa\($0)" }, recipe: { _ in MemN2NSettings.recipe },
        make: { try makeMemN2NTask(task: $0, dataDirectory: $1, seed: $2) })
    public static let gpt2Tiny = FamilyPreset(
        name: "gpt2-tiny", tasks: ["ptb", "shakespeare"], recipe: { GPT2TinySettings.recipe(for: $0) },
        make: { try makeGPT2TinyTask(task: $0, dataDirectory: $1, seed: $2) })
    public static let vitTiny = FamilyPreset(
        name: "vit-tiny", tasks: ["fashion-mnist"], recipe: { _ in ViTTinySettings.recipe },
        make: { try makeViTTinyTask(task: $0, dataDirectory: $1, seed: $2) })

    public static let all = [memn2n, gpt2Tiny, vitTiny]

    public static func named(_ name: String) throws -> FamilyPreset {
        guard let preset = all.first(where: { $0.name == name }) else {
            throw UsageError("unknown family preset \"\(name)\"; expected one of \(all.map(\.name).joined(separator: ", "))")
        }
        return preset
    }
}

/// What a dense run measured.
public struct DenseRunReport: Sendable {
    public let preset: String
    public let task: TaskDescription
    public let parameterCount: Int
    public let batchesPerEpoch: Int
    public let training: DenseTrainingResult
    public let validationMetric: Double
    public let testMetric: Double
    /// Seconds spent loading and encoding the data (not part of training time).
    public let loadSeconds: Double
    public let evaluationSeconds: Double
}

extension FamilyTraining {
    /// Loads `task`, trains `preset` densely with its recipe (`epochs` overrides), evaluates on validation and test.
    public static func denseRun(preset: FamilyPreset, task name: String, dataDirectory: DataDirectory, seed: UInt64,
                                epochs: Int? = nil, progress: (Int, Double) -> Void = { _, _ in }) throws -> DenseRunReport {
        guard preset.tasks.contains(name) else {
            throw UsageError("\(preset.name) does not run on \(name); its tasks: \(preset.tasks.joined(separator: ", "))")
        }
        let t0 = TrainingBenchmark.monotonicSeconds()
        let task = try preset.make(name, dataDirectory, seed)
        let t1 = TrainingBenchmark.monotonicSeconds()
        var recipe = preset.recipe(name)
        if let epochs { recipe.epochs = epochs }
        let training = try trainDense(task, recipe: recipe, progress: progress)
        let t2 = TrainingBenchmark.monotonicSeconds()
        let validation = try task.evaluate(.validation, limit: nil)
        let test = try task.evaluate(.test, limit: nil)
        return DenseRunReport(preset: preset.name, task: task.task, parameterCount: task.parameters.parameterCount,
                              batchesPerEpoch: task.batchesPerEpoch, training: training, validationMetric: validation,
                              testMetric: test, loadSeconds: t1 - t0, evaluationSeconds: TrainingBenchmark.monotonicSeconds() - t2)
    }
}

extension FamilyPreset {
    /// The registry entry (`Presets.all`) of this family: dense epochs, batch size and learning rate from the
    /// family's recipe (of its first task; the factory picks per-task sizes), pruning settings as given.
    /// The protocol trains with its own schedule (AdamW, 10% warmup, linear decay, clip 1, weight decay 0.01).
    /// `fineTuneLearningRate` nil = the registry's default (a tenth of the dense peak rate).
    public func preset(defaultLambda: Double, fineTuneEpochs: Int, fineTuneLearningRate: Double? = nil,
                       thresholdLearningRate: Double,
                       thresholdInitialisation: ThresholdInitialisation = .denseQuantile(0.1)) -> Preset {
        let recipe = self.recipe(tasks[0])
        let batchSize: Int
        switch name {
        case "memn2n": batchSize = MemN2NSettings().batchSize
        case "gpt2-tiny": batchSize = GPT2TinySettings.preset(for: tasks[0]).batchSize
        default: batchSize = ViTTinySettings().batchSize
        }
        return Preset(name: name, defaultLambda: defaultLambda, epochs: recipe.epochs, fineTuneEpochs: fineTuneEpochs,
                      batchSize: batchSize, learningRate: Double(recipe.learningRate),
                      fineTuneLearningRate: fineTuneLearningRate, thresholdLearningRate: thresholdLearningRate, thresholdInitialisation: thresholdInitialisation,
                      tasks: tasks, factory: make)
    }
}
