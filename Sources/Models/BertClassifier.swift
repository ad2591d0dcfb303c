// The BERT-style encoder classifier (post-LayerNorm, as BERT):
//   h₀ = Dropout(LN(E_tok[x] + E_pos[t]))
//   per layer:  a = Attention(h·W_qkvᵀ + b) · W_oᵀ + b;  h' = LN(h + Dropout(a))
//               f = GELU(h'·W_upᵀ + b) · W_downᵀ + b;    h″ = LN(h' + Dropout(f))
//   logits = h_L[:, 0, :] · W_clsᵀ + b  (CLS pooling, no tanh pooler);  loss = cross-entropy (ignore −100) or MSE.
// ALBERT options (BertConfig.embeddingSize / sharedLayers): h₀ = Dropout(LN_E(E_tok[x] + E_pos[t])·W_projᵀ + b) with
// tables of width E < C, and every layer application reading the parameters of layer 0 (gradients accumulate).
// Shapes are declared once per batch size in `Activations`; nothing is allocated inside a training step.
import Basics
import Layers
import Tensors

/// One batch of token sequences. `tokens` is [batch, time] row-major; `lengths` gives the valid (unpadded) tokens
/// of each example; `labels` are class ids (classification) and `targets` real values (regression, classes = 1).
/// `softTargets`, when not empty, replaces the labels in the loss of a classifier: one distribution per example,
/// [batch, classes] (distillation from a teacher's outputs); the labels are still required and still reported.
public struct TokenBatch: Sendable {
    public var batch: Int
    public var time: Int
    public var tokens: [Int32]
    public var lengths: [Int32]
    public var labels: [Int32]
    public var targets: [Float]
    /// Token-type (segment) ids, [batch, time]; empty means type 0 everywhere. Read only by models with a
    /// token-type table (`BertConfig.typeVocabulary > 0`).
    public var tokenTypes: [Int32]
    public var softTargets: [Float] = []
    /// Hidden-state distillation: when not empty, [layers, batch, time, channels] targets for every layer's output,
    /// and the loss gains `hiddenWeight`·(1/L)·Σ_l mean over valid tokens and channels of (h_l − target_l)².
    public var hiddenTargets: [Float] = []
    public var hiddenWeight: Float = 0

    public init(batch: Int, time: Int, tokens: [Int32], lengths: [Int32]? = nil, labels: [Int32] = [], targets: [Float] = [],
                tokenTypes: [Int32] = []) {
        precondition(tokens.count == batch * time, "\(tokens.count) tokens for a \(batch)×\(time) batch")
        precondition(tokenTypes.isEmpty || tokenTypes.count == batch * time, "\(tokenTypes.count) token types for a \(batch)×\(time) batch")
        self.batch = batch; self.time = time; self.tokens = tokens
        self.lengths = lengths ?? [Int32](repeating: Int32(time), count: batch)
        self.labels = labels; self.targets = targets; self.tokenTypes = tokenTypes
        precondition(self.lengths.count == batch)
    }

    /// A reproducible random batch (benchmarks, tests): uniform tokens, full lengths, uniform labels.
    public static func random(batch: Int, time: Int, vocabulary: Int, classes: Int, seed: UInt64) -> TokenBatch {
        var rng = SeededGenerator(seed: seed)
        let tokens = (0..<(batch * time)).map { _ in Int32(rng.nextInt(below: vocabulary)) }
        let labels = (0..<batch).map { _ in Int32(rng.nextInt(below: classes)) }
        return TokenBatch(batch: batch, time: time, tokens: tokens, labels: labels)
    }
}

public final class BertClassifier: @unchecked Sendable {
    public let config: BertConfig
    public let parameters: ParameterSet
    /// One optional score transform per layer (nil = dense attention). Set by the learned-pruning layer.
    public var scoreTransforms: [(any ScoreTransform)?]
    /// When false (the default) and the last layer has no score transform, the last layer carries only the CLS
    /// rows past its attention (queries of other positions feed nothing the head reads): identical logits, loss and
    /// gradients for ~40% fewer FLOPs in bert-tiny. Set true to compute every position of the last layer (e.g. to
    /// capture its full attention scores for traces).
    public var computeFullLastLayer = false
    /// When non-nil, inference forwards record q and k of every layer (attention traces; forces the full last layer).
    public var attentionRecorder: AttentionRecorder?
    /// When non-nil, inference forwards fake-quantise q and k to this many bits (see `QKQuantization`).
    public var qkQuantizationBits: Int?
    var usesCompactLastLayer: Bool {
        config.layers > 0 && !computeFullLastLayer && scoreTransforms[config.layers - 1] == nil && attentionRecorder == nil
            && qkQuantizationBits == nil
    }
    /// Dropout randomness; reseeded by `init(seed:)`, advanced by every training forward.
    public var dropoutGenerator: SeededGenerator
    private var acts: Activations?
    private var lastTraining = false

