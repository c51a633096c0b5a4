/* The `calibration:` section: the fit set `allied5g calibrate` uses when no --fit is
 * given (issue 23.5). It does not change a run: it is read and checked like every
 * other section (unknown keys, paths, ranges: FILE:LINE:COL), and kept for
 * calibrate. See docs/scenario-reference.md. */
#include "scenario_int.h"

#include <stdlib.h>
#include <string.h>

/* "LO:HI" into lo, hi; 0 or A5_ESCENARIO (reported at v). */
static int fit_bounds(a5_sc_loader *L, const a5_yaml_node *k, const a5_yaml_node *v,
                      const a5_param *p, double *lo, double *hi)
{
    const char *why = "expected LO:HI";
    const char *colon = v->kind == A5_YAML_SCALAR ? strchr(v->value, ':') : NULL;
    if (colon) {
        char *left = a5_strdup(v->value);
        if (!left)
            return A5_ENOMEM;
        left[colon - v->value] = 0;
        int bad = a5_sc_parse_double(left, lo, &why) || a5_sc_parse_double(colon + 1, hi, &why);
        free(left);
        if (!bad) {
            if (*lo < *hi && *lo >= p->lo && *hi <= p->hi)
                return 0;
            A5_SC_ERR(L, v, "calibration.fit.%s: bounds [%g, %g] must be increasing and within "
                      "the parameter's range [%g, %g]", k->value, *lo, *hi, p->lo, p->hi);
            return A5_ESCENARIO;
        }
    }
    A5_SC_ERR(L, v, "calibration.fit.%s: bounds must be LO:HI (e.g. 0:3), got %s%s%s (%s)",
              k->value, v->kind == A5_YAML_SCALAR ? "'" : "",
              v->kind == A5_YAML_SCALAR ? v->value : a5_sc_kind_name(v),
              v->kind == A5_YAML_SCALAR ? "'" : "", why);
    return A5_ESCENARIO;
}

int a5_sc_calibration(a5_sc_loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *c = a5_yaml_get(root, "calibration");
    if (!c || a5_sc_expect_map(L, c, "calibration"))
        return 0;
    static const char *const keys[] = {"fit"};
    a5_sc_check_keys(L, c, "calibration", keys, 1);
    const a5_yaml_node *f = a5_yaml_get(c, "fit");
    if (!f) {
        A5_SC_ERR(L, c, "'calibration' needs 'fit: {PATH: LO:HI, ...}' (the parameters "
                        "calibrate fits when no --fit is given)");
        return 0;
    }
    if (a5_sc_expect_map(L, f, "calibration.fit"))
        return 0;
    if (f->n == 0) {
        A5_SC_ERR(L, f, "'calibration.fit' is empty: give at least one PATH: LO:HI");
        return 0;
    }
    s->calib_fit = a5_calloc(f->n, sizeof *s->calib_fit);
    if (!s->calib_fit)
        return A5_ENOMEM;
    for (size_t i = 0; i < f->n; i++) {
        const a5_yaml_node *k = f->key[i], *v = f->item[i];
        a5_target t;
        int rc = a5_sc_resolve(L, k->value, k, A5_SC_VARY, &t);
        if (A5_SC_NOMEM(rc))
            return rc;
        if (rc)
            continue;
        double lo, hi;
        rc = fit_bounds(L, k, v, t.param, &lo, &hi);
        a5_scenario_target_free(&t);
        if (A5_SC_NOMEM(rc))
            return rc;
        if (rc)
            continue;
        a5_fit_decl *d = &s->calib_fit[s->ncalib_fit];
        if (!(d->path = a5_strdup(k->value)))
            return A5_ENOMEM;
        d->lo = lo;
        d->hi = hi;
        d->line = k->line;
        s->ncalib_fit++;
    }
    return 0;
}
