/* What is checked after a fit: standard errors from the curvature, identification
 * and bounds, parametric-bootstrap intervals, further random-number sets and the
 * optimiser's warnings. See calibrate_int.h and docs/calibration.md. */
#include "calibrate_int.h"

#include "a5_mem.h"

#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Approximate standard errors from the inverse of a central-difference Hessian of
 * -log-likelihood at theta (steps of 2 % of each range: the simulated objective is
 * piecewise constant at finer scales). NaN where the curvature is not positive, with
 * the reason in why (empty when every se is finite). */
static int standard_errors(calib *c, const a5_fit_spec *fit, const double *theta, double f0,
                           double *se, char *why, size_t whylen)
{
    size_t k = c->k;
    int rc = A5_ENOMEM;
    gsl_matrix *H = gsl_matrix_alloc(k, k), *inv = gsl_matrix_alloc(k, k);
    gsl_permutation *perm = gsl_permutation_alloc(k);
    double *t = a5_malloc(k * sizeof *t), *h = a5_malloc(k * sizeof *h);
    why[0] = 0;
    for (size_t j = 0; j < k; j++)
        se[j] = NAN;
    if (!H || !inv || !perm || !t || !h)
        goto done;
    for (size_t j = 0; j < k; j++)
        h[j] = 0.02 * (fit[j].hi - fit[j].lo);
    for (size_t a = 0; a < k; a++)
        for (size_t b = a; b < k; b++) {
            double v;
            memcpy(t, theta, k * sizeof *t);
            if (a == b) {
                t[a] = theta[a] + h[a];
                double fp = a5c_objective(c, t);
                t[a] = theta[a] - h[a];
                double fm = a5c_objective(c, t);
                if (fp == HUGE_VAL || fm == HUGE_VAL)
                    goto done;
                v = (fp - 2 * f0 + fm) / (h[a] * h[a]);
            } else {
                double f4[4];
                const int sa[4] = {1, 1, -1, -1}, sb[4] = {1, -1, 1, -1};
                for (int q = 0; q < 4; q++) {
                    memcpy(t, theta, k * sizeof *t);
                    t[a] += sa[q] * h[a];
                    t[b] += sb[q] * h[b];
                    if ((f4[q] = a5c_objective(c, t)) == HUGE_VAL)
                        goto done;
                }
                v = (f4[0] - f4[1] - f4[2] + f4[3]) / (4 * h[a] * h[b]);
            }
            gsl_matrix_set(H, a, b, v);
            gsl_matrix_set(H, b, a, v);
        }
    rc = 0;
    for (size_t j = 0; j < k; j++)
        if (!(gsl_matrix_get(H, j, j) > 0)) {
            snprintf(why, whylen, "the Hessian of -log-likelihood is not positive definite: its "
                     "curvature along %s is %.3g (the objective is flat or falls away there at "
                     "steps of 2 %% of the range)", fit[j].path, gsl_matrix_get(H, j, j));
            goto done;
        }
    int sign;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    if (gsl_linalg_LU_decomp(H, perm, &sign) == 0 && gsl_linalg_LU_invert(H, perm, inv) == 0)
        for (size_t j = 0; j < k; j++) {
            double v = gsl_matrix_get(inv, j, j);
            se[j] = v > 0 && isfinite(v) ? sqrt(v) : NAN;
        }
    gsl_set_error_handler(old);
    for (size_t j = 0; j < k; j++)
        if (!isfinite(se[j])) {
            snprintf(why, whylen, "the Hessian of -log-likelihood is not positive definite (the "
                     "fitted parameters trade off against each other, e.g. %s)", fit[j].path);
            break;
        }
done:
    gsl_matrix_free(H);
    gsl_matrix_free(inv);
    gsl_permutation_free(perm);
    free(t);
    free(h);
    return rc;
}

