// The engine: claims ready jobs from the store, runs up to `jobs` of them at once on worker threads, and records
// each outcome. ONE thread — the one that called `run` — owns every store call (claim, heartbeat, complete, fail),
// so the store has a single writer; workers only compute and hand back values.
//
// Exactly-once: a job's results enter the store in one transaction with its `done` state, so after a kill -9 a job
// is either done with all of its results or not done (left `running`, re-queued by the next run/resume because
// its owner process is gone). Failures are isolated: the job is `failed` with its reason and attempt count, its
// pending descendants are `failed` with `skipped: ...`, and the sweep goes on. A stop request (SIGINT) stops
// launching new jobs; running ones either finish and are recorded or, when they poll the request (training
// loops do, between steps), stop and go back to pending — the store stays consistent either way.
//
// Given the current plan's keys, the engine claims, skips, retries and counts only those jobs: jobs an edited
// manifest or a changed preset default superseded (CurrentJobs.swift) stay as they are, pending ones included.

import Basics
import Foundation
import Storage
import Tensors

/// Set from a signal handler (or a test) to stop launching jobs.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false
    public init() {}
    public func request() { lock.lock(); requested = true; lock.unlock() }
    public var isRequested: Bool { lock.lock(); defer { lock.unlock() }; return requested }
}

/// Thrown by a job that noticed the stop request and gave up; the engine puts it back to pending (not failed).
public struct JobInterrupted: LeopardError {
    public let message = "interrupted"
    public init() {}
}

public struct EngineOptions: Sendable {
    /// Jobs running at once.
    public var jobs = 1
    public var dataDirectory = "data"
    /// Seconds between heartbeats of running jobs.
    public var heartbeatSeconds = 5.0
    /// A running job owned by another host is stale after this long without a heartbeat.
    public var staleAfterSeconds = 120.0
    public var stop = StopSignal()
    /// Called on the engine thread after every recorded outcome (and at start).
    public var progress: (@Sendable (SweepProgress) -> Void)?

    public init() {}
}

public struct SweepProgress: Sendable {
    public let sweep: String
    /// Jobs of the sweep in the store.
    public let total: Int
    public let done: Int
    public let failed: Int
    public let running: Int
    /// Outcomes recorded by this run.
    public let recordedThisRun: Int
    public let elapsedSeconds: Double
    /// What just happened, for log lines ("done hw-eval 3f2a9c1b0d4e in 0.02 s").
    public let event: String?

    /// Jobs per second in this run.
    public var rate: Double { elapsedSeconds > 0 ? Double(recordedThisRun) / elapsedSeconds : 0 }
    /// Seconds left at the current rate, nil before the first outcome.
    public var etaSeconds: Double? {
        rate > 0 ? Double(max(0, total - done - failed)) / rate : nil
    }
}

public struct FailedJob: Sendable, Equatable {
    public let key: String
    public let kind: String
    public let reason: String
    public let attempts: Int
}

public struct SweepRunSummary: Sendable {
    public let sweep: String
    /// Jobs of the sweep in the current plan (every job of the sweep when run without one).
    public var jobsInSweep = 0
    /// Jobs the plan added to the store in this run (0 when rerunning a finished manifest).
    public var inserted = 0
    public var requeuedStale: [String] = []
    public var requeuedFailed: [String] = []
    public var succeeded = 0
    /// Failed in this run (their own failure, not skipped).
    public var failedThisRun: [FailedJob] = []
    public var skippedThisRun = 0
    public var interrupted = false
    public var wallSeconds = 0.0
    /// Σ of the workers' compute time for the jobs of this run (to measure orchestration overhead).
    public var jobSeconds = 0.0
    /// Per state, for the sweep's jobs in the current plan (all of them when run without one), at the end.
    public var states: [JobState: Int] = [:]
    /// Per state, the sweep's jobs outside the current plan (superseded, left alone); empty without a plan.
    public var superseded: [JobState: Int] = [:]

    public var hasFailures: Bool { (states[.failed] ?? 0) > 0 }
}

public final class SweepEngine {
    let store: ResultStore
    let options: EngineOptions

    public init(store: ResultStore, options: EngineOptions) {
        self.store = store
        self.options = options
    }

