// The attention trace of one layer: quantised Q and K for every (batch, head), the valid-pair rule and the
// integer-domain pruning threshold. This is all the hardware side ever learns about a model.

import Basics

/// Which (query, key) pairs exist at all. Masked pairs are never computed and never count as pruned.
public enum AttentionMask: String, Sendable, CaseIterable {
    /// Every key is visible to every query.
    case none
    /// Query i sees keys j ≤ i + (keyCount − queryCount): the queries are the last `queryCount` positions.
    case causal
}

/// The integer-domain threshold `T`: one per layer, or one per head.
public enum IntegerThreshold: Equatable, Sendable {
    case perLayer(Int64)
    case perHead([Int64])

    public func value(head: Int) -> Int64 {
        switch self {
        case .perLayer(let t): return t
        case .perHead(let ts): return ts[head]
        }
    }
}

public struct LayerTrace: Equatable, Sendable {
    /// B: Q and K are signed B-bit integers, 2 ≤ B ≤ 16.
    public var bits: Int
    public var batchSize: Int
    public var headCount: Int
    public var queryCount: Int
    public var keyCount: Int
    /// d: the Q/K head dimension.
    public var headDim: Int
    /// dv: the V head dimension (V itself is not traced; only its shape matters to the hardware).
    public var valueDim: Int
    /// A score is pruned iff its integer value S = Σ q·k is below the threshold.
    public var threshold: IntegerThreshold
    public var mask: AttentionMask
    /// Δq and Δk: real value = integer × scale.
    public var scaleQ: Double
    public var scaleK: Double
    /// Shape [batch, heads, queries, d], C order.
    public var q: [Int32]
    /// Shape [batch, heads, keys, d], C order.
    public var k: [Int32]
    /// Optional valid tokens per example; queries and keys at or past it are padding.
    public var lengths: [Int32]?

    /// Traps on inconsistent shapes (programmer error); readers validate files before calling this.
    public init(bits: Int, batchSize: Int, headCount: Int, queryCount: Int, keyCount: Int, headDim: Int,
                valueDim: Int, threshold: IntegerThreshold, mask: AttentionMask, scaleQ: Double, scaleK: Double,
                q: [Int32], k: [Int32], lengths: [Int32]? = nil) {
        precondition((2...16).contains(bits), "bits must be 2...16")
        precondition(batchSize >= 1 && headCount >= 1 && headDim >= 1 && valueDim >= 1)
        precondition(queryCount >= 0 && keyCount >= 0)
        precondition(q.count == batchSize * headCount * queryCount * headDim, "q has the wrong element count")
        precondition(k.count == batchSize * headCount * keyCount * headDim, "k has the wrong element count")
        precondition(mask != .causal || keyCount >= queryCount, "causal mask needs keyCount ≥ queryCount")
        if case .perHead(let ts) = threshold { precondition(ts.count == headCount, "one threshold per head") }
        if let lengths { precondition(lengths.count == batchSize && lengths.allSatisfy { $0 >= 0 && Int($0) <= keyCount }) }
        let lo = Int32(-(1 << (bits - 1))), hi = Int32((1 << (bits - 1)) - 1)
        precondition(q.allSatisfy { $0 >= lo && $0 <= hi } && k.allSatisfy { $0 >= lo && $0 <= hi },
                     "q and k must be \(bits)-bit two's complement values (quantise first)")
        self.bits = bits; self.batchSize = batchSize; self.headCount = headCount
        self.queryCount = queryCount; self.keyCount = keyCount; self.headDim = headDim; self.valueDim = valueDim
        self.threshold = threshold; self.mask = mask; self.scaleQ = scaleQ; self.scaleK = scaleK
        self.q = q; self.k = k; self.lengths = lengths
    }

    /// The largest and smallest representable B-bit two's complement values.
    public var maxValue: Int32 { Int32((1 << (bits - 1)) - 1) }
    public var minValue: Int32 { Int32(-(1 << (bits - 1))) }

    /// Flat offset of q[b, h, i, 0].
    public func queryOffset(batch b: Int, head h: Int, query i: Int) -> Int {
        ((b * headCount + h) * queryCount + i) * headDim
    }

    /// Flat offset of k[b, h, j, 0].
    public func keyOffset(batch b: Int, head h: Int, key j: Int) -> Int {
        ((b * headCount + h) * keyCount + j) * headDim
    }

    /// Number of valid tokens of example `b` (keys at or past it are padding).
    public func validLength(batch b: Int) -> Int {
        lengths.map { Int($0[b]) } ?? keyCount
    }

    /// The keys query `i` of example `b` may see; empty when the query row itself is padding.
    public func validKeys(batch b: Int, query i: Int) -> Range<Int> {
        let length = validLength(batch: b)
        // Queries are aligned to the last queryCount key positions (self-attention: the same positions).
        let position = i + (keyCount - queryCount)
        if lengths != nil && position >= length { return 0..<0 }
        switch mask {
        case .none: return 0..<length
        case .causal: return 0..<min(length, position + 1)
        }
    }
}

/// A model's trace: one `LayerTrace` per attention layer, in order.
public struct AttentionTrace: Equatable, Sendable {
    public var layers: [LayerTrace]
    public init(layers: [LayerTrace]) { self.layers = layers }
}
