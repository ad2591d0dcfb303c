// The uniform description of every task Leopard trains on (`TaskDescription`; `LoadedTask` adds the data): its
// name (`babi/qa1` … `babi/qa20`, `glue/sst2`, `glue/cola`, `glue/mrpc`, `glue/stsb`, `glue/rte`, `ptb`,
// `shakespeare`, `fashion-mnist`), kind, metric and data. Splits (train / validation / test), by task family:
//   bAbI           train file → train minus a carved 10% validation; test file → test.
//   GLUE           train.tsv → train minus a carved validation (10%, at most 1,000 rows); dev.tsv → test
//                  (GLUE's test labels are hidden). SST-2 alone: its train.tsv is mostly phrases and dev.tsv whole
//                  sentences, so its validation rows are whole sentences of train.tsv (1,000 rows that are no
//                  other row's sub-phrase) and training drops every phrase of them (Task+SentenceValidation.swift).
//   PTB            ptb.train / ptb.valid / ptb.test.
//   Shakespeare    90 / 5 / 5 per work (see Shakespeare.swift).
//   Fashion-MNIST  the first 55,000 training images → train, the last 5,000 → validation; t10k → test.
// Carved validation sets are deterministic: a seeded shuffle (seed from the task name) picks the rows, and both
// parts keep the file order.

import Basics
import Foundation

public enum TaskKind: String, Sendable {
    case classification
    case regression
    case languageModel = "language-model"
    case image
}

/// What a task is, without its data.
public struct TaskDescription: Sendable, Equatable {
    public let name: String
    public let kind: TaskKind
    /// The metric that decides (and that `metric loss` is measured in).
    public let metric: MetricName
    /// Further metrics reported beside it (MRPC: accuracy; STS-B: Spearman).
    public let secondaryMetrics: [MetricName]

    public var higherIsBetter: Bool { metric.higherIsBetter }
}

public struct Splits<Example: Sendable>: Sendable {
    public let train: Example
    public let validation: Example
    public let test: Example
}

public enum TaskData: Sendable {
    case questionAnswering(Splits<[BabiQuestion]>)
    case sentences(Splits<[SentenceExample]>)
    case languageModel(TokenCorpus)
    case images(Splits<ImageSet>)
}

/// A task with its data. (Not named `Task`: that would shadow Swift Concurrency's `Task` in every module that
/// imports Datasets.)
public struct LoadedTask: Sendable {
    public let description: TaskDescription
    /// Class names in label order: GLUE's labels, Fashion-MNIST's classes, or bAbI's answers seen in training
    /// (bytewise order; an answer string — even a comma list — is one class). Empty for regression and LMs.
    public let classNames: [String]
    public let data: TaskData

    public var name: String { description.name }

    /// Class ids of bAbI answers (indices into `classNames`); an answer never seen in training is −1 — it can
    /// only be scored wrong (qa8's test split has one: `football,apple,milk`).
    public func answerLabels(_ questions: [BabiQuestion]) -> [Int32] {
        var index: [String: Int32] = [:]
        for (id, name) in classNames.enumerated() { index[name] = Int32(id) }
        return questions.map { index[$0.answer] ?? -1 }
    }
}

public enum TaskCatalog {
    /// Every task name, in a fixed order.
    public static let names: [String] = Babi.taskNumbers.map { "babi/qa\($0)" }
        + GlueTask.allCases.map { "glue/\($0.rawValue)" } + ["ptb", "shakespeare", "fashion-mnist"]

