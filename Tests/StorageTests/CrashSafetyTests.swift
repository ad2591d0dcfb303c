// Crash safety with real processes: a child (store-crash-writer) completes jobs — each with its metrics and an
// artifact in one transaction — and is killed with SIGKILL at random moments. After every kill the store must
// open, pass `PRAGMA integrity_check`, hold every committed job whole (all metrics, a verifiable artifact) and show
// nothing of an uncommitted one; the dead child's running job must be re-queued.

import Basics
import Foundation
import Testing
@testable import Storage

@Suite(.serialized) struct CrashSafetyTests {
    @Test func sigkillAtRandomMomentsNeverLeavesPartialResults() throws {
        guard let writer = crashWriterBinary() else { return }
        let dir = try TemporaryDirectory()
        let path = dir.file("crash.sqlite")
        var generator = SeededGenerator(seed: 20_261_204)
        var doneAfterKill: [Int] = []
        var runsWithProgress = 0

        for run in 0..<12 {
            let child = Process()
            child.executableURL = writer
            child.arguments = ["write", path, String(run)]
            let output = Pipe()
            child.standardOutput = output
            child.standardError = FileHandle.nullDevice
            try child.run()
            let whileOpening = run % 6 == 5
            if whileOpening {
                // Two of the kills land while the child opens the store (WAL recovery of the previous kill).
                usleep(UInt32(generator.nextInt(below: 30_000)))
            } else {
                // The others 20–320 ms into writing, which is mostly spent inside transactions.
                #expect(output.fileHandleForReading.availableLine() == "ready", "run \(run)")
                usleep(UInt32(20_000 + generator.nextInt(below: 300_000)))
            }
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal, "run \(run) ended by itself: status \(child.terminationStatus)")

            let store = try ResultStore(path: path, access: .write(lockTimeoutSeconds: 5))
            #expect(try store.integrityCheck() == ["ok"], "run \(run)")
            #expect(try store.rows("PRAGMA foreign_key_check").isEmpty, "run \(run)")
            try checkEveryJobIsWhole(store, run: run)
            // The killed child may have died holding a running job; its pid is gone, so it goes back to pending.
            let running = try store.jobs(state: .running).map(\.key)
            #expect(running.count <= 1)
            #expect(try store.requeueStaleRunning(heartbeatTimeoutSeconds: 3600) == running)
            #expect(try store.jobs(state: .running).isEmpty)
            let done = try store.jobs(state: .done).count
            if done > (doneAfterKill.last ?? 0) { runsWithProgress += 1 }
            doneAfterKill.append(done)
        }
        // The writer committed work in several runs (so kills also landed between and inside commits, not only
        // before the first one). Generous for a loaded CI machine: a run is ~10 jobs when idle.
        #expect(runsWithProgress >= 3, "done jobs after each kill: \(doneAfterKill)")
    }

    private func checkEveryJobIsWhole(_ store: ResultStore, run: Int) throws {
        for job in try store.jobs(sweep: "crash") {
            let metrics = try store.metrics(key: job.key)
            let artifacts = try store.artifactInfos(key: job.key)
            if job.state == .done {
                let expected = Dictionary(uniqueKeysWithValues: CrashWorkload.metrics(key: job.key).map { ($0.name, $0.value) })
                #expect(metrics == expected, "run \(run): job \(job.key) metrics")
                #expect(artifacts.map(\.kind) == ["trace"], "run \(run): job \(job.key) artifacts")
                #expect(try store.artifact(key: job.key, kind: "trace") == CrashWorkload.artifact(key: job.key),
                        "run \(run): job \(job.key) artifact content")
            } else {
                #expect(metrics.isEmpty && artifacts.isEmpty, "run \(run): unfinished job \(job.key) (\(job.state)) has results")
            }
        }
    }
}
