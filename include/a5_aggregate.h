/* Per-point aggregates over replicates: policy shares, mean and quantiles of the
 * high-risk share, for every (step, nation) cell.
 *
 * Quantiles come from a per-cell histogram over [0, 1] that also keeps the smallest
 * and largest value seen in each bin. An order statistic is located exactly by the
 * bin counts and interpolated between that bin's extremes, so its error is at most
 * the spread of values in the bin (0 when they are equal), never more than the bin
 * width; a5_agg_finish returns the largest such spread. Everything is folded in
 * replicate order per cell, so results do not depend on how cells are shared out
 * among threads. The state can be saved and restored (checkpoints). */
#ifndef A5_AGGREGATE_H
#define A5_AGGREGATE_H

#include "a5_model.h"

#include <stddef.h>
#include <stdio.h>

typedef struct a5_agg a5_agg;

/* For `cells` cells and up to `replicates` per point; NULL if out of memory. */
a5_agg *a5_agg_alloc(size_t cells, long replicates);
void a5_agg_free(a5_agg *a); /* accepts NULL */
int a5_agg_bins(const a5_agg *a);

/* Forget everything (start of a point); cells shared among `threads`. */
void a5_agg_reset(a5_agg *a, int threads);

/* Fold replicates 0..nr-1 of rec into cells c0..c1-1, each in replicate order,
 * skipping those with failed[j] != 0 (failed may be NULL). Disjoint ranges of
 * cells may be folded concurrently. At most 2^23 replicates per call. */
void a5_agg_fold(a5_agg *a, const a5_records *rec, long nr, const unsigned char *failed, size_t c0,
                 size_t c1);

/* Shares [cell][3], means [cell] and 5/50/95 % quantiles [cell][3] over the n
 * replicates folded (NaN when n is 0). Returns the quantiles' error bound. */
double a5_agg_finish(const a5_agg *a, long n, int threads, float *share, float *mean,
                     float *quant);

/* Write / read the state (counts, sums, non-empty bins). Returns 0, A5_EIO, or
 * for read A5_ESCENARIO when the data does not fit this aggregate. */
int a5_agg_save(const a5_agg *a, FILE *f);
int a5_agg_load(a5_agg *a, FILE *f);
/* Add a saved state into a (as if its replicates had been folded into a too):
 * counts and sums add, bins merge. Used to combine processes' aggregates. */
int a5_agg_merge_saved(a5_agg *a, FILE *f);

#endif
