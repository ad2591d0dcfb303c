// Metrics against hand-computed values and against independent (naive) references computed in the test.

import Foundation
import Testing
@testable import Datasets

struct MetricsTests {
    @Test func accuracyCountsMatches() {
        #expect(Metrics.accuracy(predictions: [1, 0, 1, 1], labels: [1, 1, 1, 0]) == 0.5)
        #expect(Metrics.accuracy(predictions: [2, 2, 2], labels: [2, 2, 2]) == 1)
    }

    // Hand-computed: TP=3, TN=2, FP=1, FN=2 → (3·2 − 1·2)/√(4·5·3·4) = 4/√240 = 0.2581988897…
    @Test func matthewsBinaryByHand() {
        let labels: [Int32] = [1, 1, 1, 1, 1, 0, 0, 0]
        let predictions: [Int32] = [1, 1, 1, 0, 0, 0, 0, 1]
        #expect(abs(Metrics.matthewsCorrelation(predictions: predictions, labels: labels) - 4 / 240.0.squareRoot()) < 1e-12)
    }

    @Test(arguments: [
        ("perfect", [Int32]([0, 1, 0, 1]), [Int32]([0, 1, 0, 1]), 1.0),
        ("inverted", [1, 0, 1, 0], [0, 1, 0, 1], -1.0),
        ("constant prediction", [1, 1, 1, 1], [0, 1, 0, 1], 0.0),
    ])
    func matthewsSpecialCases(name: String, predictions: [Int32], labels: [Int32], expected: Double) {
        #expect(abs(Metrics.matthewsCorrelation(predictions: predictions, labels: labels) - expected) < 1e-12, "\(name)")
    }

    /// The binary formula on random data equals the multi-class implementation.
    @Test func matthewsMatchesBinaryFormulaOnRandomData() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let n = Int.random(in: 5...200, using: &generator)
            let labels = (0..<n).map { _ in Int32.random(in: 0...1, using: &generator) }
            let predictions = (0..<n).map { _ in Int32.random(in: 0...1, using: &generator) }
            var tp = 0.0, tn = 0.0, fp = 0.0, fn = 0.0
            for i in 0..<n {
                switch (predictions[i], labels[i]) {
                case (1, 1): tp += 1
                case (0, 0): tn += 1
                case (1, 0): fp += 1
                default: fn += 1
                }
            }
            let d = ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)).squareRoot()
            let reference = d == 0 ? 0 : (tp * tn - fp * fn) / d
            #expect(abs(Metrics.matthewsCorrelation(predictions: predictions, labels: labels) - reference) < 1e-12)
        }
    }

    // TP=2, FP=1, FN=1 → F1 = 4/6.
    @Test func f1ByHand() {
        #expect(abs(Metrics.f1(predictions: [1, 1, 1, 0, 0], labels: [1, 1, 0, 1, 0]) - 4.0 / 6) < 1e-12)
        #expect(Metrics.f1(predictions: [0, 0], labels: [0, 0]) == 0)
    }

    /// F1 = 2PR/(P+R) from precision and recall, on random data.
    @Test func f1MatchesPrecisionRecallFormula() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let n = Int.random(in: 5...100, using: &generator)
            let labels = (0..<n).map { _ in Int32.random(in: 0...1, using: &generator) }
            let predictions = (0..<n).map { _ in Int32.random(in: 0...1, using: &generator) }
            let truePositives = Double(zip(predictions, labels).filter { $0 == 1 && $1 == 1 }.count)
            let precision = truePositives / Double(max(1, predictions.filter { $0 == 1 }.count))
            let recall = truePositives / Double(max(1, labels.filter { $0 == 1 }.count))
            let reference = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            #expect(abs(Metrics.f1(predictions: predictions, labels: labels) - reference) < 1e-12)
        }
    }

    /// Pearson against the one-pass textbook formula (nΣxy − ΣxΣy) / √((nΣx² − (Σx)²)(nΣy² − (Σy)²)).
    @Test func pearsonMatchesOnePassFormula() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<30 {
            let n = Int.random(in: 3...80, using: &generator)
            let x = (0..<n).map { _ in Double.random(in: -3...3, using: &generator) }
            let y = x.map { $0 * 0.7 + Double.random(in: -1...1, using: &generator) }
            let sx = x.reduce(0, +), sy = y.reduce(0, +)
            let sxy = zip(x, y).reduce(0) { $0 + $1.0 * $1.1 }
            let sxx = x.reduce(0) { $0 + $1 * $1 }, syy = y.reduce(0) { $0 + $1 * $1 }
            let m = Double(n)
            let reference = (m * sxy - sx * sy) / ((m * sxx - sx * sx) * (m * syy - sy * sy)).squareRoot()
            #expect(abs(Metrics.pearson(x, y) - reference) < 1e-9)
        }
    }

    // x = [1,2,3,4,5], y = [2,4,5,4,5]: x̄=3, ȳ=4; Σdxdy = 6, Σdx² = 10, Σdy² = 6 → r = 6/√60.
    @Test func pearsonByHand() {
        #expect(abs(Metrics.pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]) - 6 / 60.0.squareRoot()) < 1e-12)
        #expect(Metrics.pearson([1, 1, 1], [1, 2, 3]) == 0)
    }

    @Test func averageRanksShareTies() {
        #expect(Metrics.averageRanks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4])
        #expect(Metrics.averageRanks([3, 1, 3, 3, 2]) == [4, 1, 4, 4, 2])
    }

    // x ranks [1, 2.5, 2.5, 4], y = [1,3,2,4] ranks itself: r = Pearson → by hand 4.5 / √(4.5 · 5) = 0.9486832…
    @Test func spearmanWithTiesByHand() {
        #expect(abs(Metrics.spearman([10, 20, 20, 30], [1, 3, 2, 4]) - 4.5 / (4.5 * 5).squareRoot()) < 1e-12)
    }

    /// Without ties, Spearman equals 1 − 6Σd²/(n(n²−1)) — an independent formula.
    @Test func spearmanMatchesClosedFormWithoutTies() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<30 {
            let n = Int.random(in: 3...60, using: &generator)
            let x = (0..<n).map { Double($0) + Double.random(in: 0..<0.5, using: &generator) }.shuffled(using: &generator)
            let y = (0..<n).map { Double($0) * 1.5 }.shuffled(using: &generator)
            func ranks(_ v: [Double]) -> [Double] { v.map { value in Double(v.filter { $0 < value }.count + 1) } }
            let rx = ranks(x), ry = ranks(y)
            let d2 = zip(rx, ry).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            let reference = 1 - 6 * d2 / Double(n * (n * n - 1))
            #expect(abs(Metrics.spearman(x, y) - reference) < 1e-9)
        }
    }

    @Test func perplexityIsExpOfMeanNLL() {
        #expect(abs(Metrics.perplexity(meanNegativeLogLikelihood: log(10000.0)) - 10000) < 1e-6)
        #expect(abs(Metrics.perplexity(totalNegativeLogLikelihood: 3 * log(4.0), tokenCount: 3) - 4) < 1e-12)
        #expect(!MetricName.perplexity.higherIsBetter && MetricName.matthewsCorrelation.higherIsBetter)
    }
}
