// The paired standard error of an accuracy loss: d_i = dense right − pruned right per example; the report's paired
// loss is the metric loss itself (same examples, same predictions), with sd(d)/√n beside it.
import Basics
import Datasets
import Foundation
import Testing
@testable import Training

@Suite(.serialized) struct PairedLossTests {
    @Test func handComputedValues() throws {
        let p = try #require(PairedLoss(dense: [true, true, false, false, true], pruned: [true, false, false, true, true]))
        // d = 0, 1, 0, −1, 0: mean 0, sample variance 2/4, standard error √(0.5/5).
        #expect(p.examples == 5 && p.changed == 2 && p.loss == 0)
        #expect(abs(p.standardError - (0.1 as Double).squareRoot()) < 1e-12)
        let q = try #require(PairedLoss(dense: [true, true, true, true], pruned: [false, true, true, true]))
        #expect(q.loss == 0.25 && abs(q.standardError - 0.25) < 1e-12 && q.changed == 1)
        #expect(PairedLoss(dense: [true, false], pruned: [true]) == nil && PairedLoss(dense: nil, pruned: [true, true]) == nil)
    }

    @Test func theReportsPairedLossIsItsMetricLoss() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 160)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var s = PruningProtocolTests.settings(root)
        s.epochs = 2; s.fineTuneEpochs = 1; s.lambdas = [4]
        let r = try PruningProtocol.run(s)[0]
        let test = try #require(r.pairedLoss), validation = try #require(r.validationPairedLoss)
        #expect(abs(test.loss - r.metricLoss) < 1e-12 && abs(validation.loss - r.validationMetricLoss) < 1e-12)
        #expect(test.examples == 120 && test.standardError >= 0)
        #expect(test.changed >= Int((abs(test.loss) * 120).rounded()))
        guard case .object(let o) = r.json() else { Issue.record("report is not an object"); return }
        #expect(o["metric_loss_paired"]?["examples"] == JSONValue(120))
    }
}
