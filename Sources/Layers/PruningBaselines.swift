// Heuristic, inference-only pruning baselines on the same (dense) model (DESIGN.md §1), and a score sampler used
// to calibrate them:
//   TopKScoreTransform  — per query row keep the k largest valid scores (SpAtten-style), k = max(1, round(f·n))
//                         for a keep fraction f and n valid keys; ties broken towards the lower key index.
//   FixedThreshold      — the hard rule with a threshold calibrated on dense scores to reach a target prune rate
//                         (no fine-tuning): Th = the p-quantile of the layer's valid scores.
//   ScoreSampleTransform— identity that records (a deterministic subsample of) the valid scores it sees.
// All three see only valid pairs (see ThresholdScoreTransform.swift: padding query rows pass through untouched).
import Tensors

public final class TopKScoreTransform: ScoreTransform, PruneCounting {
    /// Fraction of each row's valid keys that is kept (0 < f ≤ 1).
    public let keepFraction: Double
    public private(set) var counts = PruneCounts()

    public init(keepFraction: Double) {
        precondition(keepFraction > 0 && keepFraction <= 1, "keep fraction must be in (0, 1]")
        self.keepFraction = keepFraction
    }

    public func resetCounters() { counts = PruneCounts() }
    public var regularizerLoss: Double { 0 }

    /// k for a row of n valid keys.
    public func keptKeys(valid n: Int) -> Int { n == 0 ? 0 : min(n, max(1, Int((keepFraction * Double(n)).rounded()))) }

    public func forward(scores x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, shape: ScoreShape,
                        mask: AttentionMask, training: Bool) {
        let t = shape.queries, n = shape.keys
        var valid = 0, pruned = 0
        var order = [Int](repeating: 0, count: n)
        for bh in 0..<(shape.batch * shape.heads) {
            let b = bh / shape.heads
            for i in 0..<t {
                let row = (bh * t + i) * n
                if !mask.isValidQuery(batch: b, query: i) { (y + row).update(from: x + row, count: n); continue }
                let m = mask.validKeys(batch: b, query: i, keys: n)
                let k = keptKeys(valid: m)
                valid += m; pruned += m - k
                for j in 0..<m { order[j] = j }
                // The k-th largest (value descending, index ascending) is the cut.
                order[0..<m].sort { x[row + $0] != x[row + $1] ? x[row + $0] > x[row + $1] : $0 < $1 }
                for j in 0..<m { y[row + j] = Self.prunedScore }
                for r in 0..<k { let j = order[r]; y[row + j] = x[row + j] }
            }
        }
        counts.validPairs += valid
        counts.prunedPairs += pruned
    }

    public func backward(scores x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>,
                         gradScores dx: UnsafeMutablePointer<Float>, shape: ScoreShape, mask: AttentionMask) {
        preconditionFailure("top-k is an inference-only baseline")
    }

    static let prunedScore = ThresholdScoreTransform.prunedScore
}

public enum FixedThreshold {
    /// The threshold that prunes (about) `pruneRate` of `samples`: the value at rank ⌊p·N⌋ of the sorted samples
    /// (everything strictly below it is pruned). p = 0 gives −∞ (nothing pruned).
    public static func calibrate(samples: [Float], pruneRate: Double) -> Float {
        precondition(pruneRate >= 0 && pruneRate <= 1)
        guard !samples.isEmpty, pruneRate > 0 else { return -.infinity }
        let sorted = samples.sorted()
        let rank = Int((pruneRate * Double(sorted.count)).rounded(.down))
        return rank >= sorted.count ? sorted[sorted.count - 1].nextUp : sorted[rank]
    }

    /// An inference transform with that threshold (a `ThresholdScoreTransform` never trained).
    public static func transform(threshold: Float) -> ThresholdScoreTransform {
        ThresholdScoreTransform(thresholds: [threshold])
    }
}

/// Identity on scores that records every `stride`-th valid score (in memory order) of each inference forward.
public final class ScoreSampleTransform: ScoreTransform {
    public let stride: Int
    public private(set) var samples: [Float] = []
    private var position = 0

    public init(stride: Int = 1) {
        precondition(stride >= 1)
        self.stride = stride
    }

    public var regularizerLoss: Double { 0 }

    public func forward(scores x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, shape: ScoreShape,
                        mask: AttentionMask, training: Bool) {
        y.update(from: x, count: shape.count)
        let t = shape.queries, n = shape.keys
        for bh in 0..<(shape.batch * shape.heads) {
            let b = bh / shape.heads
            for i in 0..<t {
                let row = (bh * t + i) * n
                guard mask.isValidQuery(batch: b, query: i) else { continue }
                for j in 0..<mask.validKeys(batch: b, query: i, keys: n) {
                    if position % stride == 0 { samples.append(x[row + j]) }
                    position += 1
                }
            }
        }
    }

    public func backward(scores x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>,
                         gradScores dx: UnsafeMutablePointer<Float>, shape: ScoreShape, mask: AttentionMask) {
        if UnsafePointer(dx) != dy { dx.update(from: dy, count: shape.count) }
    }
}