    /// `extraParameters` are appended to the flat parameter memory after the model's own (zero-initialised): the
    /// hook for trainable score-transform parameters (learned thresholds), which then share the optimiser, the
    /// gradient checks and the checkpoint with the rest of the model.
    public init(config: BertConfig, seed: UInt64, extraParameters: [ParameterSet.Spec] = []) {
        self.config = config
        parameters = ParameterSet(specs: config.parameterLayout.map { ParameterSet.Spec(name: $0.name, shape: $0.shape, decays: $0.decays) } + extraParameters)
        scoreTransforms = Array(repeating: nil, count: config.layers)
        var rng = SeededGenerator(seed: seed)
        dropoutGenerator = SeededGenerator(seed: seed ^ 0xD50F_0A7E)
        // BERT initialisation: N(0, 0.02²) for matrices and embeddings, zero biases, unit norm gains.
        let own = Set(config.parameterLayout.map(\.name))
        for e in parameters.entries where own.contains(e.name) {
            if e.name.hasSuffix("norm.weight") { Initialiser.constant(parameters.view(e.name), 1) }
            else if e.decays { Initialiser.normal(parameters.view(e.name), std: 0.02, using: &rng) }
        }
    }

    public var metadata: [String: String] { ["config": CanonicalJSON.encode(config.json)] }

    /// Activations and backward scratch for one (batch, time) shape, allocated once.
    final class Activations {
        let b: Int, t: Int
        let tokens: Tensor32, lengths: Tensor32, labels: Tensor32, types: Tensor32
        let targets: Tensor
        /// [b, classes]: the soft targets of the last forward (used when `softTargetsSet`).
        let softTargets: Tensor
        var softTargetsSet = false
        /// [layers·n, channels]: the hidden-state targets of the last forward (allocated on first use).
        var hiddenTargets: Tensor?
        var hiddenWeight: Float = 0
        var hiddenSet: Bool { hiddenWeight != 0 }
        /// Whether the last forward carried only the CLS rows past the last layer's attention.
        var compactLast = false
        let emb, embOut, embMean, embRstd, embMask: Tensor
        /// ALBERT: the LayerNorm output of width E before the projection to C ([0] without factorisation).
        let embNorm: Tensor
        let layers: [LayerActs]
        let pooled, logits, probs: Tensor
        // backward scratch
        let gOut, gRes, gBranch, gAtty, gQKV, gFFa, gFFb, gScores, gPooled, gLogits: Tensor

        init(config c: BertConfig, batch b: Int, time t: Int) {
            self.b = b; self.t = t
            let n = b * t, ch = c.channels, f = c.ffHidden
            tokens = Tensor32(count: n); lengths = Tensor32(count: b); labels = Tensor32(count: b)
            types = Tensor32(count: c.typeVocabulary > 0 ? n : 0)
            targets = Tensor(shape: [b])
            softTargets = Tensor(shape: [b, c.classes])
            emb = Tensor(shape: [n, c.embeddingWidth]); embNorm = Tensor(shape: c.embeddingSize == nil ? [0] : [n, c.embeddingWidth])
            embOut = Tensor(shape: [n, ch]); embMean = Tensor(shape: [n]); embRstd = Tensor(shape: [n])
            embMask = Tensor(shape: c.dropout > 0 ? [n, ch] : [0])
            layers = (0..<c.layers).map { _ in LayerActs(config: c, batch: b, time: t) }
            pooled = Tensor(shape: [b, ch]); logits = Tensor(shape: [b, c.classes]); probs = Tensor(shape: [b, c.classes])
            gOut = Tensor(shape: [n, ch]); gRes = Tensor(shape: [n, ch]); gBranch = Tensor(shape: [n, ch])
            gAtty = Tensor(shape: [n, ch]); gQKV = Tensor(shape: [n, 3 * ch])
            gFFa = Tensor(shape: [n, f]); gFFb = Tensor(shape: [n, f])
            gScores = Tensor(shape: [b, c.heads, t, t])
            gPooled = Tensor(shape: [b, ch]); gLogits = Tensor(shape: [b, c.classes])
        }
    }

