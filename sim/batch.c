/* Monte Carlo batch driver with checkpoints. See a5_batch.h. */
#include "a5_batch.h"

#include "a5_aggregate.h"
#include "a5_mem.h"
#include "a5_model.h"
#include "a5_sys.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES (256L << 10)
#define STATE_MAGIC "A5CKPT02"

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

typedef struct {
    a5_records rec;
    unsigned char *failed;
    a5_huge polmem, hmem; /* the step records, which the fold reads across replicates */
} block_buf;

static void block_free(block_buf *b)
{
    a5_huge_free(&b->polmem);
    a5_huge_free(&b->hmem);
    free(b->rec.P);
    free(b->rec.intel_status);
    free(b->rec.retaliation);
    free(b->rec.us_target);
    free(b->rec.china_target);
    free(b->rec.cum_retaliation);
    free(b->rec.cum_downgrade);
    free(b->rec.outcomes);
    free(b->rec.first_ban);
    free(b->rec.first_restrict);
    free(b->rec.final_policy);
    free(b->rec.cum_cost);
    free(b->rec.cum_risk);
    free(b->failed);
    memset(b, 0, sizeof *b);
}

/* size bytes when wanted (else NULL); a wanted allocation that fails sets *short_. */
static void *wanted(int want, size_t size, int *short_)
{
    void *p = want ? malloc(size) : NULL;
    *short_ |= want && !p;
    return p;
}

static int block_alloc(block_buf *b, long reps, const a5_scenario *s)
{
    memset(b, 0, sizeof *b);
    size_t cells = (size_t)reps * (size_t)s->steps * (size_t)s->n, nn = (size_t)reps * (size_t)s->n;
    b->rec.policy = a5_huge_alloc(&b->polmem, cells);
    b->rec.h = a5_huge_alloc(&b->hmem, cells * sizeof(float));
    const int rec = s->record;
    const int lever = (s->store_full && a5_model_uses_lever(s)) || (rec & A5_REC_INTEL);
    int nomem = 0;
    b->rec.P = wanted(s->store_full || (rec & A5_REC_US_PRESSURE) || a5_outcome_needs_pressure(s),
                      cells * sizeof(float), &nomem);
    b->rec.intel_status = wanted(lever, cells, &nomem);
    b->rec.retaliation = wanted(rec & A5_REC_RETALIATION, cells * sizeof(float), &nomem);
    b->rec.us_target = wanted(rec & A5_REC_US_TARGET, cells, &nomem);
    b->rec.china_target = wanted(rec & A5_REC_CHINA_TARGET, cells, &nomem);
    b->rec.cum_retaliation = wanted(rec & A5_REC_CUM_RETALIATION, nn * sizeof(float), &nomem);
    b->rec.cum_downgrade = wanted(rec & A5_REC_CUM_DOWNGRADE, nn * sizeof(float), &nomem);
    b->rec.outcomes = wanted(s->noutcomes > 0, (size_t)reps * s->noutcomes * sizeof(float), &nomem);
    b->rec.first_ban = malloc(nn * sizeof(int16_t));
    b->rec.first_restrict = malloc(nn * sizeof(int16_t));
    b->rec.final_policy = malloc(nn);
    b->rec.cum_cost = malloc(nn * sizeof(float));
    b->rec.cum_risk = malloc(nn * sizeof(float));
    b->failed = calloc((size_t)reps, 1);
    if (nomem || !b->rec.policy || !b->rec.h || !b->rec.first_ban || !b->rec.first_restrict ||
        !b->rec.final_policy || !b->rec.cum_cost || !b->rec.cum_risk || !b->failed) {
        block_free(b);
        return A5_ENOMEM;
    }
    return 0;
}

/* A failed replicate's records become fill values, so nothing of it is mistaken
 * for a result. */
