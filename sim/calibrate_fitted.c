/* Calibration's inputs and outputs as files: the `--fit PATH[=LO:HI]` bounds and
 * the FITTED.yaml scenario written after a fit. See a5_calibrate.h. */
#include "a5_calibrate.h"

#include "a5_sys.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int a5_calib_parse_fit(const a5_scenario *s, const char *arg, int index, a5_fit_spec *spec,
                       a5_diag *d)
{
    const char *eq = strchr(arg, '=');
    memset(spec, 0, sizeof *spec);
    spec->path = strndup(arg, eq ? (size_t)(eq - arg) : strlen(arg));
    if (!spec->path)
        return A5_ENOMEM;
    a5_target t;
    char err[256];
    if (a5_scenario_resolve(s, spec->path, &t, err, sizeof err)) {
        a5_diag_add(d, "--fit", index, 1, "%s", err);
        return A5_ESCENARIO;
    }
    spec->lo = t.param->lo;
    spec->hi = t.param->hi;
    const int replaced = a5_scenario_replaced_at_start(s, &t);
    a5_scenario_target_free(&t);
    if (replaced) {
        a5_diag_add(d, "--fit", index, 1,
                    "'%s' cannot be fitted: an event known from the start sets it at the first "
                    "step, before any step reads it, so every value gives the same runs",
                    spec->path);
        return A5_ESCENARIO;
    }
    if (eq) {
        char *end;
        spec->lo = strtod(eq + 1, &end);
        if (*end != ':' || (spec->hi = strtod(end + 1, &end), *end)) {
            a5_diag_add(d, "--fit", index, (int)(eq - arg) + 2, "bounds must be LO:HI, got '%s'",
                        eq + 1);
            return A5_ESCENARIO;
        }
    } else if (spec->hi - spec->lo > 100) {
        a5_diag_add(d, "--fit", index, 1,
                    "'%s' ranges over [%g, %g]: give bounds, e.g. --fit %s=0:3", spec->path,
                    spec->lo, spec->hi, spec->path);
        return A5_ESCENARIO;
    }
    return 0;
}

/* Only real numbers are fitted: the search moves continuously, so a whole number
 * or a choice would come out as a fraction (and be written so). Returns 0, or
 * A5_ESCENARIO after reporting at --fit:INDEX. */
static int fit_real(const a5_scenario *s, const char *path, int index, a5_diag *d)
{
    a5_target t;
    char err[256];
    if (a5_scenario_resolve(s, path, &t, err, sizeof err))
        return 0; /* a5_calib_parse_fit has said why */
    int type = t.param->type;
    a5_scenario_target_free(&t);
    if (type == A5_T_REAL)
        return 0;
    a5_diag_add(d, "--fit", index, 1, "'%s' is %s: --fit takes real numbers only; compare "
                "its values with a sweep, or fix it with --set", path,
                type == A5_T_INT ? "a whole number" : "a choice among names");
    return A5_ESCENARIO;
}

int a5_calib_parse_fits(const a5_scenario *s, const char **args, int n, a5_fit_spec *spec,
                        a5_diag *d)
{
    int rc = 0;
    for (int j = 0; !rc && j < n; j++) {
        rc = a5_calib_parse_fit(s, args[j], j + 1, &spec[j], d);
        if (!rc)
            rc = fit_real(s, spec[j].path, j + 1, d);
        /* One parameter, one set of bounds: a second --fit of it is a mistake. */
        for (int i = 0; !rc && i < j; i++)
            if (!strcmp(spec[i].path, spec[j].path)) {
                a5_diag_add(d, "--fit", j + 1, 1, "'%s' is fitted twice (also --fit number %d); "
                            "give each parameter once", spec[j].path, i + 1);
                rc = A5_ESCENARIO;
            }
    }
    return rc;
}

/* The scenario with the fitted values set, as --set would, into *out. */
static int load_fitted(const char *scenario, const char *const *sets, int nsets,
                       const a5_fit_spec *fit, size_t nfit, const double *value, a5_diag *d,
                       a5_scenario **out)
{
    const char **all = calloc((size_t)nsets + nfit, sizeof *all);
    char **owned = calloc(nfit + 1, sizeof *owned);
    int rc = all && owned ? 0 : A5_ENOMEM;
    for (int k = 0; !rc && k < nsets; k++)
        all[k] = sets[k];
    for (size_t j = 0; !rc && j < nfit; j++) {
        size_t n = strlen(fit[j].path) + 40;
        if (!(owned[j] = malloc(n)))
            rc = A5_ENOMEM;
        else
            snprintf(owned[j], n, "%s=%.6g", fit[j].path, value[j]);
        all[(size_t)nsets + j] = owned[j];
    }
    if (!rc)
        rc = a5_scenario_load(scenario, all, nsets + (int)nfit, d, out);
    for (size_t j = 0; owned && j < nfit; j++)
        free(owned[j]);
    free(owned);
    free(all);
    return rc;
}

