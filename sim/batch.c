/* Monte Carlo batch driver with checkpoints. See a5_batch.h. */
#include "a5_batch.h"

#include "a5_aggregate.h"
#include "a5_mem.h"
#include "a5_model.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_BYTES (256L << 10)
#define STATE_MAGIC "A5CKPT01"

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
    free(b->rec.first_ban);
    free(b->rec.final_policy);
    free(b->rec.cum_cost);
    free(b->rec.cum_risk);
    free(b->failed);
    memset(b, 0, sizeof *b);
}

static int block_alloc(block_buf *b, long reps, const a5_scenario *s)
{
    memset(b, 0, sizeof *b);
    size_t cells = (size_t)reps * (size_t)s->steps * (size_t)s->n, nn = (size_t)reps * (size_t)s->n;
    b->rec.policy = a5_huge_alloc(&b->polmem, cells);
    b->rec.h = a5_huge_alloc(&b->hmem, cells * sizeof(float));
    b->rec.P = s->store_full ? malloc(cells * sizeof(float)) : NULL;
    b->rec.first_ban = malloc(nn * sizeof(int16_t));
    b->rec.final_policy = malloc(nn);
    b->rec.cum_cost = malloc(nn * sizeof(float));
    b->rec.cum_risk = malloc(nn * sizeof(float));
    b->failed = calloc((size_t)reps, 1);
    if (!b->rec.policy || !b->rec.h || (s->store_full && !b->rec.P) || !b->rec.first_ban ||
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
    for (size_t c = 0; c < cells; c++) {
        b->rec.h[(size_t)j * cells + c] = NAN;
        if (b->rec.P)
            b->rec.P[(size_t)j * cells + c] = NAN;
    }
    for (size_t i = 0; i < n; i++) {
        b->rec.first_ban[(size_t)j * n + i] = -2;
        b->rec.final_policy[(size_t)j * n + i] = -1;
        b->rec.cum_cost[(size_t)j * n + i] = NAN;
        b->rec.cum_risk[(size_t)j * n + i] = NAN;
    }
}

/* --- checkpoint file --------------------------------------------------------------- */

typedef struct {
    uint64_t point, rep;   /* next replicate to run */
    double worst;          /* quantile error bound so far */
    double failed_total;   /* failed replicates so far */
    uint64_t failed_point; /* failed replicates of the current point */
} position;

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int fsync_dir_of(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return -1;
    int fd = open(dirname(d), O_RDONLY | O_DIRECTORY);
    free(d);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write all of buf, retrying short writes (a nearly full disk takes part of a
 * write and fails the next part with ENOSPC). Returns 0, or -1 with errno set. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = ENOSPC;
            return -1;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

static int state_save(const char *path, const a5_scenario *s, const position *pos,
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
             fwrite(pos, sizeof *pos, 1, m) == 1 && a5_agg_save(agg, m) == 0;
    if (fclose(m) != 0 || !ok) {
        free(buf);
        return A5_ENOMEM;
    }
    uint64_t sum = fnv1a((unsigned char *)buf, len);
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (!tmp) {
        free(buf);
        return A5_ENOMEM;
    }
    snprintf(tmp, n, "%s.tmp", path);
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write_all(fd, buf, len) != 0 || write_all(fd, &sum, sizeof sum) != 0 ||
        fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write checkpoint %s: %s", tmp, strerror(errno));
        rc = A5_EIO;
    }
    if (fd >= 0 && close(fd) != 0 && !rc) {
        snprintf(err, errlen, "cannot write checkpoint %s: %s", tmp, strerror(errno));
        rc = A5_EIO;
    }
    if (!rc && rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename checkpoint to %s: %s", path, strerror(errno));
        rc = A5_EIO;
    }
    if (rc)
        unlink(tmp);
    else
        fsync_dir_of(path);
    free(tmp);
    free(buf);
    return rc;
}

static int state_load(const char *path, const a5_scenario *s, position *pos, a5_agg *agg,
                      char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open checkpoint %s: %s", path, strerror(errno));
        return A5_ERESUME;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 1 << 20;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return A5_ENOMEM;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    int rc = A5_ERESUME;
    uint64_t sum;
    if (len < 8 + sizeof sum || memcmp(buf, STATE_MAGIC, 8) != 0) {
        snprintf(err, errlen, "%s is not an allied5g checkpoint", path);
        goto done;
    }
    memcpy(&sum, buf + len - sizeof sum, sizeof sum);
    if (fnv1a((unsigned char *)buf, len - sizeof sum) != sum) {
        snprintf(err, errlen, "checkpoint %s is damaged (checksum mismatch)", path);
        goto done;
    }
    FILE *m = fmemopen(buf + 8, len - 8 - sizeof sum, "rb");
    if (!m) {
        rc = A5_ENOMEM;
        goto done;
    }
    uint64_t tl, dims[4];
    int ok = fread(&tl, sizeof tl, 1, m) == 1 && tl < len;
    char *text = ok ? malloc(tl + 1) : NULL;
    ok = ok && text && fread(text, 1, tl, m) == tl;
    if (ok)
        text[tl] = 0;
    ok = ok && fread(dims, sizeof dims, 1, m) == 1 && fread(pos, sizeof *pos, 1, m) == 1;
    if (!ok) {
        snprintf(err, errlen, "checkpoint %s is truncated", path);
    } else if (strcmp(text, s->text) != 0) {
        /* Point at the first differing line of the resolved scenarios. */
        int line = 1;
        for (const char *a = text, *b = s->text; *a && *a == *b; a++, b++)
            line += *a == '\n';
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
    free(text);
    fclose(m);
done:
    free(buf);
    return rc;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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

int a5_batch_run(const a5_scenario *s, a5_output *out, const a5_batch_opts *o,
                 a5_batch_stats *st, char *err, size_t errlen)
{
    static const a5_batch_opts none = {.inject_failure = -1};
    if (!o)
        o = &none;
    a5_batch_team solo = {0, 1, solo_max, solo_sum, solo_bcast, solo_merge};
    a5_batch_team *team = o->team ? o->team : &solo;
    const int root = team->rank == 0;
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    long chunk = a5_batch_chunk_reps(s);
    /* A block holds whole chunks, enough replicates to keep every thread busy, and
     * about 8 MiB of step records: every block's fold goes through every cell's
     * histogram, so fewer blocks reload fewer bins (B1 ~3 % faster than with 4 MiB;
     * 16 and 32 MiB were no faster). */
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
    }
    long block = chunk * ((want + chunk - 1) / chunk);
    if (block > (1L << 22)) /* a5_agg_fold's limit is 2^23 */
        block = chunk * ((1L << 22) / chunk > 0 ? (1L << 22) / chunk : 1);
    if (block > s->replicates)
        block = s->replicates;
    team->bcast(team, &block, sizeof block); /* every rank deals the same blocks */
    const size_t cells = (size_t)s->steps * (size_t)s->n;
    const long R = s->replicates;
    int rc = 0;
    err[0] = 0;
    a5_model *m = a5_model_alloc(s);
    a5_work **works = calloc((size_t)threads, sizeof *works);
    a5_agg *agg = a5_agg_alloc(cells, R);
    /* Two blocks: one being computed while the previous one is written. */
    block_buf bufs[2];
    int cur = 0;
    struct {
        int have;
        long p, r0, nr;
    } pend = {0, 0, 0, 0};
    float *share = malloc(cells * 3 * sizeof *share), *mean = malloc(cells * sizeof *mean),
          *quant = malloc(cells * 3 * sizeof *quant);
    int ok_buf = block_alloc(&bufs[0], block, s) == 0;
    ok_buf = block_alloc(&bufs[1], block, s) == 0 && ok_buf;
    position pos = {0, 0, 0, 0, 0};
    double total = (double)s->npoints * (double)R, done = 0, committed = 0;
    if (!m || !works || !agg || !share || !mean || !quant || !ok_buf)
        rc = A5_ENOMEM;
    if ((rc = agree(team, rc)) != 0)
        goto out;
    /* Each thread allocates its own scratch (its own malloc arena and cache lines). */
#pragma omp parallel num_threads(threads)
    works[omp_get_thread_num()] = a5_model_work_alloc(m);
    for (int t = 0; t < threads; t++)
        if (!works[t])
            rc = A5_ENOMEM;
    a5_agg_reset(agg, threads);
    if (!rc && o->resume && root)
        rc = state_load(o->state_path, s, &pos, agg, err, errlen);
    if ((rc = agree(team, rc)) != 0)
        goto out;
    if (o->resume) {
        team->bcast(team, &pos, sizeof pos);
        done = committed = (double)pos.point * (double)R + (double)pos.rep;
        if (st)
            st->resumed = done;
        if (pos.point > 0 && root && st && st->final_share &&
            a5_output_read_final(out, 0, st->final_share, st->final_mean) != 0)
            rc = A5_EHDF5;
        if ((rc = agree(team, rc)) != 0)
            goto out;
    }
    double last_commit = now();
    for (long p = (long)pos.point; p < s->npoints && !rc; p++) {
        const long rstart = p == (long)pos.point ? (long)pos.rep : 0;
        const long nblocks = (R - rstart + block - 1) / block;
        for (long q = 0; q * team->size < nblocks && !rc; q++) {
            /* Round q: rank k runs block q * size + k of this point, if there is one. */
            long b = q * team->size + team->rank, r0 = rstart + b * block;
            long nr = b < nblocks ? (R - r0 < block ? R - r0 : block) : 0;
            block_buf *buf = &bufs[cur], *prev = &bufs[1 - cur];
            memset(buf->failed, 0, (size_t)block);
            int wrc = 0;
#pragma omp parallel num_threads(threads)
            {
                /* The main thread writes the previous block (HDF5 and MPI are called
                 * from it alone) while the others start on this one; it joins them
                 * when done. The thread number only picks scratch memory, never a
                 * random stream. */
#pragma omp master
                if (pend.have)
                    wrc = a5_output_write_block(out, pend.p, pend.r0, pend.nr, &prev->rec);
                a5_work *w = works[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 8)
                for (long j = 0; j < nr; j++)
                    buf->failed[j] = (unsigned char)(a5_model_run(m, p, r0 + j, w, &buf->rec, j) != 0 ||
                                                     r0 + j == o->inject_failure);
                /* Cells in ranges of 64 (whole tiles of the fold's 8). */
#pragma omp for schedule(static)
                for (size_t c = 0; c < cells; c += 64)
                    a5_agg_fold(agg, &buf->rec, nr, buf->failed, c, c + 64 < cells ? c + 64 : cells);
            }
            pend.have = 0;
            if ((rc = agree(team, wrc)) != 0)
                break;
            long nfail = 0;
            for (long j = 0; j < nr; j++)
                if (buf->failed[j]) {
                    blank_replicate(buf, s, j);
                    nfail++;
                }
            pend.have = 1;
            pend.p = p;
            pend.r0 = r0;
            pend.nr = nr;
            cur = 1 - cur;
            /* Replicates run in this round by the whole team. */
            long last = (q + 1) * team->size < nblocks ? (q + 1) * team->size : nblocks;
            long upto = rstart + last * block < R ? rstart + last * block : R;
            long round_fail = team->sum(team, nfail); /* failures in the round, all ranks */
            pos.failed_point += (uint64_t)round_fail;
            pos.failed_total += (double)round_fail;
            done = (double)p * (double)R + (double)upto;
            int fail_stop = round_fail && o->stop_on_failure;
            int stopping = team->max_int(team, o->stop && *o->stop) || fail_stop;
            /* Clocks differ between ranks: rank 0's decides when to checkpoint. */
            int due = team->max_int(team, root && now() - last_commit >= o->commit_seconds);
            if (upto == R || stopping || (due && o->state_path)) {
                /* Points, checkpoints and stops need every block on disk. */
                pend.have = 0;
                if ((rc = agree(team, a5_output_write_block(out, p, r0, nr, &buf->rec))) != 0)
                    break;
            }
            pos.point = (uint64_t)p;
            pos.rep = (uint64_t)upto;
            if (upto == R) {
                /* Point complete: rank 0 gathers the aggregates, writes the point, and
                 * everyone starts the next point from empty aggregates. */
                if ((rc = team->merge(team, agg, threads)) != 0)
                    break;
                long n_ok = R - (long)pos.failed_point;
                double wq = root ? a5_agg_finish(agg, n_ok, threads, share, mean, quant) : 0;
                pos.worst = fmax(pos.worst, wq);
                if (p == 0 && root && st && st->final_share) {
                    size_t lastc = (size_t)(s->steps - 1) * (size_t)s->n;
                    memcpy(st->final_share, share + 3 * lastc, (size_t)s->n * 3 * sizeof *share);
                    memcpy(st->final_mean, mean + lastc, (size_t)s->n * sizeof *mean);
                }
                rc = agree(team, root ? a5_output_write_point(out, p, share, mean, quant, R - n_ok)
                                      : a5_output_write_point(out, p, NULL, NULL, NULL, 0));
                if (rc)
                    break;
                if (p + 1 < s->npoints)
                    a5_agg_reset(agg, threads);
                pos.point = (uint64_t)p + 1;
                pos.rep = 0;
                pos.failed_point = 0;
            }
            if (o->progress && root)
                o->progress(o->ctx, done, total);
            int finished = pos.point == (uint64_t)s->npoints;
            if (o->state_path && (fail_stop || (!finished && (stopping || due)))) {
                rc = agree(team, a5_output_commit(out));
                if (!rc)
                    rc = team->merge(team, agg, threads);
                if (!rc && root)
                    rc = state_save(o->state_path, s, &pos, agg, err, errlen);
                if ((rc = agree(team, rc)) != 0)
                    break;
                committed = done;
                last_commit = now();
            }
            if (fail_stop || (stopping && !finished)) {
                rc = fail_stop ? A5_EFAILED : A5_EINTERRUPT;
                break;
            }
        }
    }
out:
    if (st) {
        st->quantile_error = pos.worst;
        st->quantile_bins = agg ? a5_agg_bins(agg) : 0;
        st->runs = done;
        st->committed = committed;
        st->failed = pos.failed_total;
    }
    if (works)
        for (int t = 0; t < threads; t++)
            a5_model_work_free(works[t]);
    free(works);
    a5_model_free(m);
    a5_agg_free(agg);
    block_free(&bufs[0]);
    block_free(&bufs[1]);
    free(share);
    free(mean);
    free(quant);
    return rc;
}
