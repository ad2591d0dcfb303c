// The engine's parallelism setting in one place: OpenBLAS worker threads and the width of Dispatch fan-out over
// independent blocks (attention heads, row ranges). With 1 thread the engine never spawns a thread: `forEach`
// runs inline and BLAS is pinned to one thread (sweeps run several trainings side by side).
import Dispatch

public enum Compute {
    /// Current width; change it only through `setThreads`.
    nonisolated(unsafe) public private(set) static var threads = 1

    /// When true (the default), the engine's large products are split across Dispatch workers
    /// (`Gemm.sgemmSplit`) and OpenBLAS itself runs single-threaded; when false, OpenBLAS gets `threads` workers.
    nonisolated(unsafe) public private(set) static var splitsGemms = true

    /// Sets BLAS threads and Dispatch width together (`--threads N`). With `splitGemms`, BLAS is pinned to one
    /// thread per call and products are split by the engine; otherwise BLAS runs `count` threads itself.
    public static func setThreads(_ count: Int, splitGemms: Bool = true) {
        precondition(count >= 1, "thread count must be ≥ 1")
        threads = count
        splitsGemms = splitGemms
        BLASThreads.set(splitGemms ? 1 : count)
    }

    /// Runs `body(chunk)` for chunk in 0..<chunks, on up to `threads` workers; inline when threads == 1.
    /// Bodies must write disjoint memory.
    @inlinable
    public static func forEach(chunks: Int, _ body: (Int) -> Void) {
        if threads <= 1 || chunks <= 1 {
            for c in 0..<chunks { body(c) }
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
        }
    }

    /// Splits 0..<count into at most `threads` contiguous ranges and runs them in parallel.
    @inlinable
    public static func forRanges(count: Int, minimumPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(threads, count / max(1, minimumPerChunk)))
        if parts == 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            body((p * count / parts)..<((p + 1) * count / parts))
        }
    }
}
