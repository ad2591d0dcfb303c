// ReLU: y = max(x, 0); dy/dx = 1 for x > 0, else 0 (the subgradient 0 at x = 0, as PyTorch).
public enum ReLU {
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = max(inp[i], 0) }
    }

    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        for i in 0..<count where inp[i] > 0 { dinp[i] += dout[i] }
    }
}
