// The pre-LayerNorm transformer block shared by gpt2-tiny (causal) and vit-tiny (bidirectional), as GPT-2:
//   a   = LN₁(x);  qkv = a·W_qkvᵀ + b;  y = Attention(qkv) (score transform on the valid scaled scores);
//   r   = x + y·W_oᵀ + b
//   f   = GELU(LN₂(r)·W_upᵀ + b)·W_downᵀ + b;   out = r + f
// No dropout: the family presets are tiny and train for a few epochs (documented in docs/results-families.md).
// Activations for one (batch, time) shape are allocated once; backward ACCUMULATES into the input gradient.
import Layers
import Tensors

/// Dimensions of one block application.
struct BlockShape: Equatable {
    let batch, time, channels, heads, ffHidden: Int
    var rows: Int { batch * time }
    var attention: AttentionShape { AttentionShape(batch: batch, time: time, channels: channels, heads: heads) }
}

enum PreNormBlockLayout {
    /// Parameters of block `prefix` (e.g. "blocks.0.") in memory order.
    static func entries(prefix p: String, channels c: Int, ffHidden f: Int) -> [(name: String, shape: [Int], decays: Bool)] {
        [
            (p + "ln1.weight", [c], false), (p + "ln1.bias", [c], false),
            (p + "attention.qkv.weight", [3 * c, c], true), (p + "attention.qkv.bias", [3 * c], false),
            (p + "attention.output.weight", [c, c], true), (p + "attention.output.bias", [c], false),
            (p + "ln2.weight", [c], false), (p + "ln2.bias", [c], false),
            (p + "ffn.up.weight", [f, c], true), (p + "ffn.up.bias", [f], false),
            (p + "ffn.down.weight", [c, f], true), (p + "ffn.down.bias", [c], false),
        ]
    }
}

/// Backward scratch shared by every block of a model (one shape).
final class BlockScratch {
    let gA, gB, gQKV, gF1, gF2, gScores: Tensor
    init(_ s: BlockShape) {
        let n = s.rows, c = s.channels, f = s.ffHidden
        gA = Tensor(shape: [n, c]); gB = Tensor(shape: [n, c]); gQKV = Tensor(shape: [n, 3 * c])
        gF1 = Tensor(shape: [n, f]); gF2 = Tensor(shape: [n, f])
        gScores = Tensor(shape: [s.batch, s.heads, s.time, s.time])
    }
}

/// One block's parameters (by name) and its activations for one shape.
final class PreNormBlock {
    let prefix: String
    let shape: BlockShape
    let epsilon: Float
    let ln1, ln1Mean, ln1Rstd, qkv, scores, transformed, probs, atty, proj, res, ln2, ln2Mean, ln2Rstd, ff1, gelu, ff2, out: Tensor

    init(prefix: String, shape s: BlockShape, epsilon: Float = 1e-5) {
        self.prefix = prefix; self.shape = s; self.epsilon = epsilon
        let n = s.rows, c = s.channels, f = s.ffHidden
        ln1 = Tensor(shape: [n, c]); ln1Mean = Tensor(shape: [n]); ln1Rstd = Tensor(shape: [n])
        qkv = Tensor(shape: [n, 3 * c])
        scores = Tensor(shape: [s.batch, s.heads, s.time, s.time]); transformed = Tensor(shape: [s.batch, s.heads, s.time, s.time])
        probs = Tensor(shape: [s.batch, s.heads, s.time, s.time])
        atty = Tensor(shape: [n, c]); proj = Tensor(shape: [n, c]); res = Tensor(shape: [n, c])
        ln2 = Tensor(shape: [n, c]); ln2Mean = Tensor(shape: [n]); ln2Rstd = Tensor(shape: [n])
        ff1 = Tensor(shape: [n, f]); gelu = Tensor(shape: [n, f]); ff2 = Tensor(shape: [n, c]); out = Tensor(shape: [n, c])
    }

    /// out = block(x); x is [rows, C].
    /// `quantizationBits` (inference only) fake-quantises q and k before the scores (see `QKQuantization`).
    func forward(_ x: UnsafePointer<Float>, parameters p: ParameterSet, mask: AttentionMask,
                 transform: (any ScoreTransform)?, training: Bool, quantizationBits: Int? = nil) {
        let s = shape, n = s.rows, c = s.channels, f = s.ffHidden, pre = prefix
        LayerNorm.forward(out: ln1.pointer, mean: ln1Mean.pointer, rstd: ln1Rstd.pointer, inp: x,
                          weight: p.value(pre + "ln1.weight"), bias: p.value(pre + "ln1.bias"), rows: n, channels: c, epsilon: epsilon)
        Linear.forward(out: qkv.pointer, inp: ln1.pointer, weight: p.value(pre + "attention.qkv.weight"),
                       bias: p.value(pre + "attention.qkv.bias"), rows: n, inFeatures: c, outFeatures: 3 * c)
        if !training, let bits = quantizationBits { QKQuantization.fakeQuantize(qkv: qkv.pointer, rows: n, channels: c, bits: bits) }
        Attention.forward(out: atty.pointer, probs: probs.pointer, scores: scores.pointer,
                          transformed: transform == nil ? nil : transformed.pointer, qkv: qkv.pointer,
                          shape: s.attention, mask: mask, transform: transform, training: training)
        Linear.forward(out: proj.pointer, inp: atty.pointer, weight: p.value(pre + "attention.output.weight"),
                       bias: p.value(pre + "attention.output.bias"), rows: n, inFeatures: c, outFeatures: c)
        Residual.forward(out: res.pointer, a: x, b: proj.pointer, count: n * c)
        LayerNorm.forward(out: ln2.pointer, mean: ln2Mean.pointer, rstd: ln2Rstd.pointer, inp: res.pointer,
                          weight: p.value(pre + "ln2.weight"), bias: p.value(pre + "ln2.bias"), rows: n, channels: c, epsilon: epsilon)
        Linear.forward(out: ff1.pointer, inp: ln2.pointer, weight: p.value(pre + "ffn.up.weight"),
                       bias: p.value(pre + "ffn.up.bias"), rows: n, inFeatures: c, outFeatures: f)
        GELU.forward(out: gelu.pointer, inp: ff1.pointer, count: n * f)
        Linear.forward(out: ff2.pointer, inp: gelu.pointer, weight: p.value(pre + "ffn.down.weight"),
                       bias: p.value(pre + "ffn.down.bias"), rows: n, inFeatures: f, outFeatures: c)
        Residual.forward(out: out.pointer, a: res.pointer, b: ff2.pointer, count: n * c)
    }

