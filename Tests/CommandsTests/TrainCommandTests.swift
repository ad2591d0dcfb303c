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
        Case(name: "target rate out of range", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--target-prune-rate", "1"],
             message: "--target-prune-rate = 1; expected a number in (0, 1) or \"off\""),
        Case(name: "gains without a target", argv: ["train", "--model", "memn2n", "--task", "babi/qa1", "--target-gains", "1,10"],
             message: "--target-gains needs a prune-rate target"),
        Case(name: "malformed gains", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--target-gains", "1"],
             message: "--target-gains = 1; expected two numbers"),
        Case(name: "overall without a target", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--target-prune-rate", "off", "--target-overall"],
             message: "--target-overall needs a prune-rate target"),
        Case(name: "target from λ 0", argv: ["train", "--model", "memn2n", "--task", "babi/qa1", "--target-prune-rate", "0.5", "--lambda", "0"],
             message: "--lambda must be > 0"),
        Case(name: "preset target from λ 0", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--lambda", "0"],
             message: "--lambda must be > 0 (or --target-prune-rate off)"),
        Case(name: "overall with the target off", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--target-prune-rate", "off", "--target-gains", "1,2"],
             message: "--target-prune-rate is off"),
        Case(name: "unknown surrogate", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--surrogate", "relu"],
             message: "--surrogate = relu; expected one of: tanh, log-sigmoid"),
        Case(name: "zero steepness", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--steepness", "0"],
             message: "--steepness = 0; expected a number > 0"),
        Case(name: "distillation weight 0", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--distill", "0"],
             message: "--distill = 0; expected a number in (0, 1] or \"off\""),
        Case(name: "distillation weight above 1", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--distill", "1.5"],
             message: "--distill = 1.5; expected a number in (0, 1]"),
        Case(name: "distillation outside GLUE", argv: ["train", "--model", "memn2n", "--task", "babi/qa1", "--distill", "1"],
             message: "--distill needs a GLUE task and an encoder preset"),
        Case(name: "hidden-state weight 0", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--distill-hidden", "0"],
             message: "--distill-hidden = 0; expected a positive number or \"off\""),
        Case(name: "hidden-state distillation without distillation", argv: ["train", "--model", "bert-mini", "--task", "glue/sst2", "--distill-hidden", "1"],
             message: "--distill-hidden needs distillation from the dense model: add --distill A (bert-mini does not distil by default)"),
        Case(name: "hidden-state distillation with distillation off", argv: ["train", "--model", "bert-tiny", "--task", "glue/sst2", "--distill", "off", "--distill-hidden", "1"],
             message: "--distill-hidden needs distillation from the dense model: add --distill A (--distill is off)"),
        Case(name: "training subset 0", argv: ["train", "--model", "bert-mini", "--task", "glue/sst2", "--training-subset", "0"],
             message: "--training-subset = 0; expected a positive whole number or all"),
        Case(name: "training subset below a batch", argv: ["train", "--model", "bert-mini", "--task", "glue/sst2", "--training-subset", "10"],
             message: "--training-subset = 10; expected at least one batch (32 examples) or all"),
        Case(name: "training subset outside the encoders", argv: ["train", "--model", "memn2n", "--task", "babi/qa1", "--training-subset", "100"],
             message: "--training-subset applies to the GLUE encoder presets (albert-tiny, bert-mini, bert-tiny); memn2n's training data is fixed by its recipe"),
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
