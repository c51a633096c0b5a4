/* One fit of a calibration: the simulated shares at the observed cells, the
 * objective, Nelder-Mead from several starts, the baselines and every model's
 * predictions, and the whole procedure under one random-number set (a5c_run_set).
 * See calibrate_int.h and docs/calibration.md. */
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

/* --- simulated shares at the observed cells ----------------------------------------- */

int a5c_simulate(calib *c)
{
    const int n = c->s->n;
    int rc = 0;
    memset(c->count, 0, c->nobs * 3 * sizeof *c->count);
#pragma omp parallel num_threads(c->threads)
    {
        a5_work *w = a5_model_work_alloc(c->m);
        uint32_t *local = a5_calloc(c->nobs * 3, sizeof *local);
        double *cost = a5_calloc((size_t)n, sizeof *cost), *risk = a5_calloc((size_t)n, sizeof *risk);
        gsl_rng *g = a5_rng_alloc();
        int ok = w && local && cost && risk && g;
        if (!ok) {
#pragma omp atomic write
            rc = A5_ENOMEM;
        }
#pragma omp for schedule(dynamic, 8)
        for (long r = 0; r < c->R; r++) {
            if (!ok)
                continue;
            double *x = a5_model_work_x(w);
            a5_rng_state *rs = a5_rng_state_of(g);
            a5_model_init(c->m, 0, c->rep0 + r, x, rs);
            for (int t = 0; t <= c->tmax; t++) {
                a5_model_step(c->m, x, t, rs, w, cost, risk);
                for (size_t q = c->off[t]; q < c->off[t + 1]; q++) {
                    const a5_obs *o = &c->obs[c->idx[q]];
                    int k = (int)x[a5_param_nslot(A5_N_POLICY, o->nation, n)];
                    local[c->idx[q] * 3 + (size_t)k]++;
                }
            }
        }
        /* Integer counts: the order threads add them in does not matter. */
#pragma omp critical
        if (ok)
            for (size_t i = 0; i < c->nobs * 3; i++)
                c->count[i] += local[i];
        a5_model_work_free(w);
        free(local);
        free(cost);
        free(risk);
        if (g)
            gsl_rng_free(g);
    }
    c->evaluations++;
    return rc;
}

/* (calibrate_int.h) So that no policy the model can reach only rarely has
 * probability 0. */
void a5c_shares(const calib *c, size_t i, double p[3])
{
    double a = c->smooth > 0 ? c->smooth : 0;
    for (int k = 0; k < 3; k++)
        p[k] = ((double)c->count[i * 3 + (size_t)k] + a) / ((double)c->R + 3 * a);
}

/* Log-likelihood, Brier score and accuracy over observations with train[i] == want
 * (weighted by c->w when set). */
void a5c_score(const calib *c, int want, double *ll, double *brier, double *acc, size_t *n)
{
    double l = 0, b = 0, a = 0, wsum = 0;
    size_t m = 0;
    for (size_t i = 0; i < c->nobs; i++) {
        if (c->train[i] != want)
            continue;
        double wi = c->w ? c->w[i] : 1.0;
        double p[3];
        a5c_shares(c, i, p);
        int best = 0;
        for (int k = 1; k < 3; k++)
            if (p[k] > p[best])
                best = k;
        int y = c->obs[i].policy;
        l += wi * log(fmax(p[y], c->floor));
        for (int k = 0; k < 3; k++)
            b += wi * (p[k] - (k == y)) * (p[k] - (k == y));
        a += wi * (best == y);
        wsum += wi;
        m++;
    }
    *ll = l;
    *brier = wsum > 0 ? b / wsum : NAN;
    *acc = wsum > 0 ? a / wsum : NAN;
    *n = m;
}

/* Fitted paths to vector slots: every slot of every target takes its value. */
int a5c_set_values(calib *c, const double *theta)
{
    size_t q = 0;
    for (size_t j = 0; j < c->k; j++)
        for (size_t i = 0; i < c->targets[j].nslots; i++) {
            c->slots[q] = c->targets[j].slots[i];
            c->values[q++] = a5_param_clamp(c->targets[j].param, theta[j]);
        }
    return a5_model_override(c->m, q, c->slots, c->values);
}

