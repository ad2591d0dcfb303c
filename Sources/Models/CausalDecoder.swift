// gpt2-tiny: a GPT-2-style causal decoder language model (pre-LN blocks, learned positions, TIED embeddings):
//   h₀ = E_tok[x] + E_pos[t];  h_l = Block_l(h_{l−1}) (causal attention);  z = LN_f(h_L)
//   logits = z·E_tokᵀ  (the output projection IS the token table, no bias);  loss = mean next-token cross-entropy.
// Tying means the token table receives gradient from both ends (embedding lookup and output projection), both
// accumulated into the same gradient block.
import Basics
import Layers
import Tensors

public struct DecoderConfig: Sendable, Equatable {
    public var vocabulary: Int
    public var maxTime: Int
    public var channels: Int
    public var heads: Int
    public var layers: Int
    public var ffHidden: Int
    public var layerNormEpsilon: Float = 1e-5

    public init(vocabulary: Int, maxTime: Int, channels: Int, heads: Int, layers: Int, ffHidden: Int) {
        precondition(channels % heads == 0, "channels \(channels) not divisible by \(heads) heads")
        self.vocabulary = vocabulary; self.maxTime = maxTime; self.channels = channels; self.heads = heads
        self.layers = layers; self.ffHidden = ffHidden
    }

    public var json: JSONValue {
        .object(["model": "gpt2", "vocabulary": JSONValue(vocabulary), "max_time": JSONValue(maxTime),
                 "channels": JSONValue(channels), "heads": JSONValue(heads), "layers": JSONValue(layers),
                 "ff_hidden": JSONValue(ffHidden)])
    }

    public var parameterLayout: [(name: String, shape: [Int], decays: Bool)] {
        var l: [(name: String, shape: [Int], decays: Bool)] = [
            ("embeddings.token", [vocabulary, channels], true), ("embeddings.position", [maxTime, channels], true),
        ]
        for i in 0..<layers { l += PreNormBlockLayout.entries(prefix: "blocks.\(i).", channels: channels, ffHidden: ffHidden) }
        l += [("final_norm.weight", [channels], false), ("final_norm.bias", [channels], false)]
        return l
    }
}

/// Windows of a token stream: `inputs` and next-token `targets`, both [batch, time].
public struct SequenceBatch: Sendable {
    public var batch: Int
    public var time: Int
    public var inputs: [Int32]
    public var targets: [Int32]
    public init(batch: Int, time: Int, inputs: [Int32], targets: [Int32]) {
        precondition(inputs.count == batch * time && targets.count == batch * time, "a \(batch)×\(time) batch needs \(batch * time) inputs and targets")
        self.batch = batch; self.time = time; self.inputs = inputs; self.targets = targets
    }
}

public final class CausalDecoder: TrainableModel, AttentionPrunable, QKQuantizable, @unchecked Sendable {
    public let config: DecoderConfig
    public let parameters: ParameterSet
    public var scoreTransforms: [(any ScoreTransform)?]
    public var attentionRecorder: AttentionRecorder?
    /// When non-nil, inference forwards fake-quantise q and k to this many bits (see `QKQuantization`).
    public var qkQuantizationBits: Int?
    /// Mean next-token cross-entropy (nats) of the last forward, without regulariser terms.
    public private(set) var taskLoss = 0.0
    /// Each position's next-token cross-entropy (nats) of the last forward, [batch·time] row-major: `taskLoss` is
    /// their mean. Window i's summed loss is the sum of rows i·time ..< (i+1)·time.
    public private(set) var rowLosses: [Double] = []
    private var acts: Activations?

