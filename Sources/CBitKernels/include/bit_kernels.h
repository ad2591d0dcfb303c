// CBitKernels — the integer kernels of the bit-serial engine and the cycle model's fast row scheduler, owned by
// AcceleratorModel alone.
// Swift's portable SIMD types do not lower 16-bit × 16-bit → 32-bit multiply-adds to the x86 pmaddwd family,
// and those instructions are what make the functional engine fast; so the engine's fast path is C: a matrix
// kernel (an int16 GEMM micro-kernel, AVX2 or AVX-512 VNNI) and a row kernel (SSE2, AVX2, a plain loop
// elsewhere), chosen at run time. The Swift reference engine (plane by plane) is the specification. The cycle
// model's fast row scheduler is here too (branch-free vector code; the Swift calendar is its reference).
// Tests compare every fast path with its reference.
#ifndef LEOPARD_BIT_KERNELS_H
#define LEOPARD_BIT_KERNELS_H

#include <stdint.h>

/// Row length multiple that the callers pad Q and K rows to (with zeros).
#define LEOPARD_ROW_ALIGN 16

/// Scores one query row against keys [keyBegin, keyEnd) of one matrix (the fast path of BitSerialEngine).
/// q: the padded query row; k: the matrix's padded key rows (stride elements each, stride % 16 == 0).
/// certain[m] = (2^m − 1)·|q|₁ and slack[m] = (2^m − 1)·Q⁺ for m < bits; both tables have 16 entries, certain
/// padded with INT64_MAX from index bits on. Writes, per key j, planes[j] = bit
/// planes processed and kept[j] = 1 if S ≥ threshold. The caller guarantees stride·2^(2·bits−2) < 2^31, so
/// every 32-bit sum is exact.
void leopard_score_row(const int16_t *q, const int16_t *k, int keyBegin, int keyEnd, int stride, int bits,
                       int64_t threshold, const int64_t *certain, const int64_t *slack,
                       uint8_t *planes, uint8_t *kept);

/// 0 = portable loop, 1 = SSE2, 2 = AVX2, 3 = AVX-512 VNNI (on 256-bit vectors): the instruction set the
/// kernels use on this CPU. Levels 2 and 3 also have the matrix kernel below (the row kernel is AVX2 at both).
int leopard_kernel_level(void);

/// Whether leopard_score_matrix may be used for rows padded to `stride` and `bits`-bit values: kernel level ≥ 2
/// and stride·2^(2·bits−2) < 2^30 (every gap T − S then fits 32 bits after clamping T; see the template).
int leopard_matrix_kernel_available(int stride, int bits);

/// int16 elements of a packed key matrix of keyCount keys (whole 16-key blocks).
long leopard_packed_keys8_count(int keyCount, int stride);

/// Copies rowCount rows of d int32 values into int16 rows of `stride` elements, zero-padded.
void leopard_pack_rows(const int32_t *values, int rowCount, int d, int stride, int16_t *out);

/// Packs keyCount keys of d int32 values ("pair-interleaved" 16-key blocks): element (key j, dim t) goes to
/// out[(j/16)·16·stride + 32·(t/2) + 2·(j%16) + t%2] (for each dimension pair, the 16 keys' pairs in 64 bytes:
/// keys 0–7 then 8–15, one 256-bit vector each); padding keys and dimensions are zero.
/// out holds leopard_packed_keys8_count(keyCount, stride) elements.
void leopard_pack_keys8(const int32_t *k, int keyCount, int d, int stride, int16_t *out);

/// Scores every query row of one matrix: q holds queryCount rows padded to stride (leopard_pack_rows), kPacked
/// the matrix's keys (leopard_pack_keys8) and kRows the same keys as rows padded to stride (leopard_pack_rows;
/// the rare scores that need a third step and beyond read them). Query i sees keys [0, keyEnd[i]) (0 = a masked
/// row, skipped); planes and kept are [queryCount, keyCount], every entry written (0 outside the valid keys).
/// counts[1...16] += histogram of planes over the whole matrix, counts[17] += kept scores (counts[0] is
/// unspecified: ignore it). Only when leopard_matrix_kernel_available(stride, bits).
void leopard_score_matrix(const int16_t *q, int queryCount, const int16_t *kPacked, const int16_t *kRows,
                          int keyCount, int stride, const int32_t *keyEnd, int bits, int64_t threshold,
                          uint8_t *planes, uint8_t *kept, long *counts);

