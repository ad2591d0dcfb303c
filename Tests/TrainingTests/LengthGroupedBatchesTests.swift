// Length-grouped batching of the pretrained encoder tasks: every epoch is a partition of (all but the remainder of)
// the training rows into full batches, deterministic for a seed, with far less padding than plain shuffled batches
// on a realistic length distribution, and the batch order still random (not sorted by length).
import Basics
import Foundation
import Testing
import Training

@Suite struct LengthGroupedBatchesTests {
    /// 1,000 lengths skewed like GLUE sentences: mostly short, a tail of long ones (3…64 tokens).
    static let lengths: [Int32] = {
        var rng = SeededGenerator(seed: 9)
        return (0..<1_000).map { _ in Int32(min(64, 3 + Int(-12 * log(max(1e-9, rng.nextUnit())))))
        }
    }()

    static func batches(seed: UInt64, chunk: Int) -> [[Int]] {
        var rng = SeededGenerator(seed: seed)
        return LengthGroupedBatches.batches(lengths: lengths, batchSize: 32, chunkBatches: chunk, generator: &rng)
    }

    @Test(arguments: [("plain", 0), ("grouped, 5 batches per chunk", 5), ("grouped, 50 per chunk", 50)])
    func everyEpochIsAPartitionIntoFullBatches(name: String, chunk: Int) {
        let batches = Self.batches(seed: 1, chunk: chunk)
        #expect(batches.count == 1_000 / 32, "\(name): ⌊1000 / 32⌋ batches")
        #expect(batches.allSatisfy { $0.count == 32 })
        let rows = batches.flatMap { $0 }
        #expect(Set(rows).count == rows.count, "\(name): no row twice")
        #expect(rows.allSatisfy { (0..<1_000).contains($0) })
    }

    @Test func deterministicForASeedAndDifferentAcrossSeeds() {
        #expect(Self.batches(seed: 3, chunk: 50) == Self.batches(seed: 3, chunk: 50))
        #expect(Self.batches(seed: 3, chunk: 50) != Self.batches(seed: 4, chunk: 50))
    }

    @Test func groupingRemovesMostPaddingButKeepsTheBatchOrderRandom() {
        let plain = LengthGroupedBatches.paddingFraction(lengths: Self.lengths, batches: Self.batches(seed: 1, chunk: 0),
                                                         sequenceLength: 64)
        let grouped = LengthGroupedBatches.paddingFraction(lengths: Self.lengths, batches: Self.batches(seed: 1, chunk: 50),
                                                           sequenceLength: 64)
        #expect(plain > 0.5, "plain batches are cut to their longest member: mostly padding (\(plain))")
        #expect(grouped < 0.25 && grouped < plain / 2, "grouped \(grouped) vs plain \(plain)")
        // The batch order is shuffled: the longest-example sequence is not monotone.
        let longest = Self.batches(seed: 1, chunk: 50).map { $0.map { Self.lengths[$0] }.max()! }
        #expect(longest != longest.sorted() && longest != longest.sorted(by: >))
    }

    @Test func paddedLengthRoundsUpTo8WithinTheSequence() {
        #expect(LengthGroupedBatches.paddedLength(longest: 1, sequenceLength: 64) == 8)
        #expect(LengthGroupedBatches.paddedLength(longest: 9, sequenceLength: 64) == 16)
        #expect(LengthGroupedBatches.paddedLength(longest: 17, sequenceLength: 64, multiple: 16) == 32)
        #expect(LengthGroupedBatches.paddedLength(longest: 60, sequenceLength: 50) == 50)
        #expect(LengthGroupedBatches.paddingFraction(lengths: [16, 16, 4], batches: [[0, 1], [2]], sequenceLength: 64) - 4.0 / 40 < 1e-12)
    }
}
