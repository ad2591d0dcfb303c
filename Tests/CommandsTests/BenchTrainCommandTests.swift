// `leopard bench train`: argument handling (usage errors exit 64 with nothing on stdout) and help text. The
// benchmark itself is timed in release builds (`make bench`-style runs), not in the test suite.
import Basics
import Commands
import Testing

@Suite struct BenchTrainCommandTests {
    @Test(arguments: [
        (["bench", "train"], "--model is required"),
        (["bench", "train", "--model", "gpt-huge"], "expected one of: bert-tiny"),
        (["bench", "train", "--model", "bert-tiny", "--threads", "0"], "--threads = 0"),
        (["bench", "train", "--model", "bert-tiny", "--steps", "many"], "--steps = many"),
        (["bench", "train", "--model", "bert-tiny", "--bogus"], "unknown option '--bogus'"),
        (["bench"], "needs a subcommand"),
    ])
    func usageErrors(_ argv: [String], _ message: String) {
        let r = runLeopard(argv)
        #expect(r.exitCode == 64)
        #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func helpListsTheOptions() {
        let r = runLeopard(["bench", "train", "--help"])
        #expect(r.exitCode == 0)
        for option in ["--model", "--threads", "--steps", "--json", "--full-last-layer", "--blas-threading"] {
            #expect(r.stdout.contains(option), "help lacks \(option)")
        }
    }
}
