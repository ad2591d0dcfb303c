// GLUE tasks from their original TSV files (tab-separated, no quoting; Wang et al. 2018):
//   SST-2  header `sentence label`; label 0/1                                      → accuracy
//   CoLA   no header; 4 columns `source label original-mark sentence`; label 0/1  → Matthews correlation
//   MRPC   header `Quality #1 ID #2 ID #1 String #2 String` after a UTF-8 BOM     → F1 (and accuracy)
//   STS-B  header of 10 columns; `sentence1 sentence2 score` are the last three    → Pearson (and Spearman)
//   RTE    header `index sentence1 sentence2 label`; entailment/not_entailment     → accuracy
// GLUE's test labels are hidden, so a task's *test* split is GLUE's dev.tsv and its *validation* split is carved
// from train.tsv deterministically (see `GlueSplits`).

import Basics

/// One GLUE example: one sentence or a pair, with a class label (classification) or a score (regression).
public struct SentenceExample: Sendable, Equatable {
    public let textA: String
    public let textB: String?
    /// Class index for classification tasks, −1 for regression.
    public let label: Int32
    /// Regression target (STS-B score in [0, 5]); the label as a Float for classification tasks.
    public let target: Float

    public init(textA: String, textB: String?, label: Int32, target: Float) {
        self.textA = textA
        self.textB = textB
        self.label = label
        self.target = target
    }
}

public enum GlueTask: String, CaseIterable, Sendable {
    case sst2, cola, mrpc, stsb, rte

    /// Folder under `<data>/glue/`.
    public var folder: String {
        switch self {
        case .sst2: return "SST-2"
        case .cola: return "CoLA"
        case .mrpc: return "MRPC"
        case .stsb: return "STS-B"
        case .rte: return "RTE"
        }
    }

    /// Class names in label order (empty for the regression task STS-B).
    public var classNames: [String] {
        switch self {
        case .sst2: return ["negative", "positive"]
        case .cola: return ["unacceptable", "acceptable"]
        case .mrpc: return ["not_equivalent", "equivalent"]
        case .stsb: return []
        case .rte: return ["entailment", "not_entailment"]
        }
    }

    public var isPair: Bool { self == .mrpc || self == .stsb || self == .rte }
}

public enum GlueFile: String, Sendable {
    case train, dev
}

public enum Glue {
    static let howToGet = "The GLUE TSVs (train.tsv, dev.tsv as made by download_glue_data.py) belong in <data>/glue/<TASK>/; see Sources/Datasets/DATA.md."

    public static func path(_ task: GlueTask, _ file: GlueFile, in directory: DataDirectory) throws -> String {
        try directory.requireFile("glue/\(task.folder)/\(file.rawValue).tsv", dataSet: "GLUE \(task.folder) \(file.rawValue)",
                                  howToGet: howToGet)
    }

    public static func load(_ task: GlueTask, _ file: GlueFile, from directory: DataDirectory) throws -> [SentenceExample] {
        try parse(task, file: TextFile(path: path(task, file, in: directory)))
    }

    /// Parses a GLUE TSV held in memory (`path` names it in errors).
    public static func parse(_ task: GlueTask, bytes: [UInt8], path: String) throws -> [SentenceExample] {
        try parse(task, file: TextFile(path: path, bytes: bytes))
    }

    static func parse(_ task: GlueTask, file: TextFile) throws -> [SentenceExample] {
        var examples: [SentenceExample] = []
        var sawHeader = false
        try file.forEachLine { line in
            if !sawHeader, let header = task.header {
                sawHeader = true
                let found = String(decoding: line.bytes, as: UTF8.self)
                guard found == header.joined(separator: "\t") else {
                    throw file.error(line, "header \(quoted(line.bytes, limit: 80)); expected the \(task.folder) header `\(header.joined(separator: " <TAB> "))`")
                }
                return
            }
            if line.bytes.isEmpty { throw file.error(line, "empty line; expected a \(task.folder) row") }
            examples.append(try row(task, line, file))
        }
        return examples
    }

    static func row(_ task: GlueTask, _ line: TextLine, _ file: TextFile) throws -> SentenceExample {
        func text(_ bytes: ArraySlice<UInt8>, _ column: String) throws -> String {
            let value = try file.string(bytes, line: line).trimmingSpaces()
            guard !value.isEmpty else { throw file.error(line, "empty \(column); expected text") }
            return value
        }
        func binary(_ bytes: ArraySlice<UInt8>, _ column: String) throws -> Int32 {
            guard bytes.count == 1, bytes.first == 0x30 || bytes.first == 0x31 else {
                throw file.error(line, "\(column) \(quoted(bytes)); expected 0 or 1")
            }
            return Int32(bytes.first! - 0x30)
        }
        switch task {
        case .sst2:
            let f = try file.fields(line, expected: 2, layout: "sentence, label")
            let label = try binary(f[1], "label")
            return SentenceExample(textA: try text(f[0], "sentence"), textB: nil, label: label, target: Float(label))
        case .cola:
            let f = try file.fields(line, expected: 4, layout: "source, label, original mark, sentence")
            let label = try binary(f[1], "label")
            return SentenceExample(textA: try text(f[3], "sentence"), textB: nil, label: label, target: Float(label))
        case .mrpc:
            let f = try file.fields(line, expected: 5, layout: "Quality, #1 ID, #2 ID, #1 String, #2 String")
            let label = try binary(f[0], "Quality")
            return SentenceExample(textA: try text(f[3], "#1 String"), textB: try text(f[4], "#2 String"),
                                   label: label, target: Float(label))
        case .stsb:
            let f = try file.fields(line, expected: 10, layout: "index, genre, filename, year, old_index, source1, source2, sentence1, sentence2, score")
            let scoreText = String(decoding: f[9], as: UTF8.self)
            guard let score = Float(scoreText), score.isFinite, score >= 0, score <= 5 else {
                throw file.error(line, "score \(quoted(f[9])); expected a number from 0 to 5")
            }
            return SentenceExample(textA: try text(f[7], "sentence1"), textB: try text(f[8], "sentence2"), label: -1, target: score)
        case .rte:
            let f = try file.fields(line, expected: 4, layout: "index, sentence1, sentence2, label")
            let labelText = String(decoding: f[3], as: UTF8.self)
            guard let label = task.classNames.firstIndex(of: labelText) else {
                throw file.error(line, "label \(quoted(f[3])); expected entailment or not_entailment")
            }
            return SentenceExample(textA: try text(f[1], "sentence1"), textB: try text(f[2], "sentence2"),
                                   label: Int32(label), target: Float(label))
        }
    }
}

extension GlueTask {
    /// The exact header line's fields, or nil for CoLA (no header).
    var header: [String]? {
        switch self {
        case .sst2: return ["sentence", "label"]
        case .cola: return nil
        case .mrpc: return ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]
        case .stsb: return ["index", "genre", "filename", "year", "old_index", "source1", "source2", "sentence1", "sentence2", "score"]
        case .rte: return ["index", "sentence1", "sentence2", "label"]
        }
    }
}
