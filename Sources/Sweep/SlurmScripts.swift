// The Slurm form of a sweep (DESIGN.md §3 scale-out): an sbatch job array with one task per shard (Sharding.swift),
// each running `leopard sweep run --shard i/N` into its own shard store, and a merge job that depends on the whole
// array (afterany: a shard with failed jobs still contributes its done work) and gathers the shards into the final
// store with `leopard store merge`. Resubmitting resumes every shard from its store; merging is idempotent.
// This file only writes the scripts' text; the command layer writes the files and calls sbatch.

import Basics
import Foundation

public struct SlurmSubmission: Sendable {
    public var sweep: String
    /// Absolute paths (the tasks run on other nodes, from `workingDirectory`).
    public var leopard: String
    public var manifest: String
    public var workingDirectory: String
    public var dataDirectory: String
    public var finalStore: String
    /// Where the scripts, shard stores and logs go.
    public var directory: String
    public var shards: Int
    /// Concurrent jobs inside each array task (`--jobs`), also its `--cpus-per-task`.
    public var jobsPerShard: Int
    public var partition: String?
    public var timeLimit: String?
    public var retryFailed: Bool

    public init(sweep: String, leopard: String, manifest: String, workingDirectory: String, dataDirectory: String,
                finalStore: String, directory: String, shards: Int, jobsPerShard: Int, partition: String? = nil,
                timeLimit: String? = nil, retryFailed: Bool = false) {
        self.sweep = sweep; self.leopard = leopard; self.manifest = manifest; self.workingDirectory = workingDirectory
        self.dataDirectory = dataDirectory; self.finalStore = finalStore; self.directory = directory; self.shards = shards
        self.jobsPerShard = jobsPerShard; self.partition = partition; self.timeLimit = timeLimit; self.retryFailed = retryFailed
    }

    public var arrayScriptPath: String { directory + "/array.sbatch" }
    public var mergeScriptPath: String { directory + "/merge.sbatch" }
    public var logDirectory: String { directory + "/logs" }
    public func shardStore(_ index: Int) -> String { directory + "/shard-\(index).sqlite" }

    /// `#SBATCH` lines cannot quote: paths there must not contain white space, quotes or `%` (a Slurm pattern).
    public func validate() throws {
        for (name, path) in [("the working directory", workingDirectory), ("the Slurm directory", directory)] {
            if path.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\"" || $0 == "%" || $0 == "\\" }) {
                throw UsageError("\(name) \(path) contains white space, a quote or %, which #SBATCH lines cannot carry; "
                                 + "run from (or give --store in) a plain path")
            }
        }
        if let timeLimit, timeLimit.isEmpty || timeLimit.contains(where: { !($0.isNumber || $0 == ":" || $0 == "-") }) {
            throw UsageError("--time = \(timeLimit); expected a Slurm time such as 90, 2:00:00 or 1-00:00:00")
        }
        if let partition, partition.isEmpty || partition.contains(where: { !($0.isLetter || $0.isNumber || "_-.,".contains($0)) }) {
            throw UsageError("--partition = \(partition); expected a partition name (letters, digits, _ - . ,)")
        }
    }

    private var commonHeader: [String] {
        var lines = ["#SBATCH --chdir=\(workingDirectory)"]
        if let partition { lines.append("#SBATCH --partition=\(partition)") }
        if let timeLimit { lines.append("#SBATCH --time=\(timeLimit)") }
        return lines
    }

    public var arrayScript: String {
        var lines = ["#!/bin/sh",
                     "# Written by `leopard sweep slurm`: sweep \(sweep), one array task per shard (\(shards) shard(s)).",
                     "# Each task runs its DAG subtrees into its own store; merge.sbatch gathers them into \(finalStore).",
                     "#SBATCH --job-name=leopard-\(sweep)",
                     "#SBATCH --array=0-\(shards - 1)",
                     "#SBATCH --ntasks=1",
                     "#SBATCH --cpus-per-task=\(jobsPerShard)",
                     "#SBATCH --output=\(logDirectory)/shard-%a.log"]
        lines += commonHeader
        var command = [shellQuote(leopard), "sweep", "run", shellQuote(manifest),
                       "--shard", "\"${SLURM_ARRAY_TASK_ID}/\(shards)\"",
                       "--store", shellQuote(directory + "/shard-") + "\"${SLURM_ARRAY_TASK_ID}\"" + "'.sqlite'",
                       "--jobs", String(jobsPerShard), "--data-dir", shellQuote(dataDirectory)]
        if retryFailed { command.append("--retry-failed") }
        lines += ["set -e", "exec " + command.joined(separator: " ")]
        return lines.joined(separator: "\n") + "\n"
    }

    public var mergeScript: String {
        var lines = ["#!/bin/sh",
                     "# Written by `leopard sweep slurm`: gathers the shard stores of sweep \(sweep) into \(finalStore)",
                     "# once every array task has ended (submitted with --dependency=afterany:<array job>).",
                     "#SBATCH --job-name=leopard-\(sweep)-merge",
                     "#SBATCH --ntasks=1",
                     "#SBATCH --cpus-per-task=1",
                     "#SBATCH --output=\(logDirectory)/merge.log"]
        lines += commonHeader
        lines += ["set -e",
                  "set --",
                  "i=0",
                  "while [ \"$i\" -lt \(shards) ]; do",
                  "    f=\(shellQuote(directory + "/shard-"))\"$i\".sqlite",
                  "    if [ -f \"$f\" ]; then set -- \"$@\" \"$f\"; else echo \"missing $f (its array task did not start)\" >&2; fi",
                  "    i=$((i + 1))",
                  "done",
                  "[ \"$#\" -gt 0 ] || { echo \"no shard store to merge\" >&2; exit 1; }",
                  "\(shellQuote(leopard)) store merge \(shellQuote(finalStore)) \"$@\"",
                  "exec \(shellQuote(leopard)) status --store \(shellQuote(finalStore))"]
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A word for /bin/sh: single-quoted, with embedded single quotes closed, escaped and reopened.
public func shellQuote(_ s: String) -> String {
    "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
