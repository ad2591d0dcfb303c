// Softmax cross-entropy with an ignore index, fused (llm.c style): forward keeps the probabilities, backward uses
// dlogits = (p − onehot(target)) / counted rows. The loss is the mean over rows whose target ≠ ignoreIndex
// (PyTorch's `reduction="mean"`, `ignore_index`); when every row is ignored the loss is 0 with no gradient.
#if canImport(Glibc)
import Glibc
#endif

public enum CrossEntropy {
    public static let defaultIgnoreIndex: Int32 = -100

    /// Returns the mean loss (in Double, accumulated per row). With `rowLosses` each row's loss is also written
    /// there (0 for an ignored row), the same values the mean is taken over.
    @discardableResult
    public static func forward(
        probs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
        rows n: Int, classes v: Int, ignoreIndex: Int32 = defaultIgnoreIndex,
        rowLosses: UnsafeMutablePointer<Double>? = nil
    ) -> Double {
        var total = 0.0
        var counted = 0
        for r in 0..<n {
            Softmax.forwardRow(out: probs + r * v, inp: logits + r * v, columns: v, validColumns: v)
            let t = targets[r]
            if t == ignoreIndex { rowLosses?[r] = 0; continue }
            precondition(t >= 0 && Int(t) < v, "target \(t) outside \(v) classes")
            // log p computed from the logits (log-sum-exp) rather than log(p), which underflows to −∞.
            let row = logits + r * v
            var m = -Float.infinity
            for j in 0..<v { m = max(m, row[j]) }
            var sum = 0.0
            for j in 0..<v { sum += Double(expf(row[j] - m)) }
            let loss = Double(m) + log(sum) - Double(row[Int(t)])
            rowLosses?[r] = loss
            total += loss
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

/// Softmax cross-entropy against soft targets (a distribution per row, e.g. a teacher's probabilities mixed with
/// the one-hot label for distillation): loss = mean over rows of −Σ_j t_j · log p_j, dlogits = (p − t) / rows.
/// With a one-hot t it equals `CrossEntropy` without ignored rows.
public enum SoftTargetCrossEntropy {
    /// Returns the mean loss; keeps the probabilities in `probs` for the backward pass.
    @discardableResult
    public static func forward(probs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>, targets: UnsafePointer<Float>,
                               rows n: Int, classes v: Int) -> Double {
        var total = 0.0
        for r in 0..<n {
            let row = logits + r * v, t = targets + r * v
            Softmax.forwardRow(out: probs + r * v, inp: row, columns: v, validColumns: v)
            var m = -Float.infinity
            for j in 0..<v { m = max(m, row[j]) }
            var sum = 0.0
            for j in 0..<v { sum += Double(expf(row[j] - m)) }
            let logSum = Double(m) + log(sum)
            for j in 0..<v where t[j] != 0 { total += Double(t[j]) * (logSum - Double(row[j])) }
        }
        return n == 0 ? 0 : total / Double(n)
    }

    /// dlogits += scale · (p − t) / rows.
    public static func backward(dlogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, targets: UnsafePointer<Float>,
                                rows n: Int, classes v: Int, scale: Float = 1) {
        guard n > 0 else { return }
        let f = scale / Float(n)
        for i in 0..<(n * v) { dlogits[i] += f * (probs[i] - targets[i]) }
    }
}