    final class LayerActs {
        let clsInput: Tensor
        let qkv, scores, transformed, probs, atty, attProj, attMask, res1, ln1, ln1Mean, ln1Rstd: Tensor
        let ff1, gelu, geluDerivative, ff2, ffMask, res2, out, outMean, outRstd: Tensor
        init(config c: BertConfig, batch b: Int, time t: Int) {
            let n = b * t, ch = c.channels, f = c.ffHidden
            qkv = Tensor(shape: [n, 3 * ch])
            clsInput = Tensor(shape: [b, ch])
            scores = Tensor(shape: [b, c.heads, t, t]); transformed = Tensor(shape: [b, c.heads, t, t])
            probs = Tensor(shape: [b, c.heads, t, t])
            atty = Tensor(shape: [n, ch]); attProj = Tensor(shape: [n, ch])
            attMask = Tensor(shape: c.dropout > 0 ? [n, ch] : [0])
            res1 = Tensor(shape: [n, ch]); ln1 = Tensor(shape: [n, ch]); ln1Mean = Tensor(shape: [n]); ln1Rstd = Tensor(shape: [n])
            ff1 = Tensor(shape: [n, f]); gelu = Tensor(shape: [n, f]); geluDerivative = Tensor(shape: [n, f]); ff2 = Tensor(shape: [n, ch])
            ffMask = Tensor(shape: c.dropout > 0 ? [n, ch] : [0])
            res2 = Tensor(shape: [n, ch]); out = Tensor(shape: [n, ch]); outMean = Tensor(shape: [n]); outRstd = Tensor(shape: [n])
        }
    }

    private func activations(batch b: Int, time t: Int) -> Activations {
        if let a = acts, a.b == b, a.t == t { return a }
        precondition(t <= config.maxTime, "sequence length \(t) exceeds the model's \(config.maxTime)")
        let a = Activations(config: config, batch: b, time: t)
        acts = a
        return a
    }

    /// A separate model with the same configuration and a copy of the current weights (no score transforms, no
    /// recorder, its own activations): a frozen teacher for distillation. Extra parameters are not copied.
    public func copyOfWeights() -> BertClassifier {
        let copy = BertClassifier(config: config, seed: 0)
        for e in copy.parameters.entries {
            copy.parameters.value(e.name).update(from: parameters.value(e.name), count: e.count)
        }
        return copy
    }

    /// The last forward's logits, [batch, classes].
    public var logits: [Float] { acts?.logits.values ?? [] }

    /// The exposed pre-softmax scaled scores of layer `layer` from the last forward, [batch, heads, T, T]. In a
    /// compact last layer (see `computeFullLastLayer`) only the CLS rows are computed, stored as [batch, heads, T].
    public func attentionScores(layer: Int) -> TensorView? { acts?.layers[layer].scores.view }
    public func attentionProbabilities(layer: Int) -> TensorView? { acts?.layers[layer].probs.view }

    /// The encoder's last hidden states, [batch, time, channels] row-major, of an inference forward over `batch`
    /// (every position of the last layer is computed; the head's loss is computed and discarded, so labels or
    /// targets may be absent). What Hugging Face calls `last_hidden_state`; used to verify imported checkpoints.
    public func lastHiddenStates(_ batch: TokenBatch) -> [Float] {
        var input = batch
        if config.classes == 1 { if input.targets.isEmpty { input.targets = [Float](repeating: 0, count: batch.batch) } }
        else if input.labels.isEmpty { input.labels = [Int32](repeating: 0, count: batch.batch) }
        let wasFull = computeFullLastLayer
        computeFullLastLayer = true
        defer { computeFullLastLayer = wasFull }
        forward(input, training: false)
        guard let a = acts else { return [] }
        let out = config.layers > 0 ? a.layers[config.layers - 1].out : a.embOut
        return Array(UnsafeBufferPointer(start: out.pointer, count: batch.batch * batch.time * config.channels))
    }