static void blank_replicate(block_buf *b, const a5_scenario *s, long j)
{
    size_t cells = (size_t)s->steps * (size_t)s->n, n = (size_t)s->n;
    memset(b->rec.policy + (size_t)j * cells, -1, cells);
    if (b->rec.intel_status)
        memset(b->rec.intel_status + (size_t)j * cells, -1, cells);
    if (b->rec.us_target)
        memset(b->rec.us_target + (size_t)j * cells, -1, cells);
    if (b->rec.china_target)
        memset(b->rec.china_target + (size_t)j * cells, -1, cells);
    for (size_t c = 0; c < cells; c++) {
        b->rec.h[(size_t)j * cells + c] = NAN;
        if (b->rec.P)
            b->rec.P[(size_t)j * cells + c] = NAN;
        if (b->rec.retaliation)
            b->rec.retaliation[(size_t)j * cells + c] = NAN;
    }
    for (size_t i = 0; i < n; i++) {
        b->rec.first_ban[(size_t)j * n + i] = -2;
        b->rec.first_restrict[(size_t)j * n + i] = -2;
        b->rec.final_policy[(size_t)j * n + i] = -1;
        b->rec.cum_cost[(size_t)j * n + i] = NAN;
        b->rec.cum_risk[(size_t)j * n + i] = NAN;
        if (b->rec.cum_retaliation)
            b->rec.cum_retaliation[(size_t)j * n + i] = NAN;
        if (b->rec.cum_downgrade)
            b->rec.cum_downgrade[(size_t)j * n + i] = NAN;
    }
    for (size_t k = 0; k < s->noutcomes; k++)
        b->rec.outcomes[(size_t)j * s->noutcomes + k] = NAN;
}

/* --- checkpoint file --------------------------------------------------------------- */

typedef struct {
    uint64_t point, rep;   /* next replicate to run */
    double worst;          /* quantile error bound so far */
    double failed_total;   /* failed replicates so far */
    uint64_t failed_point; /* failed replicates of the current point */
    uint64_t stop_on_failure; /* the run's --on-failure: 1 stop, 0 continue */
} position;

/* The checkpoint's bytes: magic, the resolved scenario, the batch's shape, where it
 * is, the aggregates, then an FNV-1a checksum of all of that. The output module
 * stores them (a5_output_save_state). */
static int state_save(a5_output *out, const a5_scenario *s, const position *pos,
                      const a5_agg *agg, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return A5_ENOMEM;
    uint64_t tl = strlen(s->text);
    uint64_t dims[4] = {(uint64_t)s->npoints, (uint64_t)s->replicates, s->seed, (uint64_t)s->store_full};
    int ok = fwrite(STATE_MAGIC, 8, 1, m) == 1 && fwrite(&tl, sizeof tl, 1, m) == 1 &&
             fwrite(s->text, 1, tl, m) == tl && fwrite(dims, sizeof dims, 1, m) == 1 &&
             fwrite(pos, sizeof *pos, 1, m) == 1 && a5_agg_save(agg, m) == 0 && fflush(m) == 0;
    if (ok) {
        uint64_t sum = a5_sys_fnv1a(buf, len);
        ok = fwrite(&sum, sizeof sum, 1, m) == 1;
    }
    if (fclose(m) != 0 || !ok) {
        free(buf);
        return A5_ENOMEM;
    }
    int rc = a5_output_save_state(out, buf, len, err, errlen);
    free(buf);
    return rc;
}

/* The head of checkpoint bytes buf[0 .. len): the resolved scenario text into
 * *text (*tl bytes, not NUL-terminated). Returns 0, or why not: the message's
 * format, with the checkpoint's path for its %s. */
static const char *state_head(const char *buf, size_t len, const char **text, uint64_t *tl)
{
    uint64_t sum;
    if (len < 8 + sizeof sum || memcmp(buf, STATE_MAGIC, 8) != 0)
        return "%s is not an allied5g checkpoint";
    memcpy(&sum, buf + len - sizeof sum, sizeof sum);
    if (a5_sys_fnv1a(buf, len - sizeof sum) != sum)
        return "checkpoint %s is damaged (checksum mismatch)";
    if (len < 8 + sizeof *tl + sizeof sum)
        return "checkpoint %s is truncated";
    memcpy(tl, buf + 8, sizeof *tl);
    if (*tl > len - 8 - sizeof *tl - sizeof sum)
        return "checkpoint %s is truncated";
    *text = buf + 8 + sizeof *tl;
    return NULL;
}

const char *a5_batch_state_text(const char *buf, size_t len, uint64_t *tl)
{
    const char *text;
    return state_head(buf, len, &text, tl) ? NULL : text;
}

