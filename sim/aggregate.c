/* Per-point aggregates and their checkpoint form. See a5_aggregate.h. */
#include "a5_aggregate.h"
#include "a5_mem.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define AGG_BUDGET (32L << 20) /* bytes of histogram per point */

static const double quantile_levels[3] = {0.05, 0.5, 0.95};

/* One histogram bin: count and the extremes seen, together in one cache line. */
typedef struct {
    uint32_t n;
    float lo, hi;
} hbin;

/* An exact sum of float32 values in [0, 1]: a 192-bit fixed-point integer whose
 * bit 0 is worth 2^-149 (the smallest float32). Every float32 in [0, 1] is a whole
 * number of those, so sums are exact and the same in any order: the mean does not
 * depend on how replicates are shared among threads or processes. */
typedef struct {
    uint64_t w[3];
} xsum;

/* s += (a0 + a1 2^64 + a2 2^128), carrying between the limbs. */
static inline void xsum_add3(xsum *s, uint64_t a0, uint64_t a1, uint64_t a2)
{
    const uint64_t a[3] = {a0, a1, a2};
    uint64_t carry = 0;
    for (int k = 0; k < 3; k++) {
        uint64_t x = s->w[k] + a[k];
        uint64_t c = x < a[k];
        s->w[k] = x + carry;
        carry = c + (s->w[k] < carry);
    }
}

static inline void xsum_add(xsum *s, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint32_t e = (bits >> 23) & 0xFF, m = bits & 0x7FFFFF;
    unsigned p = 0;
    if (e) {
        m |= 0x800000;
        p = e - 1; /* value = m * 2^(e - 150) = (m << (e - 1)) * 2^-149 */
    }
    if (p > 126) /* values above 1 do not occur; keep within the accumulator */
        p = 126;
    unsigned sh = p & 63;
    uint64_t lo = (uint64_t)m << sh, hi = sh > 40 ? (uint64_t)m >> (64 - sh) : 0;
    if (p >= 64) {
        /* The usual case (v >= 2^-85): limbs 1 and 2 only; hi + carry < 2^25 cannot
         * overflow, and limb 2 has room for 2^40 such additions. */
        uint64_t old = s->w[1];
        s->w[1] += lo;
        s->w[2] += hi + (s->w[1] < old);
    } else if (bits) {
        xsum_add3(s, lo, hi, 0);
    }
}

static inline void xsum_merge(xsum *a, const xsum *b) { xsum_add3(a, b->w[0], b->w[1], b->w[2]); }

static double xsum_value(const xsum *s)
{
    long double v = ldexpl((long double)s->w[2], 128 - 149) + ldexpl((long double)s->w[1], 64 - 149) +
                    ldexpl((long double)s->w[0], -149);
    return (double)v;
}

struct a5_agg {
    size_t cells;
    int bins;
    uint32_t *count; /* cells x 3 policy counts */
    xsum *hsum;      /* cells */
    hbin *bin;       /* cells x bins, in huge pages where allowed */
    a5_huge binmem;
    int clean;       /* all zero (fresh from calloc, or reset and not touched since) */
};

a5_agg *a5_agg_alloc(size_t cells, long replicates)
{
    a5_agg *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cells = cells;
    /* Up to 2048 bins within the budget, and no more than about 4 per replicate
     * (at least 256): with few replicates most bins would stay empty, and every
     * point clears them all. */
    long b = AGG_BUDGET / (long)(cells * sizeof(hbin));
    long cap = 4 * replicates < 256 ? 256 : 4 * replicates;
    int bins = 16;
    while (bins * 2 <= b && bins * 2 <= cap && bins < 2048)
        bins *= 2;
    a->bins = bins;
    a->count = calloc(cells * 3, sizeof *a->count);
    a->hsum = calloc(cells, sizeof *a->hsum);
    /* Up to 32 MiB reached at random by the fold: B1 ~5 % faster in huge pages. */
    a->bin = a5_huge_alloc(&a->binmem, cells * (size_t)bins * sizeof *a->bin);
    if (!a->count || !a->hsum || !a->bin) {
        a5_agg_free(a);
        return NULL;
    }
    a->clean = 1;
    return a;
}

void a5_agg_free(a5_agg *a)
{
    if (!a)
        return;
    free(a->count);
    free(a->hsum);
    a5_huge_free(&a->binmem);
    free(a);
}

int a5_agg_bins(const a5_agg *a) { return a->bins; }

