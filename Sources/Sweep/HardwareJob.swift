// hw-eval: one hardware point on one captured trace, with the analytic model (from the trace's stored statistics
// alone) or the cycle-level model (the trace itself; the analytic model runs beside it and the gap is stored).
// An impossible point is a *result* — `feasible = 0` and the reason in the job's report — not a failure.
//
// Metrics: speedup and energy_reduction of pruning + early termination over the baseline datapath (DESIGN.md §2),
// the same for pruning only (`*_pruning_only`: the figures a top-k scheme, which needs exact scores, could reach),
// cycles per mode, energy in pJ, mean planes, prune rate in the integer domain, utilisation, area. The action
// counts per mode go into the `counts` artifact so a new energy table can re-price the point without simulating.

import AcceleratorModel
import Basics
import Foundation
import Storage
import Workloads

enum HardwareJob {
    static func run(_ inputs: JobInputs, parameters o: JSONObjectReader, environment: JobEnvironment) throws -> JobOutput {
        let hardware = try HardwareConfig(json: o.required("hardware"))
        let model = PerformanceModel(rawValue: try o.required("model").string(oneOf: PerformanceModel.allCases.map(\.rawValue)))!
        let table = EnergyTable.builtin(try o.required("energyTable").string(oneOf: EnergyTable.builtinNames))
        let statistics = try readStatistics(JobRunner.artifact(inputs, "statistics"), key: inputs.record.parentKey ?? "?")
        let parallel = !environment.sharedMachine

        let analytic = Accelerator.evaluateAnalytic(statistics: statistics, hardware: hardware)
        var gap: Double?
        let evaluation: Evaluation
        switch model {
        case .analytic:
            evaluation = analytic
        case .cycle:
            let traceKey = inputs.record.parentKey ?? ""
            let (trace, outcomes) = try EngineOutcomeCache.shared.outcomes(traceKey: traceKey, parallel: parallel) {
                try TraceBundle.unpack(JobRunner.artifact(inputs, "trace"), source: "trace of job \(traceKey.prefix(12))")
            }
            evaluation = Accelerator.evaluate(trace: trace, outcomes: outcomes, hardware: hardware, model: .cycle, parallel: parallel)
            if let c = evaluation.result, let a = analytic.result {
                gap = Accelerator.gap(analytic: a, cycle: c)[.pruningAndTermination]
            }
        }

        var out = JobOutput()
        guard let result = evaluation.result else {
            let reason = evaluation.infeasibleReason ?? "infeasible"
            out.metrics = [("feasible", 0)]
            out.artifacts = [JobRunner.report(["feasible": false, "reason": .string(reason), "hardware": hardware.json])]
            return out
        }
        let best = SimulationMode.pruningAndTermination
        out.metrics = [
            ("feasible", 1),
            ("speedup", result.speedup(best)),
            ("speedup_pruning_only", result.speedup(.pruningOnly)),
            ("energy_reduction", result.energyReduction(best, table: table)),
            ("energy_reduction_pruning_only", result.energyReduction(.pruningOnly, table: table)),
            ("cycles", result.cycles(best)),
            ("cycles_pruning_only", result.cycles(.pruningOnly)),
            ("baseline_cycles", result.cycles(.baseline)),
            ("energy_pj", result.energy(best, table: table).totalPicojoules),
            ("baseline_energy_pj", result.energy(.baseline, table: table).totalPicojoules),
            ("mean_planes", result.meanPlanes),
            ("integer_prune_rate", result.pruneRate),
            ("unit_utilization", result.layers.isEmpty ? 0 : result.layers.map { $0.result(best).unitUtilization }.reduce(0, +) / Double(result.layers.count)),
            ("area_mm2", table.area(of: hardware).totalSquareMillimetres),
            ("latency_us", result.seconds(best) * 1e6),
        ]
        if let gap { out.metrics.append(("analytic_gap", gap)) }
        let counts: JSONValue = .object(Dictionary(uniqueKeysWithValues: SimulationMode.allCases.map { ($0.rawValue, result.counts($0).json) }))
        out.artifacts = [ArtifactInput(kind: "counts", bytes: Array(CanonicalJSON.encode(counts).utf8))]
        return out
    }

    /// The per-layer statistics stored by capture-trace (each carries its query and key counts).
    static func readStatistics(_ bytes: [UInt8], key: String) throws -> [LayerStatistics] {
        let reader = try JSONReader.parse(bytes: bytes, file: "statistics of job \(key.prefix(12))")
        return try reader.object().required("layers").array(nonEmpty: true).map { layer in
            let o = try layer.object()
            defer { _ = o.optional("queries"); _ = o.optional("keys") }
            return try LayerStatistics(json: o.required("statistics"))
        }
    }
}

/// The bit-serial engine's outcomes for the last few traces: every cycle-level hardware point of one trace needs
/// the same outcomes (they do not depend on the hardware), so they are computed once per trace, not per point.
final class EngineOutcomeCache: @unchecked Sendable {
    static let shared = EngineOutcomeCache()
    private let lock = NSLock()
    private var entries: [(key: String, trace: AttentionTrace, outcomes: [LayerOutcome])] = []
    private let capacity = 2

    func outcomes(traceKey: String, parallel: Bool, load: () throws -> AttentionTrace) throws -> (AttentionTrace, [LayerOutcome]) {
        lock.lock()
        if let hit = entries.first(where: { $0.key == traceKey }) { lock.unlock(); return (hit.trace, hit.outcomes) }
        lock.unlock()
        let trace = try load()
        let outcomes = Accelerator.outcomes(of: trace, parallel: parallel)
        lock.lock()
        entries.append((traceKey, trace, outcomes))
        if entries.count > capacity { entries.removeFirst() }
        lock.unlock()
        return (trace, outcomes)
    }
}
