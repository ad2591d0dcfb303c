// The BERT-family presets bound to the real GLUE files (skipped visibly when the data directory lacks them): every
// task loads, batches, trains a step and evaluates to a finite metric; per-head thresholds reach the report.
import Basics
import Datasets
import Foundation
import Testing
import Training

@Suite(.serialized) struct GlueEncoderTaskTests {
    @Test(arguments: ["glue/sst2", "glue/cola", "glue/mrpc", "glue/stsb", "glue/rte"])
    func everyGlueTaskTrainsAStepAndEvaluates(task: String) throws {
        let directory = DataDirectory.resolve(explicit: nil)
        do {
            let preset = try Presets.named("bert-tiny")
            let bound = try preset.factory(task, directory, 1)
            #expect(bound.batchesPerEpoch > 0)
            #expect(bound.model.attentionLayerCount == 2 && bound.model.attentionHeadDimension == 32)
            bound.parameters.zeroGradients()
            let loss = bound.accumulateGradients(batch: 0, epoch: 0)
            #expect(loss.isFinite && loss > 0)
            let metric = try bound.evaluate(.test, limit: 64)
            #expect(metric.isFinite && metric >= -1 && metric <= 1, "\(task): \(metric)")
        } catch let missing as MissingDataError {
            print("SKIP: \(task): \(missing.message)")
        }
    }

    @Test func albertTinySharesOneLayerAcrossFourApplications() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 64)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let bound = try Presets.named("albert-tiny").factory("glue/sst2", DataDirectory(path: root), 1)
        #expect(bound.model.attentionLayerCount == 4 && bound.model.scoreTransforms.count == 4)
        let names = bound.parameters.entries.map(\.name)
        #expect(names.contains("embeddings.projection.weight") && !names.contains { $0.hasPrefix("layers.1.") })
    }

    @Test func perHeadThresholdsAreLearnedAndReported() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 96)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var s = PruningProtocolTests.settings(root)
        s.epochs = 1; s.fineTuneEpochs = 1; s.perHeadThresholds = true
        let r = try #require(try PruningProtocol.run(s).first)
        #expect(r.thresholds.count == 2 && r.thresholds.allSatisfy { $0.count == 2 })
        #expect(r.thresholds.allSatisfy { $0[0] != $0[1] }, "heads moved apart: \(r.thresholds)")
    }
}