/// Forces a lower kernel level (for tests: every version must agree with the reference); returns the level now
/// in use (requests above what the CPU supports are capped). Not thread-safe: call before scoring starts.
int leopard_force_kernel_level(int level);

// MARK: the cycle model's fast row path (schedule_row.c)

/// Largest plane count of a key (B ≤ 16).
#define LEOPARD_MAX_PLANES 16
/// The fast row path handles at most this many units (more: the general path).
#define LEOPARD_FAST_ROW_MAX_UNITS 16

/// One row's front-end, times relative to the row's start.
typedef struct {
    /// In: room for keyCount + 16 entries. Out: completion times of the kept keys in time order (the FIFO's
    /// push order).
    int16_t *keptTimes;
    int keptCount;
    /// The cycle at which every unit is free again (0 for an empty row).
    int32_t span;
    /// Σ latency: unit-cycles spent on planes.
    int64_t busy;
} LeopardRowFront;

/// Whether this CPU runs the fast row path (AVX2; independent of leopard_force_kernel_level).
int leopard_fast_rows_available(void);

/// Rows whose front-ends leopard_front_rows computes together (one 16-bit vector lane per row).
#define LEOPARD_FRONT_ROWS 16

/// One row's valid keys.
typedef struct {
    const uint8_t *planes;
    const uint8_t *kept;
    int keyCount;
} LeopardRowKeys;

/// The front-ends of rowCount ≤ LEOPARD_FRONT_ROWS rows, together, into out[0..<rowCount]: key j takes
/// fixedLatency cycles if fixedLatency > 0, else planes[j]·cyclesPerPlane, and goes to the earliest free of
/// `units` units; it is kept (pushes into the FIFO when done) if allKept or kept[j]. scratch holds
/// leopard_front_rows_scratch_count(longest row's keyCount) entries. Returns 0 (nothing written) when the fast
/// path does not apply: no AVX2, more than LEOPARD_FAST_ROW_MAX_UNITS units, or times that could leave the
/// int16 lanes.
int leopard_front_rows(const LeopardRowKeys *keys, int rowCount, int fixedLatency, int allKept,
                       int cyclesPerPlane, int units, int16_t *scratch, LeopardRowFront *out);

long leopard_front_rows_scratch_count(int keyCount);

/// Forces the front-end's instruction set (for tests: every version must agree): 0 = AVX2 only, 1 = the
/// insertion network with AVX-512VL's 32 registers, 2 = also the compaction with AVX-512 VBMI2 compress;
/// −1 = the best this CPU has. Returns the level now in use (capped at what the CPU supports). Not
/// thread-safe: call before scheduling starts.
int leopard_force_front_level(int level);

/// The back-end of a row whose front-end started at `start`: the kept completions push into the FIFO, in time
/// order; the FIFO state (fifoStarts: the ring of back-end start times, entry n at n % fifoDepth; pushCount;
/// fifoSlot = pushCount % fifoDepth; backFree) advances and backBusy grows, exactly as the general path
/// (SchedulerState.runRow) does when no unit stalls. Returns 1 on success; 0 (nothing written) when a unit
/// would stall on a full FIFO (or times could leave 32 bits): the caller runs the general path for the row.
/// scratch holds leopard_back_row_scratch_count(keyCount, fifoDepth) entries.
int leopard_back_row(int64_t start, const LeopardRowFront *row, int backCycles, int fifoDepth,
                     int64_t *fifoStarts, int64_t *pushCount, int64_t *fifoSlot, int64_t *backFree,
                     int32_t *scratch, int64_t *backBusy);

long leopard_back_row_scratch_count(int keyCount, int fifoDepth);

#endif
