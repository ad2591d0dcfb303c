// Token embedding plus learned positional embedding: out[b,t,:] = wte[token[b,t], :] + wpe[t, :].
// Token ids are validated by the data loaders; an out-of-range id here is a programmer error (trap).
public enum Embedding {
    public static func forward(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, tokenTable: UnsafePointer<Float>,
        positionTable: UnsafePointer<Float>?, batch: Int, time: Int, channels c: Int, vocabulary: Int
    ) {
        for b in 0..<batch {
            for t in 0..<time {
                let id = Int(tokens[b * time + t])
                precondition(id >= 0 && id < vocabulary, "token id \(id) outside vocabulary of \(vocabulary)")
                let o = out + (b * time + t) * c
                let w = tokenTable + id * c
                if let positionTable {
                    let p = positionTable + t * c
                    for k in 0..<c { o[k] = w[k] + p[k] }
                } else {
                    o.update(from: w, count: c)
                }
            }
        }
    }

    /// dwte[token] += dout;  dwpe[t] += dout.
    public static func backward(
        dTokenTable: UnsafeMutablePointer<Float>, dPositionTable: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, batch: Int, time: Int, channels c: Int
    ) {
        for b in 0..<batch {
            for t in 0..<time {
                let d = dout + (b * time + t) * c
                let w = dTokenTable + Int(tokens[b * time + t]) * c
                for k in 0..<c { w[k] += d[k] }
                if let dPositionTable {
                    let p = dPositionTable + t * c
                    for k in 0..<c { p[k] += d[k] }
                }
            }
        }
    }
}
