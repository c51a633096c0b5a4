/* Calibration by simulated composite likelihood: the whole procedure (a5_calib_fit),
 * from the plan (folds, starts, held-out rows) through the fit under each
 * random-number set to the checks, intervals and scores. See a5_calibrate.h; the
 * parts are in calibrate_fit.c, calibrate_check.c, calibrate_intervals.c and
 * calibrate_scores.c (calibrate_int.h says which calls which). */
#include "calibrate_int.h"


#include "a5_csv.h"
#include "a5_design.h"
#include "a5_mem.h"
#include "a5_model.h"
#include "a5_sys.h"

#include <errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multimin.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* splitmix64: the folds' shuffle and the bootstrap's draws (not the model's streams). */
static uint64_t mix_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t mix_below(uint64_t *s, size_t n) { return (size_t)(mix_next(s) % (uint64_t)n); }

/* Check the fit specs, index the observations by step, deal the nations into folds,
 * place the starts (*starts_out, the caller frees). Returns 0 or an A5_E* code (err). */
static int fit_setup(calib *c, plan *pl, const a5_fit_spec *fit, unsigned char *held,
                     int *nations, double **starts_out, a5_calib_result *res, char *err,
                     size_t errlen)
{
    const a5_scenario *s = c->s;
    const a5_obs *obs = c->obs;
    const a5_calib_opts *o = pl->o;
    size_t nobs = c->nobs, nfit = c->k;
    double *starts = NULL;
    int rc = A5_ENOMEM;
    if (nfit == 0 || nobs == 0) {
        snprintf(err, errlen, nfit ? "no observations to fit" : "nothing to fit: give a path");
        rc = A5_ESCENARIO;
        goto done;
    }
    size_t nslot = 0;
    for (size_t j = 0; j < nfit; j++) {
        if (!(res->path[j] = a5_strdup(fit[j].path)))
            goto done;
        if ((rc = a5_scenario_resolve(s, fit[j].path, &c->targets[j], err, errlen)) != 0) {
            size_t l = strlen(err);
            snprintf(err + l, errlen - l, " (--fit %s)", fit[j].path);
            goto done;
        }
        const a5_param *p = c->targets[j].param;
        if (!(fit[j].lo < fit[j].hi) || fit[j].lo < p->lo || fit[j].hi > p->hi) {
            snprintf(err, errlen, "--fit %s: bounds [%g, %g] must be increasing and within the "
                                  "parameter's range [%g, %g]", fit[j].path, fit[j].lo, fit[j].hi,
                     p->lo, p->hi);
            rc = A5_ESCENARIO;
            goto done;
        }
        nslot += c->targets[j].nslots;
        res->start[j] = s->base[c->targets[j].slots[0]];
    }
    rc = A5_ESCENARIO;
    if (pl->folds && o->holdout && o->holdout[0]) {
        snprintf(err, errlen, "--folds and --holdout cannot be combined: the folds hold out "
                              "every nation once");
        goto done;
    }
    rc = A5_ENOMEM;
    c->slots = a5_calloc(nslot + 1, sizeof *c->slots);
    c->values = a5_calloc(nslot + 1, sizeof *c->values);
    if (!c->slots || !c->values)
        goto done;
    /* Observations by step, and which nations are held out or observed. */
    size_t nobserved = 0;
    for (size_t i = 0; i < nobs; i++) {
        int h = 0;
        for (const char *const *q = o->holdout; q && *q; q++)
            h |= strcmp(*q, s->codes[obs[i].nation]) == 0;
        held[i] = (unsigned char)h;
        res->nfit += !h;
        res->nheld += (size_t)h;
        c->off[obs[i].step + 1]++;
        if (obs[i].step > c->tmax)
            c->tmax = obs[i].step;
        if (!res->fold_of[obs[i].nation]) {
            res->fold_of[obs[i].nation] = -1; /* observed; fold below */
            nations[nobserved++] = obs[i].nation;
        }
    }
    if (res->nfit == 0) {
        snprintf(err, errlen, "every observation is held out: nothing to fit");
        rc = A5_ESCENARIO;
        goto done;
    }
    if (pl->folds) {
        if (pl->folds < 2 || (size_t)pl->folds > nobserved) {
            snprintf(err, errlen, "--folds %d: needs 2 to %zu (the number of observed nations)",
                     pl->folds, nobserved);
            rc = A5_ESCENARIO;
            goto done;
        }
        /* Seeded Fisher-Yates shuffle of the observed nations (in order of first
         * appearance), then dealt round-robin: fold sizes differ by at most one. */
        uint64_t st = res->fold_seed ^ 0xf01d5eedULL;
        for (size_t q = nobserved; q > 1; q--) {
            size_t r = mix_below(&st, q);
            int tmp = nations[q - 1];
            nations[q - 1] = nations[r];
            nations[r] = tmp;
        }
        for (size_t q = 0; q < nobserved; q++)
            res->fold_of[nations[q]] = (int)(q % (size_t)pl->folds) + 1;
    }
    for (int i = 0; i < s->n; i++)
        if (res->fold_of[i] < 0)
            res->fold_of[i] = 0;
    pl->fold_of = res->fold_of;
    pl->held = held;
    for (int t = 0; t <= s->steps; t++)
        c->off[t + 1] += c->off[t];
    {
        size_t *fill = a5_calloc((size_t)s->steps + 1, sizeof *fill);
        if (!fill)
            goto done;
        for (size_t i = 0; i < nobs; i++)
            c->idx[c->off[obs[i].step] + fill[obs[i].step]++] = i;
        free(fill);
    }

    /* Starts: the scenario's own values, then a Latin hypercube over the bounds. */
    int nstarts = pl->nstarts;
    starts = a5_calloc((size_t)nstarts * nfit, sizeof *starts);
    *starts_out = starts;
    if (!starts)
        goto done;
    for (size_t j = 0; j < nfit; j++) {
        double v = res->start[j];
        starts[j] = v < fit[j].lo ? fit[j].lo : v > fit[j].hi ? fit[j].hi : v;
    }
    if (nstarts > 1) {
        double *u = a5_calloc((size_t)(nstarts - 1) * nfit, sizeof *u);
        if (!u || a5_design_lhs(nstarts - 1, (int)nfit, s->seed ^ 0x5eedca1bULL, u)) {
            free(u);
            goto done;
        }
        for (int q = 1; q < nstarts; q++)
            for (size_t j = 0; j < nfit; j++)
                starts[(size_t)q * nfit + j] = fit[j].lo + (fit[j].hi - fit[j].lo) * u[(size_t)(q - 1) * nfit + j];
        free(u);
    }
    pl->starts = starts;
    return 0;
done:
    return rc;
}

