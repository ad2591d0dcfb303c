// `leopard simulate`: runs a hardware point on an attention trace (DESIGN.md §2, issue 5) and reports cycles
// per mode, speedup, energy reduction and breakdown, and the analytic-vs-cycle gap. An impossible hardware
// point is a result ("infeasible: …", exit 0), not a failure.

import AcceleratorModel
import Basics
import Foundation
import Workloads

public struct SimulateCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "simulate",
        abstract: "Simulate the bit-serial accelerator on an attention trace (cycles, speedup, energy).",
        usage: "--trace DIR --hw FILE.json [--model cycle|analytic] [--energy-table NAME|FILE] [--dump OUT] [--json]",
        discussion: """
        DIR holds layer-00/, layer-01/, ... (meta.json, q.npy, k.npy, optional lengths.npy), or is one such layer
        directory. The hardware JSON schema and its defaults are in Sources/AcceleratorModel/HARDWARE.md (our
        reconstruction of the LeOPArd design); experiments/hw/default.json is an example. Modes: baseline (all
        planes, every score to the back-end), pruning_only, pruning_and_termination; speedup and energy reduction
        are against baseline. With --model cycle the analytic model also runs and its gap is reported.
        """,
        arguments: [
            ArgumentHelp("--trace DIR", "the attention trace directory"),
            ArgumentHelp("--hw FILE.json", "the hardware point"),
            ArgumentHelp("--model cycle|analytic", "performance model (default cycle: the reference)"),
            ArgumentHelp("--energy-table NAME|FILE", "energy/area table: 45nm, 7nm or a JSON file (default: the hardware's technology)"),
            ArgumentHelp("--dump OUT", "write OUT/layer-NN/planes.npy and kept.npy (uint8 [batch, heads, queries, keys])"),
            ArgumentHelp("--json", "print one JSON object (speedup, energy_reduction, cycles, baseline_cycles, prune_rate, mean_planes, ...)"),
        ])

    let tracePath: String
    let hardwarePath: String
    let model: PerformanceModel
    let energyTableName: String?
    let dumpPath: String?
    let json: Bool

    public init(arguments: inout Arguments) throws {
        guard let trace = try arguments.option("--trace") else { throw UsageError("--trace DIR is required") }
        guard let hw = try arguments.option("--hw") else { throw UsageError("--hw FILE.json is required") }
        tracePath = trace
        hardwarePath = hw
        model = PerformanceModel(rawValue: try arguments.choiceOption("--model", choices: PerformanceModel.allCases.map(\.rawValue)) ?? "cycle")!
        energyTableName = try arguments.option("--energy-table")
        dumpPath = try arguments.option("--dump")
        json = try arguments.flag("--json")
        try arguments.finish()
    }

    public func run(_ io: CommandIO) throws {
        let hardware = try HardwareConfig.load(path: hardwarePath)
        let table: EnergyTable
        if let name = energyTableName {
            table = EnergyTable.builtinNames.contains(name) ? .builtin(name) : try EnergyTable.load(path: name)
        } else {
            table = .builtin(hardware.technology)
        }
        let trace = try AttentionTrace.read(from: tracePath)
        if let reason = Accelerator.feasibility(of: hardware, for: trace).reason {
            if json {
                io.printJSON(.object(["feasible": false, "reason": .string(reason), "hardware": .string(hardware.name)]))
            } else {
                io.print("infeasible: \(reason)")
            }
            return
        }
        let outcomes = Accelerator.outcomes(of: trace)
        if let dumpPath { try Self.dump(outcomes, to: dumpPath) }
        guard let result = Accelerator.evaluate(trace: trace, outcomes: outcomes, hardware: hardware, model: model).result else {
            throw RuntimeError("unexpected infeasibility after the feasibility check")
        }
        var gap: [SimulationMode: Double]? = nil
        if model == .cycle, let analytic = Accelerator.evaluate(trace: trace, outcomes: outcomes, hardware: hardware, model: .analytic).result {
            gap = Accelerator.gap(analytic: analytic, cycle: result)
        }
        let report = SimulationReport(result: result, table: table, gap: gap)
        if json {
            io.printJSON(report.json)
        } else {
            for line in report.lines { io.print(line) }
        }
    }

    /// planes.npy and kept.npy per layer, as DESIGN.md §2 specifies.
    static func dump(_ outcomes: [LayerOutcome], to directory: String) throws {
        for (index, outcome) in outcomes.enumerated() {
            let layerDirectory = directory + "/" + AttentionTrace.layerDirectoryName(index)
            do {
                try FileManager.default.createDirectory(atPath: layerDirectory, withIntermediateDirectories: true)
            } catch {
                throw RuntimeError("\(layerDirectory): cannot create directory (\(error.localizedDescription))")
            }
            let shape = [outcome.batchSize, outcome.headCount, outcome.queryCount, outcome.keyCount]
            try NpyFormat.write(NpyArray(shape: shape, data: .uint8(outcome.planes)), to: layerDirectory + "/planes.npy")
            try NpyFormat.write(NpyArray(shape: shape, data: .uint8(outcome.kept)), to: layerDirectory + "/kept.npy")
        }
    }
}

