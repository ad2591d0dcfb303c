// The BLAS sgemm wrapper against the naive reference, for every transpose combination, with strided leading
// dimensions (sub-matrices of larger buffers, as attention uses) and beta accumulation.
import Basics
import Foundation
import Tensors
import Testing

@Suite struct GemmTests {
    static let cases: [(String, Transpose, Transpose)] = [
        ("A·B", .none, .none), ("A·Bᵀ", .none, .transposed), ("Aᵀ·B", .transposed, .none), ("Aᵀ·Bᵀ", .transposed, .transposed),
    ]

    @Test(arguments: cases)
    func blasMatchesNaive(_ name: String, _ ta: Transpose, _ tb: Transpose) {
        let m = 13, n = 7, k = 9, pad = 3
        let lda = (ta == .none ? k : m) + pad, ldb = (tb == .none ? n : k) + pad, ldc = n + pad
        let aRows = ta == .none ? m : k, bRows = tb == .none ? k : n
        var rng = SeededGenerator(seed: 42)
        let a = Tensor(shape: [aRows, lda]), b = Tensor(shape: [bRows, ldb])
        Initialiser.uniform(a.view, bound: 1, using: &rng)
        Initialiser.uniform(b.view, bound: 1, using: &rng)
        for beta: Float in [0, 0.5] {
            let fast = Tensor(shape: [m, ldc]), slow = Tensor(shape: [m, ldc])
            Initialiser.uniform(fast.view, bound: 1, using: &rng)
            slow.copy(from: fast)
            Gemm.sgemm(ta, tb, m: m, n: n, k: k, alpha: 0.7, a: a.pointer, lda: lda, b: b.pointer, ldb: ldb, beta: beta, c: fast.pointer, ldc: ldc)
            Gemm.naive(ta, tb, m: m, n: n, k: k, alpha: 0.7, a: a.pointer, lda: lda, b: b.pointer, ldb: ldb, beta: beta, c: slow.pointer, ldc: ldc)
            var worst: Float = 0
            for i in 0..<(m * ldc) { worst = max(worst, abs(fast[i] - slow[i])) }
            #expect(worst < 1e-5, "\(name), beta \(beta): max abs difference \(worst)")
            // Padding columns of C are never touched.
            if beta == 0 { for i in 0..<m { for j in n..<ldc { #expect(fast[i * ldc + j] == slow[i * ldc + j]) } } }
        }
    }

    @Test func naiveIsAMatrixProduct() {
        // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]]
        let a = Tensor(shape: [2, 2], values: [1, 2, 3, 4]), b = Tensor(shape: [2, 2], values: [5, 6, 7, 8]), c = Tensor(shape: [2, 2])
        Gemm.naive(.none, .none, m: 2, n: 2, k: 2, a: a.pointer, lda: 2, b: b.pointer, ldb: 2, c: c.pointer, ldc: 2)
        #expect(c.values == [19, 22, 43, 50])
        Gemm.sgemm(.none, .none, m: 2, n: 2, k: 2, a: a.pointer, lda: 2, b: b.pointer, ldb: 2, c: c.pointer, ldc: 2)
        #expect(c.values == [19, 22, 43, 50])
    }

    @Test func initialisersAreSeededAndScaled() {
        let a = Tensor(shape: [4000]), b = Tensor(shape: [4000])
        var r1 = SeededGenerator(seed: 5), r2 = SeededGenerator(seed: 5)
        Initialiser.normal(a.view, std: 0.02, using: &r1)
        Initialiser.normal(b.view, std: 0.02, using: &r2)
        #expect(a.values == b.values)
        let mean = a.values.reduce(0, +) / 4000
        let std = (a.values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4000).squareRoot()
        #expect(abs(std - 0.02) < 0.002)
        Initialiser.xavierUniform(a.view, fanIn: 10, fanOut: 14, using: &r1)
        #expect(a.values.allSatisfy { abs($0) <= 0.5 })
    }
}

@Suite struct FastMathTests {
    @Test func expMatchesLibmWithinAFewUlp() {
        var worst: Double = 0
        var x: Float = -87
        while x < 88 {
            let exact = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(FastMath.exp(x)) - exact) / exact)
            x += 0.0137
        }
        #expect(worst < 3e-7, "max relative error \(worst)")
        #expect(FastMath.exp(0) == 1)
        #expect(FastMath.exp(-1000) >= 0 && FastMath.exp(-1000) < 1e-37)
    }

    @Test func tanhMatchesLibm() {
        var worst: Double = 0
        var u: Float = -12
        while u < 12 {
            worst = max(worst, abs(Double(FastMath.tanh(u)) - Foundation.tanh(Double(u))))
            u += 0.001
        }
        #expect(worst < 3e-7, "max absolute error \(worst)")
        #expect(FastMath.tanh(20) == 1 && FastMath.tanh(-20) == -1)
    }
}
