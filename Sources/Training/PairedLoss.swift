// How uncertain a metric loss is, given the finite evaluation split: the dense and the pruned model answer the same
// examples, so the loss is a paired difference. For accuracy it is a mean over examples and has an exact standard
// error; every other metric (Matthews correlation, F1, Pearson, Spearman, perplexity) is a statistic of the whole
// split, and its paired standard error comes from a bootstrap over the examples (Efron & Tibshirani 1993, ch. 6):
// resample the examples with replacement, recompute both models' metric on the same resample, and take the standard
// deviation of the differences. Language models resample whole evaluation windows (a block bootstrap: the tokens of a
// window are not independent of each other). Deterministic: the resamples come from a fixed seed.
import Basics
import Datasets

/// What a model answered on each example of an evaluation split: enough to recompute the task's metric on any
/// multiset of the examples.
public enum ExampleOutcomes: Sendable, Equatable {
    /// Arg-max classes and the labels (accuracy, Matthews correlation, F1).
    case classes(predicted: [Int32], labels: [Int32])
    /// A regression head's outputs and the targets (Pearson, Spearman).
    case values(predicted: [Float], targets: [Float])
    /// Language models, per evaluation window: its summed next-token cross-entropy (nats) and its token count
    /// (perplexity = exp(Σ loss / Σ tokens)).
    case windows(negativeLogLikelihood: [Double], tokens: [Int])

    public var count: Int {
        switch self {
        case .classes(let p, _): return p.count
        case .values(let p, _): return p.count
        case .windows(let l, _): return l.count
        }
    }

    /// The task's metric over the examples at `indices` (repeats allowed, as a bootstrap draws them), or over all.
    public func metric(_ task: TaskDescription, at indices: [Int]? = nil) -> Double {
        func pick<T>(_ xs: [T]) -> [T] { indices.map { $0.map { xs[$0] } } ?? xs }
        // The primary metric alone, by the functions `TaskDescription.score` uses: over all examples it equals the
        // task's evaluation to the last bit.
        switch self {
        case .classes(let p, let l):
            return task.primaryScore(predictions: pick(p), labels: pick(l))
        case .values(let p, let t):
            return task.primaryScore(predictions: pick(p), targets: pick(t))
        case .windows(let nll, let tokens):
            var total = 0.0, count = 0
            for i in indices ?? Array(nll.indices) { total += nll[i]; count += tokens[i] }
            return task.score(meanNegativeLogLikelihood: total / Double(max(count, 1)))[task.metric] ?? .nan
        }
    }

    /// Per example, whether the arg-max class is the label; nil for regression and language models.
    public var correctness: [Bool]? {
        guard case .classes(let p, let l) = self else { return nil }
        return zip(p, l).map { $0 == $1 }
    }

    /// Whether `other` is over the same examples (same labels, targets or token counts).
    func sameExamples(as other: ExampleOutcomes) -> Bool {
        switch (self, other) {
        case (.classes(let p, let l), .classes(let q, let m)): return p.count == q.count && l == m
        case (.values(let p, let t), .values(let q, let u)): return p.count == q.count && t == u
        case (.windows(let a, let t), .windows(let b, let u)): return a.count == b.count && t == u
        default: return false
        }
    }
}

/// The metric loss (positive = the pruned model is worse, in the metric's own unit) as a paired difference over the
/// same examples, with its standard error: what the examples alone make uncertain (a re-run with another seed varies
/// more).
public struct PairedLoss: Sendable, Equatable {
    public enum Method: String, Sendable {
        /// Accuracy: d_i = 1 when only the dense model gets example i right, −1 when only the pruned one does;
        /// loss = mean d, standard error = sd(d)/√n.
        case exact
        /// Any other metric: the standard deviation of the loss over `resamples` bootstrap resamples of the examples.
        case bootstrap
    }

    public static let bootstrapResamples = 1000
    /// The resamples' seed: fixed, so a report is a function of the two models' answers alone.
    public static let bootstrapSeed: UInt64 = 0x1EAF_5EED

    public let examples: Int
    public let loss: Double
    public let standardError: Double
    /// Examples on which the two models disagree: about correctness (accuracy) or about the predicted class (Matthews
    /// correlation, F1); nil where every answer is a real number (regression, language models).
    public let changed: Int?
    public let method: Method
    /// Bootstrap only: the number of resamples and the 2.5% and 97.5% percentiles of the resampled loss.
    public let resamples: Int?
    public let interval95: ClosedRange<Double>?

