// Seeded synthetic traces for tests, demos and benchmarks: Gaussian Q and K, quantised to B bits with scales
// calibrated on the data (max magnitude), and an integer threshold placed at a requested prune rate of the
// valid scores of each layer.

import Basics

public enum SyntheticTrace {
    /// A trace of `layerCount` layers; the same seed gives the same trace on every machine.
    /// `pruneRate` in [0, 1]: T is the smallest integer with at least that fraction of valid scores below it.
    public static func make(seed: UInt64, layerCount: Int = 1, batchSize: Int = 1, headCount: Int = 2,
                            queryCount: Int = 8, keyCount: Int = 8, headDim: Int = 16, valueDim: Int = 16,
                            bits: Int = 12, pruneRate: Double = 0.7, mask: AttentionMask = .none,
                            lengths: [Int32]? = nil) -> AttentionTrace {
        precondition(pruneRate >= 0 && pruneRate <= 1, "pruneRate must be in [0, 1]")
        var rng = SeededGenerator(seed: seed)
        var layers: [LayerTrace] = []
        for _ in 0..<layerCount {
            let qFloat = (0..<(batchSize * headCount * queryCount * headDim)).map { _ in Float(rng.nextGaussian()) }
            let kFloat = (0..<(batchSize * headCount * keyCount * headDim)).map { _ in Float(rng.nextGaussian()) }
            var layer = Quantization.layerTrace(q: qFloat, k: kFloat, batchSize: batchSize, headCount: headCount,
                                                queryCount: queryCount, keyCount: keyCount, headDim: headDim,
                                                valueDim: valueDim, bits: bits, thresholds: [0], mask: mask,
                                                lengths: lengths)
            layer.threshold = .perLayer(thresholdAtPruneRate(layer, pruneRate: pruneRate))
            layers.append(layer)
        }
        return AttentionTrace(layers: layers)
    }

    /// The integer threshold below which `pruneRate` of the valid scores of `layer` fall.
    public static func thresholdAtPruneRate(_ layer: LayerTrace, pruneRate: Double) -> Int64 {
        var scores = validScores(layer)
        guard !scores.isEmpty else { return 0 }
        scores.sort()
        let rank = Int((pruneRate * Double(scores.count)).rounded(.down))
        return rank >= scores.count ? scores[scores.count - 1] + 1 : scores[rank]
    }

    /// Every valid integer score S = Σ q·k of the layer (a plain reference loop).
    public static func validScores(_ layer: LayerTrace) -> [Int64] {
        var scores: [Int64] = []
        scores.reserveCapacity(layer.batchSize * layer.headCount * layer.queryCount * layer.keyCount)
        let d = layer.headDim
        layer.q.withUnsafeBufferPointer { q in
            layer.k.withUnsafeBufferPointer { k in
                for b in 0..<layer.batchSize {
                    for h in 0..<layer.headCount {
                        for i in 0..<layer.queryCount {
                            let qo = layer.queryOffset(batch: b, head: h, query: i)
                            for j in layer.validKeys(batch: b, query: i) {
                                let ko = layer.keyOffset(batch: b, head: h, key: j)
                                var s: Int64 = 0
                                for t in 0..<d { s += Int64(q[qo + t]) * Int64(k[ko + t]) }
                                scores.append(s)
                            }
                        }
                    }
                }
            }
        }
        return scores
    }
}