    /// BLAS and Dispatch threads per job. One, whatever `jobs` is, unless the user asks otherwise: the training
    /// engine's results differ in the last bits between 1 and 2 threads (measured: a small BERT after 5 AdamW
    /// steps), so only a fixed per-job thread count makes `--jobs 1` and `--jobs 2` give identical stores.
    /// `requested` (--threads) applies when jobs == 1 and trades that guarantee for speed.
    public static func threadsPerJob(jobs: Int, requested: Int?) -> Int {
        jobs > 1 ? 1 : max(1, requested ?? 1)
    }

    public static func configureThreads(jobs: Int, requested: Int?) {
        Compute.setThreads(threadsPerJob(jobs: jobs, requested: requested))
    }

    /// Registers the plan's sweep, inserts its new jobs, then executes the jobs of `currentKeys`: the whole
    /// manifest's plan (default: `plan`'s own keys; a shard passes its whole plan's).
    public func run(_ plan: SweepPlan, retryFailed: Bool = false, currentKeys: Set<String>? = nil) throws -> SweepRunSummary {
        try store.registerSweep(name: plan.manifest.name, manifest: plan.manifest.json)
        let inserted = try store.insertJobsIfAbsent(sweep: plan.manifest.name, plan.jobs)
        var summary = try execute(sweep: plan.manifest.name, retryFailed: retryFailed, currentKeys: currentKeys ?? plan.keys)
        summary.inserted = inserted
        return summary
    }

