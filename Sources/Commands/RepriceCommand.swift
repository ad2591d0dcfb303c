// `leopard reprice --energy-table NAME|FILE [--store PATH] [--sweep NAME] [--csv PATH] [--include-superseded] [--json]`:
// the energy figures of every current stored hardware evaluation under another energy table, from the action counts the sweep stored,
// without re-simulating (Sweep.Repricing). Read-only on the store; writes one CSV.

import AcceleratorModel
import Basics
import Foundation
import Storage
import Sweep

public struct RepriceCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "reprice", abstract: "Re-price a sweep's stored hardware points with another energy table (no re-simulation).",
        usage: "--energy-table NAME|FILE [--store PATH] [--sweep NAME] [--csv PATH] [--include-superseded] [--json]",
        discussion: """
        Every feasible hardware evaluation of learned thresholds stored its action counts per mode (bit-plane
        additions, termination checks, SRAM bits per buffer, DRAM bytes, exponentials, V MACs, FIFO pushes). Energy
        is counts × pJ per action, so pricing the counts with another table gives exactly what the sweep would have
        stored had it used that table. The CSV has one row per point: its identity and hardware parameters, the
        stored table's energy and reduction, the new table's energy, baseline energy, energy reduction (pruning +
        early termination, and pruning only), and the new energy of each action. The store is opened read-only.
        As pareto and plot, it uses only the jobs the stored manifest plans with this build unless
        --include-superseded (a note on stderr says how many done jobs were left out).
        """,
        arguments: [
            ArgumentHelp("--energy-table NAME|FILE", "The table to price with: 45nm, 7nm or a JSON file of the same schema."),
            ArgumentHelp("--store PATH", "Result store (default: the only results/*.sqlite)."),
            ArgumentHelp("--sweep NAME", "Only this sweep of the store (default: every sweep)."),
            ArgumentHelp("--csv PATH", "Output CSV (default results/<store name>/reprice-<table name>.csv)."),
            includeSupersededHelp,
            ArgumentHelp("--json", "Print a summary as one JSON object."),
        ])

    let tableName: String
    let store: String?
    let sweep: String?
    let csv: String?
    let includeSuperseded: Bool
    let json: Bool

    public init(arguments: inout Arguments) throws {
        guard let table = try arguments.option("--energy-table") else {
            throw UsageError("reprice needs --energy-table NAME|FILE (45nm, 7nm or a table file)")
        }
        tableName = table
        store = try arguments.option("--store")
        sweep = try arguments.option("--sweep")
        csv = try arguments.option("--csv")
        includeSuperseded = try arguments.flag("--include-superseded")
        json = try arguments.flag("--json")
    }

    public func run(_ io: CommandIO) throws {
        let table = EnergyTable.builtinNames.contains(tableName) ? EnergyTable.builtin(tableName) : try EnergyTable.load(path: tableName)
        let path = try SweepPaths.resolveStore(store)
        let store = try ResultStore(path: path, access: .readOnly)
        if let sweep, try !store.sweepNames().contains(sweep) {
            throw UsageError("\(path) has no sweep named \(sweep) (it has: \(try store.sweepNames().joined(separator: ", ")))")
        }
        let results = try loadSweepResults(store: store, sweep: sweep, includeSuperseded: includeSuperseded, io: io)
        let points = try Repricing.reprice(store: store, storePath: path, results: results, table: table)
        let csvPath = csv ?? "results/\(SweepPaths.stem(ofStore: path))/reprice-\(SweepPlots.fileSafe(table.name)).csv"
        try SweepPaths.makeParentDirectory(of: csvPath)
        try Repricing.csv(points, tableName: table.name).write(toFile: csvPath, atomically: true, encoding: .utf8)

        let means = Repricing.geometricMeanReductions(points)
        let storedMean = means.stored ?? .nan, newMean = means.new ?? .nan
        let storedTables = Set(points.map(\.storedTable)).sorted()
        if json {
            io.printJSON([
                "csv": .string(csvPath), "points": JSONValue(points.count), "energy_table": .string(table.name),
                "technology": .string(table.technology), "stored_tables": .array(storedTables.map { .string($0) }),
                "geomean_energy_reduction": JSONValue(newMean), "stored_geomean_energy_reduction": JSONValue(storedMean),
            ])
            return
        }
        guard !points.isEmpty else {
            io.print("no feasible hardware points in \(path)\(sweep.map { " (sweep \($0))" } ?? ""); wrote an empty \(csvPath)")
            return
        }
        io.print("re-priced \(points.count) hardware points of \(path) with table \(table.name) (\(table.technology)); wrote \(csvPath)")
        io.print("  energy reduction (pruning + early termination), geometric mean: "
                 + String(format: "%.3f", storedMean) + "× under \(storedTables.joined(separator: "+")) → "
                 + String(format: "%.3f", newMean) + "× under \(table.name)")
    }
}
