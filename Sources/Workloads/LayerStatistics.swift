// Per-layer work statistics: what the analytic accelerator model needs and what a sweep stores per point.
// Shape counts come from the trace alone (`LayerTrace.shapeStatistics()`); the kept count and the histogram of
// bit planes processed come from running the bit-serial engine over the trace (AcceleratorModel fills them).

import Basics

public struct LayerStatistics: Equatable, Sendable {
    public var bits: Int
    public var headDim: Int
    public var valueDim: Int
    /// Queries and keys per matrix including padding: what the buffers must hold when a matrix stays on chip.
    public var queryCount: Int
    public var keyCount: Int
    /// Attention matrices = batch × heads; the hardware processes them one after another.
    public var matrixCount: Int
    /// Query rows with at least one valid key (padding rows are skipped), summed over matrices.
    public var validRows: Int
    /// Σ over matrices of the number of valid (non-padding) keys: the K and V rows that must be loaded.
    public var validKeySlots: Int
    /// Σ over matrices of the number of valid queries: the Q rows that must be loaded.
    public var validQuerySlots: Int
    /// Valid (unmasked) query–key pairs: the scores that exist.
    public var validPairs: Int
    /// Scores with S ≥ T.
    public var keptPairs: Int
    /// planeHistogram[p] = valid pairs for which p bit planes were processed (index 0...bits).
    public var planeHistogram: [Int]

    public init(bits: Int, headDim: Int, valueDim: Int, queryCount: Int, keyCount: Int, matrixCount: Int, validRows: Int, validKeySlots: Int,
                validQuerySlots: Int, validPairs: Int, keptPairs: Int, planeHistogram: [Int]) {
        precondition(planeHistogram.count == bits + 1, "planeHistogram needs bits + 1 bins")
        self.bits = bits; self.headDim = headDim; self.valueDim = valueDim
        self.queryCount = queryCount; self.keyCount = keyCount; self.matrixCount = matrixCount
        self.validRows = validRows; self.validKeySlots = validKeySlots; self.validQuerySlots = validQuerySlots
        self.validPairs = validPairs; self.keptPairs = keptPairs; self.planeHistogram = planeHistogram
    }

    /// Fraction of valid scores pruned (0 when there are none).
    public var pruneRate: Double { validPairs == 0 ? 0 : Double(validPairs - keptPairs) / Double(validPairs) }

    /// Σ planes over valid pairs.
    public var totalPlanes: Int { planeHistogram.enumerated().reduce(0) { $0 + $1.offset * $1.element } }

    /// Mean bit planes processed per valid score.
    public var meanPlanes: Double { validPairs == 0 ? 0 : Double(totalPlanes) / Double(validPairs) }

    /// Sums statistics of layers with the same bits and shapes, or of parts of one layer.
    public mutating func add(_ other: LayerStatistics) {
        precondition(bits == other.bits && headDim == other.headDim && valueDim == other.valueDim
                     && queryCount == other.queryCount && keyCount == other.keyCount, "incompatible statistics")
        matrixCount += other.matrixCount; validRows += other.validRows; validKeySlots += other.validKeySlots
        validQuerySlots += other.validQuerySlots; validPairs += other.validPairs; keptPairs += other.keptPairs
        for i in planeHistogram.indices { planeHistogram[i] += other.planeHistogram[i] }
    }

    public var json: JSONValue {
        .object([
            "bits": JSONValue(bits), "d": JSONValue(headDim), "dv": JSONValue(valueDim),
            "queries": JSONValue(queryCount), "keys": JSONValue(keyCount),
            "matrices": JSONValue(matrixCount), "valid_rows": JSONValue(validRows),
            "valid_key_slots": JSONValue(validKeySlots), "valid_query_slots": JSONValue(validQuerySlots),
            "valid_pairs": JSONValue(validPairs), "kept_pairs": JSONValue(keptPairs),
            "plane_histogram": JSONValue(planeHistogram),
        ])
    }

    /// Reads statistics stored by `json` (e.g. from a result store).
    public init(json reader: JSONReader) throws {
        let o = try reader.object()
        bits = try o.required("bits").int(min: 2, max: 16)
        headDim = try o.required("d").int(min: 1)
        valueDim = try o.required("dv").int(min: 1)
        queryCount = try o.required("queries").int(min: 0)
        keyCount = try o.required("keys").int(min: 0)
        matrixCount = try o.required("matrices").int(min: 0)
        validRows = try o.required("valid_rows").int(min: 0)
        validKeySlots = try o.required("valid_key_slots").int(min: 0)
        validQuerySlots = try o.required("valid_query_slots").int(min: 0)
        validPairs = try o.required("valid_pairs").int(min: 0)
        keptPairs = try o.required("kept_pairs").int(min: 0, max: validPairs)
        let histogramReader = try o.required("plane_histogram")
        planeHistogram = try histogramReader.array().map { try $0.int(min: 0) }
        guard planeHistogram.count == bits + 1 else { throw histogramReader.fail("a list of \(bits + 1) counts (bits + 1)") }
        try o.finish()
    }
}

extension LayerTrace {
    /// Shape statistics of this layer with an empty kept count and histogram (the engine fills those).
    public func shapeStatistics() -> LayerStatistics {
        var rows = 0, keySlots = 0, querySlots = 0, pairs = 0
        for b in 0..<batchSize {
            var rowsHere = 0, pairsHere = 0
            for i in 0..<queryCount {
                let n = validKeys(batch: b, query: i).count
                if n > 0 { rowsHere += 1; pairsHere += n }
            }
            rows += rowsHere * headCount
            pairs += pairsHere * headCount
            querySlots += rowsHere * headCount
            keySlots += validLength(batch: b) * headCount
        }
        return LayerStatistics(bits: bits, headDim: headDim, valueDim: valueDim, queryCount: queryCount,
                               keyCount: keyCount, matrixCount: batchSize * headCount,
                               validRows: rows, validKeySlots: keySlots, validQuerySlots: querySlots,
                               validPairs: pairs, keptPairs: 0, planeHistogram: [Int](repeating: 0, count: bits + 1))
    }
}
