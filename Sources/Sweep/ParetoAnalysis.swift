// Pareto fronts over (metric ↑, speedup ↑, energy reduction ↑) among feasible points within the accuracy-loss
// budget. Across tasks the metrics differ in kind, so the first objective is the metric *loss* in points
// (minimised) — within one task that orders points exactly as the metric does. Fronts are computed per task,
// per model family, and over the aggregate across tasks: points sharing (model, seed, λ, method, hardware point,
// performance model) are combined into one with the geometric-mean speedup and energy reduction and the mean
// metric loss. Each front has a knee (Reporting.Pareto.knee). Heuristic baselines take part, labelled.

import Basics
import Foundation
import Reporting

public struct ParetoFlags: Sendable, Equatable {
    public var withinBudget = false
    public var frontTask = false
    public var frontFamily = false
    public var kneeTask = false
    public var kneeFamily = false
}

public struct AggregatePoint: Sendable {
    public let model: String
    public let family: String
    public let seed: Int
    public let lambda: Double
    public let method: PruningMethod
    public let hardwareModel: String
    public let hardware: [String: Double]
    public let taskCount: Int
    public let meanMetricLoss: Double
    public let geomeanSpeedup: Double
    public let geomeanEnergyReduction: Double
    public var withinBudget = false
    public var front = false
    public var knee = false
}

public struct ParetoReport: Sendable {
    public let sweep: String
    public let budgetPoints: Double
    public let rows: [ResultRow]
    public let flags: [ParetoFlags]
    public let aggregate: [AggregatePoint]

    static let directions: [Direction] = [.minimize, .maximize, .maximize]

    public static func make(_ results: SweepResults, budgetPoints: Double) -> ParetoReport {
        let rows = results.rows
        var flags = [ParetoFlags](repeating: ParetoFlags(), count: rows.count)
        func objectives(_ r: ResultRow) -> [Double] { [r.metricLoss, r.speedup, r.energyReduction] }
        for (i, r) in rows.enumerated() {
            flags[i].withinBudget = r.feasible && r.metricLoss <= budgetPoints + 1e-12 && r.speedup.isFinite && r.energyReduction.isFinite
        }
        func mark(groups: [String: [Int]], front: WritableKeyPath<ParetoFlags, Bool>, knee: WritableKeyPath<ParetoFlags, Bool>) {
            for (_, members) in groups {
                let eligible = members.filter { flags[$0].withinBudget }
                let points = eligible.map { objectives(rows[$0]) }
                let frontLocal = Pareto.front(points, directions: directions)
                for f in frontLocal { flags[eligible[f]][keyPath: front] = true }
                if let k = Pareto.knee(points, among: frontLocal, directions: directions) { flags[eligible[k]][keyPath: knee] = true }
            }
        }
        mark(groups: Dictionary(grouping: rows.indices) { rows[$0].task }, front: \.frontTask, knee: \.kneeTask)
        mark(groups: Dictionary(grouping: rows.indices) { rows[$0].family }, front: \.frontFamily, knee: \.kneeFamily)

        // Aggregate across tasks.
        let groups = Dictionary(grouping: rows.indices.filter { rows[$0].feasible }) { i -> String in
            let r = rows[i]
            return [r.model, String(r.seed), CanonicalJSON.formatNumber(r.lambda), r.method.rawValue, r.hardwareModel,
                    SweepResults.hardwareParameterNames.map { CanonicalJSON.formatNumber(r.hardware[$0] ?? .nan) }.joined(separator: ",")]
                .joined(separator: "|")
        }
        var aggregate: [AggregatePoint] = groups.keys.sorted().map { key in
            let members = groups[key]!.map { rows[$0] }
            let first = members[0]
            func geomean(_ xs: [Double]) -> Double { exp(xs.map { log(max($0, 1e-300)) }.reduce(0, +) / Double(xs.count)) }
            let loss = members.map(\.metricLoss).reduce(0, +) / Double(members.count)
            return AggregatePoint(model: first.model, family: first.family, seed: first.seed, lambda: first.lambda, method: first.method,
                                  hardwareModel: first.hardwareModel, hardware: first.hardware, taskCount: Set(members.map(\.task)).count,
                                  meanMetricLoss: loss, geomeanSpeedup: geomean(members.map(\.speedup)),
                                  geomeanEnergyReduction: geomean(members.map(\.energyReduction)),
                                  withinBudget: loss <= budgetPoints + 1e-12)
        }
        let eligible = aggregate.indices.filter { aggregate[$0].withinBudget && aggregate[$0].geomeanSpeedup.isFinite }
        let points = eligible.map { [aggregate[$0].meanMetricLoss, aggregate[$0].geomeanSpeedup, aggregate[$0].geomeanEnergyReduction] }
        let front = Pareto.front(points, directions: directions)
        for f in front { aggregate[eligible[f]].front = true }
        if let k = Pareto.knee(points, among: front, directions: directions) { aggregate[eligible[k]].knee = true }
        return ParetoReport(sweep: results.sweep, budgetPoints: budgetPoints, rows: rows, flags: flags, aggregate: aggregate)
    }

