// `leopard bench simulate`: the accelerator-model benchmark (issue 5): cycle-level simulation of a
// BERT-base-sized layer against a dense float QKᵀ sgemm on the same data, and analytic evaluations per second.

import Basics
import Benchmarks
import Foundation

public struct BenchSimulateCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "simulate",
        abstract: "Time the cycle-level model on a 12×512×512 (d = 64, 12-bit) layer against sgemm; analytic points/s.",
        usage: "[--serial] [--repetitions N] [--quick] [--json]",
        discussion: """
        Synthetic layer: Gaussian Q/K (seed 2022), 12-bit, threshold at a 70% prune rate. sim_over_sgemm = (engine +
        cycle-level model in the pruning+early-termination mode) / dense float QKᵀ via cblas_sgemm, medians of the
        repetitions measured in the same run; full_simulate_over_sgemm also counts the baseline and pruning-only
        modes. sim_over_sgemm_1thread_cpu compares one-thread CPU-time minima (OpenBLAS limited to one thread while
        it is measured), which a busy machine disturbs less than wall time. analytic_points_per_s is single-threaded. The 1-minute load average is reported because other
        processes on the machine distort every timing.
        """,
        arguments: [
            ArgumentHelp("--serial", "run the engine and the cycle model on one thread (default: all cores; sgemm uses OpenBLAS's threads)"),
            ArgumentHelp("--repetitions N", "timed repetitions per figure (default 5)"),
            ArgumentHelp("--quick", "a tiny layer (2 heads × 128) to check that it works; not a measurement"),
            ArgumentHelp("--json", "print one JSON object (sim_over_sgemm, analytic_points_per_s, ...)"),
        ])

    let serial: Bool
    let repetitions: Int
    let quick: Bool
    let json: Bool

    public init(arguments: inout Arguments) throws {
        serial = try arguments.flag("--serial")
        repetitions = try arguments.intOption("--repetitions", range: 1...1000) ?? 5
        quick = try arguments.flag("--quick")
        json = try arguments.flag("--json")
        try arguments.finish()
    }

    public func run(_ io: CommandIO) throws {
        let r = quick
            ? AcceleratorBenchmark.run(headCount: 2, sequenceLength: 128, repetitions: 1, analyticSeconds: 0.05, parallel: !serial)
            : AcceleratorBenchmark.run(repetitions: repetitions, parallel: !serial)
        var object = r.json.objectValue ?? [:]
        let env = io.environment.filter { $0.key.hasPrefix("OPENBLAS") }
        object["openblas_env"] = .object(env.mapValues { .string($0) })
        if json { io.printJSON(.object(object)); return }
        func ms(_ s: Double) -> String { String(format: "%.2f ms", s * 1000) }
        io.print("layer \(r.headCount) heads × \(r.sequenceLength) × \(r.sequenceLength), d = \(r.headDim), \(r.bits)-bit, "
                 + "prune rate \(String(format: "%.3f", r.pruneRate)), mean planes \(String(format: "%.2f", r.meanPlanes)), "
                 + "\(r.parallel ? "all cores" : "one thread"), median of \(r.repetitions)")
        io.print("sgemm QKᵀ (float)        \(ms(r.sgemmSeconds))")
        io.print("engine (planes, kept)    \(ms(r.engineSeconds))")
        io.print("cycle model (ET mode)    \(ms(r.cycleSeconds))")
        io.print("sim / sgemm              \(String(format: "%.2f", r.simOverSgemm))×   (target ≤ 3×)")
        io.print("full simulate / sgemm    \(String(format: "%.2f", r.fullSimulateOverSgemm))×   (all three modes)")
        io.print("one thread, CPU time     sgemm \(ms(r.sgemmCPUSeconds1Thread)), engine \(ms(r.engineCPUSeconds1Thread)), "
                 + "cycle \(ms(r.cycleCPUSeconds1Thread)) → \(String(format: "%.2f", r.simOverSgemm1ThreadCPU))×")
        io.print("analytic points/s        \(String(format: "%.0f", r.analyticPointsPerSecond))   (one core; target ≥ 100000)")
        io.print("accelerator speedup      \(String(format: "%.3f", r.speedup))× on this layer (default hardware)")
        io.print("load average (1 min)     \(String(format: "%.2f", r.loadAverage))")
    }
}
