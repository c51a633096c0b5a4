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
} a5_output_meta;

/* Create the temporary results file for scenario s, with every dimension,
 * coordinate, variable and provenance attribute. Returns 0, A5_EEXIST when path
 * exists and meta->force is 0, A5_EIO or A5_EHDF5 (err says why). */
int a5_output_create(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                     a5_output **out, char *err, size_t errlen);

/* Write replicates r0 .. r0+nr-1 of point p from rec (slot 0 holds replicate r0). */
int a5_output_write_block(a5_output *o, long p, long r0, long nr, const a5_records *rec);

/* Write point p's aggregates: share [step][nation][3], mean [step][nation],
 * quant [step][nation][3]. */
int a5_output_write_point(a5_output *o, long p, const float *share, const float *mean,
                          const float *quant);

/* Record run statistics, sync, close and rename into place; frees o either way. */
int a5_output_finish(a5_output *o, double quantile_error, double seconds, char *err,
                     size_t errlen);

/* Close and delete the temporary file; frees o. Accepts NULL. */
void a5_output_abort(a5_output *o);

/* Print what a results file holds and how it was made. */
int a5_output_info(const char *path, FILE *out, char *err, size_t errlen);

#endif
