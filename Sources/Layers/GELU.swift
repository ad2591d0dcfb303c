// GELU, tanh approximation (BERT/GPT-2; PyTorch `GELU(approximate="tanh")`):
// y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³);  dy/dx = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²).
import Tensors
#if canImport(Glibc)
import Glibc
#endif

public enum GELU {
    static let k: Float = (2 / Float.pi).squareRoot()

    /// Forward that also stores the local derivative dy/dx, so the backward pass is one multiply per element
    /// (`backward(dinp:derivative:dout:)`) instead of recomputing tanh.
    public static func forward(out: UnsafeMutablePointer<Float>, derivative: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        Compute.forRanges(count: count, minimumPerChunk: 16384) { range in
            for i in range {
                let x = inp[i]
                let t = FastMath.tanh(k * (x + 0.044715 * x * x * x))
                out[i] = 0.5 * x * (1 + t)
                derivative[i] = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
            }
        }
    }

    /// dinp = derivative ⊙ dout (overwrites), with the derivative stored by the forward pass.
    public static func backward(dinp: UnsafeMutablePointer<Float>, derivative: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        Compute.forRanges(count: count, minimumPerChunk: 32768) { range in
            for i in range { dinp[i] = derivative[i] * dout[i] }
        }
    }

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        Compute.forRanges(count: count, minimumPerChunk: 16384) { range in
            for i in range {
                let x = inp[i]
                out[i] = 0.5 * x * (1 + FastMath.tanh(k * (x + 0.044715 * x * x * x)))
            }
        }
    }

    /// dinp += GELU'(inp)·dout, or `overwrite`: dinp = GELU'(inp)·dout.
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int, overwrite: Bool = false) {
        Compute.forRanges(count: count, minimumPerChunk: 16384) { range in
            // Two loops rather than a per-element branch, so each vectorises.
            if overwrite {
                for i in range { dinp[i] = derivative(inp[i]) * dout[i] }
            } else {
                for i in range { dinp[i] += derivative(inp[i]) * dout[i] }
            }
        }
    }

    @inline(__always)
    static func derivative(_ x: Float) -> Float {
        let t = FastMath.tanh(k * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
    }
}
