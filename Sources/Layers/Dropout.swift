// Inverted dropout, seeded: each element is kept with probability 1 − p and scaled by 1/(1 − p), so evaluation
// (p = 0 or `training == false`) is the identity. The mask holds the per-element factor (0 or 1/(1 − p)) for the
// backward pass; drawing it from the caller's SeededGenerator makes runs bit-identical for a seed.
import Basics
import Tensors

public enum Dropout {
    /// `out` may alias `inp`.
    public static func forward(
        out: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int,
        probability p: Float, rng: inout SeededGenerator
    ) {
        precondition(p >= 0 && p < 1, "dropout probability \(p) outside [0, 1)")
        if p == 0 {
            mask.update(repeating: 1, count: count)
            if UnsafePointer(out) != inp { out.update(from: inp, count: count) }
            return
        }
        let scale = 1 / (1 - p)
        // 24-bit uniforms, two per 64-bit draw. The mask is cut into a FIXED number of blocks, each with its own
        // generator seeded from one draw of the caller's, so it is the same whatever the thread count.
        let threshold = UInt32(Double(p) * Double(1 << 24))
        let blocks = 16
        let base = rng.next()
        Compute.forEach(chunks: blocks) { blk in
            var local = SeededGenerator(seed: base &+ UInt64(blk) &* 0x9E37_79B9_7F4A_7C15)
            var i = blk * count / blocks
            let end = (blk + 1) * count / blocks
            while i < end {
                let r = local.next()
                let lo = UInt32(truncatingIfNeeded: r >> 8) & 0xFF_FFFF
                let hi = UInt32(truncatingIfNeeded: r >> 40)
                mask[i] = lo < threshold ? 0 : scale
                out[i] = inp[i] * mask[i]
                if i + 1 < end {
                    mask[i + 1] = hi < threshold ? 0 : scale
                    out[i + 1] = inp[i + 1] * mask[i + 1]
                }
                i += 2
            }
        }
    }

    public static func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, mask: UnsafePointer<Float>, count: Int) {
        Compute.forRanges(count: count, minimumPerChunk: 65536) { r in for i in r { dinp[i] += dout[i] * mask[i] } }
    }
}
