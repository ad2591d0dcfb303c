// Distillation from the dense model during fine-tuning (`--distill α`, GLUE encoders): the target is
// (1 − α)·label + α·(a frozen copy's output), so a model distilling from itself (no dropout) gets exactly (1 − α)
// times its label gradient (zero at α = 1), for a classifier and for STS-B's regression head; the teacher does not
// follow later weight changes; the protocol reports the weight and refuses families without a teacher.
import Basics
import Datasets
import Foundation
import Models
import Testing
@testable import Training

@Suite(.serialized) struct DistillationTests {
    /// The protocol fixture's settings, distilling (α = 1) with the weights fine-tuned fast enough to move.
    static func distilling(_ root: String, fineTuneEpochs: Int) -> PruningSettings {
        var s = PruningProtocolTests.settings(root)
        s.epochs = 2; s.fineTuneEpochs = fineTuneEpochs; s.distillation = 1
        s.preset.fineTuneLearningRate = 3e-3
        return s
    }

    static func gradients(_ task: GlueEncoderTask) -> (loss: Double, gradients: [Float]) {
        task.parameters.zeroGradients()
        let loss = task.accumulateGradients(batch: 2, epoch: 0)
        return (loss, Array(UnsafeBufferPointer(start: task.parameters.gradients.pointer, count: task.parameters.gradients.count)))
    }

    /// Teacher = student and no dropout: p_teacher = p, so p − t = (1 − α)(p − onehot) (classifier) and
    /// pred − t = (1 − α)(pred − y) (regression): every weight gradient is (1 − α) times the label-only one.
    @Test(arguments: ["glue/sst2", "glue/stsb"])
    func distillingFromItselfScalesTheLabelGradient(taskName: String) throws {
        let task: GlueEncoderTask
        do {
            task = try GlueEncoderTask(presetName: "bert-toy",
                                       shape: EncoderPresetShape(channels: 32, heads: 2, layers: 2, ffHidden: 64, trainingSubset: 256, dropout: 0),
                                       taskName: taskName, dataDirectory: DataDirectory.resolve(explicit: nil), seed: 4, batchSize: 16)
        } catch let missing as MissingDataError {
            print("SKIP: \(taskName): \(missing.message)")
            return
        }
        let labels = Self.gradients(task)
        let scale = labels.gradients.map(abs).max() ?? 0
        #expect(scale > 0)
        for alpha in [0.5, 1.0] {
            task.distill(weight: alpha)
            let mixed = Self.gradients(task)
            var worst: Float = 0
            for (g, g0) in zip(mixed.gradients, labels.gradients) { worst = max(worst, abs(g - Float(1 - alpha) * g0)) }
            #expect(worst <= 2e-4 * scale, "\(taskName) α \(alpha): max deviation \(worst) of max gradient \(scale)")
        }
        task.distill(weight: nil)
        #expect(Self.gradients(task).gradients == labels.gradients)
    }

    /// The soft targets are (1 − α)·onehot + α·softmax(the weights' inference logits at the time of copying): each
    /// row sums to 1, and changing the student's weights afterwards leaves them alone.
    @Test func teacherTargetsAreFrozenMixtures() {
        let config = BertConfig(vocabulary: 50, maxTime: 12, channels: 16, heads: 2, layers: 2, ffHidden: 32, classes: 3, dropout: 0.1)
        let model = BertClassifier(config: config, seed: 7)
        var rng = SeededGenerator(seed: 3)
        for i in 0..<model.parameters.values.count { model.parameters.values.pointer[i] += 0.3 * (Float(rng.nextInt(below: 1000)) / 1000 - 0.5) }
        let batch = TokenBatch(batch: 4, time: 12, tokens: (0..<48).map { Int32($0 % 50) }, lengths: [12, 7, 3, 9], labels: [0, 2, 1, 2])
        model.forward(batch, training: false)
        let logits = model.logits
        let teacher = DistillationTeacher(copying: model, weight: 0.25)
        let soft = teacher.distilled(batch).softTargets
        #expect(soft.count == 12)
        for r in 0..<4 {
            let row = logits[(r * 3)..<(r * 3 + 3)].map { Double($0) }
            let m = row.max()!, z = row.map { exp($0 - m) }.reduce(0, +)
            for j in 0..<3 {
                let expected = 0.25 * exp(row[j] - m) / z + (j == Int(batch.labels[r]) ? 0.75 : 0)
                #expect(abs(Double(soft[r * 3 + j]) - expected) < 1e-6)
            }
            #expect(abs(soft[(r * 3)..<(r * 3 + 3)].reduce(0, +) - 1) < 1e-6)
        }
        for i in 0..<model.parameters.values.count { model.parameters.values.pointer[i] *= 1.5 }
        #expect(teacher.distilled(batch).softTargets == soft)
        model.forward(batch, training: false)
        #expect(model.logits != logits)
    }

