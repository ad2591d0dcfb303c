// The functional bit-serial engine: for every valid score, the number of K bit planes processed and the
// keep/prune decision, exactly as the hardware computes them (DESIGN.md §2).
//
// K streams MSB first in B-bit two's complement: plane B−1 has weight −2^(B−1), plane m < B−1 weight 2^m.
// After the planes down to m are consumed the partial sum is P_m; each remaining plane adds at most
// 2^j·Q⁺ (Q⁺ = Σ max(q_i, 0)), so S ≤ U_m = P_m + (2^m − 1)·Q⁺. The unit terminates after the first plane m
// with U_m < T. U_0 = S, so a score is pruned iff S < T, bit for bit; a kept score runs all B planes.
//
// Two implementations: `referenceScore` walks the planes one by one like the hardware (the slow, obvious
// reference), and the fast path below, which the tests check against it.
//
// Fast path. With low_m(k) = k mod 2^m (the low m bits, ≥ 0) we have P_m = S − q·low_m(k), hence
//   U_m − S = f(m) = (2^m − 1)·Q⁺ − q·low_m(k) = Σ_{q_i>0} q_i·(2^m − 1 − low_i) + Σ_{q_i<0} |q_i|·low_i,
// which is ≥ 0, non-decreasing in m and ≤ (2^m − 1)·|q|₁. A pruned score (gap G = T − S > 0) terminates at
// m* = max{m ≤ B−1 : f(m) < G}; the planes processed are B − m*. Every m with (2^m − 1)·|q|₁ < G is certainly
// below m*, so we start from the largest such m and test upward with one dot product q·low_m(k) per step
// (usually two). S and q·low_m(k) use 16-bit inputs with 32-bit sums (pmaddwd-style): the matrix kernel
// (BitSerialEngine+Matrix.swift; an int16 GEMM micro-kernel, 8 keys per vector) when d·2^(2B−2) < 2^30, else
// the row kernel (one key at a time) when d·2^(2B−2) < 2^31; otherwise the exact 64-bit reference runs.

import CBitKernels
import Dispatch
import Workloads

/// Planes processed and kept flags for every (batch, head, query, key) of a layer, plus its statistics.
public struct LayerOutcome: Sendable {
    public let batchSize: Int
    public let headCount: Int
    public let queryCount: Int
    public let keyCount: Int
    /// [batch, heads, queries, keys]: bit planes processed, 0 for masked pairs.
    public var planes: [UInt8]
    /// [batch, heads, queries, keys]: 1 = kept (S ≥ T), 0 = pruned or masked.
    public var kept: [UInt8]
    public var statistics: LayerStatistics

    public func index(batch b: Int, head h: Int, query i: Int, key j: Int) -> Int {
        ((b * headCount + h) * queryCount + i) * keyCount + j
    }
}

public enum BitSerialEngine {
    /// One score the slow, obvious way: plane by plane, MSB first, terminating on the exact bound.
    public static func referenceScore(q: [Int64], key: [Int64], bits: Int, threshold: Int64) -> (planes: Int, kept: Bool) {
        precondition(q.count == key.count && (2...16).contains(bits))
        let qPlus = q.reduce(Int64(0)) { $0 + max($1, 0) }
        var partial: Int64 = 0
        for step in 0..<bits {
            let m = bits - 1 - step
            var planeSum: Int64 = 0
            for (qi, ki) in zip(q, key) where (ki >> Int64(m)) & 1 == 1 { planeSum += qi }
            let weight: Int64 = m == bits - 1 ? -(Int64(1) << Int64(m)) : Int64(1) << Int64(m)
            partial += weight * planeSum
            let bound = partial + ((Int64(1) << Int64(m)) - 1) * qPlus
            if bound < threshold { return (step + 1, false) }
        }
        return (bits, true)  // partial == S ≥ threshold
    }

    /// The whole layer with the reference procedure (slow; for tests and for B or d too large for the fast path).
    public static func runReference(_ layer: LayerTrace, parallel: Bool = false) -> LayerOutcome {
        run(layer, parallel: parallel) { b, h, i, keys, planesOut, keptOut in
            let t = layer.threshold.value(head: h)
            let qo = layer.queryOffset(batch: b, head: h, query: i)
            let q = layer.q[qo..<(qo + layer.headDim)].map { Int64($0) }
            for j in keys {
                let ko = layer.keyOffset(batch: b, head: h, key: j)
                let key = layer.k[ko..<(ko + layer.headDim)].map { Int64($0) }
                let r = referenceScore(q: q, key: key, bits: layer.bits, threshold: t)
                planesOut[j] = UInt8(r.planes)
                keptOut[j] = r.kept ? 1 : 0
            }
        }
    }

    /// The whole layer with the fast path: the matrix kernel when its 32-bit guard admits the layer, else the
    /// row kernel, else (when even the row kernel's sums could overflow) the reference.
    public static func run(_ layer: LayerTrace, parallel: Bool = true) -> LayerOutcome {
        let align = Int(LEOPARD_ROW_ALIGN)
        let stride = (layer.headDim + align - 1) / align * align
        if leopard_matrix_kernel_available(Int32(stride), Int32(layer.bits)) != 0 {
            return runMatrixKernel(layer, parallel: parallel)
        }
        return runRowKernel(layer, parallel: parallel)
    }

