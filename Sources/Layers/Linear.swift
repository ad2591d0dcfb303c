// Layers — forward and backward passes of the network layers, side by side, on raw Float pointers with explicit
// shapes (llm.c style). Backward passes ACCUMULATE into gradient buffers (callers zero them once per step).
// Imports Tensors (for BLAS) and Basics only; must not import Models, Training or anything hardware-side.
//
// Linear: out[N×O] = inp[N×I] · Wᵀ + b, with W stored [O, I] (PyTorch's layout, so checkpoints map 1:1).
// Parallelism (Compute.threads > 1 with engine-split products): the forward pass cuts the rows into one block per
// worker, each filling its rows with the bias and running its own single-threaded sgemm (one parallel section);
// the backward pass runs its two equal-sized products — dinp = dout·W and dW = doutᵀ·inp, both N·I·O
// multiply-adds — side by side on two workers (plus the bias sums with dW), instead of splitting each in turn.
// Every element is computed by the same kernel over the same k order either way, so results do not depend on
// the thread count.
import Tensors

public enum Linear {
    public static func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, rows n: Int, inFeatures i: Int, outFeatures o: Int
    ) {
        let large = Double(n) * Double(i) * Double(o) >= 1_048_576 && n >= 64
        let parts = Compute.splitsGemms && large ? Compute.threads : 1
        Compute.forEach(chunks: parts) { p in
            let lo = rowBoundary(p, of: parts, rows: n), hi = rowBoundary(p + 1, of: parts, rows: n)
            if hi <= lo { return }
            if let bias {
                for r in lo..<hi { (out + r * o).update(from: bias, count: o) }
            }
            Gemm.sgemm(.none, .transposed, m: hi - lo, n: o, k: i, a: inp + lo * i, lda: i, b: weight, ldb: i,
                       beta: bias == nil ? 0 : 1, c: out + lo * o, ldc: o)
        }
    }

    /// dinp += dout·W;  dW += doutᵀ·inp;  db += Σ_rows dout.  `dinp` nil when the input needs no gradient;
    /// `overwriteInput` stores dinp = dout·W instead of adding (saves zeroing a fresh buffer).
    public static func backward(
        dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows n: Int, inFeatures i: Int, outFeatures o: Int, overwriteInput: Bool = false
    ) {
        let inputBeta: Float = overwriteInput ? 0 : 1
        let large = Double(n) * Double(i) * Double(o) >= 1_048_576
        if let dinp, large, Compute.threads == 2, Compute.splitsGemms {
            Compute.forEach(chunks: 2) { p in
                if p == 0 {
                    Gemm.sgemm(.none, .none, m: n, n: i, k: o, a: dout, lda: o, b: weight, ldb: i, beta: inputBeta, c: dinp, ldc: i)
                } else {
                    Gemm.sgemm(.transposed, .none, m: o, n: i, k: n, a: dout, lda: o, b: inp, ldb: i, beta: 1, c: dweight, ldc: i)
                    if let dbias { columnSums(dout, rows: n, columns: o, into: dbias, parallel: false) }
                }
            }
            return
        }
        if let dinp {
            Gemm.sgemmSplit(.none, .none, m: n, n: i, k: o, a: dout, lda: o, b: weight, ldb: i, beta: inputBeta, c: dinp, ldc: i)
        }
        Gemm.sgemmSplit(.transposed, .none, m: o, n: i, k: n, a: dout, lda: o, b: inp, ldb: i, beta: 1, c: dweight, ldc: i)
        if let dbias { columnSums(dout, rows: n, columns: o, into: dbias) }
    }

    /// Start of row block `p` of `parts`, on a multiple of 16 rows (whole SIMD registers), the last block ending at n.
    @inline(__always)
    static func rowBoundary(_ p: Int, of parts: Int, rows n: Int) -> Int {
        p >= parts ? n : min(n, (p * n / parts + 15) / 16 * 16)
    }

    /// into[c] += Σ_r m[r, c]. Columns are split over the workers (each sums whole columns in row order, so the
    /// result does not depend on the thread count).
    public static func columnSums(_ m: UnsafePointer<Float>, rows: Int, columns: Int, into: UnsafeMutablePointer<Float>, parallel: Bool = true) {
        let parts = parallel && rows * columns >= 65536 ? max(1, min(Compute.threads, columns / 16)) : 1
        Compute.forEach(chunks: parts) { p in
            let lo = p * columns / parts, hi = (p + 1) * columns / parts
            for r in 0..<rows {
                let row = m + r * columns
                for c in lo..<hi { into[c] += row[c] }
            }
        }
    }
}
