// The encoder classifier: whole-model gradient check at toy size (every parameter tensor sampled, padding mask on),
// the regression head, named checkpoints, seeded initialisation, score-transform wiring.
import Basics
import Foundation
import Layers
import Models
import Tensors
import Testing

@Suite struct BertClassifierTests {
    static let toy = BertConfig(vocabulary: 11, maxTime: 6, channels: 8, heads: 2, layers: 2, ffHidden: 16, classes: 3, dropout: 0)

    static func toyBatch(classes: Int = 3) -> TokenBatch {
        TokenBatch(batch: 3, time: 5, tokens: [1, 4, 2, 9, 0, 3, 3, 7, 1, 10, 5, 6, 2, 0, 0],
                   lengths: [5, 4, 3], labels: [2, 0, 1], targets: [0.5, -1, 2])
    }

    /// Central differences on a sample of every parameter tensor; returns the worst error and where.
    static func wholeModelCheck(_ net: BertClassifier, _ batch: TokenBatch, step: Float = 1e-2) -> (Double, String) {
        let p = net.parameters
        p.zeroGradients()
        net.forward(batch, training: true)
        net.backward()
        var worst = 0.0, place = ""
        for e in p.entries {
            let v = p.value(e.name), g = p.grad(e.name)
            for idx in Swift.stride(from: 0, to: e.count, by: max(1, e.count / 5)) {
                let x = v[idx]
                v[idx] = x + step; let lp = net.forward(batch, training: true)
                v[idx] = x - step; let lm = net.forward(batch, training: true)
                v[idx] = x
                let numeric = (lp - lm) / Double(2 * step)
                let err = abs(Double(g[idx]) - numeric) / max(abs(numeric), 1e-2)
                if err > worst { worst = err; place = "\(e.name)[\(idx)]: analytic \(g[idx]), numeric \(numeric)" }
            }
        }
        return (worst, place)
    }

    @Test(arguments: [false, true])
    func wholeModelGradientsMatchFiniteDifferences(fullLastLayer: Bool) {
        let net = BertClassifier(config: Self.toy, seed: 3)
        net.computeFullLastLayer = fullLastLayer
        // Larger weights than BERT's 0.02 so every path carries a measurable gradient.
        var rng = SeededGenerator(seed: 4)
        for e in net.parameters.entries where e.decays { Initialiser.normal(net.parameters.view(e.name), std: 0.5, using: &rng) }
        let (worst, place) = Self.wholeModelCheck(net, Self.toyBatch())
        #expect(worst < 3e-2, "worst relative error \(worst) at \(place)")
    }

    @Test func regressionHeadGradients() {
        var config = Self.toy
        config.classes = 1
        let net = BertClassifier(config: config, seed: 5)
        var rng = SeededGenerator(seed: 6)
        for e in net.parameters.entries where e.decays { Initialiser.normal(net.parameters.view(e.name), std: 0.5, using: &rng) }
        let (worst, place) = Self.wholeModelCheck(net, Self.toyBatch())
        #expect(worst < 3e-2, "worst relative error \(worst) at \(place)")
    }

