/* The HDF5 results file (layout: docs/results.md).
 *
 * The only module that includes hdf5.h, and the only one that touches the results
 * and checkpoint files. A run in the making has two: PATH.partial (the results so
 * far) and its checkpoint PATH.partial.state (what the batch needs to continue;
 * its bytes come from the batch driver). This module creates, writes, renames
 * and deletes both: a5_output_create starts over (removing an interrupted run's
 * files), a5_output_finish renames PATH.partial into place once complete and
 * synced and deletes the checkpoint, a5_output_abort keeps both (to resume) or
 * deletes both. Call it from one thread only (HDF5's high-level library is not
 * thread-safe). Errors: negative A5_E* codes, the reason in the caller's err. */
#ifndef A5_OUTPUT_H
#define A5_OUTPUT_H

#include "a5_model.h"
#include "a5_scenario.h"

#include <stdint.h>
#include <stdio.h>

typedef struct a5_output a5_output;

typedef struct {
    const char *command_line;
    int threads;
    long chunk_reps; /* replicates per chunk along the replicate axis */
    int force;       /* replace an existing file */
    int live;        /* single-writer/multiple-reader mode: readable while running */
    /* The resolved scenario text in the checkpoint's bytes (a5_batch_state_text;
     * NULL: not looked at): a resume of another scenario is then refused before
     * the interrupted run's files are opened for writing. */
    const char *(*state_text)(const char *buf, size_t len, uint64_t *tl);
} a5_output_meta;

/* Every function that opens PATH.partial first takes an exclusive lock on
 * PATH.partial.lock (flock), held until the handle is finished or aborted: a
 * second writer gets A5_EBUSY ("PATH is being written by process PID"). PATH and
 * PATH.partial must be missing or regular files, and none of the run's inputs
 * (a5_sys_note_input): else A5_EEXIST.
 *
 * Create PATH.partial, the results file in the making for scenario s, with every
 * dimension, coordinate, variable and provenance attribute. Returns 0; A5_EEXIST
 * when PATH exists and meta->force is 0, or PATH.partial exists (an interrupted
 * run: resume it, or force to start over); A5_EIO or A5_EHDF5 (err says why). */
int a5_output_create(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                     a5_output **out, char *err, size_t errlen);

/* With meta->live, PATH.partial is written in HDF5's SWMR mode: a reader opening
 * it with swmr=True (h5py; xarray through h5netcdf, see analysis/allied5g.load_live)
 * sees every completed block while the batch runs. */

/* Reopen PATH.partial left by an interrupted run of the same scenario. Returns 0,
 * A5_ERESUME (missing, unreadable or another scenario; err says which), A5_EEXIST
 * when PATH exists and meta->force is 0. A PATH.partial without a checkpoint (the
 * run stopped before its first) holds nothing to resume: it is created afresh and
 * a5_output_restarted says so. */
int a5_output_reopen(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                     a5_output **out, char *err, size_t errlen);

/* 1 if a5_output_reopen started over (no checkpoint): run from the beginning. */
int a5_output_restarted(const a5_output *o);

/* MPI builds: every rank of the communicator *comm (an MPI_Comm) opens the same
 * PATH.partial for collective writes. Rank 0 first creates it (or, with resume,
 * checks the one left by an interrupted run) as a5_output_create/_reopen would.
 * Every rank must then call every write (with nothing to write, pass nr 0 or NULL
 * data), commit, finish or abort. Returns the same code on every rank. */
int a5_output_open_team(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                        int resume, void *comm, a5_output **out, char *err, size_t errlen);

/* The names of the file being written (PATH.partial) and of its checkpoint
 * (PATH.partial.state), for messages. */
const char *a5_output_state_path(const a5_output *o);
const char *a5_output_partial_path(const a5_output *o);

/* Make everything written so far durable: flush HDF5's buffers, then fsync.
 * Returns 0, A5_EHDF5 or A5_EIO (err says why). */
int a5_output_commit(a5_output *o, char *err, size_t errlen);

/* Replace the checkpoint with the len bytes at buf, atomically and durably (rank 0
 * of a team only). Returns 0 or A5_EIO ("cannot write checkpoint ...: REASON"). */
int a5_output_save_state(a5_output *o, const void *buf, size_t len, char *err, size_t errlen);

/* Read the checkpoint left by an interrupted run into a malloc'd buffer. Returns 0,
 * A5_ERESUME (cannot open it: err) or A5_ENOMEM. */
int a5_output_load_state(a5_output *o, char **buf, size_t *len, char *err, size_t errlen);

/* Read back everything a resumed file holds before (point, rep): every chunk of
 * every chunked variable, each checked against its Fletcher-32 checksum. Returns
 * 0, A5_ERESUME ("PATH.partial is damaged at VAR, point P, replicates ...") or
 * A5_ENOMEM. */
int a5_output_verify(a5_output *o, long point, long rep, char *err, size_t errlen);

/* Read point p's policy shares [nation][3] and mean high-risk share [nation] at the
 * last step (from a resumed file). */
int a5_output_read_final(a5_output *o, long p, float *share, float *mean, char *err,
                         size_t errlen);

/* Write replicates r0 .. r0+nr-1 of point p from rec (slot 0 holds replicate r0). */
int a5_output_write_block(a5_output *o, long p, long r0, long nr, const a5_records *rec,
                          char *err, size_t errlen);

/* Write point p's aggregates: share [step][nation][3], mean [step][nation],
 * quant [step][nation][3], and how many of its replicates failed. */
int a5_output_write_point(a5_output *o, long p, const float *share, const float *mean,
                          const float *quant, long failed, char *err, size_t errlen);

/* Record run statistics, sync, close and rename PATH.partial to PATH, and delete
 * the checkpoint; frees o either way (on failure both files are kept when there is
 * a checkpoint to resume from, else removed). */
int a5_output_finish(a5_output *o, double quantile_error, double failed, double seconds,
                     char *err, size_t errlen);

/* Close the file; keep PATH.partial and its checkpoint when `keep` (an interrupted
 * run to resume), else delete both. After a failed write the file is not closed
 * but left as a crash would leave it: what the last checkpoint made durable stays
 * as it was (writes since go to new space; flushes first reserve room for all
 * they write). Frees o. Accepts NULL. */
void a5_output_abort(a5_output *o, int keep);

/* Print what a results file holds and how it was made. */
int a5_output_info(const char *path, FILE *out, char *err, size_t errlen);


#endif
