// The cycle model's fast path for query rows (see include/bit_kernels.h; the general path is
// SchedulerState.runRow in AcceleratorModel/CycleSimulator.swift, and tests compare the two on random rows).
//
// Why times alone suffice. Keys go, in order, to the free unit of lowest index; but which unit takes a key never
// changes any time: the next key always starts at the earliest unit-free time, whichever unit that is, and
// moves that unit's free time to start + latency. So the front-end is a multiset of U free times, kept sorted
// (relative to the row start, each as 2·time + kept). The front-end of a row depends on nothing but the row, so
// 16 rows go together: rank i of the multiset of all 16 rows is one vector of 16-bit lanes (one lane per row),
// and each key is one branch-free insertion network of min/max operations for the 16 rows (front_rows_soa).
//
// The minima taken are every completion time in time order (then the last U in the final vector), so the
// kept ones come out sorted for free: that is the FIFO's push order (pushes at the same cycle are
// interchangeable: same time, same back-end cost). The back-end is then one pass over them: push n at τ
// starts at max(τ, backFree) and needs entry n − depth to have started by τ; if it has not, a unit would stall
// and leopard_back_row gives up before touching the caller's state (the caller runs the general path for that
// row, which models the stall).

#include "bit_kernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

/// Lanes hold 2·time + kept: relative times must stay below this (+∞ = INT16_MAX).
#define FRONT_TIME_LIMIT 16000

/// Σ planes of a row's n keys (16 at a time).
__attribute__((target("avx2"))) static int64_t plane_sum(const uint8_t *planes, int n) {
    __m256i sum = _mm256_setzero_si256();
    int j = 0;
    for (; j + 32 <= n; j += 32)
        sum = _mm256_add_epi64(sum, _mm256_sad_epu8(_mm256_loadu_si256((const __m256i *)(planes + j)),
                                                    _mm256_setzero_si256()));
    int64_t total = _mm256_extract_epi64(sum, 0) + _mm256_extract_epi64(sum, 1) + _mm256_extract_epi64(sum, 2)
                  + _mm256_extract_epi64(sum, 3);
    for (; j < n; j++) total += planes[j];
    return total;
}

