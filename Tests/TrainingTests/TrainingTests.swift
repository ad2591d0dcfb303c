// The training loop: overfitting a small batch, bit-identical reruns, divergence detection naming step and
// tensor, AdamW against its formula, schedules, clipping, gradient accumulation.
import Basics
import Foundation
import Models
import Tensors
import Testing
import Training

@Suite(.serialized) struct TrainingTests {
    static let small = BertConfig(vocabulary: 50, maxTime: 12, channels: 32, heads: 4, layers: 2, ffHidden: 64, classes: 4, dropout: 0.1)

    static func batch(seed: UInt64 = 11, size: Int = 8) -> TokenBatch {
        var b = TokenBatch.random(batch: size, time: 12, vocabulary: 50, classes: 4, seed: seed)
        b.lengths = (0..<size).map { Int32(6 + $0 % 7) }
        return b
    }

    static func trainer(seed: UInt64, config: BertConfig = small, lr: Float = 3e-3) -> Trainer<BertClassifier> {
        Trainer(model: BertClassifier(config: config, seed: seed), optimizer: AdamW(weightDecay: 0.01),
                settings: TrainerSettings(schedule: LearningRateSchedule(peak: lr, warmupSteps: 5, totalSteps: 80, decay: .cosine), clipNorm: 1))
    }

    @Test func overfitsASmallBatchTenfold() throws {
        var config = Self.small
        config.dropout = 0
        let t = Self.trainer(seed: 1, config: config)
        let data = Self.batch()
        let first = try t.trainStep(data).loss
        var last = first
        for _ in 1..<80 { last = try t.trainStep(data).loss }
        #expect(last < first / 10, "loss \(first) → \(last) in 80 steps")
    }

    @Test(arguments: [1, 2])
    func sameSeedGivesBitIdenticalParameters(threads: Int) throws {
        Compute.setThreads(threads)
        defer { Compute.setThreads(1) }
        func run() throws -> [UInt32] {
            let t = Self.trainer(seed: 7)
            for s in 0..<6 { try t.trainStep(Self.batch(seed: UInt64(s))) }
            return t.model.parameters.values.values.map(\.bitPattern)
        }
        let a = try run(), b = try run()
        #expect(a == b)
        let other = Self.trainer(seed: 8)
        try other.trainStep(Self.batch())
        #expect(other.model.parameters.values.values.map(\.bitPattern) != a)
    }

    @Test func resultsDoNotDependOnTheThreadCount() throws {
        defer { Compute.setThreads(1) }
        func run(threads: Int) throws -> [UInt32] {
            Compute.setThreads(threads)
            // Big enough that the products are split and the parallel loops take their multi-chunk paths.
            let config = BertConfig(vocabulary: 300, maxTime: 32, channels: 64, heads: 4, layers: 2, ffHidden: 128, classes: 3, dropout: 0.1)
            let t = Trainer(model: BertClassifier(config: config, seed: 3), optimizer: AdamW(),
                            settings: TrainerSettings(schedule: LearningRateSchedule(peak: 1e-3), clipNorm: 1))
            for s in 0..<3 {
                var b = TokenBatch.random(batch: 24, time: 32, vocabulary: 300, classes: 3, seed: UInt64(s))
                b.lengths = (0..<24).map { Int32(8 + $0) }
                try t.trainStep(b)
            }
            return t.model.parameters.values.values.map(\.bitPattern)
        }
        let one = try run(threads: 1), two = try run(threads: 2)
        #expect(one == two, "\(zip(one, two).filter { $0 != $1 }.count) parameters differ between 1 and 2 threads")
    }

