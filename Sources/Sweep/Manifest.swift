// Sweep — Leopard's main job: manifests → a DAG of jobs with stable keys → a Dispatch engine with one store writer
// → Pareto fronts, CSVs and plots (DESIGN.md §3).
//
// Owns: manifest v1 (this file; documented in docs/manifest.md), planning, the engine, job kinds, Pareto analysis
// and plot assembly. Imports Training (through the model-backend registry) and Layers (the surrogate's forms and
// default steepness), AcceleratorModel and Workloads (the hardware side), Storage, Reporting, Basics. Never prints or exits: the command layer does.
//
// Manifest v1: every value is checked with Basics' JSONReader, so an error reads
// `experiments/x.json: hardware.qkUnits[2] = 0; expected an integer ≥ 1`. Unknown keys are rejected everywhere.

import AcceleratorModel
import Basics
import Foundation
import Layers

/// One (model, task) pair to study, with optional per-experiment training overrides.
public struct ExperimentSpec: Sendable, Equatable {
    public let model: String
    public let task: String
    /// The manifest's top-level `training` with the experiment's own `training` laid over it.
    public let training: TrainingOverrides
    /// The JSON path of each `training` key that is set: `experiments[i].training.KEY` when the experiment's own
    /// object sets it, else `training.KEY` (for plan-time errors about a combination of settings).
    public var trainingPaths: [String: String] = [:]

    /// Where `key` (a `training` key such as "distill") was set, for messages.
    func trainingPath(_ key: String) -> String { trainingPaths[key] ?? "training.\(key)" }
}

/// Training settings a manifest may override; nil = the preset's default. Part of the dense/fine-tune keys: the
/// dense-train job's `training` holds the dense fields, the fine-tune job's the fine-tune fields (Plan.swift).
public struct TrainingOverrides: Sendable, Equatable {
    public var epochs: Int?
    public var fineTuneEpochs: Int?
    public var learningRate: Double?
    public var thresholdLearningRate: Double?
    public var batchSize: Int?
    /// Training examples used (a subset keeps dense training within its time budget).
    public var trainSubset: Int?
    /// Evaluation examples used for the dense/pruned metric (nil = the whole split).
    public var evalSubset: Int?
    /// Work units of the built-in `toy` family (CPU-bound steps); ignored by real presets.
    public var steps: Int?
    /// Pretrained presets (bert-minilm): the Hugging Face BERT checkpoint folder the weights start from, as written
    /// in the manifest's experiment entry (`"init"`); part of every key of the experiment's jobs.
    public var initDirectory: String?

    // Fine-tune only (what `leopard train` sets with the flag named): never part of the dense-train key.
    /// Peak learning rate of the weights while fine-tuning (`--fine-tune-lr`); 0 freezes them.
    public var fineTuneLearningRate: Double?
    /// Distillation weight α in (0, 1] (`--distill`): nil = the preset's; .some(nil) = "off", labels alone.
    public var distillation: Double??
    /// Hidden-state distillation weight β > 0 (`--distill-hidden`): nil = the preset's; .some(nil) = "off".
    public var hiddenDistillation: Double??
    /// The training surrogate of the hard rule (`--surrogate`).
    public var surrogate: ThresholdSurrogate?
    /// s of the surrogate and of the regulariser's sigmoid (`--steepness`; default 10).
    public var steepness: Double?

    public init() {}

