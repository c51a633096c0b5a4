/* The Monte Carlo driver: every (design point, replicate) of a scenario, on all
 * cores, written to a results file block by block.
 *
 * Units of work are replicates; OpenMP hands them to threads dynamically, but each
 * unit's random stream is (seed, point, replicate), so results never depend on
 * the thread count. A block is a chunk-aligned range of replicates of one point:
 * workers fill the block, per-point aggregates are updated cell by cell in
 * replicate order (so float sums are identical for any thread count), and one
 * thread writes the block. Memory is bounded by the block, not the batch. */
#ifndef A5_BATCH_H
#define A5_BATCH_H

#include "a5_output.h"
#include "a5_scenario.h"

typedef struct {
    int threads; /* 0: OpenMP's default (all cores) */
    /* Called from the writing thread after each block: runs done of total. */
    void (*progress)(void *ctx, double done, double total);
    void *ctx;
} a5_batch_opts;

typedef struct {
    double quantile_error; /* largest possible error of any reported quantile */
    int quantile_bins;     /* histogram bins per (step, nation) cell */
    double runs;           /* replicates run, over all points */
    /* Optional, caller-allocated: point 0's policy shares [nation][3] and mean
     * high-risk share [nation] at the last step. */
    float *final_share, *final_mean;
} a5_batch_stats;

/* Replicates per HDF5 chunk (and per block unit) for this scenario: about 256 KiB
 * of float32 step data, at least 1, at most the replicate count. */
long a5_batch_chunk_reps(const a5_scenario *s);

/* Run the whole batch into out. Returns 0, A5_ENOMEM or A5_EHDF5. */
int a5_batch_run(const a5_scenario *s, a5_output *out, const a5_batch_opts *o,
                 a5_batch_stats *st);

#endif
