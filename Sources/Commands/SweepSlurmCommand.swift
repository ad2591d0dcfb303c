// `leopard sweep slurm <manifest.json> [--shards N] [--submit [--wait]] ...`: the sweep as a Slurm job array (one
// task per shard of DAG subtrees, each into its own store) plus a merge job (Sweep.SlurmSubmission). Writes the two
// sbatch scripts; with --submit calls sbatch for both (the merge depends on the array with afterany); with --wait
// follows the jobs with squeue until they leave the queue and reports the merged store.

import Basics
import Dispatch
import Foundation
import Storage
import Sweep

public struct SweepSlurmCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "slurm", abstract: "Run a sweep on Slurm: a job array of shard stores and a merge job.",
        usage: "<manifest.json> [--shards N] [--jobs N] [--store PATH] [--data-dir DIR] [--partition P] [--time T] [--retry-failed] [--submit] [--wait] [--wait-timeout S] [--leopard PATH]",
        discussion: """
        The plan splits along its DAG subtrees (a dense training and everything below it), dealt round-robin to N
        shards; array task i runs `leopard sweep run <manifest> --shard i/N` into <store stem>.slurm/shard-i.sqlite,
        and the merge job (after the whole array, whatever its outcome) runs `leopard store merge <store> <shards>`.
        The scripts go to <store stem>.slurm/ (array.sbatch, merge.sbatch; logs in logs/). Without --submit they are
        only written, with the sbatch lines to submit them. Resubmitting resumes every shard from its store (done
        jobs are never redone) and the merge only adds what is new. Paths in the scripts are absolute: the
        binary, the manifest and the data directory must be visible at the same paths on the compute nodes.
        For a single-node cluster on this machine: scripts/slurm-cluster.sh start.
        """,
        arguments: [
            ArgumentHelp("<manifest.json>", "The sweep manifest (docs/manifest.md)."),
            ArgumentHelp("--shards N", "Array tasks (default: one per DAG subtree, at most 1,000)."),
            ArgumentHelp("--jobs N", "Concurrent jobs inside each task, also its --cpus-per-task (default 1)."),
            ArgumentHelp("--store PATH", "The merged store (default results/<sweep>.sqlite)."),
            ArgumentHelp("--data-dir DIR", "Data directory (else the manifest's, else $LEOPARD_DATA, else ./data)."),
            ArgumentHelp("--partition P", "Slurm partition (default: the cluster's default)."),
            ArgumentHelp("--time T", "Time limit per array task (Slurm format, e.g. 2:00:00)."),
            ArgumentHelp("--retry-failed", "Array tasks also rerun their failed jobs."),
            ArgumentHelp("--submit", "Submit with sbatch (else only write the scripts)."),
            ArgumentHelp("--wait", "After submitting, wait until the jobs leave the queue, then report the merged store."),
            ArgumentHelp("--wait-timeout S", "Give up waiting after S seconds (default 86400)."),
            ArgumentHelp("--leopard PATH", "The leopard binary the tasks run (default: this one)."),
            ArgumentHelp("--json", "Print one JSON object."),
        ])

    let manifestPath: String
    let shards: Int?
    let jobs: Int
    let store: String?
    let dataDirectory: String?
    let partition: String?
    let timeLimit: String?
    let retryFailed: Bool
    let submit: Bool
    let wait: Bool
    let waitTimeout: Int
    let leopard: String?
    let json: Bool

    public init(arguments: inout Arguments) throws {
        shards = try arguments.intOption("--shards", range: 1...1_000)
        jobs = try arguments.intOption("--jobs", range: 1...256) ?? 1
        store = try arguments.option("--store")
        dataDirectory = try arguments.option("--data-dir")
        partition = try arguments.option("--partition")
        timeLimit = try arguments.option("--time")
        retryFailed = try arguments.flag("--retry-failed")
        submit = try arguments.flag("--submit")
        wait = try arguments.flag("--wait")
        waitTimeout = try arguments.intOption("--wait-timeout", range: 1...10_000_000) ?? 86_400
        leopard = try arguments.option("--leopard")
        json = try arguments.flag("--json")
        manifestPath = try arguments.requiredPositional("manifest.json")
        if wait && !submit { throw UsageError("--wait needs --submit") }
    }

    public func run(_ io: CommandIO) throws {
        let manifest = try Manifest.load(path: manifestPath)
        let data = resolveDataDirectory(flag: dataDirectory, manifest: manifest, environment: io.environment)
        let plan = try SweepPlan.make(manifest, dataDirectory: data)
        let subtrees = plan.subtreeCount
        let shardCount = shards ?? max(1, min(subtrees, 1_000))
        let storePath = absolute(store ?? SweepPaths.defaultStore(sweep: manifest.name))
        let stemPath = storePath.hasSuffix(".sqlite") ? String(storePath.dropLast(7)) : storePath
        let binary = try leopard.map(absolute) ?? Self.currentExecutable()
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw UsageError("--leopard \(binary): not an executable file")
        }
        let submission = SlurmSubmission(
            sweep: manifest.name, leopard: binary, manifest: absolute(manifestPath),
            workingDirectory: FileManager.default.currentDirectoryPath, dataDirectory: absolute(data),
            finalStore: storePath, directory: stemPath + ".slurm", shards: shardCount, jobsPerShard: jobs,
            partition: partition, timeLimit: timeLimit, retryFailed: retryFailed)
        try submission.validate()
        try FileManager.default.createDirectory(atPath: submission.logDirectory, withIntermediateDirectories: true)
        for (path, text) in [(submission.arrayScriptPath, submission.arrayScript), (submission.mergeScriptPath, submission.mergeScript)] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let emptyShards = max(0, shardCount - subtrees)
        var result: [String: JSONValue] = [
            "sweep": .string(manifest.name), "jobs": JSONValue(plan.jobs.count), "subtrees": JSONValue(subtrees),
            "shards": JSONValue(shardCount), "array_script": .string(submission.arrayScriptPath),
            "merge_script": .string(submission.mergeScriptPath), "store": .string(storePath),
        ]
        if !json {
            io.print("sweep \(manifest.name): \(plan.jobs.count) jobs in \(subtrees) DAG subtree(s) → \(shardCount) array task(s)"
                     + (emptyShards > 0 ? " (\(emptyShards) with nothing to do)" : ""))
            io.print("wrote \(submission.arrayScriptPath) and \(submission.mergeScriptPath)")
        }
        guard submit else {
            if !json {
                io.print("submit with:")
                io.print("  array=$(sbatch --parsable \(shellQuote(submission.arrayScriptPath)))")
                io.print("  sbatch --dependency=afterany:${array%%;*} \(shellQuote(submission.mergeScriptPath))")
                io.print("or rerun with --submit")
            } else {
                io.printJSON(.object(result))
            }
            return
        }

        let arrayID = try Self.sbatch(["--parsable", submission.arrayScriptPath])
        let mergeID = try Self.sbatch(["--parsable", "--dependency=afterany:\(arrayID)", submission.mergeScriptPath])
        result["array_job"] = .string(arrayID)
        result["merge_job"] = .string(mergeID)
        if !json {
            io.print("submitted array job \(arrayID) (\(shardCount) task(s)) and merge job \(mergeID); logs in \(submission.logDirectory)")
            io.print("follow with: squeue -j \(arrayID),\(mergeID)   then: leopard status --store \(storePath)")
        }
        guard wait else {
            if json { io.printJSON(.object(result)) }
            return
        }

        // Wait until neither job is in the queue, then judge by the merged store.
        let started = Date()
        var lastLine = ""
        while true {
            let queued = try Self.queued(jobs: [arrayID, mergeID])
            if queued.isEmpty { break }
            if Date().timeIntervalSince(started) > Double(waitTimeout) {
                throw RuntimeError("timed out after \(waitTimeout) s waiting for Slurm jobs \(arrayID), \(mergeID); still queued: "
                                   + queued.joined(separator: ", ") + ". They keep running; check later with leopard status --store \(storePath)")
            }
            let line = "waiting for Slurm: " + queued.joined(separator: ", ")
            if line != lastLine && !json { io.printError(line); lastLine = line }
            Thread.sleep(forTimeInterval: 1)
        }
        guard FileManager.default.fileExists(atPath: storePath) else {
            throw RuntimeError("the merge job \(mergeID) ended without writing \(storePath); see \(submission.logDirectory)/merge.log")
        }
        let merged = try ResultStore(path: storePath, access: .readOnly)
        // The plan's jobs, by key: done jobs superseded by an earlier manifest do not make this one complete, and a
        // planned job whose row another sweep inserted first counts (the engine runs by the plan's keys too).
        let keys = plan.keys
        let planned = try merged.jobs().filter { keys.contains($0.key) }
        let done = planned.filter { $0.state == .done }.count, failed = planned.filter { $0.state == .failed }.count
        let total = planned.count
        result["done"] = JSONValue(done)
        result["failed"] = JSONValue(failed)
        result["total"] = JSONValue(total)
        if json { io.printJSON(.object(result)) } else {
            io.print("merged store \(storePath): \(total) jobs, \(done) done, \(failed) failed (\(formatDuration(Date().timeIntervalSince(started))) waited)")
        }
        if done < plan.jobs.count {
            throw ReportedFailure("error: \(plan.jobs.count - done) of \(plan.jobs.count) jobs are not done; see \(submission.logDirectory) "
                                  + "and leopard status --store \(storePath); resubmit to resume")
        }
    }

    func absolute(_ path: String) -> String {
        let url = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
        return url.standardizedFileURL.path
    }

    /// This process's binary (the tasks run the same build).
    static func currentExecutable() throws -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// Runs sbatch; returns the job id (`--parsable` prints `id` or `id;cluster`).
    static func sbatch(_ arguments: [String]) throws -> String {
        let out = try runTool("sbatch", arguments)
        guard let id = out.split(whereSeparator: \.isNewline).last?.split(separator: ";").first, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw RuntimeError("sbatch printed no job id: \(out)")
        }
        return String(id)
    }

    /// The job ids (array tasks as `id_i`) of `jobs` still in the queue, with their states.
    static func queued(jobs: [String]) throws -> [String] {
        try runTool("squeue", ["-h", "-j", jobs.joined(separator: ","), "-o", "%i %T"])
            .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Runs a Slurm client tool from PATH; its stdout, or an error with its stderr.
    static func runTool(_ name: String, _ arguments: [String]) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else {
            throw RuntimeError("\(name) not found on PATH: Slurm's client tools are needed (Debian: slurm-client; "
                               + "a single-node cluster here: scripts/slurm-cluster.sh start)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: stdout, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw RuntimeError("\(name) \(arguments.joined(separator: " ")) failed (exit \(process.terminationStatus)): "
                               + String(decoding: stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return text
    }
}
