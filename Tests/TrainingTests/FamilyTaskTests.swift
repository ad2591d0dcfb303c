// The memn2n / gpt2-tiny / vit-tiny PruningTask adapters on the real data files (LEOPARD_DATA, else ./data; a
// data set that is genuinely absent is skipped with a visible SKIP line): a few steps improve the loss, metrics
// and attention capture have the right shape, batch order is deterministic, memn2n learns qa1.
import Basics
import Datasets
import Foundation
import Layers
import Models
import Testing
import Training

/// One (preset, task) at smoke size.
struct SmokeCase: CustomStringConvertible, Sendable {
    let description: String
    let make: @Sendable (DataDirectory) throws -> any PruningTask

    static let all: [SmokeCase] = [
        SmokeCase(description: "memn2n on babi/qa1") { try makeMemN2NTask(task: "babi/qa1", dataDirectory: $0, seed: 1) },
        SmokeCase(description: "memn2n on babi/qa19") { try makeMemN2NTask(task: "babi/qa19", dataDirectory: $0, seed: 1) },
        SmokeCase(description: "gpt2-tiny on ptb") {
            try makeGPT2TinyTask(task: "ptb", dataDirectory: $0, seed: 1,
                                 settings: GPT2TinySettings(channels: 32, heads: 2, layers: 2, ffHidden: 64, sequenceLength: 16,
                                                            batchSize: 4, trainingWindows: 64))
        },
        SmokeCase(description: "gpt2-tiny on shakespeare") {
            try makeGPT2TinyTask(task: "shakespeare", dataDirectory: $0, seed: 1,
                                 settings: GPT2TinySettings(channels: 32, heads: 2, layers: 2, ffHidden: 64, sequenceLength: 32,
                                                            batchSize: 4, trainingWindows: 64))
        },
        SmokeCase(description: "vit-tiny on fashion-mnist") {
            try makeViTTinyTask(task: "fashion-mnist", dataDirectory: $0, seed: 1,
                                settings: ViTTinySettings(channels: 32, heads: 2, layers: 2, ffHidden: 64, batchSize: 16,
                                                          evaluationBatchSize: 50, trainingImages: 512))
        },
    ]
}

/// Runs `body` with the task, or prints a visible SKIP line when its data set is absent.
func withTask(_ smoke: SmokeCase, _ body: (any PruningTask) throws -> Void) throws {
    let task: any PruningTask
    do {
        task = try smoke.make(DataDirectory.resolve(explicit: nil))
    } catch let missing as MissingDataError {
        print("SKIP: \(smoke): \(missing.message)")
        return
    }
    try body(task)
}

@Suite(.serialized) struct FamilyTaskTests {
    @Test(arguments: SmokeCase.all)
    func aFewStepsOnRealDataImproveTheLoss(smoke: SmokeCase) throws {
        try withTask(smoke) { task in
            let p = task.parameters
            let optimizer = AdamW(weightDecay: 0)
            p.zeroGradients()
            let before = task.accumulateGradients(batch: 0, epoch: 0)
            let steps = min(task.batchesPerEpoch, 12)
            for epoch in 0..<2 {
                for index in 0..<steps {
                    p.zeroGradients()
                    let loss = task.accumulateGradients(batch: index, epoch: epoch)
                    #expect(loss.isFinite)
                    GradientClipping.clip(p, maxNorm: 5)
                    optimizer.step(p, learningRate: 1e-2)
                }
            }
            p.zeroGradients()
            let after = task.accumulateGradients(batch: 0, epoch: 0)
            #expect(after < before, "\(smoke): loss of the first batch \(before) → \(after)")
        }
    }

