// `--training-subset` (Preset.withTrainingSubset): an encoder preset trains on the first N rows of one seeded shuffle
// of the train split, so subsets nest; "all" is the whole split; other presets and sub-batch sizes are usage errors;
// a dense checkpoint trained on another subset is rejected naming the metadata field.
import Basics
import Datasets
import Foundation
import Tensors
import Testing
@testable import Training

@Suite(.serialized) struct TrainingSubsetTests {
    func rows(_ preset: Preset, _ root: String) throws -> [Int] {
        let task = try #require(try preset.factory("glue/sst2", DataDirectory(path: root), 1) as? GlueEncoderTask)
        return task.trainRows
    }

    @Test func subsetsNestAndAllMeansTheWholeSplit() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 200)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let mini = try Presets.named("bert-mini")
        let small = try rows(mini.withTrainingSubset(64), root)
        let large = try rows(mini.withTrainingSubset(128), root)
        let whole = try rows(mini.withTrainingSubset(nil), root)
        #expect(small.count == 64 && large.count == 128)
        #expect(whole.count > 128 && whole == Array(0..<whole.count), "all: every training row (\(whole.count))")
        #expect(Set(small).isSubset(of: Set(large)), "the 64-row subset is inside the 128-row one")
        #expect(small != Array(0..<64), "a seeded shuffle, not the file's first rows")
        // The same subset for every seed and preset: it is keyed by the task alone.
        let tiny = try #require(try Presets.named("bert-tiny").withTrainingSubset(64)
            .factory("glue/sst2", DataDirectory(path: root), 7) as? GlueEncoderTask)
        #expect(tiny.trainRows == small)
        // The default (16,000) exceeds this split: the whole split.
        #expect(try rows(mini, root) == whole)
        // The override keeps the architecture.
        let bound = try mini.withTrainingSubset(64).factory("glue/sst2", DataDirectory(path: root), 1)
        #expect(bound.model.attentionLayerCount == 4 && bound.trainingExamples == 64)
    }

    @Test func onlyEncoderPresetsAndAtLeastOneBatch() throws {
        #expect(throws: UsageError.self) { try Presets.named("memn2n").withTrainingSubset(100) }
        #expect(throws: UsageError.self) { try Presets.named("bert-tiny").withTrainingSubset(31) }
        #expect(try Presets.named("bert-tiny").withTrainingSubset(32).name == "bert-tiny")
    }

    @Test func denseCheckpointOfAnotherSubsetIsRejectedNamingTheField() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 96)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var first = PruningProtocolTests.settings(root, out: root + "/a")
        first.preset = try Presets.named("bert-tiny").withTrainingSubset(64)
        first.epochs = 1; first.fineTuneEpochs = 0; first.distillation = nil; first.pruneRateTarget = nil
        let report = try #require(try PruningProtocol.run(first).first)
        #expect(report.trainingExamples == 64)
        let written = try SafetensorsFile.read(path: root + "/a/dense.safetensors")
        #expect(written.metadata["training_examples"] == "64")

        var same = first
        same.outputDirectory = nil
        same.denseCheckpoint = root + "/a/dense.safetensors"
        #expect(try PruningProtocol.run(same).first?.denseMetric == report.denseMetric)

        // A checkpoint written before the key existed is accepted, and what this run writes does not claim a count.
        let task = try first.preset.factory("glue/sst2", DataDirectory(path: root), first.seed)
        try task.parameters.load(from: written)
        var keyless = written.metadata
        keyless["training_examples"] = nil
        try task.parameters.write(path: root + "/keyless.safetensors", metadata: keyless)
        var old = same
        old.preset = try Presets.named("bert-tiny").withTrainingSubset(32)
        old.denseCheckpoint = root + "/keyless.safetensors"
        old.outputDirectory = root + "/b"
        _ = try PruningProtocol.run(old)
        #expect(try SafetensorsFile.read(path: root + "/b/dense.safetensors").metadata["training_examples"] == nil)
        #expect(try SafetensorsFile.read(path: root + "/b/pruned.safetensors").metadata["training_examples"] == nil)

        var other = same
        other.preset = try Presets.named("bert-tiny").withTrainingSubset(32)
        do {
            _ = try PruningProtocol.run(other)
            Issue.record("a dense checkpoint trained on 64 examples per epoch was accepted for 32")
        } catch let error as InputError {
            #expect(error.file.hasSuffix("a/dense.safetensors") && error.place == "__metadata__.training_examples", "\(error.message)")
            #expect(error.message.contains("found \"64\", expected \"32\""), "\(error.message)")
        }
    }
}
