// Current and superseded jobs. A store keeps every job ever planned for a sweep, but only its latest manifest
// (`registerSweep` replaces it). Keys hash a job's inputs, the presets' built-in defaults (`recipe`) included, so
// after an edited manifest or a changed default the re-planned jobs have new keys and the old ones stay. A job is
// *superseded* when it belongs to a sweep whose stored manifest, planned with this build (`SweepPlan.make`, the
// same planning as `sweep plan|run`), no longer produces its key. Pareto and plots leave superseded results out
// unless asked, `status` counts them, and the engine never runs them; nothing ever deletes or changes them.
//
// A sweep whose stored manifest this build cannot plan (a preset it lacks, a manifest field it no longer knows)
// has no known plan: all of its jobs count as current, as before this distinction existed.

import Basics
import Storage

public struct CurrentJobs: Sendable {
    /// Sweep → the keys its stored manifest plans; absent for sweeps in `unplannable`.
    public let planKeys: [String: Set<String>]
    /// Sweep → why its stored manifest could not be planned (every job of such a sweep counts as current).
    public let unplannable: [String: String]

    public init(planKeys: [String: Set<String>], unplannable: [String: String]) {
        self.planKeys = planKeys
        self.unplannable = unplannable
    }

    /// Plans the stored manifest of every sweep in `store`. Store errors propagate; a manifest that does not plan
    /// is recorded in `unplannable`.
    public static func load(store: ResultStore) throws -> CurrentJobs {
        var keys: [String: Set<String>] = [:]
        var unplannable: [String: String] = [:]
        for sweep in try store.sweepNames() {
            guard let json = try store.sweepManifest(name: sweep) else { continue }
            do {
                keys[sweep] = try plan(storedManifest: json, sweep: sweep, store: store.path).keys
            } catch {
                unplannable[sweep] = describeError(error)
            }
        }
        return CurrentJobs(planKeys: keys, unplannable: unplannable)
    }

    /// The plan of a sweep's stored manifest. The data directory enters no key (a data set's identity is its task
    /// and loader version), so any will do; checkpoint folders (`init`) are not read, only their paths are keyed.
    public static func plan(storedManifest json: JSONValue, sweep: String, store path: String) throws -> SweepPlan {
        let manifest = try Manifest(reader: JSONReader(json, file: "\(path): the stored manifest of sweep \(sweep)"))
        return try SweepPlan.make(manifest, dataDirectory: manifest.dataDirectory ?? "data", checkingInitFolders: false)
    }

    /// True when `job`'s sweep has a known plan, that plan lacks the job's key, and no other sweep's plan has it
    /// either (a key is one job however many sweeps plan it; its row names the sweep that inserted it first).
    public func isSuperseded(_ job: JobRecord) -> Bool {
        guard let keys = planKeys[job.sweep], !keys.contains(job.key) else { return false }
        return !planKeys.values.contains { $0.contains(job.key) }
    }

    /// Superseded jobs per state (every state present, zero included) among `jobs`.
    public func supersededCounts(_ jobs: [JobRecord]) -> [JobState: Int] {
        var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
        for job in jobs where isSuperseded(job) { counts[job.state, default: 0] += 1 }
        return counts
    }
}
