// The parts of the PruningTask contract that the report and the checkpoints rely on, for every task type:
// `trainingExamples` (the report's training_examples) and `modelMetadata` (the architecture in every checkpoint's
// safetensors metadata); and the protocol's dense-checkpoint start and per-fine-tuning dropout reseed, which make a
// λ's result the same whether dense training ran in the same process or was loaded from disk.
import Basics
import Datasets
import Foundation
import Models
import Tensors
import Testing
import Training

/// The architecture keys each family's config JSON must carry (sizes, heads, layers, vocabulary, sequence length).
struct ContractCase: CustomStringConvertible, Sendable {
    let smoke: SmokeCase
    let model: String
    let keys: [String]
    /// Expected training examples of the smoke-size task.
    let trainingExamples: Int
    let batchSize: Int
    var description: String { smoke.description }

    static let all: [ContractCase] = [
        // bAbI qa1: 1,000 training questions minus the carved 10% validation.
        ContractCase(smoke: SmokeCase.all[0], model: "memn2n", keys: ["vocabulary", "memory_slots", "sentence_length", "embedding", "hops", "classes"],
                     trainingExamples: 900, batchSize: 32),
        // 64 windows of the train stream, as the smoke settings ask.
        ContractCase(smoke: SmokeCase.all[2], model: "gpt2", keys: ["vocabulary", "max_time", "channels", "heads", "layers", "ff_hidden"],
                     trainingExamples: 64, batchSize: 4),
        ContractCase(smoke: SmokeCase.all[4], model: "vit", keys: ["image_size", "patch", "channels", "heads", "layers", "ff_hidden", "classes"],
                     trainingExamples: 512, batchSize: 16),
    ]
}

@Suite(.serialized) struct PruningTaskContractTests {
    @Test(arguments: ContractCase.all)
    func familiesReportTrainingExamplesAndTheirArchitecture(contract: ContractCase) throws {
        try withTask(contract.smoke) { task in
            #expect(task.trainingExamples == contract.trainingExamples)
            #expect(task.batchesPerEpoch == contract.trainingExamples / contract.batchSize, "an epoch is the whole subset")
            try expectConfig(task.modelMetadata, model: contract.model, keys: contract.keys)
        }
    }

    @Test func encoderTaskReportsItsSubsetAndConfig() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 200)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let task = try Presets.named("bert-tiny").factory("glue/sst2", DataDirectory(path: root), 1)
        // 200 rows minus the carved validation (10%) = 180; the 16,000-example subset is larger, so all of them.
        #expect(task.trainingExamples == 180)
        try expectConfig(task.modelMetadata, model: "bert", keys: ["vocabulary", "max_time", "channels", "heads", "layers", "ff_hidden"])
        let albert = try Presets.named("albert-tiny").factory("glue/sst2", DataDirectory(path: root), 1)
        try expectConfig(albert.modelMetadata, model: "albert", keys: ["embedding_size", "shared_layers", "layers"])
    }

    /// The whole protocol on memn2n/qa1 at one epoch: both checkpoints carry the MemoryNetwork config and the report
    /// counts the training questions (it said 0 for the families before).
    @Test func familyCheckpointsCarryTheModelConfiguration() throws {
        try withTask(SmokeCase.all[0]) { _ in
            let out = NSTemporaryDirectory() + "leopard-contract-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: out) }
            let settings = PruningSettings(preset: try Presets.named("memn2n"), taskName: "babi/qa1",
                                           dataDirectory: DataDirectory.resolve(explicit: nil), seed: 1, lambdas: [0.5],
                                           epochs: 1, fineTuneEpochs: 1, outputDirectory: out)
            let report = try #require(try PruningProtocol.run(settings).first)
            #expect(report.trainingExamples == 900)
            for file in ["dense.safetensors", "pruned.safetensors"] {
                let metadata = try SafetensorsFile.read(path: out + "/" + file).metadata
                try expectConfig(metadata, model: "memn2n", keys: ["vocabulary", "memory_slots", "hops"])
                #expect(metadata["preset"] == "memn2n" && metadata["task"] == "babi/qa1" && metadata["seed"] == "1")
            }
        }
    }

    /// Starting from the dense checkpoint of a first run reproduces that run's fine-tuning exactly (same weights,
    /// same data order, dropout restarted from the seed), whatever λ ran before; the validation block is filled.
    @Test func denseCheckpointStartReproducesTheFullRun() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 160)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var full = PruningProtocolTests.settings(root, out: root + "/full")
        full.epochs = 2; full.fineTuneEpochs = 1; full.lambdas = [0.5, 4]
        let first = try PruningProtocol.run(full)

        var resumed = PruningProtocolTests.settings(root)
        resumed.fineTuneEpochs = 1; resumed.lambdas = [4]
        resumed.denseCheckpoint = root + "/full/dense.safetensors"
        var second = try #require(try PruningProtocol.run(resumed).first)
        var reference = first[1]
        #expect(second.epochs == 2, "dense epochs come from the checkpoint's metadata")
        reference.trace = nil; second.trace = nil  // only the first run wrote a trace
        #expect(CanonicalJSON.encode(second.json(includeTiming: false)) == CanonicalJSON.encode(reference.json(includeTiming: false)))
        #expect((0...1).contains(second.validation.denseMetric) && second.validation.pruneRate > 0)
        #expect(second.json()["validation"]?["pruned_metric"] != nil)
    }

    @Test func denseCheckpointOfAnotherSeedIsRejectedNamingTheField() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 64)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var first = PruningProtocolTests.settings(root, out: root + "/a")
        first.epochs = 1; first.fineTuneEpochs = 0
        _ = try PruningProtocol.run(first)
        var other = PruningProtocolTests.settings(root)
        other.seed = 4
        other.denseCheckpoint = root + "/a/dense.safetensors"
        do {
            _ = try PruningProtocol.run(other)
            Issue.record("a checkpoint of seed 3 was accepted for seed 4")
        } catch let error as InputError {
            #expect(error.file.hasSuffix("a/dense.safetensors") && error.place == "__metadata__.seed", "\(error.message)")
        }
    }

    func expectConfig(_ metadata: [String: String], model: String, keys: [String],
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let text = try #require(metadata["config"], "no config in \(metadata.keys.sorted())", sourceLocation: sourceLocation)
        let config = try JSONParser.parse(text)
        #expect(config["model"] == .string(model), "config \(text)", sourceLocation: sourceLocation)
        for key in keys { #expect(config[key] != nil, "config lacks \(key): \(text)", sourceLocation: sourceLocation) }
    }
}
