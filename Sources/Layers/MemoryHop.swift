// End-to-end memory network pieces (Sukhbaatar et al. 2015, "End-To-End Memory Networks"):
//  * sentence embedding with position encoding (PE) and temporal encoding (TE):
//      m[b,i,:] = Σ_j l[j,:] ⊙ E[x[b,i,j], :] + TE[i, :],   l[j,k] = (1 − j/J) − (k/d)(1 − 2j/J)  (1-based j, k; J = S)
//    words < 0 are padding and contribute nothing;
//  * one memory hop: x[b,i] = u[b]·m[b,i] over the valid memories i < count[b]; y = f(x) (the score transform —
//    this attention over memories is what learned pruning prunes); p = softmax(y); u'[b] = u[b] + Σ_i p[b,i]·c[b,i].
// Adjacent weight tying (A_{k+1} = C_k, query embedding B = A_1, answer W = C_K) is the model's choice of which
// tables it passes here; the layer takes the tables it is given.
import Tensors

public enum MemoryHop {
    /// The PE matrix l [S, d].
    public static func positionEncoding(words s: Int, channels d: Int) -> [Float] {
        var l = [Float](repeating: 0, count: s * d)
        for j in 1...max(s, 1) where j <= s {
            for k in 1...d {
                let jj = Float(j), kk = Float(k), big = Float(s), dd = Float(d)
                l[(j - 1) * d + (k - 1)] = (1 - jj / big) - (kk / dd) * (1 - 2 * jj / big)
            }
        }
        return l
    }

    /// out [B, M, d] from sentences [B, M, S] (M = 1 embeds queries).
    public static func embedForward(
        out: UnsafeMutablePointer<Float>, sentences: UnsafePointer<Int32>, table: UnsafePointer<Float>,
        temporal: UnsafePointer<Float>?, encoding: UnsafePointer<Float>,
        batch: Int, memories m: Int, words s: Int, channels d: Int, vocabulary: Int
    ) {
        for bi in 0..<(batch * m) {
            let o = out + bi * d
            if let temporal { o.update(from: temporal + (bi % m) * d, count: d) } else { o.update(repeating: 0, count: d) }
            for j in 0..<s {
                let w = Int(sentences[bi * s + j])
                if w < 0 { continue }
                precondition(w < vocabulary, "word id \(w) outside vocabulary of \(vocabulary)")
                let e = table + w * d, l = encoding + j * d
                for k in 0..<d { o[k] += l[k] * e[k] }
            }
        }
    }

    public static func embedBackward(
        dTable: UnsafeMutablePointer<Float>, dTemporal: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
        sentences: UnsafePointer<Int32>, encoding: UnsafePointer<Float>, batch: Int, memories m: Int, words s: Int, channels d: Int
    ) {
        for bi in 0..<(batch * m) {
            let g = dout + bi * d
            if let dTemporal {
                let dt = dTemporal + (bi % m) * d
                for k in 0..<d { dt[k] += g[k] }
            }
            for j in 0..<s {
                let w = Int(sentences[bi * s + j])
                if w < 0 { continue }
                let de = dTable + w * d, l = encoding + j * d
                for k in 0..<d { de[k] += l[k] * g[k] }
            }
        }
    }

    /// One hop. `counts` (valid memories per example) nil = all M valid. `transformed` required with a transform.
    public static func forward(
        uNext: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
        transformed: UnsafeMutablePointer<Float>?, u: UnsafePointer<Float>, memories: UnsafePointer<Float>,
        outputs: UnsafePointer<Float>, counts: UnsafePointer<Int32>?, batch: Int, memorySlots m: Int, channels d: Int,
        transform: (any ScoreTransform)?, training: Bool
    ) {
        let mask = AttentionMask(causal: false, lengths: counts)
        for b in 0..<batch {
            // x[b, :] = M_b · u_b  ([M, d] × [d])
            Gemm.sgemm(.none, .transposed, m: 1, n: m, k: d, a: u + b * d, lda: d, b: memories + b * m * d, ldb: d,
                       c: scores + b * m, ldc: m)
        }
        let shape = ScoreShape(batch: batch, heads: 1, queries: 1, keys: m)
        var x = UnsafePointer(scores)
        if let transform {
            transform.forward(scores: scores, into: transformed!, shape: shape, mask: mask, training: training)
            x = UnsafePointer(transformed!)
        }
        for b in 0..<batch {
            let n = mask.validKeys(batch: b, query: 0, keys: m)
            Softmax.forwardRow(out: probs + b * m, inp: x + b * m, columns: m, validColumns: n)
            // As in Attention.forward: a question whose valid memories were ALL pruned by the hard rule reads no
            // memory (zero probabilities, u' = u) instead of a uniform softmax over equal pruned constants.
            if transform != nil && n > 0 {
                var rowMax = -Float.infinity
                for j in 0..<n { rowMax = max(rowMax, x[b * m + j]) }
                if rowMax <= Attention.prunedRowLimit { (probs + b * m).update(repeating: 0, count: n) }
            }
            (uNext + b * d).update(from: u + b * d, count: d)
            Gemm.sgemm(.none, .none, m: 1, n: d, k: m, a: probs + b * m, lda: m, b: outputs + b * m * d, ldb: d,
                       beta: 1, c: uNext + b * d, ldc: d)
        }
    }

    /// Accumulates du, dmemories, doutputs. `dscores` is [B, M] scratch.
    public static func backward(
        du: UnsafeMutablePointer<Float>, dmemories: UnsafeMutablePointer<Float>, doutputs: UnsafeMutablePointer<Float>,
        dscores: UnsafeMutablePointer<Float>, duNext: UnsafePointer<Float>, probs: UnsafePointer<Float>,
        scores: UnsafePointer<Float>, u: UnsafePointer<Float>, memories: UnsafePointer<Float>, outputs: UnsafePointer<Float>,
        counts: UnsafePointer<Int32>?, batch: Int, memorySlots m: Int, channels d: Int, transform: (any ScoreTransform)?
    ) {
        let mask = AttentionMask(causal: false, lengths: counts)
        for b in 0..<batch {
            let g = duNext + b * d
            for k in 0..<d { du[b * d + k] += g[k] }
            // dc_i += p_i · g ;  dp_i = g · c_i
            Gemm.sgemm(.transposed, .none, m: m, n: d, k: 1, a: probs + b * m, lda: m, b: g, ldb: d, beta: 1,
                       c: doutputs + b * m * d, ldc: d)
            Gemm.sgemm(.none, .transposed, m: 1, n: m, k: d, a: g, lda: d, b: outputs + b * m * d, ldb: d,
                       c: dscores + b * m, ldc: m)
            Softmax.backwardRow(dinp: dscores + b * m, out: probs + b * m, dout: dscores + b * m, columns: m,
                                validColumns: mask.validKeys(batch: b, query: 0, keys: m))
        }
        if let transform {
            transform.backward(scores: scores, gradOutput: dscores, gradScores: dscores,
                               shape: ScoreShape(batch: batch, heads: 1, queries: 1, keys: m), mask: mask)
        }
        for b in 0..<batch {
            // du += Σ_i dx_i m_i ;  dm_i += dx_i u
            Gemm.sgemm(.none, .none, m: 1, n: d, k: m, a: dscores + b * m, lda: m, b: memories + b * m * d, ldb: d,
                       beta: 1, c: du + b * d, ldc: d)
            Gemm.sgemm(.transposed, .none, m: m, n: d, k: 1, a: dscores + b * m, lda: m, b: u + b * d, ldb: d,
                       beta: 1, c: dmemories + b * m * d, ldc: d)
        }
    }
}
