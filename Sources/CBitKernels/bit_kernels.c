// See include/bit_kernels.h. The search after S < T: the largest m whose certain bound (2^m − 1)·|q|₁ is below
// the gap G = T − S, then step up while f(m + 1) = slack[m + 1] − q·(k mod 2^(m+1)) < G (BitSerialEngine.swift
// derives f and why this gives exactly the plane at which the hardware terminates).
#include "bit_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define LEOPARD_X86 1
#endif

// Written to avoid unpredictable branches (they dominated the time): the certain bound is counted with a
// fixed-length loop, and the first two step-up candidates are evaluated for every key, kept or not; only the
// rare case of a third step (and beyond) loops.
#define ROW_LOOP(DOT, LOWDOT)                                                                   \
    for (int j = keyBegin; j < keyEnd; j++) {                                                   \
        const int16_t *kr = k + (long)j * stride;                                               \
        int64_t s = DOT(q, kr, stride);                                                         \
        int64_t gap = threshold - s;                                                            \
        int m = 0;                                                                              \
        for (int c = 1; c < bits; c++) m += certain[c] < gap;                                   \
        int next1 = m + 1 < bits ? m + 1 : bits - 1;                                            \
        int next2 = m + 2 < bits ? m + 2 : bits - 1;                                            \
        int64_t low1 = LOWDOT(q, kr, stride, (int16_t)((1 << next1) - 1));                      \
        int64_t low2 = LOWDOT(q, kr, stride, (int16_t)((1 << next2) - 1));                      \
        int step1 = (m + 1 < bits) & (slack[next1] - low1 < gap);                               \
        int step2 = step1 & (m + 2 < bits) & (slack[next2] - low2 < gap);                       \
        m += step1 + step2;                                                                     \
        if (__builtin_expect(step2, 0)) {                                                       \
            while (m + 1 < bits) {                                                              \
                int next = m + 1;                                                               \
                int64_t low = LOWDOT(q, kr, stride, (int16_t)((1 << next) - 1));                \
                if (slack[next] - low < gap) m = next; else break;                              \
            }                                                                                   \
        }                                                                                       \
        int isKept = s >= threshold;                                                            \
        planes[j] = (uint8_t)(isKept ? bits : bits - m);                                        \
        kept[j] = (uint8_t)isKept;                                                              \
    }

static inline int32_t dot_plain(const int16_t *a, const int16_t *b, int n) {
    int32_t s = 0;
    for (int i = 0; i < n; i++) s += (int32_t)a[i] * (int32_t)b[i];
    return s;
}

static inline int32_t low_dot_plain(const int16_t *a, const int16_t *b, int n, int16_t mask) {
    int32_t s = 0;
    for (int i = 0; i < n; i++) s += (int32_t)a[i] * (int32_t)(int16_t)(b[i] & mask);
    return s;
}

static void row_plain(const int16_t *q, const int16_t *k, int keyBegin, int keyEnd, int stride, int bits,
                      int64_t threshold, const int64_t *certain, const int64_t *slack, uint8_t *planes, uint8_t *kept) {
    ROW_LOOP(dot_plain, low_dot_plain)
}

#ifdef LEOPARD_X86
static inline int32_t hsum128(__m128i acc) {
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4E));
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xB1));
    return _mm_cvtsi128_si32(acc);
}

static inline int32_t dot_sse2(const int16_t *a, const int16_t *b, int n) {
    __m128i acc = _mm_setzero_si128();
    for (int i = 0; i < n; i += 8)
        acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(a + i)),
                                                _mm_loadu_si128((const __m128i *)(b + i))));
    return hsum128(acc);
}

static inline int32_t low_dot_sse2(const int16_t *a, const int16_t *b, int n, int16_t mask) {
    __m128i acc = _mm_setzero_si128(), m = _mm_set1_epi16(mask);
    for (int i = 0; i < n; i += 8)
        acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(a + i)),
                                                _mm_and_si128(_mm_loadu_si128((const __m128i *)(b + i)), m)));
    return hsum128(acc);
}

static void row_sse2(const int16_t *q, const int16_t *k, int keyBegin, int keyEnd, int stride, int bits,
                     int64_t threshold, const int64_t *certain, const int64_t *slack, uint8_t *planes, uint8_t *kept) {
    ROW_LOOP(dot_sse2, low_dot_sse2)
}

