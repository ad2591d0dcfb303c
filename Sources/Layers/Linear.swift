// Layers — forward and backward passes of the network layers, side by side, on raw Float pointers with explicit
// shapes (llm.c style). Backward passes ACCUMULATE into gradient buffers (callers zero them once per step).
// Imports Tensors (for BLAS) and Basics only; must not import Models, Training or anything hardware-side.
//
// Linear: out[N×O] = inp[N×I] · Wᵀ + b, with W stored [O, I] (PyTorch's layout, so checkpoints map 1:1).
import Tensors

public enum Linear {
    public static func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, rows n: Int, inFeatures i: Int, outFeatures o: Int
    ) {
        if let bias {
            Compute.forRanges(count: n, minimumPerChunk: 256) { rows in
                for r in rows { (out + r * o).update(from: bias, count: o) }
            }
        }
        Gemm.sgemmSplit(.none, .transposed, m: n, n: o, k: i, a: inp, lda: i, b: weight, ldb: i,
                   beta: bias == nil ? 0 : 1, c: out, ldc: o)
    }

    /// dinp += dout·W;  dW += doutᵀ·inp;  db += Σ_rows dout.  `dinp` nil when the input needs no gradient;
    /// `overwriteInput` stores dinp = dout·W instead of adding (saves zeroing a fresh buffer).
    public static func backward(
        dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows n: Int, inFeatures i: Int, outFeatures o: Int, overwriteInput: Bool = false
    ) {
        if let dinp {
            Gemm.sgemmSplit(.none, .none, m: n, n: i, k: o, a: dout, lda: o, b: weight, ldb: i, beta: overwriteInput ? 0 : 1, c: dinp, ldc: i)
        }
        Gemm.sgemmSplit(.transposed, .none, m: o, n: i, k: n, a: dout, lda: o, b: inp, ldb: i, beta: 1, c: dweight, ldc: i)
        if let dbias { columnSums(dout, rows: n, columns: o, into: dbias) }
    }

    /// into[c] += Σ_r m[r, c]. Columns are split over the workers (each sums whole columns in row order, so the
    /// result does not depend on the thread count).
    public static func columnSums(_ m: UnsafePointer<Float>, rows: Int, columns: Int, into: UnsafeMutablePointer<Float>) {
        let parts = rows * columns >= 65536 ? max(1, min(Compute.threads, columns / 16)) : 1
        Compute.forEach(chunks: parts) { p in
            let lo = p * columns / parts, hi = (p + 1) * columns / parts
            for r in 0..<rows {
                let row = m + r * columns
                for c in lo..<hi { into[c] += row[c] }
            }
        }
    }
}