    /// Every family gives its per-example answers from the same pass as its metric (the paired standard error of
    /// the loss rests on them): the metric is `evaluate`'s to the last bit, and recomputed from the answers it is
    /// the same (to rounding for perplexity, summed per window).
    @Test(arguments: SmokeCase.all)
    func outcomesRecomputeTheMetric(smoke: SmokeCase) throws {
        try withTask(smoke) { task in
            let metric = try task.evaluate(.test, limit: 40)
            let (again, outcomes) = try task.evaluateWithOutcomes(.test, limit: 40)
            #expect(again == metric, "\(smoke): \(again) vs \(metric)")
            let answers = try #require(outcomes, "\(smoke) gives no per-example answers")
            #expect(answers.count == 40)
            let recomputed = answers.metric(task.task)
            if task.task.metric == .perplexity {
                guard case .windows = answers else { Issue.record("\(smoke): a language model's answers are windows"); return }
                #expect(abs(recomputed / metric - 1) < 1e-9, "\(smoke): \(recomputed) vs \(metric)")
            } else {
                #expect(recomputed == metric, "\(smoke): \(recomputed) vs \(metric)")
                #expect(answers.correctness != nil)
            }
        }
    }

    /// An evaluation pass changes nothing that training sees (no dropout stream advanced, no state kept): the same
    /// task with and without `evaluateWithOutcomes` before it computes the same first-batch loss and gradients, bit
    /// for bit. Sweep fine-tunes rely on it (they evaluate the dense checkpoint first, for the standard errors).
    /// The real bert-tiny and albert-tiny presets add dropout and a distillation teacher.
    @Test(arguments: SmokeCase.all + [
        SmokeCase(description: "bert-tiny on glue/sst2, distilling") { try Presets.named("bert-tiny").factory("glue/sst2", $0, 1) },
        SmokeCase(description: "albert-tiny on glue/sst2, distilling") { try Presets.named("albert-tiny").factory("glue/sst2", $0, 1) },
    ])
    func evaluationLeavesTrainingUntouched(smoke: SmokeCase) throws {
        try withTask(smoke) { first in
            let second = try smoke.make(DataDirectory.resolve(explicit: nil))
            for task in [first, second] { (task as? DistillingPruningTask)?.distill(weight: 1) }
            _ = try second.evaluateWithOutcomes(.test, limit: 20)
            _ = try second.evaluateWithOutcomes(.validation, limit: 20)
            func step(_ task: any PruningTask) -> (Double, [Float]) {
                task.parameters.zeroGradients()
                let loss = task.accumulateGradients(batch: 0, epoch: 0)
                let g = task.parameters.gradients
                return (loss, Array(UnsafeBufferPointer(start: g.pointer, count: g.count)))
            }
            let (a, b) = (step(first), step(second))
            #expect(a.0 == b.0, "\(smoke): loss \(a.0) vs \(b.0) after an evaluation")
            // Compared outside #expect: on failure it would print and diff both million-element arrays.
            let firstDifference = a.1.count != b.1.count ? 0 : a.1.indices.first { a.1[$0] != b.1[$0] }
            #expect(firstDifference == nil, "\(smoke): gradients differ after an evaluation, first at \(firstDifference ?? -1)")
            let anyGradient = a.1.contains { $0 != 0 }
            #expect(anyGradient, "\(smoke): no gradient at all")
        }
    }