/* Linear-interpolated quantile of sorted v[0..n). */
static double quantile(const double *v, size_t n, double q)
{
    double h = q * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int a5c_check_estimate(calib *c, const a5_fit_spec *fit, const double *theta, int B,
                       a5_calib_result *res)
{
    size_t nfit = c->k;
    double *col = NULL;
    int rc = A5_ENOMEM;
    /* Standard errors from the curvature (log-likelihood objective only). */
    char why[512] = "";
    if (!c->brier) {
        if ((rc = standard_errors(c, fit, theta, res->obj_end, res->se, why, sizeof why)) != 0)
            goto done;
        rc = A5_ENOMEM;
    } else {
        for (size_t j = 0; j < nfit; j++)
            res->se[j] = NAN;
        snprintf(why, sizeof why, "no standard errors with the Brier objective (it is not a "
                 "likelihood, so its curvature is no information)");
    }
    if (why[0] && a5c_warn(res, "std.err not available: %s%s", why,
                       B ? "; use the bootstrap intervals" : "; ask for bootstrap intervals"))
        goto done;

    /* Identification: -log-likelihood along each path's whole range, the others at the
     * estimate (a slice of the profile). If it never moves by the 90 % likelihood-ratio
     * cut-off (chi2_1(0.9) / 2 = 1.353), the data cannot tell the values apart. */
    if (!(col = a5_calloc(nfit, sizeof *col)))
        goto done;
    for (size_t j = 0; j < nfit; j++) {
        enum { G = 11 };
        double lo = HUGE_VAL, hi = -HUGE_VAL;
        memcpy(col, theta, nfit * sizeof *col);
        for (int g = 0; g < G; g++) {
            col[j] = fit[j].lo + (fit[j].hi - fit[j].lo) * g / (G - 1);
            if (a5c_set_values(c, col) || a5c_simulate(c))
                goto done;
            double ll, br, acc;
            size_t m;
            a5c_score(c, 1, &ll, &br, &acc, &m);
            lo = fmin(lo, -ll);
            hi = fmax(hi, -ll);
        }
        if (hi - lo < 1.353 &&
            a5c_warn(res, "%s is not identified: over its whole range [%g, %g] (the others at the "
                      "estimate) -log-likelihood changes by only %.3g, less than the 90 %% "
                      "likelihood-ratio cut-off 1.35; the data cannot tell its values apart",
                 fit[j].path, fit[j].lo, fit[j].hi, hi - lo))
            goto done;
    }
    /* Bounds: an estimate within 1 % of one, or a bound where the objective is as low
     * as at the estimate (the optimiser stopped on a plateau that reaches the edge). */
    for (size_t j = 0; j < nfit; j++) {
        double w = fit[j].hi - fit[j].lo, v = res->value[j];
        if (v - fit[j].lo <= 0.01 * w || fit[j].hi - v <= 0.01 * w) {
            if (a5c_warn(res, "%s = %.4g is within 1 %% of its bound %g (range [%g, %g]): the data "
                          "push it to the edge; widen the bounds or read it as 'at %s'",
                     fit[j].path, v, v - fit[j].lo <= 0.01 * w ? fit[j].lo : fit[j].hi,
                     fit[j].lo, fit[j].hi, v - fit[j].lo <= 0.01 * w ? "most this" : "least this"))
                goto done;
            continue;
        }
        for (int side = 0; side < 2; side++) {
            memcpy(col, theta, nfit * sizeof *col);
            col[j] = side ? fit[j].hi : fit[j].lo;
            double fb = a5c_objective(c, col);
            if (fb == HUGE_VAL)
                goto done;
            if (fb <= res->obj_end + 1e-9 * (1 + fabs(res->obj_end))) {
                if (a5c_warn(res, "%s = %.4g, but the objective is as low at its bound %g (%.4f vs "
                              "%.4f): the data do not keep it away from the edge; read it as 'at "
                              "%s %.4g'", fit[j].path, v, col[j], fb, res->obj_end,
                         side ? "least" : "most", v))
                    goto done;
                break;
            }
        }
    }
    if (a5c_objective(c, theta) == HUGE_VAL) /* the counts at the estimate again */
        goto done;

    rc = 0;
done:
    free(col);
    return rc;
}

int a5c_bootstrap(calib *c, const plan *pl, const double *theta, int B, double level,
                  a5_calib_result *res)
{
    const a5_fit_spec *fit = pl->fit;
    const a5_obs *obs = c->obs;
    size_t nfit = c->k, nobs = c->nobs;
    int rc = A5_ENOMEM;
    double *col = a5_calloc(nfit ? nfit : 1, sizeof *col);
    double *boot = a5_calloc((size_t)(B ? B : 1) * (nfit ? nfit : 1), sizeof *boot);
    if (!col || !boot)
        goto done;
    /* Intervals: parametric bootstrap. B synthetic data sets are drawn from the model
     * at the estimate, at the observed cells (each repeat of a (nation, date) cell from
     * its own simulated world; the rows of one world share its history, as the real
     * nations share one), on streams the fit never uses; each is refitted from the
     * estimate on a fresh random-number set, so the spread holds both sampling and
     * simulation error, and the dependence between nations of one world. Percentile
     * intervals of the refits. */
    for (size_t j = 0; j < nfit; j++)
        res->lo[j] = res->hi[j] = NAN;
    if (B) {
        a5_obs *syn = a5_malloc(nobs * sizeof *syn);
        int *occ = a5_calloc(nobs, sizeof *occ);
        if (!syn || !occ) {
            free(syn);
            free(occ);
            goto done;
        }
        memcpy(syn, obs, nobs * sizeof *syn);
        int worlds = 1;
        if (a5c_obs_cell_rank(c->s, obs, nobs, occ)) {
            free(syn);
            free(occ);
            goto done;
        }
        for (size_t i = 0; i < nobs; i++)
            if (occ[i] + 1 > worlds)
                worlds = occ[i] + 1;
        fit_stats bst = {0, 0, 0};
        rc = 0;
        for (int b = 0; b < B && !rc; b++) {
            /* Draw the data set: the estimate's values, one replicate per world. */
            c->rep0 = (PBOOT_BLOCK + b) * (long)worlds;
            long keepR = c->R;
            c->R = 1;
            for (int wd = 0; wd < worlds && !rc; wd++) {
                c->rep0 = (PBOOT_BLOCK + b) * (long)worlds + wd;
                if (a5c_set_values(c, theta) || a5c_simulate(c)) {
                    rc = A5_ENOMEM;
                    break;
                }
                for (size_t i = 0; i < nobs; i++)
                    if (occ[i] == wd)
                        for (int k = 0; k < 3; k++)
                            if (c->count[i * 3 + (size_t)k])
                                syn[i].policy = k;
            }
            c->R = keepR;
            if (rc)
                break;
            c->obs = syn;
            c->rep0 = (BOOT_BLOCK + b) * c->R;
            double fb;
            rc = a5c_fit_run(c, fit, theta, 1, pl->max_iter, pl->tol, pl->o, 0, col, &fb, NULL,
                             &bst);
            c->obs = obs;
            for (size_t j = 0; j < nfit; j++)
                boot[(size_t)j * (size_t)B + (size_t)b] = col[j];
        }
        free(syn);
        free(occ);
        c->obs = obs;
        c->rep0 = 0;
        if (rc)
            goto done;
        rc = A5_ENOMEM;
        for (size_t j = 0; j < nfit; j++) {
            double *v = boot + (size_t)j * (size_t)B;
            qsort(v, (size_t)B, sizeof *v, cmp_double);
            res->lo[j] = quantile(v, (size_t)B, (1 - level) / 2);
            res->hi[j] = quantile(v, (size_t)B, (1 + level) / 2);
        }
        res->bootstrap = B;
        a5c_say(pl->o, "parametric bootstrap: %d refits on data simulated at the estimate (%d of them "
               "stopped at the iteration cap)", B, bst.capped);
        if (bst.capped * 4 > B &&
            a5c_warn(res, "%d of %d bootstrap refits stopped at the iteration cap (max_iter %d): the "
                      "intervals may be too wide or too narrow; raise max_iter",
                 bst.capped, B, pl->max_iter))
            goto done;
    }

    rc = 0;
done:
    free(col);
    free(boot);
    return rc;
}

int a5c_seed_sets(calib *c, plan *pl, int nseeds, a5_calib_result *res)
{
    const a5_fit_spec *fit = pl->fit;
    size_t nfit = c->k, nobs = c->nobs ? c->nobs : 1;
    int rc = A5_ENOMEM;
    double *col = a5_calloc(nfit ? nfit : 1, sizeof *col);
    int *fold = a5_calloc(nobs, sizeof *fold);
    double *P = a5_calloc(nobs * A5_CALIB_NMODELS * 3, sizeof *P);
    if (!col || !fold || !P)
        goto done;
    /* Further random-number sets: everything again on other common random numbers. */
    for (int j = 1; j < nseeds; j++) {
        c->rep0 = (long)j * c->R;
        a5c_say(pl->o, "random-number set %d/%d", j + 1, nseeds);
        double fb;
        if ((rc = a5c_run_set(c, pl, 0, col, &fb, NULL, fold, P)) != 0)
            goto done;
        rc = A5_ENOMEM;
        a5_calib_score sc[A5_CALIB_NMODELS];
        if (a5c_score_models(c, fold, P, pl->score_floor, sc))
            goto done;
        memcpy(res->seed_value + (size_t)j * nfit, col, nfit * sizeof *col);
        res->seed_brier[j] = sc[A5_CALIB_MODEL].brier;
        res->seed_logscore[j] = sc[A5_CALIB_MODEL].logscore;
    }
    c->rep0 = 0;
    if (nseeds > 1) {
        for (size_t j = 0; j < nfit; j++) {
            double lo = HUGE_VAL, hi = -HUGE_VAL;
            for (int q = 0; q < nseeds; q++) {
                lo = fmin(lo, res->seed_value[(size_t)q * nfit + j]);
                hi = fmax(hi, res->seed_value[(size_t)q * nfit + j]);
            }
            double width = res->bootstrap ? res->hi[j] - res->lo[j]
                           : isfinite(res->se[j]) ? 2 * 1.6449 * res->se[j] : NAN;
            if (isfinite(width) && hi - lo > width &&
                a5c_warn(res, "%s moves by %.4g (%.4g to %.4g) over %d random-number sets, more than "
                          "its %s interval is wide (%.4g): the simulation noise is larger than "
                          "the stated uncertainty; raise replicates",
                     fit[j].path, hi - lo, lo, hi, nseeds,
                     res->bootstrap ? "bootstrap" : "+-1.645 std.err", width))
                goto done;
        }
        double lo = HUGE_VAL, hi = -HUGE_VAL;
        for (int q = 0; q < nseeds; q++) {
            lo = fmin(lo, res->seed_brier[q]);
            hi = fmax(hi, res->seed_brier[q]);
        }
        if (hi - lo > 0.02 &&
            a5c_warn(res, "the model's %s Brier score moves by %.4g (%.4f to %.4f) over %d "
                      "random-number sets (more than 0.02): raise replicates",
                 res->out_of_sample ? "held-out" : "in-sample", hi - lo, lo, hi, nseeds))
            goto done;
    }
    res->starts_total = pl->st.starts;
    res->starts_capped = pl->st.capped;
    res->starts_flat = pl->st.flat;
    if (pl->st.capped &&
        a5c_warn(res, "%d of %d Nelder-Mead starts stopped at the iteration cap (max_iter %d) before "
                  "the simplex shrank below tol %g: those fits may not have converged; raise "
                  "max_iter", pl->st.capped, pl->st.starts, pl->max_iter, pl->tol))
        goto done;
    if (pl->st.flat &&
        a5c_warn(res, "%d of %d Nelder-Mead starts began where the objective is flat (one simplex "
                  "step along each path changed nothing): no simulated choice responds there",
             pl->st.flat, pl->st.starts))
        goto done;
    rc = 0;
done:
    free(col);
    free(fold);
    free(P);
    return rc;
}
