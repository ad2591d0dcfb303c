// vit-tiny: a pre-LN Vision Transformer classifier (Dosovitskiy et al. 2021) for small grey images:
//   patches p×p → Linear → P tokens;  h₀ = [cls; patches] + E_pos  (T = P + 1 tokens, CLS at position 0)
//   h_l = Block_l(h_{l−1}) (bidirectional attention, no padding);  logits = LN_f(h_L[:, 0])·W_headᵀ + b
// Only the CLS row passes the final LayerNorm and the head (the other rows feed nothing after the last block).
import Basics
import Layers
import Tensors

public struct ViTConfig: Sendable, Equatable {
    public var imageSize: Int
    public var imageChannels: Int
    public var patch: Int
    public var channels: Int
    public var heads: Int
    public var layers: Int
    public var ffHidden: Int
    public var classes: Int
    public var layerNormEpsilon: Float = 1e-5

    public init(imageSize: Int, imageChannels: Int = 1, patch: Int, channels: Int, heads: Int, layers: Int, ffHidden: Int, classes: Int) {
        precondition(imageSize % patch == 0, "image size \(imageSize) not divisible by patch \(patch)")
        precondition(channels % heads == 0, "channels \(channels) not divisible by \(heads) heads")
        self.imageSize = imageSize; self.imageChannels = imageChannels; self.patch = patch; self.channels = channels
        self.heads = heads; self.layers = layers; self.ffHidden = ffHidden; self.classes = classes
    }

    public var patchesPerImage: Int { (imageSize / patch) * (imageSize / patch) }
    /// Tokens per image: the patches plus CLS.
    public var tokens: Int { patchesPerImage + 1 }

    public var json: JSONValue {
        .object(["model": "vit", "image_size": JSONValue(imageSize), "image_channels": JSONValue(imageChannels),
                 "patch": JSONValue(patch), "channels": JSONValue(channels), "heads": JSONValue(heads),
                 "layers": JSONValue(layers), "ff_hidden": JSONValue(ffHidden), "classes": JSONValue(classes)])
    }

    public var parameterLayout: [(name: String, shape: [Int], decays: Bool)] {
        let c = channels
        var l: [(name: String, shape: [Int], decays: Bool)] = [
            ("patch.weight", [c, imageChannels * patch * patch], true), ("patch.bias", [c], false),
            ("embeddings.cls", [c], false), ("embeddings.position", [tokens, c], true),
        ]
        for i in 0..<layers { l += PreNormBlockLayout.entries(prefix: "blocks.\(i).", channels: c, ffHidden: ffHidden) }
        l += [("final_norm.weight", [c], false), ("final_norm.bias", [c], false),
              ("classifier.weight", [classes, c], true), ("classifier.bias", [classes], false)]
        return l
    }
}

/// Images [batch, channels, size, size] (NCHW, normalised floats) with class labels (−100 = ignore).
public struct ImageBatch: Sendable {
    public var batch: Int
    public var pixels: [Float]
    public var labels: [Int32]
    public init(batch: Int, pixels: [Float], labels: [Int32]) {
        precondition(labels.count == batch, "\(labels.count) labels for a batch of \(batch)")
        self.batch = batch; self.pixels = pixels; self.labels = labels
    }
}

public final class VisionTransformer: TrainableModel, AttentionPrunable, QKQuantizable, @unchecked Sendable {
    public let config: ViTConfig
    public let parameters: ParameterSet
    public var scoreTransforms: [(any ScoreTransform)?]
    public var attentionRecorder: AttentionRecorder?
    /// When non-nil, inference forwards fake-quantise q and k to this many bits (see `QKQuantization`).
    public var qkQuantizationBits: Int?
    private var acts: Activations?

    public init(config: ViTConfig, seed: UInt64) {
        self.config = config
        parameters = ParameterSet(layout: config.parameterLayout)
        scoreTransforms = Array(repeating: nil, count: config.layers)
        var rng = SeededGenerator(seed: seed)
        let residualStd = 0.02 / Float(2 * max(config.layers, 1)).squareRoot()
        for e in parameters.entries {
            if e.name.hasSuffix("ln1.weight") || e.name.hasSuffix("ln2.weight") || e.name.hasSuffix("norm.weight") {
                Initialiser.constant(parameters.view(e.name), 1)
            } else if e.name == "patch.weight" {
                let fanIn = e.shape[1]
                Initialiser.xavierUniform(parameters.view(e.name), fanIn: fanIn, fanOut: e.shape[0], using: &rng)
            } else if e.decays || e.name == "embeddings.cls" {
                let residual = e.name.hasSuffix("attention.output.weight") || e.name.hasSuffix("ffn.down.weight")
                Initialiser.normal(parameters.view(e.name), std: residual ? residualStd : 0.02, using: &rng)
            }
        }
    }

