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
 * the current point's aggregates) is handed to the output module, which keeps it
 * beside the results atomically (a5_output_save_state). Work after the last checkpoint is
 * "in flight": a crash loses only that. A resumed batch produces exactly the data
 * of an uninterrupted one. */
#ifndef A5_BATCH_H
#define A5_BATCH_H

#include "a5_aggregate.h"
#include "a5_output.h"
#include "a5_scenario.h"

#include <signal.h>
#include <stdint.h>

/* A team of processes sharing one batch (MPI; see a5_mpi.h). Blocks of each
 * point are dealt round-robin: in round q, rank k runs block q * size + k. Every
 * rank takes part in every round's (collective) write, with nothing to write when
 * it has no block. At checkpoints and at the end of each point the ranks'
 * aggregates are merged into rank 0's, which writes points and checkpoints.
 * NULL means one process. */
typedef struct a5_batch_team a5_batch_team;
struct a5_batch_team {
    int rank, size;
    /* The largest of every rank's v (errors, stop requests). */
    int (*max_int)(a5_batch_team *t, int v);
    /* The sum of every rank's v. */
    long (*sum)(a5_batch_team *t, long v);
    /* Rank 0's n bytes at buf to every rank. */
    void (*bcast)(a5_batch_team *t, void *buf, size_t n);
    /* Merge every rank's aggregates into rank 0's; the others are left empty.
     * Returns 0 or an A5_E* code (the same on every rank). */
    int (*merge)(a5_batch_team *t, a5_agg *agg, int threads);
};

typedef struct {
    int threads; /* 0: OpenMP's default (all cores) */
    /* Called from the writing thread after each block: runs done of total. */
    void (*progress)(void *ctx, double done, double total);
    void *ctx;
    const volatile sig_atomic_t *stop; /* nonzero: checkpoint and stop after the block */
    int checkpoint;                    /* save checkpoints (a5_output_save_state) */
    int resume;                        /* continue from the output's checkpoint */
    double commit_seconds;             /* least time between checkpoints (0: every block) */
    int stop_on_failure;               /* 1: a failed replicate stops the batch (A5_EFAILED);
                                        * 0: it does not; -1: as the checkpoint says when
                                        * resuming (recorded there), else 0 */
    long inject_failure;               /* test hook: this replicate fails in every point; -1 none */
    a5_batch_team *team;               /* processes sharing the batch; NULL: this one alone */
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

/* The resolved scenario text in a checkpoint's bytes buf[0 .. len) (as the batch
 * saves them), *tl bytes long and not NUL-terminated; NULL when buf is not a whole
 * checkpoint (magic, checksum, length). For a resume that refuses another
 * scenario before anything is written (a5_output_meta.state_text). */
const char *a5_batch_state_text(const char *buf, size_t len, uint64_t *tl);

/* Run the whole batch into out. Returns 0; A5_EINTERRUPT when *stop was raised (a
 * checkpoint holds the work done); A5_EFAILED when a replicate failed and
 * stop_on_failure is in force (a resume of a run stopped that way stops again
 * at once, unless stop_on_failure is 0); A5_ERESUME when the checkpoint does not match; A5_ENOMEM,
 * A5_EIO or A5_EHDF5. Every failure says why in err. */
int a5_batch_run(const a5_scenario *s, a5_output *out, const a5_batch_opts *o,
                 a5_batch_stats *st, char *err, size_t errlen);

#endif