/* The minimised objective at parameter values theta (HUGE_VAL when out of memory). */
double a5c_objective(calib *c, const double *theta)
{
    if (a5c_set_values(c, theta) || a5c_simulate(c)) {
        c->failed = 1;
        return HUGE_VAL;
    }
    double ll, br, acc;
    size_t m;
    a5c_score(c, 1, &ll, &br, &acc, &m);
    return c->brier ? br : -ll;
}

typedef struct {
    calib *c;
    const a5_fit_spec *fit;
    double *theta;
} nm_ctx;

static double to_theta(const a5_fit_spec *f, double z) { return f->lo + (f->hi - f->lo) / (1 + exp(-z)); }

static double to_z(const a5_fit_spec *f, double theta)
{
    double u = (theta - f->lo) / (f->hi - f->lo);
    u = u < 0.0025 ? 0.0025 : u > 0.9975 ? 0.9975 : u;
    return log(u / (1 - u));
}

/* The simplex works on z = logit of each parameter's place in its bounds, kept to
 * |z| <= Z_MAX (within 0.25 % of a bound): beyond it the objective is that at the
 * edge plus a quadratic penalty, so a simplex pushed to a bound shrinks there instead
 * of expanding for ever on a flat objective (which ran every start into the cap). */
#define Z_MAX 6.0

static double nm_f(const gsl_vector *z, void *params)
{
    nm_ctx *x = params;
    double pen = 0;
    for (size_t j = 0; j < x->c->k; j++) {
        double zj = gsl_vector_get(z, j);
        if (fabs(zj) > Z_MAX) {
            pen += (fabs(zj) - Z_MAX) * (fabs(zj) - Z_MAX);
            zj = zj > 0 ? Z_MAX : -Z_MAX;
        }
        x->theta[j] = to_theta(&x->fit[j], zj);
    }
    double f = a5c_objective(x->c, x->theta);
    return f == HUGE_VAL ? 1e300 : f + pen; /* the simplex needs finite values; c->failed says */
}

static double z_theta(const a5_fit_spec *f, double z)
{
    return to_theta(f, z > Z_MAX ? Z_MAX : z < -Z_MAX ? -Z_MAX : z);
}

void a5c_say(const a5_calib_opts *o, const char *fmt, ...)
{
    if (!o->report)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    o->report(o->ctx, buf);
}

/* A diagnostic for the caller to show; A5_ENOMEM when it cannot be kept. */
int a5c_warn(a5_calib_result *r, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **nw = a5_realloc(r->warnings, (r->nwarnings + 1) * sizeof *nw);
    if (!nw)
        return A5_ENOMEM;
    r->warnings = nw;
    if (!(nw[r->nwarnings] = a5_strdup(buf)))
        return A5_ENOMEM;
    r->nwarnings++;
    return 0;
}

/* --- one fit: Nelder-Mead from several starts --------------------------------------- */

#define STALL 40

/* Minimise the objective over the training rows from each of `nstarts` starts.
 * best/fbest: the lowest point found; f_first: the objective at the first start. */
