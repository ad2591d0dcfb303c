// The root of the command tree. Each subcommand lives in its own file; a command appears here only when it does
// real work.

import Basics

public struct Leopard: CommandGroup {
    public static let configuration = CommandConfiguration(
        name: "leopard",
        abstract: "Design-space exploration for learned attention pruning and the bit-serial accelerator that exploits it.",
        discussion: """
        Exit codes: 0 success, 1 failure, 64 usage error. Commands that report figures take --json (one JSON
        object on stdout, snake_case keys). The data directory is --data-dir, else $LEOPARD_DATA, else ./data.
        """,
        subcommands: [
            SweepCommand.self,
            StatusCommand.self,
            ParetoCommand.self,
            PlotCommand.self,
            RepriceCommand.self,
            TrainCommand.self,
            SimulateCommand.self,
            StoreCommand.self,
            DataCommand.self,
            BenchCommand.self,
            VersionCommand.self,
        ]
    )
}

public struct VersionCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "version", abstract: "Print Leopard's version, the store schema version and the linked library versions.")

    static var versionLine: String { "leopard \(LeopardVersion.string)" }

    public init(arguments: inout Arguments) throws {}

    public func run(_ io: CommandIO) throws {
        io.print(Self.versionLine)
    }
}
