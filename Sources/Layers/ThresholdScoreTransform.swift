// Learned runtime pruning of attention scores (DESIGN.md §1): one threshold Th per layer (or per head) applied to
// the scaled scores x = q·k/√d of the VALID (unmasked) pairs.
//
// Training (soft surrogate, our reconstruction), with u = s·(x − Th):
//   y = x·tanh(u)      for x ≥ Th          ∂y/∂x = tanh(u) + x·s·sech²(u)    ∂y/∂Th = −x·s·sech²(u)
//   y = c·tanh(u)      for x <  Th          ∂y/∂x = c·s·sech²(u)              ∂y/∂Th = −c·s·sech²(u)
// Both branches are 0 at x = Th (continuous); as s → ∞ the surrogate tends to the hard rule (x kept, −c pruned).
// Regulariser of this layer: R = (1/N) Σ_valid σ(u), N = valid pairs of the layer (all heads): the soft kept
// fraction, a differentiable stand-in for the surviving-score count. The transform adds w·R to the loss with
// w = `regularizerWeight`; the protocol sets w = λ/L for L layers, so the model's total is λ·mean_ℓ R_ℓ. With
// `thresholdRegularizerWeights` (the prune-rate controller's λ per head) the term is Σ_h w_h·R_h, R_h = (soft kept
// pairs of head h)/N, and each head's pairs take its own w_h in the gradients below.
//   ∂(wR)/∂x = w·s·σ(u)(1 − σ(u))/N      ∂(wR)/∂Th = −w·s·σ(u)(1 − σ(u))/N
// Inference (hard rule): y = x if x ≥ Th, else `prunedScore` (−1e9: exp(−1e9 − max) underflows to exactly 0, so a
// pruned score is out of the softmax). A row whose valid scores are ALL pruned attends to nothing: Attention gives
// it zero probabilities and a zero output (as the hardware, which reads no V row), not a uniform softmax.
// Valid pairs: query row i < length[b] (a padding query's output is never used) and key j in the row's valid
// prefix (no padding, no future keys). Padding query rows pass through unchanged (y = x, dx = dy) and are left out
// of R and of the counters. Prune counters accumulate over inference forwards until `resetCounters()`.
import Foundation
import Tensors

/// What the score transforms of a model counted during inference forwards.
public struct PruneCounts: Sendable, Equatable {
    public var validPairs: Int = 0
    public var prunedPairs: Int = 0
    /// (head, query) rows with at least one valid key, and those of them whose valid keys were ALL pruned (an empty row
    /// attends to nothing and outputs zero). Counted by the threshold transform; 0 where not counted.
    public var rows: Int = 0
    public var emptyRows: Int = 0
    public init(validPairs: Int = 0, prunedPairs: Int = 0, rows: Int = 0, emptyRows: Int = 0) {
        self.validPairs = validPairs; self.prunedPairs = prunedPairs; self.rows = rows; self.emptyRows = emptyRows
    }
    public var pruneRate: Double { validPairs == 0 ? 0 : Double(prunedPairs) / Double(validPairs) }
    /// Fraction of counted query rows left empty by the hard rule.
    public var emptyRowRate: Double { rows == 0 ? 0 : Double(emptyRows) / Double(rows) }
    public static func + (a: PruneCounts, b: PruneCounts) -> PruneCounts {
        PruneCounts(validPairs: a.validPairs + b.validPairs, prunedPairs: a.prunedPairs + b.prunedPairs,
                    rows: a.rows + b.rows, emptyRows: a.emptyRows + b.emptyRows)
    }
}

/// Transforms that count pruned valid pairs in inference forwards.
public protocol PruneCounting: AnyObject {
    var counts: PruneCounts { get }
    func resetCounters()
}

/// The training surrogate of the hard rule (inference is the hard rule for both).
public enum ThresholdSurrogate: String, Sendable, CaseIterable {
    /// y = x·tanh(u) for x ≥ Th, c·tanh(u) for x < Th (the default; DESIGN.md §1).
    case tanh
    /// y = x + log σ(u): the softmax weight of a score is multiplied by σ(u), a soft keep-gate. Kept scores far above
    /// Th are unchanged (log σ → 0) and pruned ones go to −∞, so it tends to the hard rule as s → ∞ like the tanh
    /// form, without rescaling kept scores near the threshold. ∂y/∂x = 1 + s·(1 − σ(u)), ∂y/∂Th = −s·(1 − σ(u)).
    case logSigmoid = "log-sigmoid"
}

