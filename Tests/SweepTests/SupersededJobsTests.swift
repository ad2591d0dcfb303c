// Superseded jobs (CurrentJobs.swift): after a manifest edit the store keeps the old jobs; results, counts and the
// engine use only the jobs the stored manifest plans now, and never change the others.

import Basics
import Foundation
import Storage
import Testing
@testable import Sweep

/// An edit of the toy manifest A = toyManifestJSON(tasks: ["toy/easy"]) (λ 0.1, 0.5; qkUnits 8, 16).
struct ManifestEdit: CustomTestStringConvertible, Sendable {
    let name: String
    let edited: String
    var testDescription: String { name }

    static let original = toyManifestJSON(tasks: ["toy/easy"])
    static let all = [
        ManifestEdit(name: "λ removed", edited: toyManifestJSON(tasks: ["toy/easy"], lambdas: [0.1])),
        ManifestEdit(name: "hardware value removed", edited: toyManifestJSON(tasks: ["toy/easy"], qkUnits: [8])),
        ManifestEdit(name: "fine-tune setting changed",
                     edited: original.replacingOccurrences(of: "\"training\": {\"steps\": 500}",
                                                           with: "\"training\": {\"steps\": 500, \"fineTuneEpochs\": 2}")),
    ]
}

@Suite("Superseded jobs") struct SupersededJobsTests {
    @Test(arguments: ManifestEdit.all)
    func resultsOfAnEditedStoreEqualThoseOfAStoreThatRanOnlyTheNewManifest(edit: ManifestEdit) throws {
        let dir = try TemporaryDirectory()
        let before = try toyPlan(ManifestEdit.original), after = try toyPlan(edit.edited)
        let gone = before.keys.subtracting(after.keys)
        try #require(!gone.isEmpty && edit.edited != ManifestEdit.original)
        _ = try runPlan(before, store: dir.file("edited.sqlite"))
        let second = try runPlan(after, store: dir.file("edited.sqlite"))
        #expect(second.superseded[.done] == gone.count && second.states[.done] == after.jobs.count, "\(second)")
        _ = try runPlan(after, store: dir.file("fresh.sqlite"))

        let edited = try ResultStore(path: dir.file("edited.sqlite"), access: .readOnly)
        let current = try CurrentJobs.load(store: edited)
        #expect(current.planKeys == ["t": after.keys] && current.unplannable.isEmpty)
        #expect(Set(try edited.jobs().filter(current.isSuperseded).map(\.key)) == gone)

        let filtered = try SweepResults.load(store: edited, sweep: nil, name: "t", current: current)
        let fresh = try SweepResults.load(store: ResultStore(path: dir.file("fresh.sqlite"), access: .readOnly), sweep: nil, name: "t")
        #expect(filtered.supersededLeftOut == gone.count)
        #expect(!filtered.rows.isEmpty && Set(filtered.rows.map(\.jobKey)).isSubset(of: after.keys))
        #expect(ParetoReport.make(filtered, budgetPoints: 2).csv() == ParetoReport.make(fresh, budgetPoints: 2).csv())
        #expect(filtered.fineTunes.count == fresh.fineTunes.count && filtered.traces.count == fresh.traces.count)

        let everything = try SweepResults.load(store: edited, sweep: nil, name: "t")
        #expect(everything.supersededLeftOut == 0)
        #expect(!Set(everything.rows.map(\.jobKey)).isSubset(of: after.keys))
    }

    @Test func supersededPendingJobsAreNeverClaimed() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("s.sqlite")
        let before = try toyPlan(ManifestEdit.original), after = try toyPlan(ManifestEdit.all[0].edited)
        do {  // Manifest A planned into the store, never run.
            let store = try ResultStore(path: path, access: .write())
            try store.registerSweep(name: "t", manifest: before.manifest.json)
            try store.insertJobsIfAbsent(sweep: "t", before.jobs)
        }
        let gone = before.keys.subtracting(after.keys)
        let untouched = try ResultStore(path: path, access: .readOnly).jobs().filter { gone.contains($0.key) }

