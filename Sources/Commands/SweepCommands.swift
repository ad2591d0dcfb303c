// `leopard sweep plan|run|resume`: Leopard's main job (DESIGN.md §3). The Sweep module does the work; this file
// parses arguments, owns the process-level concerns (SIGINT, progress on stderr, exit codes) and prints.

import Basics
import Foundation
import Storage
import Sweep

public struct SweepCommand: CommandGroup {
    public static let configuration = CommandConfiguration(
        name: "sweep", abstract: "Plan, run and resume sweeps from a manifest (training × λ × hardware points).",
        discussion: "Manifest format: docs/manifest.md. Results: results/<sweep>.sqlite unless --store.",
        subcommands: [SweepPlanCommand.self, SweepRunCommand.self, SweepResumeCommand.self, SweepSlurmCommand.self])
}

/// Paths shared by the sweep commands.
enum SweepPaths {
    static func defaultStore(sweep: String) -> String { "results/\(sweep).sqlite" }

    /// `results/x.sqlite` → `results/x` (where pareto.csv goes), `plots/x` (where plots go).
    static func stem(ofStore path: String) -> String {
        let name = (path as NSString).lastPathComponent
        return name.hasSuffix(".sqlite") ? String(name.dropLast(7)) : name
    }

    /// The store for status/pareto/plot: --store, else the only `results/*.sqlite`.
    static func resolveStore(_ flag: String?) throws -> String {
        if let flag { return flag }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: "results")) ?? []).filter { $0.hasSuffix(".sqlite") }.sorted()
        guard files.count == 1 else {
            throw UsageError(files.isEmpty ? "no store in results/; give --store PATH"
                             : "several stores in results/ (\(files.joined(separator: ", "))); choose one with --store PATH")
        }
        return "results/" + files[0]
    }

    static func makeParentDirectory(of path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
    }
}

public struct SweepPlanCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "plan", abstract: "Dry run: jobs per stage, how many are already done, and an estimated cost.",
        usage: "<manifest.json> [--store PATH] [--data-dir DIR] [--json]",
        discussion: "Nothing is written. The estimate uses the mean time of done jobs of the same kind and model in the store.",
        arguments: [
            ArgumentHelp("<manifest.json>", "The sweep manifest (docs/manifest.md)."),
            ArgumentHelp("--store PATH", "Result store to compare against (default results/<sweep>.sqlite)."),
            ArgumentHelp("--data-dir DIR", "Data directory (else the manifest's, else $LEOPARD_DATA, else ./data)."),
            ArgumentHelp("--json", "Print one JSON object."),
        ])

    let manifestPath: String
    let store: String?
    let dataDirectory: String?
    let json: Bool

    public init(arguments: inout Arguments) throws {
        store = try arguments.option("--store")
        dataDirectory = try arguments.option("--data-dir")
        json = try arguments.flag("--json")
        manifestPath = try arguments.requiredPositional("manifest.json")
    }

    public func run(_ io: CommandIO) throws {
        let manifest = try Manifest.load(path: manifestPath)
        let plan = try SweepPlan.make(manifest, dataDirectory: resolveDataDirectory(flag: dataDirectory, manifest: manifest, environment: io.environment))
        let storePath = store ?? SweepPaths.defaultStore(sweep: manifest.name)
        let existing = FileManager.default.fileExists(atPath: storePath) ? try ResultStore(path: storePath, access: .readOnly) : nil
        let summary = try PlanSummary.make(plan, store: existing)
        if json { io.printJSON(summary.json); return }
        io.print("sweep \(summary.sweep): \(summary.experiments) experiment(s), \(manifest.seeds.count) seed(s), "
                 + "\(manifest.lambdas.count) λ value(s), \(summary.hardwarePoints) hardware point(s) × \(manifest.hardwareModels.count) model(s)")
        io.print("store \(storePath)\(existing == nil ? " (not created yet)" : "")")
        io.print(pad("stage", 15) + pad("planned", 9) + pad("done", 8) + pad("failed", 8) + pad("to run", 8) + "estimate")
        for s in summary.stages {
            let estimate = s.remaining == 0 ? "-" : s.estimatedSeconds.map {
                formatDuration($0) + (s.estimatedJobs < s.remaining ? " (timings for \(s.estimatedJobs) of \(s.remaining))" : "")
            } ?? "unknown (no earlier timings)"
            io.print(pad(s.kind.rawValue, 15) + pad("\(s.planned)", 9) + pad("\(s.done)", 8) + pad("\(s.failed)", 8) + pad("\(s.remaining)", 8) + estimate)
        }
        let hasEstimate = summary.stages.contains { $0.estimatedSeconds != nil && $0.remaining > 0 }
        io.print("total: \(summary.totalPlanned) jobs, \(summary.totalDone) done; "
                 + (hasEstimate ? "estimated \(formatDuration(summary.estimatedSeconds)) of work on one worker"
                                : "no earlier timings to estimate from (run some jobs first)"))
    }
}

