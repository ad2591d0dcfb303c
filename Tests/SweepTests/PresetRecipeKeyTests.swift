// A preset's built-in defaults (learning rates, epochs, surrogate) enter the keys of its dense-train and finetune
// jobs, so a store made before a default changed re-runs what the change affects instead of reusing stale results;
// the toy family (no recipe) keeps its keys, and trace and hardware jobs follow through their parents.

import Basics
import Foundation
import Storage
import Testing
@testable import Sweep
import Tensors
import Training

@Suite struct PresetRecipeKeyTests {
    static let manifest = """
        {"schemaVersion": 1, "name": "m", "seeds": [1],
         "experiments": [{"model": "toy", "task": "toy/easy"}, {"model": "bert-tiny", "task": "glue/sst2"},
                         {"model": "memn2n", "task": "babi/qa1"}],
         "lambdas": [0.5], "hardware": {"qkUnits": [8]}}
        """

    @Test func presetDefaultsArePartOfTheJobParameters() throws {
        let plan = try ManifestInitTests.plan(Self.manifest)
        func job(_ model: String, _ kind: JobKind) throws -> JobSpec {
            try #require(plan.jobs.first { $0.kind == kind.rawValue && $0.parameters["model"]?.stringValue == model })
        }
        let tiny = try Presets.named("bert-tiny"), memn2n = try Presets.named("memn2n")
        let tinyFineTune = try job("bert-tiny", .fineTune).parameters["recipe"]
        #expect(tinyFineTune?["fine_tune_learning_rate"] == JSONValue(tiny.fineTuneLearningRate))
        #expect(tinyFineTune?["surrogate"]?.stringValue == tiny.surrogate.rawValue)
        #expect(tinyFineTune?["distillation"] == tiny.distillation.map { JSONValue($0) })
        #expect(try job("memn2n", .fineTune).parameters["recipe"]?["fine_tune_learning_rate"] == JSONValue(memn2n.fineTuneLearningRate))
        #expect(try job("bert-tiny", .denseTrain).parameters["recipe"]?["learning_rate"] == JSONValue(tiny.learningRate))
        #expect(try job("memn2n", .denseTrain).parameters["recipe"]?["epochs"] == JSONValue(memn2n.epochs(for: "babi/qa1")))
        // An encoder's training subset is keyed where it changed since keys began (bert-mini: 8,000 → 16,000), so
        // its old dense models re-train; bert-tiny's never changed, so its keys stay; the families have none.
        #expect(try job("bert-tiny", .denseTrain).parameters["recipe"]?["training_subset"] == nil)
        #expect(try job("memn2n", .denseTrain).parameters["recipe"]?["training_subset"] == nil)
        let backend = PresetBackend()
        let mini = Presets.encoderShapes["bert-mini"]?.trainingSubset
        #expect(mini == 16_000 && backend.recipe(model: "bert-mini", task: "glue/sst2", stage: .denseTrain)?["training_subset"] == JSONValue(16_000))
        #expect(backend.recipe(model: "albert-tiny", task: "glue/sst2", stage: .denseTrain)?["training_subset"] == nil)
        // Only the stages the defaults act on; the toy family has no recipe, so its keys are unchanged.
        #expect(try job("bert-tiny", .captureTrace).parameters["recipe"] == nil)
        for spec in plan.jobs where spec.parameters["model"]?.stringValue == "toy" { #expect(spec.parameters["recipe"] == nil) }
    }

    /// Seeds stay with the experiment, not with the defaults: every preset job (and the trace and hardware jobs under
    /// it) carries as `seedKey` the key it would have with no recipe anywhere above it — the key such a manifest had
    /// before recipes were keyed — and the engine seeds from it; toy jobs have none and seed from their own keys.
    @Test func seedKeysAreTheRecipeFreeKeys() throws {
        let plan = try ManifestInitTests.plan(Self.manifest)
        let byKey = Dictionary(uniqueKeysWithValues: plan.jobs.map { ($0.key, $0) })
        func strip(_ p: JSONValue) -> JSONValue {
            guard case .object(var o) = p else { return p }
            o["recipe"] = nil; o["seedKey"] = nil
            return .object(o)
        }
        func legacyKey(_ job: JobSpec) -> String {
            StableKey.job(kind: job.kind, parameters: strip(job.parameters), parent: job.parentKey.map { legacyKey(byKey[$0]!) })
        }
        var checked = 0
        for job in plan.jobs {
            if job.parameters["model"]?.stringValue == "toy" || (job.kind == JobKind.hardwareEval.rawValue && legacyKey(job) == job.key) {
                #expect(job.parameters["seedKey"] == nil)
                continue
            }
            #expect(job.parameters["seedKey"]?.stringValue == legacyKey(job), "\(job.kind) \(job.key.prefix(12))")
            #expect(job.parameters["seedKey"]?.stringValue != job.key)
            checked += 1
        }
        #expect(checked >= 8)  // 2 presets × (dense, finetune, trace, ≥ 1 hw-eval)
    }

    /// The planned key is the hash of the parameters that hold the recipe (so another recipe is another key), and the
    /// trace and hardware jobs hang below that key (so they re-run with it).
    @Test func theRecipeKeysTheFineTuneAndItsChildren() throws {
        let plan = try ManifestInitTests.plan(Self.manifest)
        let fineTune = try #require(plan.jobs.first { $0.kind == JobKind.fineTune.rawValue && $0.parameters["model"]?.stringValue == "bert-tiny" })
        guard case .object(var parameters) = fineTune.parameters, case .object(var recipe)? = parameters["recipe"] else {
            Issue.record("no recipe object"); return
        }
        #expect(StableKey.job(kind: fineTune.kind, parameters: fineTune.parameters, parent: fineTune.parentKey) == fineTune.key)
        recipe["surrogate"] = .string("tanh-before")
        parameters["recipe"] = .object(recipe)
        #expect(StableKey.job(kind: fineTune.kind, parameters: .object(parameters), parent: fineTune.parentKey) != fineTune.key)
        let trace = try #require(plan.jobs.first { $0.kind == JobKind.captureTrace.rawValue && $0.parentKey == fineTune.key })
        #expect(plan.jobs.contains { $0.kind == JobKind.hardwareEval.rawValue && $0.parentKey == trace.key })
    }
}

/// The sweep's stages for a distilling preset (bert-tiny) on a small SST-2-format fixture: dense training, then a
/// fine-tune against the dense outputs at λ = 1, with the baselines — the path `leopard sweep` takes for the GLUE
/// encoders, end to end.
@Suite struct PresetBackendGlueTests {
    /// A data directory in `directory` holding a small SST-2-format task (192 training and 64 dev sentences whose
    /// label is given by one word); returns its path.
    static func sst2Fixture(_ directory: TemporaryDirectory) throws -> String {
        let root = directory.file("data")
        try FileManager.default.createDirectory(atPath: root + "/glue/SST-2", withIntermediateDirectories: true)
        var rng = SeededGenerator(seed: 11)
        let filler = ["the", "a", "film", "plot", "was", "very", "and", "story"]
        func rows(_ n: Int) -> String {
            var text = "sentence\tlabel\n"
            for _ in 0..<n {
                var words = (0..<(4 + rng.nextInt(below: 6))).map { _ in filler[rng.nextInt(below: filler.count)] }
                let label = rng.nextInt(below: 2)
                words.insert(label == 1 ? "good" : "dull", at: rng.nextInt(below: words.count + 1))
                text += words.joined(separator: " ") + "\t\(label)\n"
            }
            return text
        }
        try rows(192).write(toFile: root + "/glue/SST-2/train.tsv", atomically: true, encoding: .utf8)
        try rows(64).write(toFile: root + "/glue/SST-2/dev.tsv", atomically: true, encoding: .utf8)
        return root
    }

