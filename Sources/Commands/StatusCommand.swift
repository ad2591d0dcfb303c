// `leopard status [--store PATH] [--json]`: where a sweep stands — jobs per kind and state, failures with their
// reasons and attempts, running jobs with their owner and heartbeat age, and how many jobs per state are
// superseded (Sweep.CurrentJobs). Read-only: works while a sweep runs.

import Basics
import Foundation
import Storage
import Sweep

public struct StatusCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "status", abstract: "Show a sweep's jobs per stage and state, failures and running jobs.",
        usage: "[--store PATH] [--json]",
        discussion: """
        The table counts every job of the sweep. Jobs the stored manifest no longer plans with this build (left by a
        manifest edit or a changed preset default) are also counted apart, per state, as superseded: pareto and plot
        leave them out and sweep run/resume never runs them (JSON: "superseded", null when this build cannot plan
        the stored manifest).
        """,
        arguments: [
            ArgumentHelp("--store PATH", "Result store (default: the only results/*.sqlite)."),
            ArgumentHelp("--json", "Print one JSON object."),
        ])

    let store: String?
    let json: Bool

    public init(arguments: inout Arguments) throws {
        store = try arguments.option("--store")
        json = try arguments.flag("--json")
    }

    public func run(_ io: CommandIO) throws {
        let path = try SweepPaths.resolveStore(store)
        let store = try ResultStore(path: path, access: .readOnly)
        let now = Date().timeIntervalSince1970
        let current = try loadCurrentJobs(store: store, io: io, fallback: "counting no job as superseded")
        var sweepsJSON: [JSONValue] = []
        for sweep in try store.sweepNames() {
            let jobs = try store.jobs(sweep: sweep)
            // nil when the stored manifest cannot be planned (superseded jobs unknown).
            let superseded = current.planKeys[sweep] == nil ? nil : current.supersededCounts(jobs)
            let supersededTotal = superseded?.values.reduce(0, +) ?? 0
            var perKind: [String: [JobState: Int]] = [:]
            for job in jobs { perKind[job.kind, default: [:]][job.state, default: 0] += 1 }
            let kinds = JobKind.allCases.map(\.rawValue).filter { perKind[$0] != nil } + perKind.keys.filter { JobKind(rawValue: $0) == nil }.sorted()
            let failed = jobs.filter { $0.state == .failed }
            let running = jobs.filter { $0.state == .running }
            if json {
                sweepsJSON.append(.object([
                    "sweep": .string(sweep), "jobs": JSONValue(jobs.count),
                    "states": .object(Dictionary(uniqueKeysWithValues: JobState.allCases.map { s in
                        (s.rawValue, JSONValue(jobs.filter { $0.state == s }.count)) })),
                    "superseded": superseded.map { counts in
                        .object(["jobs": JSONValue(supersededTotal), "states": .object(Dictionary(uniqueKeysWithValues: JobState.allCases.map {
                            ($0.rawValue, JSONValue(counts[$0] ?? 0)) }))])
                    } ?? .null,
                    "kinds": .object(Dictionary(uniqueKeysWithValues: kinds.map { k in
                        (k, JSONValue.object(Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0.rawValue, JSONValue(perKind[k]?[$0] ?? 0)) })))
                    })),
                    "failed": .array(failed.map { j in
                        ["key": .string(j.key), "kind": .string(j.kind), "attempts": JSONValue(j.attempts), "error": .string(j.error ?? "")]
                    }),
                    "running": .array(running.map { j in
                        ["key": .string(j.key), "kind": .string(j.kind), "owner_pid": JSONValue(Int(j.ownerPID ?? 0)),
                         "owner_host": .string(j.ownerHost ?? ""), "heartbeat_age_s": JSONValue(now - (j.heartbeatAt ?? now))]
                    }),
                ]))
                continue
            }
            io.print("sweep \(sweep) (\(path)): \(jobs.count) jobs" + (supersededTotal > 0 ? ", \(supersededTotal) superseded" : ""))
            io.print("  " + pad("stage", 15) + JobState.allCases.map { pad($0.rawValue, 9) }.joined())
            for kind in kinds {
                io.print("  " + pad(kind, 15) + JobState.allCases.map { pad("\(perKind[kind]?[$0] ?? 0)", 9) }.joined())
            }
            if let superseded, supersededTotal > 0 {
                io.print("  superseded (not planned by the stored manifest; left out of pareto and plot, never run): "
                         + describeStates(superseded))
            }
            for j in running {
                io.print("  running \(j.kind) \(j.key.prefix(12)): pid \(j.ownerPID ?? 0) on \(j.ownerHost ?? "?"), "
                         + "heartbeat \(formatDuration(now - (j.heartbeatAt ?? now))) ago")
            }
            let own = failed.filter { !($0.error ?? "").hasPrefix("skipped:") }
            for j in own.prefix(20) {
                io.print("  failed \(j.kind) \(j.key.prefix(12)) after \(j.attempts) attempt(s): \(j.error ?? "")")
            }
            if own.count > 20 { io.print("  ... and \(own.count - 20) more failed") }
            let skipped = failed.count - own.count
            if skipped > 0 { io.print("  \(skipped) job(s) skipped because an ancestor failed") }
        }
        if json { io.printJSON(["store": .string(path), "sweeps": .array(sweepsJSON)]) }
    }
}
