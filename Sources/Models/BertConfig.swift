// Configuration of the BERT-style encoder classifier, with the presets and the JSON form stored in checkpoint
// metadata (so a checkpoint says which model it holds).
import Basics

public struct BertConfig: Sendable, Equatable {
    public var vocabulary: Int
    /// Maximum sequence length (size of the learned position table).
    public var maxTime: Int
    public var channels: Int
    public var heads: Int
    public var layers: Int
    public var ffHidden: Int
    /// Output width of the head: classes for classification, 1 for regression (MSE).
    public var classes: Int
    /// Hidden dropout (after the embedding LayerNorm and on both residual branches). No attention-probability dropout.
    public var dropout: Float
    public var layerNormEpsilon: Float
    /// ALBERT's factorised embedding: token and position tables of width E, LayerNorm in E, then a Linear E → C.
    /// nil = BERT (tables of width C, no projection).
    public var embeddingSize: Int?
    /// ALBERT's cross-layer sharing: every layer application uses the parameters of layer 0 (`layers.0.*`).
    public var sharedLayers: Bool

    public init(vocabulary: Int, maxTime: Int, channels: Int, heads: Int, layers: Int, ffHidden: Int, classes: Int,
                dropout: Float = 0.1, layerNormEpsilon: Float = 1e-5, embeddingSize: Int? = nil, sharedLayers: Bool = false) {
        precondition(channels % heads == 0, "channels must be divisible by heads")
        precondition(embeddingSize.map { $0 >= 1 } ?? true, "embeddingSize must be positive")
        self.vocabulary = vocabulary; self.maxTime = maxTime; self.channels = channels; self.heads = heads
        self.layers = layers; self.ffHidden = ffHidden; self.classes = classes; self.dropout = dropout
        self.layerNormEpsilon = layerNormEpsilon; self.embeddingSize = embeddingSize; self.sharedLayers = sharedLayers
    }

    /// An ALBERT-style model: factorised embedding of width E and one layer shared across the depth.
    public var isAlbert: Bool { embeddingSize != nil || sharedLayers }
    /// Width of the embedding tables (E, or C without factorisation).
    public var embeddingWidth: Int { embeddingSize ?? channels }
    /// Parameter-name prefix of layer application `l`.
    public func layerPrefix(_ l: Int) -> String { sharedLayers ? "layers.0." : "layers.\(l)." }

    /// The benchmark model: 2 layers, d = 128, 4 heads, ff = 512, seq = 64, vocabulary 10,000, 2-way CLS head.
    public static let bertTiny = BertConfig(vocabulary: 10_000, maxTime: 64, channels: 128, heads: 4, layers: 2,
                                            ffHidden: 512, classes: 2)

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "model": isAlbert ? "albert" : "bert", "vocabulary": JSONValue(vocabulary), "max_time": JSONValue(maxTime),
            "channels": JSONValue(channels), "heads": JSONValue(heads), "layers": JSONValue(layers),
            "ff_hidden": JSONValue(ffHidden), "classes": JSONValue(classes), "dropout": JSONValue(Double(dropout)),
            "layer_norm_epsilon": JSONValue(Double(layerNormEpsilon)),
        ]
        if isAlbert {
            o["embedding_size"] = JSONValue(embeddingWidth)
            o["shared_layers"] = .bool(sharedLayers)
        }
        return .object(o)
    }

    public init(json reader: JSONReader) throws {
        let o = try reader.object()
        let model = try o.required("model").string(oneOf: ["bert", "albert"])
        self.init(
            vocabulary: try o.required("vocabulary").int(min: 1), maxTime: try o.required("max_time").int(min: 1),
            channels: try o.required("channels").int(min: 1), heads: try o.required("heads").int(min: 1),
            layers: try o.required("layers").int(min: 0), ffHidden: try o.required("ff_hidden").int(min: 1),
            classes: try o.required("classes").int(min: 1), dropout: Float(try o.required("dropout").double(min: 0, max: 0.99)),
            layerNormEpsilon: Float(try o.required("layer_norm_epsilon").double(min: 0, minExclusive: true)),
            embeddingSize: model == "albert" ? try o.required("embedding_size").int(min: 1) : nil,
            sharedLayers: model == "albert" ? try o.required("shared_layers").bool() : false)
        try o.finish()
        guard channels % heads == 0 else { throw reader.fail("channels divisible by heads") }
    }

    /// Parameter layout in memory order; names are the checkpoint tensor names.
    public var parameterLayout: [(name: String, shape: [Int], decays: Bool)] {
        let c = channels, f = ffHidden
        let e = embeddingWidth
        var l: [(name: String, shape: [Int], decays: Bool)] = [
            ("embeddings.token", [vocabulary, e], true), ("embeddings.position", [maxTime, e], true),
            ("embeddings.norm.weight", [e], false), ("embeddings.norm.bias", [e], false),
        ]
        if embeddingSize != nil {
            l += [("embeddings.projection.weight", [c, e], true), ("embeddings.projection.bias", [c], false)]
        }
        for i in 0..<(sharedLayers ? min(layers, 1) : layers) {
            let p = "layers.\(i)."
            l += [
                (p + "attention.qkv.weight", [3 * c, c], true), (p + "attention.qkv.bias", [3 * c], false),
                (p + "attention.output.weight", [c, c], true), (p + "attention.output.bias", [c], false),
                (p + "attention.norm.weight", [c], false), (p + "attention.norm.bias", [c], false),
                (p + "ffn.up.weight", [f, c], true), (p + "ffn.up.bias", [f], false),
                (p + "ffn.down.weight", [c, f], true), (p + "ffn.down.bias", [c], false),
                (p + "ffn.norm.weight", [c], false), (p + "ffn.norm.bias", [c], false),
            ]
        }
        l += [("classifier.weight", [classes, c], true), ("classifier.bias", [classes], false)]
        return l
    }

    /// Training FLOPs of one step (forward + backward ≈ 3× forward, counting the matrix products only) for a
    /// batch of `batch` sequences of `time` tokens. `compactLastLayer` counts what the engine executes when the
    /// last layer carries only the CLS rows past its attention (see `BertClassifier.computeFullLastLayer`);
    /// false gives the nominal full-model count (what PyTorch executes).
    public func trainingFlops(batch: Int, time: Int, compactLastLayer: Bool = false) -> Double {
        let n = Double(batch * time), c = Double(channels), f = Double(ffHidden), b = Double(batch), t = Double(time)
        func layer(rows: Double, attention: Double) -> Double {
            2 * n * c * (3 * c) + attention + 2 * rows * c * c + 2 * 2 * rows * c * f
        }
        let full = layer(rows: n, attention: 2 * 2 * b * t * t * c)
        // Compact: K and V for every token, Q for the CLS rows only, then CLS rows alone.
        let last = compactLastLayer
            ? layer(rows: b, attention: 2 * 2 * b * t * c) - 2 * n * c * c + 2 * b * c * c
            : full
        let head = 2 * b * c * Double(classes)
        return 3 * (Double(max(layers - 1, 0)) * full + (layers > 0 ? last : 0) + head)
    }
}