public final class ThresholdScoreTransform: ScoreTransform, PruneCounting {
    /// The score a pruned pair gets in the hard rule (excluded from the softmax).
    public static let prunedScore: Float = -1e9

    /// One threshold (per layer) or one per head.
    public var thresholds: [Float] {
        didSet {
            // A replacement of another length (per layer ↔ per head) restarts everything kept per threshold.
            if thresholds.count != oldValue.count {
                precondition(!thresholds.isEmpty, "at least one threshold")
                thresholdGradients = Array(repeating: 0, count: thresholds.count)
                thresholdCounts = Array(repeating: PruneCounts(), count: thresholds.count)
                lastTrainingThresholdCounts = thresholdCounts
                lastSoftKeptByThreshold = []
                if thresholdRegularizerWeights?.count != thresholds.count { thresholdRegularizerWeights = nil }
            }
        }
    }
    /// dL/dTh accumulated by `backward` (zero it per step with `zeroGradients`).
    public private(set) var thresholdGradients: [Double]
    /// s: steepness of the surrogate and of the regulariser's sigmoid.
    public let steepness: Float
    /// c: magnitude of the surrogate's pruned branch (tanh surrogate only).
    public let prunedMagnitude: Float
    public let surrogate: ThresholdSurrogate
    /// w in w·R (the protocol uses λ / layer count); 0 disables the regulariser.
    public var regularizerWeight: Double
    /// Per-threshold weights w_h (one per head with per-head thresholds): the regulariser is then Σ_h w_h·R_h with
    /// R_h = (soft kept pairs of head h) / N. nil: `regularizerWeight` for every threshold. The prune-rate
    /// controller sets them when it steers each head separately.
    public var thresholdRegularizerWeights: [Double]?
    public private(set) var counts = PruneCounts()
    /// `counts` per threshold (one entry per head with per-head thresholds, else one for the layer).
    public private(set) var thresholdCounts: [PruneCounts]
    /// R of the last training forward (unweighted soft kept fraction).
    public private(set) var lastSoftKeptFraction: Double = 0
    /// Valid and hard-rule-pruned pairs (x < Th) of the last training forward: what the hard rule would have pruned
    /// on that minibatch. The prune-rate controller (PruningProtocol) steers λ with it.
    public private(set) var lastTrainingCounts = PruneCounts()
    /// `lastTrainingCounts` per threshold.
    public private(set) var lastTrainingThresholdCounts: [PruneCounts]
    private var lastValidPairs = 0
    /// Soft kept pairs per threshold of the last training forward.
    private var lastSoftKeptByThreshold: [Double] = []

    /// s when none is given (DESIGN.md §1).
    public static let defaultSteepness: Float = 10

    public init(thresholds: [Float], steepness: Float = defaultSteepness, prunedMagnitude: Float = 1000, regularizerWeight: Double = 0,
                surrogate: ThresholdSurrogate = .tanh) {
        self.surrogate = surrogate
        precondition(!thresholds.isEmpty, "at least one threshold")
        precondition(steepness > 0 && prunedMagnitude > 0)
        self.thresholds = thresholds
        self.thresholdGradients = Array(repeating: 0, count: thresholds.count)
        self.thresholdCounts = Array(repeating: PruneCounts(), count: thresholds.count)
        self.lastTrainingThresholdCounts = thresholdCounts
        self.steepness = steepness
        self.prunedMagnitude = prunedMagnitude
        self.regularizerWeight = regularizerWeight
    }

    public var regularizerLoss: Double {
        guard let weights = thresholdRegularizerWeights, weights.count == lastSoftKeptByThreshold.count, lastValidPairs > 0 else {
            return regularizerWeight * lastSoftKeptFraction
        }
        return zip(weights, lastSoftKeptByThreshold).reduce(0) { $0 + $1.0 * $1.1 } / Double(lastValidPairs)
    }

