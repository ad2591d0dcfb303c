// The prune-rate target (`--target-prune-rate`): the training forward counts exactly what the hard rule prunes, the
// λ controller follows its documented PI rule (per layer or overall, λ allowed below 0, offsets from validation
// probes), and on the toy SST-2 fixture a fine-tune steered to a rate ends near that rate on validation and test,
// deterministically, while the same fixed λ lands elsewhere.
import Basics
import Datasets
import Foundation
import Layers
import Testing
@testable import Training

@Suite(.serialized) struct PruneRateTargetTests {
    /// Runs a training (or inference) forward of `t` over `x` as one row of `x.count` keys, no padding.
    static func forward(_ t: ThresholdScoreTransform, _ x: [Float], training: Bool) {
        let shape = ScoreShape(batch: 1, heads: 1, queries: 1, keys: x.count)
        var y = x
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
            t.forward(scores: xp.baseAddress!, into: $0.baseAddress!, shape: shape, mask: AttentionMask(), training: training) } }
    }

    static func scores(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in Float(rng.nextInt(below: 2001) - 1000) / 250 }
    }

    @Test func trainingForwardCountsExactlyWhatTheHardRulePrunes() {
        let x = Self.scores(500, seed: 7)
        for threshold: Float in [-2, -0.3, 0, 0.77, 3.5, 5] {
            let t = ThresholdScoreTransform(thresholds: [threshold])
            Self.forward(t, x, training: true)
            let training = t.lastTrainingCounts
            Self.forward(t, x, training: false)
            #expect(training.validPairs == t.counts.validPairs && training.prunedPairs == t.counts.prunedPairs,
                    "threshold \(threshold): training \(training), inference \(t.counts)")
            #expect(training.prunedPairs == x.filter { $0 < threshold }.count && training.validPairs == 500)
            // One row of 500 keys; at 5 (above every score) it is empty.
            #expect(t.counts.rows == 1 && t.counts.emptyRows == (threshold > 4 ? 1 : 0), "\(t.counts)")
        }
    }

    /// Two layers with known per-step rates: λ follows λ_I ← λ_I + η·λ₀·e, λ = λ_I + κ·max(λ₀, |λ_I|)·e (e = r* − r), the
    /// regulariser weights are λ/L, λ goes below 0 when the rate overshoots, and "overall" steers one λ from the
    /// pooled counts.
    @Test(arguments: [true, false])
    func controllerFollowsThePIRule(perLayer: Bool) throws {
        let x = (0..<100).map { Float($0) }  // threshold t prunes exactly t of the 100 scores (0…99)
        let layers = [ThresholdScoreTransform(thresholds: [30]), ThresholdScoreTransform(thresholds: [90])]
        let target = PruneRateTarget(rate: 0.5, perLayer: perLayer, integralGain: 0.1, proportionalGain: 3, probeInterval: 0)
        let lambda0 = 0.4
        let controller = LambdaController(target: target, startingLambda: lambda0, transforms: layers, probe: nil)
        #expect(layers.allSatisfy { $0.regularizerWeight == lambda0 / 2 })
        for layer in layers { Self.forward(layer, x, training: true) }
        try controller.update()
        let errors = perLayer ? [0.5 - 0.3, 0.5 - 0.9] : [0.5 - 0.6]
        let expected = errors.map { e -> Double in
            let integral = lambda0 + 0.1 * lambda0 * e
            return integral + 3 * max(lambda0, abs(integral)) * e
        }
        #expect(controller.lambdas.count == errors.count)
        for (got, want) in zip(controller.lambdas, expected) { #expect(abs(got - want) < 1e-12, "λ \(got), expected \(want)") }
        for (i, layer) in layers.enumerated() {
            #expect(abs(layer.regularizerWeight - expected[perLayer ? i : 0] / 2) < 1e-12)
        }
        if perLayer { #expect(controller.lambdas[1] < 0, "the overshooting layer's λ must turn negative") }
        #expect(controller.takeTrainingPruneRate().map { abs($0 - 0.6) < 1e-12 } == true)
        #expect(controller.takeTrainingPruneRate() == nil)
    }

    /// Per-head thresholds in per-layer mode: one λ per head, written as per-head regulariser weights, and the
    /// regulariser's value is Σ_h w_h·(soft kept pairs of head h)/N.
    @Test func perHeadThresholdsGetOneLambdaEach() throws {
        let shape = ScoreShape(batch: 1, heads: 2, queries: 1, keys: 50)
        let x = (0..<100).map { Float($0 % 50) / 10 }  // each head: 0.0 … 4.9
        let layer = ThresholdScoreTransform(thresholds: [1, 4])  // head 0 prunes 20%, head 1 80%
        var y = x
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
            layer.forward(scores: xp.baseAddress!, into: $0.baseAddress!, shape: shape, mask: AttentionMask(), training: true) } }
        #expect(layer.lastTrainingThresholdCounts == [PruneCounts(validPairs: 50, prunedPairs: 10), PruneCounts(validPairs: 50, prunedPairs: 40)])
        let controller = LambdaController(target: PruneRateTarget(rate: 0.5, integralGain: 0, proportionalGain: 1, probeInterval: 0),
                                          startingLambda: 1, transforms: [layer], probe: nil)
        try controller.update()
        #expect(controller.groups.count == 2)
        #expect(controller.lambdas == [1 + 0.3, 1 - 0.3].map { $0 })
        let weights = try #require(layer.thresholdRegularizerWeights)
        #expect(abs(weights[0] - 1.3) < 1e-12 && abs(weights[1] - 0.7) < 1e-12)
        var expected = 0.0
        for (i, v) in x.enumerated() {
            let head = i / 50, th: Double = head == 0 ? 1 : 4
            expected += weights[head] / (1 + exp(-10 * (Double(v) - th)))
        }
        #expect(abs(layer.regularizerLoss - expected / 100) < 1e-5, "R \(layer.regularizerLoss) vs \(expected / 100)")
        // Inference (what the validation probe reads): the same per-head counts, and rows counted per head.
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
            layer.forward(scores: xp.baseAddress!, into: $0.baseAddress!, shape: shape, mask: AttentionMask(), training: false) } }
        #expect(layer.thresholdCounts == [PruneCounts(validPairs: 50, prunedPairs: 10, rows: 1, emptyRows: 0),
                                          PruneCounts(validPairs: 50, prunedPairs: 40, rows: 1, emptyRows: 0)])
        #expect(layer.regularizerLoss == 0, "no regulariser value after an inference forward")
        // Replacing the thresholds by one of another length restarts the per-threshold state instead of trapping.
        layer.thresholds = [5]
        layer.resetCounters()
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
            layer.forward(scores: xp.baseAddress!, into: $0.baseAddress!, shape: shape, mask: AttentionMask(), training: false) } }
        #expect(layer.thresholdCounts == [PruneCounts(validPairs: 100, prunedPairs: 100, rows: 2, emptyRows: 2)])
        #expect(layer.thresholdRegularizerWeights == nil && layer.thresholdGradients == [0])
    }

    /// The probe evaluates the validation split between training steps: it must not change what the next training
    /// step computes (no dropout draw, no state the backward needs).
    @Test func probeLeavesTheNextTrainingStepUnchanged() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 160)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let task = try GlueEncoderTask(presetName: "bert-toy",
                                       shape: EncoderPresetShape(channels: 16, heads: 2, layers: 2, ffHidden: 32, singleLength: 16, dropout: 0.1),
                                       taskName: "glue/sst2", dataDirectory: DataDirectory(path: root), seed: 5, batchSize: 16)
        task.model.scoreTransforms = (0..<2).map { _ in ThresholdScoreTransform(thresholds: [0.1], regularizerWeight: 0.3) }
        func step(probeFirst: Bool) throws -> (Double, [Float]) {
            task.reseedTrainingNoise(9)
            task.parameters.zeroGradients()
            if probeFirst { _ = try task.evaluate(.validation, limit: 40) }
            let loss = task.accumulateGradients(batch: 1, epoch: 0)
            return (loss, Array(UnsafeBufferPointer(start: task.parameters.gradients.pointer, count: task.parameters.gradients.count)))
        }
        let plain = try step(probeFirst: false), probed = try step(probeFirst: true)
        #expect(plain.0 == probed.0 && plain.1 == probed.1)
        #expect(plain.1.contains { $0 != 0 })
    }

    /// Under a target the thresholds' Adam step is scaled down linearly: scale 0 leaves them, scale ½ moves half as far.
    @Test func thresholdStepScales() {
        func moved(_ scale: Float) -> Float {
            let t = ThresholdScoreTransform(thresholds: [0.5])
            Self.forward(t, (0..<100).map { Float($0) / 100 }, training: true)
            var y = [Float](repeating: 0, count: 100), g = [Float](repeating: 1, count: 100)
            let x = (0..<100).map { Float($0) / 100 }
            x.withUnsafeBufferPointer { xp in g.withUnsafeMutableBufferPointer { gp in y.withUnsafeMutableBufferPointer { yp in
                t.backward(scores: xp.baseAddress!, gradOutput: UnsafePointer(gp.baseAddress!), gradScores: yp.baseAddress!,
                           shape: ScoreShape(batch: 1, heads: 1, queries: 1, keys: 100), mask: AttentionMask()) } } }
            ThresholdAdam(transforms: [t], learningRate: 0.02).step(scale: scale)
            return t.thresholds[0] - 0.5
        }
        #expect(moved(0) == 0)
        #expect(abs(moved(1)) > 0.019 && abs(moved(0.5) - moved(1) / 2) < 1e-6)
    }

    /// After the integral has grown large against a layer that would not move, one step past the target reverses λ
    /// at once (the proportional term scales with |λ_I|), instead of waiting for the integral to unwind.
    @Test func overshootReversesLambdaAfterWindUp() throws {
        let x = (0..<100).map { Float($0) }
        let layer = ThresholdScoreTransform(thresholds: [10])
        let controller = LambdaController(target: PruneRateTarget(rate: 0.5, probeInterval: 0), startingLambda: 0.1,
                                          transforms: [layer], probe: nil)
        for _ in 0..<200 { Self.forward(layer, x, training: true); try controller.update() }  // stuck at 10% pruned
        #expect(controller.lambdas[0] > 5, "wound-up λ \(controller.lambdas[0])")
        layer.thresholds = [55]  // the threshold finally moves and overshoots by 5 points
        Self.forward(layer, x, training: true)
        try controller.update()
        #expect(controller.lambdas[0] < 0, "λ after a 5-point overshoot: \(controller.lambdas[0])")
    }

    /// A probe that reports the validation split pruning less than the training batches shifts the per-step target
    /// of the training rate up by the difference.
    @Test func probeOffsetsTheTrainingTarget() throws {
        let x = (0..<100).map { Float($0) }
        let layer = ThresholdScoreTransform(thresholds: [50])
        let target = PruneRateTarget(rate: 0.5, perLayer: true, integralGain: 0, proportionalGain: 1, probeInterval: 1)
        var probes = 0
        let controller = LambdaController(target: target, startingLambda: 1, transforms: [layer], probe: {
            probes += 1
            return [[PruneCounts(validPairs: 100, prunedPairs: 30)]]
        })
        Self.forward(layer, x, training: true)
        try controller.update()
        #expect(probes == 1)
        #expect(abs(controller.offsets[0] - 0.2) < 1e-12)
        // Training rate 0.5 = r*, but validation prunes 0.3: the error is r* + b − r = 0.2, so λ rises.
        #expect(abs(controller.lambdas[0] - 1.2) < 1e-12, "λ \(controller.lambdas[0])")
    }

    @Test func steeredFineTuneEndsNearItsTargetDeterministicallyAndFixedLambdaDoesNot() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 320)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var s = PruningProtocolTests.settings(root)
        s.epochs = 4; s.fineTuneEpochs = 3; s.lambdas = [0.5]
        let fixed = try #require(try PruningProtocol.run(s).first)
        s.pruneRateTarget = PruneRateTarget(rate: 0.6, probeInterval: 5)
        let steered = try #require(try PruningProtocol.run(s).first)
        let again = try #require(try PruningProtocol.run(s).first)
        print("fixed λ: rate \(fixed.pruneRate); steered to 0.6: validation \(steered.validation.pruneRate), test \(steered.pruneRate), layers \(steered.layerPruneRates), λ \(steered.finalLambdas ?? [])")
        #expect(CanonicalJSON.encode(steered.json(includeTiming: false)) == CanonicalJSON.encode(again.json(includeTiming: false)))
        #expect(abs(steered.validation.pruneRate - 0.6) < 0.05, "validation rate \(steered.validation.pruneRate)")
        #expect(abs(steered.pruneRate - 0.6) < 0.08, "test rate \(steered.pruneRate)")
        for rate in steered.layerPruneRates { #expect(abs(rate - 0.6) < 0.12, "layer rates \(steered.layerPruneRates)") }
        #expect(abs(fixed.pruneRate - 0.6) > 0.1, "the fixed λ should land elsewhere for this test to mean anything: \(fixed.pruneRate)")
        let json = steered.json(includeTiming: false)
        #expect(json["prune_rate_target"]?["rate"]?.doubleValue == 0.6)
        #expect(json["prune_rate_target"]?["final_lambdas"]?.arrayValue?.count == 2)
        #expect(fixed.json(includeTiming: false)["prune_rate_target"] == nil)
    }
}
