// Float reductions with eight running partial sums. LLVM does not vectorise a plain `sum += x[i]` loop over
// Floats (that would reassociate the additions); eight independent accumulators fix one association order —
// lane k sums elements k, k+8, …, lanes folded pairwise at the end, then the scalar tail — which the SLP
// vectoriser turns into vector adds, and which is deterministic.

public enum Reduce {
    @usableFromInline
    struct Lanes {
        @usableFromInline var a0: Float, a1: Float, a2: Float, a3: Float, a4: Float, a5: Float, a6: Float, a7: Float
        @inlinable @inline(__always) init(_ v: Float) { a0 = v; a1 = v; a2 = v; a3 = v; a4 = v; a5 = v; a6 = v; a7 = v }
        @inlinable @inline(__always) var sum: Float { ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7)) }
        @inlinable @inline(__always) var maximum: Float { Swift.max(Swift.max(Swift.max(a0, a4), Swift.max(a1, a5)), Swift.max(Swift.max(a2, a6), Swift.max(a3, a7))) }
    }

    @inlinable @inline(__always)
    public static func sum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var l = Lanes(0)
        var i = 0
        while i + 8 <= n {
            l.a0 += x[i]; l.a1 += x[i + 1]; l.a2 += x[i + 2]; l.a3 += x[i + 3]
            l.a4 += x[i + 4]; l.a5 += x[i + 5]; l.a6 += x[i + 6]; l.a7 += x[i + 7]
            i += 8
        }
        var s = l.sum
        while i < n { s += x[i]; i += 1 }
        return s
    }

    @inlinable @inline(__always)
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) -> Float {
        var l = Lanes(0)
        var i = 0
        while i + 8 <= n {
            l.a0 += x[i] * y[i]; l.a1 += x[i + 1] * y[i + 1]; l.a2 += x[i + 2] * y[i + 2]; l.a3 += x[i + 3] * y[i + 3]
            l.a4 += x[i + 4] * y[i + 4]; l.a5 += x[i + 5] * y[i + 5]; l.a6 += x[i + 6] * y[i + 6]; l.a7 += x[i + 7] * y[i + 7]
            i += 8
        }
        var s = l.sum
        while i < n { s += x[i] * y[i]; i += 1 }
        return s
    }

    @inlinable @inline(__always)
    public static func max(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var l = Lanes(-.infinity)
        var i = 0
        while i + 8 <= n {
            l.a0 = Swift.max(l.a0, x[i]); l.a1 = Swift.max(l.a1, x[i + 1]); l.a2 = Swift.max(l.a2, x[i + 2]); l.a3 = Swift.max(l.a3, x[i + 3])
            l.a4 = Swift.max(l.a4, x[i + 4]); l.a5 = Swift.max(l.a5, x[i + 5]); l.a6 = Swift.max(l.a6, x[i + 6]); l.a7 = Swift.max(l.a7, x[i + 7])
            i += 8
        }
        var m = l.maximum
        while i < n { m = Swift.max(m, x[i]); i += 1 }
        return m
    }

    /// Σ (x − mean)², the centred sum of squares (for variances).
    @inlinable @inline(__always)
    public static func centredSquares(_ x: UnsafePointer<Float>, mean m: Float, count n: Int) -> Float {
        var l = Lanes(0)
        var i = 0
        while i + 8 <= n {
            let d0 = x[i] - m, d1 = x[i + 1] - m, d2 = x[i + 2] - m, d3 = x[i + 3] - m
            let d4 = x[i + 4] - m, d5 = x[i + 5] - m, d6 = x[i + 6] - m, d7 = x[i + 7] - m
            l.a0 += d0 * d0; l.a1 += d1 * d1; l.a2 += d2 * d2; l.a3 += d3 * d3
            l.a4 += d4 * d4; l.a5 += d5 * d5; l.a6 += d6 * d6; l.a7 += d7 * d7
            i += 8
        }
        var s = l.sum
        while i < n { let d = x[i] - m; s += d * d; i += 1 }
        return s
    }
}
