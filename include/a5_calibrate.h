/* Calibration: fit scenario parameters to the policies nations actually chose.
 *
 * Observations are (nation, step, policy) triples: the recorded policy at the end
 * of that step. The objective is the simulated composite log-likelihood
 *   sum_obs log max(share of replicates in the observed policy, floor)
 * with common random numbers: every evaluation runs replicates 0..R-1 of point 0
 * on the same streams, so the objective changes only with the parameters. Its
 * negative (or the Brier score) is minimised with GSL's Nelder-Mead simplex over
 * each parameter's bounds (a logistic map keeps every trial inside them), from
 * several starts. Standard errors come from the curvature of the objective (a
 * finite-difference Hessian) and are approximate. */
#ifndef A5_CALIBRATE_H
#define A5_CALIBRATE_H

#include "a5_error.h"
#include "a5_scenario.h"

typedef struct {
    int nation, step, policy;
    int line; /* in the observations file */
} a5_obs;

/* Read OBS.csv (header code,date,policy). Every bad row is reported as
 * FILE:LINE:COL (unknown code, bad or out-of-range date, bad policy). Returns 0,
 * A5_ESCENARIO, A5_EIO or A5_ENOMEM. */
int a5_calib_read_obs(const char *path, const a5_scenario *s, a5_diag *d, a5_obs **obs,
                      size_t *n);

typedef struct {
    char *path;
    double lo, hi;
} a5_fit_spec;

typedef struct {
    long replicates;  /* per evaluation */
    int starts;       /* Nelder-Mead starts: the scenario's values, then LHS points */
    int max_iter;     /* per start */
    int brier;        /* minimise the Brier score instead of -log-likelihood */
    double floor;     /* smallest share used in log (0: 0.5 / replicates) */
    int threads;
    const char *const *holdout; /* nation codes fitted without; NULL-terminated or NULL */
    void (*report)(void *ctx, const char *line);
    void *ctx;
} a5_calib_opts;

typedef struct {
    size_t k;
    double *start, *value, *se; /* per fitted path */
    double obj_start, obj_end;  /* objective (minimised) at the scenario's values and the fit */
    double loglik, brier, accuracy; /* on the fitted observations */
    size_t nfit, nheld;
    /* Held-out nations: the model at the fit and two baselines (keep the initial
     * policy; copy the majority of the nation's blocs at that date). */
    double held_loglik, held_brier, held_accuracy;
    double base_keep_loglik, base_keep_brier, base_keep_accuracy;
    double base_bloc_loglik, base_bloc_brier, base_bloc_accuracy;
    int evaluations;
} a5_calib_result;

/* Fit `nfit` specs to the observations. Returns 0, A5_ESCENARIO (bad spec: err),
 * or A5_ENOMEM. Free the result with a5_calib_result_free. */
int a5_calib_fit(const a5_scenario *s, const a5_obs *obs, size_t nobs, const a5_fit_spec *fit,
                 size_t nfit, const a5_calib_opts *o, a5_calib_result *res, char *err,
                 size_t errlen);
void a5_calib_result_free(a5_calib_result *r);

/* Parse the index-th (1-based) `--fit PATH[=LO:HI]` argument into spec (spec->path
 * malloc'd). Without bounds, they are the parameter's range when that is modest
 * (a share, a rate); weights need explicit bounds. Problems are added to d as
 * --fit:INDEX:COL. Returns 0, A5_ESCENARIO or A5_ENOMEM. */
int a5_calib_parse_fit(const a5_scenario *s, const char *arg, int index, a5_fit_spec *spec,
                       a5_diag *d);

/* How a fit was made, for the comments at the top of FITTED.yaml. */
typedef struct {
    const char *command_line;
    const char *observed; /* the observations file */
    long replicates;      /* per evaluation */
    int brier;            /* the objective was the Brier score */
} a5_calib_provenance;

/* Write FITTED.yaml at `path` atomically: the scenario file `scenario` with its
 * `nsets` overrides and the fitted values set (as --set would), resolved, under
 * comments saying how the fit was made and what it found. Returns 0; A5_ESCENARIO
 * (the fitted scenario does not load: diagnostics in d); A5_ENOMEM; A5_EIO (err). */
int a5_calib_write_fitted(const char *path, const char *scenario, const char *const *sets,
                          int nsets, const a5_fit_spec *fit, size_t nfit,
                          const a5_calib_result *res, const a5_calib_provenance *how, a5_diag *d,
                          char *err, size_t errlen);

#endif
