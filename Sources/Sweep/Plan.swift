// Planning: a manifest expands into the DAG of DESIGN.md §3, each job keyed by `StableKey.job` over its canonical
// inputs (its parameters — including the data-set identity for training — and its parent's key):
//
//   dense-train(model, task, seed)            one per (model, task, seed), shared by every λ
//     └─ finetune(λ, threshold init)          one per λ, from the same dense checkpoint
//          └─ capture-trace(examples, bits)   one per fine-tuned model, shared by every hardware point
//               └─ hw-eval(hardware, model)   one per hardware point × performance model
//
// Because a key depends only on inputs, rerunning a manifest finds every key done and does nothing, and adding
// one λ or one hardware value adds exactly the jobs below the new value.

import AcceleratorModel
import Basics
import Storage

public enum JobKind: String, CaseIterable, Sendable {
    case denseTrain = "dense-train"
    case fineTune = "finetune"
    case captureTrace = "capture-trace"
    case hardwareEval = "hw-eval"
}

public struct SweepPlan: Sendable {
    public let manifest: Manifest
    public let dataDirectory: String
    /// Every job, parents before children, each key once.
    public let jobs: [JobSpec]

    public func count(_ kind: JobKind) -> Int { jobs.filter { $0.kind == kind.rawValue }.count }

    public var keys: Set<String> { Set(jobs.map(\.key)) }

