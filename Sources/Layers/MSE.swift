// Mean squared error for regression heads (STS-B): L = (1/n)·Σ (pred − target)²;  dpred += scale·2(pred − target)/n.
public enum MSE {
    @discardableResult
    public static func forward(pred: UnsafePointer<Float>, target: UnsafePointer<Float>, count n: Int) -> Double {
        var s = 0.0
        for i in 0..<n { let d = Double(pred[i]) - Double(target[i]); s += d * d }
        return n == 0 ? 0 : s / Double(n)
    }

    public static func backward(dpred: UnsafeMutablePointer<Float>, pred: UnsafePointer<Float>, target: UnsafePointer<Float>, count n: Int, scale: Float = 1) {
        guard n > 0 else { return }
        let f = 2 * scale / Float(n)
        for i in 0..<n { dpred[i] += f * (pred[i] - target[i]) }
    }
}
