// Multi-head self-attention core (the projections around it are Linear layers):
//   qkv [B, T, 3C] holds q | k | v per token, each C = H·hs wide with head h at columns h·hs..<(h+1)·hs.
//   x   = q·kᵀ/√hs                         scores [B, H, T, T]  (exposed: pre-softmax, scaled, masked pairs unused)
//   y   = f(x)                              transform (optional; identity when nil)
//   p   = softmax over the valid key prefix probs  [B, H, T, T]  (masked entries 0)
//   out = p·v                               out    [B, T, C]     (heads concatenated)
// Every (batch, head) block is one set of strided sgemm calls over the QKV buffer (no reshuffling copies); blocks
// are independent, so they run in parallel under Compute.threads.
// Backward, per block: dp = dout·vᵀ; dv += pᵀ·dout; dy = softmax'(dp); dx = f'(dy); dq += dx·k/√hs; dk += dxᵀ·q/√hs.
import Tensors

public struct AttentionShape: Sendable, Equatable {
    public let batch, time, channels, heads: Int
    public init(batch: Int, time: Int, channels: Int, heads: Int) {
        precondition(channels % heads == 0, "channels \(channels) not divisible by \(heads) heads")
        self.batch = batch; self.time = time; self.channels = channels; self.heads = heads
    }
    public var headSize: Int { channels / heads }
    public var scores: ScoreShape { ScoreShape(batch: batch, heads: heads, queries: time, keys: time) }
    /// Forward FLOPs of the two batched products (QKᵀ and PV).
    public var forwardFlops: Double { 2 * Gemm.flops(m: time, n: time, k: headSize) * Double(batch * heads) }
}

public enum Attention {
    /// Transformed scores at or below this value mark a pruned pair (hard rule: ThresholdScoreTransform.prunedScore).
    public static let prunedRowLimit: Float = -1e8

    /// `transformed` is required when `transform` is non-nil (it holds y = f(x)); otherwise the softmax reads x.
    public static func forward(
        out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
        transformed: UnsafeMutablePointer<Float>?, qkv: UnsafePointer<Float>, shape s: AttentionShape,
        mask: AttentionMask, transform: (any ScoreTransform)?, training: Bool
    ) {
        let t = s.time, c = s.channels, hs = s.headSize, ld = 3 * c
        let scale = 1 / Float(hs).squareRoot()
        let block = t * t
        Compute.forEach(chunks: s.batch * s.heads) { bh in
            let b = bh / s.heads, h = bh % s.heads
            let q = qkv + b * t * ld + h * hs
            Gemm.sgemm(.none, .transposed, m: t, n: t, k: hs, alpha: scale, a: q, lda: ld, b: q + c, ldb: ld,
                       c: scores + bh * block, ldc: t)
            if transform == nil { softmaxAndValues(bh: bh) }
        }
        if let transform {
            precondition(transformed != nil, "a score transform needs a `transformed` buffer")
            transform.forward(scores: scores, into: transformed!, shape: s.scores, mask: mask, training: training)
            Compute.forEach(chunks: s.batch * s.heads) { bh in softmaxAndValues(bh: bh) }
        }

        func softmaxAndValues(bh: Int) {
            let b = bh / s.heads, h = bh % s.heads
            let x = UnsafePointer(transform == nil ? scores : transformed!) + bh * block
            let p = probs + bh * block
            for i in 0..<t {
                let n = mask.validKeys(batch: b, query: i, keys: t)
                Softmax.forwardRow(out: p + i * t, inp: x + i * t, columns: t, validColumns: n)
                // A row whose valid scores were ALL pruned by the hard rule attends to nothing: zero probabilities,
                // zero output (the hardware reads no V row), instead of a uniform softmax over equal −1e9 entries.
                if transform != nil && n > 0 {
                    var rowMax = -Float.infinity
                    for j in 0..<n { rowMax = max(rowMax, x[i * t + j]) }
                    if rowMax <= Attention.prunedRowLimit { (p + i * t).update(repeating: 0, count: n) }
                }
            }
            let v = qkv + b * t * ld + 2 * c + h * hs
            Gemm.sgemm(.none, .none, m: t, n: hs, k: t, a: p, lda: t, b: v, ldb: ld, c: out + b * t * c + h * hs, ldc: c)
        }
    }

