// Reading a sweep's results back from the store as flat rows: one row per hardware evaluation (learned
// thresholds), plus one row per heuristic baseline (top-k, fixed threshold) on the same model and hardware point.
// Each row carries every identifying parameter (model, family, task, seed, λ, hardware values) and every figure.

import AcceleratorModel
import Basics
import Foundation
import Storage

public enum PruningMethod: String, Sendable, CaseIterable {
    /// Learned thresholds (the paper's method): pruning + exact early termination.
    case learned
    /// Top-k per query row at the learned prune rate (SpAtten-style). It needs exact scores before it can choose,
    /// so its hardware figures are the *pruning-only* mode (all bit planes, back-end skips pruned scores).
    case topK = "topk"
    /// A post-hoc fixed threshold at the learned prune rate, no fine-tuning. It can terminate early like the
    /// learned one; its figures are those of the learned trace at equal prune rate (an approximation).
    case fixedThreshold = "fixed-threshold"
}

public struct ResultRow: Sendable {
    public let jobKey: String
    public let model: String
    public let family: String
    public let task: String
    public let seed: Int
    public let lambda: Double
    public let method: PruningMethod
    public let hardwareModel: String
    public let energyTable: String
    /// Hardware parameter name → value (every numeric parameter of the configuration).
    public let hardware: [String: Double]
    public let metricName: String
    public let higherIsBetter: Bool
    public let denseMetric: Double
    public let metric: Double
    /// Points (see `metricLossPoints`); positive = worse than dense.
    public let metricLoss: Double
    public let pruneRate: Double
    public let feasible: Bool
    public let speedup: Double
    public let energyReduction: Double
    public let meanPlanes: Double
    public let cycles: Double
    public let baselineCycles: Double
    public let analyticGap: Double
    /// Paired standard error of `metricLoss`, in the same points; NaN when the store has none (older stores, toy jobs).
    public var metricLossStandardError: Double = .nan
    /// The sweep whose manifest planned the point's fine-tune (the one that stored it first, when two plan it); empty
    /// when unknown.
    public var sweep = ""
}

/// Everything the plots and Pareto need, loaded once.
public struct SweepResults: Sendable {
    public let sweep: String
    public let rows: [ResultRow]
    /// Fine-tune jobs that are done: (model, task, seed, λ, metrics), for λ curves and thresholds per layer.
    /// `variant` tells apart fine-tunes of one (model, task, seed) with different settings (a manifest's `training`,
    /// docs/manifest.md), run as separate sweeps into one store: the sweep that stored them; empty when the
    /// (model, task, seed) has one setting only.
    public let fineTunes: [(model: String, task: String, seed: Int, lambda: Double, metrics: [String: Double], variant: String)]
    /// Capture-trace jobs that are done: plane histograms.
    public let traces: [(model: String, task: String, lambda: Double, histogram: [Double])]
    /// Done jobs (of any kind) left out because they are superseded (CurrentJobs); 0 when everything was loaded.
    public var supersededLeftOut = 0

    public static let hardwareParameterNames = HardwareGrid.parameters.map(\.name)