    public init(config: DecoderConfig, seed: UInt64) {
        self.config = config
        parameters = ParameterSet(layout: config.parameterLayout)
        scoreTransforms = Array(repeating: nil, count: config.layers)
        // GPT-2 initialisation: N(0, 0.02²) for matrices and tables; the two residual-branch output projections
        // of each block scaled by 1/√(2·layers); zero biases, unit norm gains.
        var rng = SeededGenerator(seed: seed)
        let residualStd = 0.02 / Float(2 * max(config.layers, 1)).squareRoot()
        for e in parameters.entries {
            if e.name.hasSuffix("ln1.weight") || e.name.hasSuffix("ln2.weight") || e.name.hasSuffix("norm.weight") {
                Initialiser.constant(parameters.view(e.name), 1)
            } else if e.decays {
                let residual = e.name.hasSuffix("attention.output.weight") || e.name.hasSuffix("ffn.down.weight")
                Initialiser.normal(parameters.view(e.name), std: residual ? residualStd : 0.02, using: &rng)
            }
        }
    }

    public var metadata: [String: String] { ["config": CanonicalJSON.encode(config.json)] }

    // MARK: AttentionPrunable
    public var attentionLayerCount: Int { config.layers }
    public var attentionHeadCount: Int { config.heads }
    public var attentionHeadDimension: Int { config.channels / config.heads }
    public var attentionValueDimension: Int { config.channels / config.heads }
    public var attentionIsCausal: Bool { true }

    final class Activations {
        let shape: BlockShape
        let inputs: Tensor32, targets: Tensor32
        let emb: Tensor
        let blocks: [PreNormBlock]
        let final, finalMean, finalRstd, logits, probs: Tensor
        let scratch: BlockScratch
        let gH, gNext, gFinal, gLogits: Tensor
        init(config c: DecoderConfig, batch: Int, time: Int) {
            let shape = BlockShape(batch: batch, time: time, channels: c.channels, heads: c.heads, ffHidden: c.ffHidden)
            self.shape = shape
            let n = batch * time, ch = c.channels
            inputs = Tensor32(count: n); targets = Tensor32(count: n)
            emb = Tensor(shape: [n, ch])
            blocks = (0..<c.layers).map { PreNormBlock(prefix: "blocks.\($0).", shape: shape, epsilon: c.layerNormEpsilon) }
            final = Tensor(shape: [n, ch]); finalMean = Tensor(shape: [n]); finalRstd = Tensor(shape: [n])
            logits = Tensor(shape: [n, c.vocabulary]); probs = Tensor(shape: [n, c.vocabulary])
            scratch = BlockScratch(shape)
            gH = Tensor(shape: [n, ch]); gNext = Tensor(shape: [n, ch]); gFinal = Tensor(shape: [n, ch])
            gLogits = Tensor(shape: [n, c.vocabulary])
        }
    }

    private func activations(batch: Int, time: Int) -> Activations {
        if let a = acts, a.shape.batch == batch, a.shape.time == time { return a }
        precondition(time <= config.maxTime, "sequence length \(time) exceeds the model's \(config.maxTime)")
        let a = Activations(config: config, batch: batch, time: time)
        acts = a
        return a
    }

    /// Next-token probabilities of the last forward, [batch·time, vocabulary].
    public var probabilities: TensorView? { acts?.probs.view }
    public func attentionScores(layer: Int) -> TensorView? { acts?.blocks[layer].scores.view }

