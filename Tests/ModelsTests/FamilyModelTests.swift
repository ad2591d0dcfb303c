// memn2n, gpt2-tiny (causal decoder) and vit-tiny at toy size: whole-model gradient checks (dense, identity
// transform, and a non-trivial transform with a regulariser), transforms see only valid pairs, the recorder's q/k
// reproduce the model's scores, and each model overfits a small batch.
import Basics
import Foundation
import Layers
import Models
import Tensors
import Testing

/// One family at toy size behind a uniform face, so the tests below are tables over families.
struct ToyFamily: CustomStringConvertible, Sendable {
    let description: String
    let make: @Sendable () -> (model: any AttentionPrunable, parameters: ParameterSet, loss: (Bool) -> Double, backward: () -> Void,
                               scores: (Int) -> TensorView?)

    static let memn2n = ToyFamily(description: "memn2n") {
        let net = MemoryNetwork(config: Toy.memoryConfig, seed: 1)
        randomise(net.parameters, std: 0.4, seed: 2)
        let batch = Toy.memoryBatch()
        return (net, net.parameters, { net.forward(batch, training: $0) }, { net.backward(lossScale: 1) }, { net.attentionScores(layer: $0) })
    }
    static let gpt2 = ToyFamily(description: "gpt2-tiny") {
        let net = CausalDecoder(config: Toy.decoderConfig, seed: 1)
        randomise(net.parameters, std: 0.4, seed: 3)
        let batch = Toy.sequenceBatch()
        return (net, net.parameters, { net.forward(batch, training: $0) }, { net.backward(lossScale: 1) }, { net.attentionScores(layer: $0) })
    }
    static let vit = ToyFamily(description: "vit-tiny") {
        let net = VisionTransformer(config: Toy.vitConfig, seed: 1)
        randomise(net.parameters, std: 0.4, seed: 4)
        let batch = Toy.imageBatch()
        return (net, net.parameters, { net.forward(batch, training: $0) }, { net.backward(lossScale: 1) }, { net.attentionScores(layer: $0) })
    }
    static let all = [memn2n, gpt2, vit]
}

enum TransformCase: String, CaseIterable, CustomStringConvertible {
    case dense, identity, tanhWithRegulariser = "tanh + regulariser"
    var description: String { rawValue }
}

@Suite struct FamilyModelTests {
    @Test(arguments: ToyFamily.all, TransformCase.allCases)
    func wholeModelGradientsMatchCentralDifferences(family: ToyFamily, transform: TransformCase) {
        let toy = family.make()
        switch transform {
        case .dense: break
        case .identity: toy.model.scoreTransforms = (0..<toy.model.attentionLayerCount).map { _ in IdentityScoreTransform() }
        case .tanhWithRegulariser: toy.model.scoreTransforms = (0..<toy.model.attentionLayerCount).map { _ in RecordingTanhTransform() }
        }
        let errors = wholeModelErrors(toy.parameters, loss: { toy.loss(true) }, backward: toy.backward)
        #expect(errors.count == toy.parameters.entries.count)
        expectGradientsMatch(errors)
    }

    @Test(arguments: ToyFamily.all)
    func transformsAddTheirRegulariserToTheLoss(family: ToyFamily) {
        let toy = family.make()
        let dense = toy.loss(true)
        let transforms = (0..<toy.model.attentionLayerCount).map { _ in RecordingTanhTransform() }
        toy.model.scoreTransforms = transforms
        let withTransforms = toy.loss(true)
        let regulariser = transforms.reduce(0) { $0 + $1.regularizerLoss }
        #expect(regulariser > 0)
        #expect(withTransforms != dense)
        #expect(transforms.allSatisfy { $0.forwards == 1 })
        // Identity transforms change nothing.
        toy.model.scoreTransforms = (0..<toy.model.attentionLayerCount).map { _ in IdentityScoreTransform() }
        #expect(abs(toy.loss(true) - dense) < 1e-6)
    }

    @Test func decoderTransformSeesNoFutureKeys() {
        let toy = ToyFamily.gpt2.make()
        let transforms = (0..<2).map { _ in RecordingTanhTransform() }
        toy.model.scoreTransforms = transforms
        _ = toy.loss(false)
        let batch = Toy.sequenceBatch(), heads = Toy.decoderConfig.heads
        for t in transforms {
            #expect(t.seen.allSatisfy { $0.j <= $0.i }, "a future key reached the transform")
            // Exactly the causal triangle: T(T+1)/2 pairs per (batch, head).
            #expect(t.seen.count == batch.batch * heads * batch.time * (batch.time + 1) / 2)
        }
    }

