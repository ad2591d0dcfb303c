// Residual connection: out = a + b; both inputs receive the upstream gradient unchanged.
import Tensors

public enum Residual {
    public static func forward(out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, count: Int) {
        Compute.forRanges(count: count, minimumPerChunk: 65536) { r in for i in r { out[i] = a[i] + b[i] } }
    }

    public static func backward(da: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        Compute.forRanges(count: count, minimumPerChunk: 65536) { r in for i in r { da[i] += dout[i]; db[i] += dout[i] } }
    }
}
