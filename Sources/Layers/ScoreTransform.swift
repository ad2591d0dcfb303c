// The hook where learned runtime pruning plugs into attention (DESIGN.md §1). Attention computes the scaled
// scores x = q·k/√d of every (batch, head, query, key), hands the whole layer's block to the transform, and runs
// the softmax on the transformed scores y = f(x). Only VALID entries (see `AttentionMask`) are passed through f;
// masked entries are never read or written by a transform, and never count as pruned work.

/// Layout of one attention layer's scores: [batch, heads, queries, keys], row-major.
public struct ScoreShape: Sendable, Equatable {
    public let batch, heads, queries, keys: Int
    public init(batch: Int, heads: Int, queries: Int, keys: Int) {
        self.batch = batch; self.heads = heads; self.queries = queries; self.keys = keys
    }
    public var count: Int { batch * heads * queries * keys }
}

/// Which (query, key) pairs exist. Both rules keep a PREFIX of the keys of every row, so a row's valid keys are
/// 0..<validKeys(b, i): padding keeps keys t < length[b]; causal keeps keys j ≤ i.
public struct AttentionMask: @unchecked Sendable {
    public var causal: Bool
    /// Valid tokens per example; nil means every position is valid. Must outlive the forward and backward calls.
    public var lengths: UnsafePointer<Int32>?

    public init(causal: Bool = false, lengths: UnsafePointer<Int32>? = nil) {
        self.causal = causal
        self.lengths = lengths
    }

    /// False for a padding query row (i ≥ length[b]): its output is never used, so it is no work for pruning.
    @inline(__always)
    public func isValidQuery(batch b: Int, query i: Int) -> Bool {
        guard let lengths else { return true }
        return i < Int(lengths[b])
    }

    @inline(__always)
    public func validKeys(batch b: Int, query i: Int, keys: Int) -> Int {
        var n = keys
        if let lengths { n = min(n, max(0, Int(lengths[b]))) }
        if causal { n = min(n, i + 1) }
        return n
    }
}

/// A differentiable map applied to the valid scores of one attention layer, with optional trainable parameters
/// and an optional regulariser (e.g. λ·R for learned thresholds). Implementations are classes: they keep what
/// their backward pass needs and accumulate their own parameter gradients.
public protocol ScoreTransform: AnyObject {
    /// y = f(x) on valid entries. `training` selects the soft surrogate (true) or the hard rule (false).
    func forward(scores x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, shape: ScoreShape,
                 mask: AttentionMask, training: Bool)

    /// Writes dL/dx = dL/dy ⊙ ∂y/∂x (+ the regulariser's ∂/∂x) on valid entries; `gradScores` MAY alias
    /// `gradOutput`. Accumulates the gradients of the transform's own parameters.
    func backward(scores x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>,
                  gradScores dx: UnsafeMutablePointer<Float>, shape: ScoreShape, mask: AttentionMask)

    /// The (already weighted) regulariser value of the last training forward; 0 when there is none.
    var regularizerLoss: Double { get }
}

/// f(x) = x: the dense model. Attention skips the transform entirely when none is given; this type exists so
/// tests and callers can pass the identity explicitly.
public final class IdentityScoreTransform: ScoreTransform {
    public init() {}
    public func forward(scores x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, shape: ScoreShape, mask: AttentionMask, training: Bool) {
        y.update(from: x, count: shape.count)
    }
    public func backward(scores x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>, gradScores dx: UnsafeMutablePointer<Float>, shape: ScoreShape, mask: AttentionMask) {
        if UnsafePointer(dx) != dy { dx.update(from: dy, count: shape.count) }
    }
    public var regularizerLoss: Double { 0 }
}
