// Evaluating a hardware point on a trace: feasibility first (an impossible point is a result with a reason),
// then the functional engine, then either performance model for each of the three modes, with action counts.

import Workloads

public enum PerformanceModel: String, CaseIterable, Sendable {
    case cycle
    case analytic
}

/// One layer in one mode.
public struct ModeResult: Equatable, Sendable {
    public let mode: SimulationMode
    /// Total cycles (fractional only for the analytic model).
    public let cycles: Double
    /// Unit-cycles the front-end units spent processing planes.
    public let unitBusyCycles: Double
    /// Unit-cycles lost waiting on a full FIFO (always 0 in the analytic model).
    public let unitStallCycles: Double
    /// Cycles the back-end was busy (kept scores and row normalisations).
    public let backBusyCycles: Double
    public let counts: ActionCounts
    /// Fraction of unit-cycles doing useful plane work.
    public let unitUtilization: Double
}

public struct LayerResult: Equatable, Sendable {
    public let layerIndex: Int
    public let statistics: LayerStatistics
    /// In `SimulationMode.allCases` order.
    public let modes: [ModeResult]

    public func result(_ mode: SimulationMode) -> ModeResult { modes.first { $0.mode == mode }! }
}

/// A feasible evaluation of one trace on one hardware point with one model.
public struct SimulationResult: Equatable, Sendable {
    public let model: PerformanceModel
    public let hardware: HardwareConfig
    public let layers: [LayerResult]

    public func cycles(_ mode: SimulationMode) -> Double { layers.reduce(0) { $0 + $1.result(mode).cycles } }

    public func counts(_ mode: SimulationMode) -> ActionCounts {
        layers.reduce(ActionCounts()) { $0 + $1.result(mode).counts }
    }

    /// Baseline cycles / this mode's cycles.
    public func speedup(_ mode: SimulationMode, over baseline: SimulationMode = .baseline) -> Double {
        cycles(baseline) / cycles(mode)
    }

    /// Over all layers: unit-cycles spent on planes / (qkUnits × cycles).
    public func unitUtilization(_ mode: SimulationMode) -> Double {
        let busy = layers.reduce(0) { $0 + $1.result(mode).unitBusyCycles }
        return Accelerator.utilization(busy, hardware, cycles(mode))
    }

    /// Wall-clock seconds at the hardware clock.
    public func seconds(_ mode: SimulationMode) -> Double { cycles(mode) / (hardware.frequencyMHz * 1e6) }

    /// Over all layers: pruned valid scores / valid scores.
    public var pruneRate: Double {
        let valid = layers.reduce(0) { $0 + $1.statistics.validPairs }
        let kept = layers.reduce(0) { $0 + $1.statistics.keptPairs }
        return valid == 0 ? 0 : Double(valid - kept) / Double(valid)
    }

    /// Over all layers: mean bit planes processed per valid score with early termination.
    public var meanPlanes: Double {
        let valid = layers.reduce(0) { $0 + $1.statistics.validPairs }
        let planes = layers.reduce(0) { $0 + $1.statistics.totalPlanes }
        return valid == 0 ? 0 : Double(planes) / Double(valid)
    }
}

public enum Evaluation: Equatable, Sendable {
    case feasible(SimulationResult)
    case infeasible(reason: String)

    public var result: SimulationResult? { if case .feasible(let r) = self { return r }; return nil }
    public var infeasibleReason: String? { if case .infeasible(let r) = self { return r }; return nil }
}

public enum Accelerator {
    /// The first infeasibility over all layers, naming the layer.
    public static func feasibility(of hardware: HardwareConfig, for trace: AttentionTrace) -> Feasibility {
        for (index, layer) in trace.layers.enumerated() {
            if let reason = hardware.feasibility(for: layer).reason {
                return .infeasible(reason: trace.layers.count > 1 ? "layer \(index): \(reason)" : reason)
            }
        }
        return .feasible
    }

    /// Runs the bit-serial engine on every layer (the expensive part shared by all hardware points).
    public static func outcomes(of trace: AttentionTrace, parallel: Bool = true) -> [LayerOutcome] {
        trace.layers.map { BitSerialEngine.run($0, parallel: parallel) }
    }

    /// Evaluates `hardware` on `trace`, running the engine first.
    public static func evaluate(trace: AttentionTrace, hardware: HardwareConfig, model: PerformanceModel,
                                parallel: Bool = true) -> Evaluation {
        if let reason = feasibility(of: hardware, for: trace).reason { return .infeasible(reason: reason) }
        return evaluate(trace: trace, outcomes: outcomes(of: trace, parallel: parallel), hardware: hardware,
                        model: model, parallel: parallel)
    }

