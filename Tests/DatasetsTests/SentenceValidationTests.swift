// SST-2's sentence validation split (Task+SentenceValidation.swift): the word sub-sequence logic against brute force
// on small corpora, and the split of the real train.tsv (skipped visibly when the file is absent).

import Basics
import Foundation
import Testing
@testable import Datasets

struct SentenceValidationTests {
    /// Brute force: is `inner` a contiguous sub-sequence of `outer` (as word arrays)?
    static func contains(_ outer: [Substring], _ inner: [Substring]) -> Bool {
        guard inner.count <= outer.count else { return false }
        return (0...(outer.count - inner.count)).contains { Array(outer[$0..<($0 + inner.count)]) == inner }
    }

    static func words(_ row: String) -> [Substring] { row.split(separator: " ") }

    @Test func phrasesAreWordSequencesNotCharacterSequences() {
        let rows = ["a good film", "good film", "good", "od fi", "a good", "film a", "ab c", "b c", "a good film"]
        let index = PhraseIndex(rows: rows)
        var contained: [Int] = []
        index.forEachRow(containedIn: 0) { contained.append($0) }
        // "a good film" holds itself, its duplicate (row 8), "good film", "good" and "a good" — never "od fi"
        // (characters, not words) nor "film a" (order).
        #expect(contained.sorted() == [0, 1, 2, 4, 8])
        var insideABC: [Int] = []
        index.forEachRow(containedIn: 6) { insideABC.append($0) }
        #expect(insideABC == [6]) // "b c" is not inside "ab c": "ab" is one word
        // Duplicated rows are inside each other, so neither copy of "a good film" is maximal.
        #expect(index.maximalRows() == [false, false, false, true, false, true, true, true, false])
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func maximalRowsMatchBruteForceOnRandomCorpora(seed: UInt64) {
        // Three words and short rows, so that containment and duplicates are frequent.
        var rng = SeededGenerator(seed: seed)
        let vocabulary = ["x", "y", "z"]
        let rows = (0..<120).map { _ in
            (0..<(1 + rng.nextInt(below: 6))).map { _ in vocabulary[rng.nextInt(below: 3)] }.joined(separator: " ")
        }
        let tokens = rows.map(Self.words)
        let expected = rows.indices.map { r in !rows.indices.contains { $0 != r && Self.contains(tokens[$0], tokens[r]) } }
        let index = PhraseIndex(rows: rows)
        #expect(index.maximalRows() == expected)
        for r in [0, 7, 50] {
            var found: [Int] = []
            index.forEachRow(containedIn: r) { found.append($0) }
            #expect(Set(found) == Set(rows.indices.filter { Self.contains(tokens[r], tokens[$0]) }), "row \(r): \(rows[r])")
        }
    }

    @Test func carveTakesSentencesAndDropsTheirPhrases() {
        let rows = ["the plot is thin", "the plot", "is thin", "a fine cast", "fine cast", "cast", "dull", "the plot is dull"]
        let carved = TaskCatalog.carveSentences(rows, validationCount: 2, seedName: "test", words: { $0 })
        #expect(carved.validation.count == 2)
        let maximal = Set(["the plot is thin", "a fine cast", "dull", "the plot is dull"].filter { row in
            !rows.contains { $0 != row && Self.contains(Self.words($0), Self.words(row)) }
        })
        #expect(maximal == ["the plot is thin", "a fine cast", "the plot is dull"])
        #expect(carved.validation.allSatisfy(maximal.contains))
        for row in carved.train {
            #expect(!carved.validation.contains { Self.contains(Self.words($0), Self.words(row)) }, "\(row) is a validation phrase")
        }
        #expect(carved.train.count + carved.validation.count + carved.removedPhrases == rows.count)
        // Rows that are phrases of no validation sentence stay in training, in file order.
        #expect(carved.train == rows.filter { row in
            !carved.validation.contains { Self.contains(Self.words($0), Self.words(row)) }
        })
    }

    @Test func realSST2ValidationIsWholeSentencesWithNoPhraseTrainedOn() throws {
        try TestData.withDataSet("SST-2 sentence validation") {
            let file = try Glue.load(.sst2, .train, from: TestData.directory)
            let dev = try Glue.load(.sst2, .dev, from: TestData.directory)
            let started = Date()
            let carved = TaskCatalog.carveSentences(file, validationCount: 1000, seedName: "glue/sst2", words: \.textA)
            print("TIMING: SST-2 sentence validation carve \(String(format: "%.3f", Date().timeIntervalSince(started))) s; "
                  + "validation \(carved.validation.count), train \(carved.train.count), removed phrases \(carved.removedPhrases)")
            // 6,886 rows of train.tsv are maximal (counted independently with Python: no row is a word
            // sub-sequence of another); validation rows are among them.
            let maximal = PhraseIndex(rows: file.map(\.textA)).maximalRows()
            #expect(maximal.filter { $0 }.count == 6_886)
            let maximalTexts = Set(file.indices.filter { maximal[$0] }.map { file[$0].textA })
            #expect(carved.validation.count == 1000)
            #expect(carved.validation.allSatisfy { maximalTexts.contains($0.textA) })
            #expect(carved.train.count + carved.validation.count + carved.removedPhrases == file.count)
            #expect(carved.removedPhrases > 0)

            // No training row is a word sub-sequence of a validation sentence: every contiguous word n-gram of the
            // validation sentences, as text, against every training row.
            var phrases = Set<String>()
            for sentence in carved.validation {
                let words = Self.words(sentence.textA)
                for i in words.indices { for j in (i + 1)...words.count { phrases.insert(words[i..<j].joined(separator: " ")) } }
            }
            let trainedPhrases = carved.train.filter { phrases.contains(Self.words($0.textA).joined(separator: " ")) }
            #expect(trainedPhrases.isEmpty, "\(trainedPhrases.prefix(3).map(\.textA))")

            // Validation sentences are as long as dev's (19.5 words), unlike a random carve (9.4).
            func meanWords(_ rows: [SentenceExample]) -> Double { Double(rows.map { Self.words($0.textA).count }.reduce(0, +)) / Double(rows.count) }
            print("SST-2 mean words: validation \(meanWords(carved.validation)), training \(meanWords(carved.train)), dev \(meanWords(dev))")
            #expect(abs(meanWords(carved.validation) - meanWords(dev)) < 2, "validation \(meanWords(carved.validation)), dev \(meanWords(dev))")

            // Deterministic, and what `TaskCatalog.load` serves.
            let again = TaskCatalog.carveSentences(file, validationCount: 1000, seedName: "glue/sst2", words: \.textA)
            #expect(again.validation == carved.validation && again.train == carved.train)
            let task = try TaskCatalog.load("glue/sst2", from: TestData.directory)
            guard case .sentences(let splits) = task.data else { Issue.record("SST-2 is not a sentence task"); return }
            #expect(splits.validation == carved.validation && splits.train == carved.train && splits.test.count == 872)
        }
    }
}