int a5c_fit_run(calib *c, const a5_fit_spec *fit, const double *starts, int nstarts,
                   int max_iter, double tol, const a5_calib_opts *o, int verbose, double *best,
                   double *fbest, double *f_first, fit_stats *st)
{
    size_t k = c->k;
    int rc = A5_ENOMEM;
    double *theta = a5_calloc(k, sizeof *theta);
    nm_ctx ctx = {c, fit, theta};
    gsl_multimin_function fn = {nm_f, k, &ctx};
    gsl_multimin_fminimizer *mz = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, k);
    gsl_vector *z = gsl_vector_alloc(k), *step = gsl_vector_alloc(k), *z1 = gsl_vector_alloc(k);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    c->failed = 0;
    if (!theta || !mz || !z || !step || !z1)
        goto done;
    *fbest = HUGE_VAL;
    for (int q = 0; q < nstarts; q++) {
        for (size_t j = 0; j < k; j++) {
            gsl_vector_set(z, j, to_z(&fit[j], starts[(size_t)q * k + j]));
            gsl_vector_set(step, j, 1.0);
        }
        double f0 = nm_f(z, &ctx);
        if (c->failed)
            goto done;
        if (q == 0 && f_first)
            *f_first = f0;
        /* Flat around the start: one simplex step along each axis changes nothing. */
        int flat = 1;
        for (size_t j = 0; j < k && flat; j++) {
            gsl_vector_memcpy(z1, z);
            double zj = gsl_vector_get(z, j);
            gsl_vector_set(z1, j, zj > 0 ? zj - 1.0 : zj + 1.0);
            double f1 = nm_f(z1, &ctx);
            if (c->failed)
                goto done;
            flat = fabs(f1 - f0) <= 1e-12 * (1 + fabs(f0));
        }
        gsl_multimin_fminimizer_set(mz, &fn, z, step);
        /* Converged: the simplex is smaller than tol, or the best value has not moved
         * for STALL iterations (the simulated objective is piecewise constant: on a
         * plateau the simplex reflects between equal values without shrinking). */
        int it = 0, converged = 0, since = 0;
        /* GSL sets fval only in iterate: progress is measured from the start's value. */
        double last = f0;
        for (; it < max_iter; it++) {
            if (gsl_multimin_fminimizer_iterate(mz)) {
                converged = 1; /* no further progress possible */
                break;
            }
            if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(mz), tol) == GSL_SUCCESS) {
                converged = 1;
                it++;
                break;
            }
            if (mz->fval < last - 1e-9 * (1 + fabs(last))) {
                last = mz->fval;
                since = 0;
            } else if (++since >= STALL) {
                converged = 1;
                it++;
                break;
            }
        }
        double fq = mz->fval;
        if (c->failed || !isfinite(fq))
            goto done;
        st->starts++;
        st->capped += !converged;
        st->flat += flat;
        if (verbose) {
            char vals[512] = "";
            size_t off = 0;
            for (size_t j = 0; j < k && off < sizeof vals; j++)
                off += (size_t)snprintf(vals + off, sizeof vals - off, "%s%s=%.4g", j ? ", " : "",
                                        fit[j].path, z_theta(&fit[j], gsl_vector_get(mz->x, j)));
            a5c_say(o, "start %d/%d: %.4f -> %.4f in %d iterations%s%s (%s)", q + 1, nstarts, f0, fq,
                it, converged ? "" : ", stopped at the cap", flat ? ", flat at the start" : "",
                vals);
        }
        if (fq < *fbest) {
            *fbest = fq;
            for (size_t j = 0; j < k; j++)
                best[j] = z_theta(&fit[j], gsl_vector_get(mz->x, j));
        }
    }
    rc = 0;
done:
    gsl_set_error_handler(old);
    gsl_multimin_fminimizer_free(mz);
    gsl_vector_free(z);
    gsl_vector_free(z1);
    gsl_vector_free(step);
    free(theta);
    return rc;
}

/* Every row's bloc-majority policy (one-hot baselines): the most common policy among
 * the training rows (train[q] == 1) of other nations sharing a bloc with the row's
 * nation at its date; a tie, or no such row, keeps the initial one. Rows by date
 * (c->off, c->idx): O(rows x nations), not rows squared (issue 25.11). */
