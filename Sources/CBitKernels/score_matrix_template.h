// The matrix kernel of the bit-serial engine's fast path, written once and compiled twice by bit_kernels.c: with
// AVX2 (256-bit vectors, S += pmaddwd) and with AVX-512 VNNI (KERNEL_HAS_ZMM: 512-bit vectors, S = vpdpwssd,
// multiply-add fused). The includer defines KERNEL_TARGET (a target attribute string), KERNEL_SUFFIX (a name
// suffix) and DOT_ACC(acc, a, b) = acc + pmaddwd(a, b) in 8 int32 lanes.
//
// Layout (see leopard_pack_keys8): keys in blocks of 16, and within a block, for each dimension pair (2t, 2t+1),
// 64 bytes holding those two dimensions of the 16 keys; int32 lane l = key 16·block + l. Broadcasting the
// query's pair (q[2t], q[2t+1]) as one 32-bit value, pmaddwd gives q[2t]·k[2t] + q[2t+1]·k[2t+1] per key: S for
// 16 keys accumulates in 16 lanes with no horizontal sum. A tile is 4 queries × 16 keys sharing every load.
// Per query and key the search then needs: the gap T − S, the certain-bound count m (leading-zero counts), and
// tests f(m + 1) < gap, f(x) = (2^x − 1)·Q⁺ − q·(k mod 2^x), as masked products q·(k & mask) with a mask per
// lane (mask16 | mask16 << 16 so that both 16-bit halves of a pair are masked). On Gaussian data about 93% of
// pruned scores pass the first test and 95% fail the second, so the first two tests run for the whole tile in
// one pass over its keys; the ~3% of scores still searching after them (a third test almost never passes) are
// finished afterwards one at a time on row-major copies of the keys (AVX2: marked with kept = 2 and found by a
// scan; VNNI: collected by a compress per query and tile). Both versions give identical results.

#define KCAT2(a, b) a##b
#define KCAT(a, b) KCAT2(a, b)
#define KFN(name) KCAT(name, KERNEL_SUFFIX)

/// The 32 bits of a query's dimension pair (q[2t], q[2t+1]), for broadcasting (memcpy: no aliasing of int16
/// data through an int32 pointer; compiles to the same load).
static inline int32_t KFN(pair_bits)(const int16_t *pair) {
    int32_t bits;
    memcpy(&bits, pair, sizeof bits);
    return bits;
}

/// The per-query scalars of the search: Q⁺ = Σ max(q, 0), A = |q|₁, and the threshold clamped into
/// [−sMax, sMax + 1] with sMax = A·2^(B−1): |S| and every bound U_m are at most sMax < 2^30 (the caller's guard),
/// so clamping changes no comparison U_m < T nor S ≥ T, and keeps every gap Tc − S within int32.
__attribute__((target(KERNEL_TARGET))) static inline void KFN(query_scalars)(
        const int16_t *q, int stride, int bits, int64_t threshold, int64_t *qPlus, int64_t *qAbs, int64_t *tc) {
    int64_t plus = 0, abs = 0;
    for (int t = 0; t < stride; t++) {
        int64_t v = q[t];
        plus += v > 0 ? v : 0;
        abs += v < 0 ? -v : v;
    }
    int64_t sMax = abs << (bits - 1);
    *qPlus = plus;
    *qAbs = abs;
    *tc = threshold < -sMax ? -sMax : (threshold > sMax + 1 ? sMax + 1 : threshold);
}

#ifndef KERNEL_HAS_ZMM
/// Per-query constants of the search, as 8-lane vectors or scalars.
typedef struct {
    __m256i gapBase;      // clamped threshold Tc (gap = Tc − S)
    __m256i qPlus;        // Q⁺ = Σ max(q, 0)
    __m256i qAbs;         // A = |q|₁
    __m256i qAbsZeros;    // leading zeros of A (64 when A = 0: every certain bound is 0 then)
    int32_t certain[16];  // (2^c − 1)·|q|₁ for 1 ≤ c < bits
} KFN(QueryConstants);

__attribute__((target(KERNEL_TARGET))) static inline void KFN(query_constants)(
        const int16_t *q, int stride, int bits, int64_t threshold, KFN(QueryConstants) *out) {
    int64_t qPlus, qAbs, tc;
    KFN(query_scalars)(q, stride, bits, threshold, &qPlus, &qAbs, &tc);
    out->gapBase = _mm256_set1_epi32((int32_t)tc);
    out->qPlus = _mm256_set1_epi32((int32_t)qPlus);
    out->qAbs = _mm256_set1_epi32((int32_t)qAbs);
    out->qAbsZeros = _mm256_set1_epi32(qAbs > 0 ? __builtin_clz((unsigned)qAbs) : 64);
    for (int c = 0; c < 16; c++) out->certain[c] = c < bits ? (int32_t)((((int64_t)1 << c) - 1) * qAbs) : INT32_MAX;
}

