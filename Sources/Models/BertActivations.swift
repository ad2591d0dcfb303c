// Activation and scratch buffers of the encoder classifier for one (batch, time) shape: declared once here,
// allocated once per shape, reused by every step (nothing is allocated inside a training step).
import Tensors

extension BertClassifier {
    /// Activations and backward scratch for one (batch, time) shape, allocated once.
    final class Activations {
        let b: Int, t: Int
        let tokens: Tensor32, lengths: Tensor32, labels: Tensor32
        let targets: Tensor
        let emb, embOut, embMean, embRstd, embMask: Tensor
        let layers: [LayerActs]
        let pooled, logits, probs: Tensor
        // backward scratch
        let gOut, gRes, gBranch, gAtty, gQKV, gFFa, gFFb, gScores, gPooled, gLogits: Tensor

        init(config c: BertConfig, batch b: Int, time t: Int) {
            self.b = b; self.t = t
            let n = b * t, ch = c.channels, f = c.ffHidden
            tokens = Tensor32(count: n); lengths = Tensor32(count: b); labels = Tensor32(count: b)
            targets = Tensor(shape: [b])
            emb = Tensor(shape: [n, ch]); embOut = Tensor(shape: [n, ch]); embMean = Tensor(shape: [n]); embRstd = Tensor(shape: [n])
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
