// What the training loop needs from a model: its flat parameters, a forward that returns the loss, and a backward
// that accumulates gradients for the last forward.
public protocol TrainableModel: AnyObject {
    associatedtype Batch
    var parameters: ParameterSet { get }
    /// The loss of `batch` (task loss plus regulariser terms); `training` enables dropout and soft surrogates.
    func forward(_ batch: Batch, training: Bool) -> Double
    /// Accumulates d(lossScale · loss)/dθ into `parameters.gradients`.
    func backward(lossScale: Float)
}

extension BertClassifier: TrainableModel {}