/// The search state of one 8-key block of one query (8 int32 lanes): gap = Tc − S, pruned = gap > 0 (−1/0),
/// m = planes known to be skippable so far, active = lanes whose m may still grow.
typedef struct {
    __m256i gap, pruned, m, active;
} KFN(BlockSearch);

/// Starts the search from S: m = #{1 ≤ c < bits : (2^c − 1)·|q|₁ < gap} (compare masks are −1: subtract them;
/// with AVX-512 CD, from leading-zero counts and one exact test);
/// active = pruned and m + 1 < bits. `valid` false gives an inactive block (nothing to do).
__attribute__((target(KERNEL_TARGET))) static inline KFN(BlockSearch) KFN(start_search)(
        const KFN(QueryConstants) *c, __m256i s, int bits, int valid) {
    KFN(BlockSearch) b;
    b.gap = _mm256_sub_epi32(c->gapBase, s);
    b.pruned = _mm256_cmpgt_epi32(b.gap, _mm256_setzero_si256());
#ifdef KERNEL_HAS_LZCNT
    // (2^x − 1)·A < gap ⇔ 2^x·A < y = gap + A. With x* = ⌊log2 y⌋ − ⌊log2 A⌋ (leading-zero counts), 2^x·A < y
    // holds for every x < x* and fails for every x > x*, so the largest such x is x* − 1 + [2^x*·A < y]
    // (2^x*·A < 2^(⌊log2 y⌋+1) < 2^32: exact as unsigned 32 bits); m is that, at most bits − 1, for pruned
    // lanes (y > A there, so x = 0 qualifies). Other lanes' m is unused.
    __m256i y = _mm256_add_epi32(b.gap, c->qAbs);
    __m256i top = _mm256_sub_epi32(c->qAbsZeros, _mm256_lzcnt_epi32(y));
    __mmask8 fits = _mm256_cmplt_epu32_mask(_mm256_sllv_epi32(c->qAbs, top), y);
    __m256i m = _mm256_mask_add_epi32(_mm256_sub_epi32(top, _mm256_set1_epi32(1)), fits, top, _mm256_setzero_si256());
    m = _mm256_min_epi32(_mm256_max_epi32(m, _mm256_setzero_si256()), _mm256_set1_epi32(bits - 1));
#else
    __m256i m = _mm256_setzero_si256();
    for (int x = 1; x < bits; x++)
        m = _mm256_sub_epi32(m, _mm256_cmpgt_epi32(b.gap, _mm256_set1_epi32(c->certain[x])));
#endif
    b.m = m;
    b.active = valid ? _mm256_and_si256(b.pruned, _mm256_cmpgt_epi32(_mm256_set1_epi32(bits - 1), m))
                     : _mm256_setzero_si256();
    return b;
}

/// 2^(m+1) − 1 per lane: the mask of the low m + 1 bits (< 2^15 for active lanes).
__attribute__((target(KERNEL_TARGET))) static inline __m256i KFN(low_mask)(__m256i m) {
    const __m256i one = _mm256_set1_epi32(1);
    return _mm256_sub_epi32(_mm256_sllv_epi32(one, _mm256_add_epi32(m, one)), one);
}

/// The mask on both 16-bit halves of each 32-bit lane (a lane holds one key's dimension pair).
__attribute__((target(KERNEL_TARGET))) static inline __m256i KFN(pair_mask)(__m256i mask) {
    return _mm256_or_si256(mask, _mm256_slli_epi32(mask, 16));
}

/// One step: f(m + 1) = (2^(m+1) − 1)·Q⁺ − q·low_{m+1}(k); active lanes with f < gap skip one more plane.
__attribute__((target(KERNEL_TARGET))) static inline void KFN(step)(
        KFN(BlockSearch) *b, __m256i mask, __m256i low, __m256i qPlus, int bits) {
    __m256i f = _mm256_sub_epi32(_mm256_mullo_epi32(mask, qPlus), low);
    __m256i step = _mm256_and_si256(b->active, _mm256_cmpgt_epi32(b->gap, f));
    b->m = _mm256_sub_epi32(b->m, step);
    b->active = _mm256_and_si256(step, _mm256_cmpgt_epi32(_mm256_set1_epi32(bits - 1), b->m));
}
#endif

/// q·(k >> shift) for one key on its row-major copy (stride a multiple of 16; arithmetic shift, so k >> shift
/// = ⌊k / 2^shift⌋: the value of the key's top bits).
__attribute__((target(KERNEL_TARGET))) static inline int32_t KFN(row_high_dot)(
        const int16_t *q, const int16_t *k, int stride, int shift) {
    const __m128i count = _mm_cvtsi32_si128(shift);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0;
    int t = 0;
    for (; t + 32 <= stride; t += 32) {
        a0 = DOT_ACC(a0, _mm256_loadu_si256((const __m256i *)(q + t)),
                     _mm256_sra_epi16(_mm256_loadu_si256((const __m256i *)(k + t)), count));
        a1 = DOT_ACC(a1, _mm256_loadu_si256((const __m256i *)(q + t + 16)),
                     _mm256_sra_epi16(_mm256_loadu_si256((const __m256i *)(k + t + 16)), count));
    }
    if (t < stride)
        a0 = DOT_ACC(a0, _mm256_loadu_si256((const __m256i *)(q + t)),
                     _mm256_sra_epi16(_mm256_loadu_si256((const __m256i *)(k + t)), count));
    __m256i a = _mm256_add_epi32(a0, a1);
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4E));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xB1));
    return _mm_cvtsi128_si32(x);
}

