// memn2n: the end-to-end memory network of Sukhbaatar et al. 2015 with K hops (default 3), position encoding (PE),
// temporal encoding (TE) and ADJACENT weight tying, on bAbI:
//   tables E_0 … E_K [V, d] and temporal tables T_0 … T_K [M, d];  A^k = E_{k−1}, C^k = E_k (so A^{k+1} = C^k),
//   B = A¹ = E_0 (query), W = C^K = E_K (answer).
//   m^k_i = Σ_j l_j ⊙ E_{k−1}[x_ij] + T_{k−1}[i]   (memory i, words j; padding words contribute nothing)
//   c^k_i = Σ_j l_j ⊙ E_k[x_ij] + T_k[i]
//   u¹ = Σ_j l_j ⊙ E_0[q_j];   hop k:  x_i = u^k·m^k_i (valid memories i < count), p = softmax(f_k(x)),
//                              u^{k+1} = u^k + Σ_i p_i c^k_i
//   logits_a = u^{K+1} · w_a,  w_a = Σ_j l'_j ⊙ E_K[answer_a word j]
// The answer matrix W is tied to C^K as in the paper; since an answer class may be a word list (qa8 "apple,milk",
// qa19 "n,e"), each class row is its answer words embedded like a sentence (PE keeps "n,e" ≠ "e,n"); a
// one-word answer is E_K[word] scaled per dimension by the fixed PE weights l'_1.
//
// Pruning view: each hop is one attention layer with ONE head, one query (u^k) and M keys (the memories m^k_i);
// the value rows are c^k_i (dv = d). The score is u·m_i with no 1/√d: we treat the hop's scores as already
// scaled scores x with d = embedding size, and fold √d into the recorded query (q = √d·u^k, k = m^k_i), so that
// q·k/√d = u·m reproduces the model's score exactly (DESIGN.md §1's x = q·k/√d).
import Basics
import Layers
import Tensors

public struct MemoryNetworkConfig: Sendable, Equatable {
    public var vocabulary: Int
    public var memorySlots: Int
    public var sentenceLength: Int
    public var embedding: Int
    public var hops: Int
    public var classes: Int
    /// Answer words per class, [classes × answerLength] word ids, −1 = padding.
    public var answerTokens: [Int32]
    public var answerLength: Int

    public init(vocabulary: Int, memorySlots: Int, sentenceLength: Int, embedding: Int, hops: Int = 3,
                classes: Int, answerTokens: [Int32], answerLength: Int) {
        precondition(answerTokens.count == classes * answerLength, "answerTokens must be classes × answerLength")
        precondition(hops >= 1 && embedding >= 1 && memorySlots >= 1 && sentenceLength >= 1)
        self.vocabulary = vocabulary; self.memorySlots = memorySlots; self.sentenceLength = sentenceLength
        self.embedding = embedding; self.hops = hops; self.classes = classes
        self.answerTokens = answerTokens; self.answerLength = answerLength
    }

    public var json: JSONValue {
        .object(["model": "memn2n", "vocabulary": JSONValue(vocabulary), "memory_slots": JSONValue(memorySlots),
                 "sentence_length": JSONValue(sentenceLength), "embedding": JSONValue(embedding),
                 "hops": JSONValue(hops), "classes": JSONValue(classes), "answer_length": JSONValue(answerLength),
                 "answer_tokens": .array(answerTokens.map { JSONValue(Int($0)) })])
    }

    public var parameterLayout: [(name: String, shape: [Int], decays: Bool)] {
        (0...hops).map { ("embeddings.\($0)", [vocabulary, embedding], true) }
            + (0...hops).map { ("temporal.\($0)", [memorySlots, embedding], true) }
    }
}

/// bAbI questions as word ids: memories [batch, M, S] and questions [batch, S] (−1 = padding word), valid
/// memories per question (slots 0..<count; slot i holds the (i+1)-th most recent memory), answer classes
/// (−100 = ignored in the loss).
public struct MemoryBatch: Sendable {
    public var batch: Int
    public var memories: [Int32]
    public var counts: [Int32]
    public var questions: [Int32]
    public var answers: [Int32]
    public init(batch: Int, memories: [Int32], counts: [Int32], questions: [Int32], answers: [Int32]) {
        precondition(counts.count == batch && answers.count == batch, "counts and answers need \(batch) entries")
        self.batch = batch; self.memories = memories; self.counts = counts; self.questions = questions; self.answers = answers
    }
}

