// Penn Treebank, Mikolov's language-modelling version (ptb.{train,valid,test}.txt): one sentence per line, words
// separated by spaces, rare words already replaced by `<unk>`, numbers by `N`. Word-level language modelling
// appends one `<eos>` per line (so train has 929,589 tokens). The vocabulary is built from train only, ordered
// by frequency then bytes, with no extra specials: the data's own `<unk>` is the unknown token (10,000 types).

import Basics

/// A language-modelling corpus: a vocabulary and the three splits as token-id streams.
public struct TokenCorpus: Sendable, Equatable {
    /// Token text by id (for a character corpus, one character each; id 0 is the unknown character).
    public let vocabularyTokens: [String]
    public let train: [Int32]
    public let validation: [Int32]
    public let test: [Int32]

    public var vocabularySize: Int { vocabularyTokens.count }
}

public enum PennTreebankFile: String, CaseIterable, Sendable {
    case train, valid, test
}

public enum PennTreebank {
    public static let endOfSentence = "<eos>"
    public static let unknown = "<unk>"
    static let howToGet = "The PTB language-model files (ptb.train.txt, ptb.valid.txt, ptb.test.txt from Mikolov's simple-examples.tgz) belong in <data>/ptb/; see Sources/Datasets/DATA.md."

    public static func path(_ file: PennTreebankFile, in directory: DataDirectory) throws -> String {
        try directory.requireFile("ptb/ptb.\(file.rawValue).txt", dataSet: "Penn Treebank \(file.rawValue)", howToGet: howToGet)
    }

    /// The words of one file with `<eos>` after every line.
    public static func words(_ file: PennTreebankFile, from directory: DataDirectory) throws -> [String] {
        try parse(file: TextFile(path: path(file, in: directory)))
    }

    public static func parse(bytes: [UInt8], path: String) throws -> [String] {
        try parse(file: TextFile(path: path, bytes: bytes))
    }

    static func parse(file: TextFile) throws -> [String] {
        var words: [String] = []
        words.reserveCapacity(file.bytes.count / 5)
        try file.forEachLine { line in
            var sawWord = false
            for word in line.bytes.split(separator: 0x20) {
                if let bad = word.first(where: { $0 < 0x20 || $0 == 0x7F }) {
                    throw file.error(line, "control byte 0x\(String(bad, radix: 16)) in \(quoted(word)); expected space-separated words")
                }
                words.append(try file.string(word, line: line))
                sawWord = true
            }
            guard sawWord else { throw file.error(line, "empty line; expected a sentence of space-separated words") }
            words.append(endOfSentence)
        }
        return words
    }

    /// All three files as id streams over the training vocabulary (words unseen in train map to `<unk>`).
    public static func corpus(from directory: DataDirectory) throws -> TokenCorpus {
        let train = try words(.train, from: directory)
        let valid = try words(.valid, from: directory)
        let test = try words(.test, from: directory)
        guard train.contains(unknown) else {
            throw InputError(file: try path(.train, in: directory), problem: "no \(unknown) token; expected Mikolov's preprocessed PTB")
        }
        let vocabulary = Vocabulary.build(training: [train], specials: [], unknownToken: unknown)
        return TokenCorpus(vocabularyTokens: vocabulary.tokens, train: vocabulary.encode(train),
                           validation: vocabulary.encode(valid), test: vocabulary.encode(test))
    }
}