    /// Runs the forward pass and returns the loss (task loss plus any score-transform regulariser terms).
    @discardableResult
    public func forward(_ batch: TokenBatch, training: Bool) -> Double {
        let c = config, a = activations(batch: batch.batch, time: batch.time)
        let b = a.b, t = a.t, n = b * t, ch = c.channels, f = c.ffHidden
        let p = parameters
        lastTraining = training
        a.tokens.set(batch.tokens); a.lengths.set(batch.lengths)
        let regression = c.classes == 1
        if regression { precondition(batch.targets.count == b, "regression needs \(b) targets"); batch.targets.withUnsafeBufferPointer { a.targets.pointer.update(from: $0.baseAddress!, count: b) } }
        else { precondition(batch.labels.count == b, "classification needs \(b) labels"); a.labels.set(batch.labels) }
        a.softTargetsSet = !regression && !batch.softTargets.isEmpty
        if a.softTargetsSet {
            precondition(batch.softTargets.count == b * c.classes, "soft targets need \(b)×\(c.classes) values")
            batch.softTargets.withUnsafeBufferPointer { a.softTargets.pointer.update(from: $0.baseAddress!, count: b * c.classes) }
        }
        a.hiddenWeight = 0
        precondition(batch.hiddenWeight == 0 || !batch.hiddenTargets.isEmpty, "a hidden-state weight needs hidden targets")
        if !batch.hiddenTargets.isEmpty, batch.hiddenWeight != 0 {
            let count = c.layers * b * batch.time * c.channels
            precondition(batch.hiddenTargets.count == count, "hidden targets need \(c.layers)×\(b)×\(batch.time)×\(c.channels) values")
            if a.hiddenTargets == nil { a.hiddenTargets = Tensor(shape: [c.layers * n, c.channels]) }
            batch.hiddenTargets.withUnsafeBufferPointer { a.hiddenTargets!.pointer.update(from: $0.baseAddress!, count: count) }
            a.hiddenWeight = batch.hiddenWeight
        }
        let dropout = training ? c.dropout : 0

        let e = c.embeddingWidth, factorised = c.embeddingSize != nil
        Embedding.forward(out: a.emb.pointer, tokens: a.tokens.pointer, tokenTable: p.value("embeddings.token"),
                          positionTable: p.value("embeddings.position"), batch: b, time: t, channels: e, vocabulary: c.vocabulary)
        if c.typeVocabulary > 0 {
            if batch.tokenTypes.isEmpty { a.types.pointer.update(repeating: 0, count: n) } else { a.types.set(batch.tokenTypes) }
            SegmentEmbedding.forward(out: a.emb.pointer, types: a.types.pointer, typeTable: p.value("embeddings.token_type"),
                                     rows: n, channels: e, typeCount: c.typeVocabulary)
        }
        LayerNorm.forward(out: factorised ? a.embNorm.pointer : a.embOut.pointer, mean: a.embMean.pointer, rstd: a.embRstd.pointer,
                          inp: a.emb.pointer, weight: p.value("embeddings.norm.weight"), bias: p.value("embeddings.norm.bias"),
                          rows: n, channels: e, epsilon: c.layerNormEpsilon)
        if factorised {
            Linear.forward(out: a.embOut.pointer, inp: a.embNorm.pointer, weight: p.value("embeddings.projection.weight"),
                           bias: p.value("embeddings.projection.bias"), rows: n, inFeatures: e, outFeatures: ch)
        }
        if dropout > 0 {
            Dropout.forward(out: a.embOut.pointer, mask: a.embMask.pointer, inp: a.embOut.pointer, count: n * ch,
                            probability: dropout, rng: &dropoutGenerator)
        }
        var h = a.embOut.pointer
        let shape = AttentionShape(batch: b, time: t, channels: ch, heads: c.heads)
        let mask = AttentionMask(causal: false, lengths: a.lengths.pointer)
        let compactLast = usesCompactLastLayer && !a.hiddenSet
        a.compactLast = compactLast
        for (l, la) in a.layers.enumerated() {
            let pre = c.layerPrefix(l)
            let compact = compactLast && l == c.layers - 1
            if compact {
                compactProjectionForward(qkv: la.qkv.pointer, h: h, weight: p.value(pre + "attention.qkv.weight"),
                                         bias: p.value(pre + "attention.qkv.bias"), batch: b, time: t)
            } else {
                Linear.forward(out: la.qkv.pointer, inp: h, weight: p.value(pre + "attention.qkv.weight"),
                               bias: p.value(pre + "attention.qkv.bias"), rows: n, inFeatures: ch, outFeatures: 3 * ch)
            }
            if !training, let bits = qkQuantizationBits {
                QKQuantization.fakeQuantize(qkv: la.qkv.pointer, rows: n, channels: ch, bits: bits)
            }
            if !training, let recorder = attentionRecorder {
                recordQueriesAndKeys(recorder, layer: l, qkv: la.qkv.pointer, batch: b, time: t, lengths: batch.lengths)
            }
            // Rows this layer carries past attention: all tokens, or only the CLS rows in a compact last layer.
            let rows: Int
            var hRows = UnsafePointer(h)
            if compact {
                rows = b
                Attention.forwardFirstQuery(out: la.atty.pointer, probs: la.probs.pointer, scores: la.scores.pointer,
                                            qkv: la.qkv.pointer, shape: shape, mask: mask)
                Pooling.clsForward(out: la.clsInput.pointer, inp: h, batch: b, time: t, channels: ch)
                hRows = UnsafePointer(la.clsInput.pointer)
            } else {
                rows = n
                let transform = scoreTransforms[l]
                Attention.forward(out: la.atty.pointer, probs: la.probs.pointer, scores: la.scores.pointer,
                                  transformed: transform == nil ? nil : la.transformed.pointer, qkv: la.qkv.pointer,
                                  shape: shape, mask: mask, transform: transform, training: training)
            }
            Linear.forward(out: la.attProj.pointer, inp: la.atty.pointer, weight: p.value(pre + "attention.output.weight"),
                           bias: p.value(pre + "attention.output.bias"), rows: rows, inFeatures: ch, outFeatures: ch)
            if dropout > 0 {
                Dropout.forward(out: la.attProj.pointer, mask: la.attMask.pointer, inp: la.attProj.pointer, count: rows * ch,
                                probability: dropout, rng: &dropoutGenerator)
            }
            Residual.forward(out: la.res1.pointer, a: hRows, b: la.attProj.pointer, count: rows * ch)
            LayerNorm.forward(out: la.ln1.pointer, mean: la.ln1Mean.pointer, rstd: la.ln1Rstd.pointer, inp: la.res1.pointer,
                              weight: p.value(pre + "attention.norm.weight"), bias: p.value(pre + "attention.norm.bias"),
                              rows: rows, channels: ch, epsilon: c.layerNormEpsilon)
            Linear.forward(out: la.ff1.pointer, inp: la.ln1.pointer, weight: p.value(pre + "ffn.up.weight"),
                           bias: p.value(pre + "ffn.up.bias"), rows: rows, inFeatures: ch, outFeatures: f)
            switch c.activation {
            case .geluTanh: GELU.forward(out: la.gelu.pointer, derivative: la.geluDerivative.pointer, inp: la.ff1.pointer, count: rows * f)
            case .geluExact: GELUExact.forward(out: la.gelu.pointer, inp: la.ff1.pointer, count: rows * f)
            }
            Linear.forward(out: la.ff2.pointer, inp: la.gelu.pointer, weight: p.value(pre + "ffn.down.weight"),
                           bias: p.value(pre + "ffn.down.bias"), rows: rows, inFeatures: f, outFeatures: ch)
            if dropout > 0 {
                Dropout.forward(out: la.ff2.pointer, mask: la.ffMask.pointer, inp: la.ff2.pointer, count: rows * ch,
                                probability: dropout, rng: &dropoutGenerator)
            }
            Residual.forward(out: la.res2.pointer, a: la.ln1.pointer, b: la.ff2.pointer, count: rows * ch)
            LayerNorm.forward(out: la.out.pointer, mean: la.outMean.pointer, rstd: la.outRstd.pointer, inp: la.res2.pointer,
                              weight: p.value(pre + "ffn.norm.weight"), bias: p.value(pre + "ffn.norm.bias"),
                              rows: rows, channels: ch, epsilon: c.layerNormEpsilon)
            h = la.out.pointer
        }
        if compactLast {
            a.pooled.pointer.update(from: h, count: b * ch)
        } else {
            Pooling.clsForward(out: a.pooled.pointer, inp: h, batch: b, time: t, channels: ch)
        }
        Linear.forward(out: a.logits.pointer, inp: a.pooled.pointer, weight: p.value("classifier.weight"),
                       bias: p.value("classifier.bias"), rows: b, inFeatures: ch, outFeatures: c.classes)
        var loss: Double
        if regression {
            loss = MSE.forward(pred: a.logits.pointer, target: a.targets.pointer, count: b)
        } else if a.softTargetsSet {
            loss = SoftTargetCrossEntropy.forward(probs: a.probs.pointer, logits: a.logits.pointer, targets: a.softTargets.pointer,
                                                  rows: b, classes: c.classes)
        } else {
            loss = CrossEntropy.forward(probs: a.probs.pointer, logits: a.logits.pointer, targets: a.labels.pointer,
                                        rows: b, classes: c.classes)
        }
        if a.hiddenSet { loss += hiddenStateLoss(a) }
        for tr in scoreTransforms { if let tr { loss += tr.regularizerLoss } }
        return loss
    }