public final class MemoryNetwork: TrainableModel, AttentionPrunable, QKQuantizable, @unchecked Sendable {
    public let config: MemoryNetworkConfig
    public let parameters: ParameterSet
    public var scoreTransforms: [(any ScoreTransform)?]
    public var attentionRecorder: AttentionRecorder?
    /// When non-nil, inference forwards fake-quantise each hop's query u and keys m_i to this many bits (symmetric,
    /// per hop and batch, as `QKQuantization`); only the scores see the quantised values.
    public var qkQuantizationBits: Int?
    private let encoding: Tensor, answerEncoding: Tensor, answerTokens: Tensor32
    private var acts: Activations?

    public init(config: MemoryNetworkConfig, seed: UInt64) {
        self.config = config
        parameters = ParameterSet(layout: config.parameterLayout)
        scoreTransforms = Array(repeating: nil, count: config.hops)
        encoding = Tensor(shape: [config.sentenceLength, config.embedding],
                          values: MemoryHop.positionEncoding(words: config.sentenceLength, channels: config.embedding))
        answerEncoding = Tensor(shape: [config.answerLength, config.embedding],
                                values: MemoryHop.positionEncoding(words: config.answerLength, channels: config.embedding))
        answerTokens = Tensor32(count: config.answerTokens.count)
        answerTokens.set(config.answerTokens)
        // The paper's initialisation: every weight N(0, 0.1²).
        var rng = SeededGenerator(seed: seed)
        for e in parameters.entries { Initialiser.normal(parameters.view(e.name), std: 0.1, using: &rng) }
    }

    public var metadata: [String: String] { ["config": CanonicalJSON.encode(config.json)] }

    // MARK: AttentionPrunable
    public var attentionLayerCount: Int { config.hops }
    public var attentionHeadCount: Int { 1 }
    public var attentionHeadDimension: Int { config.embedding }
    public var attentionValueDimension: Int { config.embedding }
    public var attentionIsCausal: Bool { false }

    final class Activations {
        let batch: Int
        let memories, questions, counts, answers: Tensor32
        /// Embedded memories per table, [B, M, d] each (index k = table E_k with T_k).
        let embedded: [Tensor]
        /// Controller states u¹ … u^{K+1}, [B, d] each.
        let states: [Tensor]
        let scores, transformed, probs: [Tensor]
        let answerRows, logits, classProbs: Tensor
        let gStates: [Tensor]
        let gEmbedded: [Tensor]
        let gScores, gLogits, gAnswerRows: Tensor
        init(config c: MemoryNetworkConfig, batch b: Int) {
            batch = b
            let m = c.memorySlots, s = c.sentenceLength, d = c.embedding
            memories = Tensor32(count: b * m * s); questions = Tensor32(count: b * s)
            counts = Tensor32(count: b); answers = Tensor32(count: b)
            embedded = (0...c.hops).map { _ in Tensor(shape: [b, m, d]) }
            states = (0...c.hops).map { _ in Tensor(shape: [b, d]) }
            scores = (0..<c.hops).map { _ in Tensor(shape: [b, m]) }
            transformed = (0..<c.hops).map { _ in Tensor(shape: [b, m]) }
            probs = (0..<c.hops).map { _ in Tensor(shape: [b, m]) }
            answerRows = Tensor(shape: [c.classes, d]); logits = Tensor(shape: [b, c.classes]); classProbs = Tensor(shape: [b, c.classes])
            gStates = (0...c.hops).map { _ in Tensor(shape: [b, d]) }
            gEmbedded = (0...c.hops).map { _ in Tensor(shape: [b, m, d]) }
            gScores = Tensor(shape: [b, m]); gLogits = Tensor(shape: [b, c.classes]); gAnswerRows = Tensor(shape: [c.classes, d])
        }
    }

    private func activations(batch: Int) -> Activations {
        if let a = acts, a.batch == batch { return a }
        let a = Activations(config: config, batch: batch)
        acts = a
        return a
    }

    /// Logits of the last forward, [batch, classes].
    public var logits: [Float] { acts?.logits.values ?? [] }
    /// Hop k's pre-softmax scores x = u·m of the last forward, [batch, memorySlots] (entries ≥ count unused).
    public func attentionScores(layer: Int) -> TensorView? { acts?.scores[layer].view }

