// Checkpoints of the encoder classifier: safetensors with every parameter under its stable name and
// `__metadata__` = {"config": <canonical JSON of BertConfig>, "step": "<optimizer step>", "format": "leopard-bert"}.
import Basics
import Tensors

extension BertClassifier {
    public static let checkpointFormat = "leopard-bert"

    public func saveCheckpoint(path: String, step: Int) throws {
        try parameters.write(path: path, metadata: [
            "config": CanonicalJSON.encode(config.json), "step": String(step), "format": Self.checkpointFormat,
        ])
    }

    /// Reads a checkpoint written by `saveCheckpoint`; a missing or malformed config/step, or a missing, extra or
    /// mis-shaped tensor, is an `InputError` naming the file and the place.
    public static func loadCheckpoint(path: String, seed: UInt64 = 0, extraParameters: [ParameterSet.Spec] = []) throws -> (model: BertClassifier, step: Int) {
        let file = try SafetensorsFile.read(path: path)
        guard let configText = file.metadata["config"] else {
            throw InputError(file: path, place: "__metadata__", problem: "missing \"config\" (not a Leopard checkpoint?)")
        }
        let reader: JSONReader
        do {
            reader = JSONReader(try JSONParser.parse(configText), file: path, path: "__metadata__.config")
        } catch let e as JSONParseError {
            throw InputError(file: path, place: "__metadata__.config", problem: e.message)
        }
        let config = try BertConfig(json: reader)
        guard let stepText = file.metadata["step"], let step = Int(stepText), step >= 0 else {
            throw InputError(file: path, place: "__metadata__.step", problem: "expected a non-negative integer, found \(file.metadata["step"].map { "\"\($0)\"" } ?? "nothing")")
        }
        let model = BertClassifier(config: config, seed: seed, extraParameters: extraParameters)
        try model.parameters.load(from: file)
        return (model, step)
    }
}
