/* Calibration internals shared by its files, which call only down this list, never
 * up (tests/python/test_layout.py keeps the call graph between sim/ files acyclic):
 *   calibrate.c            the whole procedure (a5_calib_fit)
 *   calibrate_check.c      identification, bounds, further random-number sets
 *   calibrate_intervals.c  standard errors from the curvature, bootstrap intervals
 *   calibrate_fit.c        the objective, Nelder-Mead, baselines, predictions
 *   calibrate_scores.c     every model's scores
 *   calibrate_obs.c        reading observations, their order and checks
 *   calibrate_fitted.c     the fitted scenario, estimates and predictions files
 *   (forecast.c uses the smoothed shares, a5c_shares)
 * Not installed. See a5_calibrate.h. */
#ifndef A5_CALIBRATE_INT_H
#define A5_CALIBRATE_INT_H

#include "a5_calibrate.h"
#include "a5_model.h"

#include <stdint.h>

typedef struct {
    const a5_scenario *s;
    a5_model *m;
    const a5_obs *obs;
    size_t nobs;
    size_t *off, *idx; /* observations by step: idx[off[t] .. off[t+1]) */
    int tmax;
    long R;
    long rep0; /* first replicate: each random-number set uses its own block of streams */
    int threads;
    uint32_t *count;      /* nobs x 3 */
    unsigned char *train; /* 1: fitted, 0: scored (held out) */
    const double *w;      /* weight of each observation in the objective (bootstrap); NULL: 1 */
    a5_target *targets;
    size_t k;
    size_t *slots;
    double *values;
    double floor, smooth;
    int brier;
    int evaluations;
    int failed; /* an evaluation ran out of memory */
} calib;

typedef struct {
    int starts, capped, flat;
} fit_stats;

typedef struct {
    const a5_calib_opts *o;
    const a5_fit_spec *fit;
    const unsigned char *held; /* per observation: in the --holdout nations */
    const int *fold_of;        /* per nation (folds mode) */
    int folds;
    const double *starts;
    int nstarts, max_iter;
    double tol, base_smooth, score_floor;
    fit_stats st;
} plan;

/* Blocks of replicate indices for the random-number sets: set j uses
 * [j R, (j + 1) R); bootstrap refit b uses [(BOOT + b) R, ...). */
#define BOOT_BLOCK 1000000L
/* Worlds of the parametric bootstrap's synthetic data sets: [(PBOOT + b) W, ...). */
#define PBOOT_BLOCK 4000000000000L

int a5c_simulate(calib *c);
int a5c_set_values(calib *c, const double *theta);
double a5c_objective(calib *c, const double *theta);
/* The simulated probability of each policy at observation i: the count of replicates
 * in it, smoothed by a pseudo-count c->smooth (0 if not positive) per policy,
 * (count + a) / (R + 3a). Reads c->count, c->R and c->smooth only (forecast.c uses
 * it on its own counts). */
void a5c_shares(const calib *c, size_t i, double p[3]);
void a5c_score(const calib *c, int want, double *ll, double *brier, double *acc, size_t *n);
int a5c_fit_run(calib *c, const a5_fit_spec *fit, const double *starts, int nstarts,
                int max_iter, double tol, const a5_calib_opts *o, int verbose, double *best,
                double *fbest, double *f_first, fit_stats *st);
int a5c_run_set(calib *c, plan *pl, int verbose, double *theta, double *fbest, double *f_first,
                int *fold, double *P);
/* Legacy hold-out baselines (one-hot keep-initial when bloc is 0, else bloc
 * majority) into ll, br, acc. Returns 0 or A5_ENOMEM. */
int a5c_baseline(const calib *c, int bloc, double *ll, double *br, double *acc);
/* Every model's scores over the rows with fold[i] >= 0 (calibrate_scores.c): overall,
 * on changed and unchanged rows, the within-date AUC of "has moved" and the timing
 * curve. Returns 0 or A5_ENOMEM. */
int a5c_score_models(const calib *c, const int *fold, const double *P, double floor,
                     a5_calib_score *sc);
/* Rows in order of nation, then date, then file order (calibrate_obs.c; linear time).
 * Returns 0 or A5_ENOMEM. */
int a5c_obs_order(const a5_scenario *s, const a5_obs *obs, size_t n, size_t *order);
/* rank[i]: how many rows of the same nation and date come before row i in the file. */
int a5c_obs_cell_rank(const a5_scenario *s, const a5_obs *obs, size_t n, int *rank);
/* The nation's starting policy (the scenario's). */
static inline int a5c_start(const a5_scenario *s, int nation)
{
    return (int)s->base[a5_param_nslot(A5_N_POLICY, nation, s->n)];
}
void a5c_say(const a5_calib_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A diagnostic for the caller to show; A5_ENOMEM when it cannot be kept. */
int a5c_warn(a5_calib_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Standard errors at theta from a central-difference Hessian (calibrate_intervals.c);
 * NaN where the curvature is not positive, the reason in why. */
int a5c_standard_errors(calib *c, const a5_fit_spec *fit, const double *theta, double f0,
                        double *se, char *why, size_t whylen);

/* In this order after the fit at theta (c's counts left at theta): */
/* std.err from the curvature; warnings for unidentified paths and estimates at a bound
 * (calibrate_check.c). */
int a5c_check_estimate(calib *c, const a5_fit_spec *fit, const double *theta, int B,
                       a5_calib_result *res);
/* B parametric-bootstrap refits: res->lo, res->hi (NaN when B is 0) (calibrate_intervals.c). */
int a5c_bootstrap(calib *c, const plan *pl, const double *theta, int B, double level,
                  a5_calib_result *res);
/* Random-number sets 1..nseeds-1; their spread and the starts' warnings (calibrate_check.c). */
int a5c_seed_sets(calib *c, plan *pl, int nseeds, a5_calib_result *res);

#endif
