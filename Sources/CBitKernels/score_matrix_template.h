// The matrix kernel of the bit-serial engine's fast path, written once and compiled twice by bit_kernels.c:
// with AVX2 (S += pmaddwd) and with AVX-512 VNNI on 256-bit vectors (S = vpdpwssd, multiply-add fused).
// The includer defines KERNEL_TARGET (a target attribute string), KERNEL_SUFFIX (a name suffix) and
// DOT_ACC(acc, a, b) = acc + pmaddwd(a, b) in 8 int32 lanes.
//
// Layout (see leopard_pack_keys8): keys in blocks of 8, and within a block, for each dimension pair
// (2t, 2t+1), one 256-bit vector holding those two dimensions of the 8 keys; int32 lane l = key 8·block + l.
// Broadcasting the query's pair (q[2t], q[2t+1]) as one 32-bit value, pmaddwd gives q[2t]·k[2t] + q[2t+1]·k[2t+1]
// per key: S for 8 keys accumulates in 8 lanes with no horizontal sum. A tile of 4 queries × 16 keys shares
// every load (8 accumulators); each 8-key block of each query is then finished in 8 lanes: the gap, the
// certain-bound count, and as many low-bit passes q·(k & mask) as some lane still needs (mask per lane,
// mask16 | mask16 << 16 so that both 16-bit halves of a pair are masked), over the L1-resident block.

#define KCAT2(a, b) a##b
#define KCAT(a, b) KCAT2(a, b)
#define KFN(name) KCAT(name, KERNEL_SUFFIX)

/// Per-query constants of the search, as 8-lane vectors or scalars.
typedef struct {
    __m256i gapBase;      // clamped threshold Tc (gap = Tc − S)
    __m256i qPlus;        // Q⁺ = Σ max(q, 0)
    int32_t certain[16];  // (2^c − 1)·|q|₁ for 1 ≤ c < bits
} KFN(QueryConstants);

__attribute__((target(KERNEL_TARGET))) static inline void KFN(query_constants)(
        const int16_t *q, int stride, int bits, int64_t threshold, KFN(QueryConstants) *out) {
    int64_t qPlus = 0, qAbs = 0;
    for (int t = 0; t < stride; t++) {
        int64_t v = q[t];
        qPlus += v > 0 ? v : 0;
        qAbs += v < 0 ? -v : v;
    }
    // |S| and every bound U_m are at most |q|₁·2^(B−1) =: sMax < 2^30 (the caller's guard); clamping T into
    // [−sMax, sMax + 1] changes no comparison U_m < T nor S ≥ T, and keeps gap = Tc − S within int32.
    int64_t sMax = qAbs << (bits - 1);
    int64_t tc = threshold < -sMax ? -sMax : (threshold > sMax + 1 ? sMax + 1 : threshold);
    out->gapBase = _mm256_set1_epi32((int32_t)tc);
    out->qPlus = _mm256_set1_epi32((int32_t)qPlus);
    for (int c = 0; c < 16; c++) out->certain[c] = c < bits ? (int32_t)((((int64_t)1 << c) - 1) * qAbs) : INT32_MAX;
}

/// Finishes one 8-key block of one query from its scores S: planes and kept for the first `count` lanes.
__attribute__((target(KERNEL_TARGET))) static inline void KFN(finish_block)(
        const int16_t *q, const int16_t *kBlock, int pairs, int bits, const KFN(QueryConstants) *c,
        __m256i s, int count, uint8_t *planes, uint8_t *kept, long *counts) {
    const __m256i one = _mm256_set1_epi32(1);
    __m256i gap = _mm256_sub_epi32(c->gapBase, s);
    __m256i pruned = _mm256_cmpgt_epi32(gap, _mm256_setzero_si256());
    // m = #{1 ≤ c < bits : (2^c − 1)·|q|₁ < gap} (compare masks are −1, so subtract them).
    __m256i m = _mm256_setzero_si256();
    for (int b = 1; b < bits; b++)
        m = _mm256_sub_epi32(m, _mm256_cmpgt_epi32(gap, _mm256_set1_epi32(c->certain[b])));
    const __m256i lastPlane = _mm256_set1_epi32(bits - 1);
    // Lanes still searching: pruned and m + 1 < bits. Each pass tests f(m + 1) = (2^(m+1) − 1)·Q⁺ − q·low < gap.
    __m256i active = _mm256_and_si256(pruned, _mm256_cmpgt_epi32(lastPlane, m));
    while (!_mm256_testz_si256(active, active)) {
        __m256i next = _mm256_add_epi32(m, one);
        __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, next), one);     // 2^next − 1 (< 2^15 here)
        __m256i mask2 = _mm256_or_si256(mask, _mm256_slli_epi32(mask, 16));    // both 16-bit halves
        __m256i low = _mm256_setzero_si256();
        for (int t = 0; t < pairs; t++) {
            __m256i kv = _mm256_loadu_si256((const __m256i *)(kBlock + 16 * t));
            __m256i qv = _mm256_set1_epi32(*(const int32_t *)(q + 2 * t));
            low = DOT_ACC(low, qv, _mm256_and_si256(kv, mask2));
        }
        __m256i f = _mm256_sub_epi32(_mm256_mullo_epi32(mask, c->qPlus), low);
        __m256i step = _mm256_and_si256(active, _mm256_cmpgt_epi32(gap, f));
        m = _mm256_sub_epi32(m, step);
        active = _mm256_and_si256(step, _mm256_cmpgt_epi32(lastPlane, m));
    }
    // planes = bits − m for pruned lanes, bits for kept ones; kept = 1 − pruned.
    __m256i planeCount = _mm256_sub_epi32(_mm256_set1_epi32(bits), _mm256_and_si256(m, pruned));
    __m256i keptFlag = _mm256_add_epi32(pruned, one);
    // Narrow 8 × int32 to 8 bytes (values ≤ 16).
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    __m256i pb = _mm256_shuffle_epi8(planeCount, pick), kb = _mm256_shuffle_epi8(keptFlag, pick);
    uint64_t p8 = (uint64_t)(uint32_t)_mm256_extract_epi32(pb, 0) | (uint64_t)(uint32_t)_mm256_extract_epi32(pb, 4) << 32;
    uint64_t k8 = (uint64_t)(uint32_t)_mm256_extract_epi32(kb, 0) | (uint64_t)(uint32_t)_mm256_extract_epi32(kb, 4) << 32;
    if (count >= 8) {
        memcpy(planes, &p8, 8);
        memcpy(kept, &k8, 8);
    } else {
        memcpy(planes, &p8, (size_t)count);
        memcpy(kept, &k8, (size_t)count);
        uint64_t live = ((uint64_t)1 << (8 * count)) - 1;
        p8 &= live;
        k8 &= live;
    }
    // counts[0...16]: histogram of planes (lanes past count land in bin 0, which the caller ignores);
    // counts[17]: kept scores.
    for (int l = 0; l < 8; l++) counts[(p8 >> (8 * l)) & 0xFF]++;
    counts[17] += __builtin_popcountll(k8);
}

