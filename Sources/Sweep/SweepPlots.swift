// The sweep's figures, as SVG documents built with Reporting's charts (escaped text, fixed decimals):
//   pareto.svg                speedup vs energy reduction of feasible points within budget, coloured by metric
//                             loss, the 2-D front dashed, each task's knee (of the 3-objective front) ringed
//   lambda-prune-rate.svg     λ vs prune rate, one line per (model, task)
//   lambda-metric.svg         λ vs metric loss in points (relative % for perplexity), one line per (model, task):
//                             one axis every task shares; ±1 paired standard error bars where stored
//   lambda-metric-<m>-<t>.svg λ vs pruned metric of one (model, task), with its dense metric as a flat line
//   thresholds-<m>-<t>.svg    learned threshold per layer, one bar per λ
//   planes.svg                histogram of bit planes processed per valid score, one bar series per trace λ

import Basics
import Reporting

public struct SweepPlot: Sendable {
    public let fileName: String
    public let svg: String
}

public enum SweepPlots {
    public static func make(_ results: SweepResults, report: ParetoReport) -> [SweepPlot] {
        var plots: [SweepPlot] = []

        // Pareto scatter: learned points within budget (plus labelled baselines).
        let eligible = report.rows.indices.filter { report.flags[$0].withinBudget }
        if !eligible.isEmpty {
            let points = eligible.map { i -> ScatterPoint in
                let r = report.rows[i]
                let label = "\(r.model) \(r.task) λ=\(formatFixed(r.lambda, decimals: 4)) \(r.method.rawValue) \(r.hardwareModel)"
                    + " loss=\(formatFixed(r.metricLoss, decimals: 3))"
                return ScatterPoint(x: r.speedup, y: r.energyReduction, colorValue: r.metricLoss, label: label,
                                    highlighted: report.flags[i].kneeTask)
            }
            // The dashed line: the points no other plotted point beats in both speedup and energy reduction.
            let twoD = Pareto.front(points.map { [$0.x, $0.y] }, directions: [.maximize, .maximize])
            plots.append(SweepPlot(fileName: "pareto.svg", svg: ScatterChart(
                title: "\(results.sweep): speedup vs energy reduction (within \(formatFixed(report.budgetPoints, decimals: 2)) pt)",
                xLabel: "speedup over baseline (×)", yLabel: "energy reduction (×)", points: points,
                colorLabel: "metric loss (pt)", frontIndices: twoD).render()))
        }

        // λ curves.
        // One curve per (model, task, seed) and, where one store holds several settings of it, per setting (its sweep).
        let curves = Dictionary(grouping: results.fineTunes) {
            "\($0.model) \($0.task) seed \($0.seed)" + ($0.variant.isEmpty ? "" : " [\($0.variant)]")
        }
        let names = curves.keys.sorted()
        if !names.isEmpty {
            let pruneSeries = names.map { name in
                LineSeries(name: name, points: curves[name]!.map { (x: $0.lambda, y: $0.metrics["prune_rate"] ?? .nan) })
            }
            // ±1 paired standard error of each loss where the store has one (preset fine-tunes, docs/manifest.md).
            let withErrors = results.fineTunes.contains { $0.metrics["metric_loss_se"] != nil }
            let lossSeries = names.map { name in
                LineSeries(name: name, points: curves[name]!.map { (x: $0.lambda, y: $0.metrics["metric_loss"] ?? .nan) },
                           errors: withErrors ? curves[name]!.map { $0.metrics["metric_loss_se"] ?? .nan } : nil)
            }
            let positive = results.fineTunes.allSatisfy { $0.lambda > 0 } && Set(results.fineTunes.map(\.lambda)).count > 2
            plots.append(SweepPlot(fileName: "lambda-prune-rate.svg", svg: LineChart(
                title: "\(results.sweep): λ vs prune rate", xLabel: "λ (regularizer weight)", yLabel: "prune rate",
                xScale: positive ? .log10 : .linear, series: pruneSeries).render()))
            plots.append(SweepPlot(fileName: "lambda-metric.svg", svg: LineChart(
                title: "\(results.sweep): λ vs metric loss", xLabel: "λ (regularizer weight)",
                yLabel: withErrors ? "metric loss ±1 paired SE (points; perplexity: rel. %)"
                                   : "metric loss vs dense (points; perplexity: relative %)",
                xScale: positive ? .log10 : .linear, series: lossSeries).render()))
            // Each (model, task) on its own metric axis, the dense metric beside the pruned one.
            let perModelTask = Dictionary(grouping: results.fineTunes) { "\($0.model)|\($0.task)" }
            for key in perModelTask.keys.sorted() {
                let parts = key.split(separator: "|").map(String.init)
                let bySeed = Dictionary(grouping: perModelTask[key]!) { SeedVariant(seed: $0.seed, variant: $0.variant) }
                var series: [LineSeries] = []
                for run in bySeed.keys.sorted() {
                    let label = run.variant.isEmpty ? "seed \(run.seed)" : "seed \(run.seed) [\(run.variant)]"
                    let runs = bySeed[run]!.sorted { $0.lambda < $1.lambda }
                    // The loss's standard error back in metric units (it is stored in points, `metricLossStandardErrorPoints`).
                    let errors = runs.map { run -> Double in
                        guard let se = run.metrics["metric_loss_se"] else { return .nan }
                        let higher = (run.metrics["higher_is_better"] ?? 1) != 0
                        return higher ? se / 100 : se / 100 * abs(run.metrics["dense_metric"] ?? .nan)
                    }
                    series.append(LineSeries(name: "pruned, \(label)", points: runs.map { (x: $0.lambda, y: $0.metrics["metric"] ?? .nan) },
                                             errors: errors.contains { $0.isFinite } ? errors : nil))
                    series.append(LineSeries(name: "dense, \(label)", points: runs.map { (x: $0.lambda, y: $0.metrics["dense_metric"] ?? .nan) }))
                }
                let taskPositive = perModelTask[key]!.allSatisfy { $0.lambda > 0 } && Set(perModelTask[key]!.map(\.lambda)).count > 2
                plots.append(SweepPlot(fileName: "lambda-metric-\(fileSafe(parts[0]))-\(fileSafe(parts[1])).svg", svg: LineChart(
                    title: "\(parts[0]) on \(parts[1]): λ vs metric", xLabel: "λ (regularizer weight)",
                    yLabel: "metric (hard threshold)"
                        + (perModelTask[key]!.contains { $0.metrics["metric_loss_se"] != nil } ? "; bars ±1 paired SE of the loss" : ""),
                    xScale: taskPositive ? .log10 : .linear, series: series).render()))
            }
        }

        // Learned thresholds per layer, per (model, task) of the first seed.
        let byModelTask = Dictionary(grouping: results.fineTunes) { "\($0.model)|\($0.task)" }
        for name in byModelTask.keys.sorted() {
            let runs = byModelTask[name]!.filter { $0.seed == byModelTask[name]!.map(\.seed).min() }.sorted { $0.lambda < $1.lambda }
            let layerCount = runs.map { r in r.metrics.keys.filter { $0.hasPrefix("threshold_") }.count }.max() ?? 0
            guard layerCount > 0 else { continue }
            let categories = (0..<layerCount).map { "layer \($0)" }
            let series = runs.map { r in
                BarSeries(name: "λ = \(formatFixed(r.lambda, decimals: 4))" + (r.variant.isEmpty ? "" : " [\(r.variant)]"),
                          values: (0..<layerCount).map { r.metrics[String(format: "threshold_%02d", $0)] ?? .nan })
            }
            let parts = name.split(separator: "|").map(String.init)
            plots.append(SweepPlot(fileName: "thresholds-\(fileSafe(parts[0]))-\(fileSafe(parts[1])).svg", svg: BarChart(
                title: "\(parts[0]) on \(parts[1]): learned threshold per layer", xLabel: "attention layer", yLabel: "threshold Th",
                categories: categories, series: series).render()))
        }

        // Bit planes processed.
        let traces = results.traces.filter { !$0.histogram.isEmpty }.sorted { ($0.model, $0.task, $0.lambda) < ($1.model, $1.task, $1.lambda) }
        if let width = traces.map(\.histogram.count).max() {
            let shown = Array(traces.prefix(8))
            let series = shown.map { t -> BarSeries in
                let total = t.histogram.reduce(0, +)
                let padded = t.histogram + [Double](repeating: 0, count: width - t.histogram.count)
                return BarSeries(name: "\(t.model) \(t.task) λ=\(formatFixed(t.lambda, decimals: 3))",
                                 values: padded.map { total > 0 ? $0 / total : 0 })
            }
            plots.append(SweepPlot(fileName: "planes.svg", svg: BarChart(
                title: "\(results.sweep): bit planes processed per valid score", xLabel: "bit planes processed",
                yLabel: "fraction of valid scores", categories: (0..<width).map(String.init), series: series).render()))
        }
        return plots
    }

    /// A name usable in a file name: letters, digits, `-` and `.` kept, everything else `_`.
    public static func fileSafe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
    }
}

/// A (seed, setting) of one (model, task): one pruned and one dense series on its λ-metric plot.
private struct SeedVariant: Hashable, Comparable {
    let seed: Int
    let variant: String
    static func < (a: SeedVariant, b: SeedVariant) -> Bool { (a.seed, a.variant) < (b.seed, b.variant) }
}