    @Test(arguments: SmokeCase.all)
    func metricsAndAttentionCaptureHaveTheTasksShape(smoke: SmokeCase) throws {
        try withTask(smoke) { task in
            let metric = try task.evaluate(.validation, limit: 20)
            if task.task.higherIsBetter {
                #expect(metric >= 0 && metric <= 1)
            } else {
                #expect(metric > 1 && metric.isFinite, "perplexity \(metric)")
            }
            let model = task.model
            #expect(model.scoreTransforms.count == model.attentionLayerCount)
            let records = try task.captureAttention(examples: 3)
            #expect(records.count == model.attentionLayerCount, "one record per layer for one batch of 3")
            #expect(model.attentionRecorder == nil, "the recorder is detached afterwards")
            for (l, r) in records.enumerated() {
                #expect(r.layer == l && r.batch == 3 && r.heads == model.attentionHeadCount)
                #expect(r.headDimension == model.attentionHeadDimension && r.causal == model.attentionIsCausal)
                #expect(r.q.allSatisfy(\.isFinite) && r.k.allSatisfy(\.isFinite))
                if let lengths = r.lengths { #expect(lengths.allSatisfy { $0 >= 1 && Int($0) <= r.keys }) }
            }
            // The same examples give the same capture (fixed evaluation subset, inference mode).
            let again = try task.captureAttention(examples: 3)
            #expect(again.map(\.q) == records.map(\.q) && again.map(\.k) == records.map(\.k))
        }
    }

    @Test func batchOrderIsDeterministicPerSeedAndEpoch() throws {
        try withTask(SmokeCase.all[0]) { _ in
            let directory = DataDirectory.resolve(explicit: nil)
            let a = try makeMemN2NTask(task: "babi/qa1", dataDirectory: directory, seed: 5)
            let b = try makeMemN2NTask(task: "babi/qa1", dataDirectory: directory, seed: 5)
            let la = (0..<3).map { a.accumulateGradients(batch: $0, epoch: 1) }
            let lb = (0..<3).map { b.accumulateGradients(batch: $0, epoch: 1) }
            #expect(la == lb)
            #expect(a.parameters.gradients.values == b.parameters.gradients.values)
            // Another epoch shuffles differently (same weights, different examples in batch 0).
            #expect(a.accumulateGradients(batch: 0, epoch: 2) != la[0])
        }
    }

    @Test func memn2nLearnsQA1() throws {
        try withTask(SmokeCase.all[0]) { task in
            let result = try FamilyTraining.trainDense(task, recipe: FamilyRecipe(epochs: 12, learningRate: 0.01, clipNorm: 40))
            #expect(result.epochLosses.last! < result.epochLosses.first! / 5)
            let accuracy = try task.evaluate(.test, limit: nil)
            #expect(accuracy > 0.9, "qa1 test accuracy \(accuracy)")
        }
    }

    @Test func memn2nEncodingKeepsAnswerWordsAndRecentMemoriesFirst() throws {
        try withTask(SmokeCase.all[1]) { task in
            let memn2n = try #require(task as? MemN2NTask)
            let config = memn2n.network.config
            // qa19's answers are direction pairs such as "n,e": 3 words each ("n", ",", "e"), none unknown.
            #expect(config.answerLength == 3)
            #expect(config.answerTokens.allSatisfy { $0 != 1 }, "no answer word maps to [UNK]")
            let rows = Set(stride(from: 0, to: config.answerTokens.count, by: 3).map { Array(config.answerTokens[$0..<($0 + 3)]) })
            #expect(rows.count == config.classes, "every answer class has its own word sequence")
        }
    }

    @Test func factoriesRejectTasksOfOtherFamilies() throws {
        let directory = DataDirectory.resolve(explicit: nil)
        #expect(throws: UsageError.self) { try FamilyPreset.named("gpt3") }
        #expect(throws: UsageError.self) {
            try FamilyTraining.denseRun(preset: .vitTiny, task: "babi/qa1", dataDirectory: directory, seed: 1)
        }
        #expect(FamilyPreset.memn2n.tasks.count == 20 && FamilyPreset.gpt2Tiny.tasks == ["ptb", "shakespeare"])
        try withTask(SmokeCase.all[0]) { _ in
            #expect(throws: UsageError.self) { try makeMemN2NTask(task: "fashion-mnist", dataDirectory: directory, seed: 1) }
        }
    }

    @Test func registryListsTheFamiliesAndTheProtocolPrunesMemN2N() throws {
        for name in ["memn2n", "gpt2-tiny", "vit-tiny"] { #expect(Presets.names.contains(name)) }
        #expect(try Presets.named("memn2n").tasks.count == 20)
        try withTask(SmokeCase.all[0]) { _ in
            // The whole protocol on babi/qa1 at reduced epochs: it must prune a good share of the valid
            // question–memory scores while keeping most of the dense accuracy.
            let settings = PruningSettings(preset: try Presets.named("memn2n"), taskName: "babi/qa1",
                                           dataDirectory: DataDirectory.resolve(explicit: nil), seed: 1, lambdas: [0.5],
                                           epochs: 15, fineTuneEpochs: 5)
            let report = try #require(try PruningProtocol.run(settings).first)
            #expect(report.denseMetric > 0.9, "dense accuracy \(report.denseMetric)")
            #expect(report.pruneRate > 0.3, "prune rate \(report.pruneRate)")
            #expect(report.prunedMetric > report.denseMetric - 0.1, "pruned accuracy \(report.prunedMetric)")
            #expect(report.layerPruneRates.count == 3)
        }
    }
}
