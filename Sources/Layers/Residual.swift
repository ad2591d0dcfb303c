// Residual connection: out = a + b; both inputs receive the upstream gradient unchanged.
public enum Residual {
    public static func forward(out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = a[i] + b[i] }
    }

    public static func backward(da: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { da[i] += dout[i]; db[i] += dout[i] }
    }
}
