import Basics
import Foundation
import Testing
@testable import AcceleratorModel
@testable import Workloads

@Suite struct EnergyAndHardwareTests {
    static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test(arguments: EnergyTable.builtinNames)
    func builtinTablesAreTheShippedFiles(name: String) throws {
        let path = Self.sourceRoot + "/Sources/AcceleratorModel/Tables/energy-\(name).json"
        let file = try String(contentsOfFile: path, encoding: .utf8)
        #expect(BuiltinTables.json[name]! + "\n" == file, "regenerate BuiltinTables.swift from \(path)")
        let table = EnergyTable.builtin(name)
        #expect(table.name == name)
        #expect(Set(table.energyPicojoules.keys) == Set(ActionCounts.actionNames))
    }

    @Test func energyIsTableTimesCounts() {
        var counts = ActionCounts()
        counts.bitPlaneAdds = 1000; counts.terminationChecks = 10; counts.kBufferBits = 640; counts.dramBytes = 3
        counts.exponentials = 2; counts.valueMacs = 128; counts.fifoPushes = 2
        let table = EnergyTable.builtin("45nm")
        let expected = 1000 * 0.05 + 10 * 0.2 + 640 * 0.3125 + 3 * 162.5 + 2 * 3.0 + 128 * 0.9 + 2 * 1.0
        #expect(abs(table.price(counts).totalPicojoules - expected) < 1e-9)
        let doubled = table.price(counts + counts).totalPicojoules
        #expect(abs(doubled - 2 * expected) < 1e-9)
    }

    /// Stored counts re-priced with another table equal pricing the fresh result: no re-simulation needed.
    @Test func repricingStoredCounts() throws {
        let trace = SyntheticTrace.make(seed: 5, headCount: 2, queryCount: 16, keyCount: 16, headDim: 16)
        let r = Accelerator.evaluate(trace: trace, hardware: HardwareConfig(), model: .cycle).result!
        let stored = CanonicalJSON.encode(r.counts(.pruningAndTermination).json)
        let counts = try ActionCounts(json: JSONReader.parse(bytes: Array(stored.utf8), file: "store"))
        #expect(counts == r.counts(.pruningAndTermination))
        let seven = EnergyTable.builtin("7nm")
        #expect(seven.price(counts).totalPicojoules == r.energy(.pruningAndTermination, table: seven).totalPicojoules)
        #expect(seven.price(counts).totalPicojoules < EnergyTable.builtin("45nm").price(counts).totalPicojoules)
    }

    @Test func areaGrowsWithUnitsAndBuffers() {
        let table = EnergyTable.builtin("45nm")
        var hw = HardwareConfig()
        let base = table.area(of: hw).totalSquareMillimetres
        hw.qkUnits *= 2
        #expect(table.area(of: hw).totalSquareMillimetres > base)
        // 16 units × 64 lanes × 70 µm² are part of the total.
        #expect(table.area(of: HardwareConfig()).parts.first { $0.name == "qkLane" }!.squareMicrometres == 16 * 64 * 70)
    }

    static let infeasibleCases: [(String, (inout HardwareConfig) -> Void, String)] = [
        ("zero units", { $0.qkUnits = 0 }, "qkUnits = 0"),
        ("zero width", { $0.dpuWidth = 0 }, "dpuWidth = 0"),
        ("zero V multipliers", { $0.vMacs = 0 }, "vMacs = 0"),
        ("zero FIFO", { $0.fifoDepth = 0 }, "fifoDepth = 0"),
        ("no exponentials", { $0.expPerCycle = 0 }, "expPerCycle"),
        ("no DRAM", { $0.dramBytesPerCycle = 0 }, "dramBytesPerCycle = 0"),
        ("too few bits", { $0.maxBits = 8 }, "maxBits = 8"),
        ("K buffer smaller than a row", { $0.kBufferBytes = 10 }, "K buffer 10 B < one key row of 96 B"),
        ("Q buffer smaller than a row", { $0.qBufferBytes = 95 }, "Q buffer 95 B < one query row of 96 B"),
        ("V buffer smaller than a row", { $0.vBufferBytes = 100 }, "V buffer 100 B < one value row of 128 B"),
    ]

