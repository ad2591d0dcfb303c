// Energy and area tables (versioned JSON, one per technology node). Energy = Σ action count × pJ per action;
// area = Σ component count × µm² per component. The built-in tables are the files in `Tables/` (embedded in
// `BuiltinTables.swift`, which a test keeps identical to the files); a user may load any other table with the
// same schema and re-price stored counts without re-simulating.

import Basics
import Foundation

public struct EnergyTable: Equatable, Sendable {
    public static let formatName = "leopard-energy-table"
    public static let formatVersion = 1
    public static let builtinNames = ["45nm", "7nm"]
    /// The components whose area the table prices.
    public static let areaComponents = ["qkLane", "qkUnitControl", "valueMac", "expUnit", "sramBit", "fifoBit"]
    /// Bits in one FIFO entry (a 32-bit score and a 16-bit key index).
    public static let fifoEntryBits = 48

    public let name: String
    public let technology: String
    /// pJ per action, keyed by `ActionCounts` action names.
    public let energyPicojoules: [String: Double]
    /// µm² per component.
    public let areaSquareMicrometres: [String: Double]

    /// A built-in table by name ("45nm", "7nm"); traps on an unknown name (callers validate names first).
    public static func builtin(_ name: String) -> EnergyTable {
        guard let text = BuiltinTables.json[name] else { preconditionFailure("no built-in energy table \(name)") }
        // The built-in text is tested to parse; a failure here is a programmer error.
        return try! EnergyTable(json: JSONReader.parse(bytes: Array(text.utf8), file: "built-in table \(name)"))
    }

    /// Loads a user table file with the same schema.
    public static func load(path: String) throws -> EnergyTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, problem: "cannot read the energy table (missing or unreadable)")
        }
        return try EnergyTable(json: JSONReader.parse(bytes: [UInt8](data), file: path))
    }

    public init(json reader: JSONReader) throws {
        let o = try reader.object()
        _ = try o.required("format", "\"\(Self.formatName)\"").string(oneOf: [Self.formatName])
        _ = try o.required("version", "1").int(min: Self.formatVersion, max: Self.formatVersion)
        name = try o.required("name", "a string").string()
        technology = try o.required("technology", "a string").string()
        energyPicojoules = try Self.readEntries(o.required("energy_pJ", "an object of actions"), names: ActionCounts.actionNames, unit: "pJ")
        areaSquareMicrometres = try Self.readEntries(o.required("area_um2", "an object of components"), names: Self.areaComponents, unit: "um2")
        try o.finish()
    }

    /// Reads {"name": {"<unit>": x, "source": "..."}} requiring exactly `names`; a source is mandatory.
    static func readEntries(_ reader: JSONReader, names: [String], unit: String) throws -> [String: Double] {
        let o = try reader.object()
        var out: [String: Double] = [:]
        for name in names {
            let entry = try o.required(name, "{\"\(unit)\": number, \"source\": text}").object()
            out[name] = try entry.required(unit, "a number ≥ 0").double(min: 0)
            _ = try entry.required("source", "a citation or a note saying it is an estimate").string()
            try entry.finish()
        }
        try o.finish()
        return out
    }

    /// Energy of `counts`, per action and in total (pJ).
    public func price(_ counts: ActionCounts) -> EnergyBreakdown {
        let parts = counts.named.map { (name: $0.name, picojoules: Double($0.count) * energyPicojoules[$0.name]!) }
        return EnergyBreakdown(parts: parts)
    }

    /// Area of a hardware point (µm²), per component and in total.
    public func area(of hw: HardwareConfig) -> AreaBreakdown {
        let sramBits = Double(hw.qBufferBytes + hw.kBufferBytes + hw.vBufferBytes) * 8
        let parts: [(String, Double)] = [
            ("qkLane", Double(hw.qkUnits * hw.dpuWidth) * areaSquareMicrometres["qkLane"]!),
            ("qkUnitControl", Double(hw.qkUnits) * areaSquareMicrometres["qkUnitControl"]!),
            ("valueMac", Double(hw.vMacs) * areaSquareMicrometres["valueMac"]!),
            ("expUnit", hw.expPerCycle.rounded(.up) * areaSquareMicrometres["expUnit"]!),
            ("sramBit", sramBits * areaSquareMicrometres["sramBit"]!),
            ("fifoBit", Double(hw.fifoDepth * Self.fifoEntryBits) * areaSquareMicrometres["fifoBit"]!),
        ]
        return AreaBreakdown(parts: parts.map { (name: $0.0, squareMicrometres: $0.1) })
    }
}

public struct EnergyBreakdown: Sendable {
    public let parts: [(name: String, picojoules: Double)]
    public var totalPicojoules: Double { parts.reduce(0) { $0 + $1.picojoules } }
}

public struct AreaBreakdown: Sendable {
    public let parts: [(name: String, squareMicrometres: Double)]
    public var totalSquareMillimetres: Double { parts.reduce(0) { $0 + $1.squareMicrometres } / 1e6 }
}

extension SimulationResult {
    /// Energy of one mode with `table` (pJ, with the breakdown).
    public func energy(_ mode: SimulationMode, table: EnergyTable) -> EnergyBreakdown { table.price(counts(mode)) }

    /// Baseline energy / this mode's energy.
    public func energyReduction(_ mode: SimulationMode, table: EnergyTable, over baseline: SimulationMode = .baseline) -> Double {
        energy(baseline, table: table).totalPicojoules / energy(mode, table: table).totalPicojoules
    }
}