    /// Scale of the hidden-state loss: weight / (layers · valid tokens · channels).
    private func hiddenScale(_ a: Activations) -> Double {
        var valid = 0
        for i in 0..<a.b { valid += Int(min(a.lengths.pointer[i], Int32(a.t))) }
        return Double(a.hiddenWeight) / Double(max(1, config.layers * valid * config.channels))
    }

    /// weight·(1/L)·Σ_l mean over the valid tokens and channels of (h_l − target_l)² (padded positions excluded).
    private func hiddenStateLoss(_ a: Activations) -> Double {
        guard let targets = a.hiddenTargets else { return 0 }
        let ch = config.channels, n = a.b * a.t
        var sum = 0.0
        for (l, la) in a.layers.enumerated() {
            let h = la.out.pointer, y = targets.pointer + l * n * ch
            for i in 0..<a.b {
                for t in 0..<Int(min(a.lengths.pointer[i], Int32(a.t))) {
                    let row = (i * a.t + t) * ch
                    for k in 0..<ch { let d = Double(h[row + k] - y[row + k]); sum += d * d }
                }
            }
        }
        return hiddenScale(a) * sum
    }

    /// Adds the hidden-state loss's gradient for layer `l`'s output into `g` ([n, channels]).
    private func addHiddenStateGradient(_ a: Activations, layer l: Int, into g: UnsafeMutablePointer<Float>, lossScale: Float) {
        guard let targets = a.hiddenTargets else { return }
        let ch = config.channels, n = a.b * a.t
        let scale = Float(2 * hiddenScale(a)) * lossScale
        let h = a.layers[l].out.pointer, y = targets.pointer + l * n * ch
        for i in 0..<a.b {
            for t in 0..<Int(min(a.lengths.pointer[i], Int32(a.t))) {
                let row = (i * a.t + t) * ch
                for k in 0..<ch { g[row + k] += scale * (h[row + k] - y[row + k]) }
            }
        }
    }

