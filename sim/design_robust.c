/* design: {method: robust, policies: all | N | FILE.csv, worlds: M} (issue 27.2):
 * every policy (a setting of the `levers:`) in every world (a draw of the
 * `uncertain:` parameters), on common random numbers within each world.
 *
 * The points are policies x worlds, policy-major: point p is policy p / M in world
 * p % M. The varied paths are the levers, then one column per drawn slot (a
 * nations.*.X entry gives one column per nation, nations.CODE.X), so each world's
 * inputs are in the results file for PRIM. World w draws its inputs from its own
 * stream (seed, 0xFFFFFFFD, w), in the order a replicate would draw them, so a
 * world does not change when M does; replicate r of every point of world w runs
 * on stream (seed, w, r) (a5_model_init), so every policy meets the same worlds on
 * the same random numbers (with seed.common, (seed, 0, r): the worlds then share
 * them too, and differ only in their inputs). The `uncertain:` entries become the
 * world columns: a replicate draws nothing more. See docs/robust.md. */
#define _GNU_SOURCE /* qsort_r */
#include "scenario_int.h"

#include "a5_csv.h"
#include "a5_design.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WORLD_STREAM 0xFFFFFFFDu

typedef struct {
    size_t nv;    /* a list of values (nv > 0), or a range (nv == 0) */
    double *vals;
    double lo, hi;
    int log;
} lever;

/* levers.PATH's values (a list) or range ({lo, hi[, log]}) into *lv; the path is
 * s->varied[s->nvaried - 1]. Returns 1 if bad. */
static int lever_values(a5_sc_loader *L, const a5_yaml_node *key, const a5_yaml_node *v, lever *lv)
{
    const a5_param *p = L->s->varied[L->s->nvaried - 1].param;
    int bad = 0;
    if (v->kind == A5_YAML_SEQ) {
        if (v->n == 0) {
            A5_SC_ERR(L, v, "'levers.%s' has no values", key->value);
            return 1;
        }
        if (!(lv->vals = a5_malloc(v->n * sizeof *lv->vals)))
            return -1;
        lv->nv = v->n;
        for (size_t q = 0; q < v->n; q++)
            bad |= a5_sc_value(L, v->item[q], p, key->value, &lv->vals[q]) != 0;
        for (size_t q = 1; !bad && q < v->n; q++)
            for (size_t r = 0; r < q; r++)
                if (lv->vals[q] == lv->vals[r]) {
                    A5_SC_ERR(L, v->item[q],
                              "'levers.%s' lists '%s' twice: each policy would run twice",
                              key->value, v->item[q]->value ? v->item[q]->value : "a value");
                    return 1;
                }
        return bad;
    }
    const a5_yaml_node *lo = v->kind == A5_YAML_MAP ? a5_yaml_get(v, "lo") : NULL,
                       *hi = v->kind == A5_YAML_MAP ? a5_yaml_get(v, "hi") : NULL,
                       *lg = v->kind == A5_YAML_MAP ? a5_yaml_get(v, "log") : NULL;
    if (!lo || !hi) {
        A5_SC_ERR(L, v,
                  "'levers.%s' must be a list of values or a range {lo: .., hi: .., log: true}",
                  key->value);
        return 1;
    }
    static const char *const rk[] = {"lo", "hi", "log"};
    a5_sc_check_keys(L, v, "a lever's range", rk, 3);
    if (p->type != A5_T_REAL) {
        A5_SC_ERR(L, key, "'%s' takes %s: give its lever a list of values", key->value,
                  p->type == A5_T_INT ? "whole numbers" : "names or yes/no");
        return 1;
    }
    static const a5_param bp = {"log", A5_T_BOOL, 0, 0, 1, 0, 0, "", ""};
    double x = 0;
    bad |= lg && a5_sc_value(L, lg, &bp, "log", &x) != 0;
    lv->log = x != 0;
    if (bad || a5_sc_value(L, lo, p, key->value, &lv->lo) || a5_sc_value(L, hi, p, key->value, &lv->hi))
        return 1;
    if (!(lv->lo < lv->hi)) {
        A5_SC_ERR(L, v, "range of lever '%s' needs lo < hi (a single value is no lever: set it "
                        "in its section)", key->value);
        return 1;
    }
    if (lv->log && !(lv->lo > 0)) {
        A5_SC_ERR(L, v, "a log range of lever '%s' needs lo > 0", key->value);
        return 1;
    }
    return 0;
}

