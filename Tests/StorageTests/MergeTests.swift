// Merging shard stores: done work is copied once, never overwritten; repeated merges change nothing.

import Basics
import Foundation
import Testing
@testable import Storage

private func shard(at path: String, done: [String], pending: [String], failed: [String] = []) throws {
    let store = try ResultStore(path: path, access: .write())
    try store.registerSweep(name: "paper", manifest: ["name": "paper"])
    let all = done + pending + failed
    try store.insertJobsIfAbsent(sweep: "paper", [JobSpec(key: "root", kind: "dense-train", parentKey: nil, parameters: [:])]
        + all.map { JobSpec(key: $0, kind: "hw-eval", parentKey: "root", parameters: ["k": .string($0)]) })
    for key in done + failed { try store.claim(key: key) }
    for key in done {
        try store.complete(key: key, metrics: [("speedup", Double(key.count)), ("energy_reduction", 2)],
                           artifacts: [ArtifactInput(kind: "trace", bytes: CrashWorkload.artifact(key: key))])
    }
    for key in failed { try store.fail(key: key, reason: "diverged") }
}

@Suite struct MergeTests {
    @Test func shardsMergeIntoOneStoreOnceAndDoneWorkWins() throws {
        let dir = try TemporaryDirectory()
        try shard(at: dir.file("a.sqlite"), done: ["a1"], pending: ["both"])
        try shard(at: dir.file("b.sqlite"), done: ["both", "b1"], pending: [], failed: ["b2"])
        try shard(at: dir.file("main.sqlite"), done: ["m1"], pending: [], failed: [])
        let main = try ResultStore(path: dir.file("main.sqlite"), access: .write())

        let fromA = try main.merge(shardAt: dir.file("a.sqlite"))
        #expect(fromA == MergeReport(shard: dir.file("a.sqlite"), sweepsAdded: 0, jobsAdded: 2, jobsCompletedFromShard: 0,
                                     metricsCopied: 2, artifactsCopied: 1))
        let fromB = try main.merge(shardAt: dir.file("b.sqlite"))
        #expect(fromB.jobsAdded == 2 && fromB.jobsCompletedFromShard == 1)  // b1, b2 added; "both" completed

        #expect(try main.stateCounts() == [.pending: 1, .running: 0, .done: 4, .failed: 1])  // pending: the shared root
        for key in ["a1", "both", "b1", "m1"] {
            #expect(try main.artifact(key: key, kind: "trace") == CrashWorkload.artifact(key: key), "\(key)")
            #expect(try main.metrics(key: key)["speedup"] == Double(key.count), "\(key)")
        }
        #expect(try main.integrityCheck() == ["ok"])
        #expect(try main.rows("PRAGMA foreign_key_check").isEmpty)

        // Idempotent: merging again copies nothing; a shard whose copy of a done job failed does not undo it.
        for shardName in ["a.sqlite", "b.sqlite"] {
            let again = try main.merge(shardAt: dir.file(shardName))
            #expect(again.jobsAdded == 0 && again.jobsCompletedFromShard == 0 && again.metricsCopied == 0)
        }
        try shard(at: dir.file("c.sqlite"), done: [], pending: [], failed: ["a1"])
        _ = try main.merge(shardAt: dir.file("c.sqlite"))
        #expect(try main.job(key: "a1")?.state == .done)
    }

    /// A resubmitted, edited manifest reaches the merged store: the later registration wins, an older one does not
    /// overwrite it (pareto and status judge superseded jobs by the stored manifest).
    @Test func theLaterRegisteredManifestWins() throws {
        let dir = try TemporaryDirectory()
        func store(_ name: String, manifest: JSONValue, at seconds: Double) throws -> ResultStore {
            let clock = ManualClock()
            clock.advance(seconds)
            let store = try ResultStore(path: dir.file(name), access: .write(), clock: { clock.seconds })
            try store.registerSweep(name: "s", manifest: manifest)
            return store
        }
        let main = try store("main.sqlite", manifest: ["lambdas": [1]], at: 100)
        _ = try store("older.sqlite", manifest: ["lambdas": [0]], at: 50)
        _ = try store("newer.sqlite", manifest: ["lambdas": [2]], at: 200)
        #expect(try main.merge(shardAt: dir.file("older.sqlite")).manifestsReplaced == 0)
        #expect(try main.sweepManifest(name: "s") == ["lambdas": [1]])
        #expect(try main.merge(shardAt: dir.file("newer.sqlite")).manifestsReplaced == 1)
        #expect(try main.sweepManifest(name: "s") == ["lambdas": [2]])
        #expect(try main.merge(shardAt: dir.file("newer.sqlite")).manifestsReplaced == 0)  // the same manifest again
        _ = try main.merge(shardAt: dir.file("older.sqlite"))
        #expect(try main.sweepManifest(name: "s") == ["lambdas": [2]])
        #expect(try main.rows("SELECT updated_at FROM sweeps") == [[.real(1_700_000_200)]])
    }

    @Test func aForeignShardIsRefusedByName() throws {
        let dir = try TemporaryDirectory()
        let bogus = dir.file("bogus.sqlite")
        try Data("not sqlite".utf8).write(to: URL(fileURLWithPath: bogus))
        let main = try ResultStore(path: dir.file("main.sqlite"), access: .write())
        let error = #expect(throws: StoreError.self) { try main.merge(shardAt: bogus) }
        #expect(error?.message.hasPrefix(bogus) == true)
    }

    @Test func timingsPerKindAverageDoneJobs() throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock()
        let store = try ResultStore(path: dir.file("t.sqlite"), access: .write(), clock: { clock.seconds })
        try store.registerSweep(name: "s", manifest: [:])
        try store.insertJobsIfAbsent(sweep: "s", (0..<3).map { JobSpec(key: "j\($0)", kind: "finetune", parentKey: nil, parameters: [:]) })
        for (index, seconds) in [10.0, 20.0].enumerated() {
            try store.claim(key: "j\(index)")
            clock.advance(seconds)
            try store.complete(key: "j\(index)")
        }
        #expect(try store.timingsByKind() == [KindTiming(kind: "finetune", doneJobs: 2, meanElapsedSeconds: 15)])
        #expect(try store.stateCounts(sweep: "s") == [.pending: 1, .running: 0, .done: 2, .failed: 0])
        #expect(try store.stateCounts(sweep: "other") == [.pending: 0, .running: 0, .done: 0, .failed: 0])
    }
}
