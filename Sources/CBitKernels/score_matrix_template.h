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
// mask16 | mask16 << 16 so that both 16-bit halves of a pair are masked), over the L1-resident blocks; the
// first two tests run for the whole tile in one pass (shared loads, independent accumulators), later ones
// tile-wide while at least 3 blocks still search, then block by block.

#define KCAT2(a, b) a##b
#define KCAT(a, b) KCAT2(a, b)
#define KFN(name) KCAT(name, KERNEL_SUFFIX)

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

/// q·(k & mask) for the 8 keys of one block; four accumulators so that the multiply-adds do not wait on
/// each other (one accumulator made the loop latency-bound). pairs is a multiple of 8.
__attribute__((target(KERNEL_TARGET))) static inline __m256i KFN(block_low_dot)(
        const int16_t *q, const int16_t *kBlock, int pairs, __m256i mask2) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (int t = 0; t < pairs; t += 4) {
        a0 = DOT_ACC(a0, _mm256_set1_epi32(*(const int32_t *)(q + 2 * t)),
                     _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(kBlock + 16 * t)), mask2));
        a1 = DOT_ACC(a1, _mm256_set1_epi32(*(const int32_t *)(q + 2 * t + 2)),
                     _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(kBlock + 16 * t + 16)), mask2));
        a2 = DOT_ACC(a2, _mm256_set1_epi32(*(const int32_t *)(q + 2 * t + 4)),
                     _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(kBlock + 16 * t + 32)), mask2));
        a3 = DOT_ACC(a3, _mm256_set1_epi32(*(const int32_t *)(q + 2 * t + 6)),
                     _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(kBlock + 16 * t + 48)), mask2));
    }
    return _mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3));
}

