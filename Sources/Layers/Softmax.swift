// Softmax over the first `validColumns` entries of each row (the rest are masked and get probability 0):
// p_j = exp(x_j − max) / Σ_k exp(x_k − max).  Backward: dx_j += p_j·(dp_j − Σ_k p_k·dp_k).
import Tensors
#if canImport(Glibc)
import Glibc
#endif

public enum Softmax {
    @inline(__always)
    public static func forwardRow(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, columns: Int, validColumns n: Int) {
        if n == 0 { out.update(repeating: 0, count: columns); return }
        let m = Reduce.max(inp, count: n)
        for j in 0..<n { out[j] = FastMath.exp(inp[j] - m) }
        let inv = 1 / Reduce.sum(out, count: n)
        for j in 0..<n { out[j] *= inv }
        if n < columns { (out + n).update(repeating: 0, count: columns - n) }
    }

    /// Overwrites `dinp` (which may alias `dout`) with the gradient for one row; masked entries get 0.
    @inline(__always)
    public static func backwardRow(dinp: UnsafeMutablePointer<Float>, out: UnsafePointer<Float>, dout: UnsafePointer<Float>, columns: Int, validColumns n: Int) {
        let dot = Reduce.dot(out, dout, count: n)
        for j in 0..<n { dinp[j] = out[j] * (dout[j] - dot) }
        if n < columns { (dinp + n).update(repeating: 0, count: columns - n) }
    }

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows: Int, columns: Int) {
        for r in 0..<rows { forwardRow(out: out + r * columns, inp: inp + r * columns, columns: columns, validColumns: columns) }
    }

    /// Accumulating form for standalone use: dinp += J(p)ᵀ·dout.
    public static func backward(dinp: UnsafeMutablePointer<Float>, out: UnsafePointer<Float>, dout: UnsafePointer<Float>, rows: Int, columns: Int) {
        for r in 0..<rows {
            let p = out + r * columns, d = dout + r * columns, dx = dinp + r * columns
            var dot: Float = 0
            for j in 0..<columns { dot += p[j] * d[j] }
            for j in 0..<columns { dx[j] += p[j] * (d[j] - dot) }
        }
    }
}
