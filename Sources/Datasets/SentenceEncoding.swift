// Model inputs for sentence tasks (GLUE) as flat arrays: `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, padded to a
// fixed length with token-type ids, plus labels and regression targets. Two encoders share the layout: a word
// vocabulary built from the training split (from-scratch encoders) and WordPiece (pretrained BERT). Pairs are
// truncated longest-first exactly as WordPiece does.

/// A batch of encoded sentence examples.
public struct EncodedSentences: Sendable, Equatable {
    /// Row-major ids `[count × sequenceLength]` with lengths.
    public let ids: PaddedSequences
    /// Same shape as `ids.ids`: 0 for `[CLS]`, A and its `[SEP]`; 1 for B and its `[SEP]`; 0 for padding.
    public let tokenTypeIDs: [Int32]
    /// Class labels (−1 for regression).
    public let labels: [Int32]
    /// Regression targets (the label as a Float for classification).
    public let targets: [Float]
}

/// Word-level encoder for models trained from scratch: `WordTokenizer` + a `Vocabulary` from training texts only.
public struct WordSentenceEncoder: Sendable {
    public let tokenizer: WordTokenizer
    public let vocabulary: Vocabulary

    public init(tokenizer: WordTokenizer = WordTokenizer(), vocabulary: Vocabulary) {
        precondition(vocabulary.classifierID != nil && vocabulary.separatorID != nil && vocabulary.padID != nil
                     && vocabulary.unknownID != nil, "the vocabulary needs [PAD], [UNK], [CLS] and [SEP]")
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary
    }

    /// Builds the vocabulary from both texts of the training examples.
    public static func build(training examples: [SentenceExample], tokenizer: WordTokenizer = WordTokenizer(),
                             minimumFrequency: Int = 1, maximumSize: Int? = nil) -> WordSentenceEncoder {
        let documents = examples.lazy.flatMap { example in
            [tokenizer.tokenize(example.textA)] + (example.textB.map { [tokenizer.tokenize($0)] } ?? [])
        }
        return WordSentenceEncoder(tokenizer: tokenizer,
                                   vocabulary: Vocabulary.build(training: documents, minimumFrequency: minimumFrequency,
                                                                maximumSize: maximumSize))
    }

    public func encode(_ examples: [SentenceExample], maximumLength: Int) -> EncodedSentences {
        SentenceLayout.encode(examples, maximumLength: maximumLength, classifierID: vocabulary.classifierID!,
                              separatorID: vocabulary.separatorID!, padID: vocabulary.padID!) {
            vocabulary.encode(tokenizer.tokenize($0))
        }
    }
}

extension WordPieceTokenizer {
    public func encode(_ examples: [SentenceExample], maximumLength: Int) -> EncodedSentences {
        SentenceLayout.encode(examples, maximumLength: maximumLength, classifierID: classifierID,
                              separatorID: separatorID, padID: padID, tokenize: tokenIDs)
    }
}

enum SentenceLayout {
    static func encode(_ examples: [SentenceExample], maximumLength: Int, classifierID: Int32, separatorID: Int32,
                       padID: Int32, tokenize: (String) -> [Int32]) -> EncodedSentences {
        var rows: [[Int32]] = [], typeRows: [[Int32]] = []
        rows.reserveCapacity(examples.count)
        typeRows.reserveCapacity(examples.count)
        for example in examples {
            let (ids, types) = layout(tokenize(example.textA), example.textB.map(tokenize), maximumLength: maximumLength,
                                      classifierID: classifierID, separatorID: separatorID)
            rows.append(ids)
            typeRows.append(types)
        }
        return EncodedSentences(ids: Padding.pad(rows, to: maximumLength, padID: padID),
                                tokenTypeIDs: Padding.pad(typeRows, to: maximumLength, padID: 0).ids,
                                labels: examples.map(\.label), targets: examples.map(\.target))
    }

    /// `[CLS] A [SEP] (B [SEP])` within `maximumLength`, truncating longest-first.
    static func layout(_ first: [Int32], _ second: [Int32]?, maximumLength: Int, classifierID: Int32,
                       separatorID: Int32) -> (ids: [Int32], types: [Int32]) {
        let specials = second == nil ? 2 : 3
        precondition(maximumLength > specials, "maximumLength must leave room for at least one token")
        let room = maximumLength - specials
        var a = first, b = second ?? []
        if second == nil {
            if a.count > room { a.removeLast(a.count - room) }
        } else if a.count + b.count > room {
            let (keptA, keptB) = WordPieceTokenizer.longestFirst(a.count, b.count, room: room)
            a.removeLast(a.count - keptA)
            b.removeLast(b.count - keptB)
        }
        var ids = [classifierID] + a + [separatorID]
        var types = [Int32](repeating: 0, count: ids.count)
        if second != nil {
            ids += b + [separatorID]
            types += [Int32](repeating: 1, count: b.count + 1)
        }
        return (ids, types)
    }
}