    @Test(arguments: infeasibleCases.map(\.0))
    func impossiblePointsAreResultsWithAReason(name: String) {
        let (_, edit, fragment) = Self.infeasibleCases.first { $0.0 == name }!
        var hw = HardwareConfig()
        edit(&hw)
        let trace = SyntheticTrace.make(seed: 1, headCount: 1, queryCount: 4, keyCount: 4, headDim: 64, valueDim: 64, bits: 12)
        for model in PerformanceModel.allCases {
            let reason = Accelerator.evaluate(trace: trace, hardware: hw, model: model).infeasibleReason
            #expect(reason?.contains(fragment) == true, "\(name): \(reason ?? "feasible")")
        }
    }

    @Test func exampleHardwareFileIsTheDefault() throws {
        let hw = try HardwareConfig.load(path: Self.sourceRoot + "/experiments/hw/default.json")
        #expect(hw == HardwareConfig())
        // And the JSON form round-trips.
        let text = CanonicalJSON.encode(HardwareConfig().json)
        #expect(try HardwareConfig(json: JSONReader.parse(bytes: Array(text.utf8), file: "x.json")) == HardwareConfig())
    }

    static let badHardware: [(String, String, [String])] = [
        ("negative units", #"{"format": "leopard-hardware", "version": 1, "qkUnits": -1}"#, ["hw.json", "qkUnits = -1", "from 0 to"]),
        ("misspelt key", #"{"format": "leopard-hardware", "version": 1, "qkunits": 4}"#, ["qkunits", "unknown key"]),
        ("unknown node", #"{"format": "leopard-hardware", "version": 1, "technology": "5nm"}"#, ["technology", "\"45nm\""]),
        ("missing format", #"{"version": 1}"#, ["missing key \"format\""]),
        ("string for number", #"{"format": "leopard-hardware", "version": 1, "fifoDepth": "8"}"#, ["fifoDepth = \"8\"", "integer"]),
        ("syntax", "{\"format\": \"leopard-hardware\",\n\"version\": 1,,}", ["hw.json", "line 2"]),
    ]

    @Test(arguments: badHardware.map(\.0))
    func badHardwareFilesNameThePath(name: String) {
        let (_, text, fragments) = Self.badHardware.first { $0.0 == name }!
        do {
            _ = try HardwareConfig(json: JSONReader.parse(bytes: Array(text.utf8), file: "hw.json"))
            Issue.record("\(name): parsed")
        } catch {
            let message = describeError(error)
            for fragment in fragments { #expect(message.contains(fragment), "\(name): \(message)") }
        }
    }
}

/// A sweep stores statistics (JSON) and evaluates the analytic model for many hardware points without the trace:
/// the result equals the analytic evaluation of the trace itself.
@Suite struct StoredStatisticsTests {
    @Test func analyticFromStoredStatisticsEqualsAnalyticFromTrace() throws {
        let trace = SyntheticTrace.make(seed: 13, layerCount: 2, batchSize: 2, headCount: 2, queryCount: 24, keyCount: 24,
                                        headDim: 32, valueDim: 32, bits: 10, mask: .causal, lengths: [24, 17])
        var hw = HardwareConfig()
        hw.kBufferBytes = 512  // K streams: the buffer-fit decision needs the stored shapes
        let direct = Accelerator.evaluate(trace: trace, hardware: hw, model: .analytic).result!
        let stored = try direct.layers.map { layer -> LayerStatistics in
            let text = CanonicalJSON.encode(layer.statistics.json)
            return try LayerStatistics(json: JSONReader.parse(bytes: Array(text.utf8), file: "store"))
        }
        let fromStore = Accelerator.evaluateAnalytic(statistics: stored, hardware: hw).result!
        #expect(fromStore == direct)
        hw.qkUnits = 0
        #expect(Accelerator.evaluateAnalytic(statistics: stored, hardware: hw).infeasibleReason?.contains("qkUnits = 0") == true)
    }
}