    /// The description of a task by name; an unknown name is a `UsageError` listing the valid ones.
    public static func description(of name: String) throws -> TaskDescription {
        if babiNumber(name) != nil {
            return TaskDescription(name: name, kind: .classification, metric: .accuracy, secondaryMetrics: [])
        }
        if let glue = glueTask(name) {
            switch glue {
            case .sst2, .rte: return TaskDescription(name: name, kind: .classification, metric: .accuracy, secondaryMetrics: [])
            case .cola: return TaskDescription(name: name, kind: .classification, metric: .matthewsCorrelation, secondaryMetrics: [.accuracy])
            case .mrpc: return TaskDescription(name: name, kind: .classification, metric: .f1, secondaryMetrics: [.accuracy])
            case .stsb: return TaskDescription(name: name, kind: .regression, metric: .pearson, secondaryMetrics: [.spearman])
            }
        }
        switch name {
        case "ptb", "shakespeare": return TaskDescription(name: name, kind: .languageModel, metric: .perplexity, secondaryMetrics: [])
        case "fashion-mnist": return TaskDescription(name: name, kind: .image, metric: .accuracy, secondaryMetrics: [])
        default: throw UsageError("unknown task \"\(name)\"; expected one of babi/qa1 … babi/qa20, glue/sst2, glue/cola, glue/mrpc, glue/stsb, glue/rte, ptb, shakespeare, fashion-mnist")
        }
    }

    /// Loads a task's data from the data directory (Fashion-MNIST and Shakespeare also look in their
    /// installed locations; see DATA.md).
    public static func load(_ name: String, from directory: DataDirectory,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LoadedTask {
        let description = try description(of: name)
        if let number = babiNumber(name) {
            let trainFile = try Babi.load(task: number, split: .train, from: directory)
            let test = try Babi.load(task: number, split: .test, from: directory)
            let (train, validation) = carve(trainFile, validationCount: trainFile.count / 10, seedName: name)
            let answers = Set(trainFile.map(\.answer)).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            return LoadedTask(description: description, classNames: answers,
                        data: .questionAnswering(Splits(train: train, validation: validation, test: test)))
        }
        if let glue = glueTask(name) {
            let trainFile = try Glue.load(glue, .train, from: directory)
            let test = try Glue.load(glue, .dev, from: directory)
            let validationCount = min(trainFile.count / 10, 1000)
            let train: [SentenceExample], validation: [SentenceExample]
            if glue == .sst2 {
                // Phrases in train.tsv, sentences in dev.tsv: validate on sentences (Task+SentenceValidation.swift).
                let carved = carveSentences(trainFile, validationCount: validationCount, seedName: name, words: \.textA)
                (train, validation) = (carved.train, carved.validation)
            } else {
                (train, validation) = carve(trainFile, validationCount: validationCount, seedName: name)
            }
            return LoadedTask(description: description, classNames: glue.classNames,
                        data: .sentences(Splits(train: train, validation: validation, test: test)))
        }
        switch name {
        case "ptb":
            return LoadedTask(description: description, classNames: [], data: .languageModel(try PennTreebank.corpus(from: directory)))
        case "shakespeare":
            return LoadedTask(description: description, classNames: [], data: .languageModel(try Shakespeare.corpus(from: directory, environment: environment)))
        default:
            let trainFile = try FashionMNIST.load(.train, from: directory)
            let test = try FashionMNIST.load(.test, from: directory)
            let validationCount = min(5000, trainFile.count / 10)
            let cut = trainFile.count - validationCount
            return LoadedTask(description: description, classNames: FashionMNIST.classNames,
                        data: .images(Splits(train: trainFile.selecting(Array(0..<cut)),
                                             validation: trainFile.selecting(Array(cut..<trainFile.count)), test: test)))
        }
    }

    static func babiNumber(_ name: String) -> Int? {
        guard name.hasPrefix("babi/qa"), let number = Int(name.dropFirst("babi/qa".count)),
              Babi.taskNumbers.contains(number), name == "babi/qa\(number)" else { return nil }
        return number
    }

    static func glueTask(_ name: String) -> GlueTask? {
        guard name.hasPrefix("glue/") else { return nil }
        return GlueTask(rawValue: String(name.dropFirst("glue/".count)))
    }

    /// Splits `rows` into (kept, validation): `validationCount` rows picked by a shuffle seeded from `seedName`,
    /// both parts in their original order.
    public static func carve<Row>(_ rows: [Row], validationCount: Int, seedName: String) -> (train: [Row], validation: [Row]) {
        precondition(validationCount >= 0 && validationCount <= rows.count, "validationCount out of range")
        var isValidation = [Bool](repeating: false, count: rows.count)
        for index in validationOrder(count: rows.count, seedName: seedName).prefix(validationCount) { isValidation[index] = true }
        var train: [Row] = [], validation: [Row] = []
        train.reserveCapacity(rows.count - validationCount)
        validation.reserveCapacity(validationCount)
        for (index, row) in rows.enumerated() {
            if isValidation[index] { validation.append(row) } else { train.append(row) }
        }
        return (train, validation)
    }

    /// Row indices 0..<count in the order validation rows are picked: a shuffle seeded from
    /// SHA-256("leopard-validation:" + seedName).
    static func validationOrder(count: Int, seedName: String) -> [Int] {
        var generator = SeededGenerator(key: SHA256.hexDigest(Array(("leopard-validation:" + seedName).utf8)))
        var order = Array(0..<count)
        generator.shuffle(&order)
        return order
    }
}

extension LoadedTask {
    /// Examples (or tokens, for language models) per split: (train, validation, test).
    public var splitSizes: (train: Int, validation: Int, test: Int) {
        switch data {
        case .questionAnswering(let s): return (s.train.count, s.validation.count, s.test.count)
        case .sentences(let s): return (s.train.count, s.validation.count, s.test.count)
        case .languageModel(let c): return (c.train.count, c.validation.count, c.test.count)
        case .images(let s): return (s.train.count, s.validation.count, s.test.count)
        }
    }
}

extension TaskDescription {
    /// Every metric of a classification task (primary and secondary), as fractions.
    public func score(predictions: [Int32], labels: [Int32]) -> [MetricName: Double] {
        precondition(kind == .classification || kind == .image, "\(name) is not a classification task")
        var scores: [MetricName: Double] = [:]
        for metric in [metric] + secondaryMetrics { scores[metric] = Self.score(metric, predictions: predictions, labels: labels) }
        return scores
    }