    @Test func bertTinyTrainsAndFineTunesThroughTheSweepBackend() throws {
        let directory = try TemporaryDirectory()
        let root = try Self.sst2Fixture(directory)
        #expect(try Presets.named("bert-tiny").distillation == 1)
        let backend = PresetBackend()
        var training = TrainingOverrides()
        training.epochs = 3
        training.fineTuneEpochs = 1
        let environment = JobEnvironment(seed: 2, dataDirectory: root, sharedMachine: false)
        let dense = try backend.denseTrain(model: "bert-tiny", task: "glue/sst2", training: training, environment: environment)
        let outcome = try backend.fineTune(model: "bert-tiny", task: "glue/sst2", dense: dense.checkpoint, lambda: 1,
                                           thresholdInit: .quantile(pruneRate: 0.3), training: training, baselines: true,
                                           environment: environment)
        #expect(dense.metric >= 0 && dense.metric <= 1 && outcome.metric >= 0 && outcome.metric <= 1)
        #expect(outcome.layerPruneRates.count == 2 && outcome.pruneRate > 0.1 && outcome.pruneRate < 1)
        #expect(outcome.topKMetric != nil && outcome.fixedThresholdMetric != nil)
        // Paired standard errors of the three losses against the dense model (exact for accuracy: d_i ∈ {−1, 0, 1},
        // so a non-zero loss has a standard error of at least √((|loss| − loss²)/(n − 1)), n = 64 test sentences).
        for (metric, se) in [(outcome.metric, outcome.standardError), (outcome.topKMetric!, outcome.topKStandardError),
                             (outcome.fixedThresholdMetric!, outcome.fixedThresholdStandardError)] {
            let error = try #require(se, "a fine-tune outcome without its standard error")
            let loss = abs(dense.metric - metric)
            #expect(error >= ((loss - loss * loss) / 63).squareRoot() - 1e-12 && error <= 0.5 / (63 as Double).squareRoot() * 2)
        }
        // The weights themselves moved (2e-5, against the dense outputs) — compared tensor by tensor, not as files.
        let before = try SafetensorsFile(bytes: dense.checkpoint, file: "dense"), after = try SafetensorsFile(bytes: outcome.checkpoint, file: "fine-tuned")
        #expect(try before.floats("layers.0.attention.qkv.weight") != after.floats("layers.0.attention.qkv.weight"))
        // The sweep honours the preset's distillation: the same job trained on the labels ends elsewhere, and the
        // registered preset's job is the distilling one.
        var labelsOnly = try Presets.named("bert-tiny")
        labelsOnly.distillation = nil
        let onLabels = try backend.fineTune(preset: labelsOnly, task: "glue/sst2", dense: dense.checkpoint, lambda: 1,
                                            thresholdInit: .quantile(pruneRate: 0.3), training: training, baselines: false,
                                            environment: environment)
        var distilling = labelsOnly
        distilling.distillation = 1
        let distilled = try backend.fineTune(preset: distilling, task: "glue/sst2", dense: dense.checkpoint, lambda: 1,
                                             thresholdInit: .quantile(pruneRate: 0.3), training: training, baselines: false,
                                             environment: environment)
        #expect(onLabels.thresholds != distilled.thresholds)
        #expect(distilled.thresholds == outcome.thresholds && distilled.metric == outcome.metric)
    }
}
