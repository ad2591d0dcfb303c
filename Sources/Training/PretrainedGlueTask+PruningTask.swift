// The parts of `PruningTask` that PretrainedGlueTask.swift (owned by the pretrained-BERT work) does not spell out:
// the model's checkpoint metadata (as the from-scratch encoder task's), the dropout reseed (see below) and
// distillation from the dense model.
import Basics
import Models

extension PretrainedGlueTask: DistillingPruningTask {
    public var modelMetadata: [String: String] { classifier.metadata }

    public var trainingPaddingFraction: Double? { trainingPaddingFraction(epoch: 0) }

    /// Deliberately nothing (yet): the bert-minilm results in docs/results-minilm.md were produced with the dropout
    /// stream running on from the dense phase through the control and every λ of one process; restarting it here
    /// would change every published fine-tune by dropout noise. Consequence until they are re-run: a bert-minilm λ
    /// depends on its place in the --lambda list, and a --dense restart does not reproduce an in-process λ exactly.
    public func reseedTrainingNoise(_ seed: UInt64) {}

    public func distill(weight: Double?, hiddenWeight: Double?) {
        teacher = weight.map { DistillationTeacher(copying: classifier, weight: $0, hiddenWeight: hiddenWeight) }
    }
}
