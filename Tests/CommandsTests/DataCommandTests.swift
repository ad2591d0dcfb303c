// `leopard data check`: argv → output and exit code, on fixture data directories written to a temp dir.

import Basics
import Commands
import Foundation
import Testing

@Suite("leopard data check")
struct DataCommandTests {
    static func fixtureDirectory() throws -> String {
        let root = NSTemporaryDirectory() + "leopard-data-check-" + UUID().uuidString
        let rte = root + "/glue/RTE"
        try FileManager.default.createDirectory(atPath: rte, withIntermediateDirectories: true)
        let header = "index\tsentence1\tsentence2\tlabel\n"
        let rows = (0..<20).map { "\($0)\tA man sleeps \($0).\tA man rests.\t\($0 % 2 == 0 ? "entailment" : "not_entailment")\n" }
        try (header + rows.joined()).write(toFile: rte + "/train.tsv", atomically: true, encoding: .utf8)
        try (header + rows.prefix(3).joined()).write(toFile: rte + "/dev.tsv", atomically: true, encoding: .utf8)
        try (header + "0\tA.\tB.\tmaybe\n").write(toFile: root + "/glue/RTE/bad.tsv", atomically: true, encoding: .utf8)
        return root
    }

    @Test func readyTaskReportsSplitSizesAsJSON() throws {
        let root = try Self.fixtureDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = runLeopard(["data", "check", "glue/rte", "--data-dir", root, "--json"])
        #expect(r.exitCode == 0, "\(r.stderr)")
        let json = try JSONParser.parse(r.stdout)
        #expect(json["ok"] == .bool(true))
        let task = json["tasks"]?.arrayValue?.first
        // 20 training rows: 10% (2) carved off for validation; dev.tsv (3 rows) is the test split.
        #expect(task?["status"] == .string("ok") && task?["train"] == .integer(18) && task?["validation"] == .integer(2) && task?["test"] == .integer(3))
    }

    @Test func missingAndMalformedDataExitOne() throws {
        let root = try Self.fixtureDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let missing = runLeopard(["data", "check", "ptb"], environment: ["LEOPARD_DATA": root])
        #expect(missing.exitCode == 1)
        #expect(missing.stdout.contains("missing  ptb: Penn Treebank train not found: \(root)/ptb/ptb.train.txt"))
        #expect(missing.stdout.contains("(from LEOPARD_DATA)") && missing.stderr.contains("1 of 1 tasks are not ready"))

        try FileManager.default.removeItem(atPath: root + "/glue/RTE/dev.tsv")
        try FileManager.default.moveItem(atPath: root + "/glue/RTE/bad.tsv", toPath: root + "/glue/RTE/dev.tsv")
        let malformed = runLeopard(["data", "check", "glue/rte", "--data-dir", root])
        #expect(malformed.exitCode == 1)
        #expect(malformed.stdout.contains("error    glue/rte: \(root)/glue/RTE/dev.tsv: line 2: label \"maybe\"; expected entailment or not_entailment"))
    }

    @Test(arguments: [
        (["data", "check", "glue/wnli"], "unknown task \"glue/wnli\""),
        (["data", "check", "--data-dir"], "--data-dir needs a value"),
        (["data"], "'data' needs a subcommand: check"),
    ])
    func usageErrors(argv: [String], message: String) {
        let r = runLeopard(argv)
        #expect(r.exitCode == 64 && r.stderr.contains(message), "\(r.stderr)")
    }
}
