/* Experiment designs: points in the unit hypercube, later scaled to ranges.
 *
 * LHS draws from its own Philox stream, (seed, 0xFFFFFFFF, 0), and Morris from
 * (seed, 0xFFFFFFFF, 1); no replicate uses them (point indices stop well below
 * 0xFFFFFFFF), so a design depends on the scenario seed alone. Sobol points are
 * GSL's gsl_qrng_sobol sequence. design.c also builds a scenario's points from
 * `sweep:` and `design:` (see sim/scenario_int.h); a design file is read with
 * a5_csv.h, so pandas' and R's CSV files load as written. */
#ifndef A5_DESIGN_H
#define A5_DESIGN_H

#include <stdint.h>

#define A5_DESIGN_SOBOL_MAX_DIM 40 /* gsl_qrng_sobol's limit */

/* Fill u (n x k, row-major) with a Latin hypercube sample: in every dimension each
 * of the n strata [j/n, (j+1)/n) holds exactly one point. Returns 0 or A5_ENOMEM. */
int a5_design_lhs(long n, int k, uint64_t seed, double *u);

/* Fill u (n x k) with the first n points of GSL's Sobol sequence (k <= 40).
 * Returns 0, A5_ENOMEM, or A5_ELIMIT when k is too large. */
int a5_design_sobol(long n, int k, double *u);

/* Saltelli's layout for first-order and total Sobol indices, in SALib's order
 * without second-order terms: for each base row i, A_i, AB_1 .. AB_k, B_i, where
 * A is the first k columns of unit (n x 2k), B the last k, and AB_j is A with
 * column j taken from B. Writes n (k + 2) rows of k values to out. */
void a5_design_saltelli(const double *unit, long n, int k, double *out);

/* The same with second-order terms, SALib's calc_second_order=True order: for each
 * base row i, A_i, AB_1 .. AB_k, BA_1 .. BA_k, B_i, where BA_j is B with column j
 * taken from A. Writes n (2k + 2) rows of k values to out. */
void a5_design_saltelli2(const double *unit, long n, int k, double *out);

/* Morris (1991) trajectories in SALib's order (its vanilla sample): r blocks of
 * k + 1 rows of k values on the grid {0, 1/(p-1), .., 1} (p levels, even, >= 2).
 * Per trajectory a random base x* on {0, 1/(p-1), .., 1 - delta}, a random
 * direction per input and a random order in which the inputs move; row 0 has every
 * input at its start (x*_j going up, x*_j + delta going down) and row i moves the
 * i-th input of the order to its other end, so consecutive rows differ in exactly
 * one input by +-delta = p / (2 (p - 1)) and each input moves once. Draws from the
 * stream (seed, 0xFFFFFFFF, 1). Returns 0 or A5_ENOMEM. */
int a5_design_morris(long r, int k, int p, uint64_t seed, double *u);

#endif