/// The figures `leopard simulate` prints, as text lines or one JSON object.
struct SimulationReport {
    let result: SimulationResult
    let table: EnergyTable
    let gap: [SimulationMode: Double]?

    static func number(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }

    var json: JSONValue {
        let et = SimulationMode.pruningAndTermination
        var modes: [String: JSONValue] = [:]
        for mode in SimulationMode.allCases {
            let stall = result.layers.reduce(0) { $0 + $1.result(mode).unitStallCycles }
            modes[mode.rawValue] = .object([
                "cycles": JSONValue(result.cycles(mode)),
                "seconds": JSONValue(result.seconds(mode)),
                "speedup": JSONValue(result.speedup(mode)),
                "energy_pj": JSONValue(result.energy(mode, table: table).totalPicojoules),
                "energy_reduction": JSONValue(result.energyReduction(mode, table: table)),
                "unit_stall_cycles": JSONValue(stall),
                "unit_utilization": JSONValue(result.unitUtilization(mode)),
                "counts": result.counts(mode).json,
            ])
        }
        let breakdown = result.energy(et, table: table).parts.map { ($0.name, JSONValue($0.picojoules)) }
        let layers: [JSONValue] = result.layers.map { layer in
            .object([
                "layer": JSONValue(layer.layerIndex),
                "prune_rate": JSONValue(layer.statistics.pruneRate),
                "mean_planes": JSONValue(layer.statistics.meanPlanes),
                "cycles": JSONValue(layer.result(et).cycles),
                "baseline_cycles": JSONValue(layer.result(.baseline).cycles),
                "unit_utilization": JSONValue(layer.result(et).unitUtilization),
                "statistics": layer.statistics.json,
            ])
        }
        var object: [String: JSONValue] = [
            "feasible": true,
            "model": .string(result.model.rawValue),
            "hardware": result.hardware.json,
            "energy_table": .string(table.name),
            "speedup": JSONValue(result.speedup(et)),
            "energy_reduction": JSONValue(result.energyReduction(et, table: table)),
            "cycles": JSONValue(result.cycles(et)),
            "baseline_cycles": JSONValue(result.cycles(.baseline)),
            "prune_rate": JSONValue(result.pruneRate),
            "mean_planes": JSONValue(result.meanPlanes),
            "unit_utilization": JSONValue(result.unitUtilization(et)),
            "area_mm2": JSONValue(table.area(of: result.hardware).totalSquareMillimetres),
            "energy_breakdown_pj": .object(Dictionary(uniqueKeysWithValues: breakdown)),
            "modes": .object(modes),
            "layers": .array(layers),
        ]
        if let gap {
            object["analytic_gap"] = .object(Dictionary(uniqueKeysWithValues: gap.map { ($0.key.rawValue, JSONValue($0.value)) }))
        } else {
            object["analytic_gap"] = .null
        }
        return .object(object)
    }

    var lines: [String] {
        func n(_ x: Double, _ digits: Int = 3) -> String { Self.number(x, digits) }
        let et = SimulationMode.pruningAndTermination
        var out: [String] = []
        out.append("hardware \(result.hardware.name), \(result.model.rawValue) model, energy table \(table.name), "
                   + "\(result.layers.count) layer(s), prune rate \(n(result.pruneRate, 4)), mean planes \(n(result.meanPlanes, 3)) of \(result.layers.first?.statistics.bits ?? 0)")
        out.append("mode                       cycles        speedup  energy (µJ)  energy reduction  unit utilisation")
        for mode in SimulationMode.allCases {
            let energy = result.energy(mode, table: table).totalPicojoules / 1e6
            out.append(mode.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0)
                       + String(format: "%12.0f  %9.3f×  %11.3f  %9.3f×          %6.3f", result.cycles(mode), result.speedup(mode),
                                energy, result.energyReduction(mode, table: table), result.unitUtilization(mode)))
        }
        let total = result.energy(et, table: table).totalPicojoules
        let parts = result.energy(et, table: table).parts.filter { $0.picojoules > 0 }
            .map { "\($0.name) \(n(100 * $0.picojoules / total, 1))%" }
        out.append("energy breakdown (\(et.rawValue)): " + parts.joined(separator: ", "))
        for layer in result.layers where result.layers.count > 1 {
            let r = layer.result(et)
            out.append("layer \(layer.layerIndex): prune rate \(n(layer.statistics.pruneRate, 4)), mean planes \(n(layer.statistics.meanPlanes, 2)), "
                       + "cycles \(Int(r.cycles)), speedup \(n(layer.result(.baseline).cycles / r.cycles)), unit utilisation \(n(r.unitUtilization))")
        }
        if let gap {
            out.append("analytic vs cycle gap: " + SimulationMode.allCases.map { "\($0.rawValue) \(n(100 * gap[$0]!, 2))%" }.joined(separator: ", "))
        }
        out.append("area \(n(table.area(of: result.hardware).totalSquareMillimetres)) mm² (\(table.name)); "
                   + "time at \(CanonicalJSON.formatNumber(result.hardware.frequencyMHz)) MHz: \(n(result.seconds(et) * 1e6, 2)) µs")
        return out
    }
}
