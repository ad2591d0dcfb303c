// Import of Hugging Face BERT checkpoints on a tiny synthetic checkpoint written by the test: every tensor lands
// where the name mapping says, the head is fresh, and every missing, extra or mis-shaped tensor and every bad
// config.json is one clear InputError naming the file and the tensor or key. Also the BERT-checkpoint options of
// the encoder (token types, exact GELU) under the whole-model gradient check, and the config JSON compatibility.
import Basics
import Foundation
import Layers
import Models
import Tensors
import Testing

/// A synthetic BertModel checkpoint folder in a temporary directory.
struct SyntheticHubCheckpoint {
    static let channels = 8, heads = 2, layers = 2, ff = 16, vocabulary = 12, positions = 16, types = 2

    let directory: String
    var tensors: [(name: String, values: [Float], shape: [Int])] = []
    var config: [String: JSONValue] = [
        "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu", "hidden_size": JSONValue(channels),
        "num_attention_heads": JSONValue(heads), "num_hidden_layers": JSONValue(layers), "intermediate_size": JSONValue(ff),
        "vocab_size": JSONValue(vocabulary), "max_position_embeddings": JSONValue(positions), "type_vocab_size": JSONValue(types),
        "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "position_embedding_type": "absolute",
    ]
    var vocabularyLines = (0..<vocabulary).map { i in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].indices.contains(i) ? ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"][i] : "w\(i)" }

    init(name: String, prefix: String = "") {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-hub-\(name)-\(getpid())").path
        var rng = SeededGenerator(seed: 99)
        func add(_ n: String, _ shape: [Int]) {
            tensors.append((prefix + n, (0..<shape.reduce(1, *)).map { _ in Float(rng.nextGaussian()) * 0.5 }, shape))
        }
        let c = Self.channels
        add("embeddings.word_embeddings.weight", [Self.vocabulary, c]); add("embeddings.position_embeddings.weight", [Self.positions, c])
        add("embeddings.token_type_embeddings.weight", [Self.types, c])
        add("embeddings.LayerNorm.weight", [c]); add("embeddings.LayerNorm.bias", [c])
        for l in 0..<Self.layers {
            let e = "encoder.layer.\(l)."
            for part in ["query", "key", "value"] { add(e + "attention.self.\(part).weight", [c, c]); add(e + "attention.self.\(part).bias", [c]) }
            add(e + "attention.output.dense.weight", [c, c]); add(e + "attention.output.dense.bias", [c])
            add(e + "attention.output.LayerNorm.weight", [c]); add(e + "attention.output.LayerNorm.bias", [c])
            add(e + "intermediate.dense.weight", [Self.ff, c]); add(e + "intermediate.dense.bias", [Self.ff])
            add(e + "output.dense.weight", [c, Self.ff]); add(e + "output.dense.bias", [c])
            add(e + "output.LayerNorm.weight", [c]); add(e + "output.LayerNorm.bias", [c])
        }
        add("pooler.dense.weight", [c, c]); add("pooler.dense.bias", [c])
    }

    func values(_ name: String) -> [Float] { tensors.first { $0.name == name }!.values }

    func write(positionIDs: Bool = true) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let held = tensors.map { t -> (String, Tensor) in
            let tensor = Tensor(shape: t.shape)
            t.values.withUnsafeBufferPointer { tensor.pointer.update(from: $0.baseAddress!, count: t.values.count) }
            return (t.name, tensor)
        }
        var bytes = SafetensorsFile.encode(tensors: held.map { ($0.0, $0.1.view) }, metadata: ["format": "pt"])
        if positionIDs { bytes = Self.addingI64PositionIDs(bytes, count: Self.positions) }
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/model.safetensors"))
        try Data(CanonicalJSON.encode(.object(config)).utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
        try Data((vocabularyLines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/vocab.txt"))
    }

    /// Appends an I64 `embeddings.position_ids` tensor (as real checkpoints carry) by rewriting the header.
    static func addingI64PositionIDs(_ file: [UInt8], count: Int) -> [UInt8] {
        var n = 0
        for i in 0..<8 { n |= Int(file[i]) << (8 * i) }
        let data = Array(file[(8 + n)...])
        var header = try! JSONParser.parse(bytes: Array(file[8..<(8 + n)])).objectValue!
        header["embeddings.position_ids"] = .object(["dtype": "I64", "shape": [1, JSONValue(count)],
                                                     "data_offsets": [JSONValue(data.count), JSONValue(data.count + 8 * count)]])
        var json = Array(CanonicalJSON.encode(.object(header)).utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) } + json + data
        for p in 0..<count { out += (0..<8).map { UInt8(truncatingIfNeeded: p >> (8 * $0)) } }
        return out
    }
}

@Suite struct HubBertCheckpointTests {
    typealias Synthetic = SyntheticHubCheckpoint

