// The engine's own benchmark (issue 6): orchestration overhead per job with trivial jobs, and the speedup of two
// workers over one on CPU-bound jobs. Both use the built-in toy family in a fresh temporary store, so they
// measure the engine (claim, load inputs, dispatch, complete with metrics and artifacts, progress) and nothing else.
//
//   overhead per job = (wall time − Σ job compute time) / jobs, with --jobs 1 and trivial jobs (steps = 1)
//   speedup          = wall(--jobs 1) / wall(--jobs 2) on dense + fine-tune jobs of `cpuSteps` steps each

import Basics
import Foundation
import Storage

public struct SweepBenchmarkResult: Sendable {
    public let trivialJobs: Int
    public let overheadMillisecondsPerJob: Double
    public let cpuBoundJobs: Int
    public let meanCPUJobSeconds: Double
    public let wallSecondsOneWorker: Double
    public let wallSecondsTwoWorkers: Double

    public var speedupTwoWorkers: Double { wallSecondsOneWorker / wallSecondsTwoWorkers }
    /// Overhead relative to the mean CPU-bound job of this benchmark.
    public var overheadFractionOfCPUJob: Double { overheadMillisecondsPerJob / 1000 / meanCPUJobSeconds }

    public var json: JSONValue {
        ["trivial_jobs": JSONValue(trivialJobs), "overhead_ms_per_job": JSONValue(overheadMillisecondsPerJob),
         "cpu_bound_jobs": JSONValue(cpuBoundJobs), "mean_cpu_job_s": JSONValue(meanCPUJobSeconds),
         "overhead_fraction_of_cpu_job": JSONValue(overheadFractionOfCPUJob),
         "wall_s_jobs_1": JSONValue(wallSecondsOneWorker), "wall_s_jobs_2": JSONValue(wallSecondsTwoWorkers),
         "speedup_jobs_2": JSONValue(speedupTwoWorkers)]
    }
}

public enum SweepBenchmark {
    static func manifest(name: String, seeds: Int, steps: Int, lambdas: [Double], qkUnits: [Int]) throws -> Manifest {
        let text = """
        {"schemaVersion": 1, "name": "\(name)", "seeds": [\((0..<seeds).map(String.init).joined(separator: ", "))],
         "experiments": [{"model": "toy", "task": "toy/easy"}, {"model": "toy", "task": "toy/hard"}],
         "training": {"steps": \(steps)}, "lambdas": [\(lambdas.map { CanonicalJSON.formatNumber($0) }.joined(separator: ", "))],
         "trace": {"examples": 1, "bits": 8}, "hardware": {"qkUnits": [\(qkUnits.map(String.init).joined(separator: ", "))]}}
        """
        return try Manifest.parse(bytes: Array(text.utf8), file: "(benchmark manifest)")
    }

    static func run(_ manifest: Manifest, jobs: Int, directory: String) throws -> SweepRunSummary {
        let store = try ResultStore(path: directory + "/\(manifest.name)-\(jobs).sqlite", access: .write())
        var options = EngineOptions()
        options.jobs = jobs
        return try SweepEngine(store: store, options: options).run(SweepPlan.make(manifest, dataDirectory: "data"))
    }

    public static func run(cpuSteps: Int = 400_000) throws -> SweepBenchmarkResult {
        let directory = NSTemporaryDirectory() + "leopard-bench-sweep-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // Trivial jobs: 2 tasks × 4 seeds × (1 + 4 λ × (1 + 1 + 4 points)) = 200 jobs of microseconds each.
        let trivial = try run(manifest(name: "trivial", seeds: 4, steps: 1, lambdas: [0.1, 0.2, 0.4, 0.8], qkUnits: [4, 8, 16, 32]),
                              jobs: 1, directory: directory)
        let total = trivial.succeeded
        let overhead = (trivial.wallSeconds - trivial.jobSeconds) / Double(max(1, total))

        // CPU-bound: 2 tasks × 4 seeds dense trainings + one fine-tune each (traces and hardware are tiny).
        let cpu = try manifest(name: "cpu", seeds: 4, steps: cpuSteps, lambdas: [0.5], qkUnits: [16])
        let one = try run(cpu, jobs: 1, directory: directory)
        let two = try run(cpu, jobs: 2, directory: directory)
        return SweepBenchmarkResult(trivialJobs: total, overheadMillisecondsPerJob: overhead * 1000, cpuBoundJobs: one.succeeded,
                                    meanCPUJobSeconds: one.jobSeconds / Double(max(1, 16)),
                                    wallSecondsOneWorker: one.wallSeconds, wallSecondsTwoWorkers: two.wallSeconds)
    }
}