/// Writes planes (bits − m if pruned, bits if kept) and kept (1 − pruned) for the first `count` lanes.
__attribute__((target(KERNEL_TARGET))) static inline void KFN(store_block)(
        const KFN(BlockSearch) *b, int bits, int count, uint8_t *planes, uint8_t *kept) {
    __m256i planeCount = _mm256_sub_epi32(_mm256_set1_epi32(bits), _mm256_and_si256(b->m, b->pruned));
    __m256i keptFlag = _mm256_add_epi32(b->pruned, _mm256_set1_epi32(1));
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

/// One step for all 8 blocks of a 4-query × 16-key tile (blocks without searching lanes are unchanged).
__attribute__((target(KERNEL_TARGET))) static inline void KFN(tile_step)(
        KFN(BlockSearch) search[4][2], const int16_t *const qr[4], const int16_t *const kb[2], int pairs,
        const KFN(QueryConstants) constants[4], int rows, int bits) {
    __m256i mask[4][2], mask2[4][2], low[4][2];
    for (int r = 0; r < 4; r++)
        for (int h = 0; h < 2; h++) {
            mask[r][h] = KFN(low_mask)(search[r][h].m);
            mask2[r][h] = KFN(pair_mask)(mask[r][h]);
            low[r][h] = _mm256_setzero_si256();
        }
    for (int t = 0; t < pairs; t++) {
        __m256i k0 = _mm256_loadu_si256((const __m256i *)(kb[0] + 16 * t));
        __m256i k1 = _mm256_loadu_si256((const __m256i *)(kb[1] + 16 * t));
        for (int r = 0; r < 4; r++) {
            __m256i a = _mm256_set1_epi32(*(const int32_t *)(qr[r] + 2 * t));
            low[r][0] = DOT_ACC(low[r][0], a, _mm256_and_si256(k0, mask2[r][0]));
            low[r][1] = DOT_ACC(low[r][1], a, _mm256_and_si256(k1, mask2[r][1]));
        }
    }
    for (int r = 0; r < rows; r++)
        for (int h = 0; h < 2; h++)
            KFN(step)(&search[r][h], mask[r][h], low[r][h], constants[r].qPlus, bits);
}

/// The first two steps for all 8 blocks of a tile in one pass: the tests of planes m + 1 and m + 2 share every
/// load and broadcast (most pruned scores take exactly these two tests: the first passes, the second fails).
/// The second test only counts for lanes whose first test passed (step() keeps that order).
__attribute__((target(KERNEL_TARGET))) static inline void KFN(tile_two_steps)(
        KFN(BlockSearch) search[4][2], const int16_t *const qr[4], const int16_t *const kb[2], int pairs,
        const KFN(QueryConstants) constants[4], int rows, int bits) {
    const __m256i one = _mm256_set1_epi32(1);
    __m256i mask1[4][2], mask2[4][2], pair1[4][2], pair2[4][2], low1[4][2], low2[4][2];
    for (int r = 0; r < 4; r++)
        for (int h = 0; h < 2; h++) {
            mask1[r][h] = KFN(low_mask)(search[r][h].m);
            mask2[r][h] = _mm256_or_si256(_mm256_slli_epi32(mask1[r][h], 1), one);  // 2^(m+2) − 1
            pair1[r][h] = KFN(pair_mask)(mask1[r][h]);
            pair2[r][h] = KFN(pair_mask)(mask2[r][h]);
            low1[r][h] = _mm256_setzero_si256();
            low2[r][h] = _mm256_setzero_si256();
        }
    for (int t = 0; t < pairs; t++) {
        __m256i k0 = _mm256_loadu_si256((const __m256i *)(kb[0] + 16 * t));
        __m256i k1 = _mm256_loadu_si256((const __m256i *)(kb[1] + 16 * t));
        for (int r = 0; r < 4; r++) {
            __m256i a = _mm256_set1_epi32(*(const int32_t *)(qr[r] + 2 * t));
            low1[r][0] = DOT_ACC(low1[r][0], a, _mm256_and_si256(k0, pair1[r][0]));
            low1[r][1] = DOT_ACC(low1[r][1], a, _mm256_and_si256(k1, pair1[r][1]));
            low2[r][0] = DOT_ACC(low2[r][0], a, _mm256_and_si256(k0, pair2[r][0]));
            low2[r][1] = DOT_ACC(low2[r][1], a, _mm256_and_si256(k1, pair2[r][1]));
        }
    }
    for (int r = 0; r < rows; r++)
        for (int h = 0; h < 2; h++) {
            KFN(step)(&search[r][h], mask1[r][h], low1[r][h], constants[r].qPlus, bits);
            KFN(step)(&search[r][h], mask2[r][h], low2[r][h], constants[r].qPlus, bits);
        }
}

__attribute__((target(KERNEL_TARGET))) static void KFN(score_matrix)(
        const int16_t *q, int queryCount, const int16_t *kPacked, int keyCount, int stride,
        const int32_t *keyEnd, int bits, int64_t threshold, uint8_t *planes, uint8_t *kept, long *counts) {
    const int pairs = stride / 2;
    const long blockElements = 16L * pairs;  // int16 per 8-key block
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
        for (int r = 0; r < rows; r++)
            if (keyEnd[i0 + r] > 0) KFN(query_constants)(q + (long)(i0 + r) * stride, stride, bits, threshold, &constants[r]);
        // Rows past the end of a partial tile repeat row 0 (computed, never used).
        const int16_t *qr[4];
        for (int r = 0; r < 4; r++) qr[r] = q + (long)(i0 + (r < rows ? r : 0)) * stride;
        // Two 8-key blocks at a time (the packed buffer holds an even number of blocks, zero-padded).
        for (int j0 = 0; j0 < maxEnd; j0 += 16) {
            const int16_t *kb[2];
            kb[0] = kPacked + (long)(j0 / 8) * blockElements;
            kb[1] = kb[0] + blockElements;
            __m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00;
            __m256i s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            for (int t = 0; t < pairs; t++) {
                __m256i k0 = _mm256_loadu_si256((const __m256i *)(kb[0] + 16 * t));
                __m256i k1 = _mm256_loadu_si256((const __m256i *)(kb[1] + 16 * t));
                __m256i a = _mm256_set1_epi32(*(const int32_t *)(qr[0] + 2 * t));
                s00 = DOT_ACC(s00, a, k0); s01 = DOT_ACC(s01, a, k1);
                a = _mm256_set1_epi32(*(const int32_t *)(qr[1] + 2 * t));
                s10 = DOT_ACC(s10, a, k0); s11 = DOT_ACC(s11, a, k1);
                a = _mm256_set1_epi32(*(const int32_t *)(qr[2] + 2 * t));
                s20 = DOT_ACC(s20, a, k0); s21 = DOT_ACC(s21, a, k1);
                a = _mm256_set1_epi32(*(const int32_t *)(qr[3] + 2 * t));
                s30 = DOT_ACC(s30, a, k0); s31 = DOT_ACC(s31, a, k1);
            }
            __m256i sums[4][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}};
            KFN(BlockSearch) search[4][2];
            __m256i anyActive = _mm256_setzero_si256();
            for (int r = 0; r < 4; r++) {
                for (int h = 0; h < 2; h++) {
                    int valid = r < rows && j0 + 8 * h < keyEnd[i0 + r];
                    search[r][h] = KFN(start_search)(&constants[r < rows ? r : 0], sums[r][h], bits, valid);
                    anyActive = _mm256_or_si256(anyActive, search[r][h].active);
                }
            }
            // Steps for the whole tile at once while at least 3 of its 8 blocks have searching lanes (the
            // usual case: most pruned lanes take two tests): every K load serves 4 queries, every q broadcast
            // 2 blocks, and the 8 accumulators are independent. The last few blocks go on alone.
            int activeBlocks = 0;
            if (!_mm256_testz_si256(anyActive, anyActive)) {
                KFN(tile_two_steps)(search, qr, kb, pairs, constants, rows, bits);
                for (int r = 0; r < 4; r++)
                    for (int h = 0; h < 2; h++) activeBlocks += !_mm256_testz_si256(search[r][h].active, search[r][h].active);
            }
            while (activeBlocks >= 3) {
                KFN(tile_step)(search, qr, kb, pairs, constants, rows, bits);
                activeBlocks = 0;
                for (int r = 0; r < 4; r++)
                    for (int h = 0; h < 2; h++) activeBlocks += !_mm256_testz_si256(search[r][h].active, search[r][h].active);
            }
            // Further steps (lanes that skipped one more plane may skip another), block by block.
            for (int r = 0; r < rows; r++) {
                int end = keyEnd[i0 + r];
                long rowOffset = (long)(i0 + r) * keyCount;
                for (int h = 0; h < 2; h++) {
                    int j = j0 + 8 * h;
                    if (j >= end) break;
                    KFN(BlockSearch) *b = &search[r][h];
                    while (!_mm256_testz_si256(b->active, b->active)) {
                        __m256i mask = KFN(low_mask)(b->m);
                        __m256i low = KFN(block_low_dot)(qr[r], kb[h], pairs, KFN(pair_mask)(mask));
                        KFN(step)(b, mask, low, constants[r].qPlus, bits);
                    }
                    KFN(store_block)(b, bits, end - j < 8 ? end - j : 8, planes + rowOffset + j, kept + rowOffset + j);
                }
            }
        }
        i0 += rows;
    }
    KFN(count_planes)(planes, kept, (long)queryCount * keyCount, counts, bits);
}

#undef KFN
#undef KCAT
#undef KCAT2