    /// Executes the pending (and, with `retryFailed`, failed) jobs of a sweep already in the store — only those in
    /// `currentKeys` when given (the others are superseded: never claimed, skipped or retried; counted apart).
    public func execute(sweep: String, retryFailed: Bool, currentKeys: Set<String>? = nil) throws -> SweepRunSummary {
        let start = Date()
        var summary = SweepRunSummary(sweep: sweep)
        let scope = try currentKeys.map { try store.makeKeyScope($0) }
        defer { if let scope { try? store.dropKeyScope(scope) } }
        // With a plan, its keys alone say what to run: a key is one job however many sweeps plan it, and its row
        // belongs to the sweep that inserted it first, so a sweep filter would leave another sweep's planned jobs
        // (shared with an edited sweep) pending for good. Without a plan, the sweep's own rows.
        let owner: String? = scope == nil ? sweep : nil
        summary.requeuedStale = try store.requeueStaleRunning(heartbeatTimeoutSeconds: options.staleAfterSeconds)
        if retryFailed { summary.requeuedFailed = try store.requeueFailed(sweep: owner, within: scope) }

        let completions = CompletionQueue()
        var running: [String: JobRecord] = [:]
        var lastHeartbeat = Date()
        let sharedMachine = options.jobs > 1
        var recorded = 0

        // Counted once, then kept up to date from this run's outcomes: a query per event would make a sweep of
        // n jobs cost O(n²) (paper.json has ~130,000 jobs).
        let initial = try store.stateCounts(sweep: owner, within: scope)
        let total = initial.values.reduce(0, +)
        func report(_ event: String?) throws {
            guard let progress = options.progress else { return }
            progress(SweepProgress(sweep: sweep, total: total, done: (initial[.done] ?? 0) + summary.succeeded,
                                   failed: (initial[.failed] ?? 0) + summary.failedThisRun.count + summary.skippedThisRun,
                                   running: running.count, recordedThisRun: recorded,
                                   elapsedSeconds: Date().timeIntervalSince(start), event: event))
        }
        try report(nil)

        while true {
            // Launch while there is room, work is ready and no stop was requested.
            while running.count < options.jobs, !options.stop.isRequested,
                  let job = try store.claimNextReady(sweep: owner, within: scope) {
                let inputs: JobInputs
                do {
                    inputs = try loadInputs(job)
                } catch {
                    try recordFailure(job, reason: "cannot load the inputs: " + describeError(error), scope: scope, into: &summary)
                    recorded += 1
                    try report("failed \(job.kind) \(job.key.prefix(12)): cannot load the inputs")
                    continue
                }
                running[job.key] = job
                // A job's random streams come from its seed key (SweepPlan: its key without the presets' recipes).
                var keyGenerator = SeededGenerator(key: inputs.parameters["seedKey"]?.stringValue ?? job.key)
                let environment = JobEnvironment(seed: keyGenerator.next(), dataDirectory: options.dataDirectory,
                                                 sharedMachine: sharedMachine, isCancelled: { [stop = options.stop] in stop.isRequested })
                let thread = Thread {
                    let began = Date()
                    let result = Result { try JobRunner.run(inputs, environment: environment) }
                    completions.push(Completion(key: job.key, result: result, seconds: Date().timeIntervalSince(began)))
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
            if running.isEmpty { break }

            let finished = completions.wait(timeoutSeconds: options.heartbeatSeconds)
            for completion in finished {
                guard let job = running.removeValue(forKey: completion.key) else { continue }
                summary.jobSeconds += completion.seconds
                recorded += 1
                switch completion.result {
                case .success(let output):
                    // A store error here stops the run (the store itself is failing); the jobs still running are
                    // re-queued by the next run or resume, since their owner is gone by then.
                    try store.complete(key: job.key, metrics: output.metrics, artifacts: output.artifacts)
                    summary.succeeded += 1
                    try report("done \(job.kind) \(job.key.prefix(12)) in \(String(format: "%.2f", completion.seconds)) s")
                case .failure(let error) where error is JobInterrupted:
                    _ = try store.requeueStaleRunning(heartbeatTimeoutSeconds: .infinity, ownKeysRunning: Set(running.keys))
                    try report("interrupted \(job.kind) \(job.key.prefix(12)); back to pending")
                case .failure(let error):
                    try recordFailure(job, reason: describeError(error), scope: scope, into: &summary)
                    try report("failed \(job.kind) \(job.key.prefix(12)): \(describeError(error))")
                }
            }
            if Date().timeIntervalSince(lastHeartbeat) >= options.heartbeatSeconds {
                for key in running.keys { try store.heartbeat(key: key) }
                lastHeartbeat = Date()
            }
        }
        summary.interrupted = options.stop.isRequested
        summary.states = try store.stateCounts(sweep: owner, within: scope)
        summary.jobsInSweep = summary.states.values.reduce(0, +)
        if scope != nil {
            // The sweep's own rows outside its plan (left alone by this run).
            let all = try store.stateCounts(sweep: sweep), ownCurrent = try store.stateCounts(sweep: sweep, within: scope)
            summary.superseded = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, (all[$0] ?? 0) - (ownCurrent[$0] ?? 0)) })
        }
        summary.wallSeconds = Date().timeIntervalSince(start)
        return summary
    }

    private func recordFailure(_ job: JobRecord, reason: String, scope: JobKeyScope?, into summary: inout SweepRunSummary) throws {
        try store.fail(key: job.key, reason: reason)
        summary.failedThisRun.append(FailedJob(key: job.key, kind: job.kind, reason: reason, attempts: job.attempts))
        let skipped = try store.failPendingDescendants(
            of: job.key, reason: "skipped: its \(job.kind) ancestor \(job.key.prefix(12)) failed: \(reason)", within: scope)
        summary.skippedThisRun += skipped.count
    }

    /// The job's parameters and what it reads from its parent (read on the engine thread).
    func loadInputs(_ job: JobRecord) throws -> JobInputs {
        let parameters = try JSONParser.parse(job.parametersJSON)
        var artifacts: [String: [UInt8]] = [:]
        var metrics: [String: Double] = [:]
        if let parent = job.parentKey, let kind = JobKind(rawValue: job.kind) {
            for artifactKind in JobRunner.parentArtifactKinds(for: kind, parameters: parameters) {
                artifacts[artifactKind] = try store.artifact(key: parent, kind: artifactKind)
            }
            metrics = try store.metrics(key: parent)
        }
        return JobInputs(record: job, parameters: parameters, parentArtifacts: artifacts, parentMetrics: metrics)
    }
}

struct Completion: Sendable {
    let key: String
    let result: Result<JobOutput, any Error>
    let seconds: Double
}

/// Workers push outcomes; the engine thread waits for them (with a timeout, to send heartbeats).
final class CompletionQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Completion] = []

    func push(_ completion: Completion) {
        condition.lock()
        items.append(completion)
        condition.signal()
        condition.unlock()
    }

    func wait(timeoutSeconds: Double) -> [Completion] {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        while items.isEmpty {
            if !condition.wait(until: deadline) { break }
        }
        let taken = items
        items.removeAll()
        return taken
    }
}
