// `leopard simulate` and `leopard bench simulate`: argv → output and exit code on synthetic traces in a temp dir.

import Basics
import Commands
import Foundation
import Testing
import Workloads

@Suite("leopard simulate")
struct SimulateCommandTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let defaultHardware = repositoryRoot + "/experiments/hw/default.json"

    static func traceDirectory(layers: Int = 2) throws -> String {
        let root = NSTemporaryDirectory() + "leopard-simulate-" + UUID().uuidString
        let trace = SyntheticTrace.make(seed: 3, layerCount: layers, batchSize: 2, headCount: 2, queryCount: 16,
                                        keyCount: 16, headDim: 32, valueDim: 32, bits: 12, pruneRate: 0.7,
                                        mask: .causal, lengths: [16, 11])
        try trace.write(to: root + "/trace")
        return root
    }

    @Test func jsonReportHasTheDocumentedKeys() throws {
        let root = try Self.traceDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = runLeopard(["simulate", "--trace", root + "/trace", "--hw", Self.defaultHardware, "--json"])
        #expect(r.exitCode == 0, "\(r.stderr)")
        let json = try JSONParser.parse(r.stdout)
        for key in ["speedup", "energy_reduction", "cycles", "baseline_cycles", "prune_rate", "mean_planes"] {
            #expect(json[key]?.doubleValue != nil, "missing \(key)")
        }
        #expect(json["speedup"]!.doubleValue! > 1)
        #expect(json["cycles"]!.doubleValue! < json["baseline_cycles"]!.doubleValue!)
        #expect(abs(json["prune_rate"]!.doubleValue! - 0.7) < 0.05)
        #expect(json["analytic_gap"]?["pruning_and_termination"]?.doubleValue != nil)
        #expect(json["layers"]?.arrayValue?.count == 2)
    }

    @Test func textReportAndAnalyticModel() throws {
        let root = try Self.traceDirectory(layers: 1)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let text = runLeopard(["simulate", "--trace", root + "/trace", "--hw", Self.defaultHardware])
        #expect(text.exitCode == 0, "\(text.stderr)")
        #expect(text.stdout.contains("pruning_and_termination") && text.stdout.contains("analytic vs cycle gap"))
        let analytic = runLeopard(["simulate", "--trace", root + "/trace/layer-00", "--hw", Self.defaultHardware,
                                   "--model", "analytic", "--energy-table", "7nm", "--json"])
        #expect(analytic.exitCode == 0, "\(analytic.stderr)")
        let json = try JSONParser.parse(analytic.stdout)
        #expect(json["model"] == "analytic" && json["energy_table"] == "7nm" && json["analytic_gap"] == .null)
    }

    @Test func dumpWritesPlanesAndKeptPerLayer() throws {
        let root = try Self.traceDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = runLeopard(["simulate", "--trace", root + "/trace", "--hw", Self.defaultHardware, "--dump", root + "/out", "--json"])
        #expect(r.exitCode == 0, "\(r.stderr)")
        for layer in ["layer-00", "layer-01"] {
            let planes = try NpyFormat.read(path: "\(root)/out/\(layer)/planes.npy")
            let kept = try NpyFormat.read(path: "\(root)/out/\(layer)/kept.npy")
            #expect(planes.shape == [2, 2, 16, 16] && kept.shape == [2, 2, 16, 16])
            guard case .uint8(let p) = planes.data, case .uint8(let k) = kept.data else { Issue.record("not uint8"); continue }
            // Masked pairs (future keys, padding) are 0; kept scores ran all 12 planes.
            #expect(p[1] == 0)  // batch 0, head 0, query 0, key 1 is in the future
            #expect(zip(p, k).allSatisfy { $1 == 0 || $0 == 12 })
        }
    }

    @Test func infeasibleHardwareIsAResult() throws {
        let root = try Self.traceDirectory(layers: 1)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let hw = root + "/tiny.json"
        try #"{"format": "leopard-hardware", "version": 1, "kBufferBytes": 8}"#.write(toFile: hw, atomically: true, encoding: .utf8)
        let r = runLeopard(["simulate", "--trace", root + "/trace", "--hw", hw])
        #expect(r.exitCode == 0)
        #expect(r.stdout.contains("infeasible: K buffer 8 B < one key row of 48 B"))
        let json = try JSONParser.parse(runLeopard(["simulate", "--trace", root + "/trace", "--hw", hw, "--json"]).stdout)
        #expect(json["feasible"] == false)
    }

    @Test func badInputsExitWithClearMessages() throws {
        let root = try Self.traceDirectory(layers: 1)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let usage = runLeopard(["simulate", "--hw", Self.defaultHardware])
        #expect(usage.exitCode == 64 && usage.stderr.contains("--trace"))
        let badModel = runLeopard(["simulate", "--trace", root + "/trace", "--hw", Self.defaultHardware, "--model", "rtl"])
        #expect(badModel.exitCode == 64)
        let hw = root + "/bad.json"
        try #"{"format": "leopard-hardware", "version": 1, "qkUnits": "many"}"#.write(toFile: hw, atomically: true, encoding: .utf8)
        let badHardware = runLeopard(["simulate", "--trace", root + "/trace", "--hw", hw])
        #expect(badHardware.exitCode == 1 && badHardware.stderr.contains("bad.json") && badHardware.stderr.contains("qkUnits"))
        try FileManager.default.removeItem(atPath: root + "/trace/layer-00/k.npy")
        let missing = runLeopard(["simulate", "--trace", root + "/trace", "--hw", Self.defaultHardware])
        #expect(missing.exitCode == 1 && missing.stderr.contains("k.npy"))
    }

    @Test func benchSimulateQuickRuns() throws {
        let r = runLeopard(["bench", "simulate", "--quick", "--json"])
        #expect(r.exitCode == 0, "\(r.stderr)")
        let json = try JSONParser.parse(r.stdout)
        #expect(json["sim_over_sgemm"]!.doubleValue! > 0)
        #expect(json["analytic_points_per_s"]!.doubleValue! > 0)
    }
}
