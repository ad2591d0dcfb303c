// Length-grouped minibatches for the pretrained encoder tasks (PretrainedGlueTask): a batch is cut to its longest
// example (rounded up to a multiple of 8 tokens), so a batch that mixes a 10-token and a 60-token sentence pays for 64 tokens per
// row. Grouping examples of similar length into the same batch removes most of that padding:
//   1. shuffle the rows (seeded) and keep the first ⌊N / batch⌋·batch of them (the epoch drops the remainder, as
//      the ungrouped order does);
//   2. cut that order into chunks of `chunkBatches` batches and sort each chunk by length (ties keep the shuffled
//      order, so the result is deterministic);
//   3. cut each sorted chunk into consecutive batches;
//   4. shuffle the order of the batches (same generator).
// Each epoch still visits every kept row once; a batch mixes examples only from one random chunk of
// 50 × 32 = 1,600 examples, so batches stay random samples of the data apart from their length.
// The from-scratch GlueEncoderTask keeps its plain shuffled order.
import Basics

public enum LengthGroupedBatches {
    /// Batches (rows of the training set) of one epoch. `lengths[r]` = valid tokens of row r.
    /// `chunkBatches` = 0 turns grouping off: the plain shuffled order cut into consecutive batches.
    public static func batches(lengths: [Int32], batchSize: Int, chunkBatches: Int,
                               generator rng: inout SeededGenerator) -> [[Int]] {
        precondition(batchSize >= 1 && chunkBatches >= 0, "batch size ≥ 1, chunk ≥ 0")
        var rows = Array(0..<lengths.count)
        rng.shuffle(&rows)
        let batchCount = rows.count / batchSize
        rows.removeLast(rows.count - batchCount * batchSize)
        guard chunkBatches > 0 else {
            return (0..<batchCount).map { Array(rows[($0 * batchSize)..<(($0 + 1) * batchSize)]) }
        }
        var batches: [[Int]] = []
        batches.reserveCapacity(batchCount)
        let chunkRows = chunkBatches * batchSize
        var start = 0
        while start < rows.count {
            let end = min(rows.count, start + chunkRows)
            // (length, position in the shuffle) is a total order: no reliance on sort stability.
            let chunk = (start..<end).sorted { a, b in
                let la = lengths[rows[a]], lb = lengths[rows[b]]
                return la != lb ? la < lb : a < b
            }.map { rows[$0] }
            var offset = 0
            while offset < chunk.count {
                batches.append(Array(chunk[offset..<(offset + batchSize)]))
                offset += batchSize
            }
            start = end
        }
        rng.shuffle(&batches)
        return batches
    }

    /// The time dimension a batch is cut to: its longest example rounded up to a multiple of `multiple` tokens (at
    /// least `multiple`), at most `sequenceLength`.
    public static func paddedLength(longest: Int, sequenceLength: Int, multiple: Int = 8) -> Int {
        min(sequenceLength, max(multiple, (longest + multiple - 1) / multiple * multiple))
    }

    /// Fraction of the token slots of `batches` that are padding (1 − valid tokens / (rows × padded length)).
    public static func paddingFraction(lengths: [Int32], batches: [[Int]], sequenceLength: Int, multiple: Int = 8) -> Double {
        var valid = 0, slots = 0
        for batch in batches {
            let longest = batch.map { Int(lengths[$0]) }.max() ?? 0
            slots += batch.count * paddedLength(longest: longest, sequenceLength: sequenceLength, multiple: multiple)
            valid += batch.reduce(0) { $0 + Int(lengths[$1]) }
        }
        return slots == 0 ? 0 : 1 - Double(valid) / Double(slots)
    }
}
