// BERT's WordPiece tokenizer for uncased `vocab.txt` files, matching Hugging Face `tokenizers` (BertNormalizer +
// BertPreTokenizer + WordPiece + the `[CLS] A [SEP] B [SEP]` template) id for id:
//   1. clean: drop U+0000, U+FFFD and control characters (categories Cc, Cf, Co, Cs, Cn except tab/LF/CR);
//      every whitespace character becomes a space;
//   2. CJK ideographs get a space on either side (each becomes a word);
//   3. strip accents: canonical decomposition (NFD), then drop nonspacing marks (Mn); 4. lower-case;
//   5. split on whitespace, and every punctuation character is a word of its own;
//   6. each word: greedy longest-match-first against the vocabulary, continuation pieces prefixed `##`; a word
//      with no full segmentation, or longer than 100 characters, is the single token `[UNK]`.
// Pairs are truncated "longest first" to fit `maximumLength` with the specials counted: the shorter sequence keeps
// min(its length, ⌊room/2⌋) tokens and the longer the rest; on a tie the *second* sequence counts as the longer
// (this reproduces `tokenizers`' LongestFirst rule, checked against it in the tests).

import Basics
import Foundation

/// One encoded input: `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, unpadded.
public struct WordPieceEncoding: Sendable, Equatable {
    public let ids: [Int32]
    /// 0 for `[CLS]`, A and the first `[SEP]`; 1 for B and the last `[SEP]`.
    public let tokenTypeIDs: [Int32]
}

public struct WordPieceTokenizer: Sendable {
    public let vocabulary: Vocabulary
    public let maximumCharactersPerWord: Int
    public let unknownID: Int32
    public let classifierID: Int32
    public let separatorID: Int32
    public let padID: Int32

    /// Reads a BERT `vocab.txt`: one token per line, the line number (from 0) is the id.
    public init(vocabularyFile path: String) throws {
        let file = try TextFile(path: path)
        var tokens: [String] = []
        var seen = Set<String>()
        try file.forEachLine { line in
            let token = try file.string(line.bytes, line: line)
            guard seen.insert(token).inserted else { throw file.error(line, "duplicate token \(quoted(line.bytes)); expected each token once") }
            tokens.append(token)
        }
        for special in [SpecialTokens.pad, SpecialTokens.unknown, SpecialTokens.classifier, SpecialTokens.separator] where !seen.contains(special) {
            throw InputError(file: path, problem: "no \(special) token; expected a BERT vocab.txt")
        }
        self.init(vocabulary: Vocabulary(tokens: tokens, unknownToken: SpecialTokens.unknown))
    }

    public init(vocabulary: Vocabulary, maximumCharactersPerWord: Int = 100) {
        guard let unknown = vocabulary.unknownID, let classifier = vocabulary.classifierID,
              let separator = vocabulary.separatorID, let pad = vocabulary.padID else {
            preconditionFailure("a WordPiece vocabulary needs [PAD], [UNK], [CLS] and [SEP]")
        }
        self.vocabulary = vocabulary
        self.maximumCharactersPerWord = maximumCharactersPerWord
        self.unknownID = unknown
        self.classifierID = classifier
        self.separatorID = separator
        self.padID = pad
    }

    // MARK: Basic tokenisation

    /// Steps 1–5: the normalised words and punctuation marks of `text`.
    public func basicTokens(_ text: String) -> [String] {
        var cleaned = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
            if UnicodeClasses.isWhitespace(scalar) {
                cleaned.append(" ")
            } else if Self.isCJK(scalar) {
                cleaned.append(" "); cleaned.append(scalar); cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        var normalised = String(cleaned)
        if !normalised.unicodeScalars.allSatisfy(\.isASCII) {
            var stripped = String.UnicodeScalarView()
            for scalar in normalised.decomposedStringWithCanonicalMapping.unicodeScalars
            where scalar.properties.generalCategory != .nonspacingMark {
                stripped.append(scalar)
            }
            normalised = String(stripped)
        }
        normalised = normalised.lowercased()
        return WordTokenizer(lowercase: false, splitPunctuation: true).tokenize(normalised)
    }

    /// Cc, Cf, Co, Cs, Cn, except tab, LF and CR (which count as whitespace).
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate, .unassigned: return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks (BERT's definition; Hangul and kana are not included).
    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    // MARK: Word pieces

    /// Step 6 for one word.
    public func wordPieceIDs(_ word: String) -> [Int32] {
        let scalars = Array(word.unicodeScalars)
        if scalars.count > maximumCharactersPerWord { return [unknownID] }
        var pieces: [Int32] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int32?
            while start < end {
                var candidate = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { candidate = "##" + candidate }
                if let id = vocabulary.id(of: candidate) { found = id; break }
                end -= 1
            }
            guard let id = found else { return [unknownID] }
            pieces.append(id)
            start = end
        }
        return pieces
    }

    /// Word-piece ids of a text, without specials.
    public func tokenIDs(_ text: String) -> [Int32] {
        basicTokens(text).flatMap(wordPieceIDs)
    }

    // MARK: Model inputs

    /// `[CLS] A [SEP]` (and `B [SEP]`), truncated longest-first to at most `maximumLength` ids.
    public func encode(_ textA: String, _ textB: String? = nil, maximumLength: Int = 512) -> WordPieceEncoding {
        let (ids, types) = SentenceLayout.layout(tokenIDs(textA), textB.map(tokenIDs), maximumLength: maximumLength,
                                                 classifierID: classifierID, separatorID: separatorID)
        return WordPieceEncoding(ids: ids, tokenTypeIDs: types)
    }

    /// Lengths kept when a pair of `countA` + `countB` tokens must fit `room`: the shorter keeps
    /// min(its count, ⌊room/2⌋), the longer the remaining room; B counts as the longer on a tie.
    static func longestFirst(_ countA: Int, _ countB: Int, room: Int) -> (Int, Int) {
        if countA + countB <= room { return (countA, countB) }
        if countA > countB {
            let keptB = min(countB, room / 2)
            return (min(countA, room - keptB), keptB)
        }
        let keptA = min(countA, room / 2)
        return (keptA, min(countB, room - keptA))
    }

    /// A batch padded with `[PAD]` (type id 0) to `maximumLength`, with the true lengths.
    public func encodeBatch(_ examples: [(String, String?)], maximumLength: Int) -> (ids: PaddedSequences, tokenTypeIDs: [Int32]) {
        let encodings = examples.map { encode($0.0, $0.1, maximumLength: maximumLength) }
        let ids = Padding.pad(encodings.map(\.ids), to: maximumLength, padID: padID)
        let types = Padding.pad(encodings.map(\.tokenTypeIDs), to: maximumLength, padID: 0)
        return (ids, types.ids)
    }
}
