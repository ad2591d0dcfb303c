// Fake quantisation of attention queries and keys to B-bit signed fixed point (DESIGN.md §2, "accuracy with Q/K
// quantisation alone"): per layer and per forward batch, q and k each get a symmetric scale Δ = max|v| / (2^(B−1) − 1)
// from the batch itself, and every value becomes round(v/Δ)·Δ (ties to even). Values, V and everything else stay
// Float. Used at inference only.
#if canImport(Glibc)
import Glibc
#endif

public enum QKQuantization {
    /// Quantises in place the q (columns 0..<C) and k (columns C..<2C) parts of a [rows, 3C] QKV buffer.
    public static func fakeQuantize(qkv: UnsafeMutablePointer<Float>, rows: Int, channels c: Int, bits: Int) {
        precondition((2...16).contains(bits), "bits must be 2...16")
        let levels = Float((1 << (bits - 1)) - 1)
        for part in 0..<2 {
            var maxMagnitude: Float = 0
            for r in 0..<rows {
                let p = qkv + r * 3 * c + part * c
                for e in 0..<c { maxMagnitude = max(maxMagnitude, abs(p[e])) }
            }
            guard maxMagnitude > 0 else { continue }
            let scale = maxMagnitude / levels, inverse = levels / maxMagnitude
            for r in 0..<rows {
                let p = qkv + r * 3 * c + part * c
                for e in 0..<c { p[e] = rintf(p[e] * inverse) * scale }
            }
        }
    }
}
