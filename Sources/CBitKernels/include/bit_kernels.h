// CBitKernels — the integer kernels of the bit-serial engine, owned by AcceleratorModel alone.
// Swift's portable SIMD types do not lower 16-bit × 16-bit → 32-bit multiply-adds to the x86 pmaddwd family,
// and those instructions are what make the functional engine fast; so the per-row loop of the engine's fast
// path is C, with SSE2 (every x86-64) and AVX2 versions chosen at run time and a plain loop
// elsewhere. The Swift reference engine (plane by plane) is the specification; tests compare the two.
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

/// 0 = portable loop, 1 = SSE2, 2 = AVX2: the instruction set leopard_score_row uses on this CPU. (An AVX-512
/// keys-across-lanes variant was measured slower than the AVX2 row kernel here and was removed.)
int leopard_kernel_level(void);

/// Forces a lower kernel level (for tests: every version must agree with the reference); returns the level now
/// in use (requests above what the CPU supports are capped). Not thread-safe: call before scoring starts.
int leopard_force_kernel_level(int level);

#endif