    @Test func everyTensorLandsWhereTheMappingSays() throws {
        let hub = Synthetic(name: "map")
        try hub.write()
        let checkpoint = try HubBertCheckpoint(directory: hub.directory + "/")
        #expect(checkpoint.encoder.activation == .geluExact && checkpoint.encoder.typeVocabulary == 2)
        #expect(checkpoint.encoder.layerNormEpsilon == 1e-12 && checkpoint.encoder.maxTime == Synthetic.positions)
        let model = try checkpoint.classifier(classes: 3, maxTime: 10, seed: 1)
        let p = model.parameters, c = Synthetic.channels
        func ours(_ name: String) -> [Float] { Array(UnsafeBufferPointer(start: p.value(name), count: p.entry(name).count)) }
        #expect(ours("embeddings.token") == hub.values("embeddings.word_embeddings.weight"))
        #expect(ours("embeddings.position") == Array(hub.values("embeddings.position_embeddings.weight").prefix(10 * c)), "first maxTime rows")
        #expect(ours("embeddings.token_type") == hub.values("embeddings.token_type_embeddings.weight"))
        for l in 0..<Synthetic.layers {
            let e = "encoder.layer.\(l).", o = "layers.\(l)."
            let qkv = ours(o + "attention.qkv.weight"), qkvBias = ours(o + "attention.qkv.bias")
            for (i, part) in ["query", "key", "value"].enumerated() {
                #expect(Array(qkv[(i * c * c)..<((i + 1) * c * c)]) == hub.values(e + "attention.self.\(part).weight"), "\(part) rows of layer \(l)")
                #expect(Array(qkvBias[(i * c)..<((i + 1) * c)]) == hub.values(e + "attention.self.\(part).bias"))
            }
            #expect(ours(o + "ffn.up.weight") == hub.values(e + "intermediate.dense.weight"))
            #expect(ours(o + "ffn.down.weight") == hub.values(e + "output.dense.weight"))
            #expect(ours(o + "ffn.norm.bias") == hub.values(e + "output.LayerNorm.bias"))
            #expect(ours(o + "attention.norm.weight") == hub.values(e + "attention.output.LayerNorm.weight"))
            #expect(ours(o + "attention.output.bias") == hub.values(e + "attention.output.dense.bias"))
        }
        // A fresh head: the same as a from-scratch model of the same seed.
        let fresh = BertClassifier(config: model.config, seed: 1)
        #expect(ours("classifier.weight") == Array(UnsafeBufferPointer(start: fresh.parameters.value("classifier.weight"), count: 3 * c)))
        #expect(ours("classifier.bias") == [0, 0, 0])
    }

    @Test func bertPrefixedCheckpointsWithPretrainingHeadsImport() throws {
        var hub = Synthetic(name: "prefix", prefix: "bert.")
        hub.tensors.append(("cls.predictions.bias", [Float](repeating: 0, count: Synthetic.vocabulary), [Synthetic.vocabulary]))
        try hub.write(positionIDs: false)
        let model = try HubBertCheckpoint(directory: hub.directory).classifier(classes: 2, seed: 2)
        #expect(Array(UnsafeBufferPointer(start: model.parameters.value("embeddings.token"), count: 5)) == Array(hub.values("bert.embeddings.word_embeddings.weight").prefix(5)))
    }

    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case missingTensor, extraTensor, misShapedTensor
        var testDescription: String { rawValue }
    }

    @Test(arguments: Damage.allCases)
    func damagedCheckpointsNameTheFileAndTheTensor(damage: Damage) throws {
        var hub = Synthetic(name: "damage-\(damage.rawValue)")
        let expected: (tensor: String, words: String)
        switch damage {
        case .missingTensor:
            hub.tensors.removeAll { $0.name == "encoder.layer.1.output.dense.bias" }
            expected = ("encoder.layer.1.output.dense.bias", "missing")
        case .extraTensor:
            hub.tensors.append(("encoder.layer.2.output.dense.bias", [Float](repeating: 0, count: 8), [8]))
            expected = ("encoder.layer.2.output.dense.bias", "unexpected tensor")
        case .misShapedTensor:
            let i = hub.tensors.firstIndex { $0.name == "encoder.layer.0.intermediate.dense.weight" }!
            hub.tensors[i].shape = [Synthetic.channels, Synthetic.ff]
            expected = ("encoder.layer.0.intermediate.dense.weight", "shape [8, 16]; expected [16, 8]")
        }
        try hub.write()
        let checkpoint = try HubBertCheckpoint(directory: hub.directory)
        let error = try #require(throws: InputError.self) { try checkpoint.classifier(classes: 2, seed: 3) }
        #expect(error.file == hub.directory + "/model.safetensors")
        #expect(error.place == expected.tensor)
        #expect(error.message.contains(expected.words), "\(error.message)")
    }

