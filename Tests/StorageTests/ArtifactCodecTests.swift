// Artifact codecs: the byte shuffle is a lossless permutation, each codec round-trips, and the shuffle pays off on
// the data it is for.

import Foundation
import Testing
@testable import Storage

@Suite struct ArtifactCodecTests {
    @Test(arguments: ArtifactCodec.allCases)
    func roundTripsAtEverySmallSize(_ codec: ArtifactCodec) throws {
        for count in stride(from: 0, through: 64, by: codec.elementBytes) {
            let raw = sampleBytes(count: count, seed: UInt64(count) + 1)
            #expect(try codec.decode(codec.encode(raw, level: 3), rawBytes: raw.count) == raw, "\(codec) \(count) bytes")
        }
    }

    @Test func shuffleGathersBytePlanes() {
        let raw: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        #expect(ArtifactCodec.shuffle(raw, width: 4) == [1, 5, 2, 6, 3, 7, 4, 8])
        #expect(ArtifactCodec.shuffle(raw, width: 2) == [1, 3, 5, 7, 2, 4, 6, 8])
        #expect(ArtifactCodec.unshuffle(ArtifactCodec.shuffle(raw, width: 4), width: 4) == raw)
    }

    @Test(arguments: [(4, 400, ArtifactCodec.zstdShuffle4), (4, 402, .zstd), (2, 402, .zstdShuffle2), (2, 401, .zstd), (1, 400, .zstd)])
    func theCodecFollowsTheElementWidth(_ elementBytes: Int, _ count: Int, _ expected: ArtifactCodec) {
        #expect(ArtifactCodec.forElements(ofBytes: elementBytes, count: count) == expected)
    }

    @Test func shuffledCodecsCompressNumericArraysBetter() throws {
        let floats = StoreBenchmark.checkpointLikeBlob(bytes: 400_000)
        let ints = StoreBenchmark.traceLikeBlob(bytes: 400_000)
        #expect(try ArtifactCodec.zstdShuffle4.encode(floats, level: 3).count < ArtifactCodec.zstd.encode(floats, level: 3).count)
        #expect(try ArtifactCodec.zstdShuffle2.encode(ints, level: 3).count < ArtifactCodec.zstd.encode(ints, level: 3).count)
    }

    @Test func theStoreRecordsTheCodecAndVerifiesShuffledArtifacts() throws {
        let dir = try TemporaryDirectory()
        let store = try ResultStore(path: dir.file("codec.sqlite"), access: .write())
        try store.registerSweep(name: "s", manifest: [:])
        try store.insertJobsIfAbsent(sweep: "s", [JobSpec(key: "a", kind: "k", parentKey: nil, parameters: [:])])
        let weights = StoreBenchmark.checkpointLikeBlob(bytes: 40_000)
        let trace = StoreBenchmark.traceLikeBlob(bytes: 40_002)
        try store.storeArtifacts(key: "a", [ArtifactInput(kind: "checkpoint", bytes: weights, elementBytes: 4),
                                            ArtifactInput(kind: "trace", bytes: trace, elementBytes: 2),
                                            ArtifactInput(kind: "odd", bytes: Array(trace.dropLast()), elementBytes: 4)])
        #expect(try store.artifactInfos(key: "a").map(\.codec) == ["zstd+shuffle4", "zstd", "zstd+shuffle2"])  // by kind
        #expect(try store.artifact(key: "a", kind: "checkpoint") == weights)
        #expect(try store.artifact(key: "a", kind: "trace") == trace)
        #expect(try store.artifact(key: "a", kind: "odd") == Array(trace.dropLast()))
        // A blob relabelled with the wrong codec fails verification instead of returning scrambled bytes.
        try Database(path: store.path).run("UPDATE artifacts SET codec = 'zstd' WHERE kind = 'checkpoint'")
        let error = #expect(throws: StoreError.self) { try store.artifact(key: "a", kind: "checkpoint") }
        #expect(error?.message.contains("SHA-256") == true)
    }
}
