// Re-pricing stored action counts: with the table a sweep used it reproduces the stored energy figures exactly, and
// with another table it gives exactly what a sweep run under that table stores — without re-simulating.

import AcceleratorModel
import Foundation
import Storage
import Testing
@testable import Sweep

@Suite("Re-pricing stored counts") struct RepricingTests {
    static func points(_ path: String, table: String) throws -> [RepricedPoint] {
        let store = try ResultStore(path: path, access: .readOnly)
        return try Repricing.reprice(store: store, storePath: path, sweep: nil, table: .builtin(table))
    }

    /// (task, λ, hardware model, qkUnits) identifies a point across two sweeps whose only difference is the table.
    static func identity(_ p: RepricedPoint) -> String {
        "\(p.task) \(p.lambda) \(p.hardwareModel) \(p.hardware["qkUnits"] ?? -1)"
    }

    @Test func sameTableReproducesStoredFiguresAndOtherTableEqualsARunUnderIt() throws {
        let dir = try TemporaryDirectory()
        let manifest45 = toyManifestJSON(lambdas: [0.1, 1.0], models: ["analytic", "cycle"])
        let manifest7 = manifest45.replacingOccurrences(of: "\"budget\": 2", with: "\"budget\": 2, \"energyTable\": \"7nm\"")
        #expect(manifest7 != manifest45)
        _ = try runPlan(toyPlan(manifest45), store: dir.file("45.sqlite"))
        _ = try runPlan(toyPlan(manifest7), store: dir.file("7.sqlite"))

        // 2 tasks × 2 λ × 2 qkUnits × 2 models, all feasible.
        let same = try Self.points(dir.file("45.sqlite"), table: "45nm")
        #expect(same.count == 16)
        for p in same {
            #expect(p.storedTable == "45nm")
            #expect(abs(p.energyPicojoules / p.storedEnergyPicojoules - 1) < 1e-12, "\(Self.identity(p))")
            #expect(abs(p.energyReduction / p.storedEnergyReduction - 1) < 1e-12, "\(Self.identity(p))")
            #expect(p.energyReduction > 1 && p.energyReductionPruningOnly > 1 && p.energyReduction >= p.energyReductionPruningOnly)
        }

        let repriced = Dictionary(uniqueKeysWithValues: try Self.points(dir.file("45.sqlite"), table: "7nm").map { (Self.identity($0), $0) })
        let ran = try Self.points(dir.file("7.sqlite"), table: "7nm")
        #expect(ran.count == 16 && repriced.count == 16)
        for r in ran {
            let p = try #require(repriced[Self.identity(r)])
            #expect(r.storedTable == "7nm" && p.storedTable == "45nm")
            #expect(abs(p.energyPicojoules / r.storedEnergyPicojoules - 1) < 1e-12, "\(Self.identity(r))")
            #expect(abs(p.energyReduction / r.storedEnergyReduction - 1) < 1e-12, "\(Self.identity(r))")
            // The 7 nm table is cheaper per action: a different price, not a copy of the stored one.
            #expect(p.energyPicojoules < p.storedEnergyPicojoules)
        }

        let csv = Repricing.csv(Array(repriced.values), tableName: "7nm").split(separator: "\n")
        #expect(csv.count == 17)
        #expect(csv[0].hasPrefix("job_key,model,task,seed,lambda,hardware_model,"))
        #expect(csv[0].contains(",stored_energy_pj,stored_energy_reduction,table,energy_pj,baseline_energy_pj,energy_reduction,"))
        #expect(csv[0].hasSuffix(",pj_fifoPush"))
        #expect(csv.dropFirst().allSatisfy { $0.contains(",45nm,") && $0.contains(",7nm,") })
    }
}
