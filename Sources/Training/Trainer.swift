// The training step: zero gradients, forward/backward over k micro-batches (gradient accumulation: each loss is
// scaled by 1/k, so k micro-batches of size b give the gradient of one batch of size k·b), divergence check,
// clipping, schedule, optimiser. Deterministic: the same seed, data and settings give bit-identical parameters
// (all reductions run in a fixed order; BLAS results do not depend on timing for a fixed thread count).
import Basics
import Models
import Tensors

/// A training run diverged: a NaN or ±∞ appeared in the loss or in a named tensor at a given step.
public struct TrainingDivergedError: LeopardError, Equatable {
    public let step: Int
    /// `loss` or a parameter name.
    public let tensor: String
    public let detail: String
    public var message: String { "training diverged at step \(step): non-finite \(detail) in \(tensor)" }
}

public struct TrainerSettings: Sendable {
    public var schedule: LearningRateSchedule
    /// nil = no clipping.
    public var clipNorm: Double?
    public init(schedule: LearningRateSchedule, clipNorm: Double? = 1.0) {
        self.schedule = schedule; self.clipNorm = clipNorm
    }
}

public struct StepResult: Sendable {
    public let step: Int
    public let loss: Double
    public let gradientNorm: Double
    public let learningRate: Float
}

public final class Trainer<M: TrainableModel> {
    public let model: M
    public let optimizer: any Optimizer
    public var settings: TrainerSettings
    public private(set) var step = 0

    public init(model: M, optimizer: any Optimizer, settings: TrainerSettings) {
        self.model = model; self.optimizer = optimizer; self.settings = settings
    }

    /// One optimiser step over `microBatches` (gradient accumulation when more than one). Throws
    /// `TrainingDivergedError` (and leaves the parameters untouched) when the loss or a gradient is not finite.
    @discardableResult
    public func trainStep(_ microBatches: [M.Batch]) throws -> StepResult {
        precondition(!microBatches.isEmpty, "a training step needs at least one batch")
        let p = model.parameters
        p.zeroGradients()
        let scale = 1 / Float(microBatches.count)
        var loss = 0.0
        for batch in microBatches {
            let l = model.forward(batch, training: true)
            if !l.isFinite { throw TrainingDivergedError(step: step, tensor: "loss", detail: "value \(l)") }
            loss += l / Double(microBatches.count)
            model.backward(lossScale: scale)
        }
        let norm = GradientClipping.globalNorm(p)
        if !norm.isFinite {
            let culprit = p.firstNonFinite()
            throw TrainingDivergedError(step: step, tensor: culprit?.name ?? "gradients",
                                        detail: culprit?.inGradient == false ? "value" : "gradient")
        }
        if let maxNorm = settings.clipNorm, norm > maxNorm {
            let f = Float(maxNorm / (norm + 1e-6)), g = p.gradients.pointer
            Compute.forRanges(count: p.gradients.count, minimumPerChunk: 1 << 16) { r in for i in r { g[i] *= f } }
        }
        let lr = settings.schedule.rate(at: step)
        optimizer.step(p, learningRate: lr)
        let result = StepResult(step: step, loss: loss, gradientNorm: norm, learningRate: lr)
        step += 1
        return result
    }

    @discardableResult
    public func trainStep(_ batch: M.Batch) throws -> StepResult { try trainStep([batch]) }
}