/// Q⁺ = Σ max(q, 0) of a padded query row (positive parts summed in pairs by pmaddwd).
__attribute__((target(KERNEL_TARGET))) static inline int64_t KFN(row_q_plus)(const int16_t *q, int stride) {
    __m256i sum = _mm256_setzero_si256();
    for (int t = 0; t < stride; t += 16)
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_max_epi16(_mm256_loadu_si256((const __m256i *)(q + t)),
                                                                       _mm256_setzero_si256()),
                                                      _mm256_set1_epi16(1)));
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
    return _mm_cvtsi128_si32(h);
}

/// The search of one score from m on, one plane at a time with the hardware's own bound: while m + 1 < bits and
/// U_s = 2^s·q·(k >> s) + (2^s − 1)·Q⁺ < T for s = m + 1, one more plane is skippable (the same test as
/// step()'s f(s) < gap, since U_s = S + f(s)). Returns the final m.
__attribute__((target(KERNEL_TARGET))) static inline int KFN(finish_score)(
        const int16_t *q, const int16_t *k, int stride, int bits, int64_t threshold, int64_t qPlus, int m) {
    while (m + 1 < bits) {
        int shift = m + 1;
        int64_t bound = (int64_t)KFN(row_high_dot)(q, k, stride, shift) * ((int64_t)1 << shift) + (((int64_t)1 << shift) - 1) * qPlus;
        if (bound < threshold) m++; else break;
    }
    return m;
}


#ifndef KERNEL_HAS_ZMM
/// Scores still searching after the first two steps (both tests passed: about 3% of scores on Gaussian data,
/// and a third test almost never passes) are stored with kept = 2 (they are pruned) and finished here, after
/// the tiles: one scan of the call's kept bytes finds them, and each goes on one plane at a time with the
/// hardware's own bound, U_s = 2^s·q·(k >> s) + (2^s − 1)·Q⁺ < T for s = m + 1 (the same test as step()'s
/// f(m + 1) < gap, since U_s = S + f(s)), on the keys' row-major copies; then planes = bits − m and kept = 0.
/// (Finishing them inside the tiles, block by block or queued, cost a branch mispredict or two per block.)
__attribute__((target(KERNEL_TARGET))) static void KFN(finish_marked)(
        const int16_t *q, const int16_t *kRows, int queryCount, int keyCount, int stride, int bits,
        int64_t threshold, uint8_t *planes, uint8_t *kept) {
    const __m256i two = _mm256_set1_epi8(2);
    for (int i = 0; i < queryCount; i++) {
        uint8_t *keptRow = kept + (long)i * keyCount, *planesRow = planes + (long)i * keyCount;
        const int16_t *qRow = q + (long)i * stride;
        int64_t qPlus = -1;  // Q⁺ of the row, computed when a marked score needs it
        for (int j0 = 0; j0 < keyCount; j0 += 32) {
            uint32_t marked;
            if (j0 + 32 <= keyCount) {
                marked = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(keptRow + j0)), two));
            } else {
                marked = 0;
                for (int j = j0; j < keyCount; j++) marked |= (uint32_t)(keptRow[j] == 2) << (j - j0);
            }
            while (marked) {
                int j = j0 + __builtin_ctz(marked);
                marked &= marked - 1;
                if (qPlus < 0) qPlus = KFN(row_q_plus)(qRow, stride);
                int m = KFN(finish_score)(qRow, kRows + (long)j * stride, stride, bits, threshold, qPlus, bits - planesRow[j]);
                planesRow[j] = (uint8_t)(bits - m);
                keptRow[j] = 0;
            }
        }
    }
}

/// Writes planes (bits − m if pruned, bits if kept) and kept (1 − pruned, or 2 for lanes still searching: see
/// finish_marked) for the first `count` lanes.
__attribute__((target(KERNEL_TARGET))) static inline void KFN(store_block)(
        const KFN(BlockSearch) *b, int bits, int count, uint8_t *planes, uint8_t *kept) {
    __m256i planeCount = _mm256_sub_epi32(_mm256_set1_epi32(bits), _mm256_and_si256(b->m, b->pruned));
    __m256i keptFlag = _mm256_add_epi32(_mm256_add_epi32(b->pruned, _mm256_set1_epi32(1)),
                                        _mm256_and_si256(b->active, _mm256_set1_epi32(2)));
    // Narrow 8 × int32 (values ≤ 16) to 8 bytes.
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
    }
}
#endif

