// The experiment field `init` (pretrained presets, e.g. bert-minilm): parsed into the experiment's training settings,
// checked at plan time (a missing or invalid checkpoint folder, or `init` on a from-scratch model, is an InputError
// naming the manifest and `experiments[i].init`), and part of the keys of the experiment's dense, fine-tune and
// trace jobs — while manifests without it keep their old keys.

import Basics
import Foundation
import Testing
@testable import Sweep

@Suite struct ManifestInitTests {
    /// A folder that passes the plan-time checkpoint check (config.json, a vocabulary of vocab_size lines, a
    /// model.safetensors file; the weights themselves are read only when a job runs).
    static func checkpointFolder(_ directory: TemporaryDirectory, _ name: String) throws -> String {
        let folder = directory.file(name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try """
        {"model_type": "bert", "hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": 2, "intermediate_size": 32,
         "vocab_size": 6, "max_position_embeddings": 64}
        """.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n".write(toFile: folder + "/vocab.txt", atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: folder + "/model.safetensors", contents: Data())
        return folder
    }

    static func manifest(init directory: String?, model: String = "bert-minilm") -> String {
        let field = directory.map { ", \"init\": \"\($0)\"" } ?? ""
        return """
        {"schemaVersion": 1, "name": "m", "seeds": [1],
         "experiments": [{"model": "toy", "task": "toy/easy"}, {"model": "\(model)", "task": "glue/sst2"\(field)}],
         "lambdas": [0.5], "hardware": {"qkUnits": [8]}}
        """
    }

    static func plan(_ text: String) throws -> SweepPlan {
        try SweepPlan.make(Manifest.parse(bytes: Array(text.utf8), file: "x.json"), dataDirectory: "data")
    }

    static func keys(_ plan: SweepPlan, model: String) -> [String: String] {
        var keys: [String: String] = [:]
        for job in plan.jobs where job.kind != JobKind.hardwareEval.rawValue && job.parameters["model"]?.stringValue == model {
            keys[job.kind] = job.key
        }
        return keys
    }

    @Test func initIsParsedAndTravelsToEveryJobOfTheExperiment() throws {
        let directory = try TemporaryDirectory()
        let folder = try Self.checkpointFolder(directory, "minilm")
        let m = try Manifest.parse(bytes: Array(Self.manifest(init: folder).utf8), file: "x.json")
        #expect(m.experiments[1].training.initDirectory == folder)
        #expect(m.experiments[0].training.initDirectory == nil)
        let plan = try Self.plan(Self.manifest(init: folder))
        let minilmJobs = plan.jobs.filter { $0.parameters["model"]?.stringValue == "bert-minilm" }
        for kind in ["dense-train", "finetune"] {
            let job = try #require(minilmJobs.first { $0.kind == kind })
            #expect(job.parameters["training"]?["init"]?.stringValue == folder, "\(kind) carries init")
            // What JobRunner reads back.
            let training = try TrainingOverrides(reader: JSONReader(job.parameters["training"]!, file: "job"))
            #expect(training.initDirectory == folder)
        }
        #expect(minilmJobs.first { $0.kind == "capture-trace" }?.parameters["init"]?.stringValue == folder)
        // The toy experiment's jobs carry nothing.
        for job in plan.jobs where job.parameters["model"]?.stringValue == "toy" {
            #expect(job.parameters["init"] == nil && job.parameters["training"]?["init"] == nil)
        }
    }

    @Test func theFieldIsPartOfTheKeys() throws {
        let directory = try TemporaryDirectory()
        let a = try Self.checkpointFolder(directory, "a"), b = try Self.checkpointFolder(directory, "b")
        let withA = Self.keys(try Self.plan(Self.manifest(init: a)), model: "bert-minilm")
        let withB = Self.keys(try Self.plan(Self.manifest(init: b)), model: "bert-minilm")
        let without = Self.keys(try Self.plan(Self.manifest(init: nil)), model: "bert-minilm")
        #expect(withA.count == 3)
        for kind in ["dense-train", "finetune", "capture-trace"] {
            #expect(withA[kind] != withB[kind], "\(kind): another checkpoint, another key")
            #expect(withA[kind] != without[kind], "\(kind): with and without init differ")
        }
        #expect(Self.keys(try Self.plan(Self.manifest(init: a)), model: "bert-minilm") == withA, "stable")
        // Experiments without init keep their keys whatever the other entries say.
        #expect(Self.keys(try Self.plan(Self.manifest(init: a)), model: "toy") == Self.keys(try Self.plan(Self.manifest(init: nil)), model: "toy"))
    }

    struct BadInit: CustomTestStringConvertible, Sendable {
        let name: String
        let manifest: @Sendable (String) -> String
        let expected: [String]
        var testDescription: String { name }
    }

    static let badInits: [BadInit] = [
        BadInit(name: "missing folder", manifest: { _ in manifest(init: "/nonexistent/minilm") },
                expected: ["experiments[1].init = \"/nonexistent/minilm\"", "not a directory"]),
        BadInit(name: "folder without config.json", manifest: { dir in manifest(init: dir) },
                expected: ["experiments[1].init", "config.json", "missing"]),
        BadInit(name: "empty path", manifest: { _ in manifest(init: "") }, expected: ["experiments[1].init = \"\"", "checkpoint folder"]),
        BadInit(name: "not a string", manifest: { _ in manifest(init: nil).replacingOccurrences(of: "\"glue/sst2\"", with: "\"glue/sst2\", \"init\": 3") },
                expected: ["experiments[1].init = 3", "a string"]),
        BadInit(name: "model trained from scratch", manifest: { dir in manifest(init: dir, model: "bert-tiny") },
                expected: ["experiments[1].init", "trains from scratch"]),
        BadInit(name: "inside training", manifest: { dir in manifest(init: nil).replacingOccurrences(of: "\"lambdas\"", with: "\"training\": {\"init\": \"\(dir)\"}, \"lambdas\"") },
                expected: ["training.init: unknown key"]),
    ]

    @Test(arguments: badInits)
    func badInitNamesTheJSONPath(_ c: BadInit) throws {
        let directory = try TemporaryDirectory()  // an existing folder holding no checkpoint files
        do {
            _ = try Self.plan(c.manifest(directory.path))
            Issue.record("accepted: \(c.name)")
        } catch let error as InputError {
            #expect(error.message.hasPrefix("x.json"), "\(error.message)")
            for part in c.expected { #expect(error.message.contains(part), "\(c.name): \(error.message)") }
        }
    }
}
