// CBitKernels — the integer dot-product kernels of the bit-serial engine, owned by AcceleratorModel alone.
// Swift's portable SIMD types do not lower 16-bit × 16-bit → 32-bit multiply-adds to the x86 pmaddwd
// instruction (SSE2, so available on every x86-64), and that instruction is what makes the functional engine
// fast; so these few lines are C. A plain loop is the fallback on other architectures.
// Lengths are multiples of 8 (rows are zero-padded); inputs are 16-bit; sums are exact in 32 bits as long as
// n·2^30 < 2^31 for the callers' value ranges (the Swift side checks the bound before using these).
#ifndef LEOPARD_BIT_KERNELS_H
#define LEOPARD_BIT_KERNELS_H

#include <stdint.h>
#if defined(__x86_64__) || defined(__SSE2__)
#include <emmintrin.h>
#define LEOPARD_HAVE_SSE2 1
#endif

/// Σ a[i]·b[i] for i < n.
static inline int32_t leopard_dot_i16(const int16_t *a, const int16_t *b, int n) {
#ifdef LEOPARD_HAVE_SSE2
    __m128i acc = _mm_setzero_si128();
    for (int i = 0; i < n; i += 8) {
        __m128i x = _mm_loadu_si128((const __m128i *)(a + i));
        __m128i y = _mm_loadu_si128((const __m128i *)(b + i));
        acc = _mm_add_epi32(acc, _mm_madd_epi16(x, y));
    }
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4E));
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xB1));
    return _mm_cvtsi128_si32(acc);
#else
    int32_t s = 0;
    for (int i = 0; i < n; i++) s += (int32_t)a[i] * (int32_t)b[i];
    return s;
#endif
}

/// Σ a[i]·(b[i] & mask) for i < n: the dot product with the low bits of b (mask = 2^m − 1, m ≤ 15).
static inline int32_t leopard_low_dot_i16(const int16_t *a, const int16_t *b, int n, int16_t mask) {
#ifdef LEOPARD_HAVE_SSE2
    __m128i acc = _mm_setzero_si128();
    __m128i m = _mm_set1_epi16(mask);
    for (int i = 0; i < n; i += 8) {
        __m128i x = _mm_loadu_si128((const __m128i *)(a + i));
        __m128i y = _mm_and_si128(_mm_loadu_si128((const __m128i *)(b + i)), m);
        acc = _mm_add_epi32(acc, _mm_madd_epi16(x, y));
    }
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4E));
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xB1));
    return _mm_cvtsi128_si32(acc);
#else
    int32_t s = 0;
    for (int i = 0; i < n; i++) s += (int32_t)a[i] * (int32_t)(b[i] & mask);
    return s;
#endif
}

/// out[j] = Σ_i q[i]·k[j·n + i] for j < keys: one query row against consecutive padded key rows.
static inline void leopard_row_dots_i16(const int16_t *q, const int16_t *k, int keys, int n, int32_t *out) {
    for (int j = 0; j < keys; j++) out[j] = leopard_dot_i16(q, k + (long)j * n, n);
}

#endif