    @Test func nonFiniteValuesStopTheRunNamingStepAndTensor() throws {
        let t = Self.trainer(seed: 1)
        try t.trainStep(Self.batch())
        try t.trainStep(Self.batch())
        t.model.parameters.value("layers.1.ffn.up.weight")[5] = .nan
        #expect { try t.trainStep(Self.batch()) } throws: { error in
            guard let e = error as? TrainingDivergedError else { return false }
            return e.step == 2 && (e.tensor == "loss" || e.tensor == "layers.1.ffn.up.weight") && e.message.contains("step 2")
        }
        // A NaN that reaches only the gradients is attributed to the parameter tensor holding it.
        let u = Self.trainer(seed: 1)
        u.model.parameters.value("classifier.weight")[0] = .infinity
        #expect { try u.trainStep(Self.batch()) } throws: { error in
            let e = error as? TrainingDivergedError
            return e?.step == 0 && e?.message.contains("non-finite") == true
        }
    }

    @Test func adamWFollowsTheTorchFormula() {
        let p = ParameterSet(layout: [("w", [2], true), ("b", [1], false)])
        p.value("w")[0] = 1; p.value("w")[1] = -2; p.value("b")[0] = 0.5
        let opt = AdamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1)
        let grads: [[Float]] = [[0.5, -1, 2], [0.25, 0.5, -1]]
        var ref: [Double] = [1, -2, 0.5], m = [0.0, 0, 0], v = [0.0, 0, 0]
        let lr = 0.01
        for (t, g) in grads.enumerated() {
            p.grad("w")[0] = g[0]; p.grad("w")[1] = g[1]; p.grad("b")[0] = g[2]
            opt.step(p, learningRate: Float(lr))
            for i in 0..<3 {
                if i < 2 { ref[i] *= 1 - lr * 0.1 }  // no decay on the bias
                m[i] = 0.9 * m[i] + 0.1 * Double(g[i]); v[i] = 0.999 * v[i] + 0.001 * Double(g[i] * g[i])
                let c1 = 1 - pow(0.9, Double(t + 1)), c2 = 1 - pow(0.999, Double(t + 1))
                ref[i] -= lr / c1 * m[i] / (v[i].squareRoot() / c2.squareRoot() + 1e-8)
            }
        }
        let got = [p.value("w")[0], p.value("w")[1], p.value("b")[0]].map(Double.init)
        for i in 0..<3 { #expect(abs(got[i] - ref[i]) < 1e-6, "parameter \(i): \(got[i]) vs \(ref[i])") }
    }

    @Test func sgdWithMomentum() {
        let p = ParameterSet(layout: [("w", [1], true)])
        p.value("w")[0] = 1
        let opt = SGD(momentum: 0.9)
        p.grad("w")[0] = 1; opt.step(p, learningRate: 0.1)   // b = 1 → w = 0.9
        p.grad("w")[0] = 1; opt.step(p, learningRate: 0.1)   // b = 1.9 → w = 0.71
        #expect(abs(p.value("w")[0] - 0.71) < 1e-6)
    }

    @Test(arguments: [
        ("warmup start", LearningRateSchedule.Decay.linear, 0, Float(0.1)), ("end of warmup", .linear, 9, 1),
        ("linear middle", .linear, 55, 0.5), ("linear end", .linear, 100, 0), ("cosine middle", .cosine, 55, 0.5),
        ("cosine, 22 of 90 decay steps", .cosine, 32, 0.859_669_9), ("past the end", .cosine, 500, 0), ("constant", .constant, 70, 1),
    ])
    func learningRateSchedule(_ name: String, _ decay: LearningRateSchedule.Decay, _ step: Int, _ expected: Float) {
        let s = LearningRateSchedule(peak: 1, minimum: 0, warmupSteps: 10, totalSteps: 100, decay: decay)
        #expect(abs(s.rate(at: step) - expected) < 1e-4, "\(name): \(s.rate(at: step))")
    }

    @Test func clippingBoundsTheGlobalNorm() {
        let p = ParameterSet(layout: [("a", [2], true), ("b", [1], false)])
        p.grad("a")[0] = 3; p.grad("a")[1] = 0; p.grad("b")[0] = 4
        #expect(abs(GradientClipping.globalNorm(p) - 5) < 1e-9)
        let before = GradientClipping.clip(p, maxNorm: 1)
        #expect(abs(before - 5) < 1e-9)
        #expect(abs(GradientClipping.globalNorm(p) - 1) < 1e-5)
        #expect(abs(p.grad("a")[0] - 0.6) < 1e-5)
    }

    @Test func gradientAccumulationEqualsOneLargeBatch() throws {
        var config = Self.small
        config.dropout = 0
        let whole = Self.batch(size: 8)
        func half(_ r: Range<Int>) -> TokenBatch {
            TokenBatch(batch: 4, time: 12, tokens: Array(whole.tokens[(r.lowerBound * 12)..<(r.upperBound * 12)]),
                       lengths: Array(whole.lengths[r]), labels: Array(whole.labels[r]))
        }
        let a = BertClassifier(config: config, seed: 2), b = BertClassifier(config: config, seed: 2)
        a.parameters.zeroGradients(); a.forward(whole, training: true); a.backward()
        b.parameters.zeroGradients()
        for part in [half(0..<4), half(4..<8)] { b.forward(part, training: true); b.backward(lossScale: 0.5) }
        let ga = a.parameters.gradients.values, gb = b.parameters.gradients.values
        let worst = zip(ga, gb).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-6, "max gradient difference \(worst)")
    }
}

@Suite struct ExtraParameterTests {
    @Test func extraParametersShareMemoryOptimiserAndCheckpoint() throws {
        let spec = ParameterSet.Spec(name: "pruning.threshold", shape: [2], decays: false, learningRateScale: 10)
        let net = BertClassifier(config: BertConfig(vocabulary: 9, maxTime: 4, channels: 8, heads: 2, layers: 1, ffHidden: 8, classes: 2, dropout: 0),
                                 seed: 1, extraParameters: [spec])
        #expect(net.parameters.view("pruning.threshold").values == [0, 0])
        // One AdamW step moves a parameter by ≈ lr·scale (first step: m̂/√v̂ = ±1).
        let p = net.parameters
        p.zeroGradients()
        p.grad("pruning.threshold")[0] = 0.5
        p.grad("classifier.bias")[0] = 0.5
        AdamW(weightDecay: 0).step(p, learningRate: 1e-3)
        #expect(abs(p.value("pruning.threshold")[0] + 1e-2) < 1e-5)
        #expect(abs(p.value("classifier.bias")[0] + 1e-3) < 1e-6)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("extra-\(getpid()).safetensors").path
        try net.saveCheckpoint(path: path, step: 1)
        let loaded = try BertClassifier.loadCheckpoint(path: path, extraParameters: [spec]).model
        #expect(loaded.parameters.view("pruning.threshold").values == p.view("pruning.threshold").values)
        // Without declaring the extra tensor, loading refuses it by name.
        #expect { try BertClassifier.loadCheckpoint(path: path) } throws: { ($0 as? InputError)?.message.contains("pruning.threshold") == true }
    }
}
