// `leopard data check`: loads every task (or the named ones) from the data directory and reports, per task,
// whether it is ready, its split sizes and metric — or the error that names the missing path or malformed line.

import Basics
import Datasets

public struct DataCommand: CommandGroup {
    public static let configuration = CommandConfiguration(
        name: "data", abstract: "Inspect the data sets in the data directory.",
        subcommands: [DataCheckCommand.self])
}

public struct DataCheckCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "check", abstract: "Load tasks from the data directory and report split sizes or what is missing.",
        usage: "[<task>...] [--data-dir DIR] [--json]",
        discussion: """
        Without task names, checks every task (babi/qa1 … babi/qa20, glue/*, ptb, shakespeare, fashion-mnist).
        Exits 1 when any checked task is missing or malformed. Sizes count examples (tokens for ptb/shakespeare).
        See Sources/Datasets/DATA.md for where each data set is looked for.
        """,
        arguments: [
            ArgumentHelp("<task>", "A task name; may be given several times."),
            ArgumentHelp("--data-dir DIR", "The data directory (default: $LEOPARD_DATA, else ./data)."),
            ArgumentHelp("--json", "Print one JSON object: data_dir, ok, tasks[{name, status, metric, train, validation, test, error}]."),
        ])

    let taskNames: [String]
    let dataDirectory: String?
    let json: Bool

    public init(arguments: inout Arguments) throws {
        json = try arguments.flag("--json")
        dataDirectory = try arguments.option("--data-dir")
        var names: [String] = []
        while let name = arguments.positional() {
            _ = try TaskCatalog.description(of: name)
            names.append(name)
        }
        taskNames = names.isEmpty ? TaskCatalog.names : names
    }

    public func run(_ io: CommandIO) throws {
        let directory = DataDirectory.resolve(explicit: dataDirectory, environment: io.environment)
        var rows: [JSONValue] = []
        var failures = 0
        if !json { io.print("data directory: \(directory.describedOrigin)") }
        for name in taskNames {
            let metric = try TaskCatalog.description(of: name).metric.rawValue
            do {
                let task = try TaskCatalog.load(name, from: directory, environment: io.environment)
                let sizes = task.splitSizes
                rows.append(.object(["name": .string(name), "status": "ok", "metric": .string(metric),
                                     "train": .integer(Int64(sizes.train)), "validation": .integer(Int64(sizes.validation)),
                                     "test": .integer(Int64(sizes.test))]))
                if !json { io.print("ok       \(name): train \(sizes.train), validation \(sizes.validation), test \(sizes.test) (\(metric))") }
            } catch let error as MissingDataError {
                failures += 1
                rows.append(.object(["name": .string(name), "status": "missing", "metric": .string(metric), "error": .string(error.message)]))
                if !json { io.print("missing  \(name): \(error.message)") }
            } catch let error as InputError {
                failures += 1
                rows.append(.object(["name": .string(name), "status": "malformed", "metric": .string(metric), "error": .string(error.message)]))
                if !json { io.print("error    \(name): \(error.message)") }
            }
        }
        if json {
            io.printJSON(.object(["data_dir": .string(directory.path), "ok": .bool(failures == 0), "tasks": .array(rows)]))
        }
        if failures > 0 { throw ReportedFailure(json ? "" : "\(failures) of \(taskNames.count) tasks are not ready") }
    }
}