    /// Hidden-state distillation: the loss gains weight·mean (h_l − target_l)² over valid tokens; its gradient
    /// reaches every parameter below each layer (central differences), padded positions add nothing, and the loss
    /// is exactly zero against the model's own outputs.
    @Test(arguments: [false, true])
    func hiddenStateLossGradientsMatchFiniteDifferences(albert: Bool) {
        var config = Self.toy
        if albert { config.embeddingSize = 4; config.sharedLayers = true }
        let net = BertClassifier(config: config, seed: 7)
        var rng = SeededGenerator(seed: 8)
        for e in net.parameters.entries where e.decays { Initialiser.normal(net.parameters.view(e.name), std: 0.5, using: &rng) }
        var batch = Self.toyBatch()
        // The model's own outputs are targets with zero loss: the hidden term adds nothing.
        net.computeFullLastLayer = true
        let plain = net.forward(batch, training: false)
        let own = net.layerOutputs
        #expect(own.count == config.layers * batch.batch * batch.time * config.channels)
        net.computeFullLastLayer = false
        batch.hiddenTargets = own; batch.hiddenWeight = 3
        #expect(abs(net.forward(batch, training: false) - plain) < 1e-9)
        // The scale: every target shifted by δ adds β·δ² (a mean over valid tokens, channels and layers); layer 0's
        // alone adds β·δ²/L.
        let delta: Float = 0.2, beta = 3.0, perLayer = own.count / config.layers
        batch.hiddenTargets = own.map { $0 + delta }
        let shiftedAll = net.forward(batch, training: false)
        #expect(abs(shiftedAll - plain - beta * Double(delta * delta)) < 1e-5, "\(shiftedAll - plain)")
        batch.hiddenTargets = own.enumerated().map { $0.offset < perLayer ? $0.element + delta : $0.element }
        let shiftedFirst = net.forward(batch, training: false)
        #expect(abs(shiftedFirst - plain - beta * Double(delta * delta) / Double(config.layers)) < 1e-5, "\(shiftedFirst - plain)")
        // Shifted targets: a positive loss whose gradient matches central differences.
        batch.hiddenTargets = own.enumerated().map { $0.element + Float(($0.offset % 7) - 3) * 0.2 }
        #expect(net.forward(batch, training: false) > plain + 0.1)
        // Step 5e-3: the squared term's curvature makes 1e-2 a 6% truncation error on ALBERT's projection (measured:
        // 5.9% at 1e-2, 1.5% at 5e-3 and at 2e-3).
        let (worst, place) = Self.wholeModelCheck(net, batch, step: 5e-3)
        #expect(worst < 3e-2, "worst relative error \(worst) at \(place)")
        // lossScale (gradient accumulation over micro-batches) scales the hidden term's gradient like the rest.
        func gradients(scale: Float) -> [Float] {
            net.parameters.zeroGradients()
            net.forward(batch, training: true)
            net.backward(lossScale: scale)
            return net.parameters.gradients.values
        }
        let full = gradients(scale: 1), quarter = gradients(scale: 0.25)
        let norm = full.map(abs).max()!
        #expect(zip(full, quarter).allSatisfy { abs($0 * 0.25 - $1) <= 1e-6 * norm })
        // Targets at padded positions are ignored.
        var padded = batch
        let t = batch.time, ch = config.channels
        for l in 0..<config.layers { for i in 0..<batch.batch { for p in Int(batch.lengths[i])..<t {
            for k in 0..<ch { padded.hiddenTargets[((l * batch.batch + i) * t + p) * ch + k] = 100 }
        } } }
        #expect(abs(net.forward(padded, training: false) - net.forward(batch, training: false)) < 1e-9)
    }

    @Test func compactLastLayerGivesTheSameLossLogitsAndGradients() {
        let net = BertClassifier(config: Self.toy, seed: 3)
        var rng = SeededGenerator(seed: 4)
        for e in net.parameters.entries where e.decays { Initialiser.normal(net.parameters.view(e.name), std: 0.3, using: &rng) }
        func run(full: Bool) -> (Double, [Float], [Float]) {
            net.computeFullLastLayer = full
            net.parameters.zeroGradients()
            let loss = net.forward(Self.toyBatch(), training: true)
            net.backward()
            return (loss, net.logits, net.parameters.gradients.values)
        }
        let compact = run(full: false), full = run(full: true)
        #expect(abs(compact.0 - full.0) < 1e-6)
        #expect(zip(compact.1, full.1).allSatisfy { abs($0 - $1) < 1e-5 })
        let worst = zip(compact.2, full.2).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "max gradient difference \(worst)")
        #expect(full.2.contains { $0 != 0 })
    }

    @Test func paddingDoesNotLeakIntoTheClassification() {
        // Changing tokens past an example's length must not change its logits.
        let net = BertClassifier(config: Self.toy, seed: 3)
        var batch = Self.toyBatch()
        net.forward(batch, training: false)
        let before = net.logits
        batch.tokens[14] = 8; batch.tokens[13] = 8; batch.tokens[9] = 2
        net.forward(batch, training: false)
        #expect(net.logits == before)
        batch.tokens[1] = 7
        net.forward(batch, training: false)
        #expect(net.logits != before)
    }

    @Test func bertTinyHasTheBenchmarkShape() {
        let c = BertConfig.bertTiny
        let dims: [Int] = [c.layers, c.channels, c.heads, c.ffHidden, c.maxTime, c.vocabulary]
        #expect(dims == [2, 128, 4, 512, 64, 10_000])
        let net = BertClassifier(config: c, seed: 1)
        // 10,000·128 + 64·128 + 2·128 + 2·(384·128 + 384 + 128·128 + 128 + 2·128 + 512·128 + 512 + 128·512 + 128 + 2·128) + 2·128 + 2
        #expect(net.parameters.parameterCount == 1_280_000 + 8192 + 256 + 2 * 198_272 + 258)
        #expect(abs(c.trainingFlops(batch: 32, time: 64) / 1e9 - 5.2) < 0.2, "≈5.2 GFLOP per step")
    }

    @Test func checkpointsRoundTripByName() throws {
        let a = BertClassifier(config: Self.toy, seed: 1), b = BertClassifier(config: Self.toy, seed: 2)
        #expect(a.parameters.values.values != b.parameters.values.values)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bert-\(getpid()).safetensors").path
        try a.parameters.write(path: path, metadata: a.metadata)
        let file = try SafetensorsFile.read(path: path)
        #expect(file.entries.contains { $0.name == "layers.1.attention.qkv.weight" && $0.shape == [24, 8] })
        let config = try BertConfig(json: JSONReader(JSONParser.parse(file.metadata["config"]!), file: path))
        #expect(config == Self.toy)
        try b.parameters.load(from: file)
        #expect(a.parameters.values.values == b.parameters.values.values)
        // A checkpoint of another shape is refused, naming the tensor.
        var other = Self.toy
        other.channels = 4
        let c = BertClassifier(config: other, seed: 1)
        #expect { try c.parameters.load(from: file) } throws: { ($0 as? InputError)?.message.contains("embeddings.token") == true }
    }

    @Test func initialisationIsSeeded() {
        let a = BertClassifier(config: Self.toy, seed: 9), b = BertClassifier(config: Self.toy, seed: 9)
        #expect(a.parameters.values.values == b.parameters.values.values)
        #expect(a.parameters.view("layers.0.ffn.norm.weight").values.allSatisfy { $0 == 1 })
        #expect(a.parameters.view("classifier.bias").values.allSatisfy { $0 == 0 })
        #expect(!a.parameters.entry("layers.0.ffn.norm.weight").decays && a.parameters.entry("layers.0.ffn.up.weight").decays)
    }

    @Test func scoreTransformsPlugIntoEveryLayerAndExposeScores() {
        final class Counting: ScoreTransform {
            var forwards = 0, backwards = 0
            func forward(scores x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, shape: ScoreShape, mask: AttentionMask, training: Bool) {
                forwards += 1; y.update(from: x, count: shape.count)
            }
            func backward(scores x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>, gradScores dx: UnsafeMutablePointer<Float>, shape: ScoreShape, mask: AttentionMask) {
                backwards += 1
            }
            var regularizerLoss: Double { 0.25 }
        }
        let net = BertClassifier(config: Self.toy, seed: 1)
        let dense = net.forward(Self.toyBatch(), training: true)
        let t0 = Counting(), t1 = Counting()
        net.scoreTransforms = [t0, t1]
        let loss = net.forward(Self.toyBatch(), training: true)
        net.backward()
        #expect(abs(loss - dense - 0.5) < 1e-9, "both regulariser terms are added to the loss")
        #expect(t0.forwards == 1 && t1.backwards == 1)
        #expect(net.attentionScores(layer: 1)?.shape == [3, 2, 5, 5])
    }
}

