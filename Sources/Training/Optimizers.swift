// Training — optimisers, learning-rate schedules, gradient clipping and accumulation, divergence detection, and
// the training benchmark. Imports Models, Layers, Tensors, Basics; must not import anything hardware-side.
//
// Optimisers update a ParameterSet in place, tensor by tensor (so weight decay can skip norms and biases).
// AdamW follows PyTorch's `torch.optim.AdamW` exactly (decoupled decay applied before the Adam step):
//   θ ← θ·(1 − lr·wd);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
//   θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
import Models
import Tensors
#if canImport(Glibc)
import Glibc
#endif

public protocol Optimizer: AnyObject {
    /// One update with learning rate `lr` from the gradients currently in `parameters.gradients`.
    func step(_ parameters: ParameterSet, learningRate lr: Float)
}

public final class AdamW: Optimizer {
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public private(set) var stepCount = 0
    private var m: Tensor?, v: Tensor?

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay
    }

    public func step(_ parameters: ParameterSet, learningRate lr: Float) {
        if m == nil || m!.count != parameters.values.count {
            m = Tensor(shape: [parameters.values.count]); v = Tensor(shape: [parameters.values.count])
        }
        stepCount += 1
        let b1 = beta1, b2 = beta2, eps = epsilon
        let c1 = 1 - powf(b1, Float(stepCount)), c2 = 1 - powf(b2, Float(stepCount))
        let invSqrtC2 = 1 / c2.squareRoot()
        let mp = m!.pointer, vp = v!.pointer, theta = parameters.values.pointer, g = parameters.gradients.pointer
        // One parallel section for the whole update: each worker takes its share of every tensor.
        let entries = parameters.entries
        let parts = parameters.values.count >= 65536 ? Compute.threads : 1
        Compute.forEach(chunks: parts) { part in
            for e in entries {
                let lr = lr * e.learningRateScale
                let stepSize = lr / c1
                let decay: Float = e.decays ? 1 - lr * self.weightDecay : 1
                let lo = e.offset + part * e.count / parts, hi = e.offset + (part + 1) * e.count / parts
                for i in lo..<hi {
                    let gi = g[i]
                    let mi = b1 * mp[i] + (1 - b1) * gi
                    let vi = b2 * vp[i] + (1 - b2) * gi * gi
                    mp[i] = mi; vp[i] = vi
                    theta[i] = theta[i] * decay - stepSize * mi / (vi.squareRoot() * invSqrtC2 + eps)
                }
            }
        }
    }
}

/// SGD with optional momentum (PyTorch form: b ← μb + g; θ ← θ − lr·b) and decoupled weight decay.
public final class SGD: Optimizer {
    public let momentum: Float, weightDecay: Float
    private var buffer: Tensor?

    public init(momentum: Float = 0, weightDecay: Float = 0) {
        self.momentum = momentum; self.weightDecay = weightDecay
    }

    public func step(_ parameters: ParameterSet, learningRate lr: Float) {
        if momentum != 0, buffer == nil || buffer!.count != parameters.values.count {
            buffer = Tensor(shape: [parameters.values.count])
        }
        let theta = parameters.values.pointer, g = parameters.gradients.pointer
        for e in parameters.entries {
            let lr = lr * e.learningRateScale
            let decay: Float = e.decays ? 1 - lr * weightDecay : 1
            for j in 0..<e.count {
                let i = e.offset + j
                var d = g[i]
                if let b = buffer?.pointer { b[i] = momentum * b[i] + d; d = b[i] }
                theta[i] = theta[i] * decay - lr * d
            }
        }
    }
}

/// Learning rate at a step (0-based): linear warmup from 0 to `peak` over `warmupSteps`, then linear or cosine
/// decay to `minimum` at `totalSteps` (constant afterwards).
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Decay: String, Sendable { case constant, linear, cosine }
    public var peak: Float
    public var minimum: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay

    public init(peak: Float, minimum: Float = 0, warmupSteps: Int = 0, totalSteps: Int = 1, decay: Decay = .constant) {
        self.peak = peak; self.minimum = minimum; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps; self.decay = decay
    }

    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Float(step - warmupSteps) / Float(span))
        switch decay {
        case .constant: return peak
        case .linear: return minimum + (peak - minimum) * (1 - progress)
        case .cosine: return minimum + (peak - minimum) * 0.5 * (1 + cosf(Float.pi * progress))
        }
    }
}

public enum GradientClipping {
    /// The global L2 norm of all gradients (accumulated in Double; NaN/∞ if any gradient is).
    public static func globalNorm(_ parameters: ParameterSet) -> Double {
        let g = parameters.gradients.pointer
        // A fixed number of blocks (not one per thread): the sum, hence clipping, does not depend on the thread count.
        var parts = [Double](repeating: 0, count: 8)
        let n = parameters.gradients.count
        parts.withUnsafeMutableBufferPointer { out in
            let chunks = out.count
            Compute.forEach(chunks: chunks) { c in
                var s: Float = 0, total = 0.0
                var i = c * n / chunks
                let end = (c + 1) * n / chunks
                // Float partial sums over blocks of 1024 (vectorisable), folded into Double.
                while i < end {
                    let stop = min(end, i + 1024)
                    s = 0
                    for j in i..<stop { s += g[j] * g[j] }
                    total += Double(s)
                    i = stop
                }
                out[c] = total
            }
        }
        return parts.reduce(0, +).squareRoot()
    }

    /// Scales gradients so their global norm is at most `maxNorm` (PyTorch's clip_grad_norm_: factor
    /// maxNorm / (norm + 1e-6), applied only when it is < 1). Returns the norm before clipping.
    @discardableResult
    public static func clip(_ parameters: ParameterSet, maxNorm: Double) -> Double {
        let norm = globalNorm(parameters)
        let factor = maxNorm / (norm + 1e-6)
        if norm.isFinite && factor < 1 {
            let f = Float(factor), g = parameters.gradients.pointer
            for i in 0..<parameters.gradients.count { g[i] *= f }
        }
        return norm
    }
}