    public var metadata: [String: String] { ["config": CanonicalJSON.encode(config.json)] }

    // MARK: AttentionPrunable
    public var attentionLayerCount: Int { config.layers }
    public var attentionHeadCount: Int { config.heads }
    public var attentionHeadDimension: Int { config.channels / config.heads }
    public var attentionValueDimension: Int { config.channels / config.heads }
    public var attentionIsCausal: Bool { false }

    final class Activations {
        let shape: BlockShape
        let patchShape: PatchEmbedding.Shape
        let images, patches, patchOut, emb: Tensor
        let labels: Tensor32
        let blocks: [PreNormBlock]
        let cls, pooled, pooledMean, pooledRstd, logits, probs: Tensor
        let scratch: BlockScratch
        let gH, gNext, gPooled, gCls, gLogits, gPatch: Tensor
        init(config c: ViTConfig, batch: Int) {
            let shape = BlockShape(batch: batch, time: c.tokens, channels: c.channels, heads: c.heads, ffHidden: c.ffHidden)
            self.shape = shape
            patchShape = PatchEmbedding.Shape(batch: batch, channels: c.imageChannels, height: c.imageSize, width: c.imageSize, patch: c.patch)
            let n = shape.rows, ch = c.channels, np = batch * c.patchesPerImage
            images = Tensor(shape: [batch, c.imageChannels, c.imageSize, c.imageSize])
            patches = Tensor(shape: [np, patchShape.patchFeatures]); patchOut = Tensor(shape: [np, ch])
            emb = Tensor(shape: [n, ch]); labels = Tensor32(count: batch)
            blocks = (0..<c.layers).map { PreNormBlock(prefix: "blocks.\($0).", shape: shape, epsilon: c.layerNormEpsilon) }
            cls = Tensor(shape: [batch, ch]); pooled = Tensor(shape: [batch, ch])
            pooledMean = Tensor(shape: [batch]); pooledRstd = Tensor(shape: [batch])
            logits = Tensor(shape: [batch, c.classes]); probs = Tensor(shape: [batch, c.classes])
            scratch = BlockScratch(shape)
            gH = Tensor(shape: [n, ch]); gNext = Tensor(shape: [n, ch]); gPooled = Tensor(shape: [batch, ch])
            gCls = Tensor(shape: [batch, ch]); gLogits = Tensor(shape: [batch, c.classes]); gPatch = Tensor(shape: [np, ch])
        }
    }

    private func activations(batch: Int) -> Activations {
        if let a = acts, a.shape.batch == batch { return a }
        let a = Activations(config: config, batch: batch)
        acts = a
        return a
    }

    /// Logits of the last forward, [batch, classes].
    public var logits: [Float] { acts?.logits.values ?? [] }
    public func attentionScores(layer: Int) -> TensorView? { acts?.blocks[layer].scores.view }