    /// Accuracy from per-example correctness: nil unless both vectors exist and have the same length, at least 2.
    /// With no example changed the standard error is 0, which says only that these examples do not measure it.
    public init?(dense: [Bool]?, pruned: [Bool]?) {
        guard let dense, let pruned, dense.count == pruned.count, dense.count > 1 else { return nil }
        let d = zip(dense, pruned).map { ($0 ? 1.0 : 0.0) - ($1 ? 1.0 : 0.0) }
        let n = Double(d.count), mean = d.reduce(0, +) / n
        let variance = d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        self.init(examples: d.count, loss: mean, standardError: (variance / n).squareRoot(),
                  changed: d.filter { $0 != 0 }.count, method: .exact, resamples: nil, interval95: nil)
    }

    private init(examples: Int, loss: Double, standardError: Double, changed: Int?, method: Method, resamples: Int?,
                 interval95: ClosedRange<Double>?) {
        self.examples = examples
        self.loss = loss
        self.standardError = standardError
        self.changed = changed
        self.method = method
        self.resamples = resamples
        self.interval95 = interval95
    }

    /// The loss of `task`'s metric between two models' answers on the same examples: exact for accuracy, a paired
    /// bootstrap otherwise. nil unless both exist, are of one kind, cover the same examples and number at least 2.
    public init?(dense: ExampleOutcomes?, pruned: ExampleOutcomes?, task: TaskDescription,
                 resamples: Int = PairedLoss.bootstrapResamples, seed: UInt64 = PairedLoss.bootstrapSeed) {
        guard let dense, let pruned, dense.count > 1, dense.sameExamples(as: pruned) else { return nil }
        if task.metric == .accuracy, let d = dense.correctness, let p = pruned.correctness {
            self.init(dense: d, pruned: p)
        } else {
            self = PairedLoss.bootstrap(dense: dense, pruned: pruned, task: task, resamples: resamples, seed: seed)
        }
    }

    /// The paired bootstrap for any metric (accuracy included, where it estimates the exact standard error).
    /// `dense` and `pruned` cover the same examples, at least 2.
    static func bootstrap(dense: ExampleOutcomes, pruned: ExampleOutcomes, task: TaskDescription,
                          resamples: Int = PairedLoss.bootstrapResamples, seed: UInt64 = PairedLoss.bootstrapSeed) -> PairedLoss {
        precondition(dense.count > 1 && dense.sameExamples(as: pruned), "a paired bootstrap needs the same examples, at least 2")
        precondition(resamples >= 2, "a bootstrap needs at least 2 resamples")
        let sign = task.higherIsBetter ? 1.0 : -1.0
        func lossOf(_ indices: [Int]?) -> Double {
            sign * (dense.metric(task, at: indices) - pruned.metric(task, at: indices))
        }
        let n = dense.count
        var rng = SeededGenerator(seed: seed)
        var draws: [Double] = []
        draws.reserveCapacity(resamples)
        var indices = [Int](repeating: 0, count: n)
        for _ in 0..<resamples {
            for i in 0..<n { indices[i] = rng.nextInt(below: n) }
            draws.append(lossOf(indices))
        }
        let mean = draws.reduce(0, +) / Double(resamples)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(resamples - 1)
        let sorted = draws.sorted()
        func percentile(_ q: Double) -> Double {
            // Linear interpolation between order statistics (numpy's default "linear" method).
            let h = q * Double(resamples - 1), lower = Int(h.rounded(.down)), upper = min(lower + 1, resamples - 1)
            return sorted[lower] + (h - Double(lower)) * (sorted[upper] - sorted[lower])
        }
        var changed: Int?
        if case .classes(let p, _) = dense, case .classes(let q, _) = pruned { changed = zip(p, q).filter { $0 != $1 }.count }
        return PairedLoss(examples: n, loss: lossOf(nil), standardError: variance.squareRoot(), changed: changed,
                          method: .bootstrap, resamples: resamples,
                          interval95: sorted.allSatisfy(\.isFinite) ? percentile(0.025)...percentile(0.975) : nil)
    }
}