    /// w_h of threshold `index`.
    @inline(__always) func regularizerWeight(threshold index: Int) -> Double {
        if let weights = thresholdRegularizerWeights, weights.count == thresholds.count { return weights[index] }
        return regularizerWeight
    }

    public func zeroGradients() { for i in thresholdGradients.indices { thresholdGradients[i] = 0 } }
    public func resetCounters() {
        counts = PruneCounts()
        thresholdCounts = Array(repeating: PruneCounts(), count: thresholds.count)
    }

    @inline(__always) func threshold(head h: Int) -> Float { thresholds.count == 1 ? thresholds[0] : thresholds[h] }

    private func checkHeads(_ shape: ScoreShape) {
        precondition(thresholds.count == 1 || thresholds.count == shape.heads,
                     "\(thresholds.count) thresholds for \(shape.heads) heads")
    }

    public func forward(scores x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, shape: ScoreShape,
                        mask: AttentionMask, training: Bool) {
        checkHeads(shape)
        let blocks = shape.batch * shape.heads, t = shape.queries, n = shape.keys
        let s = steepness, c = prunedMagnitude, logSigmoid = surrogate == .logSigmoid
        // Per-block partial sums, reduced in block order afterwards (deterministic whatever the thread count).
        var valid = [Int](repeating: 0, count: blocks), pruned = [Int](repeating: 0, count: blocks)
        var rowCounts = [Int](repeating: 0, count: 2 * blocks)  // rows with valid keys, empty rows (inference)
        var softKept = [Double](repeating: 0, count: blocks)
        valid.withUnsafeMutableBufferPointer { validOut in
        pruned.withUnsafeMutableBufferPointer { prunedOut in
        softKept.withUnsafeMutableBufferPointer { keptOut in
        rowCounts.withUnsafeMutableBufferPointer { rowsOut in
            Compute.forEach(chunks: blocks) { bh in
                let b = bh / shape.heads, h = bh % shape.heads
                let th = threshold(head: h)
                var validCount = 0, prunedCount = 0, kept = 0.0, rowCount = 0, emptyCount = 0
                for i in 0..<t {
                    let row = (bh * t + i) * n
                    if !mask.isValidQuery(batch: b, query: i) {
                        (y + row).update(from: x + row, count: n)
                        continue
                    }
                    let m = mask.validKeys(batch: b, query: i, keys: n)
                    validCount += m
                    if training {
                        var rowKept: Float = 0
                        for j in 0..<m {
                            let xv = x[row + j], u = s * (xv - th)
                            if logSigmoid {
                                // log σ(u) = −softplus(−u) = min(u, 0) − log(1 + e^−|u|)
                                y[row + j] = xv + min(u, 0) - log1p(FastMath.exp(-abs(u)))
                            } else {
                                let tu = FastMath.tanh(u)
                                y[row + j] = xv >= th ? xv * tu : c * tu
                            }
                            rowKept += 1 / (1 + FastMath.exp(-u))
                            if xv < th { prunedCount += 1 }
                        }
                        kept += Double(rowKept)
                    } else {
                        var rowPruned = 0
                        for j in 0..<m {
                            let xv = x[row + j]
                            if xv >= th { y[row + j] = xv } else { y[row + j] = Self.prunedScore; rowPruned += 1 }
                        }
                        prunedCount += rowPruned
                        if m > 0 { rowCount += 1; if rowPruned == m { emptyCount += 1 } }
                    }
                }
                validOut[bh] = validCount; prunedOut[bh] = prunedCount; keptOut[bh] = kept
                rowsOut[2 * bh] = rowCount; rowsOut[2 * bh + 1] = emptyCount
            }
        }
        }
        }
        }
        let validTotal = valid.reduce(0, +)
        if training {
            lastValidPairs = validTotal
            lastSoftKeptFraction = validTotal == 0 ? 0 : softKept.reduce(0, +) / Double(validTotal)
            lastTrainingCounts = PruneCounts(validPairs: validTotal, prunedPairs: pruned.reduce(0, +))
            var perThreshold = Array(repeating: PruneCounts(), count: thresholds.count)
            var keptByThreshold = Array(repeating: 0.0, count: thresholds.count)
            for bh in 0..<blocks {
                let index = thresholds.count == 1 ? 0 : bh % shape.heads
                perThreshold[index] = perThreshold[index] + PruneCounts(validPairs: valid[bh], prunedPairs: pruned[bh])
                keptByThreshold[index] += softKept[bh]
            }
            lastTrainingThresholdCounts = perThreshold
            lastSoftKeptByThreshold = keptByThreshold
        } else {
            lastSoftKeptFraction = 0
            lastSoftKeptByThreshold = []
            counts.validPairs += validTotal
            counts.prunedPairs += pruned.reduce(0, +)
            for bh in 0..<blocks {
                counts.rows += rowCounts[2 * bh]; counts.emptyRows += rowCounts[2 * bh + 1]
                let index = thresholds.count == 1 ? 0 : bh % shape.heads
                thresholdCounts[index] = thresholdCounts[index] + PruneCounts(validPairs: valid[bh], prunedPairs: pruned[bh],
                                                                              rows: rowCounts[2 * bh], emptyRows: rowCounts[2 * bh + 1])
            }
        }
    }