    /// camelCase → snake_case for column names.
    /// The hardware parameters as CSV cells in `SweepResults.hardwareParameterNames` order (integers but for the
    /// two fractional parameters); the header names are `snake` of the same list.
    static func hardwareCells(_ hardware: [String: Double]) -> [CSVCell] {
        SweepResults.hardwareParameterNames.map { name in
            hardware[name].map { CSVCell.fixed($0, decimals: name == "expPerCycle" || name == "frequencyMHz" ? 3 : 0) } ?? .empty
        }
    }

    static func snake(_ name: String) -> String {
        var out = ""
        for c in name {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }  // frequencyMHz → frequency_m_hz, fixed below
        }
        return out.replacingOccurrences(of: "_m_hz", with: "_mhz")
    }

    /// The tasks present, sorted.
    public var tasks: [String] { Set(rows.map(\.task)).sorted() }

    /// One row per point, every identifying parameter and every figure, fixed formats. `onlyFrontOfTask` keeps
    /// the points on that task's front (the per-task front files).
    public func csv(onlyFrontOfTask task: String? = nil) -> String {
        let hw = SweepResults.hardwareParameterNames
        var table = CSVTable(header: ["sweep", "model", "family", "task", "seed", "lambda", "method", "hw_model", "energy_table"]
                             + hw.map(Self.snake)
                             + ["metric_name", "dense_metric", "metric", "metric_loss", "metric_loss_se", "prune_rate", "speedup",
                                "energy_reduction", "mean_planes", "cycles", "baseline_cycles", "analytic_gap", "feasible", "within_budget",
                                "front_task", "front_family", "knee_task", "knee_family", "job_key"])
        let order = rows.indices.sorted { a, b in
            let x = rows[a], y = rows[b]
            return (x.task, x.model, x.seed, x.lambda, x.method.rawValue, x.jobKey) < (y.task, y.model, y.seed, y.lambda, y.method.rawValue, y.jobKey)
        }
        func bit(_ b: Bool) -> CSVCell { .integer(b ? 1 : 0) }
        for i in order where task == nil || (rows[i].task == task && flags[i].frontTask) {
            let r = rows[i], f = flags[i]
            var cells: [CSVCell] = [.text(r.sweep.isEmpty ? sweep : r.sweep), .text(r.model), .text(r.family), .text(r.task), .integer(r.seed),
                                    .fixed(r.lambda, decimals: 6), .text(r.method.rawValue), .text(r.hardwareModel), .text(r.energyTable)]
            cells += Self.hardwareCells(r.hardware)
            cells += [.text(r.metricName), .fixed(r.denseMetric, decimals: 4), .fixed(r.metric, decimals: 4), .fixed(r.metricLoss, decimals: 3),
                      .fixed(r.metricLossStandardError, decimals: 3), .fixed(r.pruneRate, decimals: 4), .fixed(r.speedup, decimals: 3), .fixed(r.energyReduction, decimals: 3),
                      .fixed(r.meanPlanes, decimals: 3), .fixed(r.cycles, decimals: 0), .fixed(r.baselineCycles, decimals: 0),
                      .fixed(r.analyticGap, decimals: 4), bit(r.feasible), bit(f.withinBudget), bit(f.frontTask), bit(f.frontFamily),
                      bit(f.kneeTask), bit(f.kneeFamily), .text(r.jobKey)]
            table.append(cells)
        }
        return table.render()
    }

    /// The aggregate across tasks, one row per (model, seed, λ, method, hardware point, performance model).
    public func aggregateCSV() -> String {
        let hw = SweepResults.hardwareParameterNames
        var table = CSVTable(header: ["sweep", "model", "family", "seed", "lambda", "method", "hw_model"] + hw.map(Self.snake)
                             + ["tasks", "mean_metric_loss", "geomean_speedup", "geomean_energy_reduction", "within_budget", "front", "knee"])
        for a in aggregate {
            var cells: [CSVCell] = [.text(sweep), .text(a.model), .text(a.family), .integer(a.seed), .fixed(a.lambda, decimals: 6),
                                    .text(a.method.rawValue), .text(a.hardwareModel)]
            cells += Self.hardwareCells(a.hardware)
            cells += [.integer(a.taskCount), .fixed(a.meanMetricLoss, decimals: 3), .fixed(a.geomeanSpeedup, decimals: 3),
                      .fixed(a.geomeanEnergyReduction, decimals: 3), .integer(a.withinBudget ? 1 : 0), .integer(a.front ? 1 : 0),
                      .integer(a.knee ? 1 : 0)]
            table.append(cells)
        }
        return table.render()
    }

    /// The knee of each task's front, for the command's summary.
    public var kneesPerTask: [ResultRow] {
        rows.indices.filter { flags[$0].kneeTask }.map { rows[$0] }.sorted { $0.task < $1.task }
    }
}

#if canImport(Glibc)
import Glibc
#endif