/// out[j] lane i = in[i] lane j for 16 vectors of 16 16-bit lanes: a transpose in four stages (unpacks of 16-,
/// 32- and 64-bit units within 128-bit halves, then the halves).
__attribute__((target("avx2"), always_inline)) static inline void transpose16(const __m256i in[16], __m256i out[16]) {
    __m256i a[16], b[16];
    for (int i = 0; i < 8; i++) {
        a[2 * i] = _mm256_unpacklo_epi16(in[2 * i], in[2 * i + 1]);
        a[2 * i + 1] = _mm256_unpackhi_epi16(in[2 * i], in[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++)
        for (int h = 0; h < 2; h++) {
            b[4 * i + h] = _mm256_unpacklo_epi32(a[4 * i + h], a[4 * i + 2 + h]);
            b[4 * i + 2 + h] = _mm256_unpackhi_epi32(a[4 * i + h], a[4 * i + 2 + h]);
        }
    for (int i = 0; i < 2; i++)
        for (int h = 0; h < 4; h++) {
            a[8 * i + h] = _mm256_unpacklo_epi64(b[8 * i + h], b[8 * i + 4 + h]);
            a[8 * i + 4 + h] = _mm256_unpackhi_epi64(b[8 * i + h], b[8 * i + 4 + h]);
        }
    // a[8i + x] holds lanes 8i..8i+7 of the inputs: element j(x) of them in its low half, element j(x) + 8 in its
    // high half, where j(x) = 4·(x & 1) + 2·((x >> 1) & 1) + (x >> 2) (the lane-pair, lane-quad and
    // half-register bits of the three unpack stages).
    for (int x = 0; x < 8; x++) {
        int j = 4 * (x & 1) + 2 * ((x >> 1) & 1) + (x >> 2);
        out[j] = _mm256_permute2x128_si256(a[x], a[8 + x], 0x20);
        out[j + 8] = _mm256_permute2x128_si256(a[x], a[8 + x], 0x31);
    }
}

/// codes[k·16 + r] = 2·latency + kept of key k of row r, for keys k0 ≤ k < k0 + 16 and all 16 rows: each row's
/// 16 codes as one vector, then a 16 × 16 transpose of 16-bit elements. Keys past a row's end (and rows past
/// rowCount) get code 0: a key of latency 0 that is not kept, which leaves the row's front-end unchanged (see
/// front_rows_soa).
__attribute__((target("avx2"))) static void codes_tile(const LeopardRowKeys *keys, int rowCount, int k0,
                                                     int fixedLatency, int keptAlways, int cyclesPerPlane,
                                                     int16_t *codes) {
    __m256i v[16];
    const __m256i lane = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int r = 0; r < 16; r++) {
        int n = r < rowCount ? keys[r].keyCount - k0 : 0;
        if (n <= 0) { v[r] = _mm256_setzero_si256(); continue; }
        if ((k0 & 63) == 0 && n > 128) {  // 32 streams are more than the hardware prefetchers follow
            _mm_prefetch((const char *)(keys[r].planes + k0 + 128), _MM_HINT_T0);
            _mm_prefetch((const char *)(keys[r].kept + k0 + 128), _MM_HINT_T0);
        }
        __m128i p8, k8;
        if (n >= 16) {
            p8 = _mm_loadu_si128((const __m128i *)(keys[r].planes + k0));
            k8 = _mm_loadu_si128((const __m128i *)(keys[r].kept + k0));
        } else {
            uint8_t pb[16] = {0}, kb[16] = {0};
            memcpy(pb, keys[r].planes + k0, (size_t)n);
            memcpy(kb, keys[r].kept + k0, (size_t)n);
            p8 = _mm_loadu_si128((const __m128i *)pb);
            k8 = _mm_loadu_si128((const __m128i *)kb);
        }
        __m256i latency2 = fixedLatency > 0 ? _mm256_set1_epi16((short)(2 * fixedLatency))
                                            : _mm256_mullo_epi16(_mm256_cvtepu8_epi16(p8), _mm256_set1_epi16((short)(2 * cyclesPerPlane)));
        __m256i keptBit = _mm256_or_si256(_mm256_cvtepu8_epi16(k8), _mm256_set1_epi16((short)keptAlways));
        __m256i valid = _mm256_cmpgt_epi16(_mm256_set1_epi16((short)(n < 16 ? n : 16)), lane);
        v[r] = _mm256_and_si256(valid, _mm256_add_epi16(latency2, keptBit));
    }
    __m256i t[16];
    transpose16(v, t);
    for (int k = 0; k < 16; k++) _mm256_storeu_si256((__m256i *)(codes + 16 * k), t[k]);
}

/// The insertion network of front_rows_soa for a constant number of units U (inlined per U, so the ranks stay in
/// registers): per key k, pop rank 0 (each row's earliest free time; written over the key's code) and insert
/// the key's completion v = time(rank 0) + latency: rank 0 = min(rank 1, v), rank i = min(rank i + 1,
/// max(rank i, v)), rank U − 1 = max(rank U − 1, v). Not using the old rank 0 in the new one makes a key of code
/// 0 (latency 0, not kept) harmless even when the popped value is a kept completion (then v = popped − 1).
/// At the end the U ranks are written after the keys.
__attribute__((target("avx2"), always_inline)) static inline void soa_network(int16_t *buf, int keyTotal, const int units) {
    __m256i rank[16];
    const __m256i one = _mm256_set1_epi16(1);
    for (int i = 0; i < units; i++) rank[i] = _mm256_setzero_si256();
    for (int k = 0; k < keyTotal; k++) {
        __m256i code = _mm256_loadu_si256((const __m256i *)(buf + 16 * k));
        __m256i popped = rank[0];
        _mm256_storeu_si256((__m256i *)(buf + 16 * k), popped);
        __m256i v = _mm256_add_epi16(_mm256_andnot_si256(one, popped), code);
        if (units == 1) {
            rank[0] = v;
            continue;
        }
        rank[0] = _mm256_min_epi16(rank[1], v);
        for (int i = 1; i < units - 1; i++) rank[i] = _mm256_min_epi16(rank[i + 1], _mm256_max_epi16(rank[i], v));
        rank[units - 1] = _mm256_max_epi16(rank[units - 1], v);
    }
    for (int i = 0; i < 16; i++)  // ranks past U (unused units) as 0: not kept
        _mm256_storeu_si256((__m256i *)(buf + 16 * (keyTotal + i)), i < units ? rank[i] : _mm256_setzero_si256());
}

#define SOA_SWITCH(buf, keyTotal, units)                                                                    \
    switch (units) {                                                                                         \
    case 1: soa_network(buf, keyTotal, 1); break;   case 2: soa_network(buf, keyTotal, 2); break;           \
    case 3: soa_network(buf, keyTotal, 3); break;   case 4: soa_network(buf, keyTotal, 4); break;           \
    case 5: soa_network(buf, keyTotal, 5); break;   case 6: soa_network(buf, keyTotal, 6); break;           \
    case 7: soa_network(buf, keyTotal, 7); break;   case 8: soa_network(buf, keyTotal, 8); break;           \
    case 9: soa_network(buf, keyTotal, 9); break;   case 10: soa_network(buf, keyTotal, 10); break;         \
    case 11: soa_network(buf, keyTotal, 11); break; case 12: soa_network(buf, keyTotal, 12); break;         \
    case 13: soa_network(buf, keyTotal, 13); break; case 14: soa_network(buf, keyTotal, 14); break;         \
    case 15: soa_network(buf, keyTotal, 15); break; default: soa_network(buf, keyTotal, 16); break;         \
    }

__attribute__((target("avx2"))) static void soa_network_avx2(int16_t *buf, int keyTotal, int units) {
    SOA_SWITCH(buf, keyTotal, units)
}

/// The same network where AVX-512VL gives 32 vector registers (16 ranks no longer spill).
__attribute__((target("avx2,avx512f,avx512vl"))) static void soa_network_avx512(int16_t *buf, int keyTotal, int units) {
    SOA_SWITCH(buf, keyTotal, units)
}

/// Row r's kept completions (odd entries of column r of buf, entries 0..<entries, a multiple of 16), in order, into
/// keptTimes; returns their count. 16 entries at a time: a transpose puts 16 entries of each row in one vector,
/// then a compress keeps the odd ones (AVX-512 VBMI2).
__attribute__((target("avx2,avx512f,avx512vl,avx512bw,avx512vbmi2"))) static void compact_kept_vbmi2(
        const int16_t *buf, int entries, int rowCount, LeopardRowFront *out) {
    const __m256i one = _mm256_set1_epi16(1);
    int count[16] = {0};
    for (int e0 = 0; e0 < entries; e0 += 16) {
        __m256i in[16], rows[16];
        for (int i = 0; i < 16; i++) in[i] = _mm256_loadu_si256((const __m256i *)(buf + 16 * (e0 + i)));
        transpose16(in, rows);
        for (int r = 0; r < rowCount; r++) {
            __mmask16 odd = _mm256_test_epi16_mask(rows[r], one);
            // (count + 16 ≤ kept keys so far + 16 ≤ the row's capacity)
            _mm256_storeu_si256((__m256i *)(out[r].keptTimes + count[r]),
                                _mm256_maskz_compress_epi16(odd, _mm256_srli_epi16(rows[r], 1)));
            count[r] += __builtin_popcount(odd);
        }
    }
    for (int r = 0; r < rowCount; r++) out[r].keptCount = count[r];
}

/// The same without AVX-512: one entry at a time.
static void compact_kept_scalar(const int16_t *buf, int entries, int rowCount, LeopardRowFront *out) {
    for (int r = 0; r < rowCount; r++) {
        int16_t *keptTimes = out[r].keptTimes;
        int count = 0;
        for (int e = 0; e < entries; e++) {
            int16_t v = buf[16 * e + r];
            keptTimes[count] = (int16_t)(v >> 1);  // (count ≤ kept keys so far ≤ the row's capacity)
            count += v & 1;
        }
        out[r].keptCount = count;
    }
}

static int soaWide = -1, soaCompress = -1;

int leopard_force_front_level(int level) {
    __builtin_cpu_init();
    int wide = __builtin_cpu_supports("avx512vl") ? 1 : 0;
    int compress = wide && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi2") ? 1 : 0;
    int best = compress ? 2 : wide;
    int chosen = level < 0 || level > best ? best : level;
    soaWide = chosen >= 1;
    soaCompress = chosen >= 2;
    return chosen;
}

/// The front-ends of rowCount ≤ 16 rows at once. Why times alone suffice: keys go, in order, to the free unit
/// of lowest index, but which unit takes a key never changes any time: the next key always starts at the
/// earliest unit-free time and moves it to start + latency. So a row's front-end is a multiset of U free times,
/// kept sorted ("ranks"); here rank i of all 16 rows is one vector of 16-bit lanes (2·time + kept, +∞ unused),
/// and every key step is one insertion network for the 16 rows together (rows shorter than the group's longest
/// are padded with code-0 keys). The popped minima are every completion time in time order (then the final
/// ranks), so each row's kept completions come out sorted: the FIFO's push order (pushes at the same cycle are
/// interchangeable: same time, same back-end cost).
__attribute__((target("avx2"))) static void front_rows_soa(const LeopardRowKeys *keys, int rowCount,
                                                           int fixedLatency, int allKept, int cyclesPerPlane,
                                                           int units, int16_t *buf, LeopardRowFront *out) {
    int longest = 0;
    for (int r = 0; r < rowCount; r++) longest = keys[r].keyCount > longest ? keys[r].keyCount : longest;
    const int keyTotal = (longest + 15) / 16 * 16;
    for (int k0 = 0; k0 < keyTotal; k0 += 16)
        codes_tile(keys, rowCount, k0, fixedLatency, allKept != 0, cyclesPerPlane, buf + 16 * k0);
    if (soaWide < 0 || soaCompress < 0) {  // idempotent: racing threads store the same values
        __builtin_cpu_init();
        soaWide = __builtin_cpu_supports("avx512vl") ? 1 : 0;
        soaCompress = soaWide && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi2") ? 1 : 0;
    }
    if (soaWide) soa_network_avx512(buf, keyTotal, units);
    else soa_network_avx2(buf, keyTotal, units);
    // Each row's kept completions (odd entries) in order, its span (its last rank) and Σ latency.
    const int entries = keyTotal + 16;
    if (soaCompress) compact_kept_vbmi2(buf, entries, rowCount, out);
    else compact_kept_scalar(buf, entries, rowCount, out);
    for (int r = 0; r < rowCount; r++) {
        int n = keys[r].keyCount;
        out[r].span = n > 0 ? buf[16 * (keyTotal + units - 1) + r] >> 1 : 0;
        out[r].busy = fixedLatency > 0 ? (int64_t)fixedLatency * n : plane_sum(keys[r].planes, n) * cyclesPerPlane;
    }
}

int leopard_front_rows(const LeopardRowKeys *keys, int rowCount, int fixedLatency, int allKept,
                       int cyclesPerPlane, int units, int16_t *scratch, LeopardRowFront *out) {
    if (!leopard_fast_rows_available() || units < 1 || units > LEOPARD_FAST_ROW_MAX_UNITS) return 0;
    if (rowCount < 1 || rowCount > LEOPARD_FRONT_ROWS) return 0;
    const long maxLatency = fixedLatency > 0 ? fixedLatency : (long)LEOPARD_MAX_PLANES * cyclesPerPlane;
    // List scheduling ends by Σ latency / U + max latency: keep every relative time below the limit.
    long longest = 0;
    for (int r = 0; r < rowCount; r++) longest = keys[r].keyCount > longest ? keys[r].keyCount : longest;
    if (maxLatency * (longest / units + 2) >= FRONT_TIME_LIMIT) return 0;
    front_rows_soa(keys, rowCount, fixedLatency, allKept, cyclesPerPlane, units, scratch, out);
    return 1;
}

static int fastRowsAvailable = -1;

int leopard_fast_rows_available(void) {
    if (fastRowsAvailable < 0) {  // idempotent: racing threads store the same value
        __builtin_cpu_init();
        fastRowsAvailable = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return fastRowsAvailable;
}

#else

int leopard_fast_rows_available(void) { return 0; }

int leopard_front_rows(const LeopardRowKeys *keys, int rowCount, int fixedLatency, int allKept,
                       int cyclesPerPlane, int units, int16_t *scratch, LeopardRowFront *out) {
    return 0;  // the general path everywhere
}

#endif

#if defined(__x86_64__)
/// The back-end start times of a row's `kept` pushes into starts[0..<kept] (starts[−depth..<0] hold the earlier
/// pushes' starts), with b_p = p·c + max(backEnd, max_{i ≤ p} (t_i − i·c)); sets *stall if some push finds entry
/// p − depth not yet started at its time (the FIFO full). Returns the back-end's end, b_{kept−1} + c. Eight
/// pushes per step: an in-register running maximum (three shifted maxima), carried across steps. Writes up to 7
/// entries past kept (the caller's scratch has room).
__attribute__((target("avx2"))) static int32_t back_row_starts(const int16_t *times, int kept, int c, int depth,
                                                              int32_t backEnd, int32_t *starts, int *stall) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i none = _mm256_set1_epi32(INT32_MIN / 2);  // below every t − i·c (≥ −2^30 by the caller's guard)
    const __m256i shift1 = _mm256_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6), shift2 = _mm256_setr_epi32(0, 0, 0, 1, 2, 3, 4, 5);
    const __m256i shift4 = _mm256_setr_epi32(0, 0, 0, 0, 0, 1, 2, 3);
    const __m256i laneCycles = _mm256_mullo_epi32(lane, _mm256_set1_epi32(c));
    // max(backEnd, t_i − i·c over the pushes so far) in every lane: carried in a vector (broadcasting lane 7 by a
    // permute) so that the chain from one step to the next is a max and a permute.
    __m256i running = _mm256_set1_epi32(backEnd);
    const __m256i lastLane = _mm256_set1_epi32(7);
    __m256i full = _mm256_setzero_si256();
    for (int p0 = 0; p0 < kept; p0 += 8) {
        __m256i valid = _mm256_cmpgt_epi32(_mm256_set1_epi32(kept - p0), lane);
        __m256i t = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(times + p0)));
        __m256i offset = _mm256_add_epi32(_mm256_set1_epi32(p0 * c), laneCycles);  // i·c
        __m256i u = _mm256_blendv_epi8(none, _mm256_sub_epi32(t, offset), valid);
        u = _mm256_max_epi32(u, _mm256_blend_epi32(_mm256_permutevar8x32_epi32(u, shift1), none, 0x01));
        u = _mm256_max_epi32(u, _mm256_blend_epi32(_mm256_permutevar8x32_epi32(u, shift2), none, 0x03));
        u = _mm256_max_epi32(u, _mm256_blend_epi32(_mm256_permutevar8x32_epi32(u, shift4), none, 0x0F));
        u = _mm256_max_epi32(u, running);
        running = _mm256_permutevar8x32_epi32(u, lastLane);
        _mm256_storeu_si256((__m256i *)(starts + p0), _mm256_add_epi32(u, offset));
        // Entry p − depth (earlier pushes, or this step's when depth < 8: stored just above) started after t?
        __m256i before = _mm256_loadu_si256((const __m256i *)(starts + p0 - depth));
        full = _mm256_or_si256(full, _mm256_and_si256(valid, _mm256_cmpgt_epi32(before, t)));
    }
    *stall |= !_mm256_testz_si256(full, full);
    return _mm256_cvtsi256_si32(running) + kept * c;  // b_{kept−1} + c
}
#endif

