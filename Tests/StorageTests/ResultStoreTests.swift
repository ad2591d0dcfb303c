// The result store as the sweep engine uses it: sweeps, idempotent job insertion, claim → heartbeat → complete |
// fail, retry, re-queueing jobs of dead owners, metrics, verified artifacts, the views and the summary.

import Basics
import Foundation
import Testing
@testable import Storage

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    var seconds: Double = 1_700_000_000
    func advance(_ delta: Double) { seconds += delta }
}

private func makeStore(_ dir: TemporaryDirectory, clock: ManualClock = ManualClock()) throws -> ResultStore {
    try ResultStore(path: dir.file("store.sqlite"), access: .write(), clock: { clock.seconds })
}

private func chain(_ prefix: String) -> [JobSpec] {
    [
        JobSpec(key: "\(prefix)-dense", kind: "dense-train", parentKey: nil, parameters: ["model": "memn2n"]),
        JobSpec(key: "\(prefix)-ft", kind: "finetune", parentKey: "\(prefix)-dense", parameters: ["lambda": 0.01]),
        JobSpec(key: "\(prefix)-trace", kind: "capture-trace", parentKey: "\(prefix)-ft", parameters: [:]),
        JobSpec(key: "\(prefix)-hw", kind: "hw-eval", parentKey: "\(prefix)-trace", parameters: ["qkUnits": 4]),
    ]
}

