import Basics
import Testing
@testable import Workloads

@Suite struct QuantizationTests {
    @Test(arguments: [2, 4, 8, 12, 16])
    func quantizeIsSymmetricAndClamped(bits: Int) {
        let scale = Quantization.calibratedScale([-3, 1, 2.5], bits: bits)
        let limit = Quantization.maxMagnitude(bits: bits)
        #expect(scale == 3 / Double(limit))
        let q = Quantization.quantize([-3, 3, 100, -100, 0], scale: scale, bits: bits)
        #expect(q == [-limit, limit, limit, -limit, 0])
    }

    @Test func roundsToNearestEven() {
        #expect(Quantization.quantize([0.5, 1.5, 2.5, -0.5, 0.49], scale: 1, bits: 8) == [0, 2, 2, 0, 0])
    }

    @Test func percentileCalibrationClipsOutliers() {
        let values: [Float] = (0..<99).map { Float($0 % 10) / 10 } + [1000]
        let scale = Quantization.calibratedScale(values, bits: 8, percentile: 99)
        #expect(abs(scale - 0.9 / 127) < 1e-9)  // the 99th value of 100 (0.9), not the outlier
    }

    /// T = ceil(Th·sqrt(d)/(Δq·Δk)): for every integer score S, S < T exactly when the real score S·Δq·Δk/sqrt(d) < Th.
    @Test func integerThresholdAgreesWithTheRealRule() {
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<2000 {
            let d = 1 + rng.nextInt(below: 128)
            let scaleQ = 0.001 + rng.nextUnit() * 0.1, scaleK = 0.001 + rng.nextUnit() * 0.1
            let th = (rng.nextUnit() - 0.5) * 8
            let t = Quantization.integerThreshold(th, headDim: d, scaleQ: scaleQ, scaleK: scaleK)
            for s in [t - 2, t - 1, t, t + 1] {
                let real = Double(s) * scaleQ * scaleK / Double(d).squareRoot()
                #expect((s < t) == (real < th) || abs(real - th) < 1e-9, "S=\(s) T=\(t) Th=\(th)")
            }
        }
        #expect(Quantization.integerThreshold(1, headDim: 4, scaleQ: 0.5, scaleK: 0.5) == 8)
        #expect(Quantization.integerThreshold(-1, headDim: 4, scaleQ: 0.5, scaleK: 0.5) == -8)
    }

    @Test func layerTraceFromFloats() {
        let layer = Quantization.layerTrace(q: [1, -1, 0.5, 0], k: [2, 0, -2, 1], batchSize: 1, headCount: 1,
                                            queryCount: 2, keyCount: 2, headDim: 2, valueDim: 2, bits: 8,
                                            thresholds: [0.25], mask: .none)
        #expect(layer.q == [127, -127, 64, 0])
        #expect(layer.k == [127, 0, -127, 64])
        #expect(layer.scaleQ == 1 / 127.0)
        #expect(layer.threshold == .perLayer(Quantization.integerThreshold(0.25, headDim: 2, scaleQ: 1 / 127.0, scaleK: 2 / 127.0)))
    }

    @Test func syntheticTraceIsDeterministicAndHitsThePruneRate() {
        let a = SyntheticTrace.make(seed: 11, headCount: 3, queryCount: 16, keyCount: 16, headDim: 8, pruneRate: 0.7)
        let b = SyntheticTrace.make(seed: 11, headCount: 3, queryCount: 16, keyCount: 16, headDim: 8, pruneRate: 0.7)
        #expect(a == b)
        let layer = a.layers[0]
        let scores = SyntheticTrace.validScores(layer)
        let t = layer.threshold.value(head: 0)
        let pruned = scores.filter { $0 < t }.count
        #expect(abs(Double(pruned) / Double(scores.count) - 0.7) < 0.02)
        #expect(layer.q.allSatisfy { abs($0) <= layer.maxValue })
    }

    @Test func statisticsRoundTripThroughJSON() throws {
        var s = SyntheticTrace.make(seed: 1).layers[0].shapeStatistics()
        s.keptPairs = 5
        s.planeHistogram[3] = 7
        let text = CanonicalJSON.encode(s.json)
        let back = try LayerStatistics(json: JSONReader.parse(bytes: Array(text.utf8), file: "stats.json"))
        #expect(back == s)
    }
}