    /// `allowInit`: job parameters carry `init` inside `training`; a manifest's `training` objects may not (it
    /// belongs to the experiment entry).
    init(reader: JSONReader, allowInit: Bool = true) throws {
        let o = try reader.object()
        epochs = try o.optional("epochs")?.int(min: 1, max: 10_000)
        fineTuneEpochs = try o.optional("fineTuneEpochs")?.int(min: 1, max: 10_000)
        learningRate = try o.optional("learningRate")?.double(min: 0, max: 10, minExclusive: true)
        thresholdLearningRate = try o.optional("thresholdLearningRate")?.double(min: 0, max: 10, minExclusive: true)
        batchSize = try o.optional("batchSize")?.int(min: 1, max: 65_536)
        trainSubset = try o.optional("trainSubset")?.int(min: 1, max: 100_000_000)
        evalSubset = try o.optional("evalSubset")?.int(min: 1, max: 100_000_000)
        steps = try o.optional("steps")?.int(min: 1, max: 1_000_000_000)
        fineTuneLearningRate = try o.optional("fineTuneLearningRate")?.double(min: 0, max: 10)
        distillation = try o.optional("distill").map { try Self.weightOrOff($0, expected: "a number > 0 and ≤ 1, or \"off\"") { $0 > 0 && $0 <= 1 } }
        hiddenDistillation = try o.optional("distillHidden").map { try Self.weightOrOff($0, expected: "a number > 0 and ≤ 1000000, or \"off\"") { $0 > 0 && $0 <= 1e6 } }
        surrogate = try o.optional("surrogate").map { ThresholdSurrogate(rawValue: try $0.string(oneOf: ThresholdSurrogate.allCases.map(\.rawValue)))! }
        steepness = try o.optional("steepness")?.double(min: 0, max: 1e6, minExclusive: true)
        if allowInit { initDirectory = try o.optional("init")?.string() }
        try o.finish(allowed: Manifest.commentKeys)
    }

    /// A weight, or the string "off" (→ nil).
    static func weightOrOff(_ reader: JSONReader, expected: String, _ isValid: (Double) -> Bool) throws -> Double? {
        if reader.value.stringValue == "off" { return nil }
        guard let weight = reader.value.doubleValue, weight.isFinite, isValid(weight) else { throw reader.fail(expected) }
        return weight
    }

    /// The `training` keys this object sets.
    var setKeys: [String] { json.objectValue.map { $0.keys.filter { $0 != "init" } } ?? [] }

    /// `self` with every field that `other` sets replaced.
    func overridden(by other: TrainingOverrides) -> TrainingOverrides {
        var r = self
        r.epochs = other.epochs ?? epochs
        r.fineTuneEpochs = other.fineTuneEpochs ?? fineTuneEpochs
        r.learningRate = other.learningRate ?? learningRate
        r.thresholdLearningRate = other.thresholdLearningRate ?? thresholdLearningRate
        r.batchSize = other.batchSize ?? batchSize
        r.trainSubset = other.trainSubset ?? trainSubset
        r.evalSubset = other.evalSubset ?? evalSubset
        r.steps = other.steps ?? steps
        r.initDirectory = other.initDirectory ?? initDirectory
        r.fineTuneLearningRate = other.fineTuneLearningRate ?? fineTuneLearningRate
        r.distillation = other.distillation ?? distillation
        r.hiddenDistillation = other.hiddenDistillation ?? hiddenDistillation
        r.surrogate = other.surrogate ?? surrogate
        r.steepness = other.steepness ?? steepness
        return r
    }

    /// Only the fields that are set (so adding a new optional field later does not change existing keys).
    public var json: JSONValue {
        var o: [String: JSONValue] = [:]
        if let epochs { o["epochs"] = JSONValue(epochs) }
        if let fineTuneEpochs { o["fineTuneEpochs"] = JSONValue(fineTuneEpochs) }
        if let learningRate { o["learningRate"] = JSONValue(learningRate) }
        if let thresholdLearningRate { o["thresholdLearningRate"] = JSONValue(thresholdLearningRate) }
        if let batchSize { o["batchSize"] = JSONValue(batchSize) }
        if let trainSubset { o["trainSubset"] = JSONValue(trainSubset) }
        if let evalSubset { o["evalSubset"] = JSONValue(evalSubset) }
        if let steps { o["steps"] = JSONValue(steps) }
        if let initDirectory { o["init"] = .string(initDirectory) }
        if let fineTuneLearningRate { o["fineTuneLearningRate"] = JSONValue(fineTuneLearningRate) }
        if let distillation { o["distill"] = distillation.map { JSONValue($0) } ?? "off" }
        if let hiddenDistillation { o["distillHidden"] = hiddenDistillation.map { JSONValue($0) } ?? "off" }
        if let surrogate { o["surrogate"] = .string(surrogate.rawValue) }
        if let steepness { o["steepness"] = JSONValue(steepness) }
        return .object(o)
    }
}

