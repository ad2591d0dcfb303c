// Branch-free exp and tanh for the engine's elementwise loops. libm's expf/tanhf are scalar calls that the
// compiler cannot vectorise; profiling bert-tiny showed them at ~28% of a training step. These versions are
// straight-line arithmetic, so loops over them auto-vectorise (AVX2/AVX-512).
//
// exp(x): n = round(x·log₂e), r = x − n·ln2 (ln2 split in a high and a low part, Cody–Waite), so |r| ≤ ln2/2;
// exp(r) by its degree-6 Taylor polynomial (truncation ≤ (ln2/2)⁷/7! ≈ 1.2e-7, below Float's 6e-8·2 rounding);
// 2ⁿ built in the exponent bits. Inputs are clamped to [−87.3, 88.7] (results stay normal and finite); below that
// the true result underflows, above it overflows — callers here only feed max-subtracted or bounded values.
// Measured max relative error against libm ≈ 2 ulp (test in TensorsTests).

public enum FastMath {
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let xc = min(max(x, -87.3), 88.7)
        // Round-to-nearest by the 1.5·2²³ shifter: the low mantissa bits of `shifted` hold n (two's complement).
        // No Float→Int conversion (which would trap-check and block vectorisation).
        let shifted = xc * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = (xc - n * 0.693_145_75) - n * 1.428_606_8e-6
        var p: Float = 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        return p * scale
    }

    /// tanh(u) = 1 − 2/(e^{2u} + 1); saturates to ±1 exactly for |u| ≥ 10.
    @inlinable @inline(__always)
    public static func tanh(_ u: Float) -> Float {
        let e = exp(2 * min(max(u, -10), 10))
        return 1 - 2 / (e + 1)
    }
}
