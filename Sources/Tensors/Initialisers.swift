// Initialisers. Every one draws from an explicit SeededGenerator, in index order, so a seed fixes every value
// bit for bit on every machine (Box–Muller and the uniform draw are pure integer/IEEE arithmetic).
import Basics

public enum Initialiser {
    /// Normal(0, std²), as GPT-2/BERT (std 0.02).
    public static func normal(_ t: TensorView, std: Float, using rng: inout SeededGenerator) {
        for i in 0..<t.count { t.pointer[i] = Float(rng.nextGaussian()) * std }
    }

    /// Uniform(−bound, bound).
    public static func uniform(_ t: TensorView, bound: Float, using rng: inout SeededGenerator) {
        for i in 0..<t.count { t.pointer[i] = (2 * rng.nextUnitFloat() - 1) * bound }
    }

    /// Glorot/Xavier uniform for a [fanOut, fanIn] weight: bound = sqrt(6 / (fanIn + fanOut)).
    public static func xavierUniform(_ t: TensorView, fanIn: Int, fanOut: Int, using rng: inout SeededGenerator) {
        uniform(t, bound: (6 / Float(fanIn + fanOut)).squareRoot(), using: &rng)
    }

    public static func constant(_ t: TensorView, _ value: Float) {
        t.pointer.update(repeating: value, count: t.count)
    }
}
