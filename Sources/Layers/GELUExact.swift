// GELU, exact form (Hugging Face `hidden_act: "gelu"`, PyTorch `GELU()`), used by pretrained BERT checkpoints:
//   y = x·Φ(x) = ½x(1 + erf(x/√2));   dy/dx = Φ(x) + x·φ(x),  φ(x) = e^(−x²/2)/√(2π).
// The tanh approximation in GELU.swift differs from it by up to ~1e-3, too much to reproduce a pretrained model's
// hidden states to 1e-4, hence a second kernel rather than a flag inside the fast one.
import Tensors
#if canImport(Glibc)
import Glibc
#endif

public enum GELUExact {
    static let invSqrt2: Float = 1 / Float(2).squareRoot()
    static let invSqrt2Pi: Float = 1 / (2 * Float.pi).squareRoot()

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        Compute.forRanges(count: count, minimumPerChunk: 16384) { range in
            for i in range {
                let x = inp[i]
                out[i] = 0.5 * x * (1 + erff(x * invSqrt2))
            }
        }
    }

    /// Accumulates dinp += (Φ(x) + x·φ(x)) · dout.
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        Compute.forRanges(count: count, minimumPerChunk: 16384) { range in
            for i in range {
                let x = inp[i]
                let cdf = 0.5 * (1 + erff(x * invSqrt2))
                let pdf = invSqrt2Pi * expf(-0.5 * x * x)
                dinp[i] += (cdf + x * pdf) * dout[i]
            }
        }
    }
}
