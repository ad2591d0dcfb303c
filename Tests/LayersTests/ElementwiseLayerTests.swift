// Backward passes of the simple layers against central finite differences.
import Basics
import Layers
import Testing

@Suite struct ElementwiseLayerTests {
    @Test func linearGradients() {
        let n = 5, i = 7, o = 4
        var check = GradientCheck(inputs: [randomArray(n * i, seed: 1), randomArray(o * i, seed: 2), randomArray(o, seed: 3)],
            forward: { x in
                withPointers([zeros(n * o)] + x) { p in
                    Linear.forward(out: p[0], inp: p[1], weight: p[2], bias: p[3], rows: n, inFeatures: i, outFeatures: o)
                }[0]
            },
            backward: { x, d in
                let r = withPointers([zeros(n * i), zeros(o * i), zeros(o), d] + x) { p in
                    Linear.backward(dinp: p[0], dweight: p[1], dbias: p[2], dout: p[3], inp: p[4], weight: p[5], rows: n, inFeatures: i, outFeatures: o)
                }
                return [r[0], r[1], r[2]]
            })
        check.tolerance = 2e-3
        check.expectPasses("Linear")
    }

    @Test func linearBackwardAccumulates() {
        // Calling backward twice must double the gradients (callers rely on accumulation).
        let n = 3, i = 4, o = 2
        let x = randomArray(n * i, seed: 4), w = randomArray(o * i, seed: 5), d = randomArray(n * o, seed: 6)
        let r = withPointers([zeros(n * i), zeros(o * i), zeros(o), d, x, w]) { p in
            for _ in 0..<2 { Linear.backward(dinp: p[0], dweight: p[1], dbias: p[2], dout: p[3], inp: p[4], weight: p[5], rows: n, inFeatures: i, outFeatures: o) }
        }
        let once = withPointers([zeros(n * i), zeros(o * i), zeros(o), d, x, w]) { p in
            Linear.backward(dinp: p[0], dweight: p[1], dbias: p[2], dout: p[3], inp: p[4], weight: p[5], rows: n, inFeatures: i, outFeatures: o)
        }
        for k in 0..<3 { #expect(zip(r[k], once[k]).allSatisfy { abs($0 - 2 * $1) <= 1e-5 * max(1, abs($0)) }) }
    }

    @Test func embeddingGradients() {
        let b = 2, t = 3, c = 4, v = 5
        let tokens: [Int32] = [0, 3, 3, 4, 1, 0]
        let check = GradientCheck(inputs: [randomArray(v * c, seed: 1), randomArray(t * c, seed: 2)],
            forward: { x in
                tokens.withUnsafeBufferPointer { tk in
                    withPointers([zeros(b * t * c)] + x) { p in
                        Embedding.forward(out: p[0], tokens: tk.baseAddress!, tokenTable: p[1], positionTable: p[2], batch: b, time: t, channels: c, vocabulary: v)
                    }[0]
                }
            },
            backward: { _, d in
                tokens.withUnsafeBufferPointer { tk in
                    let r = withPointers([zeros(v * c), zeros(t * c), d]) { p in
                        Embedding.backward(dTokenTable: p[0], dPositionTable: p[1], dout: p[2], tokens: tk.baseAddress!, batch: b, time: t, channels: c)
                    }
                    return [r[0], r[1]]
                }
            })
        check.expectPasses("Embedding")
    }

    @Test func layerNormGradients() {
        let n = 4, c = 6
        var check = GradientCheck(inputs: [randomArray(n * c, seed: 1), randomArray(c, seed: 2), randomArray(c, seed: 3)],
            forward: { x in
                withPointers([zeros(n * c), zeros(n), zeros(n)] + x) { p in
                    LayerNorm.forward(out: p[0], mean: p[1], rstd: p[2], inp: p[3], weight: p[4], bias: p[5], rows: n, channels: c)
                }[0]
            },
            backward: { x, d in
                let f = withPointers([zeros(n * c), zeros(n), zeros(n)] + x) { p in
                    LayerNorm.forward(out: p[0], mean: p[1], rstd: p[2], inp: p[3], weight: p[4], bias: p[5], rows: n, channels: c)
                }
                let r = withPointers([zeros(n * c), zeros(c), zeros(c), d, x[0], x[1], f[1], f[2]]) { p in
                    LayerNorm.backward(dinp: p[0], dweight: p[1], dbias: p[2], dout: p[3], inp: p[4], weight: p[5], mean: p[6], rstd: p[7], rows: n, channels: c)
                }
                return [r[0], r[1], r[2]]
            })
        check.step = 3e-3
        check.tolerance = 1e-2
        check.expectPasses("LayerNorm")
    }

    @Test func geluGradients() {
        let n = 40
        var check = GradientCheck(inputs: [randomArray(n, seed: 1, std: 2)],
            forward: { x in withPointers([zeros(n), x[0]]) { p in GELU.forward(out: p[0], inp: p[1], count: n) }[0] },
            backward: { x, d in [withPointers([zeros(n), x[0], d]) { p in GELU.backward(dinp: p[0], inp: p[1], dout: p[2], count: n) }[0]] })
        check.tolerance = 2e-3
        check.expectPasses("GELU")
    }

    @Test func geluStoredDerivativeMatchesRecomputation() {
        let n = 100
        let x = randomArray(n, seed: 3, std: 3), d = randomArray(n, seed: 4)
        let stored = withPointers([zeros(n), zeros(n), x]) { p in GELU.forward(out: p[0], derivative: p[1], inp: p[2], count: n) }
        let plain = withPointers([zeros(n), x]) { p in GELU.forward(out: p[0], inp: p[1], count: n) }[0]
        #expect(stored[0] == plain)
        let viaStored = withPointers([zeros(n), stored[1], d]) { p in GELU.backward(dinp: p[0], derivative: p[1], dout: p[2], count: n) }[0]
        let recomputed = withPointers([zeros(n), x, d]) { p in GELU.backward(dinp: p[0], inp: p[1], dout: p[2], count: n) }[0]
        #expect(viaStored == recomputed)
    }

    @Test func reluGradientsAwayFromTheKink() {
        let n = 40
        var check = GradientCheck(inputs: [randomArray(n, seed: 1)],
            forward: { x in withPointers([zeros(n), x[0]]) { p in ReLU.forward(out: p[0], inp: p[1], count: n) }[0] },
            backward: { x, d in [withPointers([zeros(n), x[0], d]) { p in ReLU.backward(dinp: p[0], inp: p[1], dout: p[2], count: n) }[0]] })
        check.skip = { _, _, v in abs(v) < 0.05 }   // the kink at 0 is non-differentiable
        check.tolerance = 1e-4
        check.expectPasses("ReLU")
    }

    @Test func dropoutIsLinearInItsMaskAndSeeded() {
        let n = 1000
        let x = randomArray(n, seed: 1)
        func run(seed: UInt64) -> (out: [Float], mask: [Float]) {
            var rng = SeededGenerator(seed: seed)
            let r = withPointers([zeros(n), zeros(n), x]) { p in
                Dropout.forward(out: p[0], mask: p[1], inp: p[2], count: n, probability: 0.25, rng: &rng)
            }
            return (r[0], r[1])
        }
        let a = run(seed: 9), b = run(seed: 9), c = run(seed: 10)
        #expect(a.out == b.out)
        #expect(a.mask != c.mask)
        let dropped = a.mask.filter { $0 == 0 }.count
        #expect(dropped > 180 && dropped < 320, "≈25% dropped, got \(dropped)")
        #expect(a.mask.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
        // backward multiplies by the same mask.
        let g = randomArray(n, seed: 2)
        let back = withPointers([zeros(n), g, a.mask]) { p in Dropout.backward(dinp: p[0], dout: p[1], mask: p[2], count: n) }[0]
        for i in 0..<n { #expect(back[i] == g[i] * a.mask[i]) }
    }

    @Test func softmaxGradients() {
        let r = 3, c = 5
        let check = GradientCheck(inputs: [randomArray(r * c, seed: 1)],
            forward: { x in withPointers([zeros(r * c), x[0]]) { p in Softmax.forward(out: p[0], inp: p[1], rows: r, columns: c) }[0] },
            backward: { x, d in
                let y = withPointers([zeros(r * c), x[0]]) { p in Softmax.forward(out: p[0], inp: p[1], rows: r, columns: c) }[0]
                return [withPointers([zeros(r * c), y, d]) { p in Softmax.backward(dinp: p[0], out: p[1], dout: p[2], rows: r, columns: c) }[0]]
            })
        check.expectPasses("Softmax")
    }

    @Test func residualGradients() {
        let n = 6
        let check = GradientCheck(inputs: [randomArray(n, seed: 1), randomArray(n, seed: 2)],
            forward: { x in withPointers([zeros(n)] + x) { p in Residual.forward(out: p[0], a: p[1], b: p[2], count: n) }[0] },
            backward: { _, d in
                let r = withPointers([zeros(n), zeros(n), d]) { p in Residual.backward(da: p[0], db: p[1], dout: p[2], count: n) }
                return [r[0], r[1]]
            })
        check.expectPasses("Residual")
    }

    @Test(arguments: [("no ignored rows", [Int32(1), 0, 3, 2]), ("two ignored rows", [Int32(1), -100, 3, -100])])
    func crossEntropyGradients(_ name: String, _ targets: [Int32]) {
        let n = 4, v = 4
        func loss(_ logits: [Float]) -> Double {
            var out = 0.0
            _ = withPointers([zeros(n * v), logits]) { p in
                targets.withUnsafeBufferPointer { t in out = CrossEntropy.forward(probs: p[0], logits: p[1], targets: t.baseAddress!, rows: n, classes: v) }
            }
            return out
        }
        let check = GradientCheck(inputs: [randomArray(n * v, seed: 1)],
            forward: { x in [Float(loss(x[0]))] },
            backward: { x, d in
                let probs = withPointers([zeros(n * v), x[0]]) { p in
                    targets.withUnsafeBufferPointer { t in _ = CrossEntropy.forward(probs: p[0], logits: p[1], targets: t.baseAddress!, rows: n, classes: v) }
                }[0]
                return [withPointers([zeros(n * v), probs]) { p in
                    targets.withUnsafeBufferPointer { t in CrossEntropy.backward(dlogits: p[0], probs: p[1], targets: t.baseAddress!, rows: n, classes: v, scale: d[0]) }
                }[0]]
            })
        check.expectPasses("CrossEntropy (\(name))")
    }

    /// Soft targets (distillation): finite differences in the logits, and a one-hot target gives the hard-label loss
    /// and gradient.
    @Test func softTargetCrossEntropyGradients() {
        let n = 3, v = 4
        var targets = randomArray(n * v, seed: 5).map { abs($0) + 0.1 }
        for r in 0..<n { let s = targets[(r * v)..<(r * v + v)].reduce(0, +); for j in 0..<v { targets[r * v + j] /= s } }
        func forward(_ logits: [Float], _ t: [Float]) -> (Double, [Float]) {
            var loss = 0.0
            let probs = withPointers([zeros(n * v), logits, t]) { p in
                loss = SoftTargetCrossEntropy.forward(probs: p[0], logits: p[1], targets: p[2], rows: n, classes: v)
            }[0]
            return (loss, probs)
        }
        let check = GradientCheck(inputs: [randomArray(n * v, seed: 1)],
            forward: { x in [Float(forward(x[0], targets).0)] },
            backward: { x, d in
                let probs = forward(x[0], targets).1
                return [withPointers([zeros(n * v), probs, targets]) { p in
                    SoftTargetCrossEntropy.backward(dlogits: p[0], probs: p[1], targets: p[2], rows: n, classes: v, scale: d[0]) }[0]]
            })
        check.expectPasses("SoftTargetCrossEntropy")

        let labels: [Int32] = [2, 0, 3], logits = randomArray(n * v, seed: 8)
        var onehot = zeros(n * v)
        for r in 0..<n { onehot[r * v + Int(labels[r])] = 1 }
        let (soft, probs) = forward(logits, onehot)
        var hard = 0.0
        var hardGradient = zeros(n * v), softGradient = zeros(n * v)
        _ = withPointers([zeros(n * v), logits]) { p in
            labels.withUnsafeBufferPointer { t in hard = CrossEntropy.forward(probs: p[0], logits: p[1], targets: t.baseAddress!, rows: n, classes: v) }
        }
        probs.withUnsafeBufferPointer { pp in
            labels.withUnsafeBufferPointer { t in CrossEntropy.backward(dlogits: &hardGradient, probs: pp.baseAddress!, targets: t.baseAddress!, rows: n, classes: v) }
            onehot.withUnsafeBufferPointer { t in SoftTargetCrossEntropy.backward(dlogits: &softGradient, probs: pp.baseAddress!, targets: t.baseAddress!, rows: n, classes: v) }
        }
        #expect(abs(soft - hard) < 1e-9)
        #expect(zip(softGradient, hardGradient).allSatisfy { abs($0 - $1) < 1e-7 })
    }

    @Test func crossEntropyValueAndIgnoreIndex() {
        // Uniform logits over 4 classes: loss = ln 4 whatever the target; ignored rows do not count.
        let logits = zeros(8), targets: [Int32] = [2, -100]
        var loss = 0.0
        _ = withPointers([zeros(8), logits]) { p in
            targets.withUnsafeBufferPointer { t in loss = CrossEntropy.forward(probs: p[0], logits: p[1], targets: t.baseAddress!, rows: 2, classes: 4) }
        }
        #expect(abs(loss - 1.3862943611198906) < 1e-6)
    }

    @Test func mseGradients() {
        let n = 5
        let target = randomArray(n, seed: 9)
        let check = GradientCheck(inputs: [randomArray(n, seed: 1)],
            forward: { x in
                var l = 0.0
                _ = withPointers([x[0], target]) { p in l = MSE.forward(pred: p[0], target: p[1], count: n) }
                return [Float(l)]
            },
            backward: { x, d in [withPointers([zeros(n), x[0], target]) { p in MSE.backward(dpred: p[0], pred: p[1], target: p[2], count: n, scale: d[0]) }[0]] })
        check.expectPasses("MSE")
    }

    @Test func poolingGradients() {
        let b = 2, t = 3, c = 4
        let lengths: [Int32] = [2, 3]
        let cls = GradientCheck(inputs: [randomArray(b * t * c, seed: 1)],
            forward: { x in withPointers([zeros(b * c), x[0]]) { p in Pooling.clsForward(out: p[0], inp: p[1], batch: b, time: t, channels: c) }[0] },
            backward: { _, d in [withPointers([zeros(b * t * c), d]) { p in Pooling.clsBackward(dinp: p[0], dout: p[1], batch: b, time: t, channels: c) }[0]] })
        cls.expectPasses("CLS pooling")
        let mean = GradientCheck(inputs: [randomArray(b * t * c, seed: 1)],
            forward: { x in lengths.withUnsafeBufferPointer { l in withPointers([zeros(b * c), x[0]]) { p in Pooling.meanForward(out: p[0], inp: p[1], lengths: l.baseAddress, batch: b, time: t, channels: c) }[0] } },
            backward: { _, d in lengths.withUnsafeBufferPointer { l in [withPointers([zeros(b * t * c), d]) { p in Pooling.meanBackward(dinp: p[0], dout: p[1], lengths: l.baseAddress, batch: b, time: t, channels: c) }[0]] } })
        mean.expectPasses("mean pooling")
    }

    @Test func patchEmbeddingGradientsAndLayout() {
        let s = PatchEmbedding.Shape(batch: 2, channels: 1, height: 4, width: 6, patch: 2)
        let d = 3
        let images = randomArray(2 * 4 * 6, seed: 1)
        let check = GradientCheck(inputs: [randomArray(d * s.patchFeatures, seed: 2), randomArray(d, seed: 3)],
            forward: { x in
                withPointers([zeros(2 * s.patchesPerImage * d), zeros(2 * s.patchesPerImage * s.patchFeatures), images] + x) { p in
                    PatchEmbedding.forward(out: p[0], patches: p[1], images: p[2], weight: p[3], bias: p[4], shape: s, features: d)
                }[0]
            },
            backward: { x, g in
                let patches = withPointers([zeros(2 * s.patchesPerImage * s.patchFeatures), images]) { p in PatchEmbedding.extract(patches: p[0], images: p[1], shape: s) }[0]
                let r = withPointers([zeros(d * s.patchFeatures), zeros(d), g, patches, x[0]]) { p in
                    PatchEmbedding.backward(dweight: p[0], dbias: p[1], dout: p[2], patches: p[3], weight: p[4], shape: s, features: d)
                }
                return [r[0], r[1]]
            })
        check.expectPasses("PatchEmbedding")
        // Patch 4 of image 0 is (row 1, column 1): pixels (2..3, 2..3).
        let patches = withPointers([zeros(2 * s.patchesPerImage * s.patchFeatures), images]) { p in PatchEmbedding.extract(patches: p[0], images: p[1], shape: s) }[0]
        #expect(Array(patches[16..<20]) == [images[2 * 6 + 2], images[2 * 6 + 3], images[3 * 6 + 2], images[3 * 6 + 3]])
    }
}
