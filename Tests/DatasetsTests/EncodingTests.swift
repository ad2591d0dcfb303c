// Model-input encoders: GLUE sentences with a word vocabulary, and bAbI questions with memories.

import Testing
@testable import Datasets

struct EncodingTests {
    @Test func wordSentenceEncoderLaysOutPairs() {
        let training = [SentenceExample(textA: "A cat sat.", textB: "The cat!", label: 1, target: 1)]
        let encoder = WordSentenceEncoder.build(training: training)
        // cat ×2, then !, ., a, sat, the by bytes.
        #expect(encoder.vocabulary.tokens.suffix(6) == ["cat", "!", ".", "a", "sat", "the"])
        let encoded = encoder.encode(training + [SentenceExample(textA: "a dog", textB: nil, label: 0, target: 0)], maximumLength: 8)
        let cls: Int32 = 2, sep: Int32 = 3, unk: Int32 = 1
        // A = "a cat sat ." (4 tokens), B = "the cat !" (3), room 8 − 3 = 5: the shorter B keeps min(3, ⌊5/2⌋) = 2,
        // A keeps the remaining 3.
        #expect(encoded.ids.row(0) == [cls, 8, 5, 9, sep, 10, 5, sep])
        #expect(encoded.tokenTypeIDs[0..<8] == [0, 0, 0, 0, 0, 1, 1, 1])
        #expect(encoded.ids.row(1) == [cls, 8, unk, sep, 0, 0, 0, 0] && encoded.ids.lengths == [8, 4])
        #expect(encoded.labels == [1, 0])
    }

    @Test func babiEncoderKeepsTheMostRecentMemories() {
        let questions = [
            BabiQuestion(memories: ["Mary went home.", "John left."], question: "Where is Mary?", answer: "home", supportingFacts: [0]),
            BabiQuestion(memories: ["Mary went home.", "John left.", "Mary left home."], question: "Where is John?", answer: "away", supportingFacts: [1]),
        ]
        let encoder = BabiEncoder.build(training: questions, memorySlots: 2)
        #expect(encoder.sentenceLength == 4) // "mary went home ." and "where is mary ?"
        let encoded = encoder.encode(questions, classNames: ["away", "home"])
        #expect(encoded.memoryCounts == [2, 2] && encoded.answers == [1, 0])
        let v = encoder.vocabulary
        func ids(_ words: [String]) -> [Int32] { v.encode(words) + [Int32](repeating: 0, count: 4 - words.count) }
        // Second question: the oldest memory is dropped; slots hold "john left ." then "mary left home .".
        #expect(Array(encoded.memories[8..<16]) == ids(["john", "left", "."]) + ids(["mary", "left", "home", "."]))
        #expect(Array(encoded.questions.row(1)) == ids(["where", "is", "john", "?"]))
    }

    @Test func realBabiTaskEncodes() throws {
        try TestData.withDataSet("bAbI qa3") {
            let task = try TaskCatalog.load("babi/qa3", from: TestData.directory)
            guard case .questionAnswering(let splits) = task.data else { return }
            let encoder = BabiEncoder.build(training: splits.train)
            let encoded = encoder.encode(splits.test, classNames: task.classNames)
            #expect(encoded.count == 1000 && encoded.memories.count == 1000 * 50 * encoder.sentenceLength)
            #expect(encoded.memoryCounts.contains(50)) // qa3 stories are longer than 50 statements
            #expect(encoded.answers.allSatisfy { $0 >= 0 })
        }
    }
}

struct LanguageModelWindowTests {
    @Test func windowsTileTheStreamWithShiftedTargets() {
        let windows = TokenCorpus.windows([10, 11, 12, 13, 14, 15, 16, 17], sequenceLength: 3)
        // 8 tokens → (8 − 1) / 3 = 2 windows; the tail token 17 is only a target.
        #expect(windows.count == 2)
        #expect(windows.inputs == [10, 11, 12, 13, 14, 15])
        #expect(windows.targets == [11, 12, 13, 14, 15, 16])
        #expect(TokenCorpus.windows([1], sequenceLength: 4).count == 0)
        #expect(TokenCorpus.windows([1, 2, 3, 4, 5], sequenceLength: 4).targets == [2, 3, 4, 5])
    }
}
