// `leopard bench dense`: trains one family preset (memn2n, gpt2-tiny, vit-tiny) densely on a task with its recipe
// and reports wall time, steps, loss per epoch and the validation/test metric — the dense half of the learned-
// pruning protocol, timed on its own (issue 4's "dense training ≤ 5 minutes per preset per task").

import Basics
import Datasets
import Tensors
import Training

public struct BenchDenseCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "dense", abstract: "Train a family preset densely on a task and report wall time and metric.",
        usage: "--model memn2n|gpt2-tiny|vit-tiny --task NAME [--epochs N] [--seed N] [--threads N] [--data-dir DIR] [--json]",
        discussion: """
        Recipes (epochs, learning rate, subsets) are the presets' own; see docs/results-families.md. Wall time
        covers training only (data loading and evaluation are reported apart). Progress lines go to stderr.
        """,
        arguments: [
            ArgumentHelp("--model NAME", "family preset: " + FamilyPreset.all.map(\.name).joined(separator: ", ")),
            ArgumentHelp("--task NAME", "task, e.g. babi/qa1, ptb, shakespeare, fashion-mnist"),
            ArgumentHelp("--epochs N", "override the recipe's epochs"),
            ArgumentHelp("--seed N", "seed of initialisation and batch order (default 1)"),
            ArgumentHelp("--threads N", "BLAS and Dispatch threads (default 2)"),
            ArgumentHelp("--data-dir DIR", "the data directory (default: $LEOPARD_DATA, else ./data)"),
            ArgumentHelp("--json", "print one JSON object (train_seconds, steps, validation_metric, test_metric, ...)"),
        ])

    let model: String
    let task: String
    let epochs: Int?
    let seed: Int
    let threads: Int
    let dataDirectory: String?
    let json: Bool

    public init(arguments: inout Arguments) throws {
        guard let model = try arguments.choiceOption("--model", choices: FamilyPreset.all.map(\.name)) else {
            throw UsageError("--model is required (one of: \(FamilyPreset.all.map(\.name).joined(separator: ", ")))")
        }
        guard let task = try arguments.option("--task") else { throw UsageError("--task is required") }
        let preset = try FamilyPreset.named(model)
        guard preset.tasks.contains(task) else {
            throw UsageError("\(model) does not run on \(task); its tasks: \(preset.tasks.joined(separator: ", "))")
        }
        self.model = model; self.task = task
        epochs = try arguments.intOption("--epochs", range: 1...10_000)
        seed = try arguments.intOption("--seed", range: 0...Int(Int32.max)) ?? 1
        threads = try arguments.intOption("--threads", range: 1...256) ?? 2
        dataDirectory = try arguments.option("--data-dir")
        json = try arguments.flag("--json")
        try arguments.finish()
    }

    public func run(_ io: CommandIO) throws {
        Compute.setThreads(threads)
        let directory = DataDirectory.resolve(explicit: dataDirectory, environment: io.environment)
        let r = try FamilyTraining.denseRun(preset: FamilyPreset.named(model), task: task, dataDirectory: directory,
                                            seed: UInt64(seed), epochs: epochs) { epoch, loss in
            io.printError("epoch \(epoch + 1): mean training loss \(CanonicalJSON.formatNumber((loss * 1e4).rounded() / 1e4))")
        }
        func f(_ x: Double, _ digits: Int = 4) -> String {
            let scale = (0..<digits).reduce(1.0) { a, _ in a * 10 }
            return CanonicalJSON.formatNumber((x * scale).rounded() / scale)
        }
        if json {
            io.printJSON(.object([
                "model": .string(r.preset), "task": .string(r.task.name), "metric_name": .string(r.task.metric.rawValue),
                "higher_is_better": .bool(r.task.higherIsBetter), "parameters": JSONValue(r.parameterCount),
                "epochs": JSONValue(r.training.epochs), "steps": JSONValue(r.training.steps),
                "train_seconds": .number(r.training.seconds), "load_seconds": .number(r.loadSeconds),
                "evaluation_seconds": .number(r.evaluationSeconds), "threads": JSONValue(threads),
                "validation_metric": .number(r.validationMetric), "test_metric": .number(r.testMetric),
                "epoch_losses": .array(r.training.epochLosses.map { .number($0) }),
            ]))
            return
        }
        io.print("\(r.preset) on \(r.task.name): \(r.parameterCount) parameters, \(r.training.epochs) epochs × \(r.batchesPerEpoch) batches, \(threads) thread(s)")
        io.print("train time       \(f(r.training.seconds, 1)) s   (data \(f(r.loadSeconds, 1)) s, evaluation \(f(r.evaluationSeconds, 1)) s)")
        io.print("final loss       \(f(r.training.epochLosses.last ?? .nan))")
        io.print("\(r.task.metric.rawValue) (validation) \(f(r.validationMetric))")
        io.print("\(r.task.metric.rawValue) (test)       \(f(r.testMetric))")
    }
}
