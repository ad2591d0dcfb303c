// `leopard bench sweep [--json] [--steps N]`: the sweep engine's orchestration overhead per job (trivial jobs)
// and the speedup of --jobs 2 over --jobs 1 on CPU-bound jobs (Sweep.SweepBenchmark).

import Basics
import Foundation
import Sweep

public struct BenchSweepCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "sweep", abstract: "Time the sweep engine: overhead per job, and 2 workers against 1 on CPU-bound jobs.",
        usage: "[--steps N] [--json]",
        discussion: "Runs built-in toy sweeps in a temporary store. Load from other processes distorts the speedup: run it on an idle machine.",
        arguments: [
            ArgumentHelp("--steps N", "work per CPU-bound job (default 400000 toy steps)"),
            ArgumentHelp("--json", "print one JSON object (overhead_ms_per_job, speedup_jobs_2, ...)"),
        ])

    let steps: Int
    let json: Bool

    public init(arguments: inout Arguments) throws {
        steps = try arguments.intOption("--steps", range: 1...1_000_000_000) ?? 400_000
        json = try arguments.flag("--json")
    }

    public func run(_ io: CommandIO) throws {
        let r = try SweepBenchmark.run(cpuSteps: steps)
        if json { io.printJSON(r.json); return }
        io.print(String(format: "overhead per job   %.3f ms over %d trivial jobs (%.3f%% of a %.2f s CPU-bound job)",
                        r.overheadMillisecondsPerJob, r.trivialJobs, 100 * r.overheadFractionOfCPUJob, r.meanCPUJobSeconds))
        io.print(String(format: "--jobs 1           %.2f s for %d jobs", r.wallSecondsOneWorker, r.cpuBoundJobs))
        io.print(String(format: "--jobs 2           %.2f s  (speedup %.2f×)", r.wallSecondsTwoWorkers, r.speedupTwoWorkers))
    }
}