__attribute__((target("avx2"))) static inline int32_t hsum256(__m256i acc) {
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4E));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xB1));
    return _mm_cvtsi128_si32(x);
}

__attribute__((target("avx2"))) static inline int32_t dot_avx2(const int16_t *a, const int16_t *b, int n) {
    __m256i acc = _mm256_setzero_si256();
    for (int i = 0; i < n; i += 16)
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(a + i)),
                                                      _mm256_loadu_si256((const __m256i *)(b + i))));
    return hsum256(acc);
}

__attribute__((target("avx2"))) static inline int32_t low_dot_avx2(const int16_t *a, const int16_t *b, int n, int16_t mask) {
    __m256i acc = _mm256_setzero_si256(), m = _mm256_set1_epi16(mask);
    for (int i = 0; i < n; i += 16)
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(a + i)),
                                                      _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(b + i)), m)));
    return hsum256(acc);
}

__attribute__((target("avx2"))) static void row_avx2(const int16_t *q, const int16_t *k, int keyBegin, int keyEnd,
        int stride, int bits, int64_t threshold, const int64_t *certain, const int64_t *slack, uint8_t *planes, uint8_t *kept) {
    ROW_LOOP(dot_avx2, low_dot_avx2)
}

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
// Keys across lanes: for 16 keys at once, S, and the low-bit dot products at each lane's own candidate plane,
// are sums over dimension pairs of vpmaddwd(key pairs, broadcast query pair); no horizontal reductions and no
// per-key branches. The search is the same as ROW_LOOP, lane by lane.
/// Σ over pairs of vpmaddwd(kt pairs & mask, broadcast q pair) for 16 keys; two accumulators break the add chain.
AVX512 static inline __m512i low_dots_t16(const int32_t *qPairs, const int32_t *block, int keysPadded, int pairs, __m512i mask) {
    __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
    for (int p = 0; p < pairs; p += 2) {
        a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(_mm512_and_si512(_mm512_loadu_si512((const void *)(block + (long)p * keysPadded)), mask),
                                                    _mm512_set1_epi32(qPairs[p])));
        a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(_mm512_and_si512(_mm512_loadu_si512((const void *)(block + (long)(p + 1) * keysPadded)), mask),
                                                    _mm512_set1_epi32(qPairs[p + 1])));
    }
    return _mm512_add_epi32(a0, a1);
}

AVX512 static inline __m512i lane_masks(__m512i next) {
    __m512i one = _mm512_set1_epi32(1);
    __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, next), one);
    return _mm512_or_si512(mask, _mm512_slli_epi32(mask, 16));
}

