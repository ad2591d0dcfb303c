// Evaluation and attention capture shared by the GLUE tasks over a `BertClassifier` (the from-scratch encoders of
// `GlueEncoderTask` and the pretrained ones of `PretrainedGlueTask`): they differ in tokenisation and batching,
// not in how predictions become a metric.
import Datasets
import Models

enum SentenceClassification {
    /// The task metric over the first `limit` examples of `data` (all when nil), in inference mode, in file order,
    /// `batchSize` examples per forward. Regression heads (one output) are scored on the raw output; classifiers
    /// on the arg-max class.
    static func evaluate(_ classifier: BertClassifier, task: TaskDescription, data: EncodedSentences, limit: Int?,
                         batchSize: Int, batch: (EncodedSentences, ArraySlice<Int>) -> TokenBatch) -> Double {
        let count = min(limit ?? data.ids.count, data.ids.count)
        let classes = classifier.config.classes
        var predictions: [Int32] = [], values: [Float] = []
        var start = 0
        while start < count {
            let rows = Array(start..<min(count, start + batchSize))[...]
            classifier.forward(batch(data, rows), training: false)
            let logits = classifier.logits
            for r in 0..<rows.count {
                if classes == 1 { values.append(logits[r]); continue }
                var best = 0
                for c in 1..<classes where logits[r * classes + c] > logits[r * classes + best] { best = c }
                predictions.append(Int32(best))
            }
            start += rows.count
        }
        if task.kind == .regression {
            return task.score(predictions: values, targets: Array(data.targets.prefix(count)))[task.metric] ?? 0
        }
        return task.score(predictions: predictions, labels: Array(data.labels.prefix(count)))[task.metric] ?? 0
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
