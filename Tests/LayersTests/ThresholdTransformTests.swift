// Learned-threshold transform: surrogate and regulariser gradients in x and Th against central differences in
// Double (away from the kink x = Th), hard-rule exactness on valid pairs only, the regulariser's value, and the
// top-k / fixed-threshold baselines at a target rate.
import Basics
import Foundation
import Layers
import Testing

struct ThresholdTransformTests {
    /// 2 examples × 2 heads × 5 queries × 5 keys; example 0 has 3 valid tokens, example 1 all 5.
    static let shape = ScoreShape(batch: 2, heads: 2, queries: 5, keys: 5)
    static let lengths: [Int32] = [3, 5]

    /// Runs `body` with a padding (and optionally causal) mask over `lengths`.
    static func withMask<R>(causal: Bool = false, _ body: (AttentionMask) -> R) -> R {
        lengths.withUnsafeBufferPointer { body(AttentionMask(causal: causal, lengths: $0.baseAddress!)) }
    }

    /// Valid (b, h, i, j) by the documented rule: query row not padding, key in the valid prefix.
    static func isValid(_ index: Int, causal: Bool) -> Bool {
        let s = shape
        let j = index % s.keys, i = (index / s.keys) % s.queries, b = index / (s.keys * s.queries * s.heads)
        let length = Int(lengths[b])
        return i < length && j < length && (!causal || j <= i)
    }

    struct SurrogateCase: CustomTestStringConvertible, Sendable {
        let name: String, steepness: Float, magnitude: Float, weight: Double, threshold: Float, perHead: Bool, causal: Bool
        /// Step and error scale: with c = 1000 gradients reach c·s = 10⁴ and Float noise in the loss is ~10⁻⁴, so
        /// errors there are judged relative to max(|numeric|, 20) with a smaller step.
        var step: Float = 1e-3, scale: Double = 1, tolerance = 2e-2
        /// Per-head regulariser weights (the prune-rate controller's per-head λ), replacing `weight`.
        var headWeights: [Double]? = nil
        var surrogate: ThresholdSurrogate = .tanh
        var testDescription: String { name }
    }

    static let surrogateCases = [
        SurrogateCase(name: "s=4 c=5 λ-weight 0.7 per layer", steepness: 4, magnitude: 5, weight: 0.7, threshold: 0.123, perHead: false, causal: false),
        SurrogateCase(name: "s=4 c=5 per head, causal", steepness: 4, magnitude: 5, weight: 1.3, threshold: -0.177, perHead: true, causal: true),
        SurrogateCase(name: "defaults s=10 c=1000", steepness: 10, magnitude: 1000, weight: 0.5, threshold: 0.312, perHead: false, causal: false,
                       step: 3e-4, scale: 20, tolerance: 5e-2),
        SurrogateCase(name: "s=4 c=5 per head, per-head weights 0.9 / −0.6", steepness: 4, magnitude: 5, weight: 0, threshold: 0.073,
                      perHead: true, causal: false, headWeights: [0.9, -0.6]),
        SurrogateCase(name: "log-sigmoid s=4 λ-weight 0.7", steepness: 4, magnitude: 5, weight: 0.7, threshold: 0.123, perHead: false,
                      causal: false, surrogate: .logSigmoid),
        SurrogateCase(name: "log-sigmoid s=10 per head, causal", steepness: 10, magnitude: 1000, weight: 1.3, threshold: -0.177, perHead: true,
                      causal: true, surrogate: .logSigmoid),
    ]

