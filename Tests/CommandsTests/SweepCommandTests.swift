// The sweep commands end to end in-process on the smoke manifest: plan → run (exit 1: the manifest has a failing
// experiment on purpose) → rerun does nothing → status → pareto CSVs → plots; and argument errors.

import Basics
import Commands
import Foundation
import Testing

@Suite("Sweep commands") struct SweepCommandTests {
    static func repositoryFile(_ relative: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(relative).path
    }

    @Test func smokeManifestPlanRunStatusParetoPlot() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-sweepcmd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let manifest = Self.repositoryFile("experiments/smoke.json"), store = dir + "/smoke.sqlite"

        let plan = runLeopard(["sweep", "plan", manifest, "--store", store])
        #expect(plan.exitCode == 0)
        #expect(plan.stdout.contains("hw-eval        72"), "\(plan.stdout)")
        #expect(plan.stdout.contains("total: 93 jobs, 0 done"))

        let run = runLeopard(["sweep", "run", manifest, "--store", store, "--jobs", "2"])
        #expect(run.exitCode == 1)
        #expect(run.stdout.contains("83 done, 10 failed"), "\(run.stdout)")
        #expect(run.stdout.contains("failed finetune"))
        #expect(run.stdout.contains("diverged"))
        #expect(run.stderr.contains("[93/93]"))

        let rerun = runLeopard(["sweep", "run", manifest, "--store", store])
        #expect(rerun.stdout.contains("this run: 0 new job(s), 0 done, 0 failed"), "\(rerun.stdout)")
        #expect(rerun.stdout.contains("failed in earlier runs; rerun them with --retry-failed"))

        let planAgain = runLeopard(["sweep", "plan", manifest, "--store", store, "--json"])
        #expect(planAgain.stdout.contains("\"done\": 83"))

        let status = runLeopard(["status", "--store", store])
        #expect(status.exitCode == 0)
        #expect(status.stdout.contains("9 job(s) skipped because an ancestor failed"), "\(status.stdout)")
        let statusJSON = runLeopard(["status", "--store", store, "--json"])
        let parsed = try JSONParser.parse(statusJSON.stdout)
        #expect(parsed["sweeps"]?.arrayValue?.first?["states"]?["done"] == .integer(83))

        let pareto = runLeopard(["pareto", "--store", store, "--csv", dir + "/out/pareto.csv", "--budget", "2"])
        #expect(pareto.exitCode == 0, "\(pareto.stderr)")
        let csv = try String(contentsOfFile: dir + "/out/pareto.csv", encoding: .utf8)
        #expect(csv.hasPrefix("sweep,model,family,task,seed,lambda,method"))
        #expect(csv.contains(",topk,") && csv.contains(",fixed-threshold,") && csv.contains(",learned,"))
        #expect(FileManager.default.fileExists(atPath: dir + "/out/pareto-aggregate.csv"))
        let front = try String(contentsOfFile: dir + "/out/pareto-front-toy_easy.csv", encoding: .utf8)
        #expect(front.split(separator: "\n").count > 1)
        #expect(front.split(separator: "\n").dropFirst().allSatisfy { $0.contains(",toy/easy,") })

        let plot = runLeopard(["plot", "--store", store, "--out", dir + "/plots"])
        #expect(plot.exitCode == 0, "\(plot.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/plots/pareto.svg"))
        #expect(FileManager.default.fileExists(atPath: dir + "/plots/planes.svg"))