static int state_load(a5_output *out, const a5_scenario *s, position *pos, a5_agg *agg,
                      char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    const char *path = a5_output_state_path(out);
    int lrc = a5_output_load_state(out, &buf, &len, err, errlen);
    if (lrc)
        return lrc;
    int rc = A5_ERESUME;
    uint64_t tl, dims[4];
    const char *text = NULL, *why = state_head(buf, len, &text, &tl);
    /* After the text, before the checksum: the shape, the position, the aggregates. */
    const size_t at = why ? 0 : (size_t)(text - buf) + (size_t)tl, end = len - sizeof(uint64_t);
    if (!why && at >= end)
        why = "checkpoint %s is truncated";
    if (why) {
        snprintf(err, errlen, why, path);
        goto done;
    }
    FILE *m = fmemopen(buf + at, end - at, "rb");
    if (!m) {
        rc = A5_ENOMEM;
        goto done;
    }
    int ok = fread(dims, sizeof dims, 1, m) == 1 && fread(pos, sizeof *pos, 1, m) == 1;
    if (!ok) {
        snprintf(err, errlen, "checkpoint %s is truncated", path);
    } else if (tl != strlen(s->text) || memcmp(text, s->text, (size_t)tl) != 0) {
        /* Point at the first differing line of the resolved scenarios (a NUL in the
         * checkpoint's text ends the comparison at s->text's end). */
        int line = 1;
        const size_t sl = strlen(s->text);
        for (size_t k = 0; k < tl && k < sl && text[k] == s->text[k]; k++)
            line += text[k] == '\n';
        snprintf(err, errlen, "the scenario or its --set options differ from the interrupted "
                              "run (resolved scenario line %d); run with the same ones, or "
                              "start over with --force", line);
    } else if (dims[0] != (uint64_t)s->npoints || dims[1] != (uint64_t)s->replicates ||
               dims[2] != s->seed || dims[3] != (uint64_t)s->store_full ||
               pos->point > dims[0] || pos->rep >= dims[1]) {
        snprintf(err, errlen, "checkpoint %s does not match this batch", path);
    } else if ((rc = a5_agg_load(agg, m)) != 0) {
        snprintf(err, errlen, "checkpoint %s: aggregates do not match this batch", path);
        rc = A5_ERESUME;
    } else {
        rc = 0;
    }
    fclose(m);
done:
    free(buf);
    return rc;
}

/* --- the batch ---------------------------------------------------------------------- */

static int solo_max(a5_batch_team *t, int v)
{
    (void)t;
    return v;
}
static void solo_bcast(a5_batch_team *t, void *buf, size_t n)
{
    (void)t, (void)buf, (void)n;
}
static long solo_sum(a5_batch_team *t, long v)
{
    (void)t;
    return v;
}
static int solo_merge(a5_batch_team *t, a5_agg *agg, int threads)
{
    (void)t, (void)agg, (void)threads;
    return 0;
}

/* Codes are negative; the team agrees on the worst (lowest) one. */
static int agree(a5_batch_team *t, int rc) { return -t->max_int(t, -rc); }

/* A batch in progress: what every round of it reads and updates. */
typedef struct {
    const a5_scenario *s;
    a5_output *out;
    const a5_batch_opts *o;
    a5_batch_stats *st;
    a5_batch_team *team;
    int root, threads;
    long block; /* replicates per block */
    size_t cells;
    a5_model *m;
    a5_work **works; /* per thread */
    a5_agg *agg;
    block_buf bufs[2]; /* one being computed while the previous one is written */
    int cur;
    struct {
        int have;
        long p, r0, nr;
    } pend; /* the block waiting to be written */
    float *share, *mean, *quant;
    position pos;
    int stop_on_failure; /* in force: the option, or the resumed run's */
    double total, done, committed, last_commit;
    char *err;
    size_t errlen;
} batch;

/* Replicates per block: whole chunks, enough replicates to keep every thread busy,
 * and about 8 MiB of step records: every block's fold goes through every cell's
 * histogram, so fewer blocks reload fewer bins (B1 ~3 % faster than with 4 MiB;
 * 16 and 32 MiB were no faster). */