    @Test(arguments: [
        ("hidden_act", JSONValue.string("relu"), "hidden_act"),
        ("num_attention_heads", JSONValue(3), "num_attention_heads"),
        ("vocab_size", JSONValue(13), "vocab.txt"),
        ("position_embedding_type", JSONValue.string("relative_key"), "position_embedding_type"),
        ("hidden_size", JSONValue.null, "hidden_size"),
    ])
    func badConfigurationsAreClearErrors(key: String, value: JSONValue, mentioned: String) throws {
        var hub = Synthetic(name: "config-\(key)")
        if case .null = value { hub.config.removeValue(forKey: key) } else { hub.config[key] = value }
        try hub.write()
        let error = try #require(throws: InputError.self) { _ = try HubBertCheckpoint(directory: hub.directory) }
        #expect(error.message.contains(mentioned), "\(error.message)")
    }

    @Test func missingFilesAreNamed() throws {
        let hub = Synthetic(name: "files")
        try hub.write()
        try FileManager.default.removeItem(atPath: hub.directory + "/model.safetensors")
        let noWeights = try #require(throws: InputError.self) { _ = try HubBertCheckpoint(directory: hub.directory) }
        #expect(noWeights.file.hasSuffix("model.safetensors"))
        let noFolder = try #require(throws: InputError.self) { _ = try HubBertCheckpoint(directory: hub.directory + "/nowhere") }
        #expect(noFolder.message.contains("config.json"))
    }

    /// The options a BERT checkpoint needs (token-type table, exact GELU) under the whole-model gradient check.
    @Test(arguments: [false, true])
    func tokenTypesAndExactGELUHaveCorrectGradients(fullLastLayer: Bool) {
        var config = BertClassifierTests.toy
        config.typeVocabulary = 2
        config.activation = .geluExact
        let net = BertClassifier(config: config, seed: 8)
        net.computeFullLastLayer = fullLastLayer
        var rng = SeededGenerator(seed: 9)
        for e in net.parameters.entries where e.decays { Initialiser.normal(net.parameters.view(e.name), std: 0.5, using: &rng) }
        var batch = BertClassifierTests.toyBatch()
        batch.tokenTypes = [0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0]
        let (worst, place) = BertClassifierTests.wholeModelCheck(net, batch)
        #expect(worst < 3e-2, "worst relative error \(worst) at \(place)")
        #expect(net.parameters.contains("embeddings.token_type"))
    }

    @Test func tokenTypesChangeTheOutputOnlyWithATypeTable() {
        var typed = BertClassifierTests.toy
        typed.typeVocabulary = 2
        var batch = BertClassifierTests.toyBatch()
        let plain = BertClassifier(config: BertClassifierTests.toy, seed: 4)
        let before = plain.lastHiddenStates(batch)
        batch.tokenTypes = [Int32](repeating: 1, count: 15)
        #expect(plain.lastHiddenStates(batch) == before, "no type table: types ignored")
        let net = BertClassifier(config: typed, seed: 4)
        let ones = net.lastHiddenStates(batch)
        batch.tokenTypes = []
        #expect(net.lastHiddenStates(batch) != ones)
        #expect(ones.count == 3 * 5 * typed.channels)
    }

    @Test func configJSONKeepsTheOldFormForDefaultsAndRoundTripsTheNewFields() throws {
        let tiny = CanonicalJSON.encode(BertConfig.bertTiny.json)
        #expect(!tiny.contains("type_vocabulary") && !tiny.contains("activation"), "bert-tiny's stored config is unchanged")
        var config = BertConfig.bertTiny
        config.typeVocabulary = 2
        config.activation = .geluExact
        let back = try BertConfig(json: JSONReader(config.json, file: "x.json"))
        #expect(back == config)
        #expect(try BertConfig(json: JSONReader(BertConfig.bertTiny.json, file: "x.json")) == .bertTiny)
    }
}

@Suite struct HubBertExportTests {
    @Test func exportThenImportGivesTheSameEncoder() throws {
        var config = BertClassifierTests.toy
        config.typeVocabulary = 2
        config.activation = .geluExact
        config.layerNormEpsilon = 1e-12
        let model = BertClassifier(config: config, seed: 12)
        let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + (5..<config.vocabulary).map { "w\($0)" }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-hub-export-\(getpid())").path
        try HubBertCheckpoint.export(model, vocabulary: vocabulary, to: dir)
        let back = try HubBertCheckpoint(directory: dir).classifier(classes: config.classes, dropout: 0, seed: 12)
        #expect(back.config == config)
        var batch = BertClassifierTests.toyBatch()
        batch.tokenTypes = [0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]
        #expect(back.lastHiddenStates(batch) == model.lastHiddenStates(batch))
    }
}