    /// Every layer's output from the last forward, [layers, batch, time, channels] (the targets a hidden-state
    /// distillation student reads). Needs a forward with the full last layer (`computeFullLastLayer`).
    public var layerOutputs: [Float] {
        guard let a = acts else { return [] }
        precondition(!a.compactLast, "layerOutputs needs a forward with the full last layer (computeFullLastLayer)")
        let count = a.b * a.t * config.channels
        var out = [Float](); out.reserveCapacity(config.layers * count)
        for la in a.layers { out.append(contentsOf: UnsafeBufferPointer(start: la.out.pointer, count: count)) }
        return out
    }

    /// Backward pass of the last forward; ACCUMULATES into `parameters.gradients` (zero them per step).
    /// `lossScale` multiplies the task-loss gradient (1/k for k-step gradient accumulation).
    public func backward(lossScale: Float = 1) {
        guard let a = acts else { preconditionFailure("backward() before forward()") }
        let c = config, b = a.b, t = a.t, n = b * t, ch = c.channels, f = c.ffHidden
        let p = parameters
        let dropout = lastTraining ? c.dropout : 0
        let shape = AttentionShape(batch: b, time: t, channels: ch, heads: c.heads)
        let mask = AttentionMask(causal: false, lengths: a.lengths.pointer)

        a.gLogits.zero(); a.gPooled.zero()
        if c.classes == 1 {
            MSE.backward(dpred: a.gLogits.pointer, pred: a.logits.pointer, target: a.targets.pointer, count: b, scale: lossScale)
        } else if a.softTargetsSet {
            SoftTargetCrossEntropy.backward(dlogits: a.gLogits.pointer, probs: a.probs.pointer, targets: a.softTargets.pointer,
                                            rows: b, classes: c.classes, scale: lossScale)
        } else {
            CrossEntropy.backward(dlogits: a.gLogits.pointer, probs: a.probs.pointer, targets: a.labels.pointer,
                                  rows: b, classes: c.classes, scale: lossScale)
        }
        Linear.backward(dinp: a.gPooled.pointer, dweight: p.grad("classifier.weight"), dbias: p.grad("classifier.bias"),
                        dout: a.gLogits.pointer, inp: a.pooled.pointer, weight: p.value("classifier.weight"),
                        rows: b, inFeatures: ch, outFeatures: c.classes)
        let compactLast = a.compactLast
        if compactLast {
            a.gOut.pointer.update(from: a.gPooled.pointer, count: b * ch)
        } else {
            a.gOut.zero()
            Pooling.clsBackward(dinp: a.gOut.pointer, dout: a.gPooled.pointer, batch: b, time: t, channels: ch)
        }

        // Invariant at the top of each iteration: gOut = dL/d(layer output) (its first b rows in a compact layer).
        for l in stride(from: c.layers - 1, through: 0, by: -1) {
            let la = a.layers[l], pre = c.layerPrefix(l)
            let hIn = l == 0 ? a.embOut.pointer : a.layers[l - 1].out.pointer
            let compact = compactLast && l == c.layers - 1
            let rows = compact ? b : n
            if a.hiddenSet { addHiddenStateGradient(a, layer: l, into: a.gOut.pointer, lossScale: lossScale) }
            // LN2 → gRes = dL/dres2, which flows to ln1 (residual) and to the FFN branch.
            LayerNorm.backward(dinp: a.gRes.pointer, dweight: p.grad(pre + "ffn.norm.weight"), dbias: p.grad(pre + "ffn.norm.bias"),
                               dout: a.gOut.pointer, inp: la.res2.pointer, weight: p.value(pre + "ffn.norm.weight"),
                               mean: la.outMean.pointer, rstd: la.outRstd.pointer, rows: rows, channels: ch, overwrite: true)
            let gFF2 = branchGradient(a.gRes.pointer, mask: dropout > 0 ? la.ffMask.pointer : nil, scratch: a.gBranch.pointer, count: rows * ch)
            Linear.backward(dinp: a.gFFa.pointer, dweight: p.grad(pre + "ffn.down.weight"), dbias: p.grad(pre + "ffn.down.bias"),
                            dout: gFF2, inp: la.gelu.pointer, weight: p.value(pre + "ffn.down.weight"), rows: rows, inFeatures: f, outFeatures: ch,
                            overwriteInput: true)
            switch c.activation {
            case .geluTanh:
                GELU.backward(dinp: a.gFFb.pointer, derivative: la.geluDerivative.pointer, dout: a.gFFa.pointer, count: rows * f)
            case .geluExact:
                a.gFFb.zero()
                GELUExact.backward(dinp: a.gFFb.pointer, inp: la.ff1.pointer, dout: a.gFFa.pointer, count: rows * f)
            }
            // dL/dln1 = gRes (residual) + FFN-up input gradient: accumulate straight into gRes.
            Linear.backward(dinp: a.gRes.pointer, dweight: p.grad(pre + "ffn.up.weight"), dbias: p.grad(pre + "ffn.up.bias"),
                            dout: a.gFFb.pointer, inp: la.ln1.pointer, weight: p.value(pre + "ffn.up.weight"), rows: rows, inFeatures: ch, outFeatures: f)
            // LN1 → gOut becomes dL/dres1 (gOut is free again).
            LayerNorm.backward(dinp: a.gOut.pointer, dweight: p.grad(pre + "attention.norm.weight"), dbias: p.grad(pre + "attention.norm.bias"),
                               dout: a.gRes.pointer, inp: la.res1.pointer, weight: p.value(pre + "attention.norm.weight"),
                               mean: la.ln1Mean.pointer, rstd: la.ln1Rstd.pointer, rows: rows, channels: ch, overwrite: true)
            let gProj = branchGradient(a.gOut.pointer, mask: dropout > 0 ? la.attMask.pointer : nil, scratch: a.gBranch.pointer, count: rows * ch)
            Linear.backward(dinp: a.gAtty.pointer, dweight: p.grad(pre + "attention.output.weight"), dbias: p.grad(pre + "attention.output.bias"),
                            dout: gProj, inp: la.atty.pointer, weight: p.value(pre + "attention.output.weight"), rows: rows, inFeatures: ch, outFeatures: ch,
                            overwriteInput: true)
            if compact {
                a.gQKV.zero()
                Attention.backwardFirstQuery(dqkv: a.gQKV.pointer, dout: a.gAtty.pointer, probs: la.probs.pointer,
                                             qkv: la.qkv.pointer, shape: shape, mask: mask)
                // The residual gradient reaches only the CLS rows of the layer input: scatter the compact rows.
                a.gBranch.pointer.update(from: a.gOut.pointer, count: b * ch)
                a.gOut.zero()
                Pooling.clsBackward(dinp: a.gOut.pointer, dout: a.gBranch.pointer, batch: b, time: t, channels: ch)
            } else {
                Attention.backward(dqkv: a.gQKV.pointer, dscores: a.gScores.pointer, dout: a.gAtty.pointer, probs: la.probs.pointer,
                                   scores: la.scores.pointer, qkv: la.qkv.pointer, shape: shape, mask: mask, transform: scoreTransforms[l],
                                   overwrite: true)
            }
            // dL/dh_in = dL/dres1 (residual, already in gOut) + QKV input gradient → gOut, the next iteration's invariant.
            if compact {
                compactProjectionBackward(dh: a.gOut.pointer, dweight: p.grad(pre + "attention.qkv.weight"),
                                          dbias: p.grad(pre + "attention.qkv.bias"), dqkv: a.gQKV.pointer, h: hIn,
                                          weight: p.value(pre + "attention.qkv.weight"), batch: b, time: t)
            } else {
                Linear.backward(dinp: a.gOut.pointer, dweight: p.grad(pre + "attention.qkv.weight"), dbias: p.grad(pre + "attention.qkv.bias"),
                                dout: a.gQKV.pointer, inp: hIn, weight: p.value(pre + "attention.qkv.weight"), rows: n, inFeatures: ch, outFeatures: 3 * ch)
            }
        }
        // Embedding dropout and LayerNorm, then the tables.
        let gEmbOut = branchGradient(a.gOut.pointer, mask: dropout > 0 ? a.embMask.pointer : nil, scratch: a.gBranch.pointer, count: n * ch)
        let e = c.embeddingWidth
        var gNorm = UnsafePointer(gEmbOut)
        if c.embeddingSize != nil {
            // ALBERT projection E → C; gAtty (free after the layers) holds dL/d(norm output) as [n, E].
            a.gAtty.zero()
            Linear.backward(dinp: a.gAtty.pointer, dweight: p.grad("embeddings.projection.weight"), dbias: p.grad("embeddings.projection.bias"),
                            dout: gEmbOut, inp: a.embNorm.pointer, weight: p.value("embeddings.projection.weight"),
                            rows: n, inFeatures: e, outFeatures: ch)
            gNorm = UnsafePointer(a.gAtty.pointer)
        }
        LayerNorm.backward(dinp: a.gRes.pointer, dweight: p.grad("embeddings.norm.weight"), dbias: p.grad("embeddings.norm.bias"),
                           dout: gNorm, inp: a.emb.pointer, weight: p.value("embeddings.norm.weight"),
                           mean: a.embMean.pointer, rstd: a.embRstd.pointer, rows: n, channels: e, overwrite: true)
        if c.typeVocabulary > 0 {
            SegmentEmbedding.backward(dTypeTable: p.grad("embeddings.token_type"), dout: a.gRes.pointer, types: a.types.pointer,
                                      rows: n, channels: e)
        }
        Embedding.backward(dTokenTable: p.grad("embeddings.token"), dPositionTable: p.grad("embeddings.position"),
                           dout: a.gRes.pointer, tokens: a.tokens.pointer, batch: b, time: t, channels: e)
    }