static long block_size(const a5_scenario *s, int threads, const a5_batch_team *team)
{
    long chunk = a5_batch_chunk_reps(s);
    long want = (8L << 20) / ((long)s->steps * s->n * 9 + 1);
    if (want < 8L * threads)
        want = 8L * threads;
    if (team->size > 1) {
        /* Every round ends in collective writes: fewer, larger blocks (up to 32 MiB of
         * records, a few rounds per point) keep that cost small. */
        long big = (32L << 20) / ((long)s->steps * s->n * 9 + 1);
        long per_rank = s->replicates / (2L * team->size);
        long more = per_rank < big ? per_rank : big;
        if (more > want)
            want = more;
        /* ... but every rank gets a block of every point: a point in one block left
         * the other ranks idle (a robust design's many points of 1,000 replicates). */
        long fair = (s->replicates + team->size - 1) / team->size;
        if (want > fair)
            want = fair;
    }
    long block = chunk * ((want + chunk - 1) / chunk);
    if (block > (1L << 22)) /* a5_agg_fold's limit is 2^23 */
        block = chunk * ((1L << 22) / chunk > 0 ? (1L << 22) / chunk : 1);
    if (block > s->replicates)
        block = s->replicates;
    return block;
}

/* Allocate everything, and with o->resume take over the checkpoint. Returns 0 or
 * an A5_E* code agreed by the team. */
static int batch_setup(batch *b)
{
    const a5_scenario *s = b->s;
    const long R = s->replicates;
    int rc = 0;
    b->block = block_size(s, b->threads, b->team);
    b->team->bcast(b->team, &b->block, sizeof b->block); /* every rank deals the same blocks */
    b->cells = (size_t)s->steps * (size_t)s->n;
    b->m = a5_model_alloc(s);
    b->works = calloc((size_t)b->threads, sizeof *b->works);
    b->agg = a5_agg_alloc(b->cells, R);
    b->share = malloc(b->cells * 3 * sizeof *b->share);
    b->mean = malloc(b->cells * sizeof *b->mean);
    b->quant = malloc(b->cells * 3 * sizeof *b->quant);
    int ok_buf = block_alloc(&b->bufs[0], b->block, s) == 0;
    ok_buf = block_alloc(&b->bufs[1], b->block, s) == 0 && ok_buf;
    if (!b->m || !b->works || !b->agg || !b->share || !b->mean || !b->quant || !ok_buf)
        rc = A5_ENOMEM;
    if ((rc = agree(b->team, rc)) != 0)
        return rc;
    /* Each thread allocates its own scratch (its own malloc arena and cache lines). */
    a5_work **works = b->works;
    a5_model *m = b->m;
#pragma omp parallel num_threads(b->threads)
    works[omp_get_thread_num()] = a5_model_work_alloc(m);
    for (int t = 0; t < b->threads; t++)
        if (!works[t])
            rc = A5_ENOMEM;
    a5_agg_reset(b->agg, b->threads);
    b->pos.stop_on_failure = b->o->stop_on_failure > 0;
    if (!rc && b->o->resume && b->root)
        rc = state_load(b->out, s, &b->pos, b->agg, b->err, b->errlen);
    /* Everything the checkpoint vouches for must read back whole. */
    if (!rc && b->o->resume && b->root)
        rc = a5_output_verify(b->out, (long)b->pos.point, (long)b->pos.rep, b->err, b->errlen);
    if ((rc = agree(b->team, rc)) != 0 || !b->o->resume)
        return rc;
    b->team->bcast(b->team, &b->pos, sizeof b->pos);
    /* The run's --on-failure holds for its resumes, unless given again. */
    if (b->o->stop_on_failure >= 0)
        b->pos.stop_on_failure = (uint64_t)b->o->stop_on_failure;
    b->stop_on_failure = (int)b->pos.stop_on_failure;
    b->done = b->committed = (double)b->pos.point * (double)R + (double)b->pos.rep;
    if (b->st)
        b->st->resumed = b->done;
    if (b->pos.point > 0 && b->root && b->st && b->st->final_share && !s->store_outcomes)
        rc = a5_output_read_final(b->out, 0, b->st->final_share, b->st->final_mean, b->err,
                                  b->errlen);
    return agree(b->team, rc);
}

/* Point p complete: rank 0 gathers the aggregates, writes the point, and everyone
 * starts the next point from empty aggregates. */
