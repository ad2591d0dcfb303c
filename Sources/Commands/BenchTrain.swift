// `leopard bench train`: the training-engine benchmark (issue 3). Runs AdamW steps of a preset on a fixed random
// batch and reports steps/s, tokens/s, achieved GFLOP/s against the sgemm GFLOP/s measured in the same run, and
// peak RSS. `--threads N` sets BLAS and Dispatch parallelism (1 = no extra threads at all).

import Basics
import Training

public struct BenchTrainCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "train", abstract: "Time training steps of a model preset (AdamW, batch 32) against this machine's sgemm rate.",
        usage: "--model bert-tiny [--threads N] [--steps N] [--json]",
        discussion: """
        The model is trained on one fixed random batch (seeded), after 5 warm-up steps. achieved_gflops counts the
        matrix products the engine executes (the last layer carries only the CLS rows past attention unless
        --full-last-layer), nominal_gflops the full model's; sgemm_gflops is a 1024³ cblas_sgemm measured in the same process.
        OPENBLAS_* environment variables in effect are listed in the output because they change the sgemm kernel.
        """,
        arguments: [
            ArgumentHelp("--model NAME", "model preset: " + TrainingBenchmark.models.joined(separator: ", ")),
            ArgumentHelp("--threads N", "BLAS and Dispatch threads (default 2)"),
            ArgumentHelp("--steps N", "timed training steps (default 50)"),
            ArgumentHelp("--full-last-layer", "compute every position of the last layer (the full model's work, as PyTorch)"),
            ArgumentHelp("--blas-threading", "let OpenBLAS run its own threads instead of splitting products over Dispatch workers"),
            ArgumentHelp("--json", "print one JSON object (steps_per_s, tokens_per_s, achieved_gflops, sgemm_gflops, peak_rss_mb)"),
        ])

    let model: String
    let threads: Int
    let steps: Int
    let json: Bool
    let fullLastLayer: Bool
    let blasThreading: Bool

    public init(arguments: inout Arguments) throws {
        guard let model = try arguments.choiceOption("--model", choices: TrainingBenchmark.models) else {
            throw UsageError("--model is required (one of: \(TrainingBenchmark.models.joined(separator: ", ")))")
        }
        self.model = model
        threads = try arguments.intOption("--threads", range: 1...256) ?? 2
        steps = try arguments.intOption("--steps", range: 1...100_000) ?? 50
        json = try arguments.flag("--json")
        fullLastLayer = try arguments.flag("--full-last-layer")
        blasThreading = try arguments.flag("--blas-threading")
        try arguments.finish()
    }

    public func run(_ io: CommandIO) throws {
        let r = try TrainingBenchmark.run(model: model, threads: threads, steps: steps, fullLastLayer: fullLastLayer, splitGemms: !blasThreading)
        if json { io.printJSON(r.json); return }
        func f(_ x: Double, _ digits: Int = 1) -> String {
            let scale = (0..<digits).reduce(1.0) { a, _ in a * 10 }
            return CanonicalJSON.formatNumber((x * scale).rounded() / scale)
        }
        io.print("model \(r.model), batch \(r.batch)×\(r.time), \(r.threads) thread(s) (gemm threading: \(r.gemmThreading)), \(r.steps) steps")
        io.print("steps/s          \(f(r.stepsPerSecond, 2))   (median step \(f(r.medianStepMilliseconds, 2)) ms)")
        io.print("CPU time/step    \(f(r.cpuMillisecondsPerStep, 2)) ms (all threads)")
        io.print("tokens/s         \(f(r.tokensPerSecond, 0))")
        io.print("achieved GFLOP/s \(f(r.achievedGflops))   (\(f(100 * r.achievedGflops / r.sgemmGflops))% of sgemm; executed matrix FLOPs)")
        io.print("nominal GFLOP/s  \(f(r.nominalGflops))   (full-model FLOPs per step × steps/s, as PyTorch counts)")
        io.print("sgemm GFLOP/s    \(f(r.sgemmGflops))")
        io.print("peak RSS         \(f(r.peakRSSMegabytes)) MiB")
        let env = r.openblasEnvironment.keys.sorted().map { "\($0)=\(r.openblasEnvironment[$0]!)" }
        io.print("OpenBLAS env     \(env.isEmpty ? "(none set)" : env.joined(separator: " "))")
    }
}