static int bloc_all(const calib *c, int *pred)
{
    const a5_scenario *s = c->s;
    const size_t n = (size_t)s->n;
    unsigned char *share = a5_calloc(n * n, 1);
    uint32_t *cnt = a5_calloc(n * 3, sizeof *cnt);
    if (!share || !cnt) {
        free(share);
        free(cnt);
        return A5_ENOMEM;
    }
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++)
            for (int x = s->bloc_off[a]; a != b && x < s->bloc_off[a + 1]; x++)
                for (int y = s->bloc_off[b]; y < s->bloc_off[b + 1]; y++)
                    share[a * n + b] |= s->bloc_idx[x] == s->bloc_idx[y];
    for (int t = 0; t <= c->tmax; t++) {
        for (size_t q = c->off[t]; q < c->off[t + 1]; q++) {
            const a5_obs *o = &c->obs[c->idx[q]];
            if (c->train[c->idx[q]] == 1)
                cnt[(size_t)o->nation * 3 + (size_t)o->policy]++;
        }
        for (size_t q = c->off[t]; q < c->off[t + 1]; q++) {
            const a5_obs *o = &c->obs[c->idx[q]];
            size_t me = (size_t)o->nation;
            uint32_t votes[3] = {0, 0, 0};
            for (size_t p = 0; p < n; p++)
                if (share[me * n + p])
                    for (int k = 0; k < 3; k++)
                        votes[k] += cnt[p * 3 + (size_t)k];
            int top = a5c_start(s, o->nation);
            for (int k = 0; k < 3; k++)
                if (votes[k] > votes[top])
                    top = k;
            pred[c->idx[q]] = top;
        }
        for (size_t q = c->off[t]; q < c->off[t + 1]; q++) {
            const a5_obs *o = &c->obs[c->idx[q]];
            memset(cnt + (size_t)o->nation * 3, 0, 3 * sizeof *cnt);
        }
    }
    free(share);
    free(cnt);
    return 0;
}

/* Legacy hold-out baselines (the a5_calib_result fields base_keep_*, base_bloc_*):
 * one-hot predictions, log with c->floor. */
int a5c_baseline(const calib *c, int bloc, double *ll, double *br, double *acc)
{
    const a5_scenario *s = c->s;
    int *bp = bloc ? a5_calloc(c->nobs, sizeof *bp) : NULL;
    if (bloc && (!bp || bloc_all(c, bp))) {
        free(bp);
        return A5_ENOMEM;
    }
    double l = 0, b = 0, a = 0;
    size_t m = 0;
    for (size_t i = 0; i < c->nobs; i++) {
        if (c->train[i])
            continue;
        const a5_obs *o = &c->obs[i];
        int pred = bloc ? bp[i] : a5c_start(s, o->nation);
        l += log(pred == o->policy ? 1.0 : c->floor);
        b += pred == o->policy ? 0 : 2;
        a += pred == o->policy;
        m++;
    }
    free(bp);
    *ll = l;
    *br = m ? b / (double)m : NAN;
    *acc = m ? a / (double)m : NAN;
    return 0;
}

/* Every model's probabilities at the rows with train[i] == 0 (or, in sample, all
 * rows: want_all), from the training rows (train[i] == 1); the model's from the
 * counts of the last simulation. P is nobs x A5_CALIB_NMODELS x 3. */
static int predict(const calib *c, int want_all, double base_smooth, double *P)
{
    const a5_scenario *s = c->s;
    const size_t nd3 = ((size_t)c->tmax + 1) * 3;
    double *bydate = a5_calloc(nd3, sizeof *bydate), all[3] = {0, 0, 0};
    double *strat = a5_calloc(nd3 * 3, sizeof *strat); /* [date][start][policy] */
    double *moved = a5_calloc(nd3, sizeof *moved), mall[2] = {0, 0}; /* [date][moved, rows] */
    int *bp = a5_calloc(c->nobs ? c->nobs : 1, sizeof *bp);
    if (!bydate || !strat || !moved || !bp || bloc_all(c, bp)) {
        free(bydate);
        free(strat);
        free(moved);
        free(bp);
        return A5_ENOMEM;
    }
    for (size_t i = 0; i < c->nobs; i++)
        if (c->train[i] == 1) {
            const a5_obs *o = &c->obs[i];
            int st = a5c_start(s, o->nation);
            bydate[(size_t)o->step * 3 + (size_t)o->policy] += 1;
            all[o->policy] += 1;
            strat[((size_t)o->step * 3 + (size_t)st) * 3 + (size_t)o->policy] += 1;
            moved[(size_t)o->step * 3] += o->policy != st;
            moved[(size_t)o->step * 3 + 1] += 1;
            mall[0] += o->policy != st;
            mall[1] += 1;
        }
    double a = base_smooth, nall = all[0] + all[1] + all[2];
    for (size_t i = 0; i < c->nobs; i++) {
        if (!want_all && c->train[i] != 0)
            continue;
        const a5_obs *o = &c->obs[i];
        double *p = P + i * A5_CALIB_NMODELS * 3;
        a5c_shares(c, i, p + 3 * A5_CALIB_MODEL);
        const double *d = bydate + (size_t)o->step * 3;
        double nd = d[0] + d[1] + d[2];
        int keep = a5c_start(s, o->nation);
        const double *g = strat + ((size_t)o->step * 3 + (size_t)keep) * 3;
        double ng = g[0] + g[1] + g[2];
        const double *mv = moved[(size_t)o->step * 3 + 1] > 0 ? moved + (size_t)o->step * 3 : mall;
        double e = (mv[0] + a) / (mv[1] + 2 * a);
        for (int k = 0; k < 3; k++) {
            p[3 * A5_CALIB_BASE_OVERALL + k] = (all[k] + a) / (nall + 3 * a);
            p[3 * A5_CALIB_BASE_DATE + k] = nd > 0 ? (d[k] + a) / (nd + 3 * a)
                                                   : p[3 * A5_CALIB_BASE_OVERALL + k];
            p[3 * A5_CALIB_BASE_STRAT + k] = ng > 0 ? (g[k] + a) / (ng + 3 * a)
                                                    : p[3 * A5_CALIB_BASE_DATE + k];
            p[3 * A5_CALIB_BASE_PERSIST + k] = k == keep ? 1 - e : e / 2;
            p[3 * A5_CALIB_BASE_KEEP + k] = k == keep;
            p[3 * A5_CALIB_BASE_BLOC + k] = k == bp[i];
        }
    }
    free(bydate);
    free(strat);
    free(moved);
    free(bp);
    return 0;
}