    @Test func memoryNetworkTransformSeesNoEmptySlots() {
        let toy = ToyFamily.memn2n.make()
        let transforms = (0..<3).map { _ in RecordingTanhTransform() }
        toy.model.scoreTransforms = transforms
        _ = toy.loss(true)
        let counts = Toy.memoryBatch().counts
        for t in transforms {
            #expect(t.seen.allSatisfy { $0.h == 0 && $0.i == 0 && $0.j < Int(counts[$0.b]) }, "an empty memory slot reached the transform")
            #expect(t.seen.count == counts.reduce(0) { $0 + Int($1) })
        }
    }

    @Test func vitTransformSeesEveryPairOfItsTokens() {
        let toy = ToyFamily.vit.make()
        let transforms = (0..<2).map { _ in RecordingTanhTransform() }
        toy.model.scoreTransforms = transforms
        _ = toy.loss(false)
        let t = Toy.vitConfig.tokens
        #expect(transforms.allSatisfy { $0.seen.count == 2 * Toy.vitConfig.heads * t * t })
    }

    @Test func memoryNetworkIgnoresEmptySlotsAndPaddingWords() {
        let net = MemoryNetwork(config: Toy.memoryConfig, seed: 5)
        var batch = Toy.memoryBatch()
        net.forward(batch, training: false)
        let before = net.logits
        // Question 2 has one valid memory (slot 0): rewriting its slots 1…4 must not change its answer logits.
        for k in (2 * 20 + 4)..<(3 * 20) where batch.memories[k] >= 0 { batch.memories[k] = 1 }
        net.forward(batch, training: false)
        #expect(net.logits == before)
        batch.memories[2 * 20] = batch.memories[2 * 20] == 7 ? 8 : 7
        net.forward(batch, training: false)
        #expect(Array(net.logits[6..<9]) != Array(before[6..<9]))
    }

    @Test(arguments: ToyFamily.all)
    func recorderReproducesTheModelsScores(family: ToyFamily) throws {
        let toy = family.make()
        let recorder = AttentionRecorder()
        toy.model.attentionRecorder = recorder
        _ = toy.loss(false)
        #expect(recorder.records.count == toy.model.attentionLayerCount)
        _ = toy.loss(true)
        #expect(recorder.records.count == toy.model.attentionLayerCount, "training forwards record nothing")
        for record in recorder.records {
            #expect(record.heads == toy.model.attentionHeadCount && record.headDimension == toy.model.attentionHeadDimension)
            #expect(record.causal == toy.model.attentionIsCausal)
        }
        _ = toy.loss(false)  // the scores of the last (inference) forward
        for record in recorder.records.suffix(toy.model.attentionLayerCount) {
            let scores = try #require(toy.scores(record.layer))
            let d = record.headDimension, scale = 1 / Float(d).squareRoot()
            var worst: Float = 0, checked = 0
            for b in 0..<record.batch {
                let valid = record.lengths.map { Int($0[b]) } ?? record.keys
                for h in 0..<record.heads {
                    for i in 0..<record.queries {
                        for j in 0..<(record.causal ? min(valid, i + 1) : valid) {
                            var dot: Float = 0
                            for e in 0..<d {
                                dot += record.q[((b * record.heads + h) * record.queries + i) * d + e]
                                    * record.k[((b * record.heads + h) * record.keys + j) * d + e]
                            }
                            let model = scores.pointer[((b * record.heads + h) * record.queries + i) * record.keys + j]
                            worst = max(worst, abs(dot * scale - model) / max(1, abs(model)))
                            checked += 1
                        }
                    }
                }
            }
            #expect(checked > 0)
            #expect(worst < 1e-5, "layer \(record.layer): q·k/√d differs from the model's score by \(worst)")
        }
    }