    /// QKV projection of a compact last layer: keys and values of every token ([n, 2C] into columns C..<3C of the
    /// [n, 3C] buffer), queries of the CLS rows only (rows b·T, read and written with a stride of T rows).
    private func compactProjectionForward(qkv: UnsafeMutablePointer<Float>, h: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                          bias: UnsafePointer<Float>, batch b: Int, time t: Int) {
        let c = config.channels, n = b * t
        Compute.forRanges(count: n, minimumPerChunk: 256) { rows in
            for r in rows { (qkv + r * 3 * c + c).update(from: bias + c, count: 2 * c) }
        }
        for i in 0..<b { (qkv + i * t * 3 * c).update(from: bias, count: c) }
        Gemm.sgemmSplit(.none, .transposed, m: n, n: 2 * c, k: c, a: h, lda: c, b: weight + c * c, ldb: c,
                        beta: 1, c: qkv + c, ldc: 3 * c)
        Gemm.sgemm(.none, .transposed, m: b, n: c, k: c, a: h, lda: t * c, b: weight, ldb: c, beta: 1, c: qkv, ldc: t * 3 * c)
    }

    /// Backward of `compactProjectionForward`: dqkv holds dK, dV for every row and dQ for the CLS rows only.
    private func compactProjectionBackward(dh: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                                           dbias: UnsafeMutablePointer<Float>, dqkv: UnsafePointer<Float>, h: UnsafePointer<Float>,
                                           weight: UnsafePointer<Float>, batch b: Int, time t: Int) {
        let c = config.channels, n = b * t
        Gemm.sgemmSplit(.none, .none, m: n, n: c, k: 2 * c, a: dqkv + c, lda: 3 * c, b: weight + c * c, ldb: c, beta: 1, c: dh, ldc: c)
        Gemm.sgemm(.none, .none, m: b, n: c, k: c, a: dqkv, lda: t * 3 * c, b: weight, ldb: c, beta: 1, c: dh, ldc: t * c)
        Gemm.sgemmSplit(.transposed, .none, m: 2 * c, n: c, k: n, a: dqkv + c, lda: 3 * c, b: h, ldb: c, beta: 1, c: dweight + c * c, ldc: c)
        Gemm.sgemm(.transposed, .none, m: c, n: c, k: b, a: dqkv, lda: t * 3 * c, b: h, ldb: t * c, beta: 1, c: dweight, ldc: c)
        for r in 0..<n {
            let row = dqkv + r * 3 * c
            for k in c..<(3 * c) { dbias[k] += row[k] }
        }
        for i in 0..<b {
            let row = dqkv + i * t * 3 * c
            for k in 0..<c { dbias[k] += row[k] }
        }
    }

    /// The gradient entering a dropout-wrapped branch: g itself without dropout, else g ⊙ mask in `scratch`.
    private func branchGradient(_ g: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>, count: Int) -> UnsafeMutablePointer<Float> {
        guard let mask else { return g }
        Compute.forRanges(count: count, minimumPerChunk: 65536) { r in for i in r { scratch[i] = g[i] * mask[i] } }
        return scratch
    }
}

/// Int32 counterpart of `Tensor` for token ids, lengths and labels (stable pointer, allocated once).
final class Tensor32 {
    let count: Int
    let pointer: UnsafeMutablePointer<Int32>
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { pointer.deallocate() }
    func set(_ values: [Int32]) {
        precondition(values.count == count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }
}
