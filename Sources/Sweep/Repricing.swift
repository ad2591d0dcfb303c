// Re-pricing: energy figures of stored hardware evaluations under another energy table, from the action counts
// each hw-eval job stored (its `counts` artifact: per mode, the additive counts of DESIGN.md §2), without
// re-simulating. Energy is linear in the counts, so the result is exactly what a sweep run with the other table
// would have stored; the tests check both that and that the job's own table reproduces its stored figures.
// Read-only: nothing is written to the store.

import AcceleratorModel
import Basics
import Reporting
import Storage

/// One feasible hardware evaluation of learned thresholds, priced under the stored table and under `table`.
public struct RepricedPoint: Sendable {
    /// The hw-eval job's key.
    public let jobKey: String
    public let model: String
    public let task: String
    public let seed: Int
    public let lambda: Double
    public let hardwareModel: String
    public let hardware: [String: Double]
    public let pruneRate: Double
    public let metricLoss: Double
    /// The table the sweep priced the point with, and its stored figures.
    public let storedTable: String
    public let storedEnergyPicojoules: Double
    public let storedEnergyReduction: Double
    /// The figures under the new table (pruning + early termination; pruning only; baseline).
    public let energyPicojoules: Double
    public let baselineEnergyPicojoules: Double
    public let energyReduction: Double
    public let energyReductionPruningOnly: Double
    /// The new table's energy of the pruning + early-termination mode per action (pJ), in `ActionCounts` order.
    public let breakdown: [(name: String, picojoules: Double)]
}

public enum Repricing {
    /// Every feasible learned-threshold point of `sweep` (nil = all sweeps) in `store`, priced with `table`.
    /// A missing or malformed `counts` artifact is an error naming the store and the job.
    public static func reprice(store: ResultStore, storePath: String, sweep: String?, table: EnergyTable) throws -> [RepricedPoint] {
        try reprice(store: store, storePath: storePath, results: SweepResults.load(store: store, sweep: sweep), table: table)
    }

    /// The feasible learned-threshold points of `results` (loaded from `store`, e.g. without superseded jobs),
    /// priced with `table`.
    public static func reprice(store: ResultStore, storePath: String, results: SweepResults, table: EnergyTable) throws -> [RepricedPoint] {
        var points: [RepricedPoint] = []
        for row in results.rows where row.method == .learned && row.feasible {
            let place = "job \(row.jobKey.prefix(12)), artifact counts"
            guard let bytes = try store.artifact(key: row.jobKey, kind: "counts") else {
                throw InputError(file: storePath, place: place, problem: "missing (the job stored no action counts)")
            }
            let reader = try JSONReader.parse(bytes: bytes, file: "\(storePath) (\(place))")
            let o = try reader.object()
            var counts: [SimulationMode: ActionCounts] = [:]
            for mode in SimulationMode.allCases {
                counts[mode] = try ActionCounts(json: o.required(mode.rawValue, "the action counts of mode \(mode.rawValue)"))
            }
            try o.finish()
            let metrics = try store.metrics(key: row.jobKey)
            let best = table.price(counts[.pruningAndTermination]!)
            let baseline = table.price(counts[.baseline]!).totalPicojoules
            let pruningOnly = table.price(counts[.pruningOnly]!).totalPicojoules
            points.append(RepricedPoint(
                jobKey: row.jobKey, model: row.model, task: row.task, seed: row.seed, lambda: row.lambda,
                hardwareModel: row.hardwareModel, hardware: row.hardware, pruneRate: row.pruneRate, metricLoss: row.metricLoss,
                storedTable: row.energyTable, storedEnergyPicojoules: metrics["energy_pj"] ?? .nan,
                storedEnergyReduction: row.energyReduction,
                energyPicojoules: best.totalPicojoules, baselineEnergyPicojoules: baseline,
                energyReduction: baseline / best.totalPicojoules, energyReductionPruningOnly: baseline / pruningOnly,
                breakdown: best.parts))
        }
        return points.sorted { ($0.model, $0.task, $0.lambda, $0.jobKey) < ($1.model, $1.task, $1.lambda, $1.jobKey) }
    }

    /// One CSV row per point: identity, hardware parameters, stored and new figures, the new per-action energies
    /// (fixed formats, as pareto.csv).
    public static func csv(_ points: [RepricedPoint], tableName: String) -> String {
        let actions = ActionCounts.actionNames
        var table = CSVTable(header: ["job_key", "model", "task", "seed", "lambda", "hardware_model"]
                             + SweepResults.hardwareParameterNames.map(ParetoReport.snake)
                             + ["prune_rate", "metric_loss", "stored_table", "stored_energy_pj", "stored_energy_reduction", "table",
                                "energy_pj", "baseline_energy_pj", "energy_reduction", "energy_reduction_pruning_only"]
                             + actions.map { "pj_\($0)" })
        for p in points {
            let parts = Dictionary(uniqueKeysWithValues: p.breakdown.map { ($0.name, $0.picojoules) })
            table.append([.text(p.jobKey), .text(p.model), .text(p.task), .integer(p.seed), .fixed(p.lambda, decimals: 6),
                          .text(p.hardwareModel)]
                         + ParetoReport.hardwareCells(p.hardware)
                         + [.fixed(p.pruneRate, decimals: 4), .fixed(p.metricLoss, decimals: 3), .text(p.storedTable),
                            .fixed(p.storedEnergyPicojoules, decimals: 3), .fixed(p.storedEnergyReduction, decimals: 4),
                            .text(tableName), .fixed(p.energyPicojoules, decimals: 3), .fixed(p.baselineEnergyPicojoules, decimals: 3),
                            .fixed(p.energyReduction, decimals: 4), .fixed(p.energyReductionPruningOnly, decimals: 4)]
                         + actions.map { name in parts[name].map { CSVCell.fixed($0, decimals: 3) } ?? .empty })
        }
        return table.render()
    }

    /// Geometric means of the stored and the new energy reductions (nil when there are no points).
    public static func geometricMeanReductions(_ points: [RepricedPoint]) -> (stored: Double?, new: Double?) {
        (Pareto.geometricMean(points.map(\.storedEnergyReduction)), Pareto.geometricMean(points.map(\.energyReduction)))
    }
}
