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
                var sum: Float = 0
                for k in 0..<c { sum += x[k] }
                let m = sum / Float(c)
                var v: Float = 0
                for k in 0..<c { let d = x[k] - m; v += d * d }
                let s = 1 / (v / Float(c) + epsilon).squareRoot()
                let o = out + r * c
                for k in 0..<c { o[k] = (x[k] - m) * s * weight[k] + bias[k] }
                mean[r] = m
                rstd[r] = s
            }
        }
    }

    /// With n̂ = (x − μ)·rstd and g = w ⊙ dout:  dx += rstd·(g − mean(g) − n̂·mean(g ⊙ n̂));  dw += n̂ ⊙ dout;  db += dout.
    public static func backward(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows n: Int, channels c: Int
    ) {
        for r in 0..<n {
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
                dbias[k] += d[k]
                dweight[k] += nk * d[k]
                dx[k] += (g - gMean - nk * gnMean) * s
            }
        }
    }
}
