// The cycle model's fast path for query rows (see include/bit_kernels.h; the general path is
// SchedulerState.runRow in AcceleratorModel/CycleSimulator.swift, and tests compare the two on random rows).
//
// Why times alone suffice. Keys go, in order, to the free unit of lowest index; but which unit takes a key never
// changes any time: the next key always starts at the earliest unit-free time, whichever unit that is, and
// moves that unit's free time to start + latency. So the front-end is a multiset of U free times. We keep it
// as a sorted vector of 16 int16 lanes (relative to the row start; lanes past U hold +∞), each lane
// 2·time + kept: per key, take lane 0 (the minimum) and insert 2·(start + latency) + kept in order with one
// max, one shift and one min (a branch-free insertion; see front_key). The front-end of a row depends on
// nothing but the row, so four rows run interleaved (four independent dependency chains).
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

typedef struct {
    /// In: per key, 2·latency + kept (front_codes). Out: the kept completion times in time order, written over
    /// the codes already consumed (entry keptCount ≤ j is written after code j is read).
    int16_t *keptTimes;
    int keyCount;
    int keptCount;
    int64_t busy;
    __m256i free;  // sorted 2·(unit free time) + kept
} FrontRow;

/// codes[j] = 2·latency_j + kept_j for a row (16 keys per step), and Σ latency.
__attribute__((target("avx2"))) static int64_t front_codes(const uint8_t *planes, const uint8_t *kept, int keyCount,
                                                          int fixedLatency, int keptAlways, int cyclesPerPlane,
                                                          int16_t *codes) {
    int j = 0;
    if (fixedLatency > 0) {
        for (; j < keyCount; j++) codes[j] = (int16_t)(2 * fixedLatency + (keptAlways | kept[j]));
        return (int64_t)fixedLatency * keyCount;
    }
    const __m256i twiceCycles = _mm256_set1_epi16((short)(2 * cyclesPerPlane));
    __m256i sum = _mm256_setzero_si256();
    for (; j + 16 <= keyCount; j += 16) {
        __m256i p = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(planes + j)));
        __m256i k = _mm256_or_si256(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(kept + j))),
                                    _mm256_set1_epi16((short)keptAlways));
        _mm256_storeu_si256((__m256i *)(codes + j), _mm256_add_epi16(_mm256_mullo_epi16(p, twiceCycles), k));
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));  // planes, pairwise in 32 bits
    }
    int32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, sum);
    int64_t planeSum = 0;
    for (int l = 0; l < 8; l++) planeSum += lanes[l];
    for (; j < keyCount; j++) {
        codes[j] = (int16_t)(2 * planes[j] * cyclesPerPlane + (keptAlways | kept[j]));
        planeSum += planes[j];
    }
    return planeSum * cyclesPerPlane;
}

/// One key: it starts at the earliest free time s = free[0] / 2 and ends at s + latency. The minimum taken is
/// a completion (or an initial free unit): if kept, it is the next FIFO push in time order. The new sorted
/// vector is min(shift(free), max(free, new)): lanes before the insertion point take their right neighbour
/// (all ≤ the new value), the insertion point takes the new value, later lanes keep theirs (all ≥ it).
__attribute__((target("avx2"))) static inline void front_key(FrontRow *row, int j, __m256i infinity) {
    __m256i code = _mm256_set1_epi16(row->keptTimes[j]);  // 2·latency + kept (read before any write at ≤ j)
    int popped = (uint16_t)_mm_extract_epi16(_mm256_castsi256_si128(row->free), 0);
    row->keptTimes[row->keptCount] = (int16_t)(popped >> 1);
    row->keptCount += popped & 1;
    __m256i start = _mm256_broadcastw_epi16(_mm256_castsi256_si128(row->free));
    start = _mm256_andnot_si256(_mm256_set1_epi16(1), start);
    __m256i done = _mm256_add_epi16(start, code);
    __m256i upper = _mm256_permute2x128_si256(row->free, infinity, 0x21);  // [free lanes 8..15, +∞ × 8]
    __m256i shifted = _mm256_alignr_epi8(upper, row->free, 2);             // free[i + 1], +∞ in lane 15
    row->free = _mm256_min_epi16(shifted, _mm256_max_epi16(row->free, done));
}

__attribute__((target("avx2"))) static void front_finish(FrontRow *row, int units, LeopardRowFront *out) {
    // The last U completions, already sorted in the vector.
    int16_t lanes[16];
    _mm256_storeu_si256((__m256i *)lanes, row->free);
    for (int u = 0; u < units; u++) {
        row->keptTimes[row->keptCount] = (int16_t)(lanes[u] >> 1);
        row->keptCount += lanes[u] & 1;
    }
    out->span = row->keyCount > 0 ? lanes[units - 1] >> 1 : 0;  // the last unit to become free
    out->keptCount = row->keptCount;
    out->busy = row->busy;
}

