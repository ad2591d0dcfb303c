// The cycle model's fast path for query rows (see include/bit_kernels.h; the general path is
// SchedulerState.runRow in AcceleratorModel/CycleSimulator.swift, and tests compare the two on random rows).
//
// Why times alone suffice. Keys go, in order, to the free unit of lowest index; but which unit takes a key never
// changes any time: the next key always starts at the earliest unit-free time, whichever unit that is, and
// moves that unit's free time to start + latency. So the front-end is a multiset of U free times. We keep it
// as a sorted vector of 16 int16 lanes (relative to the row start; lanes past U hold +∞): per key, take lane 0
// (the minimum) and insert start + latency in order with one max, one shift and one min (a branch-free
// insertion; see front_key). The front-end of a row depends on nothing but the row, so two rows run
// interleaved (two independent dependency chains).
//
// FIFO pushes at the same cycle are interchangeable (same time, same back-end cost), so the back-end needs the
// kept keys' completion times only as counts per cycle: a counting pass, then a walk over the row's cycles
// where each cycle's k pushes start at b0 = max(t, backFree), b0 + c, ..., b0 + (k − 1)·c. A push that would
// find the FIFO full (entry n − depth not started yet) makes leopard_back_row give up before touching the
// caller's state; the caller then runs the general path for that row, which models the stall.

#include "bit_kernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

/// Relative times must stay below this (int16 lanes, +∞ = INT16_MAX).
#define FRONT_TIME_LIMIT 32000

typedef struct {
    const uint8_t *planes;
    const uint8_t *kept;
    int16_t *keptTimes;
    int keyCount;
    int keptCount;
    int64_t busy;
    __m256i free;  // sorted unit free times
} FrontRow;

/// One key: it starts at the earliest free time s = free[0] and ends at s + latency. The new sorted vector is
/// min(shift(free), max(free, s + latency)): lanes before the insertion point take their right neighbour (all
/// ≤ the new value), the insertion point takes the new value, later lanes keep theirs (all ≥ it).
__attribute__((target("avx2"))) static inline void front_key(FrontRow *row, int j, int fixedLatency, int keptAlways,
                                                            int cyclesPerPlane, __m256i infinity) {
    int latency = fixedLatency > 0 ? fixedLatency : row->planes[j] * cyclesPerPlane;
    __m256i start = _mm256_broadcastw_epi16(_mm256_castsi256_si128(row->free));
    __m256i done = _mm256_add_epi16(start, _mm256_set1_epi16((short)latency));
    __m256i upper = _mm256_permute2x128_si256(row->free, infinity, 0x21);  // [free lanes 8..15, +∞ × 8]
    __m256i shifted = _mm256_alignr_epi8(upper, row->free, 2);             // free[i + 1], +∞ in lane 15
    row->free = _mm256_min_epi16(shifted, _mm256_max_epi16(row->free, done));
    row->keptTimes[row->keptCount] = (int16_t)_mm_extract_epi16(_mm256_castsi256_si128(done), 0);
    row->keptCount += keptAlways | row->kept[j];
    row->busy += latency;
}

__attribute__((target("avx2"))) static void fronts(FrontRow *a, FrontRow *b, int fixedLatency, int keptAlways,
                                                   int cyclesPerPlane, int units) {
    const __m256i infinity = _mm256_set1_epi16(INT16_MAX);
    // Lanes below `units` start free at time 0.
    const __m256i lane = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m256i initial = _mm256_andnot_si256(_mm256_cmpgt_epi16(_mm256_set1_epi16((short)units), lane), infinity);
    a->free = initial;
    b->free = initial;
    int both = a->keyCount < b->keyCount ? a->keyCount : b->keyCount;
    for (int j = 0; j < both; j++) {
        front_key(a, j, fixedLatency, keptAlways, cyclesPerPlane, infinity);
        front_key(b, j, fixedLatency, keptAlways, cyclesPerPlane, infinity);
    }
    for (int j = both; j < a->keyCount; j++) front_key(a, j, fixedLatency, keptAlways, cyclesPerPlane, infinity);
    for (int j = both; j < b->keyCount; j++) front_key(b, j, fixedLatency, keptAlways, cyclesPerPlane, infinity);
}

__attribute__((target("avx2"))) static void front_rows_avx2(
        const uint8_t *planesA, const uint8_t *keptA, int keyCountA, const uint8_t *planesB, const uint8_t *keptB,
        int keyCountB, int fixedLatency, int allKept, int cyclesPerPlane, int units,
        LeopardRowFront *outA, LeopardRowFront *outB) {
    FrontRow a = {planesA, keptA, outA->keptTimes, keyCountA, 0, 0, _mm256_setzero_si256()};
    FrontRow b = {planesB, keptB, outB->keptTimes, keyCountB, 0, 0, _mm256_setzero_si256()};
    fronts(&a, &b, fixedLatency, allKept != 0, cyclesPerPlane, units);
    int16_t lanes[16];
    _mm256_storeu_si256((__m256i *)lanes, a.free);
    outA->span = a.keyCount > 0 ? lanes[units - 1] : 0;  // the last unit to become free (sorted lanes)
    outA->keptCount = a.keptCount;
    outA->busy = a.busy;
    _mm256_storeu_si256((__m256i *)lanes, b.free);
    outB->span = b.keyCount > 0 ? lanes[units - 1] : 0;
    outB->keptCount = b.keptCount;
    outB->busy = b.busy;
}

