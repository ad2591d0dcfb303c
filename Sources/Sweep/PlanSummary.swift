// `sweep plan`: jobs per stage, how many the store already has done (or failed), and an estimated cost of the
// rest from the timings stored by earlier runs (mean elapsed seconds of done jobs of the same kind and model).

import Basics
import Storage

public struct StagePlan: Sendable, Equatable {
    public let kind: JobKind
    public let planned: Int
    public let done: Int
    public let failed: Int
    /// Planned jobs still to run (absent from the store, pending, or running).
    public var remaining: Int { planned - done - failed }
    /// Estimated seconds for the remaining jobs; nil when no earlier timing exists for some of them.
    public let estimatedSeconds: Double?
    /// Remaining jobs with a timing-based estimate.
    public let estimatedJobs: Int
}

public struct PlanSummary: Sendable {
    public let sweep: String
    public let stages: [StagePlan]
    public let hardwarePoints: Int
    public let experiments: Int

    public var totalPlanned: Int { stages.reduce(0) { $0 + $1.planned } }
    public var totalDone: Int { stages.reduce(0) { $0 + $1.done } }
    /// Sum of the stage estimates that exist (a lower bound when some stage has none).
    public var estimatedSeconds: Double { stages.compactMap(\.estimatedSeconds).reduce(0, +) }

    public var json: JSONValue {
        .object([
            "sweep": .string(sweep), "experiments": JSONValue(experiments), "hardware_points": JSONValue(hardwarePoints),
            "jobs": JSONValue(totalPlanned), "done": JSONValue(totalDone), "estimated_seconds": JSONValue(estimatedSeconds),
            "stages": .array(stages.map { s in
                .object(["kind": .string(s.kind.rawValue), "planned": JSONValue(s.planned), "done": JSONValue(s.done),
                         "failed": JSONValue(s.failed), "remaining": JSONValue(s.remaining),
                         "estimated_seconds": s.estimatedSeconds.map { JSONValue($0) } ?? .null,
                         "estimated_jobs": JSONValue(s.estimatedJobs)])
            }),
        ])
    }

    /// `store` may be nil (no store yet: nothing done, no timings).
    public static func make(_ plan: SweepPlan, store: ResultStore?) throws -> PlanSummary {
        var states: [String: JobState] = [:]
        // Mean seconds per (kind, model) and per kind from every done job in the store.
        var timing: [String: (sum: Double, count: Int)] = [:]
        if let store {
            for job in try store.jobs() {
                states[job.key] = job.state
                guard job.state == .done, let elapsed = job.elapsedSeconds else { continue }
                let model = (try? JSONParser.parse(job.parametersJSON))?["model"]?.stringValue ?? ""
                for id in [job.kind + "|" + model, job.kind] {
                    timing[id, default: (0, 0)].sum += elapsed
                    timing[id, default: (0, 0)].count += 1
                }
            }
        }
        var modelOf: [String: String] = [:]
        for job in plan.jobs { if let m = job.parameters["model"]?.stringValue { modelOf[job.key] = m } }
        let stages = JobKind.allCases.map { kind -> StagePlan in
            let jobs = plan.jobs.filter { $0.kind == kind.rawValue }
            var seconds = 0.0, estimated = 0, remaining = 0
            for job in jobs where states[job.key] != .done && states[job.key] != .failed {
                remaining += 1
                let id = kind.rawValue + "|" + (modelOf[job.key] ?? "")
                if let t = timing[id] ?? (kind == .hardwareEval ? timing[kind.rawValue] : nil) {
                    seconds += t.sum / Double(t.count)
                    estimated += 1
                }
            }
            return StagePlan(kind: kind, planned: jobs.count, done: jobs.filter { states[$0.key] == .done }.count,
                             failed: jobs.filter { states[$0.key] == .failed }.count,
                             estimatedSeconds: estimated == remaining ? seconds : (estimated > 0 ? seconds : nil),
                             estimatedJobs: estimated)
        }
        return PlanSummary(sweep: plan.manifest.name, stages: stages, hardwarePoints: plan.manifest.hardwareGrid.pointCount,
                           experiments: plan.manifest.experiments.count)
    }
}