    /// The results of `sweep` (nil = every sweep in the store), displayed under `name` (default: the sweep). With
    /// `current`, jobs it calls superseded are left out (and counted in `supersededLeftOut`); nil loads every job.
    public static func load(store: ResultStore, sweep: String?, name: String? = nil, current: CurrentJobs? = nil) throws -> SweepResults {
        let all = try store.jobs()
        let byKey = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })
        var metrics: [String: [String: Double]] = [:]
        for row in try store.rows("SELECT m.job_key, m.name, m.value FROM metrics m JOIN jobs j ON j.key = m.job_key WHERE j.state = 'done'") {
            guard case .text(let key) = row[0], case .text(let name) = row[1] else { continue }
            let value: Double
            switch row[2] {
            case .real(let v): value = v
            case .integer(let i): value = Double(i)
            default: value = .nan
            }
            metrics[key, default: [:]][name] = value
        }
        func params(_ job: JobRecord) -> JSONValue { (try? JSONParser.parse(job.parametersJSON)) ?? .null }
        var reports: [String: JSONValue] = [:]
        func report(_ key: String) -> JSONValue {
            if let r = reports[key] { return r }
            let r = ((try? store.artifact(key: key, kind: "report")).flatMap { $0 }).flatMap { try? JSONParser.parse(bytes: $0) } ?? .null
            reports[key] = r
            return r
        }

        var rows: [ResultRow] = []
        var fineTunes: [(model: String, task: String, seed: Int, lambda: Double, metrics: [String: Double], variant: String)] = []
        // Per fine-tune, what identifies its setting: the dense job it starts from (seed and dense-side settings) and
        // its own parameters but for λ and the seed key (fine-tune settings, threshold initialisation, baselines).
        var fineTuneSettings: [String] = []
        var traces: [(String, String, Double, [Double])] = []
        var supersededLeftOut = 0
        for job in all where (sweep == nil || job.sweep == sweep) && job.state == .done {
            // A current job's ancestors are current (its key hashes theirs), so leaving out superseded jobs here
            // never breaks the parent chains followed below.
            if let current, current.isSuperseded(job) {
                supersededLeftOut += 1
                continue
            }
            switch JobKind(rawValue: job.kind) {
            case .fineTune?:
                guard let dense = job.parentKey.flatMap({ byKey[$0] }) else { continue }
                let p = params(job), dp = params(dense)
                fineTunes.append((p["model"]?.stringValue ?? "?", p["task"]?.stringValue ?? "?", dp["seed"]?.intValue ?? 0,
                                  p["lambda"]?.doubleValue ?? .nan, metrics[job.key] ?? [:], job.sweep))
                var setting = p.objectValue ?? [:]
                setting["lambda"] = nil
                setting["seedKey"] = nil
                fineTuneSettings.append((job.parentKey ?? "") + " " + CanonicalJSON.encode(.object(setting)))
            case .captureTrace?:
                let m = metrics[job.key] ?? [:]
                let histogram = (0...16).map { m[String(format: "planes_hist_%02d", $0)] }
                let p = params(job)
                let lambda = job.parentKey.flatMap { metrics[$0]?["lambda"] } ?? .nan
                traces.append((p["model"]?.stringValue ?? "?", p["task"]?.stringValue ?? "?", lambda,
                               histogram.prefix { $0 != nil }.map { $0! }))
            case .hardwareEval?:
                guard let trace = job.parentKey.flatMap({ byKey[$0] }), let fineTune = trace.parentKey.flatMap({ byKey[$0] }),
                      let dense = fineTune.parentKey.flatMap({ byKey[$0] }) else { continue }
                let hp = params(job), fp = params(fineTune), dp = params(dense)
                let hm = metrics[job.key] ?? [:], fm = metrics[fineTune.key] ?? [:]
                let model = fp["model"]?.stringValue ?? "?"
                let denseReport = report(dense.key)
                var hardware: [String: Double] = [:]
                for name in hardwareParameterNames { if let v = hp["hardware"]?[name]?.doubleValue { hardware[name] = v } }
                let common = (model: model,
                              family: denseReport["family"]?.stringValue ?? ModelBackends.backend(for: model)?.family(model: model) ?? model,
                              task: fp["task"]?.stringValue ?? "?", seed: dp["seed"]?.intValue ?? 0,
                              lambda: fp["lambda"]?.doubleValue ?? .nan)
                func row(_ method: PruningMethod, metric: Double?, loss: Double?, standardError: Double?, speedup: Double?,
                         energy: Double?, cycles: Double? = hm["cycles"], meanPlanes: Double? = hm["mean_planes"]) -> ResultRow? {
                    guard let metric, let loss else { return nil }
                    var row = ResultRow(jobKey: job.key, model: common.model, family: common.family, task: common.task, seed: common.seed,
                                     lambda: common.lambda, method: method, hardwareModel: hp["model"]?.stringValue ?? "?",
                                     energyTable: hp["energyTable"]?.stringValue ?? "?", hardware: hardware,
                                     metricName: denseReport["metricName"]?.stringValue ?? "metric",
                                     higherIsBetter: (fm["higher_is_better"] ?? 1) != 0, denseMetric: fm["dense_metric"] ?? .nan,
                                     metric: metric, metricLoss: loss, pruneRate: fm["prune_rate"] ?? .nan,
                                     feasible: (hm["feasible"] ?? 0) != 0, speedup: speedup ?? .nan, energyReduction: energy ?? .nan,
                                     meanPlanes: meanPlanes ?? .nan, cycles: cycles ?? .nan,
                                     baselineCycles: hm["baseline_cycles"] ?? .nan, analyticGap: hm["analytic_gap"] ?? .nan)
                    row.metricLossStandardError = standardError ?? .nan
                    row.sweep = fineTune.sweep
                    return row
                }
                if let r = row(.learned, metric: fm["metric"], loss: fm["metric_loss"], standardError: fm["metric_loss_se"],
                               speedup: hm["speedup"], energy: hm["energy_reduction"]) {
                    rows.append(r)
                }
                // Top-k processes every bit plane (no early termination): pruning-only cycles; planes not applicable.
                if let r = row(.topK, metric: fm["topk_metric"], loss: fm["topk_metric_loss"], standardError: fm["topk_metric_loss_se"],
                               speedup: hm["speedup_pruning_only"], energy: hm["energy_reduction_pruning_only"],
                               cycles: hm["cycles_pruning_only"], meanPlanes: nil) {
                    rows.append(r)
                }
                if let r = row(.fixedThreshold, metric: fm["fixed_metric"], loss: fm["fixed_metric_loss"],
                               standardError: fm["fixed_metric_loss_se"], speedup: hm["speedup"],
                               energy: hm["energy_reduction"]) { rows.append(r) }
            default:
                continue
            }
        }
        // A (model, task, seed) fine-tuned under more than one setting keeps the sweep name as its variant; one
        // setting alone needs none (so one sweep's plots and legends are as they always were).
        var settingsPerRun: [String: Set<String>] = [:]
        for (i, f) in fineTunes.enumerated() { settingsPerRun["\(f.model)|\(f.task)|\(f.seed)", default: []].insert(fineTuneSettings[i]) }
        for i in fineTunes.indices where (settingsPerRun["\(fineTunes[i].model)|\(fineTunes[i].task)|\(fineTunes[i].seed)"]?.count ?? 0) < 2 {
            fineTunes[i].variant = ""
        }
        return SweepResults(sweep: name ?? sweep ?? "all", rows: rows, fineTunes: fineTunes, traces: traces,
                            supersededLeftOut: supersededLeftOut)
    }
}
