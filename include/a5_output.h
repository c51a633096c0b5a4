/* The HDF5 results file (layout: ../shared/CONTRACT.md, "Results file").
 *
 * The only module that includes hdf5.h, and the only one that touches the file.
 * It is written to a temporary file beside the target and renamed into place by
 * a5_output_finish once complete and synced; a5_output_abort removes it. Call it
 * from one thread only (HDF5's high-level library is not thread-safe). */
#ifndef A5_OUTPUT_H
#define A5_OUTPUT_H

#include "a5_model.h"
#include "a5_scenario.h"

#include <stdio.h>

typedef struct a5_output a5_output;

typedef struct {
    const char *command_line;
    int threads;
    long chunk_reps; /* replicates per chunk along the replicate axis */
    int force;       /* replace an existing file */
    int live;        /* single-writer/multiple-reader mode: readable while running */
} a5_output_meta;

/* Create PATH.partial, the results file in the making for scenario s, with every
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
 * when PATH exists and meta->force is 0. */
int a5_output_reopen(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                     a5_output **out, char *err, size_t errlen);

/* MPI builds: every rank of the communicator *comm (an MPI_Comm) opens the same
 * PATH.partial for collective writes. Rank 0 first creates it (or, with resume,
 * checks the one left by an interrupted run) as a5_output_create/_reopen would.
 * Every rank must then call every write (with nothing to write, pass nr 0 or NULL
 * data), commit, finish or abort. Returns the same code on every rank. */
int a5_output_open_team(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                        int resume, void *comm, a5_output **out, char *err, size_t errlen);

/* Where the batch keeps its checkpoint beside the results (PATH.partial.state). */
const char *a5_output_state_path(const a5_output *o);

/* The name of the file being written (PATH.partial). */
const char *a5_output_partial_path(const a5_output *o);

/* Make everything written so far durable: flush HDF5's buffers, then fsync. */
int a5_output_commit(a5_output *o);

/* The last HDF5 or system error, as text ("" if none). */
const char *a5_output_error(const a5_output *o);

/* Read point p's policy shares [nation][3] and mean high-risk share [nation] at the
 * last step (from a resumed file). */
int a5_output_read_final(a5_output *o, long p, float *share, float *mean);

/* Write replicates r0 .. r0+nr-1 of point p from rec (slot 0 holds replicate r0). */
int a5_output_write_block(a5_output *o, long p, long r0, long nr, const a5_records *rec);

/* Write point p's aggregates: share [step][nation][3], mean [step][nation],
 * quant [step][nation][3], and how many of its replicates failed. */
int a5_output_write_point(a5_output *o, long p, const float *share, const float *mean,
                          const float *quant, long failed);

/* Record run statistics, sync, close and rename PATH.partial to PATH; frees o
 * either way (on failure the partial file is removed). */
int a5_output_finish(a5_output *o, double quantile_error, double failed, double seconds,
                     char *err, size_t errlen);

/* Close the file; keep PATH.partial when `keep` (an interrupted run to resume),
 * else delete it. Frees o. Accepts NULL. */
void a5_output_abort(a5_output *o, int keep);

/* Print what a results file holds and how it was made. */
int a5_output_info(const char *path, FILE *out, char *err, size_t errlen);

#endif
