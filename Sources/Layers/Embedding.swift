// Token embedding plus learned positional embedding: out[b,t,:] = wte[token[b,t], :] + wpe[t, :].
// Token ids are validated by the data loaders; an out-of-range id here is a programmer error (trap).
import Tensors

public enum Embedding {
    public static func forward(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, tokenTable: UnsafePointer<Float>,
        positionTable: UnsafePointer<Float>?, batch: Int, time: Int, channels c: Int, vocabulary: Int
    ) {
        Compute.forRanges(count: batch * time, minimumPerChunk: 256) { rows in
            for r in rows {
                let t = r % time
                let id = Int(tokens[r])
                precondition(id >= 0 && id < vocabulary, "token id \(id) outside vocabulary of \(vocabulary)")
                let o = out + r * c
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
        // Worker p owns the token rows with id % parts == p (and position rows with t % parts == p): no two workers
        // write the same row, and each row still sums its contributions in (b, t) order — deterministic.
        let parts = batch * time >= 512 ? Compute.threads : 1
        Compute.forEach(chunks: parts) { part in
            for r in 0..<(batch * time) {
                let d = dout + r * c
                let id = Int(tokens[r])
                if id % parts == part {
                    let w = dTokenTable + id * c
                    for k in 0..<c { w[k] += d[k] }
                }
                let t = r % time
                if let dPositionTable, t % parts == part {
                    let p = dPositionTable + t * c
                    for k in 0..<c { p[k] += d[k] }
                }
            }
        }
    }
}
