// Token-type (segment) embedding of BERT: out[b,t,:] += wtt[type[b,t], :], added to the token + position sum
// before the embedding LayerNorm. Type 0 marks `[CLS] A [SEP]`, type 1 marks `B [SEP]` of a sentence pair.
// An out-of-range type id is a programmer error (the encoders only produce 0 and 1): trap.
public enum SegmentEmbedding {
    public static func forward(
        out: UnsafeMutablePointer<Float>, types: UnsafePointer<Int32>, typeTable: UnsafePointer<Float>,
        rows: Int, channels c: Int, typeCount: Int
    ) {
        for r in 0..<rows {
            let id = Int(types[r])
            precondition(id >= 0 && id < typeCount, "token type \(id) outside 0..<\(typeCount)")
            let o = out + r * c, w = typeTable + id * c
            for k in 0..<c { o[k] += w[k] }
        }
    }

    /// dwtt[type] += dout (the forward line `out += wtt[type]`).
    public static func backward(
        dTypeTable: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, types: UnsafePointer<Int32>,
        rows: Int, channels c: Int
    ) {
        for r in 0..<rows {
            let d = dout + r * c, w = dTypeTable + Int(types[r]) * c
            for k in 0..<c { w[k] += d[k] }
        }
    }
}
