// `leopard pareto [--store PATH] [--csv PATH] [--budget PCT] [--include-superseded]`: Pareto fronts of a sweep
// (Sweep.ParetoReport) as CSV files — every point with its front/knee flags, and the aggregate across tasks — and a
// short summary. Superseded jobs (Sweep.CurrentJobs) are left out unless asked for.

import Basics
import Foundation
import Storage
import Sweep

public struct ParetoCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "pareto", abstract: "Write Pareto fronts (metric, speedup, energy reduction) of a sweep as CSV.",
        usage: "[--store PATH] [--csv PATH] [--budget PCT] [--include-superseded] [--json]",
        discussion: """
        Points are feasible hardware evaluations within the accuracy-loss budget (metric points: percentage points
        of accuracy, relative % for perplexity). Fronts per task, per model family and across tasks (geometric-mean
        speedup and energy reduction, mean loss), each with its knee. Top-k and fixed-threshold baselines are
        included with method = topk / fixed-threshold. Also writes <csv stem>-aggregate.csv and one
        pareto-front-<task>.csv per task (that task's front only) beside the CSV. Only the jobs the stored manifest
        plans with this build take part: results superseded by a manifest edit or a changed preset default are left
        out (a note on stderr says how many) unless --include-superseded.
        """,
        arguments: [
            ArgumentHelp("--store PATH", "Result store (default: the only results/*.sqlite)."),
            ArgumentHelp("--csv PATH", "Output CSV (default results/<store name>/pareto.csv)."),
            ArgumentHelp("--budget PCT", "Accuracy-loss budget in points (default: the manifest's, else 1)."),
            includeSupersededHelp,
            ArgumentHelp("--json", "Print the knee points as one JSON object."),
        ])

    let store: String?
    let csv: String?
    let budget: Double?
    let includeSuperseded: Bool
    let json: Bool

    public init(arguments: inout Arguments) throws {
        store = try arguments.option("--store")
        csv = try arguments.option("--csv")
        budget = try arguments.doubleOption("--budget", minimum: 0)
        includeSuperseded = try arguments.flag("--include-superseded")
        json = try arguments.flag("--json")
    }

    public func run(_ io: CommandIO) throws {
        let path = try SweepPaths.resolveStore(store)
        let store = try ResultStore(path: path, access: .readOnly)
        let stem = SweepPaths.stem(ofStore: path)
        let names = try store.sweepNames()
        let results = try loadSweepResults(store: store, name: names.count == 1 ? names[0] : stem,
                                           includeSuperseded: includeSuperseded, io: io)
        let budget = try self.budget ?? storedBudget(store) ?? 1.0
        let report = ParetoReport.make(results, budgetPoints: budget)
        let csvPath = csv ?? "results/\(stem)/pareto.csv"
        let aggregatePath = (csvPath.hasSuffix(".csv") ? String(csvPath.dropLast(4)) : csvPath) + "-aggregate.csv"
        try SweepPaths.makeParentDirectory(of: csvPath)
        try report.csv().write(toFile: csvPath, atomically: true, encoding: .utf8)
        try report.aggregateCSV().write(toFile: aggregatePath, atomically: true, encoding: .utf8)
        // Per-task fronts beside it: pareto-front-<task>.csv ('/' in task names becomes '_').
        let directory = (csvPath as NSString).deletingLastPathComponent
        for task in report.tasks {
            let name = "pareto-front-" + SweepPlots.fileSafe(task) + ".csv"
            try report.csv(onlyFrontOfTask: task).write(toFile: (directory.isEmpty ? "." : directory) + "/" + name, atomically: true, encoding: .utf8)
        }
        let within = report.flags.filter(\.withinBudget).count
        if json {
            io.printJSON([
                "csv": .string(csvPath), "aggregate_csv": .string(aggregatePath), "points": JSONValue(report.rows.count),
                "within_budget": JSONValue(within), "budget": JSONValue(budget),
                "knees": .array(report.kneesPerTask.map { r in
                    var knee: [String: JSONValue] = [
                        "model": .string(r.model), "task": .string(r.task), "lambda": JSONValue(r.lambda), "method": .string(r.method.rawValue),
                        "metric_loss": JSONValue(r.metricLoss), "speedup": JSONValue(r.speedup),
                        "energy_reduction": JSONValue(r.energyReduction), "prune_rate": JSONValue(r.pruneRate)]
                    if r.metricLossStandardError.isFinite { knee["metric_loss_se"] = JSONValue(r.metricLossStandardError) }
                    return .object(knee)
                }),
            ])
            return
        }
        io.print("\(report.rows.count) points (\(within) feasible within \(formatFixedText(budget)) pt); wrote \(csvPath) and \(aggregatePath)")
        for r in report.kneesPerTask {
            io.print("  knee \(r.task): \(r.model) λ=\(formatFixedText(r.lambda)) \(r.method.rawValue), loss \(String(format: "%.3f", r.metricLoss))"
                     + (r.metricLossStandardError.isFinite ? " ± \(String(format: "%.3f", r.metricLossStandardError))" : "") + " pt, "
                     + "prune rate \(String(format: "%.3f", r.pruneRate)), speedup \(String(format: "%.2f", r.speedup))×, "
                     + "energy reduction \(String(format: "%.2f", r.energyReduction))×")
        }
    }

    private func storedBudget(_ store: ResultStore) throws -> Double? {
        for name in try store.sweepNames() {
            if let b = try store.sweepManifest(name: name)?["budget"]?.doubleValue { return b }
        }
        return nil
    }
}

func formatFixedText(_ x: Double) -> String { CanonicalJSON.formatNumber(x) }