/// counts[v] += #{bytes of planes equal to v} for 1 ≤ v ≤ bins, counts[17] += Σ kept (bytes 0/1), over n bytes.
/// Byte counters (cmpeq masks are −1: subtract them) flushed with psadbw before they can wrap. Inlined with a
/// constant `bins` (= bits: no plane count exceeds it) so the counters stay in registers.
__attribute__((target(KERNEL_TARGET), always_inline)) static inline void KFN(count_planes_bins)(
        const uint8_t *planes, const uint8_t *kept, long n, long *counts, const int bins) {
    const __m256i zero = _mm256_setzero_si256();
    long i = 0;
    while (i + 32 <= n) {
        __m256i acc[17];
        for (int v = 0; v <= bins; v++) acc[v] = zero;
        long chunkEnd = n - i < 255 * 32 ? i + (n - i) / 32 * 32 : i + 255 * 32;
        for (; i < chunkEnd; i += 32) {
            __m256i p = _mm256_loadu_si256((const __m256i *)(planes + i));
            for (int v = 1; v <= bins; v++) acc[v] = _mm256_sub_epi8(acc[v], _mm256_cmpeq_epi8(p, _mm256_set1_epi8((char)v)));
            acc[0] = _mm256_add_epi8(acc[0], _mm256_loadu_si256((const __m256i *)(kept + i)));
        }
        for (int v = 0; v <= bins; v++) {
            __m256i sums = _mm256_sad_epu8(acc[v], zero);
            long total = _mm256_extract_epi64(sums, 0) + _mm256_extract_epi64(sums, 1)
                       + _mm256_extract_epi64(sums, 2) + _mm256_extract_epi64(sums, 3);
            counts[v == 0 ? 17 : v] += total;
        }
    }
    for (; i < n; i++) {
        counts[planes[i]]++;
        counts[17] += kept[i];
    }
}

__attribute__((target(KERNEL_TARGET))) static void KFN(count_planes)(
        const uint8_t *planes, const uint8_t *kept, long n, long *counts, int bits) {
    switch (bits) {
    case 2: KFN(count_planes_bins)(planes, kept, n, counts, 2); break;
    case 3: KFN(count_planes_bins)(planes, kept, n, counts, 3); break;
    case 4: KFN(count_planes_bins)(planes, kept, n, counts, 4); break;
    case 5: KFN(count_planes_bins)(planes, kept, n, counts, 5); break;
    case 6: KFN(count_planes_bins)(planes, kept, n, counts, 6); break;
    case 7: KFN(count_planes_bins)(planes, kept, n, counts, 7); break;
    case 8: KFN(count_planes_bins)(planes, kept, n, counts, 8); break;
    case 9: KFN(count_planes_bins)(planes, kept, n, counts, 9); break;
    case 10: KFN(count_planes_bins)(planes, kept, n, counts, 10); break;
    case 11: KFN(count_planes_bins)(planes, kept, n, counts, 11); break;
    case 12: KFN(count_planes_bins)(planes, kept, n, counts, 12); break;
    default: KFN(count_planes_bins)(planes, kept, n, counts, 16); break;
    }
}

#ifndef KERNEL_HAS_ZMM
/// The first two steps for one 8-key block of the tile's 4 query rows in one pass.
__attribute__((target(KERNEL_TARGET))) static inline void KFN(block_two_steps)(
        KFN(BlockSearch) *s0, KFN(BlockSearch) *s1, KFN(BlockSearch) *s2, KFN(BlockSearch) *s3,
        const int16_t *const qr[4], const int16_t *kb, int pairs,
        const KFN(QueryConstants) constants[4], int bits) {
    const __m256i one = _mm256_set1_epi32(1);
    KFN(BlockSearch) *sr[4] = {s0, s1, s2, s3};
    __m256i mask1[4], mask2[4], pair1[4], pair2[4], low1[4], low2[4];
    for (int r = 0; r < 4; r++) {
        mask1[r] = KFN(low_mask)(sr[r]->m);
        mask2[r] = _mm256_or_si256(_mm256_slli_epi32(mask1[r], 1), one);  // 2^(m+2) − 1
        pair1[r] = KFN(pair_mask)(mask1[r]);
        pair2[r] = KFN(pair_mask)(mask2[r]);
        low1[r] = _mm256_setzero_si256();
        low2[r] = _mm256_setzero_si256();
    }
    const int16_t *q0 = qr[0], *q1 = qr[1], *q2 = qr[2], *q3 = qr[3];
    for (int t = 0; t < pairs; t++) {
        __m256i k = _mm256_loadu_si256((const __m256i *)(kb + 32 * t));
        __m256i a = _mm256_set1_epi32(KFN(pair_bits)(q0 + 2 * t));
        low1[0] = DOT_ACC(low1[0], a, _mm256_and_si256(k, pair1[0]));
        low2[0] = DOT_ACC(low2[0], a, _mm256_and_si256(k, pair2[0]));
        a = _mm256_set1_epi32(KFN(pair_bits)(q1 + 2 * t));
        low1[1] = DOT_ACC(low1[1], a, _mm256_and_si256(k, pair1[1]));
        low2[1] = DOT_ACC(low2[1], a, _mm256_and_si256(k, pair2[1]));
        a = _mm256_set1_epi32(KFN(pair_bits)(q2 + 2 * t));
        low1[2] = DOT_ACC(low1[2], a, _mm256_and_si256(k, pair1[2]));
        low2[2] = DOT_ACC(low2[2], a, _mm256_and_si256(k, pair2[2]));
        a = _mm256_set1_epi32(KFN(pair_bits)(q3 + 2 * t));
        low1[3] = DOT_ACC(low1[3], a, _mm256_and_si256(k, pair1[3]));
        low2[3] = DOT_ACC(low2[3], a, _mm256_and_si256(k, pair2[3]));
    }
    for (int r = 0; r < 4; r++) {
        KFN(step)(sr[r], mask1[r], low1[r], constants[r].qPlus, bits);
        KFN(step)(sr[r], mask2[r], low2[r], constants[r].qPlus, bits);
    }
}

