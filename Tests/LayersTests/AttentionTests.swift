// Multi-head attention: forward against a naive Double reference (padding and causal masks), backward against
// finite differences, with and without a score transform that has its own parameter and regulariser.
import Basics
import Layers
import Testing

/// y = x + α·x² on valid entries, regulariser λ·Σ_valid x² (for testing the hook: both paths of its gradient).
final class QuadraticTransform: ScoreTransform {
    var alpha: Float
    var lambda: Float
    var alphaGradient: Float = 0
    private(set) var regularizerLoss: Double = 0
    init(alpha: Float, lambda: Float) { self.alpha = alpha; self.lambda = lambda }

    func forEachValid(_ shape: ScoreShape, _ mask: AttentionMask, _ body: (Int) -> Void) {
        for b in 0..<shape.batch { for h in 0..<shape.heads { for i in 0..<shape.queries {
            let n = mask.validKeys(batch: b, query: i, keys: shape.keys)
            let row = ((b * shape.heads + h) * shape.queries + i) * shape.keys
            for j in 0..<n { body(row + j) }
        } } }
    }
    func forward(scores x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, shape: ScoreShape, mask: AttentionMask, training: Bool) {
        var r = 0.0
        forEachValid(shape, mask) { k in y[k] = x[k] + alpha * x[k] * x[k]; r += Double(x[k] * x[k]) }
        regularizerLoss = Double(lambda) * r
    }
    func backward(scores x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>, gradScores dx: UnsafeMutablePointer<Float>, shape: ScoreShape, mask: AttentionMask) {
        forEachValid(shape, mask) { k in
            alphaGradient += dy[k] * x[k] * x[k]
            dx[k] = dy[k] * (1 + 2 * alpha * x[k]) + 2 * lambda * x[k]
        }
    }
}

@Suite struct AttentionTests {
    static let shape = AttentionShape(batch: 2, time: 4, channels: 6, heads: 2)
    static let lengths: [Int32] = [3, 4]

    static func run(qkv: [Float], causal: Bool, transform: (any ScoreTransform)?) -> (out: [Float], probs: [Float], scores: [Float]) {
        let s = shape, n = s.batch * s.time
        return lengths.withUnsafeBufferPointer { l in
            let mask = AttentionMask(causal: causal, lengths: l.baseAddress)
            let r = withPointers([zeros(n * s.channels), zeros(s.scores.count), zeros(s.scores.count), zeros(s.scores.count), qkv]) { p in
                Attention.forward(out: p[0], probs: p[1], scores: p[2], transformed: p[3], qkv: p[4], shape: s, mask: mask, transform: transform, training: true)
            }
            return (r[0], r[1], r[2])
        }
    }

    static func grad(qkv: [Float], dout: [Float], causal: Bool, transform: (any ScoreTransform)?) -> [Float] {
        let s = shape
        let f = run(qkv: qkv, causal: causal, transform: transform)
        return lengths.withUnsafeBufferPointer { l in
            let mask = AttentionMask(causal: causal, lengths: l.baseAddress)
            return withPointers([zeros(qkv.count), zeros(s.scores.count), dout, f.probs, f.scores, qkv]) { p in
                Attention.backward(dqkv: p[0], dscores: p[1], dout: p[2], probs: p[3], scores: p[4], qkv: p[5], shape: s, mask: mask, transform: transform)
            }[0]
        }
    }

    @Test(arguments: [false, true])
    func forwardMatchesNaiveReference(causal: Bool) {
        let s = Self.shape, hs = s.headSize, t = s.time, c = s.channels
        let qkv = randomArray(s.batch * t * 3 * c, seed: 11)
        let fast = Self.run(qkv: qkv, causal: causal, transform: nil)
        for b in 0..<s.batch { for h in 0..<s.heads { for i in 0..<t {
            let valid = min(Int(Self.lengths[b]), causal ? i + 1 : t)
            var sc = [Double](repeating: -.infinity, count: t)
            for j in 0..<valid {
                var dot = 0.0
                for k in 0..<hs { dot += Double(qkv[(b * t + i) * 3 * c + h * hs + k]) * Double(qkv[(b * t + j) * 3 * c + c + h * hs + k]) }
                sc[j] = dot / Double(hs).squareRoot()
                #expect(abs(Double(fast.scores[((b * s.heads + h) * t + i) * t + j]) - sc[j]) < 1e-5, "exposed scaled score")
            }
            let m = sc.max()!
            let e = sc.map { $0 == -.infinity ? 0 : Foundation_exp($0 - m) }
            let z = e.reduce(0, +)
            for j in 0..<t {
                let p = e[j] / z
                #expect(abs(Double(fast.probs[((b * s.heads + h) * t + i) * t + j]) - p) < 1e-6, "probability b\(b) h\(h) i\(i) j\(j)")
            }
            for k in 0..<hs {
                var o = 0.0
                for j in 0..<t { o += e[j] / z * Double(qkv[(b * t + j) * 3 * c + 2 * c + h * hs + k]) }
                #expect(abs(Double(fast.out[(b * t + i) * c + h * hs + k]) - o) < 1e-5)
            }
        } } }
    }

    @Test(arguments: [false, true])
    func gradientsWithoutTransform(causal: Bool) {
        var check = GradientCheck(inputs: [randomArray(Self.shape.batch * Self.shape.time * 3 * Self.shape.channels, seed: 3)],
            forward: { x in Self.run(qkv: x[0], causal: causal, transform: nil).out },
            backward: { x, d in [Self.grad(qkv: x[0], dout: d, causal: causal, transform: nil)] })
        check.samplesPerInput = 144
        check.tolerance = 1e-2
        check.expectPasses("Attention (causal \(causal))")
    }

    @Test func gradientsThroughATrainableScoreTransformAndItsRegulariser() {
        let s = Self.shape
        let lambda: Float = 0.05
        // inputs: qkv, [α]; outputs: attention out followed by the regulariser value.
        var check = GradientCheck(inputs: [randomArray(s.batch * s.time * 3 * s.channels, seed: 3), [0.3]],
            forward: { x in
                let tr = QuadraticTransform(alpha: x[1][0], lambda: lambda)
                let f = Self.run(qkv: x[0], causal: true, transform: tr)
                return f.out + [Float(tr.regularizerLoss)]
            },
            backward: { x, d in
                // The transform adds its regulariser gradient with weight 1; the probe weighs it by d.last.
                let tr = QuadraticTransform(alpha: x[1][0], lambda: lambda * d.last!)
                let g = Self.grad(qkv: x[0], dout: Array(d.dropLast()), causal: true, transform: tr)
                return [g, [tr.alphaGradient]]
            })
        check.samplesPerInput = 144
        check.step = 5e-3
        check.tolerance = 1e-2
        check.expectPasses("Attention with transform")
    }

    @Test func identityTransformChangesNothing() {
        let qkv = randomArray(Self.shape.batch * Self.shape.time * 3 * Self.shape.channels, seed: 5)
        let a = Self.run(qkv: qkv, causal: true, transform: nil), b = Self.run(qkv: qkv, causal: true, transform: IdentityScoreTransform())
        #expect(a.out == b.out)
        let d = randomArray(Self.shape.batch * Self.shape.time * Self.shape.channels, seed: 6)
        #expect(Self.grad(qkv: qkv, dout: d, causal: true, transform: nil) == Self.grad(qkv: qkv, dout: d, causal: true, transform: IdentityScoreTransform()))
    }
}

#if canImport(Glibc)
import Glibc
func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
#endif