@Suite struct CheckpointTests {
    @Test func saveAndLoadRestoreConfigStepAndValues() throws {
        let a = BertClassifier(config: BertClassifierTests.toy, seed: 4)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(getpid()).safetensors").path
        try a.saveCheckpoint(path: path, step: 123)
        let (b, step) = try BertClassifier.loadCheckpoint(path: path)
        #expect(step == 123)
        #expect(b.config == a.config)
        #expect(b.parameters.values.values == a.parameters.values.values)
        let batch = BertClassifierTests.toyBatch()
        #expect(a.forward(batch, training: false) == b.forward(batch, training: false))
    }

    @Test func aFileWithoutConfigIsAClearError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("noconfig-\(getpid()).safetensors").path
        let t = Tensor(shape: [2], values: [1, 2])
        try SafetensorsFile.write(path: path, tensors: [("x", t.view)], metadata: [:])
        #expect { try BertClassifier.loadCheckpoint(path: path) } throws: { e in
            (e as? InputError).map { $0.file == path && $0.message.contains("config") } ?? false
        }
    }
}

/// ALBERT options of the encoder: factorised embedding and one layer shared across the depth.
struct AlbertOptionTests {
    static let toy = BertConfig(vocabulary: 11, maxTime: 6, channels: 8, heads: 2, layers: 3, ffHidden: 16, classes: 3,
                                dropout: 0, embeddingSize: 4, sharedLayers: true)

    @Test func sharedLayerAndFactorisedEmbeddingHaveTheAlbertLayout() throws {
        let names = Self.toy.parameterLayout.map(\.name)
        #expect(names.contains("embeddings.projection.weight") && names.contains("layers.0.ffn.up.weight"))
        #expect(!names.contains { $0.hasPrefix("layers.1.") }, "one shared layer only")
        #expect(Self.toy.parameterLayout.first { $0.name == "embeddings.token" }?.shape == [11, 4])
        let restored = try BertConfig(json: JSONReader(Self.toy.json, file: "config"))
        #expect(restored == Self.toy)
    }

    @Test(arguments: [false, true])
    func albertGradientsMatchFiniteDifferences(fullLastLayer: Bool) {
        let net = BertClassifier(config: Self.toy, seed: 5)
        net.computeFullLastLayer = fullLastLayer
        var rng = SeededGenerator(seed: 6)
        for e in net.parameters.entries where e.decays { Initialiser.normal(net.parameters.view(e.name), std: 0.5, using: &rng) }
        let (worst, place) = BertClassifierTests.wholeModelCheck(net, BertClassifierTests.toyBatch())
        #expect(worst < 3e-2, "worst relative error \(worst) at \(place)")
    }
}