int a5_calib_write_fitted(const char *path, const char *scenario, const char *const *sets,
                          int nsets, const a5_fit_spec *fit, size_t nfit,
                          const a5_calib_result *res, const a5_calib_provenance *how, a5_diag *d,
                          char *err, size_t errlen)
{
    a5_scenario *fitted = NULL;
    int rc = load_fitted(scenario, sets, nsets, fit, nfit, res->value, d, &fitted);
    if (rc) {
        snprintf(err, errlen, "the fitted scenario does not load");
        return rc == A5_ENOMEM ? A5_ENOMEM : A5_ESCENARIO;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        a5_scenario_free(fitted);
        return A5_ENOMEM;
    }
    /* The header is YAML comments, one line each: a newline (or any control byte)
     * in an argument must not end one and start YAML of its own. */
    const char *cl = how->command_line ? how->command_line : "";
    size_t cn = 4 * strlen(cl) + 64, on = 4 * strlen(how->observed) + 64;
    char *cle = malloc(cn), *obe = malloc(on);
    if (!cle || !obe) {
        free(cle);
        free(obe);
        fclose(m);
        free(text);
        a5_scenario_free(fitted);
        return A5_ENOMEM;
    }
    a5_escape(cl, cn, cle, cn);
    a5_escape(how->observed, on, obe, on);
    fprintf(m,
            "# Calibrated by: %s\n# Observations: %s (%zu fitted, %zu held out); %ld replicates "
            "per evaluation, %d evaluations\n# Objective (%s, minimised): %.4f at the scenario's "
            "values -> %.4f at the fit\n# path: start -> fitted (approximate standard error)\n",
            cle, obe, res->nfit, res->nheld,
            how->replicates, res->evaluations, how->brier ? "Brier score" : "-log-likelihood",
            res->obj_start, res->obj_end);
    for (size_t j = 0; j < nfit; j++)
        fprintf(m, "#   %s: %.4g -> %.4g (se %.3g)\n", fit[j].path, res->start[j], res->value[j],
                res->se[j]);
    for (size_t i = 0; i < res->nwarnings; i++) {
        char we[1024];
        fprintf(m, "# warning: %s\n", a5_escape(res->warnings[i], 512, we, sizeof we));
    }
    free(cle);
    free(obe);
    fputs(fitted->text, m);
    int bad = ferror(m);
    a5_scenario_free(fitted);
    if (fclose(m) != 0 || bad) {
        free(text);
        return A5_ENOMEM;
    }
    rc = a5_sys_write_atomic(path, NULL, text, len, err, errlen);
    free(text);
    return rc;
}

void a5_calib_result_free(a5_calib_result *r)
{
    free(r->start);
    free(r->value);
    free(r->se);
    for (size_t j = 0; r->path && j < r->k; j++)
        free(r->path[j]);
    free(r->path);
    free(r->fold_of);
    free(r->pred);
    free(r->lo);
    free(r->hi);
    free(r->seed_value);
    free(r->seed_brier);
    free(r->seed_logscore);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    memset(r, 0, sizeof *r);
}

static const char *const policy_name[3] = {"open", "restrict", "ban"};

int a5_calib_write_predictions(FILE *f, const a5_calib_result *r)
{
    int bad = fprintf(f, "code,date,observed,fold,p_open,p_restrict,p_ban,start_policy,"
                         "changed\n") < 0;
    for (size_t i = 0; i < r->npred && !bad; i++) {
        const a5_calib_pred *p = &r->pred[i];
        bad = fprintf(f, "%s,%s,%s,%d,%.17g,%.17g,%.17g,%s,%d\n", p->code, p->date,
                      policy_name[p->observed], p->fold, p->p[0], p->p[1], p->p[2],
                      policy_name[p->start], p->observed != p->start) < 0;
    }
    return bad || ferror(f) ? A5_EIO : 0;
}

int a5_calib_write_estimates(FILE *f, const a5_calib_result *r)
{
    int bad = fprintf(f, "path,estimate,lo,hi,level,method\n") < 0;
    for (size_t j = 0; j < r->k && !bad; j++) {
        /* Missing bounds are empty fields (pandas reads NaN), never "nan". */
        char lo[32] = "", hi[32] = "";
        if (isfinite(r->lo[j]))
            snprintf(lo, sizeof lo, "%.17g", r->lo[j]);
        if (isfinite(r->hi[j]))
            snprintf(hi, sizeof hi, "%.17g", r->hi[j]);
        bad = fprintf(f, "%s,%.17g,%s,%s,%g,%s\n", r->path[j], r->value[j], lo, hi, r->level,
                      r->method ? r->method : "none") < 0;
    }
    return bad || ferror(f) ? A5_EIO : 0;
}
