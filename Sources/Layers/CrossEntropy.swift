// Softmax cross-entropy with an ignore index, fused (llm.c style): forward keeps the probabilities, backward uses
// dlogits = (p − onehot(target)) / counted rows. The loss is the mean over rows whose target ≠ ignoreIndex
// (PyTorch's `reduction="mean"`, `ignore_index`); when every row is ignored the loss is 0 with no gradient.
#if canImport(Glibc)
import Glibc
#endif

public enum CrossEntropy {
    public static let defaultIgnoreIndex: Int32 = -100

    /// Returns the mean loss (in Double, accumulated per row).
    @discardableResult
    public static func forward(
        probs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
        rows n: Int, classes v: Int, ignoreIndex: Int32 = defaultIgnoreIndex
    ) -> Double {
        var total = 0.0
        var counted = 0
        for r in 0..<n {
            Softmax.forwardRow(out: probs + r * v, inp: logits + r * v, columns: v, validColumns: v)
            let t = targets[r]
            if t == ignoreIndex { continue }
            precondition(t >= 0 && Int(t) < v, "target \(t) outside \(v) classes")
            // log p computed from the logits (log-sum-exp) rather than log(p), which underflows to −∞.
            let row = logits + r * v
            var m = -Float.infinity
            for j in 0..<v { m = max(m, row[j]) }
            var sum = 0.0
            for j in 0..<v { sum += Double(expf(row[j] - m)) }
            total += Double(m) + log(sum) - Double(row[Int(t)])
            counted += 1
        }
        return counted == 0 ? 0 : total / Double(counted)
    }

    /// dlogits += scale · (p − onehot) / counted.
    public static func backward(
        dlogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
        rows n: Int, classes v: Int, ignoreIndex: Int32 = defaultIgnoreIndex, scale: Float = 1
    ) {
        var counted = 0
        for r in 0..<n where targets[r] != ignoreIndex { counted += 1 }
        if counted == 0 { return }
        let f = scale / Float(counted)
        for r in 0..<n where targets[r] != ignoreIndex {
            let p = probs + r * v, d = dlogits + r * v
            for j in 0..<v { d[j] += f * p[j] }
            d[Int(targets[r])] -= f
        }
    }
}