    /// L(x, Th) = Σ_valid w·y + w_R·R from a training forward.
    static func loss(_ x: [Float], _ th: [Float], _ probe: [Float], _ c: SurrogateCase) -> Double {
        let t = ThresholdScoreTransform(thresholds: th, steepness: c.steepness, prunedMagnitude: c.magnitude, regularizerWeight: c.weight,
                                        surrogate: c.surrogate)
        t.thresholdRegularizerWeights = c.headWeights
        var y = [Float](repeating: 0, count: x.count)
        withMask(causal: c.causal) { mask in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { t.forward(scores: xp.baseAddress!, into: $0.baseAddress!, shape: shape, mask: mask, training: true) }
            }
        }
        var l = t.regularizerLoss
        for i in x.indices where isValid(i, causal: c.causal) { l += Double(probe[i]) * Double(y[i]) }
        return l
    }

    @Test(arguments: surrogateCases)
    func surrogateAndRegulariserGradientsMatchCentralDifferences(_ c: SurrogateCase) {
        let x = (0..<Self.shape.count).map { i -> Float in Float(((i * 37) % 41)) / 20 - 1 }  // spread over [−1, 1]
        var rng = SeededGenerator(seed: 3)
        let probe = x.map { _ in Float(rng.nextGaussian()) }
        let th: [Float] = c.perHead ? [c.threshold, c.threshold + 0.15] : [c.threshold]
        let transform = ThresholdScoreTransform(thresholds: th, steepness: c.steepness, prunedMagnitude: c.magnitude, regularizerWeight: c.weight,
                                                surrogate: c.surrogate)
        transform.thresholdRegularizerWeights = c.headWeights
        var y = [Float](repeating: 0, count: x.count), dx = probe
        Self.withMask(causal: c.causal) { mask in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { transform.forward(scores: xp.baseAddress!, into: $0.baseAddress!, shape: Self.shape, mask: mask, training: true) }
                dx.withUnsafeMutableBufferPointer { d in
                    transform.backward(scores: xp.baseAddress!, gradOutput: UnsafePointer(d.baseAddress!), gradScores: d.baseAddress!, shape: Self.shape, mask: mask)
                }
            }
        }
        let h = c.step
        func headOf(_ i: Int) -> Int { (i / (Self.shape.keys * Self.shape.queries)) % Self.shape.heads }
        var worst = 0.0, checked = 0
        for i in x.indices where Self.isValid(i, causal: c.causal) {
            let thi = th.count == 1 ? th[0] : th[headOf(i)]
            if abs(x[i] - thi) < 4 * h { continue }  // the kink
            var plus = x, minus = x
            plus[i] += h; minus[i] -= h
            let numeric = (Self.loss(plus, th, probe, c) - Self.loss(minus, th, probe, c)) / Double(plus[i] - minus[i])
            let err = abs(Double(dx[i]) - numeric) / max(abs(numeric), c.scale)
            worst = max(worst, err); checked += 1
        }
        #expect(checked > 20)
        #expect(worst < c.tolerance, "dL/dx worst relative error \(worst)")
        for k in th.indices {
            // Perturbing Th moves the kink; skip if any valid score of that head sits within the step.
            var plus = th, minus = th
            plus[k] += h; minus[k] -= h
            let numeric = (Self.loss(x, plus, probe, c) - Self.loss(x, minus, probe, c)) / Double(plus[k] - minus[k])
            let err = abs(transform.thresholdGradients[k] - numeric) / max(abs(numeric), c.scale)
            #expect(err < c.tolerance, "dL/dTh[\(k)] analytic \(transform.thresholdGradients[k]) numeric \(numeric)")
        }
        // Masked entries are never written (the softmax backward owns them); padding query rows pass dy through.
        for i in x.indices where !Self.isValid(i, causal: c.causal) {
            #expect(dx[i] == probe[i], "masked entry \(i) was changed to \(dx[i])")
        }
    }

    @Test func surrogateIsContinuousAtTheThresholdAndTendsToTheHardRule() {
        let x: [Float] = [-0.5, 0.2999, 0.3, 0.3001, 0.8, 2.0]
        for steepness: Float in [10, 1e5] {
            let t = ThresholdScoreTransform(thresholds: [0.3], steepness: steepness)
            let shape = ScoreShape(batch: 1, heads: 1, queries: 1, keys: x.count)
            var y = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
                t.forward(scores: xp.baseAddress!, into: $0.baseAddress!, shape: shape, mask: AttentionMask(), training: true) } }
            #expect(abs(y[2]) < 1e-6, "y(Th) = \(y[2])")
            if steepness == 1e5 {
                #expect(y[0] == -1000 && abs(y[4] - 0.8) < 1e-6 && abs(y[5] - 2) < 1e-6, "s → ∞: \(y)")
            }
        }
    }

    /// The log-sigmoid surrogate: y(Th) = Th − log 2 (the gate at ½), kept scores far above Th unchanged, and as
    /// s → ∞ pruned scores fall below any softmax weight (y ≤ x + s·(x − Th)) while kept ones tend to x.
    @Test func logSigmoidSurrogateTendsToTheHardRule() {
        let x: [Float] = [-0.5, 0.2999, 0.3, 0.3001, 0.8, 2.0]
        for steepness: Float in [10, 1e5] {
            let t = ThresholdScoreTransform(thresholds: [0.3], steepness: steepness, surrogate: .logSigmoid)
            let shape = ScoreShape(batch: 1, heads: 1, queries: 1, keys: x.count)
            var y = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
                t.forward(scores: xp.baseAddress!, into: $0.baseAddress!, shape: shape, mask: AttentionMask(), training: true) } }
            #expect(abs(y[2] - (0.3 - Float(log(2.0)))) < 1e-5, "y(Th) = \(y[2])")
            #expect(abs(y[5] - 2) < 1e-4, "a score 1.7 above Th is kept as is: \(y[5])")
            if steepness == 1e5 {
                #expect(y[0] < -70_000 && abs(y[4] - 0.8) < 1e-6 && abs(y[3] - 0.3001) < 1e-4, "s → ∞: \(y)")
            }
        }
    }

    @Test(arguments: [false, true])
    func hardRulePrunesExactlyTheValidScoresBelowTheThreshold(causal: Bool) {
        let x = randomScores(Self.shape.count, seed: 9)
        let transform = ThresholdScoreTransform(thresholds: [0.1, -0.3])
        let sentinel: Float = 12345
        var y = [Float](repeating: sentinel, count: x.count)
        Self.withMask(causal: causal) { mask in
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
                transform.forward(scores: xp.baseAddress!, into: $0.baseAddress!, shape: Self.shape, mask: mask, training: false) } }
        }
        var valid = 0, pruned = 0
        var rowValid: [Int: Int] = [:], rowPruned: [Int: Int] = [:]  // by row index i / keys
        for i in x.indices {
            let b = i / (Self.shape.keys * Self.shape.queries * Self.shape.heads)
            let query = (i / Self.shape.keys) % Self.shape.queries
            let head = (i / (Self.shape.keys * Self.shape.queries)) % Self.shape.heads
            let th: Float = head == 0 ? 0.1 : -0.3
            if Self.isValid(i, causal: causal) {
                valid += 1
                rowValid[i / Self.shape.keys, default: 0] += 1
                if x[i] < th {
                    pruned += 1; rowPruned[i / Self.shape.keys, default: 0] += 1
                    #expect(y[i] == ThresholdScoreTransform.prunedScore)
                } else { #expect(y[i] == x[i]) }
            } else if query < Int(Self.lengths[b]) {
                #expect(y[i] == sentinel, "masked key \(i) was written")
            }
        }
        let emptyRows = rowValid.filter { rowPruned[$0.key] == $0.value }.count
        #expect(transform.counts == PruneCounts(validPairs: valid, prunedPairs: pruned, rows: rowValid.count, emptyRows: emptyRows))
        #expect(valid == (causal ? 2 * (6 + 15) : 2 * (9 + 25)))
        #expect(pruned > 0 && pruned < valid)
    }

    @Test func regulariserIsTheMeanSoftKeptFractionOverValidPairs() {
        let x = randomScores(Self.shape.count, seed: 5)
        let t = ThresholdScoreTransform(thresholds: [0.2], steepness: 10, regularizerWeight: 0.25)
        var y = x
        Self.withMask { mask in
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
                t.forward(scores: xp.baseAddress!, into: $0.baseAddress!, shape: Self.shape, mask: mask, training: true) } }
        }
        var sum = 0.0, n = 0
        for i in x.indices where Self.isValid(i, causal: false) { sum += 1 / (1 + exp(-10 * (Double(x[i]) - 0.2))); n += 1 }
        #expect(abs(t.lastSoftKeptFraction - sum / Double(n)) < 1e-5)
        #expect(abs(t.regularizerLoss - 0.25 * sum / Double(n)) < 1e-5)
    }

    @Test(arguments: [0.25, 0.5, 1.0])
    func topKKeepsTheLargestScoresOfEachRow(keepFraction: Double) {
        let shape = ScoreShape(batch: 1, heads: 1, queries: 2, keys: 8)
        let x: [Float] = [5, 1, 7, 3, 3, 0, -2, 6,   1, 2, 3, 4, 5, 6, 7, 8]
        let t = TopKScoreTransform(keepFraction: keepFraction)
        var y = x
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
            t.forward(scores: xp.baseAddress!, into: $0.baseAddress!, shape: shape, mask: AttentionMask(), training: false) } }
        let k = Int(keepFraction * 8)
        for row in 0..<2 {
            let values = Array(x[(row * 8)..<(row * 8 + 8)])
            let cut = values.sorted(by: >)[k - 1]
            let kept = (0..<8).filter { y[row * 8 + $0] != ThresholdScoreTransform.prunedScore }
            #expect(kept.count == k)
            #expect(kept.allSatisfy { values[$0] >= cut })
        }
        #expect(abs(t.counts.pruneRate - (1 - keepFraction)) < 1e-12)
    }

    @Test(arguments: [0.0, 0.3, 0.6, 0.95])
    func fixedThresholdReachesTheTargetRateOnItsCalibrationData(rate: Double) {
        let samples = randomScores(1000, seed: 2)
        let th = FixedThreshold.calibrate(samples: samples, pruneRate: rate)
        let pruned = samples.filter { $0 < th }.count
        #expect(pruned == Int(rate * 1000), "threshold \(th) prunes \(pruned) of 1000")
    }

    @Test(arguments: [4, 8, 12])
    func qkFakeQuantisationLandsOnTheGridWithinHalfAStep(bits: Int) {
        let rows = 6, c = 8
        let original = randomScores(rows * 3 * c, seed: UInt64(bits))
        var qkv = original
        qkv.withUnsafeMutableBufferPointer { QKQuantization.fakeQuantize(qkv: $0.baseAddress!, rows: rows, channels: c, bits: bits) }
        let levels = Float((1 << (bits - 1)) - 1)
        for part in 0..<3 {
            let indices = (0..<rows).flatMap { r in (0..<c).map { r * 3 * c + part * c + $0 } }
            let scale = indices.map { abs(original[$0]) }.max()! / levels
            for i in indices {
                if part == 2 { #expect(qkv[i] == original[i], "v must stay untouched"); continue }
                #expect(abs(qkv[i] - original[i]) <= scale / 2 * 1.001)
                #expect(abs(qkv[i] / scale - (qkv[i] / scale).rounded()) < 1e-3)
            }
        }
    }
}

func randomScores(_ count: Int, seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float(rng.nextGaussian()) }
}