    /// Accumulates into `dqkv` (or, with `overwrite`, stores: every element of dqkv is written exactly once).
    /// `dscores` is scratch of [B, H, T, T]; afterwards it holds dL/dx (the gradient at the exposed pre-transform
    /// scores).
    public static func backward(
        dqkv: UnsafeMutablePointer<Float>, dscores: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        probs: UnsafePointer<Float>, scores: UnsafePointer<Float>, qkv: UnsafePointer<Float>, shape s: AttentionShape,
        mask: AttentionMask, transform: (any ScoreTransform)?, overwrite: Bool = false
    ) {
        let beta: Float = overwrite ? 0 : 1
        let t = s.time, c = s.channels, hs = s.headSize, ld = 3 * c
        let scale = 1 / Float(hs).squareRoot()
        let block = t * t
        Compute.forEach(chunks: s.batch * s.heads) { bh in
            let b = bh / s.heads, h = bh % s.heads
            let p = probs + bh * block, dp = dscores + bh * block
            let v = qkv + b * t * ld + 2 * c + h * hs
            let g = dout + b * t * c + h * hs
            Gemm.sgemm(.none, .transposed, m: t, n: t, k: hs, a: g, lda: c, b: v, ldb: ld, c: dp, ldc: t)
            Gemm.sgemm(.transposed, .none, m: t, n: hs, k: t, a: p, lda: t, b: g, ldb: c, beta: beta,
                       c: dqkv + b * t * ld + 2 * c + h * hs, ldc: ld)
            for i in 0..<t {
                Softmax.backwardRow(dinp: dp + i * t, out: p + i * t, dout: dp + i * t, columns: t,
                                    validColumns: mask.validKeys(batch: b, query: i, keys: t))
            }
            if transform == nil { queryKeyGradients(bh: bh) }
        }
        if let transform {
            transform.backward(scores: scores, gradOutput: dscores, gradScores: dscores, shape: s.scores, mask: mask)
            Compute.forEach(chunks: s.batch * s.heads) { bh in queryKeyGradients(bh: bh) }
        }

        func queryKeyGradients(bh: Int) {
            let b = bh / s.heads, h = bh % s.heads
            let q = qkv + b * t * ld + h * hs
            let dq = dqkv + b * t * ld + h * hs
            let dx = dscores + bh * block
            Gemm.sgemm(.none, .none, m: t, n: hs, k: t, alpha: scale, a: dx, lda: t, b: q + c, ldb: ld, beta: beta, c: dq, ldc: ld)
            Gemm.sgemm(.transposed, .none, m: t, n: hs, k: t, alpha: scale, a: dx, lda: t, b: q, ldb: ld, beta: beta, c: dq + c, ldc: ld)
        }
    }
}

extension Attention {
    /// Attention for query 0 of every sequence only (the CLS row), for a last layer whose other rows nothing reads.
    /// Same math as `forward` restricted to i = 0: out[b, :] (compact [B, C]), probs/scores rows [B, H, T]
    /// (row 0 of each block, stored compactly). Keys and values of all positions are used.
    public static func forwardFirstQuery(
        out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
        qkv: UnsafePointer<Float>, shape s: AttentionShape, mask: AttentionMask
    ) {
        let t = s.time, c = s.channels, hs = s.headSize, ld = 3 * c
        let scale = 1 / Float(hs).squareRoot()
        Compute.forEach(chunks: s.batch) { b in
            let n = mask.validKeys(batch: b, query: 0, keys: t)
            for h in 0..<s.heads {
                let q = qkv + b * t * ld + h * hs
                let x = scores + (b * s.heads + h) * t, p = probs + (b * s.heads + h) * t
                for j in 0..<n {
                    let k = q + j * ld + c
                    var dot: Float = 0
                    for e in 0..<hs { dot += q[e] * k[e] }
                    x[j] = dot * scale
                }
                Softmax.forwardRow(out: p, inp: x, columns: t, validColumns: n)
                let o = out + b * c + h * hs
                o.update(repeating: 0, count: hs)
                for j in 0..<n {
                    let v = q + j * ld + 2 * c, pj = p[j]
                    for e in 0..<hs { o[e] += pj * v[e] }
                }
            }
        }
    }

    /// Backward of `forwardFirstQuery`: accumulates dq of row 0 and dk, dv of all rows into `dqkv` [B·T, 3C].
    public static func backwardFirstQuery(
        dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, probs: UnsafePointer<Float>,
        qkv: UnsafePointer<Float>, shape s: AttentionShape, mask: AttentionMask
    ) {
        let t = s.time, c = s.channels, hs = s.headSize, ld = 3 * c
        let scale = 1 / Float(hs).squareRoot()
        Compute.forEach(chunks: s.batch) { b in
            let n = mask.validKeys(batch: b, query: 0, keys: t)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: max(n, 1)) { dscore in
            for h in 0..<s.heads {
                let q = qkv + b * t * ld + h * hs, dq = dqkv + b * t * ld + h * hs
                let p = probs + (b * s.heads + h) * t
                let g = dout + b * c + h * hs
                // dp_j = g·v_j;  dv_j += p_j·g
                for j in 0..<n {
                    let v = q + j * ld + 2 * c, dv = dq + j * ld + 2 * c, pj = p[j]
                    var dot: Float = 0
                    for e in 0..<hs { dot += g[e] * v[e]; dv[e] += pj * g[e] }
                    dscore[j] = dot
                }
                var sum: Float = 0
                for j in 0..<n { sum += p[j] * dscore[j] }
                // dx_j = p_j(dp_j − Σ p·dp);  dq₀ += scale·Σ dx_j k_j;  dk_j += scale·dx_j q₀
                for j in 0..<n {
                    let dx = p[j] * (dscore[j] - sum) * scale
                    let k = q + j * ld + c, dk = dq + j * ld + c
                    for e in 0..<hs { dq[e] += dx * k[e]; dk[e] += dx * q[e] }
                }
            }
            }
        }
    }
}