static int finish_point(batch *b, long p)
{
    const a5_scenario *s = b->s;
    const long R = s->replicates;
    int rc = b->team->merge(b->team, b->agg, b->threads);
    if (rc)
        return rc;
    long n_ok = R - (long)b->pos.failed_point;
    double wq = b->root && !s->store_outcomes
                    ? a5_agg_finish(b->agg, n_ok, b->threads, b->share, b->mean, b->quant)
                    : 0;
    b->pos.worst = fmax(b->pos.worst, wq);
    if (p == 0 && b->root && b->st && b->st->final_share && !s->store_outcomes) {
        size_t lastc = (size_t)(s->steps - 1) * (size_t)s->n;
        memcpy(b->st->final_share, b->share + 3 * lastc, (size_t)s->n * 3 * sizeof *b->share);
        memcpy(b->st->final_mean, b->mean + lastc, (size_t)s->n * sizeof *b->mean);
    }
    rc = agree(b->team, b->root ? a5_output_write_point(b->out, p, b->share, b->mean, b->quant,
                                                        R - n_ok, b->err, b->errlen)
                                : a5_output_write_point(b->out, p, NULL, NULL, NULL, 0, b->err,
                                                        b->errlen));
    if (rc)
        return rc;
    if (p + 1 < s->npoints)
        a5_agg_reset(b->agg, b->threads);
    b->pos.point = (uint64_t)p + 1;
    b->pos.rep = 0;
    b->pos.failed_point = 0;
    return 0;
}

/* Flush and sync the results, then save the checkpoint. */
static int checkpoint(batch *b)
{
    int rc = agree(b->team, a5_output_commit(b->out, b->err, b->errlen));
    if (!rc)
        rc = b->team->merge(b->team, b->agg, b->threads);
    if (!rc && b->root)
        rc = state_save(b->out, b->s, &b->pos, b->agg, b->err, b->errlen);
    if ((rc = agree(b->team, rc)) != 0)
        return rc;
    b->committed = b->done;
    b->last_commit = a5_sys_now();
    return 0;
}

/* Round q of point p (replicates from rstart, nblocks blocks): rank k runs block
 * q * size + k, if there is one, while the previous block is written. Returns 0,
 * or the code that ends the batch (A5_EINTERRUPT, A5_EFAILED, errors). */
static int run_round(batch *b, long p, long rstart, long nblocks, long q)
{
    const a5_scenario *s = b->s;
    const a5_batch_opts *o = b->o;
    a5_batch_team *team = b->team;
    const long R = s->replicates, block = b->block;
    const size_t cells = b->cells;
    long bi = q * team->size + team->rank, r0 = rstart + bi * block;
    long nr = bi < nblocks ? (R - r0 < block ? R - r0 : block) : 0;
    block_buf *buf = &b->bufs[b->cur], *prev = &b->bufs[1 - b->cur];
    memset(buf->failed, 0, (size_t)block);
    int wrc = 0, rc;
    a5_model *m = b->m;
    a5_work **works = b->works;
    a5_agg *agg = b->agg;
#pragma omp parallel num_threads(b->threads)
    {
        /* The main thread writes the previous block (HDF5 and MPI are called from it
         * alone) while the others start on this one; it joins them when done. The
         * thread number only picks scratch memory, never a random stream. */
#pragma omp master
        if (b->pend.have)
            wrc = a5_output_write_block(b->out, b->pend.p, b->pend.r0, b->pend.nr, &prev->rec,
                                        b->err, b->errlen);
        a5_work *w = works[omp_get_thread_num()];
        /* Any nonzero return of a5_model_run is a failed replicate. */
#pragma omp for schedule(dynamic, 8)
        for (long j = 0; j < nr; j++)
            buf->failed[j] = (unsigned char)(a5_model_run(m, p, r0 + j, w, &buf->rec, j) != 0 ||
                                             r0 + j == o->inject_failure);
        /* Cells in ranges of 64 (whole tiles of the fold's 8); store outcomes keeps
         * no aggregates. */
        const size_t fold_cells = s->store_outcomes ? 0 : cells;
#pragma omp for schedule(static)
        for (size_t c = 0; c < fold_cells; c += 64)
            a5_agg_fold(agg, &buf->rec, nr, buf->failed, c, c + 64 < cells ? c + 64 : cells);
    }
    b->pend.have = 0;
    if ((rc = agree(team, wrc)) != 0)
        return rc;
    long nfail = 0;
    for (long j = 0; j < nr; j++)
        if (buf->failed[j]) {
            blank_replicate(buf, s, j);
            nfail++;
        }
    b->pend.have = 1;
    b->pend.p = p;
    b->pend.r0 = r0;
    b->pend.nr = nr;
    b->cur = 1 - b->cur;
    /* Replicates run in this round by the whole team. */
    long last = (q + 1) * team->size < nblocks ? (q + 1) * team->size : nblocks;
    long upto = rstart + last * block < R ? rstart + last * block : R;
    long round_fail = team->sum(team, nfail); /* failures in the round, all ranks */
    b->pos.failed_point += (uint64_t)round_fail;
    b->pos.failed_total += (double)round_fail;
    b->done = (double)p * (double)R + (double)upto;
    int fail_stop = round_fail && b->stop_on_failure;
    int stopping = team->max_int(team, o->stop && *o->stop) || fail_stop;
    /* Clocks differ between ranks: rank 0's decides when to checkpoint. */
    int due = team->max_int(team, b->root && a5_sys_now() - b->last_commit >= o->commit_seconds);
    if (upto == R || stopping || (due && o->checkpoint)) {
        /* Points, checkpoints and stops need every block on disk. */
        b->pend.have = 0;
        rc = agree(team, a5_output_write_block(b->out, p, r0, nr, &buf->rec, b->err, b->errlen));
        if (rc)
            return rc;
    }
    b->pos.point = (uint64_t)p;
    b->pos.rep = (uint64_t)upto;
    if (upto == R && (rc = finish_point(b, p)) != 0)
        return rc;
    if (o->progress && b->root)
        o->progress(o->ctx, b->done, b->total);
    int finished = b->pos.point == (uint64_t)s->npoints;
    if (o->checkpoint && (fail_stop || (!finished && (stopping || due))) &&
        (rc = checkpoint(b)) != 0)
        return rc;
    if (fail_stop || (stopping && !finished))
        return fail_stop ? A5_EFAILED : A5_EINTERRUPT;
    return 0;
}

