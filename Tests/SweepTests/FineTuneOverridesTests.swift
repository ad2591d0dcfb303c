// A manifest's fine-tune settings in `training` (fineTuneLearningRate, distill, distillHidden, surrogate, steepness,
// what `leopard train` sets with --fine-tune-lr, --distill, --distill-hidden, --surrogate, --steepness): parsed with
// the existing fields' precedence (an experiment's `training` over the top-level one), part of the keys of the
// fine-tune jobs they affect and of no dense-train key (one dense checkpoint serves them all), refused with the file
// and JSON path when malformed or meaningless, and applied by the preset backend.

import Basics
import Foundation
import Layers
import Storage
import Testing
@testable import Sweep
import Tensors
import Training

@Suite struct FineTuneOverridesTests {
    /// toy, bert-tiny on SST-2 (distils by default) and memn2n; `experiment` is bert-tiny's `training` object.
    static func manifest(top: String? = nil, experiment: String? = nil, model: String = "bert-tiny") -> String {
        let own = experiment.map { ", \"training\": {\($0)}" } ?? ""
        let defaults = top.map { "\"training\": {\($0)}, " } ?? ""
        return """
        {"schemaVersion": 1, "name": "m", "seeds": [1], \(defaults)
         "experiments": [{"model": "toy", "task": "toy/easy"}, {"model": "\(model)", "task": "glue/sst2"\(own)},
                         {"model": "memn2n", "task": "babi/qa1"}],
         "lambdas": [0.5], "hardware": {"qkUnits": [8]}}
        """
    }

    static func parse(_ text: String) throws -> Manifest { try Manifest.parse(bytes: Array(text.utf8), file: "x.json") }

    static func job(_ plan: SweepPlan, _ model: String, _ kind: JobKind) throws -> JobSpec {
        try #require(plan.jobs.first { $0.kind == kind.rawValue && $0.parameters["model"]?.stringValue == model })
    }

    /// Every job of `model` as "kind → [keys]" (the hardware jobs' keys sorted).
    static func keys(_ plan: SweepPlan, _ model: String) -> [String: [String]] {
        var keys: [String: [String]] = [:]
        for job in plan.jobs where job.parameters["model"]?.stringValue == model || (job.kind == JobKind.hardwareEval.rawValue
            && plan.jobs.contains { $0.key == job.parentKey && $0.parameters["model"]?.stringValue == model }) {
            keys[job.kind, default: []].append(job.key)
        }
        return keys.mapValues { $0.sorted() }
    }