    @Test(arguments: ToyFamily.all)
    func overfitsASmallBatch(family: ToyFamily) {
        let toy = family.make()
        randomise(toy.parameters, std: 0.1, seed: 9)
        let p = toy.parameters
        let first = toy.loss(true)
        var m = [Float](repeating: 0, count: p.values.count), v = m
        // Plain Adam at 0.02 (kept local: Models tests do not import Training).
        for step in 1...300 {
            p.zeroGradients()
            _ = toy.loss(true)
            toy.backward()
            let b1: Float = 0.9, b2: Float = 0.999, lr: Float = 0.02
            let c1 = 1 - powf(b1, Float(step)), c2 = 1 - powf(b2, Float(step))
            for i in 0..<p.values.count {
                let g = p.gradients.pointer[i]
                m[i] = b1 * m[i] + (1 - b1) * g; v[i] = b2 * v[i] + (1 - b2) * g * g
                p.values.pointer[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + 1e-8)
            }
        }
        let last = toy.loss(true)
        #expect(last < 0.05 && last < first / 10, "\(family): loss \(first) → \(last)")
    }

    @Test(arguments: ToyFamily.all)
    func qkQuantisationChangesOnlyInferenceScores(family: ToyFamily) throws {
        let toy = family.make()
        let quantizable = try #require(toy.model as? QKQuantizable)
        let dense = toy.loss(false), denseTraining = toy.loss(true)
        quantizable.qkQuantizationBits = 16
        #expect(abs(toy.loss(false) - dense) < 1e-3, "16-bit q/k barely move the loss")
        quantizable.qkQuantizationBits = 3
        #expect(abs(toy.loss(false) - dense) > 1e-4, "3-bit q/k change the scores")
        #expect(toy.loss(true) == denseTraining, "training forwards are never quantised")
        quantizable.qkQuantizationBits = nil
        #expect(toy.loss(false) == dense)
    }

    @Test func decoderTiesItsInputAndOutputEmbeddings() {
        let net = CausalDecoder(config: Toy.decoderConfig, seed: 2)
        #expect(!net.parameters.contains("head.weight") && !net.parameters.entries.contains { $0.name.contains("lm_head") })
        // Changing one row of the token table changes the logit of that token at a position whose input differs.
        let batch = Toy.sequenceBatch()
        net.forward(batch, training: false)
        let before = Array(net.probabilities!.buffer)
        net.parameters.value("embeddings.token")[8 * 8] += 1  // row of token 8, never an input
        net.forward(batch, training: false)
        let after = Array(net.probabilities!.buffer)
        #expect(after[8] != before[8], "the output side reads the token table")
        #expect(net.attentionIsCausal)
    }

    @Test func decoderIsCausal() {
        // Changing a later token must not change earlier positions' predictions.
        let net = CausalDecoder(config: Toy.decoderConfig, seed: 2)
        var batch = Toy.sequenceBatch()
        net.forward(batch, training: false)
        let before = Array(net.probabilities!.buffer)
        batch.inputs[3] = 5
        net.forward(batch, training: false)
        let after = Array(net.probabilities!.buffer)
        let v = Toy.decoderConfig.vocabulary
        #expect(Array(after[0..<(3 * v)]) == Array(before[0..<(3 * v)]))
        #expect(Array(after[(3 * v)..<(4 * v)]) != Array(before[(3 * v)..<(4 * v)]))
    }

    @Test func checkpointsRoundTripForEveryFamily() throws {
        let nets: [(ParameterSet, [String: String], ParameterSet)] = [
            (MemoryNetwork(config: Toy.memoryConfig, seed: 1).parameters, MemoryNetwork(config: Toy.memoryConfig, seed: 1).metadata,
             MemoryNetwork(config: Toy.memoryConfig, seed: 2).parameters),
            (CausalDecoder(config: Toy.decoderConfig, seed: 1).parameters, [:], CausalDecoder(config: Toy.decoderConfig, seed: 2).parameters),
            (VisionTransformer(config: Toy.vitConfig, seed: 1).parameters, [:], VisionTransformer(config: Toy.vitConfig, seed: 2).parameters),
        ]
        for (k, (a, metadata, b)) in nets.enumerated() {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("family-\(getpid())-\(k).safetensors").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try a.write(path: path, metadata: metadata)
            #expect(a.values.values != b.values.values)
            try b.load(from: SafetensorsFile.read(path: path))
            #expect(a.values.values == b.values.values)
        }
    }
}
