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
 * finite-difference Hessian) and are approximate (too small: read them as lower
 * bounds); honest intervals come from a parametric bootstrap (opts.bootstrap).
 * K-fold cross-validation by nation (opts.folds) scores the model and every baseline
 * on the same held-out rows; opts.seeds repeats everything on independent common
 * random numbers. Diagnostics the caller must show are in result.warnings. The
 * library never prints: progress goes to opts.report. docs/calibration.md. */
#ifndef A5_CALIBRATE_H
#define A5_CALIBRATE_H

#include "a5_error.h"
#include "a5_scenario.h"

#include <stdint.h>
#include <stdio.h>

typedef struct {
    int nation, step, policy;
    int line; /* in the observations file */
} a5_obs;

/* Read OBS.csv (header code,date,policy). Every bad row is reported as
 * FILE:LINE:COL (unknown code, bad or out-of-range date, bad policy). Returns 0,
 * A5_ESCENARIO, A5_EIO or A5_ENOMEM. */
int a5_calib_read_obs(const char *path, const a5_scenario *s, a5_diag *d, a5_obs **obs,
                      size_t *n);

/* Observations are decisions: one nation, one quarter, one policy. Adds an error at
 * each row that disagrees with an earlier row of its nation and quarter (unless the
 * rows are repeated observations, the caller's choice). Linear in rows. Returns 0 or
 * A5_ENOMEM. */
int a5_calib_check_cells(const char *path, const a5_scenario *s, const a5_obs *obs, size_t n,
                         a5_diag *d);

/* Observations at or before the scenario's start (its first quarter: earlier dates
 * are outside the run) whose policy is not the nation's starting policy: one entry
 * each in w, to be shown as warnings (issue 23.3). Returns 0. */
int a5_calib_check_start(const char *path, const a5_scenario *s, const a5_obs *obs, size_t n,
                         a5_diag *w);

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
    /* Added for issue 17. Zero means "the default" (given in brackets). */
    int folds;            /* K-fold cross-validation by nation (0: none; not with holdout) */
    uint64_t fold_seed;   /* shuffles nations into folds [the scenario's seed] */
    int seeds;            /* independent common-random-number sets to repeat everything on [1] */
    int bootstrap;        /* nation-cluster bootstrap refits for intervals [A5_CALIB_BOOTSTRAP];
                           * negative: none */
    double level;         /* interval level [0.9] */
    double tol;           /* Nelder-Mead stops when the simplex (logistic scale) is this small
                           * [A5_CALIB_TOL] */
    double smooth;        /* pseudo-count added to each policy's simulated count:
                           * share = (count + a) / (R + 3a) [A5_CALIB_SMOOTH]; negative: none */
    double base_smooth;   /* the same for the base-rate baselines' training counts [0.5] */
    double score_floor;   /* log score uses log(max(p, floor)) for every model [1e-3] */
} a5_calib_opts;

/* Defaults (see docs/calibration.md for how they were chosen). */
#define A5_CALIB_REPLICATES 1000 /* when replicates <= 0 */
#define A5_CALIB_STARTS 8
#define A5_CALIB_MAX_ITER 400
#define A5_CALIB_TOL 1e-3
#define A5_CALIB_SMOOTH 0.5
#define A5_CALIB_BOOTSTRAP 0
#define A5_CALIB_SCORE_FLOOR 1e-3

/* One scored observation: held out (fold >= 1: the fold, or 1 for --holdout) or
 * in sample (fold 0, a plain fit); p is the model's smoothed simulated share of each
 * policy at the fit that did not see it. */
typedef struct {
    char code[32], date[16];
    int nation, step, observed, fold;
    double p[3];
    int start; /* the nation's starting policy (issue 23) */
} a5_calib_pred;

/* The model and every baseline, scored on the same rows. */
enum {
    A5_CALIB_MODEL,        /* the fitted model */
    A5_CALIB_BASE_DATE,    /* training share of each policy at that date (else overall) */
    A5_CALIB_BASE_OVERALL, /* training share of each policy over all dates */
    A5_CALIB_BASE_KEEP,    /* keep the initial policy (one-hot) */
    A5_CALIB_BASE_BLOC,    /* majority of bloc partners' training observations (one-hot) */
    /* Added for issue 23. */
    A5_CALIB_BASE_STRAT,   /* training share of each policy at that date among nations with
                            * the same starting policy (else the by-date rate) */
    A5_CALIB_BASE_PERSIST, /* keep the starting policy with probability 1 - e, e/2 on each
                            * other one; e = the training rows' share that left their
                            * starting policy at that date (+0.5 / +1; else over all dates) */
    A5_CALIB_NMODELS
};
/* The timing curve's offsets around an observed change: -1, 0, +1, +2 years, in steps
 * (quarters). */
