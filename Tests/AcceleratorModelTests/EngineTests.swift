import Basics
import Testing
@testable import AcceleratorModel
import CBitKernels
@testable import Workloads

/// The exactness property of bit-serial early termination: the pruned set equals S < T bit for bit, and no kept
/// score is ever terminated.
@Suite struct EngineTests {
    static func score(_ q: [Int64], _ k: [Int64]) -> Int64 { zip(q, k).reduce(0) { $0 + $1.0 * $1.1 } }

    /// Checks one (q, k, T) with the reference engine and returns the planes processed.
    @discardableResult
    static func checkExact(_ q: [Int64], _ k: [Int64], bits: Int, threshold: Int64,
                           sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        let s = score(q, k)
        let r = BitSerialEngine.referenceScore(q: q, key: k, bits: bits, threshold: threshold)
        #expect(r.kept == (s >= threshold), "S=\(s) T=\(threshold) q=\(q) k=\(k)", sourceLocation: sourceLocation)
        if r.kept { #expect(r.planes == bits, "a kept score must run every plane", sourceLocation: sourceLocation) }
        #expect((1...bits).contains(r.planes), sourceLocation: sourceLocation)
        return r.planes
    }

    @Test(arguments: Array(2...16))
    func randomScoresArePrunedExactlyWhenBelowThreshold(bits: Int) {
        var rng = SeededGenerator(seed: UInt64(bits))
        let lo = -(1 << (bits - 1)), span = 1 << bits
        for _ in 0..<300 {
            let d = 1 + rng.nextInt(below: 24)
            let q = (0..<d).map { _ in Int64(lo + rng.nextInt(below: span)) }
            let k = (0..<d).map { _ in Int64(lo + rng.nextInt(below: span)) }
            let s = Self.score(q, k)
            // Thresholds exactly on the score, one off either side, and far away.
            for t in [s, s + 1, s - 1, s + Int64(rng.nextInt(below: 1000)), Int64.min / 4, Int64.max / 4] {
                Self.checkExact(q, k, bits: bits, threshold: t)
            }
        }
    }

    @Test(arguments: [2, 3, 8, 12, 16])
    func adversarialCases(bits: Int) {
        let maxV = Int64((1 << (bits - 1)) - 1), minV = -Int64(1 << (bits - 1))
        let d = 7
        let queries: [[Int64]] = [
            [Int64](repeating: 0, count: d),                 // zero query: S = 0, Q⁺ = 0
            [Int64](repeating: -1, count: d),                // all negative: Q⁺ = 0
            [Int64](repeating: minV, count: d),
            [Int64](repeating: maxV, count: d),
            (0..<d).map { $0 % 2 == 0 ? maxV : minV },
        ]
        let keys: [[Int64]] = [
            [Int64](repeating: 0, count: d),                 // all-zero key
            [Int64](repeating: -1, count: d),                // all-ones key (every plane set)
            [Int64](repeating: minV, count: d),              // only the sign plane set
            [Int64](repeating: maxV, count: d),              // every plane but the sign
            (0..<d).map { $0 % 2 == 0 ? minV : maxV },
        ]
        for q in queries {
            for k in keys {
                let s = Self.score(q, k)
                for t in [s - 1, s, s + 1, 0, 1, -1] { Self.checkExact(q, k, bits: bits, threshold: t) }
            }
        }
    }

    /// A case worked by hand (B = 4, d = 2): q = [3, −2], k = [5, −6] = [0101, 1010] in 4-bit two's complement.
    /// Q⁺ = 3, S = 15 + 12 = 27.
    ///   plane 3 (sign, weight −8): bits [0, 1] → P = −8·(−2) = 16; U = 16 + 7·3 = 37
    ///   plane 2 (weight 4):        bits [1, 0] → P = 16 + 12 = 28; U = 28 + 3·3 = 37
    ///   plane 1 (weight 2):        bits [0, 1] → P = 28 − 4 = 24;  U = 24 + 1·3 = 27
    ///   plane 0 (weight 1):        bits [1, 0] → P = 24 + 3 = 27;  U = 27 = S
    @Test(arguments: [(38, 1), (37, 3), (28, 3), (27, 4), (20, 4)])
    func handWorkedPlanes(threshold: Int64, expectedPlanes: Int) {
        let r = BitSerialEngine.referenceScore(q: [3, -2], key: [5, -6], bits: 4, threshold: threshold)
        #expect(r.planes == expectedPlanes)
        #expect(r.kept == (27 >= threshold))
    }

    static func layer(bits: Int, d: Int, seed: UInt64, mask: AttentionMask = .none, lengths: [Int32]? = nil,
                      pruneRate: Double = 0.7, extremes: Bool = false) -> LayerTrace {
        var layer = SyntheticTrace.make(seed: seed, batchSize: 2, headCount: 2, queryCount: 9, keyCount: 9,
                                        headDim: d, valueDim: 4, bits: bits, pruneRate: pruneRate,
                                        mask: mask, lengths: lengths).layers[0]
        if extremes {
            // Saturate some rows to the extremes of the range, including −2^(B−1), which quantisation never makes.
            for i in stride(from: 0, to: layer.k.count, by: 3) { layer.k[i] = layer.minValue }
            for i in stride(from: 1, to: layer.q.count, by: 5) { layer.q[i] = layer.minValue }
            for i in stride(from: 2, to: layer.q.count, by: 7) { layer.q[i] = layer.maxValue }
        }
        return layer
    }

    @Test(arguments: [(2, 3), (4, 8), (8, 13), (12, 64), (13, 64), (14, 16), (16, 5), (12, 17)])
    func fastPathMatchesReference(bits: Int, d: Int) {
        for (index, mask) in [AttentionMask.none, .causal].enumerated() {
            for extremes in [false, true] {
                let layer = Self.layer(bits: bits, d: d, seed: UInt64(bits * 100 + d + index), mask: mask,
                                       lengths: [9, 5], extremes: extremes)
                let fast = BitSerialEngine.run(layer, parallel: false)
                let reference = BitSerialEngine.runReference(layer)
                #expect(fast.planes == reference.planes, "bits \(bits) d \(d) \(mask)")
                #expect(fast.kept == reference.kept)
                #expect(fast.statistics == reference.statistics)
                #expect(BitSerialEngine.run(layer, parallel: true).planes == fast.planes)
            }
        }
    }

    @Test func layerOutcomeMatchesTheHardRuleAndMasksAreZero() {
        let layer = Self.layer(bits: 12, d: 16, seed: 3, mask: .causal, lengths: [6, 9])
        let outcome = BitSerialEngine.run(layer)
        var valid = 0, kept = 0
        for b in 0..<2 {
            for h in 0..<2 {
                let t = layer.threshold.value(head: h)
                for i in 0..<9 {
                    let keys = layer.validKeys(batch: b, query: i)
                    for j in 0..<9 {
                        let index = outcome.index(batch: b, head: h, query: i, key: j)
                        guard keys.contains(j) else {
                            #expect(outcome.planes[index] == 0 && outcome.kept[index] == 0)
                            continue
                        }
                        valid += 1
                        let qo = layer.queryOffset(batch: b, head: h, query: i), ko = layer.keyOffset(batch: b, head: h, key: j)
                        let s = (0..<16).reduce(Int64(0)) { $0 + Int64(layer.q[qo + $1]) * Int64(layer.k[ko + $1]) }
                        #expect((outcome.kept[index] == 1) == (s >= t))
                        if outcome.kept[index] == 1 { kept += 1; #expect(outcome.planes[index] == 12) }
                    }
                }
            }
        }
        #expect(outcome.statistics.validPairs == valid)
        #expect(outcome.statistics.keptPairs == kept)
        #expect(outcome.statistics.planeHistogram.reduce(0, +) == valid)
    }

    /// Monotonicity: a higher threshold never processes more planes nor keeps more scores.
    @Test func higherThresholdMeansFewerPlanesAndFewerKept() {
        var layer = Self.layer(bits: 10, d: 12, seed: 9)
        var previousPlanes = Int.max, previousKept = Int.max
        for t in stride(from: Int64(-20000), through: 20000, by: 2500) {
            layer.threshold = .perLayer(t)
            let s = BitSerialEngine.run(layer).statistics
            #expect(s.totalPlanes <= previousPlanes)
            #expect(s.keptPairs <= previousKept)
            previousPlanes = s.totalPlanes
            previousKept = s.keptPairs
        }
    }
}

/// Every instruction-set version of the C kernels (row kernel: portable, SSE2, AVX2; matrix kernel: AVX2,
/// AVX-512 VNNI — those this CPU has)
/// agrees with the reference engine. Serialized: the kernel level is process-global.
@Suite(.serialized) struct KernelLevelTests {
    @Test func everyKernelLevelMatchesReference() {
        let best = leopard_force_kernel_level(-1)
        defer { _ = leopard_force_kernel_level(-1) }
        let layers = [(12, 64), (8, 13), (13, 40), (4, 100)].map { bits, d in
            EngineTests.layer(bits: bits, d: d, seed: UInt64(bits * d), mask: .causal, lengths: [9, 4], extremes: true)
        }
        let references = layers.map { BitSerialEngine.runReference($0) }
        for level in 0...best {
            #expect(leopard_force_kernel_level(Int32(level)) == level)
            for (layer, reference) in zip(layers, references) {
                let fast = BitSerialEngine.run(layer, parallel: false)
                #expect(fast.planes == reference.planes, "kernel level \(level), bits \(layer.bits), d \(layer.headDim)")
                #expect(fast.kept == reference.kept)
            }
        }
        print("kernel levels checked: 0...\(best) (0 portable, 1 SSE2, 2 AVX2, 3 AVX-512 VNNI; 2 and 3 with the matrix kernel)")
    }

    /// Both matrix kernels (AVX2 and AVX-512 VNNI) on adversarial values, where many scores need a third test
    /// and more (they take a different path in each kernel).
    @Test func everyMatrixKernelOnAdversarialValues() {
        let best = leopard_force_kernel_level(-1)
        defer { _ = leopard_force_kernel_level(-1) }
        guard best >= 2 else {
            print("SKIP: everyMatrixKernelOnAdversarialValues: no matrix kernel on this CPU")
            return
        }
        for level in 2...best {
            #expect(leopard_force_kernel_level(Int32(level)) == level)
            for bits in [3, 8, 12] { FastPathTests.checkAdversarialValues(bits: bits) }
        }
    }
}