    /// Pearson and Spearman of a regression task.
    public func score(predictions: [Float], targets: [Float]) -> [MetricName: Double] {
        precondition(kind == .regression, "\(name) is not a regression task")
        return [.pearson: Self.score(.pearson, predictions: predictions, targets: targets),
                .spearman: Self.score(.spearman, predictions: predictions, targets: targets)]
    }

    /// The task's primary metric alone (what a bootstrap recomputes many times), by the same functions as `score`.
    public func primaryScore(predictions: [Int32], labels: [Int32]) -> Double {
        precondition(kind == .classification || kind == .image, "\(name) is not a classification task")
        return Self.score(metric, predictions: predictions, labels: labels)
    }

    public func primaryScore(predictions: [Float], targets: [Float]) -> Double {
        precondition(kind == .regression, "\(name) is not a regression task")
        return Self.score(metric, predictions: predictions, targets: targets)
    }

    private static func score(_ metric: MetricName, predictions: [Int32], labels: [Int32]) -> Double {
        switch metric {
        case .accuracy: return Metrics.accuracy(predictions: predictions, labels: labels)
        case .matthewsCorrelation: return Metrics.matthewsCorrelation(predictions: predictions, labels: labels)
        case .f1: return Metrics.f1(predictions: predictions, labels: labels)
        default: preconditionFailure("\(metric) does not apply to class predictions")
        }
    }

    private static func score(_ metric: MetricName, predictions: [Float], targets: [Float]) -> Double {
        switch metric {
        case .pearson: return Metrics.pearson(predictions: predictions, targets: targets)
        case .spearman: return Metrics.spearman(predictions: predictions, targets: targets)
        default: preconditionFailure("\(metric) does not apply to regression outputs")
        }
    }

    /// Perplexity of a language-model task from its mean NLL (nats per token).
    public func score(meanNegativeLogLikelihood: Double) -> [MetricName: Double] {
        precondition(kind == .languageModel, "\(name) is not a language-model task")
        return [.perplexity: Metrics.perplexity(meanNegativeLogLikelihood: meanNegativeLogLikelihood)]
    }
}