AVX512 void leopard_score_row_t16(const int32_t *qPairs, const int32_t *kt, int keysPadded, int pairs, int keyBegin,
                                  int keyEnd, int bits, int64_t threshold, const int32_t *certain, const int32_t *slack,
                                  uint8_t *planes, uint8_t *kept) {
    const __m512i one = _mm512_set1_epi32(1), lastPlane = _mm512_set1_epi32(bits - 1), bitsV = _mm512_set1_epi32(bits);
    const __m512i slackV = _mm512_loadu_si512((const void *)slack);
    const __m512i threshold64 = _mm512_set1_epi64(threshold);
    for (int j0 = keyBegin & ~15; j0 < keyEnd; j0 += 16) {
        const int32_t *block = kt + j0;
        __m512i s = low_dots_t16(qPairs, block, keysPadded, pairs, _mm512_set1_epi32(-1));
        // gap = T − S in 64 bits, saturated to int32: every comparand is below 2^31, so saturation changes nothing.
        __m512i gapLo = _mm512_sub_epi64(threshold64, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(s)));
        __m512i gapHi = _mm512_sub_epi64(threshold64, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(s, 1)));
        __m512i gap = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtsepi64_epi32(gapLo)), _mm512_cvtsepi64_epi32(gapHi), 1);
        __m512i m = _mm512_setzero_si512();
        for (int c = 1; c < bits; c++)
            m = _mm512_mask_add_epi32(m, _mm512_cmplt_epi32_mask(_mm512_set1_epi32(certain[c]), gap), m, one);
        __m512i next1 = _mm512_min_epi32(_mm512_add_epi32(m, one), lastPlane);
        __m512i next2 = _mm512_min_epi32(_mm512_add_epi32(m, _mm512_set1_epi32(2)), lastPlane);
        __m512i low1 = low_dots_t16(qPairs, block, keysPadded, pairs, lane_masks(next1));
        __m512i low2 = low_dots_t16(qPairs, block, keysPadded, pairs, lane_masks(next2));
        __m512i f1 = _mm512_sub_epi32(_mm512_permutexvar_epi32(next1, slackV), low1);
        __m512i f2 = _mm512_sub_epi32(_mm512_permutexvar_epi32(next2, slackV), low2);
        __mmask16 keptMask = _mm512_cmple_epi32_mask(gap, _mm512_setzero_si512());
        __mmask16 step1 = ~keptMask & _mm512_cmplt_epi32_mask(m, lastPlane) & _mm512_cmplt_epi32_mask(f1, gap);
        m = _mm512_mask_add_epi32(m, step1, m, one);
        __mmask16 step = step1 & _mm512_cmplt_epi32_mask(m, lastPlane) & _mm512_cmplt_epi32_mask(f2, gap);
        m = _mm512_mask_add_epi32(m, step, m, one);
        // Lanes that stepped twice may step further (rarely): continue for those lanes only.
        while (__builtin_expect(step != 0, 0)) {
            __m512i next = _mm512_min_epi32(_mm512_add_epi32(m, one), lastPlane);
            __m512i low = low_dots_t16(qPairs, block, keysPadded, pairs, lane_masks(next));
            __m512i f = _mm512_sub_epi32(_mm512_permutexvar_epi32(next, slackV), low);
            step = step & _mm512_cmplt_epi32_mask(m, lastPlane) & _mm512_cmplt_epi32_mask(f, gap);
            m = _mm512_mask_add_epi32(m, step, m, one);
        }
        __m512i planesV = _mm512_mask_blend_epi32(keptMask, _mm512_sub_epi32(bitsV, m), bitsV);
        __m512i keptV = _mm512_maskz_mov_epi32(keptMask, one);
        // Store lanes j0 + lane within [keyBegin, keyEnd).
        int lo = keyBegin > j0 ? keyBegin - j0 : 0, hi = keyEnd - j0 < 16 ? keyEnd - j0 : 16;
        __mmask16 store = (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
        _mm_mask_storeu_epi8(planes + j0, store, _mm512_cvtepi32_epi8(planesV));
        _mm_mask_storeu_epi8(kept + j0, store, _mm512_cvtepi32_epi8(keptV));
    }
}
#endif

static int kernel_level = -1;

static int detect_level(void) {
        int level = 0;
#ifdef LEOPARD_X86
        __builtin_cpu_init();
        level = 1;
        if (__builtin_cpu_supports("avx2")) level = 2;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) level = 3;
#endif
        return level;
}

int leopard_kernel_level(void) {
    if (kernel_level < 0) kernel_level = detect_level();  // idempotent: racing threads store the same value
    return kernel_level;
}

int leopard_force_kernel_level(int level) {
    int best = detect_level();
    kernel_level = level < 0 ? best : (level < best ? level : best);
    return kernel_level;
}

void leopard_score_row(const int16_t *q, const int16_t *k, int keyBegin, int keyEnd, int stride, int bits,
                       int64_t threshold, const int64_t *certain, const int64_t *slack,
                       uint8_t *planes, uint8_t *kept) {
    switch (leopard_kernel_level()) {
#ifdef LEOPARD_X86
    case 3:  // AVX-512 callers use leopard_score_row_t16; this row-major form runs at AVX2 width
    case 2: row_avx2(q, k, keyBegin, keyEnd, stride, bits, threshold, certain, slack, planes, kept); return;
    case 1: row_sse2(q, k, keyBegin, keyEnd, stride, bits, threshold, certain, slack, planes, kept); return;
#endif
    default: row_plain(q, k, keyBegin, keyEnd, stride, bits, threshold, certain, slack, planes, kept); return;
    }
}