    /// With a hidden weight the batch carries every layer's output of the weights at the time of copying (full last
    /// layer, [layers, batch, time, channels]), frozen like the soft targets.
    @Test func teacherHiddenTargetsAreTheDenseLayerOutputs() {
        let config = BertConfig(vocabulary: 50, maxTime: 12, channels: 16, heads: 2, layers: 3, ffHidden: 32, classes: 3, dropout: 0.1)
        let model = BertClassifier(config: config, seed: 9)
        let batch = TokenBatch(batch: 4, time: 12, tokens: (0..<48).map { Int32($0 % 50) }, lengths: [12, 7, 3, 9], labels: [0, 2, 1, 2])
        model.computeFullLastLayer = true
        model.forward(batch, training: false)
        let dense = model.layerOutputs
        model.computeFullLastLayer = false
        let teacher = DistillationTeacher(copying: model, weight: 1, hiddenWeight: 2)
        let out = teacher.distilled(batch)
        #expect(out.hiddenWeight == 2 && out.hiddenTargets.count == 3 * 4 * 12 * 16)
        #expect(out.hiddenTargets == dense)
        for i in 0..<model.parameters.values.count { model.parameters.values.pointer[i] *= 1.5 }
        #expect(teacher.distilled(batch).hiddenTargets == dense)
        #expect(DistillationTeacher(copying: model, weight: 1).distilled(batch).hiddenTargets.isEmpty)
    }

    /// β is reported, changes the fine-tune, and needs output distillation and a positive value.
    @Test func hiddenStateDistillationIsReportedAndChecked() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 160)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var s = Self.distilling(root, fineTuneEpochs: 1)
        // A negligible β takes the same teacher path (its full last layer), so a difference is the hidden term's.
        s.hiddenDistillation = 1e-20
        let negligible = try PruningProtocol.run(s)[0]
        s.hiddenDistillation = 5
        let hidden = try PruningProtocol.run(s)[0]
        #expect(negligible.hiddenDistillation == 1e-20 && hidden.hiddenDistillation == 5)
        #expect(hidden.denseMetric == negligible.denseMetric && hidden.thresholds != negligible.thresholds)
        guard case .object(let o) = hidden.json(), case .object(let d)? = o["distillation"] else {
            Issue.record("no distillation object in the report"); return
        }
        #expect(d["hidden_weight"] == JSONValue(5.0) && d["weight"] == JSONValue(1.0))
        s.hiddenDistillation = nil
        let outputs = try PruningProtocol.run(s)[0]
        guard case .object(let o2) = outputs.json(), case .object(let d2)? = o2["distillation"] else {
            Issue.record("no distillation object in the report"); return
        }
        #expect(outputs.hiddenDistillation == nil && d2["hidden_weight"] == nil)
        for (alpha, beta, message) in [(nil, 1.0, "needs distillation from the dense model"), (1.0, 0, "expected a positive number")] {
            s.distillation = alpha; s.hiddenDistillation = beta
            #expect(throws: UsageError.self) { _ = try PruningProtocol.run(s) }
            do { _ = try PruningProtocol.run(s) } catch let error as UsageError { #expect(error.message.contains(message)) }
        }
    }

    @Test func protocolReportsTheWeightAndChangesTheFineTune() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 160)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var s = PruningProtocolTests.settings(root)
        s.epochs = 2; s.fineTuneEpochs = 1
        let plain = try PruningProtocol.run(s)[0]
        s.distillation = 1
        let distilled = try PruningProtocol.run(s)[0]
        #expect(plain.distillation == nil && distilled.distillation == 1)
        #expect(distilled.denseMetric == plain.denseMetric && distilled.thresholds != plain.thresholds)
        guard case .object(let o) = distilled.json(), case .object(let d)? = o["distillation"] else {
            Issue.record("no distillation object in the report"); return
        }
        #expect(d["weight"] == JSONValue(1.0))
    }

    /// One teacher, the DENSE weights, for the control and every λ: a λ distils to the same result after the control
    /// and another λ as alone (each λ restores the dense weights; a teacher copied after the control or an earlier λ
    /// would differ).
    @Test func everyFineTuneDistilsFromTheDenseWeights() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 160)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var s = Self.distilling(root, fineTuneEpochs: 2)
        s.lambdas = [0.5, 4]; s.control = true
        let both = try PruningProtocol.run(s)
        s.lambdas = [4]; s.control = false
        let alone = try PruningProtocol.run(s)[0]
        let after = both[1]
        #expect(after.prunedMetric == alone.prunedMetric && after.thresholds == alone.thresholds)
        #expect(after.pruneRate == alone.pruneRate && after.validation.prunedMetric == alone.validation.prunedMetric)
        #expect(both[0].thresholds != after.thresholds)
    }

    @Test func familiesWithoutATeacherRefuseDistillation() throws {
        var s = PruningSettings(preset: try Presets.named("memn2n"), taskName: "babi/qa1",
                                dataDirectory: DataDirectory.resolve(explicit: nil), epochs: 0)
        s.distillation = 0.5
        do {
            _ = try PruningProtocol.run(s)
            Issue.record("memn2n distilled")
        } catch let missing as MissingDataError {
            print("SKIP: babi/qa1: \(missing.message)")
        } catch let error as UsageError {
            #expect(error.message.contains("GLUE encoder presets; memn2n has none"))
        }
    }
}
