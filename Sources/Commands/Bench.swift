// `leopard bench …`: throughput benchmarks, one subcommand per subsystem. Figures are for release builds
// (`swift build -c release`); each benchmark measures its reference (sgemm, PyTorch-free baselines) in the same run.

public struct BenchCommand: CommandGroup {
    public static let configuration = CommandConfiguration(
        name: "bench", abstract: "Measure Leopard's throughput (use a release build: swift build -c release).",
        subcommands: [BenchTrainCommand.self, BenchStoreCommand.self, BenchSimulateCommand.self, BenchDenseCommand.self,
                      BenchSweepCommand.self])
}
