// Matrix multiplication: C = alpha · op(A) · op(B) + beta · C on row-major matrices with leading dimensions, through
// OpenBLAS `cblas_sgemm`, and the naive triple loop it must agree with (kept as the reference, never used in the
// engine). Leading dimensions allow strided sub-matrices, e.g. one head's Q inside a [tokens, 3·C] QKV block.
import COpenBLAS

public enum Transpose: Sendable, CaseIterable, CustomStringConvertible {
    case none, transposed
    @usableFromInline var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
    public var description: String { self == .none ? "N" : "T" }
}

public enum Gemm {
    /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C. `lda`, `ldb`, `ldc` are the row strides of the stored
    /// (untransposed) matrices: A is stored m×k (or k×m when transposed), B is stored k×n (or n×k).
    @inlinable @inline(__always)
    public static func sgemm(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        checkShapes(transA, transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The reference: the same contract as `sgemm`, accumulated in Double, no blocking.
    public static func naive(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        checkShapes(transA, transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = transA == .none ? a[i * lda + p] : a[p * lda + i]
                    let bv = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                    sum += Double(av) * Double(bv)
                }
                // beta == 0 must ignore C entirely (it may hold NaN garbage), as BLAS does.
                let old: Double = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                c[i * ldc + j] = Float(Double(alpha) * sum + old)
            }
        }
    }

    @usableFromInline @inline(__always)
    static func checkShapes(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "negative gemm dimension")
        precondition(lda >= max(1, transA == .none ? k : m), "lda \(lda) too small")
        precondition(ldb >= max(1, transB == .none ? n : k), "ldb \(ldb) too small")
        precondition(ldc >= max(1, n), "ldc \(ldc) too small")
    }

    /// Floating-point operations of one gemm call (multiply and add counted separately).
    public static func flops(m: Int, n: Int, k: Int) -> Double { 2 * Double(m) * Double(n) * Double(k) }
}

/// OpenBLAS's worker-thread count. `set(1)` guarantees BLAS spawns no extra threads (sweeps run several jobs).
public enum BLASThreads {
    public static func set(_ count: Int) {
        precondition(count >= 1, "BLAS thread count must be ≥ 1")
        openblas_set_num_threads(Int32(count))
    }
    public static var current: Int { Int(openblas_get_num_threads()) }
}

extension Gemm {
    /// `sgemm` split into `Compute.threads` independent products over row blocks of C (or column blocks when C is
    /// wider than tall), run on Dispatch workers, each a single-threaded BLAS call. Used for the large products of
    /// the engine when `Compute.splitsGemms` is on: all parallelism is then Dispatch's, and no BLAS worker
    /// threads spin between calls while the engine's own parallel loops want the cores.
    @inlinable
    public static func sgemmSplit(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let parts = Compute.threads
        let work: Double = Double(m) * Double(n) * Double(k)
        if parts <= 1 || !Compute.splitsGemms || work < 1_048_576 {
            sgemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let splitRows = m >= n
        let total = splitRows ? m : n
        Compute.forEach(chunks: parts) { p in
            // Block boundaries on multiples of 16 rows/columns (whole SIMD registers).
            let lo: Int = Swift.min(total, (p * total / parts + 15) / 16 * 16)
            let end: Int = ((p + 1) * total / parts + 15) / 16 * 16
            let hi: Int = p == parts - 1 ? total : Swift.min(total, end)
            if hi <= lo { return }
            if splitRows {
                let aBlock = transA == .none ? a + lo * lda : a + lo
                sgemm(transA, transB, m: hi - lo, n: n, k: k, alpha: alpha, a: aBlock, lda: lda, b: b, ldb: ldb,
                      beta: beta, c: c + lo * ldc, ldc: ldc)
            } else {
                let bBlock = transB == .none ? b + lo : b + lo * ldb
                sgemm(transA, transB, m: m, n: hi - lo, k: k, alpha: alpha, a: a, lda: lda, b: bBlock, ldb: ldb,
                      beta: beta, c: c + lo, ldc: ldc)
            }
        }
    }
}
