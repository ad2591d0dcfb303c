// Fixed-length id sequences for batching: row-major `[count × sequenceLength]` ids plus each row's true length.

/// Sequences padded or truncated to one length.
public struct PaddedSequences: Sendable, Equatable {
    public let sequenceLength: Int
    /// Row-major ids, `count × sequenceLength`; positions at or past a row's length hold the pad id.
    public let ids: [Int32]
    /// Tokens kept per row (≤ sequenceLength).
    public let lengths: [Int32]

    public var count: Int { lengths.count }

    public func row(_ index: Int) -> ArraySlice<Int32> {
        ids[(index * sequenceLength)..<((index + 1) * sequenceLength)]
    }
}

public enum Truncation: Sendable, Equatable {
    /// Keep the first `sequenceLength` tokens (sentences).
    case keepStart
    /// Keep the last `sequenceLength` tokens (e.g. the most recent memories of a story).
    case keepEnd
}

public enum Padding {
    public static func pad(_ sequences: [[Int32]], to sequenceLength: Int, padID: Int32,
                           truncation: Truncation = .keepStart) -> PaddedSequences {
        precondition(sequenceLength >= 1, "sequenceLength must be at least 1")
        var ids = [Int32](repeating: padID, count: sequences.count * sequenceLength)
        var lengths: [Int32] = []
        lengths.reserveCapacity(sequences.count)
        for (row, sequence) in sequences.enumerated() {
            let kept = min(sequence.count, sequenceLength)
            let source = truncation == .keepStart ? sequence.prefix(kept) : sequence.suffix(kept)
            var position = row * sequenceLength
            for id in source { ids[position] = id; position += 1 }
            lengths.append(Int32(kept))
        }
        return PaddedSequences(sequenceLength: sequenceLength, ids: ids, lengths: lengths)
    }
}
