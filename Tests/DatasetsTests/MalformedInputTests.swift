// Malformed data files written to a temporary directory: each must fail with an InputError that names the file,
// the line (or byte offset) and what was expected. Missing data sets give a MissingDataError naming the path.

import Foundation
import Testing
@testable import Datasets

struct MalformedInputTests {
    @Test(arguments: [
        ("no line ID", "1 Mary went home.\nMary moved.\n", "line 2", "expected `ID text`"),
        ("ID jumps", "1 Mary went home.\n3 John left.\n", "line 2", "expected 2 or 1"),
        ("two fields", "1 Mary went home.\n2 Where is Mary?\thome\n", "line 2", "expected 3"),
        ("fact is a question", "1 A b.\n2 Where is A?\tb\t1\n3 Where?\tb\t2\n", "line 3", "expected the ID of an earlier statement line"),
        ("fact not a number", "1 A b.\n2 Where is A?\tb\tone\n", "line 2", "expected space-separated integers"),
        ("empty answer", "1 A b.\n2 Where is A?\t\t1\n", "line 2", "expected a word or a comma list"),
        ("empty line", "1 A b.\n\n", "line 2", "empty line"),
        ("empty statement", "1 A b.\n2  \n", "line 2", "empty statement"),
    ])
    func babiErrors(name: String, text: String, place: String, expected: String) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("babi/en/qa1_fixture_train.txt", text)
        let message = inputErrorMessage { _ = try Babi.load(task: 1, split: .train, from: directory.dataDirectory) }
        #expect(message.hasPrefix("\(path): \(place): "), "\(name): \(message)")
        #expect(message.contains(expected), "\(name): \(message)")
    }

    @Test func babiInvalidUTF8IsNamed() throws {
        let directory = try TemporaryDirectory()
        try directory.write("babi/en/qa2_fixture_test.txt", bytes: Array("1 Mary \u{e9}.\n".utf8) + [0x32, 0x20, 0xFF, 0x0A])
        let message = inputErrorMessage { _ = try Babi.load(task: 2, split: .test, from: directory.dataDirectory) }
        #expect(message.contains("line 2: invalid UTF-8"))
    }

    @Test(arguments: [
        ("SST-2 header", GlueTask.sst2, "sentence\tlabels\nfine .\t1\n", "line 1", "expected the SST-2 header"),
        ("SST-2 label", .sst2, "sentence\tlabel\nfine .\t1\nbad .\tpositive\n", "line 3", "expected 0 or 1"),
        ("SST-2 fields", .sst2, "sentence\tlabel\nfine .\t1\textra\n", "line 2", "found 3 tab-separated fields; expected 2"),
        ("CoLA fields", .cola, "gj04\t1\t\tGood.\ngj04\t1\tBad.\n", "line 2", "expected 4 (source, label, original mark, sentence)"),
        ("CoLA empty sentence", .cola, "gj04\t1\t\t \n", "line 1", "empty sentence"),
        ("MRPC no BOM header", .mrpc, "Quality\t#1 ID\t#2 ID\t#1 String\n", "line 1", "expected the MRPC header"),
        ("STS-B score", .stsb, "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tg\tf\ty\t1\tn\tn\tA.\tB.\t7.5\n", "line 2", "expected a number from 0 to 5"),
        ("RTE label", .rte, "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tentails\n", "line 2", "expected entailment or not_entailment"),
    ])
    func glueErrors(name: String, task: GlueTask, text: String, place: String, expected: String) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("glue/\(task.folder)/train.tsv", text)
        let message = inputErrorMessage { _ = try Glue.load(task, .train, from: directory.dataDirectory) }
        #expect(message.hasPrefix("\(path): \(place): "), "\(name): \(message)")
        #expect(message.contains(expected), "\(name): \(message)")
    }

    @Test func glueAcceptsBOMHeaderAndCRLF() throws {
        let directory = try TemporaryDirectory()
        try directory.write("glue/MRPC/dev.tsv", bytes: [0xEF, 0xBB, 0xBF] + Array("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n1\t1\t2\tA b .\tB a .\r\n".utf8))
        let rows = try Glue.load(.mrpc, .dev, from: directory.dataDirectory)
        #expect(rows == [SentenceExample(textA: "A b .", textB: "B a .", label: 1, target: 1)])
    }

    @Test(arguments: [
        ("empty line", " a b \n\n c \n", "line 2", "empty line; expected a sentence"),
        ("tab", " a b \n c\td \n", "line 2", "control byte 0x9"),
    ])
    func pennTreebankErrors(name: String, text: String, place: String, expected: String) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("ptb/ptb.valid.txt", text)
        let message = inputErrorMessage { _ = try PennTreebank.words(.valid, from: directory.dataDirectory) }
        #expect(message.hasPrefix("\(path): \(place): "), "\(name): \(message)")
        #expect(message.contains(expected), "\(name): \(message)")
    }

    @Test func pennTreebankWordsGetEndOfSentence() throws {
        let directory = try TemporaryDirectory()
        try directory.write("ptb/ptb.test.txt", " the cat <unk> \n N dogs \n")
        #expect(try PennTreebank.words(.test, from: directory.dataDirectory) == ["the", "cat", "<unk>", "<eos>", "N", "dogs", "<eos>"])
    }

    @Test func missingDataSetsNameThePathAndTheFix() throws {
        let directory = try TemporaryDirectory()
        let data = directory.dataDirectory
        let cases: [(String, () throws -> Void, String)] = [
            ("bAbI", { _ = try Babi.load(task: 3, split: .train, from: data) }, "babi/en/qa3_*_train.txt"),
            ("GLUE", { _ = try Glue.load(.cola, .dev, from: data) }, "glue/CoLA/dev.tsv"),
            ("PTB", { _ = try PennTreebank.words(.train, from: data) }, "ptb/ptb.train.txt"),
            ("Shakespeare", { _ = try Shakespeare.load(from: data, environment: ["LEOPARD_PYTHON": "/nonexistent/python"]) }, "shakespeare"),
        ]
        for (name, load, pathPart) in cases {
            do {
                try load()
                Issue.record("\(name): expected a MissingDataError")
            } catch let error as MissingDataError {
                #expect(error.message.contains(directory.path) && error.message.contains(pathPart), "\(name): \(error.message)")
                #expect(error.message.contains("DATA.md"), "\(name): \(error.message)")
            }
        }
    }

    // MARK: IDX / gzip

    /// Writes `bytes` gzip-compressed to `path` with the system gzip(1), an encoder independent of our reader.
    static func gzip(_ bytes: [UInt8], to path: String) throws {
        let raw = path + ".raw"
        try Data(bytes).write(to: URL(fileURLWithPath: raw))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -c -n '\(raw)' > '\(path)' && rm '\(raw)'"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    static func idxHeader(dimensions: [UInt32]) -> [UInt8] {
        var header: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for size in dimensions { header += [UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)] }
        return header
    }

    @Test func idxRoundTripOfATinySet() throws {
        let directory = try TemporaryDirectory()
        let images = directory.path + "/images.gz", labels = directory.path + "/labels.gz"
        let pixels = (0..<(2 * 784)).map { UInt8($0 % 256) }
        try Self.gzip(Self.idxHeader(dimensions: [2, 28, 28]) + pixels, to: images)
        try Self.gzip(Self.idxHeader(dimensions: [2]) + [7, 3], to: labels)
        let set = try FashionMNIST.load(imagesPath: images, labelsPath: labels)
        #expect(set.count == 2 && set.labels == [7, 3] && set.pixels == pixels)
        #expect(set.pixelsAsUnitFloats()[255] == 1)
    }

    @Test(arguments: [
        ("bad magic", [UInt8]([1, 0, 8, 3]) + [UInt8](repeating: 0, count: 12), "byte offset 0", "expected 0x0000 (IDX)"),
        ("float elements", [UInt8]([0, 0, 0x0D, 3]) + [UInt8](repeating: 0, count: 12), "byte offset 2", "expected 0x08 (unsigned byte)"),
        ("two dimensions", [UInt8]([0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0]), "byte offset 3", "expected 3"),
        ("truncated data", idxHeader(dimensions: [2, 28, 28]) + [UInt8](repeating: 0, count: 784 + 10), "byte offset 810", "data truncated"),
        ("trailing bytes", idxHeader(dimensions: [1, 28, 28]) + [UInt8](repeating: 0, count: 785), "byte offset 801", "has trailing bytes"),
        ("not 28×28", idxHeader(dimensions: [1, 2, 2]) + [1, 2, 3, 4], "byte offset 8", "expected 28×28"),
    ])
    func idxImageErrors(name: String, bytes: [UInt8], place: String, expected: String) throws {
        let directory = try TemporaryDirectory()
        let images = directory.path + "/images.gz", labels = directory.path + "/labels.gz"
        try Self.gzip(bytes, to: images)
        try Self.gzip(Self.idxHeader(dimensions: [1]) + [0], to: labels)
        let message = inputErrorMessage { _ = try FashionMNIST.load(imagesPath: images, labelsPath: labels) }
        #expect(message.hasPrefix(images + ": " + place), "\(name): \(message)")
        #expect(message.contains(expected), "\(name): \(message)")
    }

    @Test func idxLabelErrors() throws {
        let directory = try TemporaryDirectory()
        let images = directory.path + "/images.gz", labels = directory.path + "/labels.gz"
        try Self.gzip(Self.idxHeader(dimensions: [2, 28, 28]) + [UInt8](repeating: 0, count: 2 * 784), to: images)
        try Self.gzip(Self.idxHeader(dimensions: [2]) + [1, 12], to: labels)
        let badLabel = inputErrorMessage { _ = try FashionMNIST.load(imagesPath: images, labelsPath: labels) }
        #expect(badLabel.hasPrefix(labels + ": byte offset 9") && badLabel.contains("expected a class from 0 to 9"), "\(badLabel)")
        try Self.gzip(Self.idxHeader(dimensions: [3]) + [1, 2, 3], to: labels)
        let mismatch = inputErrorMessage { _ = try FashionMNIST.load(imagesPath: images, labelsPath: labels) }
        #expect(mismatch.contains("3 labels for 2 images") && mismatch.contains("expected equal counts"), "\(mismatch)")
    }

    @Test func truncatedGzipIsAnError() throws {
        let directory = try TemporaryDirectory()
        let images = directory.path + "/images.gz", labels = directory.path + "/labels.gz"
        var generator = SystemRandomNumberGenerator()
        let pixels = (0..<(50 * 784)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Self.gzip(Self.idxHeader(dimensions: [50, 28, 28]) + pixels, to: images)
        let whole = try Data(contentsOf: URL(fileURLWithPath: images))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: images))
        try Self.gzip(Self.idxHeader(dimensions: [50]) + [UInt8](repeating: 1, count: 50), to: labels)
        let message = inputErrorMessage { _ = try FashionMNIST.load(imagesPath: images, labelsPath: labels) }
        #expect(message.hasPrefix(images + ": ") && message.contains("gzip stream is damaged"), "\(message)")
    }
}
