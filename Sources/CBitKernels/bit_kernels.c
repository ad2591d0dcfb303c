// See include/bit_kernels.h. The search after S < T: the largest m whose certain bound (2^m − 1)·|q|₁ is below
// the gap G = T − S, then step up while f(m + 1) = slack[m + 1] − q·(k mod 2^(m+1)) < G (BitSerialEngine.swift
// derives f and why this gives exactly the plane at which the hardware terminates).
#include "bit_kernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define LEOPARD_X86 1
#endif

// Written to avoid unpredictable branches (they dominated the time): the certain bound is counted with a
// fixed-length loop, and the first two step-up candidates are evaluated for every key, kept or not (both
// low-bit dot products in one pass over the key); only the rare case of a third step (and beyond) loops.
// (Computing m from a floating-point quotient instead of the counting loop was measured slower.)
#define ROW_LOOP(DOT, LOWDOTS2, LOWDOT, COUNT)                                                         \
    for (int j = keyBegin; j < keyEnd; j++) {                                                   \
        const int16_t *kr = k + (long)j * stride;                                               \
        int64_t s = DOT(q, kr, stride);                                                         \
        int64_t gap = threshold - s;                                                            \
        int m = COUNT(certain, gap, bits);                                                      \
        int next1 = m + 1 < bits ? m + 1 : bits - 1;                                            \
        int next2 = m + 2 < bits ? m + 2 : bits - 1;                                            \
        int32_t low1, low2;                                                                     \
        LOWDOTS2(q, kr, stride, (int16_t)((1 << next1) - 1), (int16_t)((1 << next2) - 1), &low1, &low2); \
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

/// The number of c in 1..<bits with certain[c] < gap: the largest m whose certain bound is below the gap.
static inline int count_certain(const int64_t *certain, int64_t gap, int bits) {
    int m = 0;
    for (int c = 1; c < bits; c++) m += certain[c] < gap;
    return m;
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

static inline void low_dots2_plain(const int16_t *a, const int16_t *b, int n, int16_t mask1, int16_t mask2,
                                   int32_t *out1, int32_t *out2) {
    *out1 = low_dot_plain(a, b, n, mask1);
    *out2 = low_dot_plain(a, b, n, mask2);
}

static void row_plain(const int16_t *q, const int16_t *k, int keyBegin, int keyEnd, int stride, int bits,
                      int64_t threshold, const int64_t *certain, const int64_t *slack, uint8_t *planes, uint8_t *kept) {
    ROW_LOOP(dot_plain, low_dots2_plain, low_dot_plain, count_certain)
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

static inline void low_dots2_sse2(const int16_t *a, const int16_t *b, int n, int16_t mask1, int16_t mask2,
                                  int32_t *out1, int32_t *out2) {
    __m128i acc1 = _mm_setzero_si128(), acc2 = _mm_setzero_si128();
    __m128i m1 = _mm_set1_epi16(mask1), m2 = _mm_set1_epi16(mask2);
    for (int i = 0; i < n; i += 8) {
        __m128i x = _mm_loadu_si128((const __m128i *)(a + i)), y = _mm_loadu_si128((const __m128i *)(b + i));
        acc1 = _mm_add_epi32(acc1, _mm_madd_epi16(x, _mm_and_si128(y, m1)));
        acc2 = _mm_add_epi32(acc2, _mm_madd_epi16(x, _mm_and_si128(y, m2)));
    }
    *out1 = hsum128(acc1);
    *out2 = hsum128(acc2);
}

static void row_sse2(const int16_t *q, const int16_t *k, int keyBegin, int keyEnd, int stride, int bits,
                     int64_t threshold, const int64_t *certain, const int64_t *slack, uint8_t *planes, uint8_t *kept) {
    ROW_LOOP(dot_sse2, low_dots2_sse2, low_dot_sse2, count_certain)
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

__attribute__((target("avx2"))) static inline void low_dots2_avx2(const int16_t *a, const int16_t *b, int n,
        int16_t mask1, int16_t mask2, int32_t *out1, int32_t *out2) {
    __m256i acc1 = _mm256_setzero_si256(), acc2 = _mm256_setzero_si256();
    __m256i m1 = _mm256_set1_epi16(mask1), m2 = _mm256_set1_epi16(mask2);
    for (int i = 0; i < n; i += 16) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(a + i)), y = _mm256_loadu_si256((const __m256i *)(b + i));
        acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(x, _mm256_and_si256(y, m1)));
        acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(x, _mm256_and_si256(y, m2)));
    }
    // Both reductions at once: pairwise sums of both accumulators, then across the two 128-bit halves.
    __m256i pairs = _mm256_hadd_epi32(acc1, acc2);
    __m128i sums = _mm_add_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
    sums = _mm_hadd_epi32(sums, sums);
    *out1 = _mm_cvtsi128_si32(sums);
    *out2 = _mm_extract_epi32(sums, 1);
}

/// count_certain with four 64-bit compares per instruction; certain has 16 entries, those at or past `bits`
/// (and entry 0, which is 0 and never counted) are handled by the caller's padding with INT64_MAX and a mask.
__attribute__((target("avx2"))) static inline int count_certain_avx2(const int64_t *certain, int64_t gap, int bits) {
    __m256i g = _mm256_set1_epi64x(gap);
    int below = 0;
    for (int c = 0; c < 16; c += 4) {
        __m256i t = _mm256_loadu_si256((const __m256i *)(certain + c));
        below |= _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(g, t))) << c;
    }
    (void)bits;
    return __builtin_popcount(below & 0xFFFE);
}

