/* Monte Carlo batch driver and per-point aggregates. See a5_batch.h.
 *
 * Quantiles of the high-risk share come from a per-cell histogram over [0, 1]
 * that also keeps the smallest and largest value seen in each bin. An order
 * statistic is located exactly by the bin counts and estimated by interpolating
 * between that bin's extremes, so its error is at most the spread of values in
 * that bin (0 when they are all equal) and never more than the bin width. The
 * largest such spread over all reported quantiles is returned as a bound. */
#include "a5_batch.h"

#include "a5_model.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define AGG_BUDGET (32L << 20) /* bytes of histogram per point */
#define CHUNK_BYTES (256L << 10)

static const double quantile_levels[3] = {0.05, 0.5, 0.95};

/* One histogram bin: count and the extremes seen, together in one cache line. */
typedef struct {
    uint32_t n;
    float lo, hi;
} hbin;

typedef struct {
    size_t cells;
    int bins;
    uint32_t *count; /* cells x 3 policy counts */
    double *hsum;    /* cells */
    hbin *bin;       /* cells x bins */
} aggregate;

long a5_batch_chunk_reps(const a5_scenario *s)
{
    long per = (long)s->steps * s->n * 4;
    long r = CHUNK_BYTES / per;
    if (r < 1)
        r = 1;
    if (r > s->replicates)
        r = s->replicates;
    return r;
}

static int agg_alloc(aggregate *a, size_t cells, long replicates)
{
    memset(a, 0, sizeof *a);
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
    a->count = malloc(cells * 3 * sizeof *a->count);
    a->hsum = malloc(cells * sizeof *a->hsum);
    a->bin = malloc(cells * (size_t)bins * sizeof *a->bin);
    return a->count && a->hsum && a->bin ? 0 : A5_ENOMEM;
}

static void agg_reset(aggregate *a, int threads)
{
    memset(a->count, 0, a->cells * 3 * sizeof *a->count);
    memset(a->hsum, 0, a->cells * sizeof *a->hsum);
    const size_t B = (size_t)a->bins;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t c = 0; c < a->cells; c++)
        memset(a->bin + c * B, 0, B * sizeof *a->bin);
}

static void agg_free(aggregate *a)
{
    free(a->count);
    free(a->hsum);
    free(a->bin);
}

/* Fold replicates 0..nr-1 of rec into cell c, in replicate order. */
static void agg_cell(aggregate *a, const a5_records *rec, long nr, size_t c)
{
    const size_t cells = a->cells, B = (size_t)a->bins;
    uint32_t *cnt = a->count + 3 * c;
    hbin *bin = a->bin + B * c;
    double sum = a->hsum[c];
    for (long j = 0; j < nr; j++) {
        size_t idx = (size_t)j * cells + c;
        cnt[rec->policy[idx]]++;
        float v = rec->h[idx];
        sum += v;
        size_t b = (size_t)(v * (float)B);
        hbin *hb = bin + (b < B ? b : B - 1);
        if (hb->n++ == 0)
            hb->lo = hb->hi = v;
        else {
            hb->lo = v < hb->lo ? v : hb->lo;
            hb->hi = v > hb->hi ? v : hb->hi;
        }
    }
    a->hsum[c] = sum;
}

/* Order statistics ranks[0..n) (ascending, 0-based) of cell c in one scan of its
 * bins: each is interpolated between the extremes of the bin holding it, and
 * spread[] gets that bin's spread (the bound on the estimate's error). */
