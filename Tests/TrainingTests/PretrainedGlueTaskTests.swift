// The bert-minilm path end to end at toy size: a tiny BERT exported as a Hugging Face folder, a tiny RTE-format
// data directory, and the whole learned-pruning protocol through `Preset.initialised(from:)` — the same route as
// `leopard train --model bert-minilm --init DIR`. Also: pair batches carry token types, and the preset's errors.
import Basics
import Datasets
import Foundation
import Models
import Testing
@testable import Training

@Suite struct PretrainedGlueTaskTests {
    static let words = ["the", "cat", "sat", "on", "mat", "dog", "ran", "a", "is", "not", "red", "blue"]

    /// A tiny pretrained-looking checkpoint (its vocabulary holds `words`) and a GLUE RTE folder with 80 train and
    /// 24 dev pairs whose label is "does B repeat A's first word".
    static func fixture(_ name: String) throws -> (checkpoint: String, data: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-pretrained-\(name)-\(getpid())").path
        let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "."] + words
        let config = BertConfig(vocabulary: vocabulary.count, maxTime: 128, channels: 16, heads: 2, layers: 2, ffHidden: 32,
                                classes: 2, dropout: 0.1, layerNormEpsilon: 1e-12, typeVocabulary: 2, activation: .geluExact)
        try HubBertCheckpoint.export(BertClassifier(config: config, seed: 5), vocabulary: vocabulary, to: root + "/model")
        var rng = SeededGenerator(seed: 6)
        func rows(_ count: Int) -> String {
            var text = "index\tsentence1\tsentence2\tlabel\n"
            for i in 0..<count {
                let a = (0..<(3 + rng.nextInt(below: 5))).map { _ in words[rng.nextInt(below: words.count)] }
                let repeatFirst = rng.nextInt(below: 2) == 0
                let b = [repeatFirst ? a[0] : "not"] + (0..<3).map { _ in words[rng.nextInt(below: words.count)] }
                text += "\(i)\t\(a.joined(separator: " ")) .\t\(b.joined(separator: " ")) .\t\(repeatFirst ? "entailment" : "not_entailment")\n"
            }
            return text
        }
        try FileManager.default.createDirectory(atPath: root + "/data/glue/RTE", withIntermediateDirectories: true)
        try Data(rows(80).utf8).write(to: URL(fileURLWithPath: root + "/data/glue/RTE/train.tsv"))
        try Data(rows(24).utf8).write(to: URL(fileURLWithPath: root + "/data/glue/RTE/dev.tsv"))
        return (root + "/model", root + "/data")
    }

    @Test func pairBatchesCarryTokenTypesAndTrainTheTypeTable() throws {
        let (checkpoint, data) = try Self.fixture("batches")
        let task = try PretrainedGlueTask(presetName: "bert-minilm", shape: PretrainedPresets.miniLM, checkpointDirectory: checkpoint,
                                          taskName: "glue/rte", dataDirectory: DataDirectory(path: data), seed: 1, batchSize: 8)
        #expect(task.trainingExamples == 72, "80 train rows minus the carved 10% validation")
        let batch = task.batch(task.train, rows: [0, 1, 2][...])
        #expect(batch.tokenTypes.count == batch.batch * batch.time && batch.tokenTypes.contains(1))
        #expect(batch.time == 16, "cut to the longest example, rounded up to 16")
        task.parameters.zeroGradients()
        let loss = task.accumulateGradients(batch: 0, epoch: 0)
        #expect(loss.isFinite && loss > 0)
        let g = task.parameters.gradient("embeddings.token_type")
        #expect((0..<g.count).contains { g.pointer[$0] != 0 }, "the token-type table learns")
    }

    @Test func theProtocolRunsFromACheckpointFolder() throws {
        let (checkpoint, data) = try Self.fixture("protocol")
        let preset = try Presets.named("bert-minilm").initialised(from: checkpoint)
        var settings = PruningSettings(preset: preset, taskName: "glue/rte", dataDirectory: DataDirectory(path: data),
                                       seed: 3, lambdas: [0.5], epochs: 2, fineTuneEpochs: 1,
                                       outputDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("leopard-pretrained-out-\(getpid())").path)
        settings.traceExamples = 4
        let reports = try PruningProtocol.run(settings)
        let r = try #require(reports.first)
        #expect(r.model == "bert-minilm" && r.task == "glue/rte")
        #expect((0...1).contains(r.denseMetric) && (0...1).contains(r.prunedMetric) && (0...1).contains(r.pruneRate))
        #expect(r.trainingExamples == 72, "80 train rows minus the carved 10% validation")
        #expect(r.layerPruneRates.count == 2)
        let trace = try #require(r.trace)
        #expect(FileManager.default.fileExists(atPath: trace.directory + "/layer-01/q.npy"))
    }

    @Test func presetErrorsPointAtInit() throws {
        let withoutInit = try Presets.named("bert-minilm")
        let error = try #require(throws: UsageError.self) {
            _ = try withoutInit.factory("glue/sst2", DataDirectory(path: "/nonexistent"), 1)
        }
        #expect(error.message.contains("--init"))
        #expect(throws: UsageError.self) { _ = try Presets.named("bert-tiny").initialised(from: "/nonexistent") }
        let missing = try #require(throws: InputError.self) { _ = try withoutInit.initialised(from: "/nonexistent/minilm") }
        #expect(missing.file == "/nonexistent/minilm")
    }
}
