// The real model presets (memn2n, bert-tiny, bert-mini, albert-tiny, gpt2-tiny, vit-tiny, bert-minilm) as a
// sweep backend: the bridge to the Training side's preset registry and pruning protocol.
//
// Until that registry is linked into this build, every preset is *planned* (manifests naming them validate and
// `sweep plan` counts their jobs) but its jobs fail at run time with a clear reason, isolated like any failure.

import Basics
import Workloads

public struct PresetBackend: ModelBackend {
    /// The preset names of DESIGN.md / issue 4 and 7, with their families and the tasks each is meant for.
    static let catalogue: [String: (family: String, tasks: [String])] = {
        let glue = ["glue/sst2", "glue/cola", "glue/mrpc", "glue/stsb", "glue/rte"]
        let babi = (1...20).map { "babi/qa\($0)" }
        return [
            "memn2n": ("memn2n", babi),
            "bert-tiny": ("bert", glue),
            "bert-mini": ("bert", glue),
            "bert-minilm": ("bert", glue),
            "albert-tiny": ("albert", glue),
            "gpt2-tiny": ("gpt2", ["ptb", "shakespeare"]),
            "vit-tiny": ("vit", ["fashion-mnist"]),
        ]
    }()

    /// Presets whose training code is linked into this build.
    public static var availableModels: [String] { [] }

    public static func isAvailable(model: String) -> Bool { catalogue[model] != nil }

    public init() {}

    public func family(model: String) -> String { Self.catalogue[model]?.family ?? model }

    public func validate(model: String, task: String) throws {
        guard let entry = Self.catalogue[model] else { throw RuntimeError("unknown model \"\(model)\"") }
        guard entry.tasks.contains(task) else {
            throw RuntimeError("model \(model) has no task \"\(task)\"; expected one of: \(entry.tasks.joined(separator: ", "))")
        }
    }

    public func datasetIdentity(task: String, dataDirectory: String) throws -> JSONValue {
        // The task name and the data set's own version; files are checked by the loaders when a job runs.
        ["source": "leopard-datasets", "task": .string(task), "version": 1]
    }

    func unavailable(_ model: String) -> RuntimeError {
        RuntimeError("preset \(model) is planned but its training code is not linked into this leopard build "
                     + "(available models: \(ModelBackends.knownModels.joined(separator: ", ")))")
    }

    public func denseTrain(model: String, task: String, training: TrainingOverrides, environment: JobEnvironment) throws -> DenseOutcome {
        throw unavailable(model)
    }

    public func fineTune(model: String, task: String, dense: [UInt8], lambda: Double, thresholdInit: ThresholdInit,
                         training: TrainingOverrides, baselines: Bool, environment: JobEnvironment) throws -> FineTuneOutcome {
        throw unavailable(model)
    }

    public func captureTrace(model: String, task: String, checkpoint: [UInt8], trace: TraceSettings,
                             environment: JobEnvironment) throws -> AttentionTrace {
        throw unavailable(model)
    }
}
