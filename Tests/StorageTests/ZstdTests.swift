// The zstd codec: round trips, interoperability with the `zstd` CLI (frames with and without a content size, with
// and without a checksum), and typed errors — never a crash — for truncated, corrupt and oversized input.

import Foundation
import Testing
@testable import Storage

struct Payload: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    var testDescription: String { name }

    static let all: [Payload] = [
        Payload(name: "empty", bytes: []),
        Payload(name: "one byte", bytes: [42]),
        Payload(name: "300 KB of 4-symbol text", bytes: sampleBytes(count: 300_000, seed: 1, alphabet: 4)),
        Payload(name: "200 KB incompressible", bytes: sampleBytes(count: 200_000, seed: 2)),
        Payload(name: "1 MB of zeros", bytes: [UInt8](repeating: 0, count: 1 << 20)),
    ]
}

@Suite struct ZstdTests {
    @Test(arguments: Payload.all)
    func roundTrips(_ payload: Payload) throws {
        for level in [1, 3, 19] {
            let frame = try Zstd.compress(payload.bytes, level: level)
            #expect(Zstd.declaredContentSize(frame) == UInt64(payload.bytes.count))
            #expect(try Zstd.decompress(frame, maximumOutputBytes: payload.bytes.count) == payload.bytes)
        }
    }

    @Test func framesCarryAContentChecksum() throws {
        // Frame header descriptor byte (after the 4-byte magic): bit 2 is the content-checksum flag.
        let frame = try Zstd.compress(sampleBytes(count: 1000, seed: 3, alphabet: 8))
        #expect(Array(frame[0..<4]) == [0x28, 0xB5, 0x2F, 0xFD])
        #expect(frame[4] & 0b100 != 0)
    }

    @Test func theCLIReadsOurFrames() throws {
        guard let zstd = which("zstd") else { print("SKIP: zstd CLI not installed"); return }
        let dir = try TemporaryDirectory()
        let data = sampleBytes(count: 100_000, seed: 4, alphabet: 16)
        let path = dir.file("ours.zst")
        try Data(try Zstd.compress(data)).write(to: URL(fileURLWithPath: path))
        let result = try runTool(zstd, ["-d", "-c", "-q", path])
        #expect(result.status == 0)
        #expect(result.stdout == data)
    }

    @Test(arguments: [
        ("file, content size and checksum", ["-c", "-q"], false),
        ("file, --no-check", ["--no-check", "-c", "-q"], false),
        ("stdin pipe: no content size", ["-c", "-q"], true),
        ("stdin pipe, --no-check", ["--no-check", "-c", "-q"], true),
    ])
    func weReadTheCLIsFrames(_ name: String, _ flags: [String], _ viaStdin: Bool) throws {
        guard let zstd = which("zstd") else { print("SKIP: zstd CLI not installed"); return }
        let dir = try TemporaryDirectory()
        let data = sampleBytes(count: 250_000, seed: 5, alphabet: 32)
        let path = dir.file("input.bin")
        try Data(data).write(to: URL(fileURLWithPath: path))
        let frame = viaStdin ? try runTool(zstd, flags, stdin: data) : try runTool(zstd, flags + [path])
        #expect(frame.status == 0)
        #expect((Zstd.declaredContentSize(frame.stdout) == nil) == viaStdin, "\(name): content size in header")
        #expect(try Zstd.decompress(frame.stdout, maximumOutputBytes: data.count) == data)
        // Without a content size the decoder cannot preallocate; the limit is still enforced while streaming.
        #expect(throws: CompressionError.outputLimitExceeded(limitBytes: data.count - 1)) {
            try Zstd.decompress(frame.stdout, maximumOutputBytes: data.count - 1)
        }
    }

    @Test func concatenatedFramesDecodeAsOne() throws {
        let a = sampleBytes(count: 5000, seed: 6, alphabet: 4), b = sampleBytes(count: 7000, seed: 7, alphabet: 4)
        let frames = try Zstd.compress(a) + Zstd.compress(b)
        #expect(try Zstd.decompress(frames, maximumOutputBytes: 12_000) == a + b)
    }

    @Test func everyTruncationIsATypedError() throws {
        let data = sampleBytes(count: 40_000, seed: 8, alphabet: 16)
        let frame = try Zstd.compress(data)
        for length in Array(0..<min(frame.count, 40)) + Array(stride(from: 40, to: frame.count, by: 97)) + [frame.count - 1] {
            #expect(throws: CompressionError.self, "cut at \(length) of \(frame.count)") {
                try Zstd.decompress(Array(frame[0..<length]), maximumOutputBytes: data.count)
            }
        }
        #expect(throws: CompressionError.truncated(inputBytes: frame.count - 1)) {
            try Zstd.decompress(Array(frame.dropLast()), maximumOutputBytes: data.count)
        }
    }

    @Test func everyFlippedBitIsDetectedOrHarmless() throws {
        // With the content checksum on, a flipped bit anywhere either fails with a typed error or (in a few header
        // bits that do not change the content) still yields the exact original. Never a wrong result, never a crash.
        let data = sampleBytes(count: 20_000, seed: 9, alphabet: 16)
        let frame = try Zstd.compress(data)
        var detected = 0
        for position in stride(from: 0, to: frame.count * 8, by: 13) {
            var damaged = frame
            damaged[position / 8] ^= UInt8(1 << (position % 8))
            do {
                let out = try Zstd.decompress(damaged, maximumOutputBytes: data.count)
                #expect(out == data, "bit \(position) changed the content without an error")
            } catch is CompressionError {
                detected += 1
            }
        }
        #expect(detected > 0)
    }

    @Test func aHugeDeclaredSizeIsRefusedBeforeAllocating() throws {
        // A frame that honestly declares 64 MiB of zeros, asked to decompress within 1 MiB.
        let frame = try Zstd.compress([UInt8](repeating: 0, count: 64 << 20), level: 1)
        #expect(frame.count < 100_000)
        #expect(throws: CompressionError.outputLimitExceeded(limitBytes: 1 << 20)) {
            try Zstd.decompress(frame, maximumOutputBytes: 1 << 20)
        }
    }

    @Test(arguments: [
        ("not zstd at all", Array("hello, world".utf8)),
        ("magic only", [0x28, 0xB5, 0x2F, 0xFD] as [UInt8]),
        ("empty", [] as [UInt8]),
    ])
    func garbageIsATypedError(_ name: String, _ input: [UInt8]) {
        #expect(throws: CompressionError.self, "\(name)") { try Zstd.decompress(input, maximumOutputBytes: 1000) }
    }
}