/* --- the whole procedure under one random-number set -------------------------------- */


/* Fits (per fold, then the estimate), scored rows (fold[i] >= 0) and every model's
 * probabilities there. theta: the estimate; f_first: the objective at the first start
 * of the estimate's fit. The estimate's training mask is left in c->train. */
int a5c_run_set(calib *c, plan *pl, int verbose, double *theta, double *fbest,
                   double *f_first, int *fold, double *P)
{
    int rc;
    const a5_obs *obs = c->obs;
    for (size_t i = 0; i < c->nobs; i++)
        fold[i] = -1;
    for (int f = 1; f <= pl->folds; f++) {
        size_t nscored = 0;
        for (size_t i = 0; i < c->nobs; i++) {
            c->train[i] = pl->fold_of[obs[i].nation] != f;
            nscored += !c->train[i];
        }
        if (verbose)
            a5c_say(pl->o, "fold %d/%d: fitting on %zu observations, predicting %zu", f, pl->folds,
                c->nobs - nscored, nscored);
        if ((rc = a5c_fit_run(c, pl->fit, pl->starts, pl->nstarts, pl->max_iter, pl->tol, pl->o,
                          verbose, theta, fbest, NULL, &pl->st)) != 0)
            return rc;
        if (a5c_objective(c, theta) == HUGE_VAL)
            return A5_ENOMEM;
        if ((rc = predict(c, 0, pl->base_smooth, P)) != 0)
            return rc;
        for (size_t i = 0; i < c->nobs; i++)
            if (!c->train[i])
                fold[i] = f;
    }
    /* The estimate: every observation but the --holdout nations'. */
    for (size_t i = 0; i < c->nobs; i++)
        c->train[i] = (unsigned char)!(pl->held && pl->held[i]);
    if (verbose && pl->folds)
        a5c_say(pl->o, "fitting on all %zu observations for the estimates", c->nobs);
    if ((rc = a5c_fit_run(c, pl->fit, pl->starts, pl->nstarts, pl->max_iter, pl->tol, pl->o, verbose,
                      theta, fbest, f_first, &pl->st)) != 0)
        return rc;
    if (a5c_objective(c, theta) == HUGE_VAL)
        return A5_ENOMEM;
    if (!pl->folds) {
        int any_held = 0;
        for (size_t i = 0; i < c->nobs; i++)
            any_held |= !c->train[i];
        if ((rc = predict(c, !any_held, pl->base_smooth, P)) != 0)
            return rc;
        for (size_t i = 0; i < c->nobs; i++)
            fold[i] = any_held ? (c->train[i] ? -1 : 1) : 0;
    }
    return 0;
}
