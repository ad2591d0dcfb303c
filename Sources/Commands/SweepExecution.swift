// Running a sweep from the command line: open the store (single writer), install the SIGINT handler, draw
// progress (a bar on a terminal, log lines otherwise), print the summary, exit 1 when any job failed. Only the jobs
// of the current plan run (the manifest's, or the stored manifest's on a resume from the store alone): superseded
// pending jobs stay pending (Sweep.CurrentJobs).

import Basics
import Dispatch
import Foundation
import Storage
import Sweep

enum SweepExecution {
    static func run(manifestPath: String?, storePath: String?, options: SweepRunOptions, io: CommandIO) throws {
        let manifest = try manifestPath.map { try Manifest.load(path: $0) }
        let path = storePath ?? options.store ?? SweepPaths.defaultStore(sweep: manifest!.name)
        let dataDirectory = resolveDataDirectory(flag: options.dataDirectory, manifest: manifest, environment: io.environment)
        let wholePlan = try manifest.map { try SweepPlan.make($0, dataDirectory: dataDirectory) }
        var plan = wholePlan
        if let shard = options.shard, let whole = plan {
            plan = whole.shard(shard.index, of: shard.count)
            io.printError("shard \(shard.index)/\(shard.count): \(plan!.subtreeCount) of \(whole.subtreeCount) DAG subtree(s)")
        }
        try SweepPaths.makeParentDirectory(of: path)
        let store = try ResultStore(path: path, access: .write())

        let jobs = options.jobs ?? manifest?.jobs ?? 1
        SweepEngine.configureThreads(jobs: jobs, requested: options.threads)
        var engineOptions = EngineOptions()
        engineOptions.jobs = jobs
        engineOptions.dataDirectory = dataDirectory
        let stop = engineOptions.stop
        let interrupts = InterruptHandler(stop: stop, io: io)
        defer { interrupts.uninstall() }
        let progress = ProgressPrinter(io: io)
        engineOptions.progress = { progress.update($0) }

        let engine = SweepEngine(store: store, options: engineOptions)
        var summaries: [SweepRunSummary] = []
        if let plan {
            io.printError("sweep \(plan.manifest.name): \(plan.jobs.count) jobs planned, store \(path), \(jobs) at a time")
            summaries.append(try engine.run(plan, retryFailed: options.retryFailed, currentKeys: wholePlan?.keys))
        } else {
            let current = try loadCurrentJobs(store: store, io: io, fallback: "running every pending job, superseded or not")
            for sweep in try store.sweepNames() {
                io.printError("resuming sweep \(sweep) from store \(path), \(jobs) at a time")
                // Without a manifest on the command line, the data directory comes from --data-dir, else the
                // stored manifest, else $LEOPARD_DATA, else ./data.
                var sweepOptions = engineOptions
                if options.dataDirectory == nil, let stored = try store.sweepManifest(name: sweep)?["dataDirectory"]?.stringValue {
                    sweepOptions.dataDirectory = stored
                }
                summaries.append(try SweepEngine(store: store, options: sweepOptions).execute(
                    sweep: sweep, retryFailed: options.retryFailed, currentKeys: current.planKeys[sweep]))
                if stop.isRequested { break }
            }
        }
        progress.finish()

        var anyFailed = false
        for s in summaries {
            io.print("sweep \(s.sweep): \(s.jobsInSweep) jobs (\(describeStates(s.states)))")
            let superseded = s.superseded.values.reduce(0, +)
            if superseded > 0 {
                io.print("  \(superseded) superseded job(s) not in the current plan left alone (\(describeStates(s.superseded)))")
            }
            var line = "this run: \(s.inserted) new job(s), \(s.succeeded) done, \(s.failedThisRun.count) failed, "
                + "\(s.skippedThisRun) skipped in \(formatDuration(s.wallSeconds))"
            if !s.requeuedStale.isEmpty { line += "; \(s.requeuedStale.count) re-queued from a dead process" }
            if !s.requeuedFailed.isEmpty { line += "; \(s.requeuedFailed.count) failed job(s) retried" }
            io.print(line)
            for f in s.failedThisRun {
                io.print("  failed \(f.kind) \(f.key.prefix(12)) (attempt \(f.attempts)): \(f.reason)")
            }
            if s.hasFailures {
                anyFailed = true
                let earlier = (s.states[.failed] ?? 0) - s.failedThisRun.count - s.skippedThisRun
                if earlier > 0 { io.print("  \(earlier) job(s) failed in earlier runs; rerun them with --retry-failed") }
            }
        }
        if stop.isRequested {
            let resume = manifestPath.map { "leopard sweep resume \($0)" } ?? "leopard sweep resume --store \(path)"
            throw ReportedFailure("interrupted: no new jobs were started; the store is consistent. Continue with: \(resume)")
        }
        if anyFailed {
            throw ReportedFailure("error: some jobs failed (see above; `leopard status --store \(path)` lists them)")
        }
    }
}

/// SIGINT: the first stops launching jobs; the second exits at once (the store stays consistent: every
/// completion is one transaction, and running jobs are re-queued by the next run).
final class InterruptHandler: @unchecked Sendable {
    private var source: DispatchSourceSignal?

    init(stop: StopSignal, io: CommandIO) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        var count = 0
        source.setEventHandler {
            count += 1
            if count == 1 {
                stop.request()
                io.printError("\ninterrupt: starting no new jobs; running ones stop at their next check and go back to pending (Ctrl-C again to quit now)")
            } else {
                io.printError("interrupt: quitting now; run `leopard sweep resume` to continue")
                _exit(130)
            }
        }
        source.resume()
        self.source = source
    }

    func uninstall() {
        source?.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

/// On a terminal: one redrawn bar `[#####-----] 12/40 done · 1 failed · 2.3 jobs/s · ETA 0:12`. Otherwise: one
/// log line per recorded outcome.
final class ProgressPrinter: @unchecked Sendable {
    private let io: CommandIO
    private var drewBar = false
    private let width = 30

    init(io: CommandIO) { self.io = io }

    func update(_ p: SweepProgress) {
        let finished = p.done + p.failed
        if io.isTerminal {
            let fraction = p.total == 0 ? 1 : Double(finished) / Double(p.total)
            let filled = Int((fraction * Double(width)).rounded(.down))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let eta = p.etaSeconds.map { formatDuration($0) } ?? "?"
            io.writeError("\r[\(bar)] \(finished)/\(p.total) · \(p.failed) failed · \(p.running) running · "
                          + String(format: "%.2f", p.rate) + " jobs/s · ETA \(eta)   ")
            drewBar = true
        } else if let event = p.event {
            io.printError("[\(finished)/\(p.total)] \(event)")
        }
    }

    func finish() {
        if drewBar { io.writeError("\n") }
    }
}