    /// Backward of the soft surrogate and of w·R (after a training forward on the same scores).
    public func backward(scores x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>,
                         gradScores dx: UnsafeMutablePointer<Float>, shape: ScoreShape, mask: AttentionMask) {
        checkHeads(shape)
        let blocks = shape.batch * shape.heads, t = shape.queries, n = shape.keys
        let s = steepness, c = prunedMagnitude, logSigmoid = surrogate == .logSigmoid
        // ∂(wR)/∂x per valid pair = w·s·σ(1−σ)/N.
        let regScales = thresholds.indices.map { index in
            lastValidPairs == 0 ? 0 : Float(regularizerWeight(threshold: index) / Double(lastValidPairs)) * s
        }
        var thGrad = [Double](repeating: 0, count: blocks)
        thGrad.withUnsafeMutableBufferPointer { thOut in
            Compute.forEach(chunks: blocks) { bh in
                let b = bh / shape.heads, h = bh % shape.heads
                let th = threshold(head: h)
                let regScale = regScales[thresholds.count == 1 ? 0 : h]
                var gTh = 0.0
                for i in 0..<t {
                    let row = (bh * t + i) * n
                    if !mask.isValidQuery(batch: b, query: i) {
                        if UnsafePointer(dx + row) != dy + row { (dx + row).update(from: dy + row, count: n) }
                        continue
                    }
                    let m = mask.validKeys(batch: b, query: i, keys: n)
                    var rowTh: Float = 0
                    for j in 0..<m {
                        let xv = x[row + j], g = dy[row + j], u = s * (xv - th)
                        let sig = 1 / (1 + FastMath.exp(-u)), dReg = regScale * sig * (1 - sig)
                        if logSigmoid {
                            // y = x + log σ(u): ∂y/∂x = 1 + s·(1 − σ(u)), ∂y/∂Th = −s·(1 − σ(u))
                            let gate = s * (1 - sig)
                            dx[row + j] = g * (1 + gate) + dReg
                            rowTh += -g * gate - dReg
                            continue
                        }
                        let tu = FastMath.tanh(u), sech2 = 1 - tu * tu
                        // y = x·tanh(u): ∂y/∂x = tanh(u) + x·s·sech²(u), ∂y/∂Th = −x·s·sech²(u)
                        // y = c·tanh(u): ∂y/∂x = c·s·sech²(u),           ∂y/∂Th = −c·s·sech²(u)
                        let a = xv >= th ? xv : c
                        let dydx = (xv >= th ? tu : 0) + a * s * sech2
                        dx[row + j] = g * dydx + dReg
                        rowTh += -g * a * s * sech2 - dReg
                    }
                    gTh += Double(rowTh)
                }
                thOut[bh] = gTh
            }
        }
        for bh in 0..<blocks {
            let index = thresholds.count == 1 ? 0 : bh % shape.heads
            thresholdGradients[index] += thGrad[bh]
        }
    }
}