/// How fine-tuning initialises the learned thresholds.
public enum ThresholdInit: Sendable, Equatable {
    /// Th = 0 in every layer (scores are q·k/√d, so 0 prunes the negative scores from the start).
    case zero
    /// A fixed value in every layer.
    case value(Double)
    /// Per layer, the quantile of the dense model's scores that prunes this fraction.
    case quantile(pruneRate: Double)

    public var json: JSONValue {
        switch self {
        case .zero: return ["method": "zero"]
        case .value(let v): return ["method": "value", "value": JSONValue(v)]
        case .quantile(let p): return ["method": "quantile", "pruneRate": JSONValue(p)]
        }
    }

    init(reader: JSONReader) throws {
        let o = try reader.object()
        switch try o.required("method", "\"zero\", \"value\" or \"quantile\"").string(oneOf: ["zero", "value", "quantile"]) {
        case "zero": self = .zero
        case "value": self = .value(try o.required("value", "a number").double(min: -1e6, max: 1e6))
        default: self = .quantile(pruneRate: try o.required("pruneRate", "a number from 0 to 1").double(min: 0, max: 1))
        }
        try o.finish(allowed: Manifest.commentKeys)
    }
}

/// Attention-trace capture settings (DESIGN.md §2).
public struct TraceSettings: Sendable, Equatable {
    /// Evaluation examples captured (fixed subset: the first N of the test split).
    public var examples = 16
    /// B: Q/K quantisation bits.
    public var bits = 12

    public var json: JSONValue { ["examples": JSONValue(examples), "bits": JSONValue(bits)] }
}

public struct Manifest: Sendable {
    public static let schemaVersion = 1
    /// Keys allowed in any object for human comments (JSON has none): `"comment": "..."` or `"//": "..."`.
    static let commentKeys = ["comment", "//"]

    /// The file it came from (for messages).
    public let file: String
    public let name: String
    public let dataDirectory: String?
    public let seeds: [Int]
    public let experiments: [ExperimentSpec]
    public let lambdas: [Double]
    public let thresholdInit: ThresholdInit
    public let trace: TraceSettings
    public let hardwareGrid: HardwareGrid
    /// Energy table (built-in technology name) used to price every point.
    public let energyTable: String
    public let hardwareModels: [PerformanceModel]
    /// Accuracy-loss budget in metric points (e.g. 1.0 = one percentage point of accuracy).
    public let budgetPoints: Double
    /// Also evaluate the top-k and fixed-threshold baselines at the learned prune rate.
    public let baselines: Bool
    /// Default concurrency (`--jobs` overrides).
    public let jobs: Int
    /// The manifest as parsed (stored with the sweep, canonical JSON).
    public let json: JSONValue

