// Kernels added for pretrained BERT checkpoints: the exact (erf) GELU and the token-type embedding.
import Basics
import Layers
import Testing

@Suite struct PretrainedLayerTests {
    @Test func exactGELUGradients() {
        let n = 40
        var check = GradientCheck(inputs: [randomArray(n, seed: 11, std: 2)],
            forward: { x in withPointers([zeros(n), x[0]]) { p in GELUExact.forward(out: p[0], inp: p[1], count: n) }[0] },
            backward: { x, d in [withPointers([zeros(n), x[0], d]) { p in GELUExact.backward(dinp: p[0], inp: p[1], dout: p[2], count: n) }[0]] })
        check.tolerance = 2e-3
        check.expectPasses("exact GELU")
    }

    /// x·Φ(x) at points where Φ is known to many digits; and the tanh form differs visibly (why both exist).
    @Test(arguments: [(Float(-3), Float(-0.0040497)), (-1, -0.1586553), (0, 0), (0.5, 0.3457312), (1, 0.8413447), (2.5, 2.4844758)])
    func exactGELUValues(x: Float, expected: Float) {
        let out = withPointers([zeros(1), [x]]) { p in GELUExact.forward(out: p[0], inp: p[1], count: 1) }[0][0]
        #expect(abs(out - expected) <= 2e-6, "GELU(\(x)) = \(out), expected \(expected)")
    }

    @Test func tanhAndExactGELUDiffer() {
        let xs: [Float] = stride(from: -4, through: 4, by: 0.25).map { Float($0) }
        let exact = withPointers([zeros(xs.count), xs]) { p in GELUExact.forward(out: p[0], inp: p[1], count: xs.count) }[0]
        let approx = withPointers([zeros(xs.count), xs]) { p in GELU.forward(out: p[0], inp: p[1], count: xs.count) }[0]
        let gap = zip(exact, approx).map { abs($0 - $1) }.max()!
        #expect(gap > 1e-4 && gap < 2e-3, "tanh vs erf GELU max gap \(gap)")
    }

    @Test func segmentEmbeddingAddsTheTypeRowAndAccumulatesItsGradient() {
        let c = 3
        let table: [Float] = [1, 2, 3, 10, 20, 30]
        let types: [Int32] = [0, 1, 1, 0]
        var out: [Float] = Array(repeating: 0.5, count: 4 * c)
        var grad: [Float] = Array(repeating: 0, count: 2 * c)
        let dout: [Float] = (0..<(4 * c)).map { Float($0) }
        types.withUnsafeBufferPointer { t in
            table.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    SegmentEmbedding.forward(out: o.baseAddress!, types: t.baseAddress!, typeTable: w.baseAddress!, rows: 4, channels: c, typeCount: 2)
                }
            }
            dout.withUnsafeBufferPointer { d in
                grad.withUnsafeMutableBufferPointer { g in
                    SegmentEmbedding.backward(dTypeTable: g.baseAddress!, dout: d.baseAddress!, types: t.baseAddress!, rows: 4, channels: c)
                }
            }
        }
        #expect(out == [1.5, 2.5, 3.5, 10.5, 20.5, 30.5, 10.5, 20.5, 30.5, 1.5, 2.5, 3.5])
        // Type 0 rows 0 and 3: (0,1,2)+(9,10,11); type 1 rows 1 and 2: (3,4,5)+(6,7,8).
        #expect(grad == [9, 11, 13, 9, 11, 13])
    }
}
