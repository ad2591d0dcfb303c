// The engine's matrix path through the C matrix kernel (CBitKernels/score_matrix_template.h), which computes S
// for 4 queries × 16 keys per step as an int16 GEMM micro-kernel and runs the first two search tests for the
// tile in one more pass (later tests, rare, key by key).
// Same results as the row kernel and the reference (EngineTests and FastPathTests check all three); used
// whenever leopard_matrix_kernel_available admits the layer.
//
// Q and K of every matrix are packed once (Q rows padded to a multiple of 16; K in pair-interleaved 16-key
// blocks, and as rows), then blocks of query rows are scored in parallel: blocks much smaller than a matrix keep both cores
// busy to the end even when other processes take one of them for a while.

import CBitKernels
import Dispatch
import Workloads

/// A layer's Q and K in the matrix kernel's layouts (K twice: packed blocks for the tiles, rows for the rare
/// scores that need more than two search steps), and each query's valid key count.
struct PackedMatrices {
    let stride: Int
    let kPerMatrix: Int
    var q: [Int16]
    var k: [Int16]
    var kRows: [Int16]
    /// [batch, queries]: keys [0, keyEnd) are valid for the query (0 = a masked row).
    var keyEnd: [Int32]

    init(_ layer: LayerTrace, parallel: Bool) {
        let align = Int(LEOPARD_ROW_ALIGN)
        let stride = (layer.headDim + align - 1) / align * align
        self.stride = stride
        let matrices = layer.batchSize * layer.headCount
        let kPerMatrix = Int(leopard_packed_keys8_count(Int32(layer.keyCount), Int32(stride)))
        self.kPerMatrix = kPerMatrix
        var q = [Int16](repeating: 0, count: max(matrices * layer.queryCount * stride, 1))
        var k = [Int16](repeating: 0, count: max(matrices * kPerMatrix, 1))
        var kRows = [Int16](repeating: 0, count: max(matrices * layer.keyCount * stride, 1))
        q.withUnsafeMutableBufferPointer { qRows in
          kRows.withUnsafeMutableBufferPointer { kRowBuffer in
            k.withUnsafeMutableBufferPointer { kBlocks in
                layer.q.withUnsafeBufferPointer { qSource in
                    layer.k.withUnsafeBufferPointer { kSource in
                        let qBase = qRows.baseAddress!, kBase = kBlocks.baseAddress!, kRowBase = kRowBuffer.baseAddress!
                        func pack(_ m: Int) {
                            let b = m / layer.headCount, h = m % layer.headCount
                            leopard_pack_rows(qSource.baseAddress! + layer.queryOffset(batch: b, head: h, query: 0),
                                              Int32(layer.queryCount), Int32(layer.headDim), Int32(stride),
                                              qBase + m * layer.queryCount * stride)
                            leopard_pack_keys8(kSource.baseAddress! + layer.keyOffset(batch: b, head: h, key: 0),
                                               Int32(layer.keyCount), Int32(layer.headDim), Int32(stride),
                                               kBase + m * kPerMatrix)
                            leopard_pack_rows(kSource.baseAddress! + layer.keyOffset(batch: b, head: h, key: 0),
                                              Int32(layer.keyCount), Int32(layer.headDim), Int32(stride),
                                              kRowBase + m * layer.keyCount * stride)
                        }
                        if parallel && matrices > 1 {
                            DispatchQueue.concurrentPerform(iterations: matrices) { pack($0) }
                        } else {
                            for m in 0..<matrices { pack(m) }
                        }
                    }
                }
            }
          }
        }
        self.q = q
        self.k = k
        self.kRows = kRows
        var keyEnd = [Int32](repeating: 0, count: max(layer.batchSize * layer.queryCount, 1))
        for b in 0..<layer.batchSize {
            for i in 0..<layer.queryCount {
                let keys = layer.validKeys(batch: b, query: i)
                precondition(keys.isEmpty || keys.lowerBound == 0, "valid keys start at 0")
                keyEnd[b * layer.queryCount + i] = Int32(keys.count)
            }
        }
        self.keyEnd = keyEnd
    }
}

extension BitSerialEngine {
    /// Query rows per parallel work item (a multiple of the kernel's 4-query tiles).
    static let matrixKernelRowBlock = 64

    /// The whole layer through the matrix kernel; blocks of query rows run on all cores when `parallel`.
    static func runMatrixKernel(_ layer: LayerTrace, parallel: Bool) -> LayerOutcome {
        let n = layer.keyCount, queries = layer.queryCount
        let matrixSize = queries * n
        let matrices = layer.batchSize * layer.headCount
        // The kernel writes every entry (zeros outside the valid keys), so the outputs start uninitialised
        // (no serial zero-fill pass before the parallel region).
        var planes = [UInt8](unsafeUninitializedCapacity: matrices * matrixSize) { _, count in count = matrices * matrixSize }
        var kept = [UInt8](unsafeUninitializedCapacity: matrices * matrixSize) { _, count in count = matrices * matrixSize }
        let packed = PackedMatrices(layer, parallel: parallel)
        let rowBlock = Self.matrixKernelRowBlock
        let blocksPerMatrix = (queries + rowBlock - 1) / rowBlock
        let items = matrices * blocksPerMatrix
        var perItem = [Int](repeating: 0, count: max(items * 18, 1))
        planes.withUnsafeMutableBufferPointer { planesBuffer in
            kept.withUnsafeMutableBufferPointer { keptBuffer in
                perItem.withUnsafeMutableBufferPointer { countsBuffer in
                    packed.q.withUnsafeBufferPointer { qRows in
                        packed.k.withUnsafeBufferPointer { kBlocks in
                          packed.kRows.withUnsafeBufferPointer { kRowBuffer in
                            packed.keyEnd.withUnsafeBufferPointer { ends in
                                // Items write disjoint rows and their own counts.
                                func item(_ x: Int) {
                                    let m = x / blocksPerMatrix, first = (x % blocksPerMatrix) * rowBlock
                                    let rows = min(rowBlock, queries - first)
                                    let b = m / layer.headCount, h = m % layer.headCount
                                    let out = (m * queries + first) * n
                                    let counts = countsBuffer.baseAddress! + x * 18  // (C long = Int here)
                                    leopard_score_matrix(qRows.baseAddress! + (m * queries + first) * packed.stride, Int32(rows),
                                                         kBlocks.baseAddress! + m * packed.kPerMatrix,
                                                         kRowBuffer.baseAddress! + m * n * packed.stride, Int32(n),
                                                         Int32(packed.stride), ends.baseAddress! + b * queries + first,
                                                         Int32(layer.bits), layer.threshold.value(head: h),
                                                         planesBuffer.baseAddress! + out, keptBuffer.baseAddress! + out, counts)
                                }
                                if parallel && items > 1 && matrices * matrixSize >= 1 << 16 {
                                    DispatchQueue.concurrentPerform(iterations: items) { item($0) }
                                } else {
                                    for x in 0..<items { item(x) }
                                }
                            }
                          }
                        }
                    }
                }
            }
        }
        var counts = [Int](repeating: 0, count: 18)
        for x in 0..<items { for c in 0..<18 { counts[c] += perItem[x * 18 + c] } }
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
