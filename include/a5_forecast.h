/* Forecasts from an observed state (docs/forecast.md).
 *
 * A forecast from origin step t runs R replicates of the scenario from its start
 * to t, with only the scheduled events known at t (`known:`, default `at`). Then,
 * by state replacement (data assimilation): every observed nation's policy is set
 * to its observed policy at t; in a replicate that disagreed, the nation's
 * unobserved state (installed high-risk share, US pressure, the intelligence
 * lever's status) is taken from a replicate that agreed, chosen from the
 * replicate's own random key (outside its step stream); with no agreeing replicate
 * it keeps its own, and that is counted. The replicates then run on to t + h. The
 * same replicates, run on without the replacement (the free run), are forecast
 * too: both on common random numbers. Results are the same, bit for bit, for any
 * thread count.
 *
 * Scores (Brier, log score with a floor, mover AUC) and the baselines fitted on
 * the rows up to t (smoothed no change, annual transition rates) are here too. */
#ifndef A5_FORECAST_H
#define A5_FORECAST_H

#include "a5_calibrate.h"
#include "a5_scenario.h"

#include <stddef.h>
#include <stdio.h>

/* The scenario as known at origin t: a shallow copy of s (sharing everything)
 * whose events are those known at t, whose attention events are those at or
 * before t, and whose windows are those known at t (each window's `known`
 * date). *keep is the block to free after use (never call a5_scenario_free on
 * the view). Returns 0 or A5_ENOMEM. */
int a5_fc_view(const a5_scenario *s, int origin, a5_scenario *view, a5_event **keep);

typedef struct {
    long replicates;   /* <= 0: A5_CALIB_REPLICATES */
    long rep0;         /* first replicate index (point 0) */
    int threads;       /* <= 0: OpenMP's default */
    int horizon;       /* steps forecast after the origin, >= 1 */
    double smooth;     /* pseudo-count per policy in shares [A5_CALIB_SMOOTH]; < 0: none */
    int every;         /* replace the state at every observed step up to the origin, not
                        * only at the origin */
    size_t nover;      /* values set in every replicate (a fit), as a5_model_override */
    const size_t *over_slot;
    const double *over_value;
} a5_fc_opts;

typedef struct {
    int origin, horizon, n;
    long R;
    int *at_origin;  /* [n]: observed policy at the origin, -1 where none */
    double *p;       /* [horizon][n][3]: smoothed shares at step origin + 1 + j, assimilated */
    double *p_free;  /* the same for the free run */
    double *h_assim; /* [n]: mean high-risk share at the origin after the replacement */
    double *h_free;  /* [n]: the same before it (after the earlier ones with every) */
    double *h_sd;    /* [n]: its standard deviation over replicates after the replacement */
    long cells;      /* (replicate, observed nation) pairs at the origin (only there) */
    long replaced;   /* of those, where the replicate's policy was replaced */
    long unsupported; /* of those, where no replicate agreed (own unobserved state kept) */
} a5_fc_result;

/* Forecast from origin step `origin` (0 <= origin, origin + horizon < s->steps) with
 * the observations at the origin assimilated. Conflicting observations of one
 * nation at the origin are an error. Returns 0, A5_ESCENARIO (err says why) or
 * A5_ENOMEM. Free with a5_fc_result_free. */
int a5_fc_run(const a5_scenario *s, const a5_obs *obs, size_t nobs, int origin,
              const a5_fc_opts *o, a5_fc_result *res, char *err, size_t errlen);
void a5_fc_result_free(a5_fc_result *r);

/* --- scoring ------------------------------------------------------------------------ */

enum {
    A5_FC_MODEL,      /* assimilated forecast */
    A5_FC_FREE,       /* the same replicates without assimilation */
    A5_FC_NOCHANGE,   /* keep the policy at t with P (1 - e)^y, e the annual change rate */
    A5_FC_TRANSITION, /* annual transition rates from the policy at t, to the power y */
    A5_FC_NPRED
};
extern const char *const a5_fc_pred_name[A5_FC_NPRED];

/* One forecast row: nation at target step, from origin; observed -1 when not (yet)
 * observed. */
typedef struct {
    int origin, nation, step, observed, at_origin;
    double p[A5_FC_NPRED][3];
} a5_fc_row;

/* The observed policy of nation i at step t (the last such row), -1 when none. */
int a5_fc_observed(const a5_obs *obs, size_t nobs, int i, int t);
/* Whether step t of s ends a year (a Q4 quarter). */
int a5_fc_year_end(const a5_scenario *s, int t);

/* The two baselines for a nation at policy `at_origin` at step origin, y years
 * ahead, from the known states up to origin: the scenario's initial policies (at
 * step -1) and the observations at steps <= origin, paired at lag 4 steps. */
void a5_fc_baselines(const a5_scenario *s, const a5_obs *obs, size_t nobs, int origin,
                     int at_origin, int years, double smooth, double nochange[3],
                     double transition[3]);

typedef struct {
    size_t n;
    double brier, logscore;
    double se_diff; /* paired std.err of this predictor's Brier minus the model's */
} a5_fc_score;

/* Scores of predictor k on the rows with an observation; subset 0 all, 1 changed
 * (observed differs from the policy at the origin), 2 unchanged. */
void a5_fc_score_rows(const a5_fc_row *rows, size_t n, int k, int subset, double floor,
                      a5_fc_score *sc);
/* Within (origin, step) AUC of ranking movers above stayers by 1 - p(policy at
 * origin); NaN with no pair. *pairs gets the number of pairs; *se (unless NULL)
 * DeLong's standard error (NaN with fewer than 2 movers or stayers). */
double a5_fc_auc(const a5_fc_row *rows, size_t n, int k, size_t *pairs, double *se);

/* CSV: origin,code,date,observed,policy_at_origin,p_open,p_restrict,p_ban (the
 * model's), after the lines of `header` (each written as "# LINE"). Returns 0 or
 * A5_EIO. */
int a5_fc_write_predictions(FILE *f, const a5_scenario *s, const a5_fc_row *rows, size_t n,
                            const char *header);

#endif