__attribute__((target(KERNEL_TARGET))) static void KFN(score_matrix)(
        const int16_t *q, int queryCount, const int16_t *kPacked, const int16_t *kRows, int keyCount, int stride,
        const int32_t *keyEnd, int bits, int64_t threshold, uint8_t *planes, uint8_t *kept, long *counts) {
    const int pairs = stride / 2;
    const long blockElements = 32L * pairs;  // int16 per 16-key block
    // Entries past each query's valid keys (whole rows for masked queries) are 0 in both outputs.
    for (int i = 0; i < queryCount; i++) {
        int end = keyEnd[i];
        memset(planes + (long)i * keyCount + end, 0, (size_t)(keyCount - end));
        memset(kept + (long)i * keyCount + end, 0, (size_t)(keyCount - end));
    }
    int i0 = 0;
    while (i0 < queryCount) {
        int rows = queryCount - i0 < 4 ? queryCount - i0 : 4;
        int maxEnd = 0;
        for (int r = 0; r < rows; r++) maxEnd = keyEnd[i0 + r] > maxEnd ? keyEnd[i0 + r] : maxEnd;
        if (maxEnd == 0) { i0 += rows; continue; }
        KFN(QueryConstants) constants[4];
        for (int r = 0; r < rows; r++)  // (masked rows too: their lanes are never used, but stay defined)
            KFN(query_constants)(q + (long)(i0 + r) * stride, stride, bits, threshold, &constants[r]);
        // Rows past the end of a partial tile repeat row 0 (computed, never used).
        const int16_t *qr[4];
        for (int r = 0; r < 4; r++) qr[r] = q + (long)(i0 + (r < rows ? r : 0)) * stride;
        // One 16-key block at a time, as two 8-lane halves (the packed buffer holds whole blocks, zero-padded).
        for (int j0 = 0; j0 < maxEnd; j0 += 16) {
            const int16_t *kb[2];
            kb[0] = kPacked + (long)(j0 / 16) * blockElements;  // keys j0..j0+7 at kb[0] + 32·t, j0+8.. at kb[1] + 32·t
            kb[1] = kb[0] + 16;
            __m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00;
            __m256i s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            for (int t = 0; t < pairs; t++) {
                __m256i k0 = _mm256_loadu_si256((const __m256i *)(kb[0] + 32 * t));
                __m256i k1 = _mm256_loadu_si256((const __m256i *)(kb[1] + 32 * t));
                __m256i a = _mm256_set1_epi32(KFN(pair_bits)(qr[0] + 2 * t));
                s00 = DOT_ACC(s00, a, k0); s01 = DOT_ACC(s01, a, k1);
                a = _mm256_set1_epi32(KFN(pair_bits)(qr[1] + 2 * t));
                s10 = DOT_ACC(s10, a, k0); s11 = DOT_ACC(s11, a, k1);
                a = _mm256_set1_epi32(KFN(pair_bits)(qr[2] + 2 * t));
                s20 = DOT_ACC(s20, a, k0); s21 = DOT_ACC(s21, a, k1);
                a = _mm256_set1_epi32(KFN(pair_bits)(qr[3] + 2 * t));
                s30 = DOT_ACC(s30, a, k0); s31 = DOT_ACC(s31, a, k1);
            }
            __m256i sums[4][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}};
            KFN(BlockSearch) search[4][2];
            for (int r = 0; r < 4; r++) {
                for (int h = 0; h < 2; h++) {
                    int valid = r < rows && j0 + 8 * h < keyEnd[i0 + r];
                    search[r][h] = KFN(start_search)(&constants[r < rows ? r : 0], sums[r][h], bits, valid);
                }
            }
            // The first two steps, two query rows at a time (rows with no searching lane skip them); then the
            // few lanes that passed both go on one at a time.
            for (int h = 0; h < 2; h++) {
                __m256i any = _mm256_or_si256(_mm256_or_si256(search[0][h].active, search[1][h].active),
                                              _mm256_or_si256(search[2][h].active, search[3][h].active));
                if (_mm256_testz_si256(any, any)) continue;
                KFN(block_two_steps)(&search[0][h], &search[1][h], &search[2][h], &search[3][h], qr, kb[h], pairs, constants, bits);
            }
            for (int r = 0; r < rows; r++) {
                int end = keyEnd[i0 + r];
                long rowOffset = (long)(i0 + r) * keyCount;
                for (int h = 0; h < 2; h++) {
                    int j = j0 + 8 * h;
                    if (j >= end) break;
                    int lanes = end - j < 8 ? end - j : 8;
                    KFN(store_block)(&search[r][h], bits, lanes, planes + rowOffset + j, kept + rowOffset + j);
                }
            }
        }
        i0 += rows;
    }
    KFN(finish_marked)(q, kRows, queryCount, keyCount, stride, bits, threshold, planes, kept);
    KFN(count_planes)(planes, kept, (long)queryCount * keyCount, counts, bits);
}
#endif