    /// Reads and validates a manifest file.
    public static func load(path: String) throws -> Manifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, problem: "cannot read the manifest (missing or unreadable)")
        }
        return try parse(bytes: [UInt8](data), file: path)
    }

    public static func parse(bytes: [UInt8], file: String) throws -> Manifest {
        try Manifest(reader: JSONReader.parse(bytes: bytes, file: file))
    }

    public init(reader: JSONReader) throws {
        file = reader.file
        json = reader.value
        let o = try reader.object()
        _ = try o.required("schemaVersion", "1").int(min: Self.schemaVersion, max: Self.schemaVersion)
        let nameReader = try o.required("name", "a sweep name (letters, digits, '.', '_', '-')")
        name = try nameReader.string()
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        if name.isEmpty || name.count > 100 || !name.allSatisfy(allowed.contains) || name.hasPrefix(".") {
            throw nameReader.fail("a sweep name of 1 to 100 letters, digits, '.', '_' or '-' (used in file names)")
        }
        if let c = o.optional("comment") { _ = try c.string() }
        if let c = o.optional("//") { _ = try c.string() }
        dataDirectory = try o.optional("dataDirectory").map { r in
            let s = try r.string()
            if s.isEmpty { throw r.fail("a non-empty directory path") }
            return s
        }
        seeds = try o.optional("seeds").map { try Self.uniqueList($0) { try $0.int(min: 0, max: 1 << 31) } } ?? [0]

        let defaults = try o.optional("training").map { try TrainingOverrides(reader: $0, allowInit: false) } ?? TrainingOverrides()
        let experimentsReader = try o.required("experiments", "a non-empty array of {\"model\", \"task\"} objects")
        var experiments: [ExperimentSpec] = []
        var seen: [String: String] = [:]
        for item in try experimentsReader.array(nonEmpty: true) {
            let e = try item.object()
            let model = try Self.identifier(e.required("model", "a model preset name"))
            let task = try Self.identifier(e.required("task", "a task name"))
            var training = try e.optional("training").map { try TrainingOverrides(reader: $0, allowInit: false) } ?? TrainingOverrides()
            if let r = e.optional("init") {
                let directory = try r.string()
                if directory.isEmpty { throw r.fail("a checkpoint folder path (config.json, model.safetensors, vocab.txt)") }
                training.initDirectory = directory
            }
            try e.finish(allowed: Self.commentKeys)
            let id = model + "\u{0}" + task
            if let first = seen[id] { throw item.fail("a (model, task) pair not already listed (duplicate of \(first))") }
            seen[id] = item.path
            var spec = ExperimentSpec(model: model, task: task, training: defaults.overridden(by: training))
            for key in training.setKeys { spec.trainingPaths[key] = "\(item.path).training.\(key)" }
            experiments.append(spec)
        }
        self.experiments = experiments

        lambdas = try Self.uniqueList(o.required("lambdas", "a non-empty array of numbers ≥ 0")) { try $0.double(min: 0, max: 1e6) }
        thresholdInit = try o.optional("thresholdInit").map { try ThresholdInit(reader: $0) } ?? .zero

        var trace = TraceSettings()
        if let t = o.optional("trace") {
            let to = try t.object()
            if let r = to.optional("examples") { trace.examples = try r.int(min: 1, max: 100_000) }
            if let r = to.optional("bits") { trace.bits = try r.int(min: 2, max: 16) }
            try to.finish(allowed: Self.commentKeys)
        }
        self.trace = trace

        let table = try o.optional("energyTable")?.string(oneOf: EnergyTable.builtinNames) ?? "45nm"
        energyTable = table
        hardwareGrid = try o.optional("hardware").map { try HardwareGrid(reader: $0, technology: table) }
            ?? HardwareGrid(technology: table)
        hardwareModels = try o.optional("hardwareModels").map {
            try Self.uniqueList($0) { PerformanceModel(rawValue: try $0.string(oneOf: PerformanceModel.allCases.map(\.rawValue)))! }
        } ?? [.analytic]
        budgetPoints = try o.optional("budget")?.double(min: 0, max: 100) ?? 1.0
        baselines = try o.optional("baselines")?.bool() ?? true
        jobs = try o.optional("jobs")?.int(min: 1, max: 256) ?? 1
        try o.finish()
    }

    /// A model or task name: non-empty, printable, no whitespace.
    static func identifier(_ reader: JSONReader) throws -> String {
        let s = try reader.string()
        if s.isEmpty || s.count > 100 || s.contains(where: { $0.isWhitespace || $0.isNewline }) {
            throw reader.fail("a non-empty name without spaces (at most 100 characters)")
        }
        return s
    }

    /// A non-empty axis (a single value counts as a one-element list) with no value listed twice.
    static func uniqueList<T: Equatable>(_ reader: JSONReader, _ element: (JSONReader) throws -> T) throws -> [T] {
        let items: [JSONReader] = reader.value.arrayValue != nil ? try reader.array(nonEmpty: true) : [reader]
        var values: [T] = []
        for item in items {
            let v = try element(item)
            if let first = values.firstIndex(of: v) {
                throw item.fail("a value not already listed (duplicate of \(items[first].path))")
            }
            values.append(v)
        }
        return values
    }
}
