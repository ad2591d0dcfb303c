// The engine's matrix path: one attention matrix (batch element × head) at a time through the C matrix kernel
// (CBitKernels/score_matrix_template.h), which computes S for 4 queries × 16 keys per step as an int16 GEMM
// micro-kernel and finishes each 8-key block in 8 lanes. Same results as the row kernel and the reference
// (EngineTests checks all three); used whenever leopard_matrix_kernel_available admits the layer.

import CBitKernels
import Dispatch
import Workloads

/// Per-worker scratch of the matrix path: one matrix's Q rows and packed K, and the valid key count per query.
struct MatrixScratch {
    let stride: Int
    var q: [Int16]
    var kPacked: [Int16]
    var keyEnd: [Int32]
    /// counts[0...16]: plane histogram (bin 0 meaningless), counts[17]: kept scores; accumulated over matrices.
    var counts = [Int](repeating: 0, count: 18)

    init(_ layer: LayerTrace) {
        let align = Int(LEOPARD_ROW_ALIGN)
        stride = (layer.headDim + align - 1) / align * align
        q = [Int16](repeating: 0, count: layer.queryCount * stride)
        kPacked = [Int16](repeating: 0, count: Int(leopard_packed_keys8_count(Int32(layer.keyCount), Int32(stride))))
        keyEnd = [Int32](repeating: 0, count: layer.queryCount)
    }

    /// Scores matrix (b, h) into `planes` and `kept` ([queries, keys] of that matrix).
    mutating func score(_ layer: LayerTrace, batch b: Int, head h: Int,
                        planes: UnsafeMutablePointer<UInt8>, kept: UnsafeMutablePointer<UInt8>) {
        let d = layer.headDim, stride = self.stride
        for i in 0..<layer.queryCount {
            let keys = layer.validKeys(batch: b, query: i)
            precondition(keys.isEmpty || keys.lowerBound == 0, "valid keys start at 0")
            keyEnd[i] = Int32(keys.count)
        }
        let qOffset = layer.queryOffset(batch: b, head: h, query: 0)
        let kOffset = layer.keyOffset(batch: b, head: h, key: 0)
        let threshold = layer.threshold.value(head: h)
        layer.q.withUnsafeBufferPointer { qSource in
            layer.k.withUnsafeBufferPointer { kSource in
                q.withUnsafeMutableBufferPointer { qRows in
                    kPacked.withUnsafeMutableBufferPointer { kBlocks in
                        keyEnd.withUnsafeBufferPointer { ends in
                            counts.withUnsafeMutableBufferPointer { counts in
                                leopard_pack_rows(qSource.baseAddress! + qOffset, Int32(layer.queryCount), Int32(d),
                                                  Int32(stride), qRows.baseAddress!)
                                leopard_pack_keys8(kSource.baseAddress! + kOffset, Int32(layer.keyCount), Int32(d),
                                                   Int32(stride), kBlocks.baseAddress!)
                                leopard_score_matrix(qRows.baseAddress!, Int32(layer.queryCount), kBlocks.baseAddress!,
                                                     Int32(layer.keyCount), Int32(stride), ends.baseAddress!,
                                                     Int32(layer.bits), threshold, planes, kept, counts.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }
}

extension BitSerialEngine {
    /// The whole layer through the matrix kernel; matrices run on all cores when `parallel`.
    static func runMatrixKernel(_ layer: LayerTrace, parallel: Bool) -> LayerOutcome {
        let n = layer.keyCount
        let matrixSize = layer.queryCount * n
        let matrices = layer.batchSize * layer.headCount
        var planes = [UInt8](repeating: 0, count: matrices * matrixSize)
        var kept = [UInt8](repeating: 0, count: matrices * matrixSize)
        var perMatrix = [[Int]](repeating: [], count: matrices)
        planes.withUnsafeMutableBufferPointer { planesBuffer in
            kept.withUnsafeMutableBufferPointer { keptBuffer in
                perMatrix.withUnsafeMutableBufferPointer { results in
                    let planesBase = planesBuffer.baseAddress!, keptBase = keptBuffer.baseAddress!
                    let out = results.baseAddress!
                    // Matrices write disjoint rows; scratch is per matrix (small next to scoring it).
                    func matrix(_ m: Int) {
                        var scratch = MatrixScratch(layer)
                        scratch.score(layer, batch: m / layer.headCount, head: m % layer.headCount,
                                      planes: planesBase + m * matrixSize, kept: keptBase + m * matrixSize)
                        out[m] = scratch.counts
                    }
                    if parallel && matrices > 1 && matrices * matrixSize >= 1 << 16 {
                        DispatchQueue.concurrentPerform(iterations: matrices) { matrix($0) }
                    } else {
                        for m in 0..<matrices { matrix(m) }
                    }
                }
            }
        }
        var counts = [Int](repeating: 0, count: 18)
        for c in perMatrix { for x in 0..<18 { counts[x] += c[x] } }
        var statistics = layer.shapeStatistics()
        var histogram = Array(counts[0...16])
        histogram[0] = 0  // masked pairs and padding lanes
        histogram.removeLast(16 - layer.bits)
        statistics.planeHistogram = histogram
        statistics.keptPairs = counts[17]
        return LayerOutcome(batchSize: layer.batchSize, headCount: layer.headCount, queryCount: layer.queryCount,
                            keyCount: n, planes: planes, kept: kept, statistics: statistics)
    }
}