int a5_batch_run(const a5_scenario *s, a5_output *out, const a5_batch_opts *o,
                 a5_batch_stats *st, char *err, size_t errlen)
{
    static const a5_batch_opts none = {.inject_failure = -1};
    a5_batch_team solo = {0, 1, solo_max, solo_sum, solo_bcast, solo_merge};
    batch b;
    memset(&b, 0, sizeof b);
    b.s = s;
    b.out = out;
    b.o = o ? o : &none;
    b.st = st;
    b.team = b.o->team ? b.o->team : &solo;
    b.root = b.team->rank == 0;
    b.threads = b.o->threads > 0 ? b.o->threads : omp_get_max_threads();
    b.total = (double)s->npoints * (double)s->replicates;
    b.err = err;
    b.errlen = errlen;
    err[0] = 0;
    b.stop_on_failure = b.o->stop_on_failure > 0;
    int rc = batch_setup(&b);
    if (!rc && b.o->resume && b.stop_on_failure && b.pos.failed_total > 0) {
        /* The interrupted run stopped at a failed replicate: so does its resume. */
        snprintf(err, errlen, "%.0f replicate%s failed before the interruption and the run "
                              "is set to --on-failure stop", b.pos.failed_total,
                 b.pos.failed_total == 1 ? "" : "s");
        rc = A5_EFAILED;
    }
    b.last_commit = a5_sys_now();
    for (long p = (long)b.pos.point; p < s->npoints && !rc; p++) {
        const long rstart = p == (long)b.pos.point ? (long)b.pos.rep : 0;
        const long nblocks = (s->replicates - rstart + b.block - 1) / b.block;
        for (long q = 0; q * b.team->size < nblocks && !rc; q++)
            rc = run_round(&b, p, rstart, nblocks, q);
    }
    if (st) {
        st->quantile_error = b.pos.worst;
        st->quantile_bins = b.agg ? a5_agg_bins(b.agg) : 0;
        st->runs = b.done;
        st->committed = b.committed;
        st->failed = b.pos.failed_total;
    }
    if (b.works)
        for (int t = 0; t < b.threads; t++)
            a5_model_work_free(b.works[t]);
    free(b.works);
    a5_model_free(b.m);
    a5_agg_free(b.agg);
    block_free(&b.bufs[0]);
    block_free(&b.bufs[1]);
    free(b.share);
    free(b.mean);
    free(b.quant);
    return rc;
}