        let summary = try runPlan(after, store: path)
        #expect(summary.succeeded == after.jobs.count && !summary.hasFailures)
        #expect(summary.states == [.pending: 0, .running: 0, .done: after.jobs.count, .failed: 0])
        #expect(summary.superseded == [.pending: gone.count, .running: 0, .done: 0, .failed: 0])
        let store = try ResultStore(path: path, access: .readOnly)
        #expect(try store.jobs().filter { gone.contains($0.key) } == untouched)
        #expect(untouched.count == gone.count && untouched.allSatisfy { $0.state == .pending && $0.attempts == 0 })
    }

    /// Keys do not name a sweep: a job two sweeps plan is one row, owned by the sweep that inserted it first. Sweep t
    /// planned with λ 0.1 and 0.5 (never run) and then edited to λ 0.1; sweep u plans what t first planned. u's run
    /// must run the λ 0.5 jobs that t's row holds, and nothing is superseded while u plans them.
    @Test func aJobAnotherSweepStillPlansIsRunAndCurrent() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("s.sqlite")
        let original = try toyPlan(ManifestEdit.original), edited = try toyPlan(ManifestEdit.all[0].edited)
        let other = try toyPlan(ManifestEdit.original.replacingOccurrences(of: "\"name\": \"t\"", with: "\"name\": \"u\""))
        try #require(other.manifest.name == "u" && other.keys == original.keys)
        do {
            let store = try ResultStore(path: path, access: .write())
            try store.registerSweep(name: "t", manifest: original.manifest.json)
            try store.insertJobsIfAbsent(sweep: "t", original.jobs)
        }
        _ = try runPlan(edited, store: path)
        let summary = try runPlan(other, store: path)
        #expect(summary.states == [.pending: 0, .running: 0, .done: other.jobs.count, .failed: 0], "\(summary)")
        #expect(summary.succeeded == other.jobs.count - edited.jobs.count)
        let store = try ResultStore(path: path, access: .readOnly)
        #expect(try store.jobs().allSatisfy { $0.state == .done && $0.sweep == "t" })
        let current = try CurrentJobs.load(store: store)
        #expect(try store.jobs().filter(current.isSuperseded).isEmpty)
        #expect(try SweepResults.load(store: store, sweep: nil, current: current).supersededLeftOut == 0)
    }

    @Test func keyScopesAreDroppedAfterARun() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("s.sqlite")
        let store = try ResultStore(path: path, access: .write())
        let engine = SweepEngine(store: store, options: EngineOptions())
        _ = try engine.run(try toyPlan(ManifestEdit.original))
        _ = try engine.run(try toyPlan(ManifestEdit.all[0].edited))
        let tables = try store.rows("SELECT name FROM sqlite_temp_master WHERE type = 'table' AND name LIKE 'job_key_scope_%'")
        #expect(tables.isEmpty, "\(tables)")
    }

    /// toy/fragile fails its fine-tuning for λ ≥ 1: the failure skips the current plan's descendants only, and
    /// --retry-failed retries only current jobs; the superseded hw-eval below the same trace keeps its record.
    @Test(arguments: [false, true])
    func aFailureNeitherSkipsNorRetriesSupersededJobs(ranBefore: Bool) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("s.sqlite")
        let before = try toyPlan(toyManifestJSON(tasks: ["toy/fragile"], lambdas: [2]))
        let after = try toyPlan(toyManifestJSON(tasks: ["toy/fragile"], lambdas: [2], qkUnits: [8]))
        if ranBefore {
            _ = try runPlan(before, store: path)
        } else {
            let store = try ResultStore(path: path, access: .write())
            try store.registerSweep(name: "t", manifest: before.manifest.json)
            try store.insertJobsIfAbsent(sweep: "t", before.jobs)
        }
        let gone = before.keys.subtracting(after.keys)
        try #require(gone.count == 1)
        let untouched = try #require(try ResultStore(path: path, access: .readOnly).job(key: gone.first!))
        #expect(untouched.state == (ranBefore ? .failed : .pending))

        let summary = try runPlan(after, store: path, retryFailed: true)
        #expect(summary.failedThisRun.count == 1 && summary.skippedThisRun == 2, "\(summary)")
        #expect(summary.states[.failed] == 3 && summary.superseded[untouched.state] == 1)
        #expect(try ResultStore(path: path, access: .readOnly).job(key: gone.first!) == untouched)
    }

    /// Only an `init` folder's path enters the keys: a stored manifest plans to the same keys once the folder is gone
    /// (or is relative to another working directory), though `sweep plan` would refuse it.
    @Test func aStoredManifestPlansWithoutItsCheckpointFolder() throws {
        let directory = try TemporaryDirectory()
        let folder = try ManifestInitTests.checkpointFolder(directory, "minilm")
        let plan = try ManifestInitTests.plan(ManifestInitTests.manifest(init: folder))
        try FileManager.default.removeItem(atPath: folder)
        #expect(throws: InputError.self) { try ManifestInitTests.plan(ManifestInitTests.manifest(init: folder)) }
        let stored = try CurrentJobs.plan(storedManifest: plan.manifest.json, sweep: "m", store: "s.sqlite")
        #expect(stored.keys == plan.keys)
    }

    @Test func aStoredManifestThisBuildCannotPlanMakesEveryJobCurrent() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("s.sqlite")
        let plan = try toyPlan(ManifestEdit.original)
        _ = try runPlan(plan, store: path)
        guard case .object(var manifest) = plan.manifest.json, case .array(var experiments)? = manifest["experiments"],
              case .object(var first) = experiments[0] else { Issue.record("unexpected manifest JSON"); return }
        first["model"] = "gone-preset"
        experiments[0] = .object(first)
        manifest["experiments"] = .array(experiments)
        try ResultStore(path: path, access: .write()).registerSweep(name: "t", manifest: .object(manifest))

        let store = try ResultStore(path: path, access: .readOnly)
        let current = try CurrentJobs.load(store: store)
        #expect(current.planKeys.isEmpty)
        #expect(current.unplannable["t"]?.contains("gone-preset") == true, "\(current.unplannable)")
        let results = try SweepResults.load(store: store, sweep: nil, name: "t", current: current)
        let everything = try SweepResults.load(store: store, sweep: nil)
        #expect(results.supersededLeftOut == 0 && results.rows.count == everything.rows.count && !results.rows.isEmpty)
    }
}