    /// Expands `manifest`. Unknown models or tasks are errors naming the manifest path of the experiment.
    /// `checkingInitFolders: false` skips reading the pretrained checkpoint folders (`init`): only their paths enter
    /// the keys, so the plan is the same, and a stored manifest still plans where the folder is gone or relative
    /// to another working directory (CurrentJobs).
    public static func make(_ manifest: Manifest, dataDirectory: String, checkingInitFolders: Bool = true) throws -> SweepPlan {
        var jobs: [JobSpec] = []
        var seen: Set<String> = []
        // Seed keys: the engine seeds a job's random streams from its key, so a key that changes only because a
        // preset's recipe entered it (or changed) would re-draw initialisation and data order too. A job whose key
        // differs from the key it would have without any recipe (its own or an ancestor's) carries that recipe-free
        // key as `seedKey`: a changed default re-runs the job with the same random streams, and stores planned
        // before recipes were keyed get the same results again.
        var seedKeys: [String: String] = [:]
        // `prefix`: the same parameters with the start of their key text hashed once (hardware points, planned under
        // every trace); the keys are the same.
        func add(_ kind: JobKind, _ parameters: JSONValue, parent: String?, prefix: StableKey.JobPrefix? = nil) -> String {
            assert(prefix.map { $0.kind == kind.rawValue && JSONValue.object($0.parameters) == parameters && parameters["recipe"] == nil } ?? true)
            func key(_ parameters: JSONValue, parent: String?, seedKey: String? = nil) -> String {
                if let prefix { return prefix.key(adding: seedKey.map { ["seedKey": .string($0)] } ?? [:], parent: parent) }
                return StableKey.job(kind: kind.rawValue, parameters: parameters, parent: parent)
            }
            var parameters = parameters
            let seedParent = parent.map { seedKeys[$0] ?? $0 }
            // The recipe-free key differs from the key exactly when the parameters have a `recipe` member or the
            // parent has a seed key, so that is tested on the values: hashing both to compare them made a third of
            // the cost of planning experiments/paper.json (130,000 jobs), which `status` does on every call.
            var seedKey: String?
            if case .object(var members) = parameters, members["recipe"] != nil || seedParent != parent {
                var withoutRecipe = members
                withoutRecipe["recipe"] = nil
                let recipeFree = key(.object(withoutRecipe), parent: seedParent)
                members["seedKey"] = .string(recipeFree)
                parameters = .object(members)
                seedKey = recipeFree
            }
            let key = key(parameters, parent: parent, seedKey: seedKey)
            if let seedKey { seedKeys[key] = seedKey }
            if seen.insert(key).inserted {
                jobs.append(JobSpec(key: key, kind: kind.rawValue, parentKey: parent, parameters: parameters))
            }
            return key
        }
        // Each point's key JSON once (not once per trace), with the start of its key text hashed once.
        let hardwareParameters: [(parameters: JSONValue, prefix: StableKey.JobPrefix)] = manifest.hardwareGrid.points.flatMap { point in
            manifest.hardwareModels.map { model in
                let members: [String: JSONValue] = ["hardware": Self.hardwareKeyJSON(point.config), "model": .string(model.rawValue),
                                                    "energyTable": .string(manifest.energyTable)]
                return (.object(members), StableKey.JobPrefix(kind: JobKind.hardwareEval.rawValue, parameters: members))
            }
        }
        for (index, experiment) in manifest.experiments.enumerated() {
            let place = "experiments[\(index)]"
            guard let backend = ModelBackends.backend(for: experiment.model) else {
                throw InputError(file: manifest.file, place: "", problem: "\(place).model = \"\(experiment.model)\"; expected one of: "
                                 + ModelBackends.knownModels.joined(separator: ", "))
            }
            do {
                try backend.validate(model: experiment.model, task: experiment.task)
            } catch {
                throw InputError(file: manifest.file, place: "", problem: "\(place).task = \"\(experiment.task)\": \(describeError(error))")
            }
            // Presets define their own batch size and training subset; an override they would ignore is an error.
            if backend is PresetBackend {
                for (name, value) in [("batchSize", experiment.training.batchSize), ("trainSubset", experiment.training.trainSubset)]
                    where value != nil {
                    throw InputError(file: manifest.file, place: "", problem: "\(experiment.trainingPath(name)) = "
                                     + "\(value!); expected no value: preset \(experiment.model) fixes its own \(name)")
                }
            }
            // A pretrained preset needs its checkpoint folder (`init`), checked now rather than when the job runs.
            if let preset = backend as? PresetBackend {
                // Settings a preset's fine-tune could not honour (distillation where it cannot or does not distil).
                do {
                    try preset.validateFineTuneOverrides(model: experiment.model, task: experiment.task, training: experiment.training,
                                                         path: experiment.trainingPath)
                } catch {
                    throw InputError(file: manifest.file, place: "", problem: describeError(error))
                }
                if checkingInitFolders {
                    do {
                        try preset.validateInit(model: experiment.model, directory: experiment.training.initDirectory)
                    } catch {
                        let shown = experiment.training.initDirectory.map { " = \"\($0)\"" } ?? ""
                        throw InputError(file: manifest.file, place: "", problem: "\(place).init\(shown): \(describeError(error))")
                    }
                }
            } else if let directory = experiment.training.initDirectory {
                throw InputError(file: manifest.file, place: "", problem: "\(place).init = \"\(directory)\"; expected no value: "
                                 + "model \(experiment.model) does not start from a checkpoint")
            }
            let dataset = try backend.datasetIdentity(task: experiment.task, dataDirectory: dataDirectory)
            let t = experiment.training
            // The fine-tune settings stay out of the dense key: one dense checkpoint serves all of them.
            var denseTraining = t
            denseTraining.fineTuneEpochs = nil
            denseTraining.thresholdLearningRate = nil
            denseTraining.fineTuneLearningRate = nil
            denseTraining.distillation = nil
            denseTraining.hiddenDistillation = nil
            denseTraining.surrogate = nil
            denseTraining.steepness = nil
            var fineTuneTraining = TrainingOverrides()
            fineTuneTraining.fineTuneEpochs = t.fineTuneEpochs
            fineTuneTraining.thresholdLearningRate = t.thresholdLearningRate
            fineTuneTraining.fineTuneLearningRate = t.fineTuneLearningRate
            fineTuneTraining.distillation = t.distillation
            fineTuneTraining.hiddenDistillation = t.hiddenDistillation
            fineTuneTraining.surrogate = t.surrogate
            fineTuneTraining.steepness = t.steepness
            fineTuneTraining.evalSubset = t.evalSubset
            fineTuneTraining.steps = t.steps
            fineTuneTraining.initDirectory = t.initDirectory
            for seed in manifest.seeds {
                var denseParameters: [String: JSONValue] = [
                    "model": .string(experiment.model), "task": .string(experiment.task), "seed": JSONValue(seed),
                    "training": denseTraining.json, "dataset": dataset,
                ]
                // Only when the backend has one (presets), so the toy family's keys stay as they were.
                denseParameters["recipe"] = backend.recipe(model: experiment.model, task: experiment.task, stage: .denseTrain)
                let dense = add(.denseTrain, .object(denseParameters), parent: nil)
                for lambda in manifest.lambdas {
                    var fineTuneParameters: [String: JSONValue] = [
                        "model": .string(experiment.model), "task": .string(experiment.task), "lambda": JSONValue(lambda),
                        "thresholdInit": manifest.thresholdInit.json, "training": fineTuneTraining.json,
                        "baselines": .bool(manifest.baselines),
                    ]
                    fineTuneParameters["recipe"] = backend.recipe(model: experiment.model, task: experiment.task, stage: .fineTune)
                    let fineTune = add(.fineTune, .object(fineTuneParameters), parent: dense)
                    var traceParameters: [String: JSONValue] = [
                        "model": .string(experiment.model), "task": .string(experiment.task), "trace": manifest.trace.json,
                    ]
                    // Only when set, so the keys of manifests without `init` stay as they were.
                    if let directory = t.initDirectory { traceParameters["init"] = .string(directory) }
                    let trace = add(.captureTrace, .object(traceParameters), parent: fineTune)
                    for point in hardwareParameters { _ = add(.hardwareEval, point.parameters, parent: trace, prefix: point.prefix) }
                }
            }
        }
        return SweepPlan(manifest: manifest, dataDirectory: dataDirectory, jobs: jobs)
    }

    /// The hardware configuration as it enters a key: every parameter except the display name.
    static func hardwareKeyJSON(_ config: HardwareConfig) -> JSONValue {
        var members = config.json.objectValue ?? [:]
        members["name"] = nil
        return .object(members)
    }
}

/// Where the data directory comes from: the command line, else the manifest, else `LEOPARD_DATA`, else `./data`.
public func resolveDataDirectory(flag: String?, manifest: Manifest?, environment: [String: String]) -> String {
    flag ?? manifest?.dataDirectory ?? environment["LEOPARD_DATA"] ?? "data"
}
