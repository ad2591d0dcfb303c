// A preset's built-in defaults (learning rates, epochs, surrogate) enter the keys of its dense-train and finetune
// jobs, so a store made before a default changed re-runs what the change affects instead of reusing stale results;
// the toy family (no recipe) keeps its keys, and trace and hardware jobs follow through their parents.

import Basics
import Storage
import Testing
@testable import Sweep
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
        #expect(try job("memn2n", .fineTune).parameters["recipe"]?["fine_tune_learning_rate"] == JSONValue(memn2n.fineTuneLearningRate))
        #expect(try job("bert-tiny", .denseTrain).parameters["recipe"]?["learning_rate"] == JSONValue(tiny.learningRate))
        #expect(try job("memn2n", .denseTrain).parameters["recipe"]?["epochs"] == JSONValue(memn2n.epochs(for: "babi/qa1")))
        // Only the stages the defaults act on; the toy family has no recipe, so its keys are unchanged.
        #expect(try job("bert-tiny", .captureTrace).parameters["recipe"] == nil)
        for spec in plan.jobs where spec.parameters["model"]?.stringValue == "toy" { #expect(spec.parameters["recipe"] == nil) }
    }

    @Test func aChangedDefaultChangesTheKeysBelowIt() throws {
        let plan = try ManifestInitTests.plan(Self.manifest)
        let fineTune = try #require(plan.jobs.first { $0.kind == JobKind.fineTune.rawValue && $0.parameters["model"]?.stringValue == "bert-tiny" })
        guard case .object(var parameters) = fineTune.parameters, case .object(var recipe)? = parameters["recipe"] else {
            Issue.record("no recipe object"); return
        }
        #expect(StableKey.job(kind: fineTune.kind, parameters: fineTune.parameters, parent: fineTune.parentKey) == fineTune.key)
        recipe["surrogate"] = .string("tanh-before")
        parameters["recipe"] = .object(recipe)
        #expect(StableKey.job(kind: fineTune.kind, parameters: .object(parameters), parent: fineTune.parentKey) != fineTune.key)
    }
}
