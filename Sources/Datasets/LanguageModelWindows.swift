// Fixed-length training windows over a token stream for language models: window k covers tokens
// [k·L, k·L + L) as inputs and [k·L + 1, k·L + L + 1) as targets (next-token prediction), so consecutive windows
// tile the stream without overlap and every token except the first is predicted exactly once. The tail that
// does not fill a whole window is dropped (at most L tokens).

/// Inputs and next-token targets, both row-major `[count × sequenceLength]`.
public struct LanguageModelWindows: Sendable, Equatable {
    public let sequenceLength: Int
    public let inputs: [Int32]
    public let targets: [Int32]

    public var count: Int { inputs.count / sequenceLength }
}

extension TokenCorpus {
    /// Non-overlapping windows of `sequenceLength` over one split's stream.
    public static func windows(_ stream: [Int32], sequenceLength: Int) -> LanguageModelWindows {
        precondition(sequenceLength >= 1, "sequenceLength must be at least 1")
        let count = stream.count > 0 ? (stream.count - 1) / sequenceLength : 0
        var inputs: [Int32] = [], targets: [Int32] = []
        inputs.reserveCapacity(count * sequenceLength)
        targets.reserveCapacity(count * sequenceLength)
        for window in 0..<count {
            let start = window * sequenceLength
            inputs.append(contentsOf: stream[start..<(start + sequenceLength)])
            targets.append(contentsOf: stream[(start + 1)...(start + sequenceLength)])
        }
        return LanguageModelWindows(sequenceLength: sequenceLength, inputs: inputs, targets: targets)
    }
}