__attribute__((target(KERNEL_TARGET))) static void KFN(score_matrix)(
        const int16_t *q, int queryCount, const int16_t *kPacked, int keyCount, int stride,
        const int32_t *keyEnd, int bits, int64_t threshold, uint8_t *planes, uint8_t *kept, long *counts) {
    const int pairs = stride / 2;
    const long blockElements = 16L * pairs;  // int16 per 8-key block
    int i0 = 0;
    while (i0 < queryCount) {
        int rows = queryCount - i0 < 4 ? queryCount - i0 : 4;
        int maxEnd = 0;
        for (int r = 0; r < rows; r++) maxEnd = keyEnd[i0 + r] > maxEnd ? keyEnd[i0 + r] : maxEnd;
        if (maxEnd == 0) { i0 += rows; continue; }
        KFN(QueryConstants) constants[4];
        for (int r = 0; r < rows; r++)
            if (keyEnd[i0 + r] > 0) KFN(query_constants)(q + (long)(i0 + r) * stride, stride, bits, threshold, &constants[r]);
        const int16_t *q0 = q + (long)i0 * stride;
        const int16_t *q1 = q0 + (rows > 1 ? stride : 0), *q2 = q0 + (rows > 2 ? 2 * stride : 0);
        const int16_t *q3 = q0 + (rows > 3 ? 3 * stride : 0);
        // Two 8-key blocks at a time (the packed buffer holds an even number of blocks, zero-padded).
        for (int j0 = 0; j0 < maxEnd; j0 += 16) {
            const int16_t *kb0 = kPacked + (long)(j0 / 8) * blockElements, *kb1 = kb0 + blockElements;
            __m256i s00 = _mm256_setzero_si256(), s01 = _mm256_setzero_si256();
            __m256i s10 = _mm256_setzero_si256(), s11 = _mm256_setzero_si256();
            __m256i s20 = _mm256_setzero_si256(), s21 = _mm256_setzero_si256();
            __m256i s30 = _mm256_setzero_si256(), s31 = _mm256_setzero_si256();
            for (int t = 0; t < pairs; t++) {
                __m256i k0 = _mm256_loadu_si256((const __m256i *)(kb0 + 16 * t));
                __m256i k1 = _mm256_loadu_si256((const __m256i *)(kb1 + 16 * t));
                __m256i a = _mm256_set1_epi32(*(const int32_t *)(q0 + 2 * t));
                s00 = DOT_ACC(s00, a, k0); s01 = DOT_ACC(s01, a, k1);
                a = _mm256_set1_epi32(*(const int32_t *)(q1 + 2 * t));
                s10 = DOT_ACC(s10, a, k0); s11 = DOT_ACC(s11, a, k1);
                a = _mm256_set1_epi32(*(const int32_t *)(q2 + 2 * t));
                s20 = DOT_ACC(s20, a, k0); s21 = DOT_ACC(s21, a, k1);
                a = _mm256_set1_epi32(*(const int32_t *)(q3 + 2 * t));
                s30 = DOT_ACC(s30, a, k0); s31 = DOT_ACC(s31, a, k1);
            }
            __m256i sums[4][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}};
            for (int r = 0; r < rows; r++) {
                int end = keyEnd[i0 + r];
                const int16_t *qr = q + (long)(i0 + r) * stride;
                long rowOffset = (long)(i0 + r) * keyCount;
                for (int half = 0; half < 2; half++) {
                    int j = j0 + 8 * half;
                    if (j >= end) break;
                    int count = end - j < 8 ? end - j : 8;
                    KFN(finish_block)(qr, half ? kb1 : kb0, pairs, bits, &constants[r], sums[r][half], count,
                                      planes + rowOffset + j, kept + rowOffset + j, counts);
                }
            }
        }
        i0 += rows;
    }
}

#undef KFN
#undef KCAT
#undef KCAT2