void a5_agg_reset(a5_agg *a, int threads)
{
    /* Tens of MiB of bins: clearing them when they are already clear would also
     * make the system back every page of the calloc'd memory at once. */
    if (__atomic_load_n(&a->clean, __ATOMIC_RELAXED))
        return;
    a->clean = 1;
    memset(a->count, 0, a->cells * 3 * sizeof *a->count);
    memset(a->hsum, 0, a->cells * sizeof *a->hsum);
    const size_t B = (size_t)a->bins;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t c = 0; c < a->cells; c++)
        memset(a->bin + c * B, 0, B * sizeof *a->bin);
}

enum { FOLD_TILE = 8 };

/* Replicates 0..nr-1 into cells t0 .. t0+nc-1 (nc <= FOLD_TILE), replicate by
 * replicate: each replicate's records of the tile are contiguous, and consecutive
 * updates go to different cells' counters and bins, so none waits for the one
 * before. Each cell still sees its replicates in order. Called with a constant nc
 * for whole tiles, the cell loop is unrolled: each cell's bin update is then its
 * own load and store instructions, which memory dependence prediction can track
 * apart (B1 was 2-5 % faster unrolled than with the loop). */
static inline __attribute__((always_inline)) void fold_cells(a5_agg *a, const a5_records *rec,
                                                              long nr, const unsigned char *failed,
                                                              size_t t0, size_t nc)
{
    const size_t cells = a->cells, B = (size_t)a->bins;
    uint32_t cnt[FOLD_TILE][3];
    /* Sums of values >= 2^-17 in units of 2^-40 (exact: such a float is a whole
     * number of them, and fewer than 2^23 values fit below 2^63); smaller non-zero
     * values go straight into the exact sum. */
    uint64_t acc[FOLD_TILE];
    memset(cnt, 0, sizeof cnt);
    memset(acc, 0, sizeof acc);
    for (long j = 0; j < nr; j++) {
        if (failed && failed[j])
            continue;
        const int8_t *pp = rec->policy + (size_t)j * cells + t0;
        const float *hh = rec->h + (size_t)j * cells + t0;
#pragma GCC unroll 8
        for (size_t q = 0; q < nc; q++) {
            cnt[q][pp[q]]++;
            const float v = hh[q];
            if (v >= 0x1p-17f) /* signed conversions: one instruction each */
                acc[q] += (uint64_t)(int64_t)(v * 0x1p40f);
            else if (v != 0)
                xsum_add(&a->hsum[t0 + q], v);
            int32_t b = (int32_t)(v * (float)B); /* v in [0, 1] */
            b = b < (int32_t)B ? (b > 0 ? b : 0) : (int32_t)B - 1;
            hbin *hb = a->bin + B * (t0 + q) + b;
            if (hb->n++ == 0)
                hb->lo = hb->hi = v;
            else {
                hb->lo = v < hb->lo ? v : hb->lo;
                hb->hi = v > hb->hi ? v : hb->hi;
            }
        }
    }
    for (size_t q = 0; q < nc; q++) {
        for (int k = 0; k < 3; k++)
            a->count[3 * (t0 + q) + (size_t)k] += cnt[q][k];
        /* acc 2^-40 = acc 2^109 in units of 2^-149: limb 1 from bit 45 up. */
        xsum_add3(&a->hsum[t0 + q], 0, acc[q] << 45, acc[q] >> 19);
    }
}

void a5_agg_fold(a5_agg *a, const a5_records *rec, long nr, const unsigned char *failed, size_t c0,
                 size_t c1)
{
    __atomic_store_n(&a->clean, 0, __ATOMIC_RELAXED); /* folds run concurrently */
    for (size_t t0 = c0; t0 < c1; t0 += FOLD_TILE) {
        if (c1 - t0 >= FOLD_TILE)
            fold_cells(a, rec, nr, failed, t0, FOLD_TILE);
        else
            fold_cells(a, rec, nr, failed, t0, c1 - t0);
    }
}

/* Order statistics ranks[0..n) (ascending, 0-based) of cell c in one scan of its
 * bins; spread[] gets the spread of the bin holding each. */
static void order_stats(const a5_agg *a, size_t c, const uint64_t *ranks, int n, double *val,
                        double *spread)
{
    const size_t B = (size_t)a->bins;
    const hbin *bin = a->bin + B * c;
    uint64_t before = 0;
    int r = 0;
    for (size_t b = 0; b < B && r < n; b++) {
        while (r < n && before + bin[b].n > ranks[r]) {
            double lo = bin[b].lo, hi = bin[b].hi;
            uint32_t cnt = bin[b].n;
            spread[r] = hi - lo;
            val[r] = cnt == 1 ? lo : lo + (hi - lo) * (double)(ranks[r] - before) / (double)(cnt - 1);
            r++;
        }
        before += bin[b].n;
    }
    for (; r < n; r++) {
        val[r] = NAN;
        spread[r] = 0;
    }
}

