// Word tokenizer, vocabularies, padding, character vocabulary and WordPiece on tiny hand-made inputs.

import Testing
@testable import Datasets

struct TokenizerTests {
    @Test(arguments: [
        ("Where is Mary? ", ["where", "is", "mary", "?"]),
        ("John won't go.", ["john", "won", "'", "t", "go", "."]),
        ("  tabs\tand\nnewlines  ", ["tabs", "and", "newlines"]),
        ("Ünïcode «quotes»", ["ünïcode", "«", "quotes", "»"]),
        ("", []),
    ])
    func wordTokenizerSplitsWhitespaceAndPunctuation(text: String, expected: [String]) {
        #expect(WordTokenizer().tokenize(text) == expected)
    }

    @Test func vocabularyOrdersSpecialsThenFrequencyThenBytes() {
        let documents = [["b", "a", "c", "a"], ["c", "d", "a", "B"]]
        let vocabulary = Vocabulary.build(training: documents)
        // a ×3, c ×2, then the singletons B, b, d in byte order ("B" = 0x42 < "b" = 0x62).
        #expect(vocabulary.tokens == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "c", "B", "b", "d"])
        #expect(vocabulary.padID == 0 && vocabulary.unknownID == 1 && vocabulary.classifierID == 2)
        #expect(vocabulary.encode(["c", "zebra", "a"]) == [6, 1, 5])
        // The same data in another order gives the same ids.
        #expect(Vocabulary.build(training: documents.reversed()) == vocabulary)
    }

    @Test func vocabularyMinimumFrequencyAndMaximumSize() {
        let documents = [["x", "x", "y", "y", "z"]]
        #expect(Vocabulary.build(training: documents, minimumFrequency: 2).tokens.suffix(2) == ["x", "y"])
        #expect(Vocabulary.build(training: documents, maximumSize: 6).tokens == SpecialTokens.all + ["x"])
        let plain = Vocabulary.build(training: documents, specials: ["<unk>"], unknownToken: "<unk>")
        #expect(plain.tokens == ["<unk>", "x", "y", "z"] && plain.encode(["q"]) == [0])
    }

    @Test func paddingPadsTruncatesAndKeepsLengths() {
        let padded = Padding.pad([[5, 6, 7], [8], []], to: 2, padID: 0)
        #expect(padded.ids == [5, 6, 8, 0, 0, 0] && padded.lengths == [2, 1, 0] && padded.count == 3)
        let recent = Padding.pad([[1, 2, 3]], to: 2, padID: 0, truncation: .keepEnd)
        #expect(recent.row(0) == [2, 3])
    }

    @Test func characterVocabularyRoundTripsAndMapsUnseenToZero() {
        let vocabulary = CharacterVocabulary.build(training: "abracadabra é")
        // a ×5, b ×2, r ×2, then c, d, space, é by scalar value among the singletons.
        #expect(vocabulary.tokens == ["[UNK]", "a", "b", "r", " ", "c", "d", "é"])
        #expect(vocabulary.encode("bad!") == [2, 1, 6, 0])
        #expect(vocabulary.decode(vocabulary.encode("cab é")) == "cab é")
        #expect(vocabulary.decode([0]) == "\u{FFFD}")
    }

    static func tinyWordPiece() -> WordPieceTokenizer {
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "aff", "the", "cafe", ",", "!", "中", "a", "##a"]
        return WordPieceTokenizer(vocabulary: Vocabulary(tokens: tokens, unknownToken: "[UNK]"), maximumCharactersPerWord: 9)
    }

    @Test func wordPieceGreedyLongestMatchFirst() {
        let tokenizer = Self.tinyWordPiece()
        #expect(tokenizer.basicTokens("The  CAFÉ,中文!") == ["the", "cafe", ",", "中", "文", "!"])
        #expect(tokenizer.wordPieceIDs("unaffable") == [5, 6, 7])
        #expect(tokenizer.wordPieceIDs("unaffx") == [1])            // no full segmentation → [UNK]
        #expect(tokenizer.wordPieceIDs("aaaaaa") == [14, 15, 15, 15, 15, 15])
        #expect(tokenizer.wordPieceIDs("aaaaaaaaa") == [14] + [Int32](repeating: 15, count: 8))
        #expect(tokenizer.wordPieceIDs("aaaaaaaaaa") == [1])        // longer than 9 characters → [UNK]
    }

    @Test func wordPiecePairsHaveTypeIDsAndLongestFirstTruncation() {
        let tokenizer = Self.tinyWordPiece()
        let pair = tokenizer.encode("the cafe", "un", maximumLength: 16)
        #expect(pair.ids == [2, 9, 10, 3, 5, 3] && pair.tokenTypeIDs == [0, 0, 0, 0, 1, 1])
        // 5 + 5 tokens into room 7 (10 − 3 specials): the tie keeps 3 of A and 4 of B.
        let truncated = tokenizer.encode("a a a a a", "the the the the the", maximumLength: 10)
        #expect(truncated.ids == [2, 14, 14, 14, 3, 9, 9, 9, 9, 3])
        #expect(WordPieceTokenizer.longestFirst(7, 3, room: 7) == (4, 3))
        #expect(WordPieceTokenizer.longestFirst(2, 10, room: 7) == (2, 5))
        #expect(WordPieceTokenizer.longestFirst(9, 8, room: 7) == (4, 3))
        #expect(WordPieceTokenizer.longestFirst(3, 2, room: 7) == (3, 2))
        let batch = tokenizer.encodeBatch([("the", nil), ("cafe", "un")], maximumLength: 6)
        #expect(batch.ids.ids == [2, 9, 3, 0, 0, 0, 2, 10, 3, 5, 3, 0] && batch.ids.lengths == [3, 5])
        #expect(batch.tokenTypeIDs == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0])
    }
}
