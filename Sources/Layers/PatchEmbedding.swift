// ViT patch embedding: images [B, channels, H, W] (NCHW, as PyTorch) are cut into non-overlapping p×p patches in
// row-major patch order; each patch is flattened channel-major ([channel, dy, dx], the order a PyTorch
// Conv2d(kernel = stride = p) weight [D, channels, p, p] uses) and projected by a Linear to D features:
// out[B, P, D] with P = (H/p)·(W/p). Position embeddings and the CLS token belong to the model.
public enum PatchEmbedding {
    public struct Shape: Sendable {
        public let batch, channels, height, width, patch: Int
        public init(batch: Int, channels: Int, height: Int, width: Int, patch: Int) {
            precondition(height % patch == 0 && width % patch == 0, "image \(height)×\(width) not divisible into \(patch)×\(patch) patches")
            self.batch = batch; self.channels = channels; self.height = height; self.width = width; self.patch = patch
        }
        public var patchesPerImage: Int { (height / patch) * (width / patch) }
        public var patchFeatures: Int { channels * patch * patch }
    }

    /// patches[B, P, channels·p·p] ← images.
    public static func extract(patches: UnsafeMutablePointer<Float>, images: UnsafePointer<Float>, shape s: Shape) {
        let perRow = s.width / s.patch
        for b in 0..<s.batch {
            for pi in 0..<s.patchesPerImage {
                let py = pi / perRow, px = pi % perRow
                var o = patches + (b * s.patchesPerImage + pi) * s.patchFeatures
                for ch in 0..<s.channels {
                    for dy in 0..<s.patch {
                        let src = images + ((b * s.channels + ch) * s.height + py * s.patch + dy) * s.width + px * s.patch
                        o.update(from: src, count: s.patch)
                        o += s.patch
                    }
                }
            }
        }
    }

    /// out[B·P, D] = patches · Wᵀ + b, with W [D, channels·p·p]; `patches` is scratch of B·P·channels·p·p Floats kept
    /// for the backward pass.
    public static func forward(
        out: UnsafeMutablePointer<Float>, patches: UnsafeMutablePointer<Float>, images: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, shape s: Shape, features d: Int
    ) {
        extract(patches: patches, images: images, shape: s)
        Linear.forward(out: out, inp: patches, weight: weight, bias: bias, rows: s.batch * s.patchesPerImage,
                       inFeatures: s.patchFeatures, outFeatures: d)
    }

    /// Parameter gradients only (images are data, they need none).
    public static func backward(
        dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        patches: UnsafePointer<Float>, weight: UnsafePointer<Float>, shape s: Shape, features d: Int
    ) {
        Linear.backward(dinp: nil, dweight: dweight, dbias: dbias, dout: dout, inp: patches, weight: weight,
                        rows: s.batch * s.patchesPerImage, inFeatures: s.patchFeatures, outFeatures: d)
    }
}
