// Quantisation of float Q/K to B-bit signed fixed point with symmetric scales (DESIGN.md §2):
//   integer = clamp(round(x / Δ), −(2^(B−1) − 1), 2^(B−1) − 1),   Δ = clip / (2^(B−1) − 1),
// where `clip` is the largest magnitude of the calibration data (or a percentile of it). The range is kept
// symmetric (−2^(B−1) is never produced) so that negation never overflows.
// A real threshold Th on x = q·k/sqrt(d) maps to the integer domain as T = ceil(Th·sqrt(d)/(Δq·Δk)): for an integer
// score S, x < Th ⟺ S < Th·sqrt(d)/(Δq·Δk) ⟺ S < T.

import Basics

public enum Quantization {
    /// 2^(B−1) − 1, the largest magnitude the symmetric quantiser produces.
    public static func maxMagnitude(bits: Int) -> Int32 {
        precondition((2...16).contains(bits), "bits must be 2...16")
        return Int32((1 << (bits - 1)) - 1)
    }

    /// The symmetric scale Δ for `values`: the `percentile` (0 < p ≤ 100) of |x| mapped to 2^(B−1) − 1.
    /// All-zero or empty data gives Δ = 1 (any scale represents zeros exactly).
    public static func calibratedScale(_ values: [Float], bits: Int, percentile: Double = 100) -> Double {
        precondition(percentile > 0 && percentile <= 100, "percentile must be in (0, 100]")
        var clip: Double
        if percentile == 100 {
            clip = Double(values.reduce(Float(0)) { max($0, abs($1)) })
        } else {
            let magnitudes = values.map { abs($0) }.sorted()
            guard !magnitudes.isEmpty else { return 1 }
            // Nearest rank: the smallest value with at least p% of the data at or below it.
            let rank = Int((percentile / 100 * Double(magnitudes.count)).rounded(.up)) - 1
            clip = Double(magnitudes[min(max(rank, 0), magnitudes.count - 1)])
        }
        if !(clip > 0) || !clip.isFinite { clip = Double(maxMagnitude(bits: bits)) }
        return clip / Double(maxMagnitude(bits: bits))
    }

    /// Rounds x/Δ to the nearest integer (ties to even) and clamps to ±(2^(B−1) − 1).
    public static func quantize(_ values: [Float], scale: Double, bits: Int) -> [Int32] {
        precondition(scale > 0, "scale must be positive")
        let limit = Double(maxMagnitude(bits: bits))
        return values.map { x in
            let v = (Double(x) / scale).rounded(.toNearestOrEven)
            return Int32(v.isNaN ? 0 : min(max(v, -limit), limit))
        }
    }

    /// T = ceil(Th·sqrt(d)/(Δq·Δk)), clamped to ±2^62 so that comparisons with any score stay exact.
    public static func integerThreshold(_ threshold: Double, headDim: Int, scaleQ: Double, scaleK: Double) -> Int64 {
        precondition(headDim >= 1 && scaleQ > 0 && scaleK > 0, "headDim and scales must be positive")
        let x = (threshold * Double(headDim).squareRoot() / (scaleQ * scaleK)).rounded(.up)
        let limit = Double(Int64(1) << 62)
        if x.isNaN { return 0 }
        return Int64(min(max(x, -limit), limit))
    }

    /// Builds a layer trace from float Q [batch, heads, queries, d] and K [batch, heads, keys, d] (C order) and
    /// real thresholds (one, or one per head). Scales are calibrated on the data itself unless given.
    public static func layerTrace(q: [Float], k: [Float], batchSize: Int, headCount: Int, queryCount: Int,
                                  keyCount: Int, headDim: Int, valueDim: Int, bits: Int,
                                  thresholds: [Double], mask: AttentionMask, lengths: [Int32]? = nil,
                                  scales: (q: Double, k: Double)? = nil) -> LayerTrace {
        precondition(thresholds.count == 1 || thresholds.count == headCount, "one threshold or one per head")
        let scaleQ = scales?.q ?? calibratedScale(q, bits: bits)
        let scaleK = scales?.k ?? calibratedScale(k, bits: bits)
        let integerThresholds = thresholds.map { integerThreshold($0, headDim: headDim, scaleQ: scaleQ, scaleK: scaleK) }
        return LayerTrace(bits: bits, batchSize: batchSize, headCount: headCount, queryCount: queryCount,
                          keyCount: keyCount, headDim: headDim, valueDim: valueDim,
                          threshold: thresholds.count == 1 ? .perLayer(integerThresholds[0]) : .perHead(integerThresholds),
                          mask: mask, scaleQ: scaleQ, scaleK: scaleK,
                          q: quantize(q, scale: scaleQ, bits: bits), k: quantize(k, scale: scaleK, bits: bits),
                          lengths: lengths)
    }
}