/* --- policies from a file ---------------------------------------------------------- */

typedef struct {
    a5_sc_loader *L;
    const char *path;
    const lever *lv;
    size_t k;
    size_t col[64]; /* column c holds lever col[c] */
    size_t rows, cap;
    double *vals; /* rows x k, in lever order */
    int *lines;   /* each row's line in the file */
    int bad;
} policy_csv;

static int policy_record(void *ctx, size_t record, int line, const a5_csv_field *f, size_t n)
{
    policy_csv *c = ctx;
    a5_sc_loader *L = c->L;
    const a5_scenario *s = L->s;
    if (record == 0) {
        int seen[64] = {0};
        if (n > c->k) {
            a5_diag_add(L->d, c->path, line, 1, "the header names %zu columns; there are %zu "
                        "levers (a policies file's header names each lever once)", n, c->k);
            return A5_ESCENARIO;
        }
        for (size_t i = 0; i < n; i++) {
            size_t j = 0;
            while (j < c->k && strcmp(f[i].text, s->varied[j].path) != 0)
                j++;
            if (j == c->k || seen[j]) {
                a5_diag_add(L->d, c->path, f[i].line, f[i].col,
                            j == c->k ? "'%s' is not one of the levers (a policies file's header "
                                        "names each lever once)"
                                      : "lever '%s' is named twice",
                            f[i].text);
                c->bad = 1;
                continue;
            }
            seen[j] = 1;
            c->col[i] = j;
        }
        for (size_t j = 0; j < c->k && !c->bad; j++)
            if (!seen[j]) {
                a5_diag_add(L->d, c->path, line, 1, "the header lacks lever '%s'", s->varied[j].path);
                c->bad = 1;
            }
        return c->bad ? A5_ESCENARIO : 0;
    }
    if ((c->rows + 1) * c->k > c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64 * c->k;
        double *nv = a5_realloc(c->vals, cap * sizeof *nv);
        if (nv)
            c->vals = nv;
        int *nl = nv ? a5_realloc(c->lines, (cap / c->k + 1) * sizeof *nl) : NULL;
        if (!nl)
            return A5_ENOMEM;
        c->lines = nl;
        c->cap = cap;
    }
    c->lines[c->rows] = line;
    for (size_t i = 0; i < n && i < c->k; i++) {
        const size_t j = c->col[i];
        const lever *lv = &c->lv[j];
        a5_yaml_node cell = {.kind = A5_YAML_SCALAR, .file = (char *)c->path, .line = f[i].line,
                             .col = f[i].col, .value = (char *)f[i].text, .plain = 1};
        double *x = &c->vals[c->rows * c->k + j];
        if (a5_sc_value(L, &cell, s->varied[j].param, s->varied[j].path, x)) {
            c->bad = 1;
            continue;
        }
        int ok = lv->nv == 0 && *x >= lv->lo && *x <= lv->hi;
        for (size_t q = 0; q < lv->nv; q++)
            ok |= *x == lv->vals[q];
        if (!ok) {
            a5_diag_add(L->d, c->path, f[i].line, f[i].col,
                        lv->nv ? "'%s' is not one of lever %s's values"
                               : "'%s' is outside lever %s's range",
                        f[i].text, s->varied[j].path);
            c->bad = 1;
        }
    }
    c->rows++;
    return 0;
}

/* Rows i and j of a policies file in value order, values compared as numbers (-0
 * is 0): 0 for the same policy. */
