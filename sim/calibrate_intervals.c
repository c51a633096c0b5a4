/* Intervals after a fit: standard errors from the curvature (a central-difference
 * Hessian) and parametric-bootstrap intervals. See calibrate_int.h and
 * docs/calibration.md. */
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
int a5c_standard_errors(calib *c, const a5_fit_spec *fit, const double *theta, double f0,
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