#ifdef KERNEL_HAS_ZMM
// The same kernel on 512-bit vectors (AVX-512 VNNI): a tile is 4 queries × 16 keys, each query's 16 keys one
// vector, and the search state per query is one vector of m and gap and two 16-bit masks (pruned, searching)
// instead of two 8-lane blocks of four vectors: half the instructions, which the 256-bit version was bound by.
// Scores still searching after the first two tests are collected (a compress per query and tile, no branch)
// and finished after the tiles (finish_found). Same arithmetic as the 256-bit version, so the same results.

/// Per-query constants of the search.
typedef struct {
    __m512i gapBase;    // clamped threshold Tc (gap = Tc − S)
    __m512i qPlus;      // Q⁺ = Σ max(q, 0)
    __m512i qAbs;       // A = |q|₁
    __m512i qAbsZeros;  // leading zeros of A (64 when A = 0)
} KFN(QueryConstants16);

__attribute__((target(KERNEL_TARGET))) static inline void KFN(query_constants16)(
        const int16_t *q, int stride, int bits, int64_t threshold, KFN(QueryConstants16) *out) {
    int64_t qPlus, qAbs, tc;
    KFN(query_scalars)(q, stride, bits, threshold, &qPlus, &qAbs, &tc);
    out->gapBase = _mm512_set1_epi32((int32_t)tc);
    out->qPlus = _mm512_set1_epi32((int32_t)qPlus);
    out->qAbs = _mm512_set1_epi32((int32_t)qAbs);
    out->qAbsZeros = _mm512_set1_epi32(qAbs > 0 ? __builtin_clz((unsigned)qAbs) : 64);
}

/// One query's search over 16 keys: gap = Tc − S, m = planes known to be skippable, pruned = gap > 0,
/// active = lanes whose m may still grow.
typedef struct {
    __m512i gap, m;
    __mmask16 pruned, active;
} KFN(RowSearch16);

/// start_search on 16 lanes: m = the largest x < bits with (2^x − 1)·|q|₁ < gap, from leading-zero counts
/// (see start_search); `valid` = lanes holding keys the query sees.
__attribute__((target(KERNEL_TARGET))) static inline KFN(RowSearch16) KFN(start16)(
        const KFN(QueryConstants16) *c, __m512i s, int bits, __mmask16 valid) {
    const __m512i one = _mm512_set1_epi32(1), zero = _mm512_setzero_si512();
    KFN(RowSearch16) r;
    r.gap = _mm512_sub_epi32(c->gapBase, s);
    r.pruned = _mm512_cmpgt_epi32_mask(r.gap, zero);
    __m512i y = _mm512_add_epi32(r.gap, c->qAbs);
    __m512i top = _mm512_sub_epi32(c->qAbsZeros, _mm512_lzcnt_epi32(y));
    __mmask16 fits = _mm512_cmplt_epu32_mask(_mm512_sllv_epi32(c->qAbs, top), y);
    __m512i m = _mm512_mask_mov_epi32(_mm512_sub_epi32(top, one), fits, top);
    r.m = _mm512_min_epi32(_mm512_max_epi32(m, zero), _mm512_set1_epi32(bits - 1));
    r.active = r.pruned & valid & _mm512_cmpgt_epi32_mask(_mm512_set1_epi32(bits - 1), r.m);
    return r;
}

