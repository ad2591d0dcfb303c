// `leopard store inspect <path> [--json] [--verify]`: what a result store holds, for people and scripts.
// `leopard store merge <into> <shard>... [--json]`: gathers shard stores (one per Slurm array task) into one.

import Basics
import Foundation
import Storage

public struct StoreCommand: CommandGroup {
    public static let configuration = CommandConfiguration(
        name: "store", abstract: "Inspect and merge result stores (SQLite + zstd).",
        subcommands: [StoreInspectCommand.self, StoreMergeCommand.self])
}

public struct StoreInspectCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "inspect",
        abstract: "Print a store's schema version, rows per table, jobs per state and artifact bytes (raw vs compressed).",
        usage: "<path> [--json] [--verify]",
        discussion: """
        The store is opened read-only, so this works while a sweep is writing it. --verify also runs SQLite's
        integrity check and reads back every artifact, checking its size and SHA-256; any problem exits 1.
        """,
        arguments: [
            ArgumentHelp("<path>", "The store file, e.g. results/quickstart.sqlite."),
            ArgumentHelp("--json", "Print one JSON object (snake_case keys) instead of text."),
            ArgumentHelp("--verify", "Check the file's integrity and every artifact's checksum."),
        ])

    let path: String
    let json: Bool
    let verify: Bool

    public init(arguments: inout Arguments) throws {
        json = try arguments.flag("--json")
        verify = try arguments.flag("--verify")
        path = try arguments.requiredPositional("path")
    }

    public func run(_ io: CommandIO) throws {
        let store = try ResultStore(path: path, access: .readOnly)
        let summary = try store.summary()
        let verification = verify ? try store.verify() : nil
        if json {
            var object = summary.json.objectValue ?? [:]
            if let verification {
                object["verification"] = .object([
                    "integrity": .array(verification.integrity.map { .string($0) }),
                    "artifacts_checked": JSONValue(verification.artifactsChecked),
                    "artifact_problems": .array(verification.artifactProblems.map { .string($0) }),
                    "sound": .bool(verification.isSound),
                ])
            }
            io.printJSON(.object(object))
        } else {
            io.print(Self.text(summary))
            if let verification {
                io.print("integrity:      \(verification.integrity.joined(separator: "; "))")
                io.print("artifacts:      \(verification.artifactsChecked) checked, \(verification.artifactProblems.count) corrupt")
            }
        }
        if let verification, !verification.isSound {
            for problem in verification.artifactProblems { io.printError("error: \(problem)") }
            let firstIntegrityProblem = verification.integrity == ["ok"] ? nil : verification.integrity.first
            throw ReportedFailure(firstIntegrityProblem.map { "error: \(path): integrity check failed: \($0)" }
                                  ?? "error: \(path): \(verification.artifactProblems.count) corrupt artifact(s)")
        }
    }

    static func text(_ s: StoreSummary) -> String {
        let tables = ["sweeps", "jobs", "artifacts", "metrics"].map { "\($0) \(s.rowsPerTable[$0] ?? 0)" }
        let states = JobState.allCases.map { "\($0.rawValue) \(s.jobsPerState[$0] ?? 0)" }
        return """
        store:          \(s.path)
        schema version: \(s.schemaVersion)
        file size:      \(s.fileBytes) bytes
        rows:           \(tables.joined(separator: ", "))
        jobs:           \(states.joined(separator: ", "))
        artifact bytes: \(s.artifactRawBytes) raw, \(s.artifactStoredBytes) compressed (\(String(format: "%.2f", s.compressionRatio))×)
        """
    }
}

public struct StoreMergeCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "merge",
        abstract: "Merge shard stores into one store: jobs it lacks, and done results for jobs it has not finished.",
        usage: "<into> <shard>... [--json]",
        discussion: """
        <into> is created if missing and locked for writing. A job already done in <into> is never changed, so
        merging the same shard twice changes nothing. Artifacts are copied as stored and verified when read.
        """,
        arguments: [
            ArgumentHelp("<into>", "The store to merge into."),
            ArgumentHelp("<shard>...", "One or more shard stores (read only)."),
            ArgumentHelp("--json", "Print one JSON object with a report per shard."),
        ])

    let into: String
    let shards: [String]
    let json: Bool

    public init(arguments: inout Arguments) throws {
        json = try arguments.flag("--json")
        into = try arguments.requiredPositional("into")
        var shards: [String] = []
        while let shard = arguments.positional() { shards.append(shard) }
        guard !shards.isEmpty else { throw UsageError("missing argument <shard>: give at least one shard store") }
        self.shards = shards
    }

    public func run(_ io: CommandIO) throws {
        let store = try ResultStore(path: into, access: .write())
        var reports: [MergeReport] = []
        for shard in shards { reports.append(try store.merge(shardAt: shard)) }
        if json {
            io.printJSON(.object([
                "into": .string(into),
                "shards": .array(reports.map { r in
                    .object([
                        "shard": .string(r.shard), "sweeps_added": JSONValue(r.sweepsAdded), "jobs_added": JSONValue(r.jobsAdded),
                        "jobs_completed_from_shard": JSONValue(r.jobsCompletedFromShard),
                        "metrics_copied": JSONValue(r.metricsCopied), "artifacts_copied": JSONValue(r.artifactsCopied),
                        "manifests_replaced": JSONValue(r.manifestsReplaced),
                    ])
                }),
            ]))
        } else {
            for r in reports {
                io.print("\(r.shard): \(r.jobsAdded) jobs added, \(r.jobsCompletedFromShard) completed from the shard, "
                         + "\(r.metricsCopied) metrics, \(r.artifactsCopied) artifacts, \(r.sweepsAdded) sweeps"
                         + (r.manifestsReplaced > 0 ? ", \(r.manifestsReplaced) sweep manifest(s) replaced by the shard's later one" : ""))
            }
        }
    }
}