/* res->pred: the scored rows (fold[i] >= 0) with the model's probabilities. */
static int fill_predictions(const a5_scenario *s, const a5_obs *obs, size_t nobs,
                            const int *fold, const double *P, a5_calib_result *res)
{
    for (size_t i = 0; i < nobs; i++)
        res->npred += fold[i] >= 0;
    if (!(res->pred = a5_calloc(res->npred ? res->npred : 1, sizeof *res->pred)))
        return A5_ENOMEM;
    for (size_t i = 0, q = 0; i < nobs; i++) {
        if (fold[i] < 0)
            continue;
        a5_calib_pred *p = &res->pred[q++];
        snprintf(p->code, sizeof p->code, "%s", s->codes[obs[i].nation]);
        a5_scenario_date(s, obs[i].step, p->date, sizeof p->date);
        p->nation = obs[i].nation;
        p->step = obs[i].step;
        p->observed = obs[i].policy;
        p->fold = fold[i];
        memcpy(p->p, P + (i * A5_CALIB_NMODELS + A5_CALIB_MODEL) * 3, sizeof p->p);
        p->start = a5c_start(s, obs[i].nation);
    }
    return 0;
}

int a5_calib_fit(const a5_scenario *s, const a5_obs *obs, size_t nobs, const a5_fit_spec *fit,
                 size_t nfit, const a5_calib_opts *o, a5_calib_result *res, char *err,
                 size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (err && errlen)
        err[0] = 0;
    calib c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.obs = obs;
    c.nobs = nobs;
    c.R = o->replicates > 0 ? o->replicates : A5_CALIB_REPLICATES;
    c.threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    c.floor = o->floor > 0 ? o->floor : 0.5 / (double)c.R;
    c.smooth = o->smooth > 0 ? o->smooth : o->smooth < 0 ? 0 : A5_CALIB_SMOOTH;
    c.brier = o->brier;
    c.k = nfit;
    plan pl;
    memset(&pl, 0, sizeof pl);
    pl.o = o;
    pl.fit = fit;
    pl.folds = o->folds > 0 ? o->folds : 0;
    pl.max_iter = o->max_iter > 0 ? o->max_iter : A5_CALIB_MAX_ITER;
    pl.tol = o->tol > 0 ? o->tol : A5_CALIB_TOL;
    pl.base_smooth = o->base_smooth > 0 ? o->base_smooth : 0.5;
    pl.score_floor = o->score_floor > 0 ? o->score_floor : A5_CALIB_SCORE_FLOOR;
    pl.nstarts = o->starts > 0 ? o->starts : A5_CALIB_STARTS;
    int nseeds = o->seeds > 0 ? o->seeds : 1;
    int B = o->bootstrap > 0 ? o->bootstrap : o->bootstrap < 0 ? 0 : A5_CALIB_BOOTSTRAP;
    double level = o->level > 0 && o->level < 1 ? o->level : 0.9;
    res->max_iter = pl.max_iter;
    res->tol = pl.tol;
    res->smooth = c.smooth;
    res->score_floor = pl.score_floor;
    res->replicates = c.R;
    res->level = level;
    res->seeds = nseeds;
    res->folds = pl.folds;
    res->fold_seed = o->fold_seed ? o->fold_seed : s->seed;
    res->method = B ? "parametric-bootstrap-percentile" : "none";

    int rc = A5_ENOMEM;
    unsigned char *train = a5_calloc(nobs ? nobs : 1, 1), *held = a5_calloc(nobs ? nobs : 1, 1);
    int *fold0 = a5_calloc(nobs ? nobs : 1, sizeof *fold0);
    double *P0 = a5_calloc((nobs ? nobs : 1) * A5_CALIB_NMODELS * 3, sizeof *P0);
    double *wts = a5_calloc(nobs ? nobs : 1, sizeof *wts);
    c.targets = a5_calloc(nfit ? nfit : 1, sizeof *c.targets);
    c.count = a5_calloc((nobs ? nobs : 1) * 3, sizeof *c.count);
    c.off = a5_calloc((size_t)s->steps + 2, sizeof *c.off);
    c.idx = a5_calloc(nobs ? nobs : 1, sizeof *c.idx);
    c.m = a5_model_alloc(s);
    res->k = nfit;
    res->start = a5_calloc(nfit ? nfit : 1, sizeof(double));
    res->value = a5_calloc(nfit ? nfit : 1, sizeof(double));
    res->se = a5_calloc(nfit ? nfit : 1, sizeof(double));
    res->lo = a5_calloc(nfit ? nfit : 1, sizeof(double));
    res->hi = a5_calloc(nfit ? nfit : 1, sizeof(double));
    res->path = a5_calloc(nfit ? nfit : 1, sizeof *res->path);
    res->fold_of = a5_calloc((size_t)s->n, sizeof *res->fold_of);
    res->seed_value = a5_calloc((size_t)nseeds * (nfit ? nfit : 1), sizeof(double));
    res->seed_brier = a5_calloc((size_t)nseeds, sizeof(double));
    res->seed_logscore = a5_calloc((size_t)nseeds, sizeof(double));
    double *theta = a5_calloc(nfit ? nfit : 1, sizeof *theta);
    double *starts = NULL;
    int *nations = a5_calloc((size_t)s->n, sizeof *nations);
    if (!train || !held || !fold0 || !P0 || !wts || !c.targets || !c.count ||
        !c.off || !c.idx || !c.m || !res->start || !res->value || !res->se || !res->lo ||
        !res->hi || !res->path || !res->fold_of || !res->seed_value || !res->seed_brier ||
        !res->seed_logscore || !theta || !nations)
        goto done;
    c.train = train;
    if ((rc = fit_setup(&c, &pl, fit, held, nations, &starts, res, err, errlen)) != 0)
        goto done;
    rc = A5_ENOMEM;

    /* Random-number set 0: the fits, the scored rows, the estimate. */
    double fbest;
    c.rep0 = 0;
    if ((rc = a5c_run_set(&c, &pl, 1, theta, &fbest, &res->obj_start, fold0, P0)) != 0)
        goto done;
    rc = A5_ENOMEM;
    a5c_say(o, "objective at the scenario's values: %.4f (%s, %zu observations, %ld replicates)",
        res->obj_start, c.brier ? "Brier score" : "-log-likelihood", res->nfit, c.R);
    memcpy(res->value, theta, nfit * sizeof *theta);
    if ((res->obj_end = a5c_objective(&c, theta)) == HUGE_VAL)
        goto done;
    {
        double ll, br, acc;
        size_t m;
        a5c_score(&c, 1, &ll, &br, &acc, &m);
        res->loglik = ll;
        res->brier = br;
        res->accuracy = acc;
        if (res->nheld) {
            a5c_score(&c, 0, &res->held_loglik, &res->held_brier, &res->held_accuracy, &m);
            if (a5c_baseline(&c, 0, &res->base_keep_loglik, &res->base_keep_brier,
                         &res->base_keep_accuracy) ||
                a5c_baseline(&c, 1, &res->base_bloc_loglik, &res->base_bloc_brier,
                         &res->base_bloc_accuracy))
                goto done;
        }
    }
    if (a5c_score_models(&c, fold0, P0, pl.score_floor, res->scores))
        goto done;
    res->out_of_sample = pl.folds > 0 || res->nheld > 0;
    if (fill_predictions(s, obs, nobs, fold0, P0, res))
        goto done;
    memcpy(res->seed_value, theta, nfit * sizeof *theta);
    res->seed_brier[0] = res->scores[A5_CALIB_MODEL].brier;
    res->seed_logscore[0] = res->scores[A5_CALIB_MODEL].logscore;

    if ((rc = a5c_check_estimate(&c, fit, theta, B, res)) != 0 ||
        (rc = a5c_bootstrap(&c, &pl, theta, B, level, res)) != 0 ||
        (rc = a5c_seed_sets(&c, &pl, nseeds, res)) != 0)
        goto done;
    rc = A5_ENOMEM;
    /* Leave the counts at the estimate (callers may inspect them through scores). */
    res->evaluations = c.evaluations;
    rc = 0;
done:
    for (size_t j = 0; c.targets && j < nfit; j++)
        a5_scenario_target_free(&c.targets[j]);
    free(c.targets);
    free(c.count);
    free(c.off);
    free(c.idx);
    free(c.slots);
    free(c.values);
    a5_model_free(c.m);
    free(train);
    free(held);
    free(fold0);
    free(P0);
    free(wts);
    free(theta);
    free(nations);
    free(starts);
    if (rc)
        a5_calib_result_free(res);
    return rc;
}