static int cmp_policies(const policy_csv *c, size_t i, size_t j)
{
    for (size_t q = 0; q < c->k; q++) {
        const double x = c->vals[i * c->k + q], y = c->vals[j * c->k + q];
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

/* The same, ties in file order (for qsort_r: repeats become neighbours). */
static int cmp_rows(const void *a, const void *b, void *ctx)
{
    const size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const int by_value = cmp_policies(ctx, i, j);
    return by_value ? by_value : (i > j) - (i < j);
}

/* The same policy twice runs twice, on the same random numbers in each world:
 * allowed (a check that they agree), but said at the repeat (a lever list may not
 * repeat a value). Returns A5_ENOMEM or 0. */
static int repeated_policies(a5_sc_loader *L, const policy_csv *c)
{
    size_t *ord = a5_calloc(c->rows + 1, sizeof *ord);
    if (!ord)
        return A5_ENOMEM;
    for (size_t r = 0; r < c->rows; r++)
        ord[r] = r;
    qsort_r(ord, c->rows, sizeof *ord, cmp_rows, (void *)c);
    for (size_t q = 1; q < c->rows; q++) /* equal rows are neighbours, in file order */
        if (cmp_policies(c, ord[q - 1], ord[q]) == 0)
            a5_diag_add(&L->s->warnings, c->path, c->lines[ord[q]], 1,
                        "this row repeats the policy at line %d: it runs twice, on the same "
                        "random numbers in each world (the same results)", c->lines[ord[q - 1]]);
    free(ord);
    return 0;
}

/* Policies from FILE.csv (beside the file that names it) into *vals, *np. */
static int policies_file(a5_sc_loader *L, const a5_yaml_node *fn, const lever *lv, double **vals,
                         long *np)
{
    a5_scenario *s = L->s;
    char path[4096];
    a5_sc_beside(strcmp(fn->file, "--set") ? fn->file : s->file, fn->value, path, sizeof path);
    policy_csv c = {.L = L, .path = path, .lv = lv, .k = s->nvaried};
    a5_csv_opts o = {.record = policy_record, .ctx = &c};
    a5_csv_info info;
    int rc = a5_csv_read(path, &o, L->d, &info);
    if (rc == A5_EIO) {
        A5_SC_ERR(L, fn, "cannot open policies file '%s': %s", path,
                  errno == EINVAL ? "not a regular file" : strerror(errno));
        rc = A5_ESCENARIO;
    }
    if (!rc && !c.bad && c.rows == 0)
        a5_diag_add(L->d, path, info.lines ? info.lines : 1, 1,
                    "policies file has no rows (a header of levers, then one row per policy)");
    if (!rc && !c.bad && c.rows > 1)
        rc = repeated_policies(L, &c);
    free(c.lines);
    if (rc || c.bad || c.rows == 0) {
        free(c.vals);
        return rc == A5_ENOMEM ? rc : 1;
    }
    a5_sc_design_note(L, c.vals, c.rows);
    *vals = c.vals;
    *np = (long)c.rows;
    return a5_sc_pin_path(fn, path) ? A5_ENOMEM : 0;
}

/* --- the policies ------------------------------------------------------------------- */

/* `policies:` (all, N or FILE.csv) into *vals (np x k). Returns 0, 1 if bad, or
 * A5_ENOMEM. */
static int policies(a5_sc_loader *L, const a5_yaml_node *dz, const lever *lv, double **vals,
                    long *np)
{
    a5_scenario *s = L->s;
    const size_t k = s->nvaried;
    const a5_yaml_node *pn = a5_yaml_get(dz, "policies");
    int ranges = 0;
    for (size_t j = 0; j < k; j++)
        ranges |= lv[j].nv == 0;
    double n = 0;
    const char *why;
    if (pn && pn->kind == A5_YAML_SCALAR && pn->plain && a5_sc_parse_double(pn->value, &n, &why) == 0) {
        static const a5_param pp = {"design.policies", A5_T_INT, 0, 1, A5_MAX_POINTS, 0, 0, "", ""};
        if (a5_sc_value(L, pn, &pp, "design.policies", &n))
            return 1;
        double *u = a5_malloc((size_t)n * k * sizeof *u);
        if (!(*vals = a5_malloc((size_t)n * k * sizeof **vals)) || !u ||
            a5_design_lhs((long)n, (int)k, s->seed, u)) {
            free(u);
            return A5_ENOMEM;
        }
        for (size_t r = 0; r < (size_t)n; r++)
            for (size_t j = 0; j < k; j++) {
                const double x = u[r * k + j];
                (*vals)[r * k + j] =
                    lv[j].nv  ? lv[j].vals[(size_t)fmin(floor(x * (double)lv[j].nv), (double)lv[j].nv - 1)]
                    : lv[j].log ? exp(log(lv[j].lo) + (log(lv[j].hi) - log(lv[j].lo)) * x)
                                : lv[j].lo + (lv[j].hi - lv[j].lo) * x;
            }
        free(u);
        *np = (long)n;
        return 0;
    }
    const char *t = "all";
    if (pn && a5_sc_text(L, pn, "design.policies", &t))
        return 1;
    if (strcmp(t, "all") != 0)
        return policies_file(L, pn, lv, vals, np);
    if (ranges) {
        A5_SC_ERR(L, pn ? pn : dz,
                  "%s needs every lever to be a list of values; a lever with a range is "
                  "sampled: give 'policies: N' (a Latin hypercube of N policies)",
                  pn ? "'policies: all'" : "'design' without 'policies' (all combinations)");
        return 1;
    }
    double total = 1;
    for (size_t j = 0; j < k; j++)
        total *= (double)lv[j].nv;
    if (total > (double)A5_MAX_POINTS) {
        A5_SC_ERR(L, pn ? pn : dz, "the levers make %.0f policies; at most %ld are supported", total,
                  A5_MAX_POINTS);
        return 1;
    }
    if (!(*vals = a5_malloc((size_t)total * k * sizeof **vals)))
        return A5_ENOMEM;
    for (long p = 0; p < (long)total; p++) { /* the first lever varying slowest, as sweep */
        long rem = p;
        for (size_t j = k; j-- > 0;) {
            (*vals)[(size_t)p * k + j] = lv[j].vals[rem % (long)lv[j].nv];
            rem /= (long)lv[j].nv;
        }
    }
    *np = (long)total;
    return 0;
}

/* --- the worlds --------------------------------------------------------------------- */

/* Each drawn slot of `uncertain:` as a varied path of its own (appended to
 * s->varied, room made by the caller). Returns 0 or A5_ENOMEM. */
static int world_columns(a5_scenario *s)
{
    for (size_t u = 0; u < s->nuncertain; u++) {
        const a5_target *t = &s->uncertain[u].target;
        const char *star = strstr(t->path, ".*.");
        for (size_t q = 0; q < t->nslots; q++) {
            a5_target *c = &s->varied[s->nvaried];
            memset(c, 0, sizeof *c);
            c->param = t->param;
            c->nslots = 1;
            c->slots = a5_malloc(sizeof *c->slots);
            size_t len = strlen(t->path) + 64;
            c->path = a5_malloc(len);
            if (!c->slots || !c->path) {
                free(c->slots);
                free(c->path);
                return A5_ENOMEM;
            }
            c->slots[0] = t->slots[q];
            if (star) /* nations.*.X: slot q is nation (slot - globals) mod n */
                snprintf(c->path, len, "%.*s.%s.%s", (int)(star - t->path), t->path,
                         s->codes[(t->slots[q] - A5_G_COUNT) % (size_t)s->n], star + 3);
            else
                snprintf(c->path, len, "%s", t->path);
            s->nvaried++;
        }
    }
    return 0;
}

/* World w's drawn inputs (one per world column) into row. */
static void world_draws(const a5_scenario *s, gsl_rng *g, long w, double *row)
{
    a5_rng_seek(g, s->seed, WORLD_STREAM, (uint32_t)w);
    size_t c = 0;
    for (size_t u = 0; u < s->nuncertain; u++) {
        const a5_uncertain *un = &s->uncertain[u];
        for (size_t q = 0; q < un->target.nslots; q++)
            row[c++] = a5_param_clamp(un->target.param, a5_rng_draw(&un->dist, g));
    }
}

/* The points: policy-major, the levers' values then the world's inputs. */
static int robust_points(a5_scenario *s, const double *pol, long np, long nw)
{
    const size_t k = s->nlevers, kw = s->nvaried - k, kk = s->nvaried;
    double *world = a5_malloc((size_t)nw * (kw ? kw : 1) * sizeof *world);
    gsl_rng *g = a5_rng_alloc();
    if (!world || !g || !(s->points = a5_malloc((size_t)np * (size_t)nw * kk * sizeof *s->points))) {
        free(world);
        if (g)
            gsl_rng_free(g);
        return A5_ENOMEM;
    }
    for (long w = 0; w < nw; w++)
        world_draws(s, g, w, world + (size_t)w * kw);
    gsl_rng_free(g);
    for (long p = 0; p < np; p++)
        for (long w = 0; w < nw; w++) {
            double *row = s->points + ((size_t)p * (size_t)nw + (size_t)w) * kk;
            memcpy(row, pol + (size_t)p * k, k * sizeof *row);
            memcpy(row + k, world + (size_t)w * kw, kw * sizeof *row);
        }
    free(world);
    s->npoints = np * nw;
    s->nworlds = nw;
    s->design = A5_DESIGN_ROBUST;
    s->design_n = np;
    /* The draws now live in the points: a replicate draws nothing more. */
    for (size_t u = 0; u < s->nuncertain; u++)
        a5_scenario_target_free(&s->uncertain[u].target);
    s->nuncertain = 0;
    return 0;
}

/* `worlds: M` and what a robust design cannot be combined with. Returns 1 if bad. */
static int robust_checks(a5_sc_loader *L, const a5_yaml_node *dz, const a5_yaml_node *lv,
                         double *nw)
{
    a5_scenario *s = L->s;
    static const char *const keys[] = {"method", "policies", "worlds"};
    a5_sc_check_keys(L, dz, "a robust 'design'", keys, 3);
    int bad = 0;
    const a5_yaml_node *wn = a5_yaml_get(dz, "worlds");
    static const a5_param wp = {"design.worlds", A5_T_INT, 0, 1, A5_MAX_POINTS, 0, 0, "", ""};
    if (!wn) {
        A5_SC_ERR(L, dz, "a robust design needs 'worlds: M' (how many draws of the uncertain "
                         "parameters every policy meets)");
        bad = 1;
    } else
        bad |= a5_sc_value(L, wn, &wp, "design.worlds", nw) != 0;
    if (!lv) {
        A5_SC_ERR(L, dz, "a robust design needs 'levers:' (what the decision maker controls, "
                         "e.g. levers: {us.strategy: [schedule, pivotal]})");
        bad = 1;
    } else if (a5_sc_expect_map(L, lv, "levers"))
        bad = 1;
    else if (lv->n == 0 || lv->n > 64) {
        A5_SC_ERR(L, lv, "'levers' needs 1 to 64 paths, got %zu%s", lv->n,
                  lv->n ? "" : " (a --set of a lever fixes it and takes it out)");
        bad = 1;
    }
    if (s->nuncertain == 0) {
        A5_SC_ERR(L, dz, "a robust design needs 'uncertain:' (what nobody controls, drawn once "
                         "per world); to compare policies on the same random numbers alone, "
                         "use 'sweep:' with seed: {common: true}");
        bad = 1;
    }
    return bad;
}

int a5_sc_robust(a5_sc_loader *L, const a5_yaml_node *dz, const a5_yaml_node *lv)
{
    a5_scenario *s = L->s;
    double nw = 0;
    if (robust_checks(L, dz, lv, &nw))
        return 0;
    size_t drawn = 0;
    for (size_t u = 0; u < s->nuncertain; u++)
        drawn += s->uncertain[u].target.nslots;
    lever *lvs = a5_calloc(lv->n, sizeof *lvs);
    s->varied = a5_calloc(lv->n + drawn, sizeof *s->varied);
    double *pol = NULL;
    long np = 0;
    int rc = !lvs || !s->varied ? A5_ENOMEM : 0, bad = 0;
    for (size_t i = 0; !rc && i < lv->n; i++) {
        if ((rc = a5_sc_add_varied(L, lv->key[i])) != 0) {
            bad = 1;
            rc = A5_SC_NOMEM(rc) ? rc : 0;
            continue;
        }
        int r = lever_values(L, lv->key[i], lv->item[i], &lvs[s->nvaried - 1]);
        rc = r < 0 ? A5_ENOMEM : 0;
        bad |= r != 0;
    }
    s->nlevers = s->nvaried;
    if (!rc && !bad) {
        int r = policies(L, dz, lvs, &pol, &np);
        rc = r == A5_ENOMEM ? r : 0;
        bad |= r != 0;
    }
    if (!rc && !bad && (double)np * nw > (double)A5_MAX_POINTS) {
        A5_SC_ERR(L, a5_yaml_get(dz, "worlds"), "%ld policies x %.0f worlds = %.0f points; at most "
                  "%ld are supported", np, nw, (double)np * nw, A5_MAX_POINTS);
        bad = 1;
    }
    if (!rc && !bad && !(rc = world_columns(s)))
        rc = robust_points(s, pol, np, (long)nw);
    for (size_t j = 0; lvs && j < lv->n; j++)
        free(lvs[j].vals);
    free(lvs);
    free(pol);
    return rc;
}