    /// The row kernel (one key at a time; for layers the matrix kernel does not admit, and for tests).
    static func runRowKernel(_ layer: LayerTrace, parallel: Bool) -> LayerOutcome {
        let align = Int(LEOPARD_ROW_ALIGN)
        let worst = Double((layer.headDim + align - 1) / align * align) * Double(1 << (2 * layer.bits - 2))
        guard worst < Double(Int32.max) else { return runReference(layer, parallel: parallel) }
        let packed = PackedLayer(layer)
        return run(layer, parallel: parallel) { b, h, i, keys, planesOut, keptOut in
            packed.scoreRow(batch: b, head: h, query: i, keys: keys, planes: planesOut, kept: keptOut)
        }
    }

    /// Drives `scoreRow` over all valid rows and assembles the outcome and statistics.
    static func run(_ layer: LayerTrace, parallel: Bool,
                    scoreRow: (Int, Int, Int, Range<Int>, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>) -> Void) -> LayerOutcome {
        let rowCount = layer.batchSize * layer.headCount * layer.queryCount
        let n = layer.keyCount
        var planes = [UInt8](repeating: 0, count: rowCount * n)
        var kept = [UInt8](repeating: 0, count: rowCount * n)
        planes.withUnsafeMutableBufferPointer { planesBuffer in
            kept.withUnsafeMutableBufferPointer { keptBuffer in
                // Matrices (batch × head) write disjoint rows, so they may run on several threads.
                let planesBase = planesBuffer.baseAddress!, keptBase = keptBuffer.baseAddress!
                func matrix(_ m: Int) {
                    let b = m / layer.headCount, h = m % layer.headCount
                    for i in 0..<layer.queryCount {
                        let keys = layer.validKeys(batch: b, query: i)
                        guard !keys.isEmpty else { continue }
                        let row = (m * layer.queryCount + i) * n
                        scoreRow(b, h, i, keys, planesBase + row, keptBase + row)
                    }
                }
                let matrices = layer.batchSize * layer.headCount
                if parallel && matrices > 1 && rowCount * n >= 1 << 16 {
                    DispatchQueue.concurrentPerform(iterations: matrices) { matrix($0) }
                } else {
                    for m in 0..<matrices { matrix(m) }
                }
            }
        }
        var statistics = layer.shapeStatistics()
        // Counted over raw buffers: these two passes over every pair were a measurable part of the engine's time.
        var histogram = [Int](repeating: 0, count: 17)
        var keptCount = 0
        histogram.withUnsafeMutableBufferPointer { counts in
            planes.withUnsafeBufferPointer { p in
                for x in p { counts[Int(x)] &+= 1 }
            }
        }
        histogram[0] = 0  // masked pairs
        histogram.removeLast(16 - layer.bits)
        kept.withUnsafeBufferPointer { k in
            var sum = 0
            for x in k { sum &+= Int(x) }
            keptCount = sum
        }
        statistics.planeHistogram = histogram
        statistics.keptPairs = keptCount
        return LayerOutcome(batchSize: layer.batchSize, headCount: layer.headCount, queryCount: layer.queryCount,
                            keyCount: n, planes: planes, kept: kept, statistics: statistics)
    }
}

/// Q and K as 16-bit values, each row zero-padded to a multiple of 16 elements (zeros change no sum), for the
/// multiply-add kernels of CBitKernels.
struct PackedLayer {
    let layer: LayerTrace
    /// Padded row length.
    let stride: Int
    let q: [Int16]
    let k: [Int16]

    init(_ layer: LayerTrace) {
        self.layer = layer
        let d = layer.headDim
        let align = Int(LEOPARD_ROW_ALIGN)
        let stride = (d + align - 1) / align * align
        self.stride = stride
        func pack(_ values: [Int32], rows: Int) -> [Int16] {
            var out = [Int16](repeating: 0, count: rows * stride)
            for r in 0..<rows {
                for t in 0..<d { out[r * stride + t] = Int16(values[r * d + t]) }
            }
            return out
        }
        q = pack(layer.q, rows: layer.batchSize * layer.headCount * layer.queryCount)
        k = pack(layer.k, rows: layer.batchSize * layer.headCount * layer.keyCount)
    }

    func scoreRow(batch b: Int, head h: Int, query i: Int, keys: Range<Int>,
                  planes: UnsafeMutablePointer<UInt8>, kept: UnsafeMutablePointer<UInt8>) {
        let bits = layer.bits
        var qPlus: Int64 = 0, qAbs: Int64 = 0
        let qo = layer.queryOffset(batch: b, head: h, query: i)
        for t in 0..<layer.headDim {
            let v = Int64(layer.q[qo + t])
            qPlus += max(v, 0)
            qAbs += abs(v)
        }
        // certain[m] = (2^m − 1)·|q|₁: terminated by plane m for sure when below the gap;
        // slack[m] = (2^m − 1)·Q⁺: the bound's slack after the planes down to m.
        // 16 entries each; certain is padded with Int64.max past the last plane (the AVX2 kernel compares all 16).
        var certain = [Int64](repeating: .max, count: 16)
        var slack = [Int64](repeating: 0, count: 16)
        for m in 0..<bits {
            certain[m] = ((Int64(1) << Int64(m)) - 1) * qAbs
            slack[m] = ((Int64(1) << Int64(m)) - 1) * qPlus
        }
        let qRow = ((b * layer.headCount + h) * layer.queryCount + i) * stride
        let matrix = b * layer.headCount + h
        let threshold = layer.threshold.value(head: h)
        let kMatrix = matrix * layer.keyCount * stride
        q.withUnsafeBufferPointer { qBuffer in
            k.withUnsafeBufferPointer { kBuffer in
                leopard_score_row(qBuffer.baseAddress! + qRow, kBuffer.baseAddress! + kMatrix,
                                  Int32(keys.lowerBound), Int32(keys.upperBound), Int32(stride), Int32(bits),
                                  threshold, certain, slack, planes, kept)
            }
        }
    }
}