__attribute__((target("avx2"))) static void row_avx2(const int16_t *q, const int16_t *k, int keyBegin, int keyEnd,
        int stride, int bits, int64_t threshold, const int64_t *certain, const int64_t *slack, uint8_t *planes, uint8_t *kept) {
    ROW_LOOP(dot_avx2, low_dots2_avx2, low_dot_avx2, count_certain_avx2)
}

// The matrix kernel (score_matrix_template.h), once per instruction set.
#define KERNEL_TARGET "avx2"
#define KERNEL_SUFFIX _avx2
#define DOT_ACC(acc, a, b) _mm256_add_epi32(acc, _mm256_madd_epi16(a, b))
#include "score_matrix_template.h"
#undef KERNEL_TARGET
#undef KERNEL_SUFFIX
#undef DOT_ACC

#define KERNEL_TARGET "avx2,avx512f,avx512vl,avx512bw,avx512cd,avx512vnni"
#define KERNEL_HAS_ZMM 1
#define KERNEL_SUFFIX _vnni
#define KERNEL_HAS_LZCNT 1
#define DOT_ACC(acc, a, b) _mm256_dpwssd_epi32(acc, a, b)
#include "score_matrix_template.h"
#undef KERNEL_TARGET
#undef KERNEL_SUFFIX
#undef KERNEL_HAS_LZCNT
#undef KERNEL_HAS_ZMM
#undef DOT_ACC

#endif

static int kernel_level = -1;

static int detect_level(void) {
        int level = 0;
#ifdef LEOPARD_X86
        __builtin_cpu_init();
        level = 1;
        if (__builtin_cpu_supports("avx2")) level = 2;
        if (level == 2 && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512vnni")) level = 3;
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
    // Clamp T into [−sMax, sMax + 1], sMax = |q|₁·2^(B−1) (certain[1] = |q|₁): |S| and every bound are at most
    // sMax, so no comparison changes, and the gap T − S can no longer overflow (T near Int64's ends, e.g. from a
    // trace's meta.json, made it wrap).
    const int64_t sMax = certain[1] << (bits - 1);
    threshold = threshold < -sMax ? -sMax : (threshold > sMax + 1 ? sMax + 1 : threshold);
    switch (leopard_kernel_level()) {
#ifdef LEOPARD_X86
    case 3:
    case 2: row_avx2(q, k, keyBegin, keyEnd, stride, bits, threshold, certain, slack, planes, kept); return;
    case 1: row_sse2(q, k, keyBegin, keyEnd, stride, bits, threshold, certain, slack, planes, kept); return;
#endif
    default: row_plain(q, k, keyBegin, keyEnd, stride, bits, threshold, certain, slack, planes, kept); return;
    }
}

int leopard_matrix_kernel_available(int stride, int bits) {
    // |S|, every bound and every gap must fit int32 with room for Tc − S: stride·2^(2B−2) < 2^30.
    double worst = (double)stride * (double)((int64_t)1 << (2 * bits - 2));
    return leopard_kernel_level() >= 2 && bits >= 2 && bits <= 16 && stride % LEOPARD_ROW_ALIGN == 0
        && worst < (double)(1 << 30);
}

long leopard_packed_keys8_count(int keyCount, int stride) {
    long blocks = (keyCount + 15) / 16 * 2;  // whole 16-key blocks
    return blocks * 8 * stride;
}

void leopard_pack_rows(const int32_t *values, int rowCount, int d, int stride, int16_t *out) {
    for (int r = 0; r < rowCount; r++) {
        const int32_t *src = values + (long)r * d;
        int16_t *dst = out + (long)r * stride;
        for (int t = 0; t < d; t++) dst[t] = (int16_t)src[t];
        for (int t = d; t < stride; t++) dst[t] = 0;
    }
}

void leopard_pack_keys8(const int32_t *k, int keyCount, int d, int stride, int16_t *out) {
    long total = leopard_packed_keys8_count(keyCount, stride);
    memset(out, 0, (size_t)total * sizeof(int16_t));
    const int pairs = stride / 2;
    for (int j = 0; j < keyCount; j++) {
        int16_t *block = out + (long)(j / 16) * 32 * pairs;
        int lane = j % 16;
        const int32_t *src = k + (long)j * d;
        for (int t = 0; t < d; t++) block[32 * (t / 2) + 2 * lane + (t % 2)] = (int16_t)src[t];
    }
}

void leopard_score_matrix(const int16_t *q, int queryCount, const int16_t *kPacked, const int16_t *kRows,
                          int keyCount, int stride, const int32_t *keyEnd, int bits, int64_t threshold,
                          uint8_t *planes, uint8_t *kept, long *counts) {
    // A level forced below 2 (tests) while a caller had already chosen this path still runs the AVX2 kernel.
    int level = leopard_kernel_level();
    if (level < 2 && detect_level() >= 2) level = 2;
    switch (level) {
#ifdef LEOPARD_X86
    case 3: score_matrix_vnni(q, queryCount, kPacked, kRows, keyCount, stride, keyEnd, bits, threshold, planes, kept, counts); return;
    case 2: score_matrix_avx2(q, queryCount, kPacked, kRows, keyCount, stride, keyEnd, bits, threshold, planes, kept, counts); return;
#endif
    default: __builtin_trap();  // callers check leopard_matrix_kernel_available first
    }
}
