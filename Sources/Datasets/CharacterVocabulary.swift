// A character vocabulary for character-level language models: id 0 is the unknown character (anything not seen
// in the training text), then every Unicode scalar of the training text by descending frequency, ties by scalar
// value. ASCII maps through a 128-entry table, so encoding megabytes of text is a single fast pass.

public struct CharacterVocabulary: Sendable, Equatable {
    /// Shown for id 0.
    public static let unknownToken = "[UNK]"

    /// Characters by id − 1 (id 0 is the unknown character).
    public let characters: [Unicode.Scalar]
    private let asciiIDs: [Int32]
    private let otherIDs: [UInt32: Int32]

    public init(characters: [Unicode.Scalar]) {
        var ascii = [Int32](repeating: 0, count: 128)
        var other: [UInt32: Int32] = [:]
        for (index, scalar) in characters.enumerated() {
            let id = Int32(index + 1)
            if scalar.value < 128 {
                precondition(ascii[Int(scalar.value)] == 0, "duplicate character in vocabulary")
                ascii[Int(scalar.value)] = id
            } else {
                precondition(other.updateValue(id, forKey: scalar.value) == nil, "duplicate character in vocabulary")
            }
        }
        self.characters = characters
        self.asciiIDs = ascii
        self.otherIDs = other
    }

    public static func build(training text: String) -> CharacterVocabulary {
        var asciiCounts = [Int](repeating: 0, count: 128)
        var otherCounts: [UInt32: Int] = [:]
        for scalar in text.unicodeScalars {
            if scalar.value < 128 { asciiCounts[Int(scalar.value)] += 1 } else { otherCounts[scalar.value, default: 0] += 1 }
        }
        var counted: [(value: UInt32, count: Int)] = otherCounts.map { ($0.key, $0.value) }
        for (value, count) in asciiCounts.enumerated() where count > 0 { counted.append((UInt32(value), count)) }
        counted.sort { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
        return CharacterVocabulary(characters: counted.map { Unicode.Scalar($0.value)! })
    }

    /// Number of ids, the unknown character included.
    public var count: Int { characters.count + 1 }

    /// Token text by id (id 0 is `[UNK]`).
    public var tokens: [String] { [Self.unknownToken] + characters.map { String($0) } }

    public func id(of scalar: Unicode.Scalar) -> Int32 {
        scalar.value < 128 ? asciiIDs[Int(scalar.value)] : (otherIDs[scalar.value] ?? 0)
    }

    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars { ids.append(id(of: scalar)) }
        return ids
    }

    /// Text of the ids; the unknown character decodes as U+FFFD.
    public func decode(_ ids: [Int32]) -> String {
        var scalars = String.UnicodeScalarView()
        for id in ids { scalars.append(id == 0 ? "\u{FFFD}" : characters[Int(id) - 1]) }
        return String(scalars)
    }
}