#define A5_CALIB_NTIMING 4
#define A5_CALIB_TIMING_OFFSET(j) (4 * (j) - 4)
typedef struct {
    const char *name;
    size_t n;
    double brier;    /* mean over rows of sum_k (p_k - y_k)^2, 0..2 */
    double logscore; /* mean over rows of log max(p_observed, score_floor) */
    double accuracy; /* share of rows whose most likely policy (first on ties) was observed */
    /* Added for issue 23. "Changed" rows: the observed policy is not the nation's
     * starting policy (the scenario's); "unchanged": it is. NaN where no rows. */
    size_t n_changed, n_unchanged;
    double brier_changed, logscore_changed, brier_unchanged, logscore_unchanged;
    /* Within-date AUC of "has moved": rows ranked by 1 - p(starting policy), changed
     * above unchanged, over pairs of one date, pooled over dates (ties count 1/2). */
    double auc_moved;
    size_t auc_pairs;
    /* Timing: mean probability of the new policy of each observed change (a row whose
     * policy differs from the nation's previous observed one, or from its starting
     * policy for its first) at the nation's scored row A5_CALIB_TIMING_OFFSET(j) steps
     * from the change; timing_n[j] rows. NaN without rows (and with repeated
     * observations of one nation and date, where a change is not defined). */
    double timing[A5_CALIB_NTIMING];
    size_t timing_n[A5_CALIB_NTIMING];
    /* This predictor's Brier minus the model's, row by row on the same rows: the mean
     * and its paired standard error (sd / sqrt(n), rows taken as independent), on
     * every row and on the changed rows (0 and 0 for the model; NaN with < 2 rows). */
    double dbrier, dbrier_se, dbrier_changed, dbrier_changed_se;
} a5_calib_score;

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
    /* Added for issue 17. */
    char **path;              /* per fitted path (copies) */
    int folds;                /* K (0: none) */
    uint64_t fold_seed;
    int *fold_of;             /* per nation of the scenario: its fold 1..K, 0 if unobserved */
    a5_calib_pred *pred;      /* scored rows of seed 0 */
    size_t npred;
    int out_of_sample;        /* scores are on held-out rows (folds or holdout) */
    a5_calib_score scores[A5_CALIB_NMODELS]; /* on the rows of pred */
    double *lo, *hi;          /* interval per path (NaN without bootstrap) */
    double level;
    int bootstrap;            /* refits done (0: none) */
    const char *method;       /* of the intervals */
    int seeds;                /* random-number sets used (>= 1) */
    double *seed_value;       /* [seed][path]: the estimate under each set */
    double *seed_brier, *seed_logscore; /* [seed]: model scores on the scored rows */
    int starts_total, starts_capped, starts_flat;
    int max_iter;
    double tol, smooth, score_floor;
    long replicates;
    char **warnings;          /* diagnostics the caller must show (stderr, FITTED.yaml header) */
    size_t nwarnings;
} a5_calib_result;

/* CSV with header code,date,observed,fold,p_open,p_restrict,p_ban,start_policy,changed;
 * one row per scored observation (changed: 1 when observed is not start_policy).
 * Returns 0 or A5_EIO. */
int a5_calib_write_predictions(FILE *f, const a5_calib_result *r);
/* CSV with header path,estimate,lo,hi,level,method. Returns 0 or A5_EIO. */
int a5_calib_write_estimates(FILE *f, const a5_calib_result *r);

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

/* Every `--fit` argument args[0 .. n) into spec[0 .. n) (calibrate and forecast
 * alike): each parsed (a5_calib_parse_fit), a real number, and given once. Stops
 * at the first bad one. Returns 0, A5_ESCENARIO or A5_ENOMEM. */
int a5_calib_parse_fits(const a5_scenario *s, const char **args, int n, a5_fit_spec *spec,
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
