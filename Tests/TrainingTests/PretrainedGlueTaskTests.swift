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
        let longest = Int([0, 1, 2].map { task.train.ids.lengths[$0] }.max()!)
        #expect(batch.time % 8 == 0 && batch.time >= longest && batch.time < longest + 8, "cut to the longest example, rounded up to 8")
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

    @Test func trainingBatchesAreLengthGroupedAndSeeded() throws {
        let (checkpoint, data) = try Self.fixture("grouping")
        func task(seed: UInt64) throws -> PretrainedGlueTask {
            try PretrainedGlueTask(presetName: "bert-minilm", shape: PretrainedPresets.miniLM, checkpointDirectory: checkpoint,
                                   taskName: "glue/rte", dataDirectory: DataDirectory(path: data), seed: seed, batchSize: 8)
        }
        let a = try task(seed: 1)
        let batches = a.batches(epoch: 0)
        #expect(batches.count == a.batchesPerEpoch && batches.allSatisfy { $0.count == 8 })
        #expect(Set(batches.flatMap { $0 }).count == 72, "every training row once per epoch")
        // A batch is a run of a length-sorted chunk: its lengths never decrease.
        for b in batches {
            let lengths = b.map { a.train.ids.lengths[$0] }
            #expect(lengths == lengths.sorted())
        }
        #expect(try task(seed: 1).batches(epoch: 0) == batches, "same seed, same batches")
        #expect(a.batches(epoch: 1) != batches, "a new order each epoch")
    }

    @Test func controlAndStepCapAreReported() throws {
        let (checkpoint, data) = try Self.fixture("control")
        var preset = try Presets.named("bert-minilm").initialised(from: checkpoint)
        preset.fineTuneSteps = 3
        var settings = PruningSettings(preset: preset, taskName: "glue/rte", dataDirectory: DataDirectory(path: data),
                                       seed: 3, lambdas: [0.5, 2], epochs: 3, fineTuneEpochs: 2)
        settings.control = true
        let reports = try PruningProtocol.run(settings)
        #expect(reports.count == 2)
        for r in reports {
            #expect(r.denseSteps == 6, "72 rows / the preset's batch 32 = 2 steps per epoch, 3 epochs")
            #expect(r.fineTuneSteps == 3, "the preset's cap stops the 2-epoch fine-tune after 3 of 4 steps")
            let control = try #require(r.controlMetric)
            #expect((0...1).contains(control))
            #expect(r.controlLoss == control - r.prunedMetric)
            let json = r.json()
            #expect(json["control"]?["metric"]?.doubleValue == control)
            #expect(json["fine_tune_steps"]?.intValue == 3)
        }
        #expect(reports[0].controlMetric == reports[1].controlMetric, "one control serves every λ")
        settings.control = false
        #expect(try PruningProtocol.run(settings).allSatisfy { $0.controlMetric == nil && $0.json()["control"] == nil })
    }

    @Test func perTaskEpochsAndTheFineTuneCapSurviveInit() throws {
        let (checkpoint, _) = try Self.fixture("epochs")
        let preset = try Presets.named("bert-minilm").initialised(from: checkpoint)
        #expect(preset.epochs(for: "glue/sst2") == 1 && preset.epochs(for: "glue/rte") == 2)
        #expect(preset.fineTuneSteps == 300 && preset.fineTuneLearningRate == Presets.all["bert-minilm"]!.fineTuneLearningRate)
        let settings = PruningSettings(preset: preset, taskName: "glue/mrpc", dataDirectory: DataDirectory(path: "/x"))
        #expect(settings.epochs == 2 && settings.fineTuneSteps == 300)
        #expect(PruningSettings(preset: preset, taskName: "glue/mrpc", dataDirectory: DataDirectory(path: "/x"), epochs: 5).epochs == 5)
    }

    /// The fine-tuning settings a preset may carry (target, surrogate, distillation) survive `--init` too.
    @Test func fineTuneSettingsSurviveInit() throws {
        let (checkpoint, _) = try Self.fixture("settings")
        var preset = try Presets.named("bert-minilm")
        preset.pruneRateTarget = PruneRateTarget(rate: 0.4)
        preset.surrogate = .logSigmoid
        preset.distillation = 0.5
        let initialised = try preset.initialised(from: checkpoint)
        #expect(initialised.pruneRateTarget == PruneRateTarget(rate: 0.4) && initialised.surrogate == .logSigmoid)
        #expect(initialised.distillation == 0.5)
    }

    /// Distillation on the pretrained path (token types, exact GELU, ε 1e-12, length-grouped batches): distilling
    /// from itself without dropout scales the label gradient by (1 − α), to float precision.
    @Test func selfDistillationScalesTheLabelGradient() throws {
        let (checkpoint, data) = try Self.fixture("distill")
        var shape = PretrainedPresets.miniLM
        shape.dropout = 0
        let task = try PretrainedGlueTask(presetName: "bert-minilm", shape: shape, checkpointDirectory: checkpoint,
                                          taskName: "glue/rte", dataDirectory: DataDirectory(path: data), seed: 1, batchSize: 8)
        func gradients() -> [Float] {
            task.parameters.zeroGradients()
            _ = task.accumulateGradients(batch: 0, epoch: 0)
            return Array(UnsafeBufferPointer(start: task.parameters.gradients.pointer, count: task.parameters.gradients.count))
        }
        let labels = gradients()
        let scale = labels.map(abs).max() ?? 0
        #expect(scale > 0)
        task.distill(weight: 0.5)
        let half = gradients()
        task.distill(weight: nil)
        let worst = zip(half, labels).map { abs($0 - 0.5 * $1) }.max() ?? 0
        #expect(worst <= 2e-4 * scale, "max deviation \(worst) of max gradient \(scale)")
    }

    @Test func lengthSortedEvaluationGivesTheFileOrderMetric() throws {
        let (checkpoint, data) = try Self.fixture("evaluation")
        let task = try PretrainedGlueTask(presetName: "bert-minilm", shape: PretrainedPresets.miniLM, checkpointDirectory: checkpoint,
                                          taskName: "glue/rte", dataDirectory: DataDirectory(path: data), seed: 1, batchSize: 8)
        for _ in 0..<4 { task.parameters.zeroGradients(); _ = task.accumulateGradients(batch: 0, epoch: 0) }
        func metric(sorted: Bool) -> Double {
            SentenceClassification.evaluate(task.classifier, task: task.task, data: task.test, limit: nil, batchSize: 5,
                                            lengthSorted: sorted, batch: task.batch)
        }
        #expect(metric(sorted: true) == metric(sorted: false))
        #expect(try task.evaluate(.test, limit: nil) == metric(sorted: false))
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
