// Superseded jobs at the command line: a toy store run with manifest A, then with A minus one λ (B). pareto,
// plot and reprice use B's jobs unless --include-superseded, with one note on stderr; status counts the superseded jobs;
// run and resume leave a superseded pending job alone; a --shard run counts (and runs) the whole plan; a stored
// manifest this build cannot plan falls back to every job with a note, and resume still runs its pending and failed jobs.

import Basics
import Commands
import Foundation
import Storage
import Testing

@Suite("Superseded jobs (commands)") struct SupersededCommandTests {
    /// A toy sweep on toy/easy with qkUnits 8 and 16: 1 dense, per λ 1 fine-tune + 1 trace + 2 hw-evals.
    static func manifest(lambdas: [String], model: String = "toy") -> String {
        """
        {"schemaVersion": 1, "name": "t", "experiments": [{"model": "\(model)", "task": "toy/easy"}],
         "training": {"steps": 300}, "lambdas": [\(lambdas.joined(separator: ", "))], "trace": {"examples": 2, "bits": 8},
         "hardware": {"qkUnits": [8, 16], "dpuWidth": 16}, "budget": 100}
        """
    }

    final class Sandbox {
        let dir: String
        var store: String { dir + "/t.sqlite" }
        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-superseded-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        func write(_ name: String, _ text: String) throws -> String {
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            return dir + "/" + name
        }
        func read(_ name: String) throws -> String { try String(contentsOfFile: dir + "/" + name, encoding: .utf8) }
        /// The `lambda` column of a pareto CSV, as a set.
        func lambdas(_ csv: String) throws -> Set<String> {
            let lines = try read(csv).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            let column = try #require(lines[0].firstIndex(of: "lambda"))
            return Set(lines.dropFirst().map { String($0[column]) })
        }
        deinit { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// Runs A (λ 0.1, 0.5) then B (λ 0.1) into one store: 4 of A's 9 jobs are superseded, all done.
    static func editedStore() throws -> (Sandbox, String) {
        let box = try Sandbox()
        let a = try box.write("a.json", manifest(lambdas: ["0.1", "0.5"])), b = try box.write("b.json", manifest(lambdas: ["0.1"]))
        let first = runLeopard(["sweep", "run", a, "--store", box.store])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        let second = runLeopard(["sweep", "run", b, "--store", box.store])
        #expect(second.exitCode == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("sweep t: 5 jobs (0 pending, 0 running, 5 done, 0 failed)"), "\(second.stdout)")
        #expect(second.stdout.contains("4 superseded job(s) not in the current plan left alone (0 pending, 0 running, 4 done, 0 failed)"),
                "\(second.stdout)")
        return (box, b)
    }

    @Test func repriceUsesOnlyCurrentJobsUnlessAsked() throws {
        let (box, _) = try Self.editedStore()
        let current = runLeopard(["reprice", "--energy-table", "7nm", "--store", box.store, "--csv", box.dir + "/r.csv", "--json"])
        #expect(current.exitCode == 0, "\(current.stderr)")
        #expect(current.stderr.contains("note: left out 4 superseded done job(s)"), "\(current.stderr)")
        #expect(try JSONParser.parse(current.stdout)["points"] == .integer(2))  // λ 0.1's 2 learned hw-evals
        #expect(try box.lambdas("r.csv") == ["0.100000"])
        let all = runLeopard(["reprice", "--energy-table", "7nm", "--store", box.store, "--csv", box.dir + "/all.csv",
                              "--include-superseded", "--json"])
        #expect(all.exitCode == 0 && all.stderr.isEmpty, "\(all.stderr)")
        #expect(try JSONParser.parse(all.stdout)["points"] == .integer(4))
        #expect(try box.lambdas("all.csv") == ["0.100000", "0.500000"])
    }

    @Test func paretoAndPlotUseOnlyCurrentJobsUnlessAsked() throws {
        let (box, _) = try Self.editedStore()
        let note = "note: left out 4 superseded done job(s)"

        let pareto = runLeopard(["pareto", "--store", box.store, "--csv", box.dir + "/current.csv", "--json"])
        #expect(pareto.exitCode == 0, "\(pareto.stderr)")
        #expect(pareto.stderr.contains(note) && pareto.stderr.contains("--include-superseded"), "\(pareto.stderr)")
        #expect(pareto.stderr.split(separator: "\n").count == 1)
        #expect(!pareto.stdout.contains("note:") && !pareto.stdout.contains("--include-superseded"))
        #expect(try JSONParser.parse(pareto.stdout)["points"] == .integer(6))  // 2 hw-evals × learned, top-k, fixed
        #expect(try box.lambdas("current.csv") == ["0.100000"])
        #expect(try box.lambdas("current-aggregate.csv") == ["0.100000"])

        let all = runLeopard(["pareto", "--store", box.store, "--csv", box.dir + "/all.csv", "--include-superseded"])
        #expect(all.exitCode == 0 && all.stderr.isEmpty, "\(all.stderr)")
        #expect(all.stdout.hasPrefix("12 points"), "\(all.stdout)")
        #expect(try box.lambdas("all.csv") == ["0.100000", "0.500000"])

        let plot = runLeopard(["plot", "--store", box.store, "--out", box.dir + "/plots"])
        #expect(plot.exitCode == 0 && plot.stderr.contains(note), "\(plot.stderr)")
        #expect(try !box.read("plots/thresholds-toy-toy_easy.svg").contains("λ = 0.5000"))
        #expect(try box.read("plots/thresholds-toy-toy_easy.svg").contains("λ = 0.1000"))
        let plotAll = runLeopard(["plot", "--store", box.store, "--out", box.dir + "/plots-all", "--include-superseded"])
        #expect(plotAll.exitCode == 0 && plotAll.stderr.isEmpty, "\(plotAll.stderr)")
        #expect(try box.read("plots-all/thresholds-toy-toy_easy.svg").contains("λ = 0.5000"))
    }

    @Test func statusCountsSupersededJobsPerState() throws {
        let (box, _) = try Self.editedStore()
        let status = runLeopard(["status", "--store", box.store])
        #expect(status.exitCode == 0 && status.stderr.isEmpty, "\(status.stderr)")
        #expect(status.stdout.contains("sweep t (\(box.store)): 9 jobs, 4 superseded"), "\(status.stdout)")
        #expect(status.stdout.contains("  superseded (not planned by the stored manifest; left out of pareto and plot, never run): "
                                       + "0 pending, 0 running, 4 done, 0 failed"), "\(status.stdout)")
        let json = runLeopard(["status", "--store", box.store, "--json"])
        let sweep = try JSONParser.parse(json.stdout)["sweeps"]?.arrayValue?.first
        #expect(sweep?["jobs"] == .integer(9))
        #expect(sweep?["superseded"] == ["jobs": 4, "states": ["pending": 0, "running": 0, "done": 4, "failed": 0]])
    }

    /// A pending job outside the current plan (here: a copy of a done hw-eval at another qkUnits value, as an edit
    /// that removed that value would leave it) is never claimed by run or resume.
    @Test func runAndResumeLeaveASupersededPendingJobPending() throws {
        let (box, b) = try Self.editedStore()
        do {
            let store = try ResultStore(path: box.store, access: .write())
            let model = try #require(try store.jobs(state: .done, kind: "hw-eval").first)
            guard case .object(var parameters) = try JSONParser.parse(model.parametersJSON),
                  case .object(var hardware)? = parameters["hardware"] else { Issue.record("hw-eval parameters"); return }
            hardware["qkUnits"] = 32
            parameters["hardware"] = .object(hardware)
            try store.insertJobsIfAbsent(sweep: "t", [JobSpec(key: "superseded-pending", kind: "hw-eval", parentKey: model.parentKey,
                                                              parameters: .object(parameters))])
        }
        for argv in [["sweep", "resume", "--store", box.store], ["sweep", "run", b, "--store", box.store]] {
            let run = runLeopard(argv)
            #expect(run.exitCode == 0, "\(argv): \(run.stdout)\(run.stderr)")
            #expect(run.stdout.contains("5 superseded job(s) not in the current plan left alone (1 pending, 0 running, 4 done, 0 failed)"),
                    "\(argv): \(run.stdout)")
            let job = try ResultStore(path: box.store, access: .readOnly).job(key: "superseded-pending")
            #expect(job?.state == .pending && job?.attempts == 0, "\(argv)")
        }
        let status = runLeopard(["status", "--store", box.store, "--json"])
        let superseded = try JSONParser.parse(status.stdout)["sweeps"]?.arrayValue?.first?["superseded"]
        #expect(superseded?["states"]?["pending"] == .integer(1), "\(status.stdout)")
    }

    /// Two subtrees (toy/easy, toy/hard), each 1 dense + 1 fine-tune + 1 trace + 2 hw-evals: `--shard 0/2` gets
    /// toy/easy's 5 jobs, `--shard 1/2` toy/hard's.
    static let twoSubtrees = """
        {"schemaVersion": 1, "name": "t", "experiments": [{"model": "toy", "task": "toy/easy"}, {"model": "toy", "task": "toy/hard"}],
         "training": {"steps": 300}, "lambdas": [0.1], "trace": {"examples": 2, "bits": 8},
         "hardware": {"qkUnits": [8, 16], "dpuWidth": 16}, "budget": 100}
        """

    /// A `--shard` run (as each Slurm array task does) counts the whole manifest's plan as current, not only its own
    /// shard's jobs: shards run one after the other into one store never call each other's jobs superseded.
    @Test func shardsRunIntoOneStoreCountEachOthersJobsAsCurrent() throws {
        let box = try Sandbox()
        let manifest = try box.write("m.json", Self.twoSubtrees)
        let first = runLeopard(["sweep", "run", manifest, "--shard", "1/2", "--store", box.store])
        #expect(first.exitCode == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("sweep t: 5 jobs (0 pending, 0 running, 5 done, 0 failed)"), "\(first.stdout)")
        let second = runLeopard(["sweep", "run", manifest, "--shard", "0/2", "--store", box.store])
        #expect(second.exitCode == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stderr.contains("shard 0/2: 1 of 2 DAG subtree(s)"), "\(second.stderr)")
        #expect(second.stdout.contains("sweep t: 10 jobs (0 pending, 0 running, 10 done, 0 failed)"), "\(second.stdout)")
        #expect(second.stdout.contains("this run: 5 new job(s), 5 done, 0 failed"), "\(second.stdout)")
        #expect(!second.stdout.contains("superseded"), "\(second.stdout)")
        let status = runLeopard(["status", "--store", box.store, "--json"])
        #expect(try JSONParser.parse(status.stdout)["sweeps"]?.arrayValue?.first?["superseded"]?["jobs"] == .integer(0), "\(status.stdout)")
    }

    /// The whole plan is also what a shard claims: on a store holding every job of the manifest pending (an unsharded
    /// `sweep run` stopped before it started any), `--shard 0/2` runs the other shard's pending jobs too rather than
    /// leaving them pending as if an edit had superseded them.
    @Test func aShardRunClaimsEveryPendingJobOfTheWholePlan() throws {
        let box = try Sandbox()
        let manifest = try box.write("m.json", Self.twoSubtrees)
        let reference = runLeopard(["sweep", "run", manifest, "--store", box.dir + "/reference.sqlite"])
        #expect(reference.exitCode == 0, "\(reference.stdout)\(reference.stderr)")
        let planned = try ResultStore(path: box.dir + "/reference.sqlite", access: .readOnly).jobs()
        try #require(planned.count == 10)
        do {
            let store = try ResultStore(path: box.store, access: .write())
            try store.registerSweep(name: "t", manifest: try JSONParser.parse(Self.twoSubtrees))
            try store.insertJobsIfAbsent(sweep: "t", try planned.map {
                JobSpec(key: $0.key, kind: $0.kind, parentKey: $0.parentKey, parameters: try JSONParser.parse($0.parametersJSON))
            })
        }
        let run = runLeopard(["sweep", "run", manifest, "--shard", "0/2", "--store", box.store])
        #expect(run.exitCode == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("sweep t: 10 jobs (0 pending, 0 running, 10 done, 0 failed)"), "\(run.stdout)")
        #expect(run.stdout.contains("this run: 0 new job(s), 10 done, 0 failed"), "\(run.stdout)")
        #expect(!run.stdout.contains("superseded"), "\(run.stdout)")
        #expect(try ResultStore(path: box.store, access: .readOnly).jobs().allSatisfy { $0.state == .done })
    }

    @Test func aStoredManifestThisBuildCannotPlanFallsBackToEveryJob() throws {
        let (box, _) = try Self.editedStore()
        do {  // The stored manifest now names a model this build lacks (as a store from a build with more presets).
            let store = try ResultStore(path: box.store, access: .write())
            try store.registerSweep(name: "t", manifest: try JSONParser.parse(Self.manifest(lambdas: ["0.1"], model: "gone-preset")))
        }
        let note = "note: sweep t: this build cannot plan the stored manifest, so superseded jobs are unknown; "
        let pareto = runLeopard(["pareto", "--store", box.store, "--csv", box.dir + "/p.csv", "--json"])
        #expect(pareto.exitCode == 0, "\(pareto.stderr)")
        #expect(pareto.stderr.hasPrefix(note + "including every job (") && pareto.stderr.contains("gone-preset"), "\(pareto.stderr)")
        #expect(pareto.stderr.split(separator: "\n").count == 1)
        #expect(try JSONParser.parse(pareto.stdout)["points"] == .integer(12))
        #expect(try box.lambdas("p.csv") == ["0.100000", "0.500000"])

        let plot = runLeopard(["plot", "--store", box.store, "--out", box.dir + "/plots"])
        #expect(plot.exitCode == 0 && plot.stderr.hasPrefix(note), "\(plot.stderr)")
        #expect(try box.read("plots/thresholds-toy-toy_easy.svg").contains("λ = 0.5000"))

        let status = runLeopard(["status", "--store", box.store, "--json"])
        #expect(status.exitCode == 0 && status.stderr.hasPrefix(note + "counting no job as superseded"), "\(status.stderr)")
        #expect(try JSONParser.parse(status.stdout)["sweeps"]?.arrayValue?.first?["superseded"] == .null)
        let text = runLeopard(["status", "--store", box.store])
        #expect(text.stdout.contains("sweep t (\(box.store)): 9 jobs\n"), "\(text.stdout)")

        let resume = runLeopard(["sweep", "resume", "--store", box.store])
        #expect(resume.exitCode == 0 && resume.stderr.contains(note + "running every pending job"), "\(resume.stderr)")
        #expect(resume.stdout.contains("sweep t: 9 jobs (0 pending, 0 running, 9 done, 0 failed)"), "\(resume.stdout)")
    }

    /// Falling back to "every job is current" must still let resume finish the sweep: a store whose stored manifest
    /// this build cannot plan, holding a pending job and a failed one (its process ran out of memory, say), has both
    /// run by `sweep resume --store … --retry-failed`, with the note on stderr saying why nothing is left out.
    @Test func resumeOfAStoredManifestThisBuildCannotPlanRunsPendingAndRetriesFailedJobs() throws {
        let box = try Sandbox()
        let manifest = try box.write("m.json", Self.manifest(lambdas: ["0.1"]))
        let first = runLeopard(["sweep", "run", manifest, "--store", box.store])
        #expect(first.exitCode == 0 && first.stdout.contains("sweep t: 5 jobs (0 pending, 0 running, 5 done, 0 failed)"), "\(first.stdout)")
        do {
            let store = try ResultStore(path: box.store, access: .write())
            // Two more hardware points under the trace (qkUnits 32 and 64), as a build that plans them would add.
            let model = try #require(try store.jobs(state: .done, kind: "hw-eval").first)
            func point(_ qkUnits: Int64, key: String) throws -> JobSpec {
                guard case .object(var parameters) = try JSONParser.parse(model.parametersJSON),
                      case .object(var hardware)? = parameters["hardware"] else { throw RuntimeError("hw-eval parameters") }
                hardware["qkUnits"] = .integer(qkUnits)
                parameters["hardware"] = .object(hardware)
                return JobSpec(key: key, kind: "hw-eval", parentKey: model.parentKey, parameters: .object(parameters))
            }
            try store.insertJobsIfAbsent(sweep: "t", [point(32, key: "added-pending"), point(64, key: "added-failed")])
            _ = try store.claim(key: "added-failed")
            try store.fail(key: "added-failed", reason: "killed: out of memory")
            try store.registerSweep(name: "t", manifest: try JSONParser.parse(Self.manifest(lambdas: ["0.1"], model: "gone-preset")))
        }

        let resume = runLeopard(["sweep", "resume", "--store", box.store, "--retry-failed"])
        #expect(resume.exitCode == 0, "\(resume.stdout)\(resume.stderr)")
        #expect(resume.stderr.contains("note: sweep t: this build cannot plan the stored manifest, so superseded jobs are unknown; "
                                       + "running every pending job, superseded or not ("), "\(resume.stderr)")
        #expect(resume.stderr.contains("gone-preset"), "\(resume.stderr)")
        #expect(resume.stdout.contains("sweep t: 7 jobs (0 pending, 0 running, 7 done, 0 failed)"), "\(resume.stdout)")
        #expect(resume.stdout.contains("this run: 0 new job(s), 2 done, 0 failed, 0 skipped")
                && resume.stdout.contains("; 1 failed job(s) retried"), "\(resume.stdout)")
        let store = try ResultStore(path: box.store, access: .readOnly)
        for (key, attempts) in [("added-pending", 1), ("added-failed", 2)] {
            let job = try #require(try store.job(key: key))
            #expect(job.state == .done && job.attempts == attempts, "\(key): \(job)")
            let metrics = try store.metrics(key: key)
            #expect(metrics["speedup"] != nil, "\(key): \(metrics.keys.sorted())")
        }
    }
}
