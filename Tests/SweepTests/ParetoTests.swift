// Pareto over (metric loss ↓, speedup ↑, energy reduction ↑) within the budget, per task / family / aggregate,
// knees, CSV with fixed formats and every identifying column; plots from a real (toy) sweep.

import Basics
import Foundation
import Storage
import Testing
@testable import Sweep

func row(_ task: String, lambda: Double, loss: Double, speedup: Double, energy: Double, feasible: Bool = true,
         method: PruningMethod = .learned, qkUnits: Double = 16, family: String = "toy") -> ResultRow {
    ResultRow(jobKey: "k-\(task)-\(lambda)-\(qkUnits)-\(method.rawValue)", model: "toy", family: family, task: task, seed: 0, lambda: lambda,
              method: method, hardwareModel: "analytic", energyTable: "45nm", hardware: ["qkUnits": qkUnits, "frequencyMHz": 800],
              metricName: "accuracy", higherIsBetter: true, denseMetric: 0.9, metric: 0.9 - loss / 100, metricLoss: loss,
              pruneRate: 0.5, feasible: feasible, speedup: speedup, energyReduction: energy, meanPlanes: 6, cycles: 1000,
              baselineCycles: 2000, analyticGap: .nan)
}

@Suite struct ParetoTests {
    @Test func frontRespectsBudgetDominanceAndFeasibility() {
        let rows = [
            row("a", lambda: 0.1, loss: 0.1, speedup: 1.5, energy: 1.2),   // front
            row("a", lambda: 0.2, loss: 0.3, speedup: 2.0, energy: 1.5),   // front
            row("a", lambda: 0.3, loss: 0.3, speedup: 1.9, energy: 1.4),   // dominated by λ=0.2
            row("a", lambda: 0.4, loss: 3.0, speedup: 4.0, energy: 3.0),   // over the 1-point budget
            row("a", lambda: 0.5, loss: 0.0, speedup: 9.0, energy: 9.0, feasible: false),  // infeasible hardware
            row("b", lambda: 0.1, loss: 0.5, speedup: 1.1, energy: 1.0),   // alone in task b: front and knee
        ]
        let report = ParetoReport.make(SweepResults(sweep: "t", rows: rows, fineTunes: [], traces: []), budgetPoints: 1.0)
        #expect(report.flags.map(\.withinBudget) == [true, true, true, false, false, true])
        #expect(report.flags.map(\.frontTask) == [true, true, false, false, false, true])
        #expect(report.flags.filter(\.kneeTask).count == 2)
        #expect(report.flags[5].kneeTask)
        // Family "toy" spans both tasks: task b's point is dominated by a's λ=0.1 (less loss, more speedup/energy).
        #expect(report.flags.map(\.frontFamily) == [true, true, false, false, false, false])
    }

    @Test func aggregateUsesGeometricMeansAcrossTasks() {
        let rows = [row("a", lambda: 0.1, loss: 0.2, speedup: 2.0, energy: 1.0),
                    row("b", lambda: 0.1, loss: 0.4, speedup: 8.0, energy: 4.0)]
        let report = ParetoReport.make(SweepResults(sweep: "t", rows: rows, fineTunes: [], traces: []), budgetPoints: 1.0)
        #expect(report.aggregate.count == 1)
        let a = report.aggregate[0]
        #expect(a.taskCount == 2)
        #expect(abs(a.geomeanSpeedup - 4.0) < 1e-12)
        #expect(abs(a.geomeanEnergyReduction - 2.0) < 1e-12)
        #expect(abs(a.meanMetricLoss - 0.3) < 1e-12)
        #expect(a.front && a.knee)
    }