/// The first two tests (planes m + 1 and m + 2) for the tile's 4 queries × 16 keys in one pass over the keys:
/// f(x) = (2^x − 1)·Q⁺ − q·(k mod 2^x); a lane skips one more plane while f < gap (see step).
__attribute__((target(KERNEL_TARGET))) static inline void KFN(tile_two_steps16)(
        KFN(RowSearch16) search[4], const int16_t *const qr[4], const int16_t *kb, int pairs,
        const KFN(QueryConstants16) constants[4], int bits) {
    const __m512i one = _mm512_set1_epi32(1), last = _mm512_set1_epi32(bits - 1);
    __m512i mask1[4], mask2[4], pair1[4], pair2[4], low1[4], low2[4];
    for (int r = 0; r < 4; r++) {
        mask1[r] = _mm512_sub_epi32(_mm512_sllv_epi32(one, _mm512_add_epi32(search[r].m, one)), one);  // 2^(m+1) − 1
        mask2[r] = _mm512_or_si512(_mm512_slli_epi32(mask1[r], 1), one);                                 // 2^(m+2) − 1
        pair1[r] = _mm512_or_si512(mask1[r], _mm512_slli_epi32(mask1[r], 16));  // on both 16-bit halves
        pair2[r] = _mm512_or_si512(mask2[r], _mm512_slli_epi32(mask2[r], 16));
        low1[r] = _mm512_setzero_si512();
        low2[r] = _mm512_setzero_si512();
    }
    const int16_t *q0 = qr[0], *q1 = qr[1], *q2 = qr[2], *q3 = qr[3];
    for (int t = 0; t < pairs; t++) {
        __m512i k = _mm512_loadu_si512((const void *)(kb + 32 * t));
        __m512i a = _mm512_set1_epi32(KFN(pair_bits)(q0 + 2 * t));
        low1[0] = _mm512_dpwssd_epi32(low1[0], a, _mm512_and_si512(k, pair1[0]));
        low2[0] = _mm512_dpwssd_epi32(low2[0], a, _mm512_and_si512(k, pair2[0]));
        a = _mm512_set1_epi32(KFN(pair_bits)(q1 + 2 * t));
        low1[1] = _mm512_dpwssd_epi32(low1[1], a, _mm512_and_si512(k, pair1[1]));
        low2[1] = _mm512_dpwssd_epi32(low2[1], a, _mm512_and_si512(k, pair2[1]));
        a = _mm512_set1_epi32(KFN(pair_bits)(q2 + 2 * t));
        low1[2] = _mm512_dpwssd_epi32(low1[2], a, _mm512_and_si512(k, pair1[2]));
        low2[2] = _mm512_dpwssd_epi32(low2[2], a, _mm512_and_si512(k, pair2[2]));
        a = _mm512_set1_epi32(KFN(pair_bits)(q3 + 2 * t));
        low1[3] = _mm512_dpwssd_epi32(low1[3], a, _mm512_and_si512(k, pair1[3]));
        low2[3] = _mm512_dpwssd_epi32(low2[3], a, _mm512_and_si512(k, pair2[3]));
    }
    for (int r = 0; r < 4; r++) {
        KFN(RowSearch16) *b = &search[r];
        __m512i f1 = _mm512_sub_epi32(_mm512_mullo_epi32(mask1[r], constants[r].qPlus), low1[r]);
        __mmask16 step1 = b->active & _mm512_cmpgt_epi32_mask(b->gap, f1);
        b->m = _mm512_mask_add_epi32(b->m, step1, b->m, one);
        __mmask16 active1 = step1 & _mm512_cmpgt_epi32_mask(last, b->m);
        __m512i f2 = _mm512_sub_epi32(_mm512_mullo_epi32(mask2[r], constants[r].qPlus), low2[r]);
        __mmask16 step2 = active1 & _mm512_cmpgt_epi32_mask(b->gap, f2);
        b->m = _mm512_mask_add_epi32(b->m, step2, b->m, one);
        b->active = step2 & _mm512_cmpgt_epi32_mask(last, b->m);
    }
}

/// Capacity of the list of scores still searching (at most 64 per tile; the tile loop flushes above
/// FOUND_CAPACITY − 64).
#define FOUND_CAPACITY 1024

/// Scores still searching: key index, and query row << 8 | m (m < 16).
typedef struct {
    int32_t key[FOUND_CAPACITY + 16], rowAndM[FOUND_CAPACITY + 16];
} KFN(FoundLanes);

/// Finishes the collected scores (finish_score, on the keys' row-major copies); then planes = bits − m (these
/// scores are pruned).
__attribute__((target(KERNEL_TARGET))) static void KFN(finish_found)(
        const KFN(FoundLanes) *found, int count, const int16_t *q, const int16_t *kRows, int keyCount, int stride,
        int bits, int64_t threshold, uint8_t *planes) {
    int lastRow = -1;
    int64_t qPlus = 0;
    for (int e = 0; e < count; e++) {
        int i = found->rowAndM[e] >> 8, m = found->rowAndM[e] & 0xFF, j = found->key[e];
        const int16_t *qRow = q + (long)i * stride;
        if (i != lastRow) {
            qPlus = KFN(row_q_plus)(qRow, stride);
            lastRow = i;
        }
        int first = m;
        m = KFN(finish_score)(qRow, kRows + (long)j * stride, stride, bits, threshold, qPlus, m);
        if (m != first) planes[(long)i * keyCount + j] = (uint8_t)(bits - m);
    }
}

