// The task catalog: names, kinds, metrics, deterministic carved validation splits, and loading real tasks.

import Basics
import Testing
@testable import Datasets

struct TaskTests {
    @Test(arguments: [
        ("babi/qa1", TaskKind.classification, MetricName.accuracy),
        ("babi/qa20", .classification, .accuracy),
        ("glue/sst2", .classification, .accuracy),
        ("glue/cola", .classification, .matthewsCorrelation),
        ("glue/mrpc", .classification, .f1),
        ("glue/stsb", .regression, .pearson),
        ("glue/rte", .classification, .accuracy),
        ("ptb", .languageModel, .perplexity),
        ("shakespeare", .languageModel, .perplexity),
        ("fashion-mnist", .image, .accuracy),
    ])
    func catalogDescribesTasks(name: String, kind: TaskKind, metric: MetricName) throws {
        let description = try TaskCatalog.description(of: name)
        #expect(description.kind == kind && description.metric == metric)
        #expect(description.higherIsBetter == (metric != .perplexity))
        #expect(TaskCatalog.names.contains(name))
    }

    @Test(arguments: ["babi/qa0", "babi/qa21", "babi/qa01", "glue/wnli", "mnist", ""])
    func unknownTaskIsAUsageError(name: String) {
        #expect(throws: UsageError.self) { _ = try TaskCatalog.description(of: name) }
    }

    @Test func carvedValidationIsDeterministicAndDisjoint() {
        let rows = Array(0..<1000)
        let first = TaskCatalog.carve(rows, validationCount: 100, seedName: "glue/rte")
        let second = TaskCatalog.carve(rows, validationCount: 100, seedName: "glue/rte")
        #expect(first.train == second.train && first.validation == second.validation)
        #expect(first.validation.count == 100 && first.train.count == 900)
        #expect(Set(first.train).isDisjoint(with: first.validation))
        #expect(first.validation == first.validation.sorted()) // file order kept
        #expect(TaskCatalog.carve(rows, validationCount: 100, seedName: "glue/sst2").validation != first.validation)
    }

    @Test func scoringUsesTheTaskMetrics() throws {
        let mrpc = try TaskCatalog.description(of: "glue/mrpc")
        let scores = mrpc.score(predictions: [1, 1, 0, 0], labels: [1, 0, 0, 1])
        #expect(scores[.f1] == 0.5 && scores[.accuracy] == 0.5)
        let stsb = try TaskCatalog.description(of: "glue/stsb")
        #expect(stsb.score(predictions: [1, 2, 3], targets: [2, 4, 6])[.spearman] == 1)
    }

    @Test func realTasksHaveTheirSplits() throws {
        try TestData.withDataSet("task loading") {
            let rte = try TaskCatalog.load("glue/rte", from: TestData.directory)
            guard case .sentences(let splits) = rte.data else { Issue.record("RTE is not a sentence task"); return }
            #expect(splits.train.count == 2_241 && splits.validation.count == 249 && splits.test.count == 277)
            #expect(rte.classNames == ["entailment", "not_entailment"])

            let babi = try TaskCatalog.load("babi/qa1", from: TestData.directory)
            guard case .questionAnswering(let questions) = babi.data else { Issue.record("bAbI is not QA"); return }
            #expect(questions.train.count == 900 && questions.validation.count == 100 && questions.test.count == 1000)
            #expect(babi.classNames == ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"])
        }
    }

    /// Every bAbI test answer is a class seen in training, except one list answer of qa8 (label −1).
    @Test(arguments: Array(1...20))
    func babiTestAnswersAreTrainingClasses(task: Int) throws {
        try TestData.withDataSet("bAbI qa\(task)") {
            let loaded = try TaskCatalog.load("babi/qa\(task)", from: TestData.directory)
            guard case .questionAnswering(let splits) = loaded.data else { return }
            let labels = loaded.answerLabels(splits.test)
            let unseen = splits.test.indices.filter { labels[$0] == -1 }.map { splits.test[$0].answer }
            #expect(unseen == (task == 8 ? ["football,apple,milk"] : []))
            #expect(loaded.answerLabels(splits.train).allSatisfy { $0 >= 0 })
        }
    }
}
