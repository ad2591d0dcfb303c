// MemN2N pieces: position encoding values, sentence embedding and one hop against finite differences.
import Basics
import Layers
import Testing

@Suite struct MemoryHopTests {
    @Test func positionEncodingMatchesThePaperFormula() {
        // l_kj = (1 − j/J) − (k/d)(1 − 2j/J): J = 4 words, d = 2; j = 1, k = 1 → 0.75 − 0.5·0.5 = 0.5.
        let l = MemoryHop.positionEncoding(words: 4, channels: 2)
        let first: Float = l[0], last: Float = l[3 * 2 + 1]
        #expect(abs(first - 0.5) < 1e-6)
        #expect(abs(last - 1) < 1e-6)  // j = 4, k = 2 → (1 − 1) − 1·(1 − 2) = 1
    }

    @Test func embeddingGradients() {
        let b = 2, m = 3, s = 4, d = 5, v = 6
        let words: [Int32] = [1, 2, -1, -1, 0, 5, 5, 1, 3, -1, -1, -1, 4, 4, 4, 4, 2, 1, 0, -1, 3, 3, -1, -1]
        let pe = MemoryHop.positionEncoding(words: s, channels: d)
        let check = GradientCheck(inputs: [randomArray(v * d, seed: 1), randomArray(m * d, seed: 2)],
            forward: { x in
                words.withUnsafeBufferPointer { w in pe.withUnsafeBufferPointer { l in
                    withPointers([zeros(b * m * d)] + x) { p in
                        MemoryHop.embedForward(out: p[0], sentences: w.baseAddress!, table: p[1], temporal: p[2], encoding: l.baseAddress!, batch: b, memories: m, words: s, channels: d, vocabulary: v)
                    }[0]
                } }
            },
            backward: { _, g in
                words.withUnsafeBufferPointer { w in pe.withUnsafeBufferPointer { l in
                    let r = withPointers([zeros(v * d), zeros(m * d), g]) { p in
                        MemoryHop.embedBackward(dTable: p[0], dTemporal: p[1], dout: p[2], sentences: w.baseAddress!, encoding: l.baseAddress!, batch: b, memories: m, words: s, channels: d)
                    }
                    return [r[0], r[1]]
                } }
            })
        check.expectPasses("MemN2N embedding")
    }

    @Test(arguments: [false, true])
    func hopGradients(withTransform: Bool) {
        let b = 2, m = 4, d = 3
        let counts: [Int32] = [3, 4]
        func make(_ alpha: Float, _ lambda: Float) -> QuadraticTransform? { withTransform ? QuadraticTransform(alpha: alpha, lambda: lambda) : nil }
        func forward(_ x: [[Float]], _ tr: QuadraticTransform?) -> [[Float]] {
            counts.withUnsafeBufferPointer { c in
                withPointers([zeros(b * d), zeros(b * m), zeros(b * m), zeros(b * m)] + x) { p in
                    MemoryHop.forward(uNext: p[0], probs: p[1], scores: p[2], transformed: p[3], u: p[4], memories: p[5], outputs: p[6], counts: c.baseAddress, batch: b, memorySlots: m, channels: d, transform: tr, training: true)
                }
            }
        }
        var check = GradientCheck(inputs: [randomArray(b * d, seed: 1), randomArray(b * m * d, seed: 2), randomArray(b * m * d, seed: 3), [0.2]],
            forward: { x in
                let tr = make(x[3][0], 0.1)
                return forward(Array(x.prefix(3)), tr)[0] + [Float(tr?.regularizerLoss ?? 0)]
            },
            backward: { x, g in
                let tr = make(x[3][0], 0.1 * g.last!)
                let f = forward(Array(x.prefix(3)), tr)
                let r = counts.withUnsafeBufferPointer { c in
                    withPointers([zeros(b * d), zeros(b * m * d), zeros(b * m * d), zeros(b * m), Array(g.dropLast()), f[1], f[2]] + Array(x.prefix(3))) { p in
                        MemoryHop.backward(du: p[0], dmemories: p[1], doutputs: p[2], dscores: p[3], duNext: p[4], probs: p[5], scores: p[6], u: p[7], memories: p[8], outputs: p[9], counts: c.baseAddress, batch: b, memorySlots: m, channels: d, transform: tr)
                    }
                }
                return [r[0], r[1], r[2], [tr?.alphaGradient ?? 0]]
            })
        if !withTransform { check.constant = [3] }
        check.step = 5e-3
        check.expectPasses("MemN2N hop (transform \(withTransform))")
    }
}