__attribute__((target(KERNEL_TARGET))) static void KFN(score_matrix)(
        const int16_t *q, int queryCount, const int16_t *kPacked, const int16_t *kRows, int keyCount, int stride,
        const int32_t *keyEnd, int bits, int64_t threshold, uint8_t *planes, uint8_t *kept, long *counts) {
    const int pairs = stride / 2;
    const long blockElements = 32L * pairs;  // int16 per 16-key block
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // Entries past each query's valid keys (whole rows for masked queries) are 0 in both outputs.
    for (int i = 0; i < queryCount; i++) {
        int end = keyEnd[i];
        memset(planes + (long)i * keyCount + end, 0, (size_t)(keyCount - end));
        memset(kept + (long)i * keyCount + end, 0, (size_t)(keyCount - end));
    }
    KFN(FoundLanes) found;
    int foundCount = 0;
    int i0 = 0;
    while (i0 < queryCount) {
        int rows = queryCount - i0 < 4 ? queryCount - i0 : 4;
        int maxEnd = 0;
        for (int r = 0; r < rows; r++) maxEnd = keyEnd[i0 + r] > maxEnd ? keyEnd[i0 + r] : maxEnd;
        if (maxEnd == 0) { i0 += rows; continue; }
        KFN(QueryConstants16) constants[4];
        // Rows past the end of a partial tile repeat row 0 (computed with row 0's constants, never used).
        const int16_t *qr[4];
        for (int r = 0; r < 4; r++) {
            int source = r < rows && keyEnd[i0 + r] > 0 ? r : 0;
            qr[r] = q + (long)(i0 + (r < rows ? r : 0)) * stride;
            if (r == source) KFN(query_constants16)(qr[r], stride, bits, threshold, &constants[r]);
            else constants[r] = constants[0];
        }
        for (int j0 = 0; j0 < maxEnd; j0 += 16) {
            const int16_t *kb = kPacked + (long)(j0 / 16) * blockElements;
            __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
            for (int t = 0; t < pairs; t++) {
                __m512i k = _mm512_loadu_si512((const void *)(kb + 32 * t));
                s0 = _mm512_dpwssd_epi32(s0, _mm512_set1_epi32(KFN(pair_bits)(qr[0] + 2 * t)), k);
                s1 = _mm512_dpwssd_epi32(s1, _mm512_set1_epi32(KFN(pair_bits)(qr[1] + 2 * t)), k);
                s2 = _mm512_dpwssd_epi32(s2, _mm512_set1_epi32(KFN(pair_bits)(qr[2] + 2 * t)), k);
                s3 = _mm512_dpwssd_epi32(s3, _mm512_set1_epi32(KFN(pair_bits)(qr[3] + 2 * t)), k);
            }
            __m512i sums[4] = {s0, s1, s2, s3};
            KFN(RowSearch16) search[4];
            __mmask16 valid[4], anyActive = 0;
            for (int r = 0; r < 4; r++) {
                int lanes = r < rows ? keyEnd[i0 + r] - j0 : 0;
                valid[r] = _mm512_cmpgt_epi32_mask(_mm512_set1_epi32(lanes), lane);
                search[r] = KFN(start16)(&constants[r], sums[r], bits, valid[r]);
                anyActive |= search[r].active;
            }
            if (anyActive) KFN(tile_two_steps16)(search, qr, kb, pairs, constants, bits);
            for (int r = 0; r < rows; r++) {
                long out = (long)(i0 + r) * keyCount + j0;
                // planes = bits − m if pruned else bits; kept = 1 − pruned; only the valid lanes are written.
                __m512i planeCount = _mm512_sub_epi32(_mm512_set1_epi32(bits), _mm512_maskz_mov_epi32(search[r].pruned, search[r].m));
                _mm_mask_storeu_epi8(planes + out, valid[r], _mm512_cvtepi32_epi8(planeCount));
                _mm_mask_storeu_epi8(kept + out, valid[r], _mm_maskz_mov_epi8((__mmask16)~search[r].pruned, _mm_set1_epi8(1)));
                // Scores still searching (valid ones only: start16 masked the rest) go on the list.
                __mmask16 more = search[r].active;
                __m512i rowAndM = _mm512_or_si512(search[r].m, _mm512_set1_epi32((i0 + r) << 8));
                _mm512_storeu_si512((void *)(found.key + foundCount),
                                    _mm512_maskz_compress_epi32(more, _mm512_add_epi32(lane, _mm512_set1_epi32(j0))));
                _mm512_storeu_si512((void *)(found.rowAndM + foundCount), _mm512_maskz_compress_epi32(more, rowAndM));
                foundCount += __builtin_popcount((unsigned)more);
            }
            if (foundCount > FOUND_CAPACITY - 64) {
                KFN(finish_found)(&found, foundCount, q, kRows, keyCount, stride, bits, threshold, planes);
                foundCount = 0;
            }
        }
        i0 += rows;
    }
    KFN(finish_found)(&found, foundCount, q, kRows, keyCount, stride, bits, threshold, planes);
    KFN(count_planes)(planes, kept, (long)queryCount * keyCount, counts, bits);
}

#undef FOUND_CAPACITY
#endif

#undef KFN
#undef KCAT
#undef KCAT2
