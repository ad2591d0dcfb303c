// GELU, tanh approximation (BERT/GPT-2; PyTorch `GELU(approximate="tanh")`):
// y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³);  dy/dx = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²).
import Tensors
#if canImport(Glibc)
import Glibc
#endif

public enum GELU {
    static let k: Float = (2 / Float.pi).squareRoot()

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        Compute.forRanges(count: count, minimumPerChunk: 16384) { range in
            for i in range {
                let x = inp[i]
                out[i] = 0.5 * x * (1 + FastMath.tanh(k * (x + 0.044715 * x * x * x)))
            }
        }
    }

    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        Compute.forRanges(count: count, minimumPerChunk: 16384) { range in
            for i in range {
                let x = inp[i]
                let t = FastMath.tanh(k * (x + 0.044715 * x * x * x))
                let local = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
                dinp[i] += local * dout[i]
            }
        }
    }
}
