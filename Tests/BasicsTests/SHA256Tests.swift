import Basics
import Testing

/// FIPS 180-4 / NIST CSHS example vectors, plus lengths around the 55/56/64-byte padding boundaries checked
/// against `sha256sum` (coreutils) on this machine.
@Suite("SHA-256")
struct SHA256Tests {
    struct Vector: CustomTestStringConvertible, Sendable {
        let name: String
        let input: [UInt8]
        let hex: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(name: "empty", input: [], hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        Vector(name: "abc", input: Array("abc".utf8), hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        Vector(name: "two blocks (448 bits)", input: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
               hex: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        Vector(name: "one million a", input: [UInt8](repeating: 0x61, count: 1_000_000),
               hex: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        Vector(name: "55 bytes", input: [UInt8](repeating: 0x61, count: 55), hex: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        Vector(name: "56 bytes", input: [UInt8](repeating: 0x61, count: 56), hex: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        Vector(name: "64 bytes", input: [UInt8](repeating: 0x61, count: 64), hex: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
    ]

    @Test(arguments: vectors)
    func digest(_ v: Vector) {
        #expect(SHA256.hexDigest(v.input) == v.hex)
    }

    @Test("incremental updates in odd-sized pieces equal the one-shot digest")
    func incremental() {
        var rng = SeededGenerator(seed: 7)
        let data = (0..<10_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        var hasher = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 127, 1000, 3] where offset < data.count {
            let end = min(data.count, offset + size)
            hasher.update(data[offset..<end])
            offset = end
        }
        hasher.update(data[offset...])
        #expect(hasher.finalize() == SHA256.digest(data))
    }
}
