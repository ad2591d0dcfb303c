// BertClassifier as seen by learned runtime pruning: one attention application per layer, bidirectional attention
// with a padding mask, q/k recording for attention traces, and the Q/K fake-quantisation switch.
import Layers

extension BertClassifier: AttentionPrunable, QKQuantizable {
    public var attentionLayerCount: Int { config.layers }
    public var attentionHeadCount: Int { config.heads }
    public var attentionHeadDimension: Int { config.channels / config.heads }
    public var attentionValueDimension: Int { config.channels / config.heads }
    public var attentionIsCausal: Bool { false }

    /// Copies q and k of every (batch, head) out of the [B·T, 3C] QKV buffer into [B, H, T, d] arrays.
    func recordQueriesAndKeys(_ recorder: AttentionRecorder, layer: Int, qkv: UnsafePointer<Float>, batch b: Int,
                              time t: Int, lengths: [Int32]) {
        let c = config.channels, h = config.heads, d = c / h
        var q = [Float](repeating: 0, count: b * h * t * d), k = q
        for bi in 0..<b {
            for hi in 0..<h {
                for ti in 0..<t {
                    let src = qkv + (bi * t + ti) * 3 * c + hi * d
                    let dst = ((bi * h + hi) * t + ti) * d
                    for e in 0..<d { q[dst + e] = src[e]; k[dst + e] = src[c + e] }
                }
            }
        }
        recorder.append(AttentionRecorder.Record(layer: layer, batch: b, heads: h, queries: t, keys: t, headDimension: d,
                                                 q: q, k: k, lengths: lengths, causal: false))
    }
}
