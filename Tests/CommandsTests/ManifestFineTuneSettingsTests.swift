// A manifest's fine-tune settings against `leopard train`'s flags: the same settings resolve to the same fine-tune
// (weights' rate, distillation and its hidden-state weight, surrogate, steepness) in the protocol's settings and in
// the preset the sweep backend runs, both refuse the same meaningless combinations, and a malformed value is a
// message naming the manifest and the JSON path with exit code 1.

import Basics
import Foundation
@testable import Commands
import Layers
import Testing
@testable import Sweep
import Training

@Suite struct ManifestFineTuneSettingsTests {
    static func manifest(model: String, task: String, training: String) -> String {
        """
        {"schemaVersion": 1, "name": "m", "experiments": [{"model": "\(model)", "task": "\(task)", "training": {\(training)}}],
         "lambdas": [0.5], "hardware": {"qkUnits": [8]}}
        """
    }

    /// The fine-tune job's `training` of the one experiment (as JobRunner reads it), or the plan's error.
    static func fineTuneTraining(model: String, task: String, training: String) throws -> TrainingOverrides {
        let plan = try SweepPlan.make(Manifest.parse(bytes: Array(manifest(model: model, task: task, training: training).utf8), file: "m.json"),
                                      dataDirectory: "data")
        let job = try #require(plan.jobs.first { $0.kind == JobKind.fineTune.rawValue })
        return try TrainingOverrides(reader: JSONReader(job.parameters["training"]!, file: "job"))
    }

    static func trainSettings(_ model: String, _ task: String, _ flags: [String]) throws -> PruningSettings {
        var arguments = Arguments(["--model", model, "--task", task] + flags)
        return try TrainCommand(arguments: &arguments).pruningSettings(environment: [:])
    }

    struct Same: CustomTestStringConvertible, Sendable {
        let flags: [String]
        let training: String
        var model = "bert-tiny"
        var testDescription: String { "\(model) \(flags.joined(separator: " "))" }
    }

    static let same: [Same] = [
        Same(flags: [], training: ""),
        Same(flags: ["--fine-tune-lr", "0"], training: "\"fineTuneLearningRate\": 0"),
        Same(flags: ["--fine-tune-lr", "3e-4"], training: "\"fineTuneLearningRate\": 3e-4", model: "memn2n"),
        Same(flags: ["--distill", "off"], training: "\"distill\": \"off\""),
        Same(flags: ["--distill", "0.5", "--distill-hidden", "0.25"], training: "\"distill\": 0.5, \"distillHidden\": 0.25", model: "bert-mini"),
        Same(flags: ["--distill-hidden", "2"], training: "\"distillHidden\": 2"),
        Same(flags: ["--distill", "off", "--distill-hidden", "off"], training: "\"distill\": \"off\", \"distillHidden\": \"off\""),
        Same(flags: ["--surrogate", "tanh", "--steepness", "4"], training: "\"surrogate\": \"tanh\", \"steepness\": 4"),
        Same(flags: ["--surrogate", "log-sigmoid", "--steepness", "25"], training: "\"surrogate\": \"log-sigmoid\", \"steepness\": 25", model: "memn2n"),
    ]

    @Test(arguments: same)
    func theSameSettingsAsTrain(_ c: Same) throws {
        let task = c.model == "memn2n" ? "babi/qa1" : "glue/sst2"
        let train = try Self.trainSettings(c.model, task, c.flags)
        let training = try Self.fineTuneTraining(model: c.model, task: task, training: c.training)
        let preset = try PresetBackend().preset(c.model, training)
        #expect(preset.fineTuneLearningRate == train.preset.fineTuneLearningRate)
        #expect(preset.distillation == train.distillation)
        // The backend passes the hidden-state weight only with distillation on; train drops it otherwise.
        #expect((preset.distillation == nil ? nil : preset.hiddenDistillation) == train.hiddenDistillation)
        #expect(preset.surrogate == train.surrogate)
        #expect(PresetBackend.steepness(training) == train.steepness)
    }

    /// Combinations `leopard train` refuses (exit 64) are plan errors for a manifest (exit 1).
    @Test(arguments: [
        ("bert-mini", "glue/sst2", ["--distill-hidden", "1"], "\"distillHidden\": 1"),
        ("bert-tiny", "glue/sst2", ["--distill", "off", "--distill-hidden", "1"], "\"distill\": \"off\", \"distillHidden\": 1"),
        ("memn2n", "babi/qa1", ["--distill", "0.5"], "\"distill\": 0.5"),
    ])
    func refusedAsTrainRefusesThem(_ model: String, _ task: String, _ flags: [String], _ training: String) throws {
        #expect(throws: UsageError.self) { try Self.trainSettings(model, task, flags) }
        #expect(throws: InputError.self) { try Self.fineTuneTraining(model: model, task: task, training: training) }
    }

    @Test func malformedValueIsExitOneNamingTheFileAndPath() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-ft-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases = [
            ("\"distill\": 2", "training.distill = 2; expected a number > 0 and ≤ 1, or \"off\""),
            ("\"distill\": \"off\", \"distillHidden\": 0.5", "training.distillHidden = 0.5; expected no value or \"off\": hidden-state distillation needs distillation"),
        ]
        for (training, message) in cases {
            let path = directory.appendingPathComponent("bad.json").path
            try Self.manifest(model: "bert-tiny", task: "glue/sst2", training: training).write(toFile: path, atomically: true, encoding: .utf8)
            for subcommand in ["plan", "run"] {
                let r = runLeopard(["sweep", subcommand, path, "--store", directory.appendingPathComponent("s.sqlite").path])
                #expect(r.exitCode == 1, "\(subcommand): \(r.stderr)")
                #expect(r.stderr.contains("\(path): experiments[0].\(message)"), "\(r.stderr)")
            }
        }
    }
}