__attribute__((target("avx2"))) static void front_rows_avx2(const LeopardRowKeys *keys, int rowCount,
                                                            int fixedLatency, int allKept, int cyclesPerPlane,
                                                            int units, LeopardRowFront *out) {
    const __m256i infinity = _mm256_set1_epi16(INT16_MAX);
    // Lanes below `units` start free at time 0 (not kept); the others are +∞.
    const __m256i lane = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m256i initial = _mm256_andnot_si256(_mm256_cmpgt_epi16(_mm256_set1_epi16((short)units), lane), infinity);
    const int keptAlways = allKept != 0;
    FrontRow rows[LEOPARD_FRONT_ROWS];
    int common = INT32_MAX;
    for (int r = 0; r < rowCount; r++) {
        rows[r] = (FrontRow){out[r].keptTimes, keys[r].keyCount, 0, 0, initial};
        rows[r].busy = front_codes(keys[r].planes, keys[r].kept, keys[r].keyCount, fixedLatency, keptAlways,
                                   cyclesPerPlane, rows[r].keptTimes);
        common = keys[r].keyCount < common ? keys[r].keyCount : common;
    }
    // The keys all of the first `together` rows have, interleaved (independent dependency chains); then each
    // row's remaining keys (all of them for a row outside the interleaved ones).
    int j = 0, together = rowCount == 4 ? 4 : (rowCount >= 2 ? 2 : 0);
    if (together == 4) {
        for (; j < common; j++) {
            front_key(&rows[0], j, infinity);
            front_key(&rows[1], j, infinity);
            front_key(&rows[2], j, infinity);
            front_key(&rows[3], j, infinity);
        }
    } else if (together == 2) {
        for (; j < common; j++) {
            front_key(&rows[0], j, infinity);
            front_key(&rows[1], j, infinity);
        }
    }
    for (int r = 0; r < rowCount; r++) {
        for (int k = r < together ? j : 0; k < rows[r].keyCount; k++) front_key(&rows[r], k, infinity);
        front_finish(&rows[r], units, &out[r]);
    }
}

int leopard_front_rows(const LeopardRowKeys *keys, int rowCount, int fixedLatency, int allKept,
                       int cyclesPerPlane, int units, LeopardRowFront *out) {
    if (!leopard_fast_rows_available() || units < 1 || units > LEOPARD_FAST_ROW_MAX_UNITS) return 0;
    if (rowCount < 1 || rowCount > LEOPARD_FRONT_ROWS) return 0;
    const long maxLatency = fixedLatency > 0 ? fixedLatency : (long)LEOPARD_MAX_PLANES * cyclesPerPlane;
    // List scheduling ends by Σ latency / U + max latency: keep every relative time below the limit.
    long longest = 0;
    for (int r = 0; r < rowCount; r++) longest = keys[r].keyCount > longest ? keys[r].keyCount : longest;
    if (maxLatency * (longest / units + 2) >= FRONT_TIME_LIMIT) return 0;
    front_rows_avx2(keys, rowCount, fixedLatency, allKept, cyclesPerPlane, units, out);
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
                       int cyclesPerPlane, int units, LeopardRowFront *out) {
    return 0;  // the general path everywhere
}

#endif

int leopard_back_row(int64_t start, const LeopardRowFront *row, int backCycles, int fifoDepth,
                     int64_t *fifoStarts, int64_t *pushCount, int64_t *fifoSlot, int64_t *backFree,
                     int32_t *scratch, int64_t *backBusy) {
    const int kept = row->keptCount;
    if (kept == 0) return 1;  // no push: the FIFO and the back-end are untouched
    const int64_t backlog = *backFree - start;
    if (backlog > (int64_t)1 << 30 || (int64_t)kept * backCycles > (int64_t)1 << 30) return 0;
    // hist[h0 + p] = back-end start (relative to `start`) of push P0 + p; p < 0 are the previous pushes, from
    // the ring (entry n sits at n % depth), or "long ago" before the matrix's first push.
    const int64_t p0 = *pushCount;
    const int depth = fifoDepth;
    const long h0 = depth;
    int32_t *hist = scratch;
    const int32_t longAgo = INT32_MIN / 2;
    // Entry p0 − i sits at (slot − i) mod depth; walked down without divisions.
    long ring = *fifoSlot;
    for (long i = 1; i <= h0; i++) {
        ring = ring == 0 ? depth - 1 : ring - 1;
        hist[h0 - i] = p0 - i < 0 ? longAgo : (int32_t)(fifoStarts[ring] - start);
    }
    int32_t backEnd = backlog > 0 ? (int32_t)backlog : (int32_t)-1;  // (≤ every push time, which are ≥ 0)
    const int c = backCycles;
    const int16_t *times = row->keptTimes;
    int stall = 0;
    for (int p = 0; p < kept; p++) {
        int32_t t = times[p];
        stall |= hist[h0 + p - depth] > t;  // entry n − depth has not started by t: the FIFO is full
        int32_t b0 = backEnd > t ? backEnd : t;
        hist[h0 + p] = b0;
        backEnd = b0 + c;
    }
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

long leopard_back_row_scratch_count(int keyCount, int fifoDepth) {
    return (long)fifoDepth + keyCount + 1;
}
