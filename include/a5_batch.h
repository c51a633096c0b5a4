/* The Monte Carlo driver: every (design point, replicate) of a scenario, on all
 * cores, written to a results file block by block, with checkpoints to resume from.
 *
 * Units of work are replicates; OpenMP hands them to threads dynamically, but each
 * unit's random stream is (seed, point, replicate), so results never depend on
 * the thread count. A block is a chunk-aligned range of replicates of one point:
 * workers fill the block, per-point aggregates are folded cell by cell in
 * replicate order (a5_aggregate.h), and one thread writes the block. Memory is
 * bounded by the block, not the batch.
 *
 * Checkpoints: at most every `commit_seconds`, and when stopping, the results file
 * is flushed and fsync'd, then the state needed to continue (where the batch is,
 * the current point's aggregates) is written to `state_path` atomically (temporary
 * file, fsync, rename, fsync of the directory). Work after the last checkpoint is
 * "in flight": a crash loses only that. A resumed batch produces exactly the data
 * of an uninterrupted one. */
#ifndef A5_BATCH_H
#define A5_BATCH_H

#include "a5_output.h"
#include "a5_scenario.h"

#include <signal.h>

typedef struct {
    int threads; /* 0: OpenMP's default (all cores) */
    /* Called from the writing thread after each block: runs done of total. */
    void (*progress)(void *ctx, double done, double total);
    void *ctx;
    const volatile sig_atomic_t *stop; /* nonzero: checkpoint and stop after the block */
    const char *state_path;            /* checkpoint file; NULL: no checkpoints */
    int resume;                        /* continue from the checkpoint in state_path */
    double commit_seconds;             /* least time between checkpoints (0: every block) */
    int stop_on_failure;               /* a failed replicate stops the batch (A5_EFAILED) */
    long inject_failure;               /* test hook: this replicate fails in every point; -1 none */
} a5_batch_opts;

typedef struct {
    double quantile_error; /* largest possible error of any reported quantile */
    int quantile_bins;     /* histogram bins per (step, nation) cell */
    double runs;           /* replicates done, over all points, including resumed ones */
    double resumed;        /* replicates taken over from the checkpoint */
    double committed;      /* replicates safe in the last checkpoint */
    double failed;         /* replicates that produced non-finite values */
    /* Optional, caller-allocated: point 0's policy shares [nation][3] and mean
     * high-risk share [nation] at the last step. */
    float *final_share, *final_mean;
} a5_batch_stats;

/* Replicates per HDF5 chunk (and per block unit) for this scenario: about 256 KiB
 * of float32 step data, at least 1, at most the replicate count. */
long a5_batch_chunk_reps(const a5_scenario *s);

/* Run the whole batch into out. Returns 0; A5_EINTERRUPT when *stop was raised (a
 * checkpoint holds the work done); A5_EFAILED when a replicate failed and
 * stop_on_failure is set; A5_ERESUME when the checkpoint does not match (message
 * in err); A5_ENOMEM, A5_EIO or A5_EHDF5. */
int a5_batch_run(const a5_scenario *s, a5_output *out, const a5_batch_opts *o,
                 a5_batch_stats *st, char *err, size_t errlen);

#endif