    @discardableResult
    public func forward(_ batch: MemoryBatch, training: Bool) -> Double {
        let c = config, a = activations(batch: batch.batch)
        let b = batch.batch, m = c.memorySlots, s = c.sentenceLength, d = c.embedding, p = parameters
        a.memories.set(batch.memories); a.questions.set(batch.questions); a.counts.set(batch.counts); a.answers.set(batch.answers)
        for k in 0...c.hops {
            MemoryHop.embedForward(out: a.embedded[k].pointer, sentences: a.memories.pointer, table: p.value("embeddings.\(k)"),
                                   temporal: p.value("temporal.\(k)"), encoding: encoding.pointer,
                                   batch: b, memories: m, words: s, channels: d, vocabulary: c.vocabulary)
        }
        // u¹ = B·q with B = E_0, no temporal term.
        MemoryHop.embedForward(out: a.states[0].pointer, sentences: a.questions.pointer, table: p.value("embeddings.0"),
                               temporal: nil, encoding: encoding.pointer, batch: b, memories: 1, words: s, channels: d,
                               vocabulary: c.vocabulary)
        for k in 0..<c.hops {
            let transform = scoreTransforms[k]
            if !training, let bits = qkQuantizationBits {
                quantizedHop(k, a, bits: bits, transform: transform)
                if let recorder = attentionRecorder { recorder.append(record(hop: k, a)) }
                continue
            }
            MemoryHop.forward(uNext: a.states[k + 1].pointer, probs: a.probs[k].pointer, scores: a.scores[k].pointer,
                              transformed: transform == nil ? nil : a.transformed[k].pointer, u: a.states[k].pointer,
                              memories: a.embedded[k].pointer, outputs: a.embedded[k + 1].pointer, counts: a.counts.pointer,
                              batch: b, memorySlots: m, channels: d, transform: transform, training: training)
            if !training, let recorder = attentionRecorder { recorder.append(record(hop: k, a)) }
        }
        // W = C^K: class rows are the answer words embedded with E_K.
        MemoryHop.embedForward(out: a.answerRows.pointer, sentences: answerTokens.pointer, table: p.value("embeddings.\(c.hops)"),
                               temporal: nil, encoding: answerEncoding.pointer, batch: 1, memories: c.classes,
                               words: c.answerLength, channels: d, vocabulary: c.vocabulary)
        Linear.forward(out: a.logits.pointer, inp: a.states[c.hops].pointer, weight: a.answerRows.pointer, bias: nil,
                       rows: b, inFeatures: d, outFeatures: c.classes)
        var loss = CrossEntropy.forward(probs: a.classProbs.pointer, logits: a.logits.pointer, targets: a.answers.pointer,
                                        rows: b, classes: c.classes)
        for tr in scoreTransforms { if let tr { loss += tr.regularizerLoss } }
        return loss
    }

    public func backward(lossScale: Float = 1) {
        guard let a = acts else { preconditionFailure("backward() before forward()") }
        let c = config, b = a.batch, m = c.memorySlots, s = c.sentenceLength, d = c.embedding, p = parameters, kTop = c.hops
        a.gLogits.zero(); a.gAnswerRows.zero()
        for t in a.gStates { t.zero() }
        for t in a.gEmbedded { t.zero() }
        CrossEntropy.backward(dlogits: a.gLogits.pointer, probs: a.classProbs.pointer, targets: a.answers.pointer,
                              rows: b, classes: c.classes, scale: lossScale)
        // logits = u^{K+1}·Wᵀ:  du += dlogits·W;  dW += dlogitsᵀ·u, then W's rows back into E_K.
        Linear.backward(dinp: a.gStates[kTop].pointer, dweight: a.gAnswerRows.pointer, dbias: nil, dout: a.gLogits.pointer,
                        inp: a.states[kTop].pointer, weight: a.answerRows.pointer, rows: b, inFeatures: d, outFeatures: c.classes)
        MemoryHop.embedBackward(dTable: p.grad("embeddings.\(kTop)"), dTemporal: nil, dout: a.gAnswerRows.pointer,
                                sentences: answerTokens.pointer, encoding: answerEncoding.pointer, batch: 1,
                                memories: c.classes, words: c.answerLength, channels: d)
        for k in stride(from: kTop - 1, through: 0, by: -1) {
            MemoryHop.backward(du: a.gStates[k].pointer, dmemories: a.gEmbedded[k].pointer, doutputs: a.gEmbedded[k + 1].pointer,
                               dscores: a.gScores.pointer, duNext: a.gStates[k + 1].pointer, probs: a.probs[k].pointer,
                               scores: a.scores[k].pointer, u: a.states[k].pointer, memories: a.embedded[k].pointer,
                               outputs: a.embedded[k + 1].pointer, counts: a.counts.pointer, batch: b, memorySlots: m,
                               channels: d, transform: scoreTransforms[k])
        }
        for k in 0...kTop {
            MemoryHop.embedBackward(dTable: p.grad("embeddings.\(k)"), dTemporal: p.grad("temporal.\(k)"),
                                    dout: a.gEmbedded[k].pointer, sentences: a.memories.pointer, encoding: encoding.pointer,
                                    batch: b, memories: m, words: s, channels: d)
        }
        MemoryHop.embedBackward(dTable: p.grad("embeddings.0"), dTemporal: nil, dout: a.gStates[0].pointer,
                                sentences: a.questions.pointer, encoding: encoding.pointer, batch: b, memories: 1, words: s, channels: d)
    }