        // Re-pricing the stored counts: under the sweep's own table every row's new energy equals the stored one.
        let reprice = runLeopard(["reprice", "--store", store, "--energy-table", "45nm", "--csv", dir + "/out/r45.csv", "--json"])
        #expect(reprice.exitCode == 0, "\(reprice.stderr)")
        let repriceJSON = try JSONParser.parse(reprice.stdout)
        let repricedPoints = repriceJSON["points"]?.intValue ?? 0
        #expect(repricedPoints > 0)
        let r45 = try String(contentsOfFile: dir + "/out/r45.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(r45.count == repricedPoints + 1)
        let stored = try #require(r45[0].firstIndex(of: "stored_energy_pj")), fresh = try #require(r45[0].firstIndex(of: "energy_pj"))
        for row in r45.dropFirst() {
            #expect(abs(Double(row[stored])! / Double(row[fresh])! - 1) < 1e-9, "\(row)")
        }
        #expect(repriceJSON["geomean_energy_reduction"] == repriceJSON["stored_geomean_energy_reduction"])
        let reprice7 = runLeopard(["reprice", "--store", store, "--energy-table", "7nm", "--csv", dir + "/out/r7.csv"])
        #expect(reprice7.exitCode == 0, "\(reprice7.stderr)")
        #expect(reprice7.stdout.contains("re-priced \(repricedPoints) hardware points"), "\(reprice7.stdout)")
        #expect(reprice7.stdout.contains("under 45nm → "), "\(reprice7.stdout)")

        let retry = runLeopard(["sweep", "resume", "--store", store, "--retry-failed"])
        #expect(retry.exitCode == 1)
        #expect(retry.stdout.contains("10 failed job(s) retried"), "\(retry.stdout)")
    }

    /// On a terminal: one redrawn bar with done/total, rate and ETA; otherwise one log line per outcome.
    @Test func progressIsABarOnATerminalAndLogLinesOtherwise() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-progress-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let manifest = dir + "/p.json"
        try """
        {"schemaVersion": 1, "name": "p", "experiments": [{"model": "toy", "task": "toy/easy"}], "training": {"steps": 10},
         "lambdas": [0.1], "trace": {"examples": 1, "bits": 8}}
        """.write(toFile: manifest, atomically: true, encoding: .utf8)
        final class Box: @unchecked Sendable { var err = "" }
        let box = Box()
        let io = CommandIO(isTerminal: true, environment: [:], out: { _ in }, err: { box.err += $0 })
        #expect(CommandRunner.run(["sweep", "run", manifest, "--store", dir + "/tty.sqlite"], io: io) == 0)
        #expect(box.err.contains("\r[##############################] 4/4 · 0 failed · 0 running · "), "\(box.err)")
        #expect(box.err.contains("jobs/s · ETA"))
        let plain = runLeopard(["sweep", "run", manifest, "--store", dir + "/log.sqlite"])
        #expect(plain.stderr.contains("[4/4] done hw-eval"), "\(plain.stderr)")
        #expect(!plain.stderr.contains("\r"))
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let argv: [String]
        let exitCode: Int32
        let stderrHas: String
        var testDescription: String { argv.joined(separator: " ") }
    }

    @Test(arguments: [
        Case(argv: ["sweep", "resume"], exitCode: 64, stderrHas: "give a manifest or --store PATH"),
        Case(argv: ["sweep", "run"], exitCode: 64, stderrHas: "missing argument <manifest.json>"),
        Case(argv: ["sweep", "run", "x.json", "--jobs", "0"], exitCode: 64, stderrHas: "--jobs = 0; expected an integer from 1 to 256"),
        Case(argv: ["sweep", "run", "/nonexistent/m.json"], exitCode: 1, stderrHas: "/nonexistent/m.json: cannot read the manifest"),
        Case(argv: ["sweep"], exitCode: 64, stderrHas: "needs a subcommand: plan, run, resume"),
        Case(argv: ["status", "--store", "/nonexistent/s.sqlite"], exitCode: 1, stderrHas: "/nonexistent/s.sqlite"),
        Case(argv: ["pareto", "--budget", "-1"], exitCode: 64, stderrHas: "--budget = -1; expected a number ≥ 0"),
        Case(argv: ["reprice"], exitCode: 64, stderrHas: "reprice needs --energy-table"),
        Case(argv: ["reprice", "--energy-table", "/nonexistent/t.json"], exitCode: 1, stderrHas: "/nonexistent/t.json: cannot read the energy table"),
    ])
    func argumentErrors(_ c: Case) {
        let r = runLeopard(c.argv)
        #expect(r.exitCode == c.exitCode, "\(r.stderr)")
        #expect(r.stderr.contains(c.stderrHas), "\(r.stderr)")
    }
}
