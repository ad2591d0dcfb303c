// The parts of `PruningTask` that PretrainedGlueTask.swift (owned by the pretrained-BERT work) does not spell out:
// the model's checkpoint metadata and the dropout reseed, the same as the from-scratch encoder task's.
import Basics
import Models

extension PretrainedGlueTask {
    public var modelMetadata: [String: String] { classifier.metadata }

    public func reseedTrainingNoise(_ seed: UInt64) {
        classifier.dropoutGenerator = SeededGenerator(seed: seed ^ 0xD50F_0A7E)
    }
}
