// `leopard train` argument handling: every invalid invocation is a usage error (exit 64) that names the problem,
// before any data is read or any training starts.
import Testing

@Suite("leopard train arguments")
struct TrainCommandTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let argv: [String]
        let message: String
        var testDescription: String { name }
    }

    static let cases = [
        Case(name: "no model", argv: ["train", "--task", "glue/sst2"], message: "--model is required"),
        Case(name: "unknown model", argv: ["train", "--model", "gpt9", "--task", "glue/sst2"], message: "unknown model \"gpt9\""),
        Case(name: "no task", argv: ["train", "--model", "bert-tiny"], message: "--task is required"),
        Case(name: "unknown task", argv: ["train", "--model", "bert-tiny", "--task", "glue/xyz"], message: "unknown task \"glue/xyz\""),
        Case(name: "bad lambda", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--lambda", "abc"], message: "--lambda = abc"),
        Case(name: "negative lambda", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--lambda", "0.1,-1"], message: "--lambda = 0.1,-1"),
        Case(name: "bad epochs", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--epochs", "-2"], message: "--epochs = -2"),
        Case(name: "bad bits", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--bits", "40"], message: "--bits = 40"),
        Case(name: "negative fine-tune lr", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--fine-tune-lr", "-1e-4"],
             message: "--fine-tune-lr = -1e-4; expected a number ≥ 0"),
        Case(name: "zero threshold lr", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--threshold-lr", "0"],
             message: "--threshold-lr = 0; expected a number > 0"),
        Case(name: "unknown option", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--fast"], message: "unknown option '--fast'"),
    ]

    @Test(arguments: cases)
    func invalidInvocationsAreUsageErrors(_ c: Case) {
        let r = runLeopard(c.argv)
        #expect(r.exitCode == 64, "exit \(r.exitCode), stderr: \(r.stderr)")
        #expect(r.stderr.contains(c.message), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func missingDataIsAFailureNotAUsageError() {
        let r = runLeopard(["train", "--model", "bert-tiny", "--task", "glue/rte", "--data-dir", "/nonexistent-leopard-data", "--epochs", "0"])
        #expect(r.exitCode == 1, "exit \(r.exitCode), stderr: \(r.stderr)")
        #expect(r.stderr.contains("/nonexistent-leopard-data"))
    }

    @Test func helpListsThePresets() {
        let r = runLeopard(["train", "--help"])
        #expect(r.exitCode == 0)
        #expect(r.stdout.contains("bert-tiny") && r.stdout.contains("--lambda"))
    }
}
