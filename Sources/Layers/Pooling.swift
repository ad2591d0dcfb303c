// Sequence pooling, [B, T, C] → [B, C]: the CLS token (position 0) or the mean over each example's valid tokens
// (t < length; a length of 0 pools to zeros).
public enum Pooling {
    public static func clsForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, batch: Int, time: Int, channels c: Int) {
        for b in 0..<batch { (out + b * c).update(from: inp + b * time * c, count: c) }
    }

    public static func clsBackward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, batch: Int, time: Int, channels c: Int) {
        for b in 0..<batch {
            let d = dinp + b * time * c, g = dout + b * c
            for k in 0..<c { d[k] += g[k] }
        }
    }

    /// `lengths` nil means every position is valid.
    public static func meanForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, lengths: UnsafePointer<Int32>?, batch: Int, time: Int, channels c: Int) {
        for b in 0..<batch {
            let n = lengths.map { min(Int($0[b]), time) } ?? time
            let o = out + b * c
            o.update(repeating: 0, count: c)
            if n == 0 { continue }
            for t in 0..<n {
                let x = inp + (b * time + t) * c
                for k in 0..<c { o[k] += x[k] }
            }
            let inv = 1 / Float(n)
            for k in 0..<c { o[k] *= inv }
        }
    }

    public static func meanBackward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, lengths: UnsafePointer<Int32>?, batch: Int, time: Int, channels c: Int) {
        for b in 0..<batch {
            let n = lengths.map { min(Int($0[b]), time) } ?? time
            if n == 0 { continue }
            let inv = 1 / Float(n)
            let g = dout + b * c
            for t in 0..<n {
                let d = dinp + (b * time + t) * c
                for k in 0..<c { d[k] += g[k] * inv }
            }
        }
    }
}