    /// Hop k with q = Q(u^k) and k_i = Q(m^k_i): the hop runs on quantised copies, then the residual is corrected
    /// (u^{k+1} += u^k − Q(u^k)) so that only the scores differ from the full-precision hop.
    private func quantizedHop(_ k: Int, _ a: Activations, bits: Int, transform: (any ScoreTransform)?) {
        let b = a.batch, m = config.memorySlots, d = config.embedding
        let u = Tensor(shape: [b, d]), keys = Tensor(shape: [b, m, d])
        u.pointer.update(from: a.states[k].pointer, count: b * d)
        keys.pointer.update(from: a.embedded[k].pointer, count: b * m * d)
        Self.fakeQuantize(u.pointer, count: b * d, bits: bits)
        Self.fakeQuantize(keys.pointer, count: b * m * d, bits: bits)
        MemoryHop.forward(uNext: a.states[k + 1].pointer, probs: a.probs[k].pointer, scores: a.scores[k].pointer,
                          transformed: transform == nil ? nil : a.transformed[k].pointer, u: u.pointer,
                          memories: keys.pointer, outputs: a.embedded[k + 1].pointer, counts: a.counts.pointer,
                          batch: b, memorySlots: m, channels: d, transform: transform, training: false)
        let next = a.states[k + 1].pointer, full = a.states[k].pointer
        for i in 0..<(b * d) { next[i] += full[i] - u.pointer[i] }
    }

    /// Symmetric per-tensor fake quantisation: Δ = max|v| / (2^(B−1) − 1), v ← round(v/Δ)·Δ.
    static func fakeQuantize(_ v: UnsafeMutablePointer<Float>, count: Int, bits: Int) {
        precondition((2...16).contains(bits), "bits must be 2...16")
        let levels = Float((1 << (bits - 1)) - 1)
        var maxMagnitude: Float = 0
        for i in 0..<count { maxMagnitude = max(maxMagnitude, abs(v[i])) }
        guard maxMagnitude > 0 else { return }
        let scale = maxMagnitude / levels, inverse = levels / maxMagnitude
        for i in 0..<count { v[i] = (v[i] * inverse).rounded(.toNearestOrEven) * scale }
    }

    /// Hop k as an attention record: q = √d·u^k [B, 1, 1, d], k = m^k [B, 1, M, d], lengths = valid memories.
    private func record(hop k: Int, _ a: Activations) -> AttentionRecorder.Record {
        let b = a.batch, m = config.memorySlots, d = config.embedding
        let root = Float(d).squareRoot()
        let q = Array(UnsafeBufferPointer(start: a.states[k].pointer, count: b * d)).map { $0 * root }
        let keys = Array(UnsafeBufferPointer(start: a.embedded[k].pointer, count: b * m * d))
        let lengths = Array(UnsafeBufferPointer(start: a.counts.pointer, count: b))
        return AttentionRecorder.Record(layer: k, batch: b, heads: 1, queries: 1, keys: m, headDimension: d,
                                        q: q, k: keys, lengths: lengths, causal: false)
    }
}
