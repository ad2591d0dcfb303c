// Task metrics, as fractions (accuracy 0.873, not 87.3; correlations in [−1, 1]); perplexity from the mean
// negative log-likelihood in nats. Degenerate inputs follow the common conventions: a correlation with a constant
// side is 0 (as scikit-learn's Matthews coefficient), F1 with no positive predicted or true is 0.

import Foundation

public enum MetricName: String, CaseIterable, Sendable {
    case accuracy
    case matthewsCorrelation = "matthews_corr"
    case f1
    case pearson
    case spearman
    case perplexity

    public var higherIsBetter: Bool { self != .perplexity }
}

public enum Metrics {
    /// Fraction of positions where prediction equals label.
    public static func accuracy(predictions: [Int32], labels: [Int32]) -> Double {
        precondition(predictions.count == labels.count && !labels.isEmpty, "accuracy needs equally many predictions and labels")
        var correct = 0
        for i in labels.indices where predictions[i] == labels[i] { correct += 1 }
        return Double(correct) / Double(labels.count)
    }

    /// Matthews correlation coefficient, multi-class form (Gorodkin 2004), which for two classes is
    /// (TP·TN − FP·FN) / √((TP+FP)(TP+FN)(TN+FP)(TN+FN)):
    ///   MCC = (c·s − Σ_k p_k t_k) / √((s² − Σ_k p_k²)(s² − Σ_k t_k²)),
    /// c = correct, s = total, p_k = times k was predicted, t_k = times k is true. 0 when a factor is 0.
    public static func matthewsCorrelation(predictions: [Int32], labels: [Int32]) -> Double {
        precondition(predictions.count == labels.count && !labels.isEmpty, "Matthews correlation needs equally many predictions and labels")
        var predicted: [Int32: Double] = [:], actual: [Int32: Double] = [:]
        var correct = 0.0
        for i in labels.indices {
            predicted[predictions[i], default: 0] += 1
            actual[labels[i], default: 0] += 1
            if predictions[i] == labels[i] { correct += 1 }
        }
        let s = Double(labels.count)
        var crossSum = 0.0
        for (k, p) in predicted { crossSum += p * (actual[k] ?? 0) }
        let predictedSquares = predicted.values.reduce(0) { $0 + $1 * $1 }
        let actualSquares = actual.values.reduce(0) { $0 + $1 * $1 }
        let denominator = ((s * s - predictedSquares) * (s * s - actualSquares)).squareRoot()
        return denominator == 0 ? 0 : (correct * s - crossSum) / denominator
    }

    /// F1 of the positive class: 2·TP / (2·TP + FP + FN).
    public static func f1(predictions: [Int32], labels: [Int32], positive: Int32 = 1) -> Double {
        precondition(predictions.count == labels.count && !labels.isEmpty, "F1 needs equally many predictions and labels")
        var truePositive = 0.0, falsePositive = 0.0, falseNegative = 0.0
        for i in labels.indices {
            switch (predictions[i] == positive, labels[i] == positive) {
            case (true, true): truePositive += 1
            case (true, false): falsePositive += 1
            case (false, true): falseNegative += 1
            case (false, false): break
            }
        }
        let denominator = 2 * truePositive + falsePositive + falseNegative
        return denominator == 0 ? 0 : 2 * truePositive / denominator
    }

    /// Pearson correlation Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²), in Double; 0 when either side is constant.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count && x.count >= 2, "Pearson correlation needs two equally long series of at least 2 values")
        let n = Double(x.count)
        let meanX = x.reduce(0, +) / n, meanY = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            let dx = x[i] - meanX, dy = y[i] - meanY
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy
        }
        return sxx == 0 || syy == 0 ? 0 : sxy / (sxx * syy).squareRoot()
    }

    public static func pearson(predictions: [Float], targets: [Float]) -> Double {
        pearson(predictions.map(Double.init), targets.map(Double.init))
    }

    /// Spearman's rank correlation: Pearson of the ranks, tied values sharing the average of their ranks.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count && x.count >= 2, "Spearman correlation needs two equally long series of at least 2 values")
        return pearson(averageRanks(x), averageRanks(y))
    }

    public static func spearman(predictions: [Float], targets: [Float]) -> Double {
        spearman(predictions.map(Double.init), targets.map(Double.init))
    }

    /// Ranks from 1; a run of equal values gets the mean of the ranks it spans (e.g. [10, 20, 20, 30] → [1, 2.5, 2.5, 4]).
    public static func averageRanks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let averageRank = Double(start + end) / 2 + 1
            for k in start...end { ranks[order[k]] = averageRank }
            start = end + 1
        }
        return ranks
    }

    /// exp(mean NLL), the NLL in nats per token.
    public static func perplexity(meanNegativeLogLikelihood: Double) -> Double { exp(meanNegativeLogLikelihood) }

    public static func perplexity(totalNegativeLogLikelihood: Double, tokenCount: Int) -> Double {
        precondition(tokenCount > 0, "perplexity needs at least one token")
        return exp(totalNegativeLogLikelihood / Double(tokenCount))
    }
}