    @Test func parsedWithTheExperimentOverTheTopLevel() throws {
        let m = try Self.parse(Self.manifest(top: "\"distill\": 0.5, \"surrogate\": \"tanh\", \"steepness\": 4, \"distillHidden\": 0.25",
                                             experiment: "\"distill\": \"off\", \"distillHidden\": \"off\", \"fineTuneLearningRate\": 0"))
        let toy = m.experiments[0].training, tiny = m.experiments[1].training
        #expect(toy.distillation == .some(0.5) && toy.hiddenDistillation == .some(0.25) && toy.fineTuneLearningRate == nil)
        #expect(tiny.distillation == .some(nil), "\"off\" is set (labels alone), not absent (the preset's)")
        #expect(tiny.hiddenDistillation == .some(nil) && tiny.fineTuneLearningRate == 0)
        for t in [toy, tiny] { #expect(t.surrogate == .tanh && t.steepness == 4) }
        #expect(m.experiments[2].training.distillation == .some(0.5))
        #expect(m.experiments[1].trainingPath("distill") == "experiments[1].training.distill")
        #expect(m.experiments[1].trainingPath("steepness") == "training.steepness")
        #expect(m.experiments[0].trainingPath("distill") == "training.distill")
        // A job's `training` parameters read back (JobRunner) to the same settings, "off" included.
        for t in [toy, tiny] { #expect(try TrainingOverrides(reader: JSONReader(t.json, file: "job")) == t) }
        #expect(tiny.json["distill"] == "off" && tiny.json["surrogate"] == "tanh")
    }

    struct Setting: CustomTestStringConvertible, Sendable {
        let json: String
        let check: @Sendable (TrainingOverrides) -> Bool
        var testDescription: String { json }
    }

    static let settings: [Setting] = [
        Setting(json: "\"fineTuneLearningRate\": 0") { $0.fineTuneLearningRate == 0 },
        Setting(json: "\"fineTuneLearningRate\": 0.0001") { $0.fineTuneLearningRate == 1e-4 },
        Setting(json: "\"distill\": \"off\"") { $0.distillation == .some(nil) },
        Setting(json: "\"distill\": 0.5") { $0.distillation == .some(0.5) },
        Setting(json: "\"distill\": 1") { $0.distillation == .some(1) },  // bert-tiny's default, still keyed: it was set
        Setting(json: "\"distillHidden\": 0.5") { $0.hiddenDistillation == .some(0.5) },
        Setting(json: "\"surrogate\": \"tanh\"") { $0.surrogate == .tanh },
        Setting(json: "\"steepness\": 5") { $0.steepness == 5 },
    ]

    /// One setting on bert-tiny's entry: its fine-tune gets another key (and so its trace and hardware jobs, which
    /// hang below it), with the setting in its `training` parameters as JobRunner reads them; its dense-train job keeps
    /// key and seed key; the other experiments keep every key.
    @Test(arguments: settings)
    func aSettingKeysTheFineTuneAndNeverTheDenseTraining(_ setting: Setting) throws {
        let before = try SweepPlan.make(Self.parse(Self.manifest()), dataDirectory: "data")
        let after = try SweepPlan.make(Self.parse(Self.manifest(experiment: setting.json)), dataDirectory: "data")
        let denseBefore = try Self.job(before, "bert-tiny", .denseTrain), denseAfter = try Self.job(after, "bert-tiny", .denseTrain)
        #expect(denseAfter.key == denseBefore.key && denseAfter.parameters == denseBefore.parameters)
        let fineTune = try Self.job(after, "bert-tiny", .fineTune)
        #expect(fineTune.parentKey == denseBefore.key)
        #expect(setting.check(try TrainingOverrides(reader: JSONReader(fineTune.parameters["training"]!, file: "job"))))
        let keysBefore = Self.keys(before, "bert-tiny"), keysAfter = Self.keys(after, "bert-tiny")
        for kind in [JobKind.fineTune, .captureTrace, .hardwareEval] {
            #expect(keysAfter[kind.rawValue]?.count == 1 && keysAfter[kind.rawValue] != keysBefore[kind.rawValue], "\(kind.rawValue)")
        }
        // Seeds follow Plan.swift's rule: the seed key drops the recipe only, so a manifest setting (an input like λ)
        // gives the fine-tune its own random streams, while the dense job's stay.
        let fineTuneBefore = try Self.job(before, "bert-tiny", .fineTune)
        #expect(fineTune.parameters["seedKey"] != nil && fineTune.parameters["seedKey"] != fineTuneBefore.parameters["seedKey"])
        for model in ["toy", "memn2n"] { #expect(Self.keys(after, model) == Self.keys(before, model), "\(model)") }
    }

    /// The same through the top-level `training` (settings every experiment accepts): every fine-tune changes, no
    /// dense training does — so two manifests that differ only here share their dense jobs in one store.
    @Test func topLevelSettingsKeepEveryDenseKey() throws {
        let before = try SweepPlan.make(Self.parse(Self.manifest()), dataDirectory: "data")
        let after = try SweepPlan.make(Self.parse(Self.manifest(
            top: "\"fineTuneLearningRate\": 0, \"distill\": \"off\", \"distillHidden\": \"off\", \"surrogate\": \"tanh\", \"steepness\": 3")),
            dataDirectory: "data")
        for model in ["toy", "bert-tiny", "memn2n"] {
            #expect(try Self.job(after, model, .denseTrain).key == Self.job(before, model, .denseTrain).key, "\(model)")
            #expect(try Self.job(after, model, .fineTune).key != Self.job(before, model, .fineTune).key, "\(model)")
        }
        #expect(Set(after.jobs.filter { $0.kind == JobKind.denseTrain.rawValue }.map(\.key))
                == Set(before.jobs.filter { $0.kind == JobKind.denseTrain.rawValue }.map(\.key)))
    }

    struct BadCase: CustomTestStringConvertible, Sendable {
        let name: String
        let top: String?
        let experiment: String?
        var model = "bert-tiny"
        let expected: String
        var testDescription: String { name }
    }

    static let badCases: [BadCase] = [
        BadCase(name: "distill 0", top: nil, experiment: "\"distill\": 0",
                expected: "x.json: experiments[1].training.distill = 0; expected a number > 0 and ≤ 1, or \"off\""),
        BadCase(name: "distill above 1", top: nil, experiment: "\"distill\": 1.5",
                expected: "x.json: experiments[1].training.distill = 1.5; expected a number > 0 and ≤ 1, or \"off\""),
        BadCase(name: "distill on", top: "\"distill\": \"on\"", experiment: nil,
                expected: "x.json: training.distill = \"on\"; expected a number > 0 and ≤ 1, or \"off\""),
        BadCase(name: "distill true", top: nil, experiment: "\"distill\": true",
                expected: "x.json: experiments[1].training.distill = true; expected a number > 0 and ≤ 1, or \"off\""),
        BadCase(name: "distillHidden negative", top: nil, experiment: "\"distillHidden\": -1",
                expected: "x.json: experiments[1].training.distillHidden = -1; expected a number > 0 and ≤ 1000000, or \"off\""),
        BadCase(name: "surrogate unknown", top: nil, experiment: "\"surrogate\": \"relu\"",
                expected: "x.json: experiments[1].training.surrogate = \"relu\"; expected one of \"tanh\", \"log-sigmoid\""),
        BadCase(name: "steepness 0", top: "\"steepness\": 0", experiment: nil,
                expected: "x.json: training.steepness = 0; expected a number > 0 and ≤ 1000000"),
        BadCase(name: "steepness text", top: nil, experiment: "\"steepness\": \"steep\"",
                expected: "x.json: experiments[1].training.steepness = \"steep\"; expected a number > 0 and ≤ 1000000"),
        BadCase(name: "fine-tune rate negative", top: nil, experiment: "\"fineTuneLearningRate\": -0.001",
                expected: "x.json: experiments[1].training.fineTuneLearningRate = -0.001; expected a number from 0 to 10"),
        BadCase(name: "misspelt key", top: nil, experiment: "\"distil\": 1",
                expected: "x.json: experiments[1].training.distil: unknown key; expected one of: "),
        // Plan time: settings this experiment's fine-tune could not honour, named where they were set.
        BadCase(name: "hidden with distill off", top: nil, experiment: "\"distill\": \"off\", \"distillHidden\": 0.5",
                expected: "x.json: experiments[1].training.distillHidden = 0.5; expected no value or \"off\": hidden-state distillation "
                    + "needs distillation from the dense model (experiments[1].training.distill = \"off\")"),
        BadCase(name: "hidden with distill off at the top", top: "\"distill\": \"off\"", experiment: "\"distillHidden\": 0.5",
                expected: "x.json: experiments[1].training.distillHidden = 0.5; expected no value or \"off\": hidden-state distillation "
                    + "needs distillation from the dense model (training.distill = \"off\")"),
        BadCase(name: "hidden on a preset that does not distil", top: nil, experiment: "\"distillHidden\": 2", model: "bert-mini",
                expected: "x.json: experiments[1].training.distillHidden = 2; expected no value or \"off\": hidden-state distillation "
                    + "needs distillation from the dense model (bert-mini does not distil by default; set distill to a weight in (0, 1])"),
        // A preset's own batch size and training subset, named where the manifest set them.
        BadCase(name: "batch size on a preset", top: nil, experiment: "\"batchSize\": 8",
                expected: "x.json: experiments[1].training.batchSize = 8; expected no value: preset bert-tiny fixes its own batchSize"),
        BadCase(name: "training subset at the top", top: "\"trainSubset\": 100", experiment: nil,
                expected: "x.json: training.trainSubset = 100; expected no value: preset bert-tiny fixes its own trainSubset"),
        BadCase(name: "distill on a task without a teacher", top: "\"distill\": 0.5", experiment: nil,
                expected: "x.json: training.distill = 0.5; expected no value or \"off\": distillation from the dense model needs a GLUE "
                    + "task and an encoder preset (the teacher's outputs are class probabilities or a regression value); memn2n on babi/qa1 has none"),
    ]

    @Test(arguments: badCases)
    func badSettingsNameTheFileAndPath(_ c: BadCase) throws {
        do {
            _ = try SweepPlan.make(Self.parse(Self.manifest(top: c.top, experiment: c.experiment, model: c.model)), dataDirectory: "data")
            Issue.record("accepted: \(c.name)")
        } catch let error as InputError {
            #expect(error.message.hasPrefix(c.expected), "\(error.message)")
        }
    }

    /// What `leopard train` accepts, a manifest accepts: "off" wherever there is nothing to turn off, and a hidden
    /// weight wherever the experiment distils.
    @Test(arguments: [
        (nil, "\"distill\": \"off\", \"distillHidden\": \"off\"", "bert-tiny"),
        ("\"distill\": \"off\"", nil, "bert-tiny"),  // memn2n with distillation off: nothing to turn off
        (nil, "\"distill\": 0.5, \"distillHidden\": 2", "bert-mini"),
        (nil, "\"distillHidden\": 2", "bert-tiny"),  // bert-tiny distils by default
        (nil, "\"distillHidden\": 2", "albert-tiny"),
    ] as [(String?, String?, String)])
    func meaningfulSettingsPlan(_ top: String?, _ experiment: String?, _ model: String) throws {
        let plan = try SweepPlan.make(Self.parse(Self.manifest(top: top, experiment: experiment, model: model)), dataDirectory: "data")
        #expect(plan.count(.fineTune) == 3)
    }
}

/// The settings as the preset backend runs them, on the small SST-2 fixture: each one, read from the planned
/// fine-tune job's parameters as JobRunner reads them, ends the fine-tune of the distilling bert-tiny elsewhere than
/// its defaults do, and the preset the backend resolves carries it.
@Suite struct FineTuneOverridesBackendTests {
    @Test func eachSettingChangesTheFineTuneAsTrainWould() throws {
        let directory = try TemporaryDirectory()
        let root = try PresetBackendGlueTests.sst2Fixture(directory)
        let backend = PresetBackend()
        let environment = JobEnvironment(seed: 2, dataDirectory: root, sharedMachine: false)
        /// The dense and fine-tune jobs' `training` for bert-tiny with `setting` in its entry.
        func training(_ setting: String?) throws -> (dense: TrainingOverrides, fineTune: TrainingOverrides) {
            let text = FineTuneOverridesTests.manifest(top: "\"epochs\": 3, \"fineTuneEpochs\": 1", experiment: setting)
            let plan = try SweepPlan.make(FineTuneOverridesTests.parse(text), dataDirectory: root)
            func read(_ kind: JobKind) throws -> TrainingOverrides {
                try TrainingOverrides(reader: JSONReader(FineTuneOverridesTests.job(plan, "bert-tiny", kind).parameters["training"]!, file: "job"))
            }
            return (try read(.denseTrain), try read(.fineTune))
        }
        let defaults = try training(nil)
        let dense = try backend.denseTrain(model: "bert-tiny", task: "glue/sst2", training: defaults.dense, environment: environment)
        func fineTune(_ training: TrainingOverrides) throws -> FineTuneOutcome {
            try backend.fineTune(model: "bert-tiny", task: "glue/sst2", dense: dense.checkpoint, lambda: 1,
                                 thresholdInit: .quantile(pruneRate: 0.3), training: training, baselines: false, environment: environment)
        }
        let reference = try fineTune(defaults.fineTune)
        let tiny = try Presets.named("bert-tiny")
        #expect(tiny.distillation == 1 && tiny.hiddenDistillation == nil && tiny.surrogate == .logSigmoid && tiny.fineTuneLearningRate > 0)

        let cases: [(setting: String, resolved: (Preset, Float) -> Bool)] = [
            ("\"distill\": \"off\"", { p, _ in p.distillation == nil }),
            ("\"distill\": 0.5", { p, _ in p.distillation == 0.5 }),
            ("\"distillHidden\": 1", { p, _ in p.distillation == 1 && p.hiddenDistillation == 1 }),
            ("\"fineTuneLearningRate\": 0", { p, _ in p.fineTuneLearningRate == 0 }),
            ("\"surrogate\": \"tanh\"", { p, _ in p.surrogate == .tanh }),
            ("\"steepness\": 3", { _, s in s == 3 }),
        ]
        for c in cases {
            let t = try training(c.setting)
            #expect(t.dense == defaults.dense, "\(c.setting): the dense job's training is the default one")
            #expect(c.resolved(try backend.preset("bert-tiny", t.fineTune), PresetBackend.steepness(t.fineTune)), "\(c.setting): resolved")
            let outcome = try fineTune(t.fineTune)
            #expect(outcome.thresholds != reference.thresholds, "\(c.setting): thresholds \(outcome.thresholds) as the defaults'")
            if c.setting.contains("fineTuneLearningRate") {
                // Frozen weights: every tensor of the fine-tuned checkpoint is the dense one, bit for bit.
                let before = try SafetensorsFile(bytes: dense.checkpoint, file: "dense"), after = try SafetensorsFile(bytes: outcome.checkpoint, file: "fine-tuned")
                #expect(before.entries.map(\.name) == after.entries.map(\.name) && before.entries.count > 10)
                for entry in before.entries { #expect(try before.floats(entry.name) == after.floats(entry.name), "\(entry.name)") }
            }
        }
        // Defaults through the same path reproduce the reference (the comparison above is not noise).
        #expect(try fineTune(defaults.fineTune).thresholds == reference.thresholds)
    }

    /// A distillation weight the task cannot honour (no teacher distribution: bAbI) fails the job, as `leopard train`
    /// fails, instead of fine-tuning on the labels alone under a key that says otherwise. (Plans refuse it earlier;
    /// this is the backend's own check.)
    @Test func distillationWithoutATeacherFailsTheJob() throws {
        var memn2n = try Presets.named("memn2n")
        memn2n.distillation = 1
        memn2n.fineTuneEpochs = 1
        let environment = JobEnvironment(seed: 1, dataDirectory: ProcessInfo.processInfo.environment["LEOPARD_DATA"] ?? "data",
                                         sharedMachine: false)
        let task = try PresetBackend().makeTask(memn2n, "babi/qa1", environment)
        let dense = SafetensorsFile.encode(tensors: task.parameters.entries.map { ($0.name, task.parameters.view($0.name)) }, metadata: [:])
        #expect {
            try PresetBackend().fineTune(preset: memn2n, task: "babi/qa1", dense: dense, lambda: 0.1, thresholdInit: .zero,
                                         training: TrainingOverrides(), baselines: false, environment: environment)
        } throws: { error in
            describeError(error) == "distillation from the dense model is implemented for the GLUE encoder presets; memn2n has none"
        }
    }
}