int leopard_front_rows(const uint8_t *planesA, const uint8_t *keptA, int keyCountA,
                       const uint8_t *planesB, const uint8_t *keptB, int keyCountB,
                       int fixedLatency, int allKept, int cyclesPerPlane, int units,
                       LeopardRowFront *outA, LeopardRowFront *outB) {
    if (leopard_kernel_level() < 2 || units < 1 || units > LEOPARD_FAST_ROW_MAX_UNITS) return 0;
    const long maxLatency = fixedLatency > 0 ? fixedLatency : (long)LEOPARD_MAX_PLANES * cyclesPerPlane;
    // List scheduling ends by Σ latency / U + max latency: keep every relative time inside int16.
    long longest = keyCountA > keyCountB ? keyCountA : keyCountB;
    if (maxLatency * (longest / units + 2) >= FRONT_TIME_LIMIT) return 0;
    front_rows_avx2(planesA, keptA, keyCountA, planesB, keptB, keyCountB, fixedLatency, allKept, cyclesPerPlane,
                    units, outA, outB);
    return 1;
}

#else

int leopard_front_rows(const uint8_t *planesA, const uint8_t *keptA, int keyCountA,
                       const uint8_t *planesB, const uint8_t *keptB, int keyCountB,
                       int fixedLatency, int allKept, int cyclesPerPlane, int units,
                       LeopardRowFront *outA, LeopardRowFront *outB) {
    return 0;  // the general path everywhere
}

#endif

int leopard_back_row(int64_t start, const LeopardRowFront *row, int backCycles, int fifoDepth,
                     int64_t *fifoStarts, int64_t *pushCount, int64_t *fifoSlot, int64_t *backFree,
                     int32_t *scratch, int64_t *backBusy) {
    if (row->keptCount == 0) return 1;  // no push: the FIFO and the back-end are untouched
    const int64_t backlog = *backFree - start;
    if (backlog > (int64_t)1 << 30 || (int64_t)row->keptCount * backCycles > (int64_t)1 << 30) return 0;
    // scratch: calendar[0...span] of kept completions per relative cycle, then the FIFO history:
    // hist[h0 + p] = back-end start (relative to `start`) of push P0 + p; p < 0 are the previous pushes, from
    // the ring (entry n sits at n % depth), or "long ago" before the matrix's first push.
    const int span = row->span;
    int32_t *calendar = scratch;
    int32_t *hist = scratch + span + 1;
    memset(calendar, 0, sizeof(int32_t) * (size_t)(span + 1));
    int first = span, lastTime = 0;
    for (int g = 0; g < row->keptCount; g++) {
        int time = row->keptTimes[g];
        calendar[time]++;
        first = time < first ? time : first;
        lastTime = time > lastTime ? time : lastTime;
    }
    const int64_t p0 = *pushCount;
    const long h0 = fifoDepth + 1;
    const int32_t longAgo = INT32_MIN / 2;
    for (long i = 1; i <= h0; i++) {
        int64_t n = p0 - i;
        hist[h0 - i] = (n < 0 || i > fifoDepth) ? longAgo : (int32_t)(fifoStarts[n % fifoDepth] - start);
    }
    int32_t backEnd = backlog > 0 ? (int32_t)backlog : 0;
    const int c = backCycles, depth = fifoDepth;
    long pushes = 0;
    for (int t = first; t <= lastTime; t++) {
        // k pushes at t (k ≤ units ≤ 16). Writes 16 history entries (the unused ones are overwritten by later
        // cycles; scratch has room), checks the last push against the entry `depth` pushes before it (starts
        // only grow, so that one binds; for k = 0 the index is still inside hist and the test is false).
        int k = calendar[t];
        int32_t b0 = backEnd > t ? backEnd : t;
        int32_t *h = hist + h0 + pushes;
        for (int i = 0; i < LEOPARD_FAST_ROW_MAX_UNITS; i++) h[i] = b0 + i * c;
        if ((k > 0) & (h[k - 1 - depth] > t)) return 0;  // a unit would stall: the general path
        backEnd = k > 0 ? b0 + k * c : backEnd;
        pushes += k;
    }
    // Commit: the ring gets the last min(depth, pushes) starts; counters and the back-end clock advance.
    long keep = pushes < depth ? pushes : depth;
    for (long p = pushes - keep; p < pushes; p++) fifoStarts[(p0 + p) % depth] = start + hist[h0 + p];
    *pushCount = p0 + pushes;
    *fifoSlot = (p0 + pushes) % depth;
    *backFree = start + backEnd;
    *backBusy += (int64_t)pushes * c;
    return 1;
}

long leopard_back_row_scratch_count(int keyCount, int fifoDepth, int span) {
    return (long)span + 1 + fifoDepth + 1 + keyCount + LEOPARD_FAST_ROW_MAX_UNITS;
}