    /// Evaluates `hardware` given the engine's outcomes for `trace` (reuse them across hardware points).
    public static func evaluate(trace: AttentionTrace, outcomes: [LayerOutcome], hardware: HardwareConfig,
                                model: PerformanceModel, parallel: Bool = true) -> Evaluation {
        precondition(outcomes.count == trace.layers.count, "one outcome per layer")
        if let reason = feasibility(of: hardware, for: trace).reason { return .infeasible(reason: reason) }
        var layers: [LayerResult] = []
        for (index, (layer, outcome)) in zip(trace.layers, outcomes).enumerated() {
            let modes: [ModeResult]
            switch model {
            case .analytic:
                modes = SimulationMode.allCases.map { analyticMode(outcome.statistics, mode: $0, hardware: hardware) }
            case .cycle:
                modes = SimulationMode.allCases.map { mode in
                    let simulator = CycleSimulator(hardware: hardware, layer: layer, mode: mode)
                    let timing = simulator.run(outcome: outcome, parallel: parallel)
                    let counts = ActionCounts.of(outcome.statistics, mode: mode, hardware: hardware, plan: simulator.plan)
                    return ModeResult(mode: mode, cycles: Double(timing.cycles), unitBusyCycles: Double(timing.unitBusyCycles),
                                      unitStallCycles: Double(timing.unitStallCycles), backBusyCycles: Double(timing.backBusyCycles),
                                      counts: counts, unitUtilization: utilization(Double(timing.unitBusyCycles), hardware, Double(timing.cycles)))
                }
            }
            layers.append(LayerResult(layerIndex: index, statistics: outcome.statistics, modes: modes))
        }
        return .feasible(SimulationResult(model: model, hardware: hardware, layers: layers))
    }

    /// The analytic model from statistics alone (no trace needed): what a sweep calls for many hardware points.
    public static func evaluateAnalytic(statistics: [LayerStatistics], hardware: HardwareConfig) -> Evaluation {
        for (index, s) in statistics.enumerated() {
            if let reason = hardware.feasibility(bits: s.bits, headDim: s.headDim, valueDim: s.valueDim).reason {
                return .infeasible(reason: statistics.count > 1 ? "layer \(index): \(reason)" : reason)
            }
        }
        var layers: [LayerResult] = []
        layers.reserveCapacity(statistics.count)
        for (index, s) in statistics.enumerated() {
            let modes = SimulationMode.allCases.map { analyticMode(s, mode: $0, hardware: hardware) }
            layers.append(LayerResult(layerIndex: index, statistics: s, modes: modes))
        }
        return .feasible(SimulationResult(model: .analytic, hardware: hardware, layers: layers))
    }

    static func analyticMode(_ s: LayerStatistics, mode: SimulationMode, hardware: HardwareConfig) -> ModeResult {
        let plan = MemoryPlan(hardware: hardware, bits: s.bits, headDim: s.headDim, valueDim: s.valueDim,
                              queryCount: s.queryCount, keyCount: s.keyCount)
        let t = AnalyticModel.layerTiming(s, mode: mode, hardware: hardware, plan: plan)
        return ModeResult(mode: mode, cycles: t.cycles, unitBusyCycles: t.unitBusy, unitStallCycles: 0,
                          backBusyCycles: t.backBusy, counts: ActionCounts.of(s, mode: mode, hardware: hardware, plan: plan),
                          unitUtilization: utilization(t.unitBusy, hardware, t.cycles))
    }

    static func utilization(_ busy: Double, _ hw: HardwareConfig, _ cycles: Double) -> Double {
        cycles > 0 ? busy / (Double(hw.qkUnits) * cycles) : 0
    }

    /// (analytic − cycle) / cycle per layer and mode, and for the totals per mode.
    public static func gap(analytic: SimulationResult, cycle: SimulationResult) -> [SimulationMode: Double] {
        var out: [SimulationMode: Double] = [:]
        for mode in SimulationMode.allCases {
            let c = cycle.cycles(mode)
            out[mode] = c > 0 ? (analytic.cycles(mode) - c) / c : 0
        }
        return out
    }
}

extension Accelerator {
    /// The cycle-level model of one mode only (for timing and for callers that need one mode).
    public static func evaluateCycleMode(trace: AttentionTrace, outcomes: [LayerOutcome], hardware: HardwareConfig,
                                         mode: SimulationMode, parallel: Bool = true) -> Double {
        var cycles = 0
        for (layer, outcome) in zip(trace.layers, outcomes) {
            cycles += CycleSimulator(hardware: hardware, layer: layer, mode: mode).run(outcome: outcome, parallel: parallel).cycles
        }
        return Double(cycles)
    }
}