double a5_agg_finish(const a5_agg *a, long n, int threads, float *share, float *mean,
                     float *quant)
{
    /* numpy's default ("linear"): position q (n - 1) between order statistics. */
    uint64_t ranks[6];
    double frac[3];
    for (int q = 0; q < 3; q++) {
        double pos = n > 0 ? quantile_levels[q] * (double)(n - 1) : 0;
        ranks[2 * q] = (uint64_t)floor(pos);
        ranks[2 * q + 1] = ranks[2 * q] + 1 < (uint64_t)n ? ranks[2 * q] + 1 : ranks[2 * q];
        frac[q] = pos - (double)ranks[2 * q];
    }
    double worst = 0, dn = n > 0 ? (double)n : NAN;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(max : worst)
    for (size_t c = 0; c < a->cells; c++) {
        for (int k = 0; k < 3; k++)
            share[3 * c + k] = (float)((double)a->count[3 * c + k] / dn);
        mean[c] = (float)(xsum_value(&a->hsum[c]) / dn);
        double v[6], sp[6];
        order_stats(a, c, ranks, 6, v, sp);
        for (int q = 0; q < 3; q++) {
            quant[3 * c + q] = (float)(v[2 * q] + frac[q] * (v[2 * q + 1] - v[2 * q]));
            worst = fmax(worst, fmax(sp[2 * q], sp[2 * q + 1]));
        }
    }
    return worst;
}

/* Checkpoint form: cells, bins, counts, sums, then the non-empty bins as
 * (cell, bin, n, lo, hi) records, terminated by cell = UINT32_MAX. */
typedef struct {
    uint32_t cell, bin, n;
    float lo, hi;
} bin_record;

int a5_agg_save(const a5_agg *a, FILE *f)
{
    uint64_t head[2] = {a->cells, (uint64_t)a->bins};
    if (fwrite(head, sizeof head, 1, f) != 1 ||
        fwrite(a->count, sizeof *a->count, a->cells * 3, f) != a->cells * 3 ||
        fwrite(a->hsum, sizeof *a->hsum, a->cells, f) != a->cells)
        return A5_EIO;
    const size_t B = (size_t)a->bins;
    for (size_t c = 0; c < a->cells; c++)
        for (size_t b = 0; b < B; b++) {
            const hbin *h = &a->bin[c * B + b];
            if (!h->n)
                continue;
            bin_record r = {(uint32_t)c, (uint32_t)b, h->n, h->lo, h->hi};
            if (fwrite(&r, sizeof r, 1, f) != 1)
                return A5_EIO;
        }
    bin_record end = {UINT32_MAX, 0, 0, 0, 0};
    return fwrite(&end, sizeof end, 1, f) == 1 ? 0 : A5_EIO;
}

/* Read a saved state into a, replacing it (merge 0) or adding to it (merge 1). */
static int agg_read(a5_agg *a, FILE *f, int merge)
{
    uint64_t head[2];
    if (fread(head, sizeof head, 1, f) != 1)
        return A5_EIO;
    if (head[0] != a->cells || head[1] != (uint64_t)a->bins)
        return A5_ESCENARIO;
    a->clean = 0;
    const size_t B = (size_t)a->bins;
    for (size_t c = 0; c < a->cells * 3; c++) {
        uint32_t v;
        if (fread(&v, sizeof v, 1, f) != 1)
            return A5_EIO;
        a->count[c] = merge ? a->count[c] + v : v;
    }
    for (size_t c = 0; c < a->cells; c++) {
        xsum v;
        if (fread(&v, sizeof v, 1, f) != 1)
            return A5_EIO;
        if (merge)
            xsum_merge(&a->hsum[c], &v);
        else
            a->hsum[c] = v;
    }
    if (!merge)
        memset(a->bin, 0, a->cells * B * sizeof *a->bin);
    for (;;) {
        bin_record r;
        if (fread(&r, sizeof r, 1, f) != 1)
            return A5_EIO;
        if (r.cell == UINT32_MAX)
            return 0;
        if (r.cell >= a->cells || r.bin >= B || r.n == 0)
            return A5_ESCENARIO;
        hbin *h = &a->bin[r.cell * B + r.bin];
        if (h->n == 0) {
            *h = (hbin){r.n, r.lo, r.hi};
        } else {
            h->n += r.n;
            h->lo = r.lo < h->lo ? r.lo : h->lo;
            h->hi = r.hi > h->hi ? r.hi : h->hi;
        }
    }
}

int a5_agg_load(a5_agg *a, FILE *f) { return agg_read(a, f, 0); }

int a5_agg_merge_saved(a5_agg *a, FILE *f) { return agg_read(a, f, 1); }