@Suite struct ResultStoreTests {
    @Test func aNewStoreHasSchemaV1AndIsEmpty() throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        let summary = try store.summary()
        #expect(summary.schemaVersion == 1)
        #expect(summary.rowsPerTable == ["sweeps": 0, "jobs": 0, "artifacts": 0, "metrics": 0])
        #expect(summary.jobsPerState == [.pending: 0, .running: 0, .done: 0, .failed: 0])
        #expect(try store.integrityCheck() == ["ok"])
        #expect(try store.database.scalar("PRAGMA journal_mode") == .text("wal"))
    }

    @Test func registeringASweepIsIdempotentAndTracksManifestChanges() throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        #expect(try store.registerSweep(name: "s", manifest: ["lambdas": [0.1, 0.2]]) == .created)
        #expect(try store.registerSweep(name: "s", manifest: ["lambdas": [0.1, 0.2]]) == .unchanged)
        #expect(try store.registerSweep(name: "s", manifest: ["lambdas": [0.1, 0.2, 0.3]]) == .updated)
        #expect(try store.sweepManifest(name: "s") == ["lambdas": [0.1, 0.2, 0.3]])
        #expect(try store.sweepNames() == ["s"])
    }

    @Test func insertingJobsTwiceAddsNothing() throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        try store.registerSweep(name: "s", manifest: [:])
        #expect(try store.insertJobsIfAbsent(sweep: "s", chain("a")) == 4)
        #expect(try store.insertJobsIfAbsent(sweep: "s", chain("a") + chain("b")) == 4)
        #expect(try store.jobs().count == 8)
        #expect(try store.jobs(state: .pending, kind: "hw-eval").map(\.key) == ["a-hw", "b-hw"])
        let job = try #require(try store.job(key: "a-ft"))
        #expect(job.parentKey == "a-dense" && job.state == .pending && job.attempts == 0)
        #expect(job.parametersJSON == #"{"lambda":0.01}"#)
    }

    @Test func aJobWithAnUnknownParentIsRejectedAndNothingOfTheBatchIsWritten() throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        try store.registerSweep(name: "s", manifest: [:])
        let orphan = JobSpec(key: "x", kind: "finetune", parentKey: "missing", parameters: [:])
        #expect(throws: SQLiteError.self) { try store.insertJobsIfAbsent(sweep: "s", chain("a") + [orphan]) }
        #expect(try store.jobs().isEmpty)
    }

    @Test func claimHeartbeatCompleteRecordsEverything() throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock)
        try store.registerSweep(name: "s", manifest: [:])
        try store.insertJobsIfAbsent(sweep: "s", chain("a"))

        // Only the root is ready; children wait for their parent to be done.
        let claimed = try #require(try store.claimNextReady(sweep: "s"))
        #expect(claimed.key == "a-dense" && claimed.state == .running && claimed.attempts == 1)
        #expect(claimed.ownerPID == getpid() && claimed.ownerHost == ProcessIdentity.hostName)
        #expect(try store.claimNextReady(sweep: "s") == nil)

        clock.advance(5)
        #expect(try store.heartbeat(key: "a-dense"))
        #expect(try store.job(key: "a-dense")?.heartbeatAt == clock.seconds)
        clock.advance(2.5)
        let checkpoint = sampleBytes(count: 50_000, seed: 11, alphabet: 8)
        try store.complete(key: "a-dense", metrics: [("accuracy", 0.93), ("loss", 0.21)],
                           artifacts: [ArtifactInput(kind: "checkpoint", bytes: checkpoint)])
        let done = try #require(try store.job(key: "a-dense"))
        #expect(done.state == .done && done.elapsedSeconds == 7.5 && done.finishedAt == clock.seconds)
        #expect(try store.metrics(key: "a-dense") == ["accuracy": 0.93, "loss": 0.21])
        #expect(try store.artifact(key: "a-dense", kind: "checkpoint") == checkpoint)
        #expect(try store.artifact(key: "a-dense", kind: "trace") == nil)
        let info = try store.artifactInfos(key: "a-dense")
        #expect(info.count == 1 && info[0].rawBytes == 50_000 && info[0].storedBytes < 50_000 && info[0].codec == "zstd")
        #expect(info[0].sha256 == SHA256.hexDigest(checkpoint))

        // Now the child is ready, and heartbeats on a finished job report that it is no longer ours.
        #expect(try store.claimNextReady(sweep: "s")?.key == "a-ft")
        #expect(try store.heartbeat(key: "a-dense") == false)
    }

    @Test func invalidTransitionsChangeNothingAndSayWhy() throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        try store.registerSweep(name: "s", manifest: [:])
        try store.insertJobsIfAbsent(sweep: "s", chain("a"))
        #expect(throws: StoreError.invalidTransition(file: store.path, key: "a-dense", from: "pending", to: "done")) {
            try store.complete(key: "a-dense", metrics: [("accuracy", 1)])
        }
        #expect(try store.metrics(key: "a-dense").isEmpty)
        #expect(throws: StoreError.unknownJob(file: store.path, key: "nope")) { try store.claim(key: "nope") }
        try store.claim(key: "a-dense")
        #expect(throws: StoreError.invalidTransition(file: store.path, key: "a-dense", from: "running", to: "running")) {
            try store.claim(key: "a-dense")
        }
        // Only the claiming process may complete or fail a job.
        try Database(path: store.path).run("UPDATE jobs SET owner_pid = 999999 WHERE key = 'a-dense'")
        let error = #expect(throws: StoreError.self) { try store.complete(key: "a-dense", metrics: [("accuracy", 1)]) }
        #expect(error?.message.contains("running under pid 999999") == true, "\(String(describing: error))")
        #expect(throws: StoreError.self) { try store.fail(key: "a-dense", reason: "x") }
        #expect(try store.job(key: "a-dense")?.state == .running)
        #expect(try store.metrics(key: "a-dense").isEmpty)
    }

    @Test func failureSkipsDescendantsAndRetryRequeuesFailedJobs() throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        try store.registerSweep(name: "s", manifest: [:])
        try store.insertJobsIfAbsent(sweep: "s", chain("a") + chain("b"))
        try store.claim(key: "a-dense")
        try store.fail(key: "a-dense", reason: "loss diverged at step 120 (NaN in attention.wq)")
        let skipped = try store.failPendingDescendants(of: "a-dense", reason: "skipped: parent a-dense failed")
        #expect(skipped == ["a-ft", "a-trace", "a-hw"])
        #expect(try store.job(key: "a-dense")?.error == "loss diverged at step 120 (NaN in attention.wq)")
        #expect(try store.jobs(state: .failed).count == 4)
        #expect(try store.jobs(state: .pending).map(\.key) == ["b-dense", "b-ft", "b-trace", "b-hw"])

        let retried = try store.requeueFailed(sweep: "s")
        #expect(retried.count == 4)
        let again = try store.claim(key: "a-dense")
        #expect(again.attempts == 2 && again.error == nil)
    }

    @Test func runningJobsOfDeadOwnersAreRequeued() throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock)
        try store.registerSweep(name: "s", manifest: [:])
        let specs = (0..<4).map { JobSpec(key: "j\($0)", kind: "hw-eval", parentKey: nil, parameters: [:]) }
        try store.insertJobsIfAbsent(sweep: "s", specs)
        for spec in specs { try store.claim(key: spec.key) }
        // Rewrite owners as a dead local pid, a live local pid, a remote host with an old and a fresh heartbeat.
        let db = try Database(path: store.path)
        let host = ProcessIdentity.hostName
        try db.run("UPDATE jobs SET owner_pid = 999999, owner_host = ? WHERE key = 'j0'", [.text(host)])
        try db.run("UPDATE jobs SET owner_pid = 1, owner_host = ? WHERE key = 'j1'", [.text(host)])
        try db.run("UPDATE jobs SET owner_pid = 5, owner_host = 'elsewhere', heartbeat_at = ? WHERE key = 'j2'", [.real(clock.seconds - 600)])
        try db.run("UPDATE jobs SET owner_pid = 5, owner_host = 'elsewhere', heartbeat_at = ? WHERE key = 'j3'", [.real(clock.seconds - 10)])
        let requeued = try store.requeueStaleRunning(heartbeatTimeoutSeconds: 120, isAlive: { $0 == 1 })
        #expect(requeued == ["j0", "j2"])
        #expect(try store.jobs(state: .running).map(\.key) == ["j1", "j3"])
        #expect(try store.job(key: "j0")?.error?.contains("999999") == true)
    }

    @Test func ownJobsNotRunningAnyMoreAreRequeuedToo() throws {
        // After a SIGINT or a worker thread's death, this very process may hold `running` jobs it no longer runs.
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        try store.registerSweep(name: "s", manifest: [:])
        try store.insertJobsIfAbsent(sweep: "s", [JobSpec(key: "a", kind: "k", parentKey: nil, parameters: [:]),
                                                  JobSpec(key: "b", kind: "k", parentKey: nil, parameters: [:])])
        try store.claim(key: "a")
        try store.claim(key: "b")
        #expect(try store.requeueStaleRunning(heartbeatTimeoutSeconds: 60, ownKeysRunning: ["b"]) == ["a"])
    }

    @Test func metricsAreUniquePerJobAndNameAndNaNSurvives() throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        try store.registerSweep(name: "s", manifest: [:])
        try store.insertJobsIfAbsent(sweep: "s", [JobSpec(key: "a", kind: "k", parentKey: nil, parameters: [:])])
        try store.recordMetrics(key: "a", [("x", 1), ("y", .nan)])
        try store.recordMetrics([(key: "a", name: "x", value: 2), (key: "a", name: "z", value: -.infinity)])
        let metrics = try store.metrics(key: "a")
        #expect(metrics.count == 3 && metrics["x"] == 2 && metrics["y"]!.isNaN && metrics["z"] == -.infinity)
        #expect(try store.summary().rowsPerTable["metrics"] == 3)
    }

    @Test func theHardwarePointsViewPivotsMetricsFromTheJobAndItsAncestors() throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        try store.registerSweep(name: "s", manifest: [:])
        try store.insertJobsIfAbsent(sweep: "s", chain("a"))
        for (key, metrics) in [("a-dense", [("accuracy", 0.95)]),
                               ("a-ft", [("accuracy", 0.94), ("prune_rate", 0.7)]),
                               ("a-trace", []),
                               ("a-hw", [("speedup", 2.5), ("energy_reduction", 3.1)])] as [(String, [(name: String, value: Double)])] {
            try store.claim(key: key)
            try store.complete(key: key, metrics: metrics)
        }
        let rows = try store.rows("SELECT job_key, finetune_key, accuracy, prune_rate, speedup, energy_reduction, cycles FROM hardware_points")
        #expect(rows == [[.text("a-hw"), .text("a-ft"), .real(0.94), .real(0.7), .real(2.5), .real(3.1), .null]])
        let results = try store.jobResults(kind: "hw-eval")
        #expect(results.count == 1 && results[0].job.key == "a-hw")
        #expect(results[0].metrics == ["speedup": 2.5, "energy_reduction": 3.1])
        #expect(try store.jobResults().map { $0.metrics.count } == [1, 2, 0, 2])
        #expect(try store.jobResults(state: .pending).isEmpty)
        let summary = try store.rows("SELECT kind, state, jobs FROM job_summary ORDER BY kind")
        #expect(summary.count == 4 && summary.allSatisfy { $0[1] == .text("done") && $0[2] == .integer(1) })
    }

    @Test func theViewsAnswerInTheSqlite3CLIWhileTheWriterHasTheStoreOpen() throws {
        guard let sqlite3 = which("sqlite3") else { print("SKIP: sqlite3 CLI not installed (apt-get install sqlite3)"); return }
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        try store.registerSweep(name: "s", manifest: [:])
        try store.insertJobsIfAbsent(sweep: "s", chain("a"))
        for (key, metrics) in [("a-dense", []), ("a-ft", [("accuracy", 0.875), ("prune_rate", 0.5)]), ("a-trace", []),
                               ("a-hw", [("speedup", 2.25)])] as [(String, [(name: String, value: Double)])] {
            try store.claim(key: key)
            try store.complete(key: key, metrics: metrics)
        }
        let result = try runTool(sqlite3, ["-readonly", "-csv", store.path,
                                           "SELECT job_key, accuracy, prune_rate, speedup FROM hardware_points; SELECT kind, jobs FROM job_summary ORDER BY kind;"])
        #expect(result.status == 0)
        #expect(String(decoding: result.stdout, as: UTF8.self)
                == "a-hw,0.875,0.5,2.25\ncapture-trace,1\ndense-train,1\nfinetune,1\nhw-eval,1\n")
    }

    @Test func summaryCountsRowsStatesAndArtifactBytes() throws {
        let dir = try TemporaryDirectory()
        let store = try makeStore(dir)
        try store.registerSweep(name: "s", manifest: [:])
        try store.insertJobsIfAbsent(sweep: "s", chain("a"))
        try store.claim(key: "a-dense")
        try store.complete(key: "a-dense", metrics: [("accuracy", 0.9)],
                           artifacts: [ArtifactInput(kind: "checkpoint", bytes: [UInt8](repeating: 7, count: 100_000)),
                                       ArtifactInput(kind: "log", bytes: Array("hello".utf8))])
        try store.claim(key: "a-ft")
        let summary = try store.summary()
        #expect(summary.rowsPerTable == ["sweeps": 1, "jobs": 4, "artifacts": 2, "metrics": 1])
        #expect(summary.jobsPerState == [.pending: 2, .running: 1, .done: 1, .failed: 0])
        #expect(summary.artifactCount == 2 && summary.artifactRawBytes == 100_005)
        #expect(summary.artifactStoredBytes > 0 && summary.artifactStoredBytes < 1_000)
        #expect(summary.fileBytes > 0)
        let json = CanonicalJSON.encode(summary.json)
        #expect(json.contains(#""jobs":{"done":1,"failed":0,"pending":2,"running":1}"#))
        #expect(json.contains(#""raw_bytes":100005"#))
    }

    @Test func aReadOnlyStoreReadsButRefusesWrites() throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try makeStore(dir)
            try store.registerSweep(name: "s", manifest: [:])
        }
        let reader = try ResultStore(path: dir.file("store.sqlite"), access: .readOnly)
        #expect(try reader.sweepNames() == ["s"])
        #expect(throws: StoreError.notWritable(file: reader.path, detail: "the store was opened read-only")) {
            try reader.registerSweep(name: "t", manifest: [:])
        }
    }

    @Test func readersWorkWhileTheWriterHoldsATransaction() throws {
        let dir = try TemporaryDirectory()
        let writer = try makeStore(dir)
        try writer.registerSweep(name: "s", manifest: [:])
        let reader = try ResultStore(path: dir.file("store.sqlite"), access: .readOnly)
        try writer.database.transaction {
            try writer.database.run("INSERT INTO sweeps VALUES ('t', '{}', 'x', 2e9, 2e9)")
            // WAL: the reader sees the last committed state, without waiting for the writer.
            #expect(try reader.sweepNames() == ["s"])
        }
        #expect(try reader.sweepNames() == ["s", "t"])
    }
}
