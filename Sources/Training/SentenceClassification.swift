// Evaluation and attention capture shared by the GLUE tasks over a `BertClassifier` (the from-scratch encoders of
// `GlueEncoderTask` and the pretrained ones of `PretrainedGlueTask`): they differ in tokenisation and batching,
// not in how predictions become a metric.
import Datasets
import Foundation
import Models

enum SentenceClassification {
    /// The model's outputs on the first `limit` examples of `data` (all when nil), in inference mode, `batchSize`
    /// examples per forward: the arg-max class of a classifier (`classes`), the raw output of a regression head
    /// (`values`), each at its example's index. `lengthSorted`: batches are formed from the examples sorted by length
    /// (less padding when batches are cut to their longest example; a padded key is masked, so the outputs are the
    /// same up to float rounding); otherwise file order.
    static func predict(_ classifier: BertClassifier, data: EncodedSentences, limit: Int?, batchSize: Int, lengthSorted: Bool,
                        batch: (EncodedSentences, ArraySlice<Int>) -> TokenBatch) -> (classes: [Int32], values: [Float]) {
        let count = min(limit ?? data.ids.count, data.ids.count)
        let classes = classifier.config.classes
        var predictions = [Int32](repeating: 0, count: classes == 1 ? 0 : count)
        var values = [Float](repeating: 0, count: classes == 1 ? count : 0)
        var order = Array(0..<count)
        if lengthSorted {
            order.sort { a, b in data.ids.lengths[a] != data.ids.lengths[b] ? data.ids.lengths[a] < data.ids.lengths[b] : a < b }
        }
        var start = 0
        while start < count {
            let rows = order[start..<min(count, start + batchSize)]
            classifier.forward(batch(data, rows), training: false)
            let logits = classifier.logits
            for (r, example) in rows.enumerated() {
                if classes == 1 { values[example] = logits[r]; continue }
                var best = 0
                for c in 1..<classes where logits[r * classes + c] > logits[r * classes + best] { best = c }
                predictions[example] = Int32(best)
            }
            start += rows.count
        }
        return (predictions, values)
    }

    /// The task metric over the first `limit` examples of `data` (see `predict`). Regression heads are scored on the
    /// raw output, classifiers on the arg-max class.
    static func evaluate(_ classifier: BertClassifier, task: TaskDescription, data: EncodedSentences, limit: Int?,
                         batchSize: Int, lengthSorted: Bool = false,
                         batch: (EncodedSentences, ArraySlice<Int>) -> TokenBatch) -> Double {
        evaluateWithOutcomes(classifier, task: task, data: data, limit: limit, batchSize: batchSize,
                             lengthSorted: lengthSorted, batch: batch).metric
    }

    /// `evaluate` and the per-example answers it scored: arg-max classes and labels, or a regression head's outputs
    /// and targets.
    static func evaluateWithOutcomes(_ classifier: BertClassifier, task: TaskDescription, data: EncodedSentences,
                                     limit: Int?, batchSize: Int, lengthSorted: Bool = false,
                                     batch: (EncodedSentences, ArraySlice<Int>) -> TokenBatch)
        -> (metric: Double, outcomes: ExampleOutcomes) {
        let count = min(limit ?? data.ids.count, data.ids.count)
        let out = predict(classifier, data: data, limit: limit, batchSize: batchSize, lengthSorted: lengthSorted, batch: batch)
        if task.kind == .regression {
            let targets = Array(data.targets.prefix(count))
            return (task.score(predictions: out.values, targets: targets)[task.metric] ?? 0,
                    .values(predicted: out.values, targets: targets))
        }
        let labels = Array(data.labels.prefix(count))
        return (task.score(predictions: out.classes, labels: labels)[task.metric] ?? 0,
                .classes(predicted: out.classes, labels: labels))
    }

    /// q and k of every layer for the first `examples` examples of `test`, in ONE forward so every layer yields one
    /// record of one shape.
    static func captureAttention(_ classifier: BertClassifier, test: EncodedSentences, examples: Int,
                                 batch: (EncodedSentences, ArraySlice<Int>) -> TokenBatch) -> [AttentionRecorder.Record] {
        let recorder = AttentionRecorder()
        classifier.attentionRecorder = recorder
        defer { classifier.attentionRecorder = nil }
        let count = min(examples, test.ids.count)
        classifier.forward(batch(test, Array(0..<count)[...]), training: false)
        return recorder.records
    }
}

/// Distillation from a frozen copy of a classifier (the dense model, taken before threshold fine-tuning): each
/// training batch's target becomes t = (1 − α)·label + α·teacher, where the teacher is the copy's output on the same
/// batch in inference mode (softmax probabilities at temperature 1 for a classifier, so the loss is cross-entropy
/// against t and its gradient p − t; the prediction for a regression head, so the loss is the MSE to the mixed
/// target, which differs from (1 − α)·MSE(label) + α·MSE(teacher) by a constant). α = 1 trains on the teacher alone.
/// With a hidden weight β the batch also carries the copy's output of every layer (its full last layer), which the
/// student matches under β·(mean squared difference over valid tokens and channels, averaged over layers).
final class DistillationTeacher {
    let model: BertClassifier
    let weight: Float
    let hiddenWeight: Float

    init(copying classifier: BertClassifier, weight: Double, hiddenWeight: Double? = nil) {
        model = classifier.copyOfWeights()
        self.weight = Float(weight)
        self.hiddenWeight = Float(hiddenWeight ?? 0)
        if self.hiddenWeight > 0 { model.computeFullLastLayer = true }
    }

    /// `batch` with its targets replaced by the mixed ones.
    func distilled(_ batch: TokenBatch) -> TokenBatch {
        model.forward(batch, training: false)
        let teacher = model.logits, classes = model.config.classes, alpha = weight
        var out = batch
        if hiddenWeight > 0 { out.hiddenTargets = model.layerOutputs; out.hiddenWeight = hiddenWeight }
        if classes == 1 {
            for r in 0..<batch.batch { out.targets[r] = (1 - alpha) * batch.targets[r] + alpha * teacher[r] }
            return out
        }
        var soft = [Float](repeating: 0, count: batch.batch * classes)
        for r in 0..<batch.batch {
            let row = r * classes
            var m = -Float.infinity
            for j in 0..<classes { m = max(m, teacher[row + j]) }
            var sum: Float = 0
            for j in 0..<classes { soft[row + j] = exp(teacher[row + j] - m); sum += soft[row + j] }
            for j in 0..<classes { soft[row + j] = alpha * soft[row + j] / sum }
            let label = Int(batch.labels[r])
            precondition(label >= 0 && label < classes, "distillation needs a class label in 0..<\(classes) for every training row; got \(label)")
            soft[row + label] += 1 - alpha
        }
        out.softTargets = soft
        return out
    }
}