    /// Given dL/dout, accumulates dL/dx into `dx` and every parameter gradient of the block.
    func backward(dx: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                  parameters p: ParameterSet, mask: AttentionMask, transform: (any ScoreTransform)?, scratch g: BlockScratch) {
        let s = shape, n = s.rows, c = s.channels, f = s.ffHidden, pre = prefix
        // out = r + f:  dr = dout (+ the LN₂ path below), df = dout.
        let dr = g.gA.pointer
        dr.update(from: dout, count: n * c)
        g.gF2.zero()
        Linear.backward(dinp: g.gF2.pointer, dweight: p.grad(pre + "ffn.down.weight"), dbias: p.grad(pre + "ffn.down.bias"),
                        dout: dout, inp: gelu.pointer, weight: p.value(pre + "ffn.down.weight"), rows: n, inFeatures: f, outFeatures: c)
        g.gF1.zero()
        GELU.backward(dinp: g.gF1.pointer, inp: ff1.pointer, dout: g.gF2.pointer, count: n * f)
        g.gB.zero()
        Linear.backward(dinp: g.gB.pointer, dweight: p.grad(pre + "ffn.up.weight"), dbias: p.grad(pre + "ffn.up.bias"),
                        dout: g.gF1.pointer, inp: ln2.pointer, weight: p.value(pre + "ffn.up.weight"), rows: n, inFeatures: c, outFeatures: f)
        // dr += LN₂ᵀ(d ln2)
        LayerNorm.backward(dinp: dr, dweight: p.grad(pre + "ln2.weight"), dbias: p.grad(pre + "ln2.bias"), dout: g.gB.pointer,
                           inp: res.pointer, weight: p.value(pre + "ln2.weight"), mean: ln2Mean.pointer, rstd: ln2Rstd.pointer,
                           rows: n, channels: c)
        // r = x + proj:  dx += dr;  dproj = dr.
        for i in 0..<(n * c) { dx[i] += dr[i] }
        g.gB.zero()
        Linear.backward(dinp: g.gB.pointer, dweight: p.grad(pre + "attention.output.weight"), dbias: p.grad(pre + "attention.output.bias"),
                        dout: dr, inp: atty.pointer, weight: p.value(pre + "attention.output.weight"), rows: n, inFeatures: c, outFeatures: c)
        g.gQKV.zero()
        Attention.backward(dqkv: g.gQKV.pointer, dscores: g.gScores.pointer, dout: g.gB.pointer, probs: probs.pointer,
                           scores: scores.pointer, qkv: qkv.pointer, shape: s.attention, mask: mask, transform: transform)
        g.gA.zero()
        Linear.backward(dinp: g.gA.pointer, dweight: p.grad(pre + "attention.qkv.weight"), dbias: p.grad(pre + "attention.qkv.bias"),
                        dout: g.gQKV.pointer, inp: ln1.pointer, weight: p.value(pre + "attention.qkv.weight"), rows: n, inFeatures: c, outFeatures: 3 * c)
        // dx += LN₁ᵀ(d ln1)
        LayerNorm.backward(dinp: dx, dweight: p.grad(pre + "ln1.weight"), dbias: p.grad(pre + "ln1.bias"), dout: g.gA.pointer,
                           inp: x, weight: p.value(pre + "ln1.weight"), mean: ln1Mean.pointer, rstd: ln1Rstd.pointer,
                           rows: n, channels: c)
    }

    /// The block's q and k (unscaled, [batch, heads, time, d]) from the last forward, as an attention record.
    func record(layer: Int, lengths: [Int32]?, causal: Bool) -> AttentionRecorder.Record {
        let s = shape, hs = s.channels / s.heads, c = s.channels
        var q = [Float](repeating: 0, count: s.batch * s.heads * s.time * hs), k = q
        let src = qkv.pointer
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                for t in 0..<s.time {
                    let row = src + (b * s.time + t) * 3 * c + h * hs
                    let o = ((b * s.heads + h) * s.time + t) * hs
                    for e in 0..<hs { q[o + e] = row[e]; k[o + e] = row[c + e] }
                }
            }
        }
        return AttentionRecorder.Record(layer: layer, batch: s.batch, heads: s.heads, queries: s.time, keys: s.time,
                                        headDimension: hs, q: q, k: k, lengths: lengths, causal: causal)
    }
}