    @discardableResult
    public func forward(_ batch: ImageBatch, training: Bool) -> Double {
        let c = config, a = activations(batch: batch.batch)
        let b = batch.batch, t = c.tokens, ch = c.channels, p = parameters
        precondition(batch.pixels.count == a.images.count, "\(batch.pixels.count) pixels for \(a.images.shape)")
        batch.pixels.withUnsafeBufferPointer { a.images.pointer.update(from: $0.baseAddress!, count: a.images.count) }
        a.labels.set(batch.labels)
        PatchEmbedding.forward(out: a.patchOut.pointer, patches: a.patches.pointer, images: a.images.pointer,
                               weight: p.value("patch.weight"), bias: p.value("patch.bias"), shape: a.patchShape, features: ch)
        // h₀[b, 0] = cls + pos[0];  h₀[b, 1 + i] = patch_i + pos[1 + i].
        let cls = p.value("embeddings.cls"), pos = p.value("embeddings.position")
        for bi in 0..<b {
            for ti in 0..<t {
                let o = a.emb.pointer + (bi * t + ti) * ch, e = pos + ti * ch
                let src = ti == 0 ? UnsafePointer(cls) : UnsafePointer(a.patchOut.pointer + (bi * (t - 1) + ti - 1) * ch)
                for k in 0..<ch { o[k] = src[k] + e[k] }
            }
        }
        let mask = AttentionMask(causal: false, lengths: nil)
        var h = UnsafePointer(a.emb.pointer)
        for (l, block) in a.blocks.enumerated() {
            block.forward(h, parameters: p, mask: mask, transform: scoreTransforms[l], training: training,
                          quantizationBits: qkQuantizationBits)
            if !training, let recorder = attentionRecorder { recorder.append(block.record(layer: l, lengths: nil, causal: false)) }
            h = UnsafePointer(block.out.pointer)
        }
        Pooling.clsForward(out: a.cls.pointer, inp: h, batch: b, time: t, channels: ch)
        LayerNorm.forward(out: a.pooled.pointer, mean: a.pooledMean.pointer, rstd: a.pooledRstd.pointer, inp: a.cls.pointer,
                          weight: p.value("final_norm.weight"), bias: p.value("final_norm.bias"), rows: b, channels: ch,
                          epsilon: c.layerNormEpsilon)
        Linear.forward(out: a.logits.pointer, inp: a.pooled.pointer, weight: p.value("classifier.weight"),
                       bias: p.value("classifier.bias"), rows: b, inFeatures: ch, outFeatures: c.classes)
        var loss = CrossEntropy.forward(probs: a.probs.pointer, logits: a.logits.pointer, targets: a.labels.pointer,
                                        rows: b, classes: c.classes)
        for tr in scoreTransforms { if let tr { loss += tr.regularizerLoss } }
        return loss
    }

    public func backward(lossScale: Float = 1) {
        guard let a = acts else { preconditionFailure("backward() before forward()") }
        let c = config, b = a.shape.batch, t = c.tokens, ch = c.channels, p = parameters
        let mask = AttentionMask(causal: false, lengths: nil)
        a.gLogits.zero(); a.gPooled.zero(); a.gCls.zero()
        CrossEntropy.backward(dlogits: a.gLogits.pointer, probs: a.probs.pointer, targets: a.labels.pointer,
                              rows: b, classes: c.classes, scale: lossScale)
        Linear.backward(dinp: a.gPooled.pointer, dweight: p.grad("classifier.weight"), dbias: p.grad("classifier.bias"),
                        dout: a.gLogits.pointer, inp: a.pooled.pointer, weight: p.value("classifier.weight"),
                        rows: b, inFeatures: ch, outFeatures: c.classes)
        LayerNorm.backward(dinp: a.gCls.pointer, dweight: p.grad("final_norm.weight"), dbias: p.grad("final_norm.bias"),
                           dout: a.gPooled.pointer, inp: a.cls.pointer, weight: p.value("final_norm.weight"),
                           mean: a.pooledMean.pointer, rstd: a.pooledRstd.pointer, rows: b, channels: ch)
        a.gH.zero()
        Pooling.clsBackward(dinp: a.gH.pointer, dout: a.gCls.pointer, batch: b, time: t, channels: ch)
        var gOut = a.gH, gIn = a.gNext
        for l in stride(from: a.blocks.count - 1, through: 0, by: -1) {
            let input = l == 0 ? UnsafePointer(a.emb.pointer) : UnsafePointer(a.blocks[l - 1].out.pointer)
            gIn.zero()
            a.blocks[l].backward(dx: gIn.pointer, dout: gOut.pointer, input: input, parameters: p, mask: mask,
                                 transform: scoreTransforms[l], scratch: a.scratch)
            swap(&gOut, &gIn)
        }
        // h₀ = [cls; patches] + pos:  dpos[t] += Σ_b dh₀[b, t];  dcls += Σ_b dh₀[b, 0];  dpatch_i = dh₀[b, 1 + i].
        let dcls = p.grad("embeddings.cls"), dpos = p.grad("embeddings.position")
        for bi in 0..<b {
            for ti in 0..<t {
                let g = gOut.pointer + (bi * t + ti) * ch, dp = dpos + ti * ch
                let dst = ti == 0 ? dcls : a.gPatch.pointer + (bi * (t - 1) + ti - 1) * ch
                for k in 0..<ch { dp[k] += g[k] }
                if ti == 0 { for k in 0..<ch { dst[k] += g[k] } } else { for k in 0..<ch { dst[k] = g[k] } }
            }
        }
        PatchEmbedding.backward(dweight: p.grad("patch.weight"), dbias: p.grad("patch.bias"), dout: a.gPatch.pointer,
                                patches: a.patches.pointer, weight: p.value("patch.weight"), shape: a.patchShape, features: ch)
    }
}
