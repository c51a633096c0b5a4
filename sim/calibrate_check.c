/* What is checked after a fit: identification and bounds (with the standard errors
 * of calibrate_intervals.c), further random-number sets and the optimiser's
 * warnings. See calibrate_int.h and docs/calibration.md. */
#include "calibrate_int.h"

#include "a5_mem.h"

#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int a5c_check_estimate(calib *c, const a5_fit_spec *fit, const double *theta, int B,
                       a5_calib_result *res)
{
    size_t nfit = c->k;
    double *col = NULL;
    int rc = A5_ENOMEM;
    /* Standard errors from the curvature (log-likelihood objective only). */
    char why[512] = "";
    if (!c->brier) {
        if ((rc = a5c_standard_errors(c, fit, theta, res->obj_end, res->se, why, sizeof why)) != 0)
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