int leopard_back_row(int64_t start, const LeopardRowFront *row, int backCycles, int fifoDepth,
                     int64_t *fifoStarts, int64_t *pushCount, int64_t *fifoSlot, int64_t *backFree,
                     int32_t *scratch, int64_t *backBusy) {
    const int kept = row->keptCount;
    if (kept == 0) return 1;  // no push: the FIFO and the back-end are untouched
    const int64_t backlog = *backFree - start;
    if (backlog >= (int64_t)1 << 30 || (int64_t)kept * backCycles >= (int64_t)1 << 30) return 0;  // (ends < 2^31)
    // hist[h0 + p] = back-end start (relative to `start`) of push P0 + p; p < 0 are the previous pushes, from
    // the ring (entry n sits at n % depth), or "long ago" before the matrix's first push.
    const int64_t p0 = *pushCount;
    const int depth = fifoDepth;
    const long h0 = depth;
    int32_t *hist = scratch;
    const int32_t longAgo = INT32_MIN / 2;
    // Only entries −depth … −depth + kept + 6 are read (push p checks entry p − depth; the vector steps read up to
    // 7 lanes past the last push), so a deep FIFO's ring is not walked whole for a short row. Entry p0 − depth sits
    // at slot (= p0 mod depth); later entries follow it around the ring.
    const long needed = (long)kept + 8 < depth ? (long)kept + 8 : depth;
    long ring = *fifoSlot;
    for (long x = 0; x < needed; x++) {
        long i = depth - x;  // entry p0 − i
        hist[h0 - i] = p0 - i < 0 ? longAgo : (int32_t)(fifoStarts[ring] - start);
        ring = ring + 1 == depth ? 0 : ring + 1;
    }
    int32_t backEnd = backlog > 0 ? (int32_t)backlog : (int32_t)-1;  // (≤ every push time, which are ≥ 0)
    const int c = backCycles;
    const int16_t *times = row->keptTimes;
    int stall = 0;
#if defined(__x86_64__)
    // Push p starts at b_p = max(b_{p−1} + c, t_p) (b_{−1} + c = backEnd), i.e. b_p − p·c = max(backEnd,
    // max_{i ≤ p} (t_i − i·c)): a running maximum, taken 8 pushes at a time (back_row_starts).
    backEnd = back_row_starts(times, kept, c, depth, backEnd, hist + h0, &stall);
#else
    for (int p = 0; p < kept; p++) {
        int32_t t = times[p];
        stall |= hist[h0 + p - depth] > t;  // entry n − depth has not started by t: the FIFO is full
        int32_t b0 = backEnd > t ? backEnd : t;
        hist[h0 + p] = b0;
        backEnd = b0 + c;
    }
#endif
    if (stall) return 0;  // a unit would stall: the general path
    // Commit: the ring gets the last min(depth, pushes) starts; counters and the back-end clock advance.
    long keep = kept < depth ? kept : depth;
    ring = (long)((p0 + kept - keep) % depth);
    for (long p = kept - keep; p < kept; p++) {
        fifoStarts[ring] = start + hist[h0 + p];
        ring = ring + 1 == depth ? 0 : ring + 1;
    }
    *pushCount = p0 + kept;
    *fifoSlot = ring;
    *backFree = start + backEnd;
    *backBusy += (int64_t)kept * c;
    return 1;
}

long leopard_front_rows_scratch_count(int keyCount) {
    return 16L * ((keyCount + 15) / 16 * 16 + 16);
}

long leopard_back_row_scratch_count(int keyCount, int fifoDepth) {
    return (long)fifoDepth + keyCount + 8;  // (back_row_starts writes up to 7 entries past the pushes)
}
