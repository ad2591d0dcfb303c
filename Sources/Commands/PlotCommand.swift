// `leopard plot [--store PATH] [--out DIR] [--include-superseded]`: the sweep's SVG figures (Sweep.SweepPlots), of
// its current jobs unless asked otherwise (Sweep.CurrentJobs).

import Basics
import Foundation
import Storage
import Sweep

public struct PlotCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "plot", abstract: "Draw a sweep's figures as SVG (Pareto front, λ curves, thresholds per layer, bit planes).",
        usage: "[--store PATH] [--out DIR] [--budget PCT] [--include-superseded]",
        discussion: """
        Only the jobs the stored manifest plans with this build are drawn: results superseded by a manifest edit or a
        changed preset default are left out (a note on stderr says how many) unless --include-superseded.
        """,
        arguments: [
            ArgumentHelp("--store PATH", "Result store (default: the only results/*.sqlite)."),
            ArgumentHelp("--out DIR", "Output directory (default plots/<store name>)."),
            ArgumentHelp("--budget PCT", "Accuracy-loss budget for the Pareto plot (default: the manifest's, else 1)."),
            includeSupersededHelp,
        ])

    let store: String?
    let out: String?
    let budget: Double?
    let includeSuperseded: Bool

    public init(arguments: inout Arguments) throws {
        store = try arguments.option("--store")
        out = try arguments.option("--out")
        budget = try arguments.doubleOption("--budget", minimum: 0)
        includeSuperseded = try arguments.flag("--include-superseded")
    }

    public func run(_ io: CommandIO) throws {
        let path = try SweepPaths.resolveStore(store)
        let store = try ResultStore(path: path, access: .readOnly)
        let stem = SweepPaths.stem(ofStore: path)
        let names = try store.sweepNames()
        let results = try loadSweepResults(store: store, name: names.count == 1 ? names[0] : stem,
                                           includeSuperseded: includeSuperseded, io: io)
        var budget = self.budget
        if budget == nil {
            for name in try store.sweepNames() where budget == nil {
                budget = try store.sweepManifest(name: name)?["budget"]?.doubleValue
            }
        }
        let report = ParetoReport.make(results, budgetPoints: budget ?? 1.0)
        let directory = out ?? "plots/\(stem)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let plots = SweepPlots.make(results, report: report)
        for plot in plots {
            try plot.svg.write(toFile: directory + "/" + plot.fileName, atomically: true, encoding: .utf8)
        }
        io.print("wrote \(plots.count) plot(s) to \(directory): \(plots.map(\.fileName).joined(separator: ", "))")
    }
}
