// Telling current jobs from superseded ones (Sweep.CurrentJobs) for `pareto`, `plot`, `reprice`, `status` and `sweep resume`,
// with the one-line notes they print on stderr (never stdout, which may carry JSON).

import Basics
import Storage
import Sweep

/// `--include-superseded`, shared by pareto, plot and reprice.
let includeSupersededHelp = ArgumentHelp(
    "--include-superseded",
    "Also use superseded jobs (done jobs the stored manifest no longer plans).")

/// CurrentJobs.load, with one stderr line per sweep whose stored manifest this build cannot plan, saying what the
/// command does instead (`fallback`, e.g. "including every job").
func loadCurrentJobs(store: ResultStore, io: CommandIO, fallback: String) throws -> CurrentJobs {
    let current = try CurrentJobs.load(store: store)
    for sweep in current.unplannable.keys.sorted() {
        let reason = current.unplannable[sweep]!.split(whereSeparator: \.isNewline).joined(separator: " ")
        io.printError("note: sweep \(sweep): this build cannot plan the stored manifest, so superseded jobs are unknown; "
                      + "\(fallback) (\(reason))")
    }
    return current
}

/// The results `pareto`, `plot` and `reprice` use: current jobs only unless `includeSuperseded`, with one stderr line saying
/// how many superseded done jobs were left out.
func loadSweepResults(store: ResultStore, sweep: String? = nil, name: String? = nil, includeSuperseded: Bool,
                      io: CommandIO) throws -> SweepResults {
    let current = includeSuperseded ? nil : try loadCurrentJobs(store: store, io: io, fallback: "including every job")
    let results = try SweepResults.load(store: store, sweep: sweep, name: name, current: current)
    if results.supersededLeftOut > 0 {
        io.printError("note: left out \(results.supersededLeftOut) superseded done job(s) (not planned by the stored manifest: "
                      + "an edited manifest or a changed preset default); --include-superseded includes them")
    }
    return results
}

/// "2 pending, 0 running, 12 done, 0 failed".
func describeStates(_ counts: [JobState: Int]) -> String {
    JobState.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
}
