// bAbI questions as MemN2N inputs (Sukhbaatar et al. 2015): each memory sentence and the question become word
// ids padded to `sentenceLength`; each question keeps its most recent `memorySlots` memories (the paper uses 50),
// oldest first, so slot j of n valid memories is memory (total − n + j) of the story and its temporal index — the
// number of memories after it — is n − 1 − j. Answers become class ids over the training answers.

/// Encoded bAbI questions, all arrays row-major.
public struct EncodedBabi: Sendable, Equatable {
    public let memorySlots: Int
    public let sentenceLength: Int
    /// `[count × memorySlots × sentenceLength]`; unused slots and positions hold `[PAD]` (0).
    public let memories: [Int32]
    /// Valid memories per question (≤ memorySlots), in slots 0..<n.
    public let memoryCounts: [Int32]
    /// `[count × sentenceLength]` with lengths.
    public let questions: PaddedSequences
    /// Class ids into the task's `classNames`; −1 for an answer never seen in training.
    public let answers: [Int32]

    public var count: Int { answers.count }
}

public struct BabiEncoder: Sendable {
    public let tokenizer: WordTokenizer
    public let vocabulary: Vocabulary
    public let memorySlots: Int
    public let sentenceLength: Int

    public init(tokenizer: WordTokenizer = WordTokenizer(), vocabulary: Vocabulary, memorySlots: Int, sentenceLength: Int) {
        precondition(memorySlots >= 1 && sentenceLength >= 1, "memorySlots and sentenceLength must be at least 1")
        precondition(vocabulary.padID == 0, "[PAD] must be id 0")
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary
        self.memorySlots = memorySlots
        self.sentenceLength = sentenceLength
    }

    /// The vocabulary from the training questions and their memories; `sentenceLength` defaults to the longest
    /// training sentence (memory or question) in tokens.
    public static func build(training questions: [BabiQuestion], memorySlots: Int = 50,
                             sentenceLength: Int? = nil, tokenizer: WordTokenizer = WordTokenizer()) -> BabiEncoder {
        var cache: [String: [String]] = [:]
        var counts: [String: Int] = [:]
        var longest = 1
        func count(_ sentence: String) {
            let tokens: [String]
            if let cached = cache[sentence] { tokens = cached } else { tokens = tokenizer.tokenize(sentence); cache[sentence] = tokens }
            longest = max(longest, tokens.count)
            for token in tokens { counts[token, default: 0] += 1 }
        }
        for question in questions {
            count(question.question)
            for memory in question.memories.suffix(memorySlots) { count(memory) }
        }
        let vocabulary = Vocabulary.build(counts: counts, specials: SpecialTokens.all, unknownToken: SpecialTokens.unknown,
                                          minimumFrequency: 1, maximumSize: nil)
        return BabiEncoder(tokenizer: tokenizer, vocabulary: vocabulary, memorySlots: memorySlots,
                           sentenceLength: sentenceLength ?? longest)
    }

    public func encode(_ questions: [BabiQuestion], classNames: [String]) -> EncodedBabi {
        var classIndex: [String: Int32] = [:]
        for (id, name) in classNames.enumerated() { classIndex[name] = Int32(id) }
        var cache: [String: [Int32]] = [:]
        func ids(_ sentence: String) -> [Int32] {
            if let cached = cache[sentence] { return cached }
            let encoded = Array(vocabulary.encode(tokenizer.tokenize(sentence)).prefix(sentenceLength))
            cache[sentence] = encoded
            return encoded
        }
        let stride = memorySlots * sentenceLength
        var memories = [Int32](repeating: 0, count: questions.count * stride)
        var memoryCounts: [Int32] = []
        var questionRows: [[Int32]] = []
        for (row, question) in questions.enumerated() {
            let kept = question.memories.suffix(memorySlots)
            for (slot, memory) in kept.enumerated() {
                var position = row * stride + slot * sentenceLength
                for id in ids(memory) { memories[position] = id; position += 1 }
            }
            memoryCounts.append(Int32(kept.count))
            questionRows.append(ids(question.question))
        }
        return EncodedBabi(memorySlots: memorySlots, sentenceLength: sentenceLength, memories: memories,
                           memoryCounts: memoryCounts,
                           questions: Padding.pad(questionRows, to: sentenceLength, padID: 0),
                           answers: questions.map { classIndex[$0.answer] ?? -1 })
    }
}