public struct SweepRunCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "run", abstract: "Run a manifest's jobs that are not done yet (a finished manifest does nothing).",
        usage: "<manifest.json> [--jobs N] [--store PATH] [--data-dir DIR] [--retry-failed] [--threads N]",
        discussion: """
        Jobs run up to N at a time (default: the manifest's "jobs", else 1), each on one BLAS thread, so
        results do not depend on N (unless --threads is raised for a --jobs 1 run). A failed job is recorded
        with its reason, its dependents are skipped, the rest goes on; the run ends with a summary and exit 1
        if any job of the sweep failed. Ctrl-C stops launching jobs; running ones finish or, at their next
        check, go back to pending, so the store stays consistent (a second Ctrl-C exits at once; the next run
        or resume re-queues what was running). Jobs of the store that this manifest no longer plans (superseded
        by an edit or a changed preset default) are left alone: never run, skipped or retried.
        """,
        arguments: SweepRunOptions.help(positional: ArgumentHelp("<manifest.json>", "The sweep manifest (docs/manifest.md).")))

    let manifestPath: String
    let options: SweepRunOptions

    public init(arguments: inout Arguments) throws {
        options = try SweepRunOptions(&arguments)
        manifestPath = try arguments.requiredPositional("manifest.json")
    }

    public func run(_ io: CommandIO) throws {
        try SweepExecution.run(manifestPath: manifestPath, storePath: nil, options: options, io: io)
    }
}

public struct SweepResumeCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "resume", abstract: "Continue a sweep: re-queue jobs whose process died, run what is pending.",
        usage: "<manifest.json> | --store PATH [--retry-failed] [--jobs N] [--data-dir DIR] [--threads N]",
        discussion: """
        With a manifest, the same as `sweep run` (new jobs of a changed manifest are added). With only --store, the
        sweeps recorded in the store are resumed from their stored jobs. A job left `running` by a dead process (pid
        gone on this host, or no heartbeat for 120 s from another host) goes back to pending. --retry-failed also
        reruns failed jobs (and the jobs skipped because of them); without it failed jobs stay failed. Only the jobs
        the (stored) manifest plans run; superseded ones are left alone (a stored manifest this build cannot plan:
        every pending job runs, with a note).
        """,
        arguments: SweepRunOptions.help(positional: ArgumentHelp("<manifest.json>", "The sweep manifest, or give --store PATH.")))

    let manifestPath: String?
    let options: SweepRunOptions

    public init(arguments: inout Arguments) throws {
        options = try SweepRunOptions(&arguments)
        manifestPath = arguments.positional()
        if manifestPath == nil && options.store == nil { throw UsageError("give a manifest or --store PATH") }
        if manifestPath == nil && options.shard != nil { throw UsageError("--shard needs the manifest (the store holds only its shard's jobs)") }
    }

    public func run(_ io: CommandIO) throws {
        try SweepExecution.run(manifestPath: manifestPath, storePath: options.store, options: options, io: io)
    }
}

struct SweepRunOptions {
    let jobs: Int?
    let store: String?
    let dataDirectory: String?
    let retryFailed: Bool
    let threads: Int?
    let shard: ShardSelector?

    init(_ arguments: inout Arguments) throws {
        shard = try arguments.option("--shard").map { try ShardSelector(parsing: $0) }
        jobs = try arguments.intOption("--jobs", range: 1...256)
        store = try arguments.option("--store")
        dataDirectory = try arguments.option("--data-dir")
        retryFailed = try arguments.flag("--retry-failed")
        threads = try arguments.intOption("--threads", range: 1...256)
    }

    static func help(positional: ArgumentHelp) -> [ArgumentHelp] {
        [positional,
         ArgumentHelp("--jobs N", "Jobs at once (default: the manifest's \"jobs\", else 1)."),
         ArgumentHelp("--store PATH", "Result store (default results/<sweep>.sqlite)."),
         ArgumentHelp("--data-dir DIR", "Data directory (else the manifest's, else $LEOPARD_DATA, else ./data)."),
         ArgumentHelp("--retry-failed", "Also rerun failed jobs (and those skipped because of them)."),
         ArgumentHelp("--threads N", "Threads of a job when --jobs is 1 (default 1; more changes the last bits)."),
         ArgumentHelp("--shard I/N", "Only shard I of N (0-based): every N-th DAG subtree (dense training and all below it).")]
    }
}

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds.rounded())
    if s < 60 { return seconds < 10 ? String(format: "%.1f s", seconds) : "\(s) s" }
    if s < 3600 { return String(format: "%d:%02d min", s / 60, s % 60) }
    return String(format: "%d:%02d:%02d h", s / 3600, (s / 60) % 60, s % 60)
}
