// LayerNorm over the last dimension: out = (x − μ)·rstd·w + b with rstd = 1/sqrt(var + ε) (biased variance, as
// PyTorch). Forward caches μ and rstd per row for the backward pass.
import Tensors

public enum LayerNorm {
    public static func forward(
        out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        rows n: Int, channels c: Int, epsilon: Float = 1e-5
    ) {
        Compute.forRanges(count: n, minimumPerChunk: 256) { range in
            for r in range {
                let x = inp + r * c
                let m = Reduce.sum(x, count: c) / Float(c)
                let v = Reduce.centredSquares(x, mean: m, count: c)
                let s = 1 / (v / Float(c) + epsilon).squareRoot()
                let o = out + r * c
                for k in 0..<c { o[k] = (x[k] - m) * s * weight[k] + bias[k] }
                mean[r] = m
                rstd[r] = s
            }
        }
    }

    /// With n̂ = (x − μ)·rstd and g = w ⊙ dout:  dx += rstd·(g − mean(g) − n̂·mean(g ⊙ n̂));  dw += n̂ ⊙ dout;  db += dout.
    /// `overwrite` stores dx instead of adding it (saves zeroing the buffer). Rows are cut into a FIXED number of
    /// blocks (not one per thread) with partial dw/db sums added in block order, so results do not depend on the
    /// thread count.
    public static func backward(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows n: Int, channels c: Int, overwrite: Bool = false
    ) {
        let parts = n >= 512 ? 8 : 1
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * c * parts) { partial in
            let partials = partial.baseAddress!
            partials.initialize(repeating: 0, count: 2 * c * parts)
            Compute.forEach(chunks: parts) { part in
                let dw = partials + 2 * c * part, db = dw + c
                for r in (part * n / parts)..<((part + 1) * n / parts) {
                    let x = inp + r * c, d = dout + r * c, dx = dinp + r * c
                    let m = mean[r], s = rstd[r]
                    var gMean: Float = 0, gnMean: Float = 0
                    for k in 0..<c {
                        let nk = (x[k] - m) * s
                        let g = weight[k] * d[k]
                        gMean += g
                        gnMean += g * nk
                    }
                    gMean /= Float(c)
                    gnMean /= Float(c)
                    for k in 0..<c {
                        let nk = (x[k] - m) * s
                        let g = weight[k] * d[k]
                        db[k] += d[k]
                        dw[k] += nk * d[k]
                        let v = (g - gMean - nk * gnMean) * s
                        dx[k] = overwrite ? v : dx[k] + v
                    }
                }
            }
            for part in 0..<parts {
                let dw = partials + 2 * c * part, db = dw + c
                for k in 0..<c { dweight[k] += dw[k]; dbias[k] += db[k] }
            }
        }
    }
}