    @Test func csvHasEveryIdentifyingColumnAndFixedFormats() {
        let rows = [row("a", lambda: 0.1, loss: 0.25, speedup: 1.23456, energy: 1.5, method: .topK)]
        let csv = ParetoReport.make(SweepResults(sweep: "t", rows: rows, fineTunes: [], traces: []), budgetPoints: 1.0).csv()
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let header = lines[0].split(separator: ",").map(String.init)
        for column in ["model", "family", "task", "seed", "lambda", "method", "hw_model", "qk_units", "dpu_width", "fifo_depth",
                       "frequency_mhz", "metric_loss", "speedup", "energy_reduction", "front_task", "knee_task", "job_key"] {
            #expect(header.contains(column), "missing column \(column)")
        }
        let cells = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let value = { (name: String) in cells[header.firstIndex(of: name)!] }
        #expect(value("lambda") == "0.100000")
        #expect(value("method") == "topk")
        #expect(value("speedup") == "1.235")
        #expect(value("metric_loss") == "0.250")
        #expect(value("qk_units") == "16")
        #expect(value("frequency_mhz") == "800.000")
        #expect(value("dpu_width") == "")  // not part of this row's hardware values
        #expect(value("analytic_gap") == "")  // NaN prints empty
        #expect(value("metric_loss_se") == "")  // a store without standard errors
        var withError = rows[0]
        withError.metricLossStandardError = 0.4567
        let second = ParetoReport.make(SweepResults(sweep: "t", rows: [withError], fineTunes: [], traces: []), budgetPoints: 1.0).csv()
        let secondCells = second.split(separator: "\n").map(String.init)[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(String(secondCells[header.firstIndex(of: "metric_loss_se")!]) == "0.457")
        #expect(header.firstIndex(of: "metric_loss_se") == header.firstIndex(of: "metric_loss")! + 1)
    }

    /// Stored standard errors become ±1 SE bars on the λ-loss plot (in points) and on each (model, task)'s λ-metric
    /// plot (back in metric units); a sweep without them plots as before.
    @Test func storedStandardErrorsBecomeErrorBars() {
        func fineTune(_ lambda: Double, se: Double?) -> (model: String, task: String, seed: Int, lambda: Double, metrics: [String: Double], variant: String) {
            var m: [String: Double] = ["metric": 0.8 - lambda / 10, "dense_metric": 0.8, "metric_loss": lambda * 10,
                                       "prune_rate": 0.5, "higher_is_better": 1]
            if let se { m["metric_loss_se"] = se }
            return ("bert-tiny", "glue/sst2", 1, lambda, m, "")
        }
        func plots(_ se: Double?) -> [String: String] {
            let results = SweepResults(sweep: "t", rows: [], fineTunes: [fineTune(0.1, se: se), fineTune(1, se: se)], traces: [])
            let all = SweepPlots.make(results, report: ParetoReport.make(results, budgetPoints: 1))
            return Dictionary(uniqueKeysWithValues: all.map { ($0.fileName, $0.svg) })
        }
        let with = plots(0.8), without = plots(nil)
        #expect(with["lambda-metric.svg"]?.contains("metric loss ±1 paired SE") == true)
        #expect(with["lambda-metric.svg"]?.contains("10.000 ± 0.800") == true, "the λ = 1 loss with its error in points")
        // 0.8 points of accuracy is 0.008 in metric units.
        #expect(with["lambda-metric-bert-tiny-glue_sst2.svg"]?.contains("0.700 ± 0.008") == true)
        #expect(without["lambda-metric.svg"]?.contains("±") == false)
        #expect(without["lambda-metric-bert-tiny-glue_sst2.svg"]?.contains("±") == false)
        // Perplexity: the error is stored in relative % of the dense perplexity (as the loss), so 2% of a dense 50 is 1.
        let ppl: [String: Double] = ["metric": 52, "dense_metric": 50, "metric_loss": 4, "prune_rate": 0.5, "higher_is_better": 0,
                                     "metric_loss_se": metricLossStandardErrorPoints(1, dense: 50, higherIsBetter: false)]
        let lm = SweepResults(sweep: "t", rows: [], fineTunes: [("gpt2-tiny", "ptb", 1, 0.5, ppl, ""), ("gpt2-tiny", "ptb", 1, 2, ppl, "")],
                              traces: [])
        let lmPlots = SweepPlots.make(lm, report: ParetoReport.make(lm, budgetPoints: 1))
        #expect(lmPlots.first { $0.fileName == "lambda-metric.svg" }?.svg.contains("4.000 ± 2.000") == true)
        #expect(lmPlots.first { $0.fileName == "lambda-metric-gpt2-tiny-ptb.svg" }?.svg.contains("52.000 ± 1.000") == true)
    }

    /// Standard errors in the loss's points: ×100 where higher is better, relative % of the dense value for perplexity.
    @Test func standardErrorPointsFollowTheLoss() {
        #expect(metricLossStandardErrorPoints(0.0081, dense: 0.8, higherIsBetter: true) == 100 * 0.0081)
        #expect(abs(metricLossStandardErrorPoints(0.5, dense: 360, higherIsBetter: false) - 100 * 0.5 / 360) < 1e-12)
        // The loss of a perplexity that rises by 1 SE is 1 SE in points.
        let dense = 7.17, se = 0.006
        #expect(abs(metricLossPoints(dense: dense, pruned: dense + se, higherIsBetter: false)
                    - metricLossStandardErrorPoints(se, dense: dense, higherIsBetter: false)) < 1e-9)
    }

    /// Two sweeps of the same (model, task, seed) under different fine-tune settings in one store: each Pareto row
    /// names the sweep whose fine-tune it is, and the plots draw one curve per setting instead of mixing them.
    @Test func twoSettingsInOneStoreStayApart() throws {
        let dir = try TemporaryDirectory()
        let a = toyManifestJSON(name: "a", tasks: ["toy/easy"], lambdas: [0.1, 0.5], qkUnits: [8])
        let b = a.replacingOccurrences(of: "\"name\": \"a\"", with: "\"name\": \"b\"")
            .replacingOccurrences(of: "\"training\": {\"steps\": 500}", with: "\"training\": {\"steps\": 500, \"steepness\": 20}")
        #expect(b.contains("\"steepness\": 20") && b.contains("\"name\": \"b\""))
        _ = try runPlan(toyPlan(a), store: dir.file("s.sqlite"))
        _ = try runPlan(toyPlan(b), store: dir.file("s.sqlite"))
        let store = try ResultStore(path: dir.file("s.sqlite"), access: .readOnly)
        let results = try SweepResults.load(store: store, sweep: nil, name: "s")
        // The dense job is shared; each sweep has its own two fine-tunes.
        #expect(results.fineTunes.count == 4)
        #expect(Set(results.fineTunes.map(\.variant)) == ["a", "b"])
        #expect(Set(results.rows.map(\.sweep)) == ["a", "b"])
        let csv = ParetoReport.make(results, budgetPoints: 2).csv().split(separator: "\n").map(String.init)
        let header = csv[0].split(separator: ",").map(String.init)
        let sweeps = csv.dropFirst().map { String($0.split(separator: ",", omittingEmptySubsequences: false)[header.firstIndex(of: "sweep")!]) }
        #expect(Set(sweeps) == ["a", "b"] && sweeps.filter { $0 == "a" }.count == sweeps.filter { $0 == "b" }.count)
        let plots = Dictionary(uniqueKeysWithValues: SweepPlots.make(results, report: ParetoReport.make(results, budgetPoints: 2))
            .map { ($0.fileName, $0.svg) })
        let lossPlot = try #require(plots["lambda-metric.svg"])
        #expect(lossPlot.contains("toy toy/easy seed 0 [a]") && lossPlot.contains("toy toy/easy seed 0 [b]"))
        #expect(plots["lambda-metric-toy-toy_easy.svg"]?.contains("pruned, seed 0 [b]") == true)
        // One sweep alone keeps its plain legends.
        let alone = try SweepResults.load(store: store, sweep: "a")
        #expect(alone.fineTunes.allSatisfy { $0.variant.isEmpty } && alone.fineTunes.count == 2)
        // A third sweep that differs only beside `training` (its thresholds' initialisation) is a setting of its own.
        let c = a.replacingOccurrences(of: "\"name\": \"a\"", with: "\"name\": \"c\"")
            .replacingOccurrences(of: "\"lambdas\":", with: "\"thresholdInit\": {\"method\": \"value\", \"value\": 0.5}, \"lambdas\":")
        #expect(c.contains("\"method\": \"value\""))
        _ = try runPlan(toyPlan(c), store: dir.file("s.sqlite"))
        let three = try SweepResults.load(store: try ResultStore(path: dir.file("s.sqlite"), access: .readOnly), sweep: nil)
        #expect(Set(three.fineTunes.map(\.variant)) == ["a", "b", "c"] && three.fineTunes.count == 6)
    }

    @Test func smokeSweepGivesParetoRowsBaselinesAndPlots() throws {
        let dir = try TemporaryDirectory()
        let plan = try toyPlan(toyManifestJSON(lambdas: [0.05, 0.3, 1.0], models: ["analytic", "cycle"]))
        _ = try runPlan(plan, store: dir.file("s.sqlite"), jobs: 2)
        let store = try ResultStore(path: dir.file("s.sqlite"), access: .readOnly)
        let results = try SweepResults.load(store: store, sweep: "t")
        // 2 tasks × 3 λ × 2 points × 2 models, each with its two baselines.
        #expect(results.rows.count == 2 * 3 * 2 * 2 * 3)
        #expect(Set(results.rows.map(\.method)) == Set(PruningMethod.allCases))
        #expect(results.rows.filter { $0.hardwareModel == "cycle" }.allSatisfy { $0.analyticGap.isFinite })
        let report = ParetoReport.make(results, budgetPoints: 2)
        #expect(report.flags.contains { $0.frontTask })
        let plots = SweepPlots.make(results, report: report)
        #expect(Set(plots.map(\.fileName)).isSuperset(of: ["pareto.svg", "lambda-prune-rate.svg", "lambda-metric.svg", "planes.svg",
                                                           "thresholds-toy-toy_easy.svg", "lambda-metric-toy-toy_easy.svg",
                                                           "lambda-metric-toy-toy_hard.svg"]))
        #expect(plots.first { $0.fileName == "lambda-metric.svg" }?.svg.contains("metric loss") == true)
        #expect(plots.first { $0.fileName == "lambda-metric-toy-toy_easy.svg" }?.svg.contains("dense, seed 0") == true)
        for plot in plots {
            #expect(plot.svg.hasPrefix("<svg") || plot.svg.hasPrefix("<?xml"), "\(plot.fileName)")
            #expect(plot.svg.contains("</svg>"))
            #expect(!plot.svg.contains("nan"), "\(plot.fileName) prints a NaN")
        }
        // Prune rate grows with λ on every task (the toy family's design; the λ curve must show it).
        for task in ["toy/easy", "toy/hard"] {
            let rates = results.fineTunes.filter { $0.task == task }.sorted { $0.lambda < $1.lambda }.map { $0.metrics["prune_rate"]! }
            #expect(rates == rates.sorted())
        }
    }
}