    /// Mean next-token cross-entropy (nats) of the batch, plus every transform's regulariser term.
    @discardableResult
    public func forward(_ batch: SequenceBatch, training: Bool) -> Double {
        let c = config, a = activations(batch: batch.batch, time: batch.time)
        let n = a.shape.rows, ch = c.channels, p = parameters
        a.inputs.set(batch.inputs); a.targets.set(batch.targets)
        Embedding.forward(out: a.emb.pointer, tokens: a.inputs.pointer, tokenTable: p.value("embeddings.token"),
                          positionTable: p.value("embeddings.position"), batch: batch.batch, time: batch.time,
                          channels: ch, vocabulary: c.vocabulary)
        let mask = AttentionMask(causal: true, lengths: nil)
        var h = UnsafePointer(a.emb.pointer)
        for (l, block) in a.blocks.enumerated() {
            block.forward(h, parameters: p, mask: mask, transform: scoreTransforms[l], training: training,
                          quantizationBits: qkQuantizationBits)
            if !training, let recorder = attentionRecorder { recorder.append(block.record(layer: l, lengths: nil, causal: true)) }
            h = UnsafePointer(block.out.pointer)
        }
        LayerNorm.forward(out: a.final.pointer, mean: a.finalMean.pointer, rstd: a.finalRstd.pointer, inp: h,
                          weight: p.value("final_norm.weight"), bias: p.value("final_norm.bias"), rows: n, channels: ch,
                          epsilon: c.layerNormEpsilon)
        // Tied output projection: logits = z·E_tokᵀ.
        Linear.forward(out: a.logits.pointer, inp: a.final.pointer, weight: p.value("embeddings.token"), bias: nil,
                       rows: n, inFeatures: ch, outFeatures: c.vocabulary)
        if rowLosses.count != n { rowLosses = [Double](repeating: 0, count: n) }
        taskLoss = rowLosses.withUnsafeMutableBufferPointer { rows in
            CrossEntropy.forward(probs: a.probs.pointer, logits: a.logits.pointer, targets: a.targets.pointer,
                                 rows: n, classes: c.vocabulary, rowLosses: rows.baseAddress)
        }
        var loss = taskLoss
        for tr in scoreTransforms { if let tr { loss += tr.regularizerLoss } }
        return loss
    }

    public func backward(lossScale: Float = 1) {
        guard let a = acts else { preconditionFailure("backward() before forward()") }
        let c = config, n = a.shape.rows, ch = c.channels, p = parameters
        let mask = AttentionMask(causal: true, lengths: nil)
        a.gLogits.zero()
        CrossEntropy.backward(dlogits: a.gLogits.pointer, probs: a.probs.pointer, targets: a.targets.pointer,
                              rows: n, classes: c.vocabulary, scale: lossScale)
        // logits = z·Eᵀ:  dz = dlogits·E;  dE += dlogitsᵀ·z (the tied table's output-side gradient).
        a.gFinal.zero()
        Linear.backward(dinp: a.gFinal.pointer, dweight: p.grad("embeddings.token"), dbias: nil, dout: a.gLogits.pointer,
                        inp: a.final.pointer, weight: p.value("embeddings.token"), rows: n, inFeatures: ch, outFeatures: c.vocabulary)
        a.gH.zero()
        let lastInput = a.blocks.last.map { UnsafePointer($0.out.pointer) } ?? UnsafePointer(a.emb.pointer)
        LayerNorm.backward(dinp: a.gH.pointer, dweight: p.grad("final_norm.weight"), dbias: p.grad("final_norm.bias"),
                           dout: a.gFinal.pointer, inp: lastInput, weight: p.value("final_norm.weight"),
                           mean: a.finalMean.pointer, rstd: a.finalRstd.pointer, rows: n, channels: ch)
        // gH holds dL/d(output of block l); each block writes dL/d(its input) into gNext, then the two swap roles.
        var gOut = a.gH, gIn = a.gNext
        for l in stride(from: a.blocks.count - 1, through: 0, by: -1) {
            let input = l == 0 ? UnsafePointer(a.emb.pointer) : UnsafePointer(a.blocks[l - 1].out.pointer)
            gIn.zero()
            a.blocks[l].backward(dx: gIn.pointer, dout: gOut.pointer, input: input, parameters: p, mask: mask,
                                 transform: scoreTransforms[l], scratch: a.scratch)
            swap(&gOut, &gIn)
        }
        Embedding.backward(dTokenTable: p.grad("embeddings.token"), dPositionTable: p.grad("embeddings.position"),
                           dout: gOut.pointer, tokens: a.inputs.pointer, batch: a.shape.batch, time: a.shape.time, channels: ch)
    }
}
