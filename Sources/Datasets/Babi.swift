// bAbI QA tasks v1.2, English 1k (Weston et al. 2015). File format, one sentence per line:
//   `ID text`                                    a statement (a memory for every later question of the story)
//   `ID question<TAB>answer<TAB>fact IDs`        a question; fact IDs are the statements that support the answer
// IDs restart at 1 for each story and otherwise rise by 1. A question's memories are the story's statements before
// it (questions are not memories), in order; the index of a memory in that list is what temporal encoding uses.
// Supporting fact IDs are translated to memory indices. The answer string is one class, also when it is a comma
// list (qa8 "football,apple", qa19 "s,e").

import Basics

public struct BabiQuestion: Sendable, Equatable {
    /// The story's statements before the question, oldest first.
    public let memories: [String]
    public let question: String
    public let answer: String
    /// Indices into `memories` of the supporting facts, as listed in the file.
    public let supportingFacts: [Int]

    public init(memories: [String], question: String, answer: String, supportingFacts: [Int]) {
        self.memories = memories
        self.question = question
        self.answer = answer
        self.supportingFacts = supportingFacts
    }
}

public enum BabiSplitFile: String, Sendable {
    case train, test
}

public enum Babi {
    public static let taskNumbers = 1...20
    static let howToGet = "bAbI 1k English (tasks_1-20_v1-2.tar.gz, folder en/) belongs in <data>/babi/en/; see Sources/Datasets/DATA.md."

    /// `babi/en/qa{N}_<name>_{train,test}.txt` under the data directory; the task's name part is found by listing.
    public static func path(task: Int, split: BabiSplitFile, in directory: DataDirectory) throws -> String {
        precondition(taskNumbers.contains(task), "bAbI task numbers are 1...20")
        let folder = directory.filePath("babi/en")
        let suffix = "_\(split.rawValue).txt"
        let prefix = "qa\(task)_"
        if FileSystem.isDirectory(folder) {
            if let name = try FileSystem.sortedEntries(folder).first(where: { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }) {
                return folder + "/" + name
            }
        }
        throw MissingDataError(dataSet: "bAbI task \(task) (\(split.rawValue))", path: "\(folder)/\(prefix)*\(suffix)",
                               howToGet: howToGet, directory: directory)
    }

    public static func load(task: Int, split: BabiSplitFile, from directory: DataDirectory) throws -> [BabiQuestion] {
        try parse(file: TextFile(path: path(task: task, split: split, in: directory)))
    }

    /// Parses a bAbI file held in memory (`path` names it in errors).
    public static func parse(bytes: [UInt8], path: String) throws -> [BabiQuestion] {
        try parse(file: TextFile(path: path, bytes: bytes))
    }

    static func parse(file: TextFile) throws -> [BabiQuestion] {
        var questions: [BabiQuestion] = []
        var memories: [String] = []
        var memoryIndexOfLineID: [Int: Int] = [:]
        var previousID = 0
        try file.forEachLine { line in
            if line.isBlank { throw file.error(line, "empty line; expected `ID text`") }
            guard let space = line.bytes.firstIndex(of: 0x20),
                  let id = parseDecimal(line.bytes[line.bytes.startIndex..<space]), id >= 1 else {
                throw file.error(line, "\(quoted(line.bytes)) does not start with a line ID; expected `ID text` with ID ≥ 1")
            }
            if id == 1 {
                memories.removeAll(keepingCapacity: true)
                memoryIndexOfLineID.removeAll(keepingCapacity: true)
            } else if id != previousID + 1 {
                throw file.error(line, "line ID \(id) follows \(previousID); expected \(previousID + 1) or 1 (a new story)")
            }
            previousID = id
            let rest = line.bytes[(space + 1)...]
            guard rest.contains(0x09) else {
                let statement = try file.string(rest, line: line).trimmingSpaces()
                guard !statement.isEmpty else { throw file.error(line, "empty statement; expected text after the line ID") }
                memoryIndexOfLineID[id] = memories.count
                memories.append(statement)
                return
            }
            let parts = rest.split(separator: 0x09, omittingEmptySubsequences: false)
            guard parts.count == 3 else {
                throw file.error(line, "question line has \(parts.count) tab-separated fields; expected 3 (question, answer, supporting fact IDs)")
            }
            let question = try file.string(parts[0], line: line).trimmingSpaces()
            let answer = try file.string(parts[1], line: line).trimmingSpaces()
            guard !question.isEmpty else { throw file.error(line, "empty question; expected text before the first tab") }
            guard !answer.isEmpty else { throw file.error(line, "empty answer; expected a word or a comma list after the first tab") }
            var facts: [Int] = []
            for field in parts[2].split(separator: 0x20) {
                guard let factID = parseDecimal(field) else {
                    throw file.error(line, "supporting fact \(quoted(field)) is not a line ID; expected space-separated integers")
                }
                guard let memoryIndex = memoryIndexOfLineID[factID] else {
                    throw file.error(line, "supporting fact \(factID) is not a statement of this story; expected the ID of an earlier statement line")
                }
                facts.append(memoryIndex)
            }
            guard !facts.isEmpty else { throw file.error(line, "no supporting fact IDs; expected at least one after the second tab") }
            questions.append(BabiQuestion(memories: memories, question: question, answer: answer, supportingFacts: facts))
        }
        return questions
    }
}

/// A non-negative decimal integer made only of ASCII digits (at most 18 of them), or nil.
func parseDecimal(_ bytes: ArraySlice<UInt8>) -> Int? {
    guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
    var value = 0
    for byte in bytes {
        guard byte >= 0x30 && byte <= 0x39 else { return nil }
        value = value * 10 + Int(byte - 0x30)
    }
    return value
}

extension String {
    /// Drops leading and trailing ASCII spaces and tabs (the data files' only padding).
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