static void order_stats(const aggregate *a, size_t c, const uint64_t *ranks, int n, double *val,
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

static double agg_finish(const aggregate *a, long R, int threads, float *share, float *mean,
                         float *quant)
{
    /* numpy's default ("linear"): position q (R - 1) between order statistics. */
    uint64_t ranks[6];
    double frac[3];
    for (int q = 0; q < 3; q++) {
        double pos = quantile_levels[q] * (double)(R - 1);
        ranks[2 * q] = (uint64_t)floor(pos);
        ranks[2 * q + 1] = ranks[2 * q] + 1 < (uint64_t)R ? ranks[2 * q] + 1 : ranks[2 * q];
        frac[q] = pos - (double)ranks[2 * q];
    }
    double worst = 0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(max : worst)
    for (size_t c = 0; c < a->cells; c++) {
        for (int k = 0; k < 3; k++)
            share[3 * c + k] = (float)((double)a->count[3 * c + k] / (double)R);
        mean[c] = (float)(a->hsum[c] / (double)R);
        double v[6], sp[6];
        order_stats(a, c, ranks, 6, v, sp);
        for (int q = 0; q < 3; q++) {
            quant[3 * c + q] = (float)(v[2 * q] + frac[q] * (v[2 * q + 1] - v[2 * q]));
            worst = fmax(worst, fmax(sp[2 * q], sp[2 * q + 1]));
        }
    }
    return worst;
}

typedef struct {
    a5_records rec;
    long cap;
} block_buf;

static void block_free(block_buf *b)
{
    free(b->rec.policy);
    free(b->rec.h);
    free(b->rec.P);
    free(b->rec.first_ban);
    free(b->rec.final_policy);
    free(b->rec.cum_cost);
    free(b->rec.cum_risk);
}

static int block_alloc(block_buf *b, long reps, const a5_scenario *s)
{
    memset(b, 0, sizeof *b);
    size_t cells = (size_t)reps * (size_t)s->steps * (size_t)s->n, nn = (size_t)reps * (size_t)s->n;
    b->cap = reps;
    b->rec.policy = malloc(cells);
    b->rec.h = malloc(cells * sizeof(float));
    b->rec.P = s->store_full ? malloc(cells * sizeof(float)) : NULL;
    b->rec.first_ban = malloc(nn * sizeof(int16_t));
    b->rec.final_policy = malloc(nn);
    b->rec.cum_cost = malloc(nn * sizeof(float));
    b->rec.cum_risk = malloc(nn * sizeof(float));
    if (!b->rec.policy || !b->rec.h || (s->store_full && !b->rec.P) || !b->rec.first_ban ||
        !b->rec.final_policy || !b->rec.cum_cost || !b->rec.cum_risk) {
        block_free(b);
        memset(b, 0, sizeof *b);
        return A5_ENOMEM;
    }
    return 0;
}

int a5_batch_run(const a5_scenario *s, a5_output *out, const a5_batch_opts *o, a5_batch_stats *st)
{
    int threads = o && o->threads > 0 ? o->threads : omp_get_max_threads();
    long chunk = a5_batch_chunk_reps(s);
    /* A block holds whole chunks, enough replicates to keep every thread busy, and
     * about 4 MiB of step records so histogram bins are reused before eviction. */
    long want = (4L << 20) / ((long)s->steps * s->n * 9 + 1);
    if (want < 8L * threads)
        want = 8L * threads;
    long block = chunk * ((want + chunk - 1) / chunk);
    if (block > s->replicates)
        block = s->replicates;
    size_t cells = (size_t)s->steps * (size_t)s->n;
    int rc = 0;
    a5_model *m = a5_model_alloc(s);
    a5_work **works = calloc((size_t)threads, sizeof *works);
    aggregate agg;
    block_buf buf;
    float *share = malloc(cells * 3 * sizeof *share), *mean = malloc(cells * sizeof *mean),
          *quant = malloc(cells * 3 * sizeof *quant);
    int ok_agg = agg_alloc(&agg, cells, s->replicates) == 0, ok_buf = block_alloc(&buf, block, s) == 0;
    if (!m || !works || !share || !mean || !quant || !ok_agg || !ok_buf) {
        rc = A5_ENOMEM;
        goto done;
    }
    /* Each thread allocates its own scratch (its own malloc arena and cache lines). */
#pragma omp parallel num_threads(threads)
    works[omp_get_thread_num()] = a5_model_work_alloc(m);
    for (int t = 0; t < threads; t++)
        if (!works[t]) {
            rc = A5_ENOMEM;
            goto done;
        }
    double total = (double)s->npoints * (double)s->replicates, done = 0, worst = 0;
    for (long p = 0; p < s->npoints && !rc; p++) {
        agg_reset(&agg, threads);
        for (long r0 = 0; r0 < s->replicates && !rc; r0 += block) {
            long nr = s->replicates - r0 < block ? s->replicates - r0 : block;
#pragma omp parallel num_threads(threads)
            {
                /* The thread number only picks scratch memory, never a random stream. */
                a5_work *w = works[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 8)
                for (long j = 0; j < nr; j++)
                    a5_model_run(m, p, r0 + j, w, &buf.rec, j);
#pragma omp for schedule(static)
                for (size_t c = 0; c < cells; c++)
                    agg_cell(&agg, &buf.rec, nr, c);
            }
            rc = a5_output_write_block(out, p, r0, nr, &buf.rec);
            done += (double)nr;
            if (o && o->progress)
                o->progress(o->ctx, done, total);
        }
        if (rc)
            break;
        worst = fmax(worst, agg_finish(&agg, s->replicates, threads, share, mean, quant));
        if (p == 0 && st && st->final_share) {
            size_t last = (size_t)(s->steps - 1) * (size_t)s->n;
            memcpy(st->final_share, share + 3 * last, (size_t)s->n * 3 * sizeof *share);
            memcpy(st->final_mean, mean + last, (size_t)s->n * sizeof *mean);
        }
        rc = a5_output_write_point(out, p, share, mean, quant);
    }
    if (st) {
        st->quantile_error = worst;
        st->quantile_bins = agg.bins;
        st->runs = done;
    }
done:
    if (works)
        for (int t = 0; t < threads; t++)
            a5_model_work_free(works[t]);
    free(works);
    a5_model_free(m);
    agg_free(&agg);
    block_free(&buf);
    free(share);
    free(mean);
    free(quant);
    return rc;
}
