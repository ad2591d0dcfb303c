// The contract between a model family and learned runtime pruning (DESIGN.md §1): what every model whose
// attention can be pruned exposes, whatever its architecture (BERT/ALBERT encoders, GPT-2 decoder, ViT, MemN2N).
//
// "Attention layer" here means one application of scaled dot-product attention: a BERT layer, an ALBERT layer
// application (weights shared, threshold and trace per application), or a MemN2N hop (one head; queries = the
// question state, keys = the memories).
import Layers

public protocol AttentionPrunable: AnyObject {
    /// Attention applications per forward pass, in order.
    var attentionLayerCount: Int { get }
    /// Heads per attention layer.
    var attentionHeadCount: Int { get }
    /// d: the per-head dimension of q and k (scores are q·k/√d).
    var attentionHeadDimension: Int { get }
    /// dv: the per-head dimension of v (the back-end's work per kept score).
    var attentionValueDimension: Int { get }
    /// True for causal (decoder) attention: key j is valid for query i only when j ≤ i.
    var attentionIsCausal: Bool { get }
    /// One optional transform per attention layer (nil = dense). Learned thresholds, top-k and fixed-threshold
    /// baselines are all transforms.
    var scoreTransforms: [(any ScoreTransform)?] { get set }
    /// When non-nil, every forward pass records per attention layer its q and k (see `AttentionRecorder`).
    var attentionRecorder: AttentionRecorder? { get set }
}

/// Collects q and k per attention layer during inference forwards, for attention traces.
public final class AttentionRecorder: @unchecked Sendable {
    public struct Record: Sendable {
        /// Index of the attention layer.
        public let layer: Int
        public let batch: Int
        public let heads: Int
        public let queries: Int
        public let keys: Int
        /// d of q and k.
        public let headDimension: Int
        /// Unscaled q, [batch, heads, queries, d] row-major (the score is q·k/√d).
        public let q: [Float]
        /// Unscaled k, [batch, heads, keys, d] row-major.
        public let k: [Float]
        /// Valid keys per example (padding); nil when every key is valid.
        public let lengths: [Int32]?
        public let causal: Bool

        public init(layer: Int, batch: Int, heads: Int, queries: Int, keys: Int, headDimension: Int,
                    q: [Float], k: [Float], lengths: [Int32]?, causal: Bool) {
            precondition(q.count == batch * heads * queries * headDimension, "q has \(q.count) values")
            precondition(k.count == batch * heads * keys * headDimension, "k has \(k.count) values")
            self.layer = layer; self.batch = batch; self.heads = heads; self.queries = queries; self.keys = keys
            self.headDimension = headDimension; self.q = q; self.k = k; self.lengths = lengths; self.causal = causal
        }
    }

    public private(set) var records: [Record] = []

    public init() {}

    public func append(_ record: Record) { records.append(record) }

    public func removeAll() { records.removeAll() }
}

/// A prunable model that can fake-quantise its attention q and k to B bits at inference (DESIGN.md §2: accuracy
/// with Q/K quantisation alone). Optional: the protocol reports no quantised metric for models without it.
public protocol QKQuantizable: AnyObject {
    /// nil = full precision.
    var qkQuantizationBits: Int? { get set }
}
