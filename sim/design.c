/* Experiment designs: the unit-hypercube samples (Latin hypercube, Sobol, Saltelli,
 * Morris) and the scenario's design points built from `sweep:` and `design:` (lhs,
 * sobol, saltelli, morris, or a CSV file of points). See a5_design.h and scenario_int.h. */
#include "a5_design.h"

#include "a5_csv.h"
#include "a5_error.h"
#include "a5_rng.h"
#include "a5_sys.h"
#include "scenario_int.h"

#include <errno.h>
#include <gsl/gsl_qrng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- unit-hypercube samples --------------------------------------------------------- */

int a5_design_lhs(long n, int k, uint64_t seed, double *u)
{
    gsl_rng *r = a5_rng_alloc();
    long *perm = a5_malloc((size_t)n * sizeof *perm);
    if (!r || !perm) {
        gsl_rng_free(r);
        free(perm);
        return A5_ENOMEM;
    }
    a5_rng_seek(r, seed, 0xFFFFFFFFu, 0);
    for (int j = 0; j < k; j++) {
        for (long i = 0; i < n; i++)
            perm[i] = i;
        for (long i = n - 1; i > 0; i--) { /* Fisher-Yates */
            long m = (long)(gsl_rng_uniform(r) * (double)(i + 1));
            long t = perm[i];
            perm[i] = perm[m];
            perm[m] = t;
        }
        for (long i = 0; i < n; i++)
            u[i * k + j] = ((double)perm[i] + gsl_rng_uniform(r)) / (double)n;
    }
    gsl_rng_free(r);
    free(perm);
    return 0;
}

int a5_design_sobol(long n, int k, double *u)
{
    if (k < 1 || k > A5_DESIGN_SOBOL_MAX_DIM)
        return A5_ELIMIT;
    gsl_qrng *q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)k);
    if (!q)
        return A5_ENOMEM;
    for (long i = 0; i < n; i++)
        gsl_qrng_get(q, u + i * k);
    gsl_qrng_free(q);
    return 0;
}

void a5_design_saltelli(const double *unit, long n, int k, double *out)
{
    for (long i = 0; i < n; i++) {
        const double *a = unit + (size_t)i * 2 * k, *b = a + k;
        double *row = out + (size_t)i * (size_t)(k + 2) * k;
        for (int r = 0; r < k + 2; r++) {
            for (int j = 0; j < k; j++)
                row[(size_t)r * k + j] = r == k + 1 ? b[j] : (r >= 1 && r - 1 == j) ? b[j] : a[j];
        }
    }
}

void a5_design_saltelli2(const double *unit, long n, int k, double *out)
{
    size_t rows = 2 * (size_t)k + 2;
    for (long i = 0; i < n; i++) {
        const double *a = unit + (size_t)i * 2 * k, *b = a + k;
        double *row = out + (size_t)i * rows * k;
        for (int r = 0; r < 2 * k + 2; r++) {
            /* r = 0: A; 1..k: AB_r; k+1..2k: BA_(r-k); 2k+1: B. */
            const double *from = r <= k ? a : b, *col = r <= k ? b : a;
            int swap = r == 0 || r == 2 * k + 1 ? -1 : r <= k ? r - 1 : r - k - 1;
            for (int j = 0; j < k; j++)
                row[(size_t)r * k + j] = j == swap ? col[j] : from[j];
        }
    }
}

int a5_design_morris(long r, int k, int p, uint64_t seed, double *u)
{
    gsl_rng *g = a5_rng_alloc();
    int *order = a5_malloc((size_t)k * sizeof *order);
    long *start = a5_malloc((size_t)k * sizeof *start);
    long *other = a5_malloc((size_t)k * sizeof *other);
    if (!g || !order || !start || !other) {
        gsl_rng_free(g);
        free(order);
        free(start);
        free(other);
        return A5_ENOMEM;
    }
    a5_rng_seek(g, seed, 0xFFFFFFFFu, 1);
    /* Levels are counted in grid steps of 1/(p-1): delta is p/2 of them, and the base
     * x* is one of the first p/2 levels, so x* + delta <= 1 exactly. */
    long half = p / 2;
    for (long t = 0; t < r; t++) {
        /* SALib draws P* (the order), then D* (directions), then x* (the base). */
        for (int j = 0; j < k; j++)
            order[j] = j;
        for (int i = k - 1; i > 0; i--) { /* Fisher-Yates */
            int m = (int)(gsl_rng_uniform(g) * (double)(i + 1));
            int x = order[i];
            order[i] = order[m];
            order[m] = x;
        }
        for (int j = 0; j < k; j++)
            other[j] = gsl_rng_uniform(g) < 0.5 ? -1 : 1; /* direction, for now */
        for (int j = 0; j < k; j++) {
            long base = (long)(gsl_rng_uniform(g) * (double)half);
            start[j] = other[j] > 0 ? base : base + half;
            other[j] = other[j] > 0 ? base + half : base;
        }
        double *row = u + (size_t)t * (size_t)(k + 1) * (size_t)k;
        for (int j = 0; j < k; j++)
            row[j] = (double)start[j] / (double)(p - 1);
        for (int i = 1; i <= k; i++) {
            memcpy(row + (size_t)i * k, row + (size_t)(i - 1) * k, (size_t)k * sizeof *row);
            int j = order[i - 1];
            row[(size_t)i * k + j] = (double)other[j] / (double)(p - 1);
        }
    }
    gsl_rng_free(g);
    free(order);
    free(start);
    free(other);
    return 0;
}

/* --- the scenario's varied paths ------------------------------------------------------ */

/* The uncertain parameter sharing a slot with t, or NULL. */
static const a5_uncertain *overlaps_uncertain(const a5_scenario *s, const a5_target *t)
{
    for (size_t i = 0; i < s->nuncertain; i++)
        for (size_t a = 0; a < s->uncertain[i].target.nslots; a++)
            for (size_t b = 0; b < t->nslots; b++)
                if (s->uncertain[i].target.slots[a] == t->slots[b])
                    return &s->uncertain[i];
    return NULL;
}

int a5_sc_add_varied(a5_sc_loader *L, const a5_yaml_node *k)
{
    a5_scenario *s = L->s;
    a5_target t;
    int rc = a5_sc_resolve(L, k->value, k, A5_SC_VARY, &t);
    if (rc)
        return rc;
    const a5_uncertain *u = overlaps_uncertain(s, &t);
    if (u) {
        A5_SC_ERR(L, k,
                  "'%s' is also in 'uncertain' (as '%s'): a parameter is either drawn or "
                  "varied, not both",
                  k->value, u->target.path);
        a5_scenario_target_free(&t);
        return A5_ESCENARIO;
    }
    for (size_t i = 0; i < s->nvaried; i++)
        for (size_t a = 0; a < s->varied[i].nslots; a++)
            for (size_t b = 0; b < t.nslots; b++)
                if (s->varied[i].slots[a] == t.slots[b]) {
                    A5_SC_ERR(L, k, "'%s' overlaps '%s', varied already", k->value,
                              s->varied[i].path);
                    a5_scenario_target_free(&t);
                    return A5_ESCENARIO;
                }
    s->varied[s->nvaried++] = t;
    return 0;
}

/* --- sweep: a full factorial grid ------------------------------------------------------ */

/* Every combination of the k value lists vals[j] (nv[j] values), the first path
 * varying slowest, into s->points. */
static int sweep_grid(a5_scenario *s, double *const *vals, const size_t *nv, long np)
{
    size_t k = s->nvaried;
    s->points = a5_malloc((size_t)np * (k ? k : 1) * sizeof *s->points);
    if (!s->points)
        return A5_ENOMEM;
    for (long p = 0; p < np; p++) {
        long rem = p;
        for (size_t j = k; j-- > 0;) {
            s->points[(size_t)p * k + j] = vals[j][rem % (long)nv[j]];
            rem /= (long)nv[j];
        }
    }
    s->npoints = np;
    s->design = A5_DESIGN_GRID;
    return 0;
}

int a5_sc_sweep(a5_sc_loader *L, const a5_yaml_node *sw)
{
    a5_scenario *s = L->s;
    if (a5_sc_expect_map(L, sw, "sweep"))
        return 0;
    size_t k = sw->n;
    if (!k) {
        A5_SC_ERR(L, sw, "'sweep' is empty: give at least one path with a list of values");
        return 0;
    }
    int rc = 0, bad = 0;
    double total = 1;
    s->varied = a5_calloc(k, sizeof *s->varied);
    double **vals = a5_calloc(k, sizeof *vals);
    size_t *nv = a5_calloc(k, sizeof *nv);
    if (!s->varied || !vals || !nv) {
        rc = A5_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < k; i++) {
        const a5_yaml_node *key = sw->key[i], *v = sw->item[i];
        if ((rc = a5_sc_add_varied(L, key))) {
            if (A5_SC_NOMEM(rc))
                goto done;
            rc = 0;
            bad = 1;
            continue;
        }
        const a5_param *p = s->varied[s->nvaried - 1].param;
        size_t j = s->nvaried - 1;
        if (a5_sc_expect_seq(L, v, key->value) || v->n == 0) {
            if (v->kind == A5_YAML_SEQ)
                A5_SC_ERR(L, v, "'sweep.%s' has no values", key->value);
            bad = 1;
            continue;
        }
        if (!(vals[j] = a5_malloc(v->n * sizeof **vals))) {
            rc = A5_ENOMEM;
            goto done;
        }
        nv[j] = v->n;
        total *= (double)v->n;
        for (size_t q = 0; q < v->n; q++)
            bad |= a5_sc_value(L, v->item[q], p, key->value, &vals[j][q]) != 0;
    }
    if (!bad && total > (double)A5_MAX_POINTS) {
        A5_SC_ERR(L, sw, "the sweep grid has %.0f points; at most %ld are supported", total,
                  A5_MAX_POINTS);
        bad = 1;
    }
    if (!bad)
        rc = sweep_grid(s, vals, nv, (long)total);
done:
    for (size_t i = 0; vals && i < k; i++)
        free(vals[i]);
    free(vals);
    free(nv);
    return rc;
}

/* --- design: file --------------------------------------------------------------------- */

typedef struct {
    a5_sc_loader *L;
    const char *path;
    size_t k; /* paths in the header */
    size_t rows, cap;
    double *vals; /* rows x k */
    int bad;
} design_csv;

/* Header: one path per column. Data rows: one value per path. */
static int design_record(void *ctx, size_t record, int line, const a5_csv_field *f, size_t n)
{
    design_csv *c = ctx;
    a5_sc_loader *L = c->L;
    a5_scenario *s = L->s;
    if (record == 0) {
        if (!(s->varied = a5_calloc(n, sizeof *s->varied)))
            return A5_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            a5_yaml_node *cell = a5_yaml_scalar(f[i].text, 1, c->path, f[i].line, f[i].col);
            int rc = cell ? a5_sc_add_varied(L, cell) : A5_ENOMEM;
            a5_yaml_free(cell);
            if (A5_SC_NOMEM(rc))
                return rc;
            c->bad |= rc != 0;
        }
        c->k = s->nvaried;
        return c->bad ? A5_ESCENARIO : 0; /* no rows checked against a broken header */
    }
    size_t k = c->k;
    if (c->rows + 1 > (size_t)A5_MAX_POINTS) {
        a5_diag_add(L->d, c->path, line, 1, "more than %ld design points", A5_MAX_POINTS);
        return A5_ESCENARIO;
    }
    if ((c->rows + 1) * k > c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64 * k;
        double *nv = a5_realloc(c->vals, cap * sizeof *nv);
        if (!nv)
            return A5_ENOMEM;
        c->vals = nv;
        c->cap = cap;
    }
    for (size_t i = 0; i < n && i < k; i++) {
        a5_yaml_node cell = {.kind = A5_YAML_SCALAR,
                             .file = c->path,
                             .line = f[i].line,
                             .col = f[i].col,
                             .value = (char *)f[i].text,
                             .plain = 1};
        c->bad |= a5_sc_value(L, &cell, s->varied[i].param, s->varied[i].path,
                              &c->vals[c->rows * k + i]) != 0;
    }
    c->rows++;
    return 0;
}

static void design_ragged(void *ctx, a5_diag *d, const char *file, int line, size_t n, size_t width)
{
    (void)ctx;
    a5_diag_add(d, file, line, 1, "row has %zu values; the header names %zu paths", n, width);
}

void a5_sc_design_note(a5_sc_loader *L, const double *vals, size_t rows)
{
    const a5_scenario *s = L->s;
    char names[4096] = "";
    size_t used = 0;
    for (size_t j = 0; j < s->nvaried && used < sizeof names; j++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s\n", s->varied[j].path);
    unsigned long long hv = a5_sys_fnv1a(vals, rows * s->nvaried * sizeof *vals),
                       hp = a5_sys_fnv1a(names, strlen(names));
    snprintf(L->design_note, sizeof L->design_note,
             "# design file: checksum %016llx%016llx (%zu points x %zu paths)\n", hp, hv, rows,
             s->nvaried);
}

/* Read a CSV design matrix (see a5_csv.h for what is accepted): a header of paths,
 * then one row of numbers per point. Errors are located in the CSV file itself. The
 * file's name is relative to the file that names it (a base, or the scenario; for
 * --set, the scenario). */
static int design_file(a5_sc_loader *L, const a5_yaml_node *fnode, const char *fname)
{
    a5_scenario *s = L->s;
    char path[4096];
    const char *from = strcmp(fnode->file, "--set") ? fnode->file : s->file;
    a5_sc_beside(from, fname, path, sizeof path);
    design_csv c = {.L = L, .path = path};
    a5_csv_opts o = {.record = design_record, .ragged = design_ragged, .ctx = &c};
    a5_csv_info info;
    int rc = a5_csv_read(path, &o, L->d, &info);
    if (rc == A5_EIO) {
        A5_SC_ERR(L, fnode, "cannot open design file '%s': %s", path,
                  errno == EINVAL  ? "not a regular file (a FIFO, a device or a directory)"
                  : errno == EFBIG ? "larger than 1 GiB"
                                   : strerror(errno));
        rc = A5_ESCENARIO;
    }
    if (!rc && !c.bad && c.rows == 0)
        a5_diag_add(L->d, path, info.lines ? info.lines : 1, 1,
                    "design file has no rows (a header of paths, then one row per point)");
    if (rc || c.bad || c.rows == 0) {
        free(c.vals);
        return rc == A5_ENOMEM ? rc : 0;
    }
    s->points = c.vals;
    s->npoints = (long)c.rows;
    s->design_n = (long)c.rows;
    a5_sc_design_note(L, c.vals, c.rows);
    return a5_sc_pin_path(fnode, path);
}

/* --- design: lhs, sobol, saltelli, morris ------------------------------------------- */

/* design.ranges: each path's [lo, hi] or {lo, hi, log} into lo, hi, lg. */
static int design_ranges(a5_sc_loader *L, const a5_yaml_node *rg, double *lo, double *hi, int *lg,
                         int *bad)
{
    a5_scenario *s = L->s;
    for (size_t i = 0; i < rg->n; i++) {
        const a5_yaml_node *key = rg->key[i], *v = rg->item[i], *lv = NULL, *hv = NULL;
        int rc = a5_sc_add_varied(L, key);
        if (A5_SC_NOMEM(rc))
            return rc;
        if (rc) {
            *bad = 1;
            continue;
        }
        size_t j = s->nvaried - 1;
        const a5_param *p = s->varied[j].param;
        if (v->kind == A5_YAML_SEQ && v->n == 2) {
            lv = v->item[0];
            hv = v->item[1];
        } else if (v->kind == A5_YAML_MAP) {
            static const char *const rk[] = {"lo", "hi", "log"};
            a5_sc_check_keys(L, v, "a design range", rk, 3);
            lv = a5_yaml_get(v, "lo");
            hv = a5_yaml_get(v, "hi");
            const a5_yaml_node *l = a5_yaml_get(v, "log");
            static const a5_param bp = {"log", A5_T_BOOL, 0, 0, 1, 0, 0, "", ""};
            double x = 0;
            if (l && a5_sc_value(L, l, &bp, "log", &x))
                *bad = 1;
            lg[j] = x != 0;
        }
        if (!lv || !hv) {
            A5_SC_ERR(L, v, "range of '%s' must be [lo, hi] or {lo: .., hi: .., log: true}",
                      key->value);
            *bad = 1;
            continue;
        }
        if (a5_sc_value(L, lv, p, key->value, &lo[j]) ||
            a5_sc_value(L, hv, p, key->value, &hi[j])) {
            *bad = 1;
            continue;
        }
        if (!(lo[j] <= hi[j])) {
            A5_SC_ERR(L, v, "range of '%s' needs lo <= hi", key->value);
            *bad = 1;
        } else if (lg[j] && !(lo[j] > 0)) {
            A5_SC_ERR(L, v, "a log range of '%s' needs lo > 0", key->value);
            *bad = 1;
        }
        if (p->type == A5_T_INT) {
            A5_SC_ERR(L, key, "'%s' is a whole number: use 'sweep' or a 'file' design to vary it",
                      key->value);
            *bad = 1;
        }
    }
    return 0;
}

/* n base points of the method's unit-cube sample (dim columns), laid out as design
 * points and scaled to the ranges. For morris, n trajectories. */
static int design_points(a5_scenario *s, long n, size_t dim, const double *lo, const double *hi,
                         const int *lg)
{
    size_t k = s->nvaried;
    s->points = a5_malloc((size_t)s->npoints * k * sizeof *s->points);
    if (!s->points)
        return A5_ENOMEM;
    int rc = 0;
    if (s->design == A5_DESIGN_MORRIS)
        rc = a5_design_morris(n, (int)k, s->morris_levels, s->seed, s->points);
    else {
        double *unit = a5_malloc((size_t)n * dim * sizeof *unit);
        rc = !unit                        ? A5_ENOMEM
             : s->design == A5_DESIGN_LHS ? a5_design_lhs(n, (int)k, s->seed, unit)
                                          : a5_design_sobol(n, (int)dim, unit);
        if (!rc && s->design == A5_DESIGN_SALTELLI && s->second_order)
            a5_design_saltelli2(unit, n, (int)k, s->points);
        else if (!rc && s->design == A5_DESIGN_SALTELLI)
            a5_design_saltelli(unit, n, (int)k, s->points);
        else if (!rc)
            memcpy(s->points, unit, (size_t)n * k * sizeof *unit);
        free(unit);
    }
    if (rc)
        return A5_ENOMEM;
    for (long p = 0; p < s->npoints; p++)
        for (size_t j = 0; j < k; j++) {
            double u = s->points[(size_t)p * k + j];
            /* Morris grids end on 0 and 1: those are lo and hi exactly. */
            if (s->design == A5_DESIGN_MORRIS && (u == 0 || u == 1))
                s->points[(size_t)p * k + j] = u == 0 ? lo[j] : hi[j];
            else if (s->varied[j].param->type == A5_T_CHOICE)
                /* Names: each code lo..hi an equal share of the unit interval. */
                s->points[(size_t)p * k + j] =
                    lo[j] + fmin(floor((hi[j] - lo[j] + 1) * u), hi[j] - lo[j]);
            else
                s->points[(size_t)p * k + j] =
                    lg[j] ? exp(log(lo[j]) + (log(hi[j]) - log(lo[j])) * u)
                          : lo[j] + (hi[j] - lo[j]) * u;
        }
    return 0;
}

/* A key that only another method takes: reported at the key. Returns 1 if present. */
static int foreign_key(a5_sc_loader *L, const a5_yaml_node *dz, const char *key, const char *owner)
{
    int found = 0;
    for (size_t i = 0; i < dz->n; i++)
        if (strcmp(dz->key[i]->value, key) == 0) {
            A5_SC_ERR(L, dz->key[i], "'%s' belongs to method: %s", key, owner);
            found = 1;
        }
    return found;
}

/* morris: `trajectories` and `levels` (default 4) into *nr and s->morris_levels. */
static int morris_settings(a5_sc_loader *L, const a5_yaml_node *dz, double *nr)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *pts = a5_yaml_get(dz, "points"), *tr = a5_yaml_get(dz, "trajectories"),
                       *lv = a5_yaml_get(dz, "levels");
    static const a5_param tp = {"design.trajectories", A5_T_INT, 0, 1, A5_MAX_POINTS, 0, 0, "", ""};
    static const a5_param lp = {"design.levels", A5_T_INT, 4, 2, 1000000, 0, 0, "", ""};
    int bad = 0;
    if (pts) {
        A5_SC_ERR(L, pts,
                  "a morris design has no 'points': give 'trajectories' (R trajectories make "
                  "R (k + 1) points for k paths)");
        bad = 1;
    }
    if (!tr) {
        A5_SC_ERR(L, dz, "'design' needs 'trajectories' (how many Morris trajectories, e.g. 20)");
        bad = 1;
    } else
        bad |= a5_sc_value(L, tr, &tp, "design.trajectories", nr) != 0;
    double p = lp.def;
    if (lv && a5_sc_value(L, lv, &lp, "design.levels", &p))
        bad = 1;
    else if (lv && fmod(p, 2) != 0) {
        A5_SC_ERR(L, lv,
                  "'design.levels' = %s is odd: Morris levels must be even (4, 6, 8, ..) so "
                  "that every step of p / (2 (p - 1)) stays on the grid; did you mean %.0f?",
                  lv->value, p + 1);
        bad = 1;
    }
    s->morris_levels = (int)p;
    return bad;
}

/* lhs, sobol, saltelli or morris: `points` (morris: `trajectories`, `levels`) and
 * `ranges`; saltelli may add `second_order`. */
static int design_sampled(a5_sc_loader *L, const a5_yaml_node *dz, const char *mt)
{
    a5_scenario *s = L->s;
    int saltelli = s->design == A5_DESIGN_SALTELLI, morris = s->design == A5_DESIGN_MORRIS;
    const a5_yaml_node *pts = a5_yaml_get(dz, "points"), *rg = a5_yaml_get(dz, "ranges"),
                       *fn = a5_yaml_get(dz, "file"), *so = a5_yaml_get(dz, "second_order");
    int bad = 0;
    if (fn) {
        A5_SC_ERR(L, fn, "'file' belongs to method: file");
        bad = 1;
    }
    if (!saltelli)
        bad |= foreign_key(L, dz, "second_order", "saltelli");
    if (!morris) {
        bad |= foreign_key(L, dz, "trajectories", "morris");
        bad |= foreign_key(L, dz, "levels", "morris");
    }
    if (saltelli && so) {
        static const a5_param bp = {"design.second_order", A5_T_BOOL, 0, 0, 1, 0, 0, "", ""};
        double x = 0;
        bad |= a5_sc_value(L, so, &bp, "design.second_order", &x) != 0;
        s->second_order = x != 0;
    }
    static const a5_param pp = {"design.points", A5_T_INT, 0, 1, A5_MAX_POINTS, 0, 0, "", ""};
    double np = 0;
    if (morris)
        bad |= morris_settings(L, dz, &np);
    else if (!pts) {
        A5_SC_ERR(L, dz, "'design' needs 'points' (%s)",
                  saltelli ? "the base sample size N" : "how many design points");
        bad = 1;
    } else
        bad |= a5_sc_value(L, pts, &pp, "design.points", &np) != 0;
    if (!rg) {
        A5_SC_ERR(L, dz, "'design' needs 'ranges' (PATH: [lo, hi])");
        return 0;
    }
    if (a5_sc_expect_map(L, rg, "design.ranges"))
        return 0;
    if (rg->n == 0) {
        A5_SC_ERR(L, rg, "'design.ranges' is empty");
        return 0;
    }
    size_t k = rg->n;
    s->varied = a5_calloc(k, sizeof *s->varied);
    double *lo = a5_calloc(k, sizeof *lo), *hi = a5_calloc(k, sizeof *hi);
    int *lg = a5_calloc(k, sizeof *lg);
    int rc = !s->varied || !lo || !hi || !lg ? A5_ENOMEM : design_ranges(L, rg, lo, hi, lg, &bad);
    if (rc)
        goto done;
    /* A Morris input must move: its range cannot be a single value. */
    int flat = 0;
    for (size_t j = 0; morris && !bad && j < k; j++)
        if (lo[j] == hi[j]) {
            A5_SC_ERR(L, rg->item[j],
                      "range of '%s' is a single value: a morris input must move (lo < hi)",
                      rg->key[j]->value);
            flat = 1;
        }
    bad |= flat;
    /* Unit-cube dimension each method needs: saltelli samples A and B side by side. */
    size_t dim = saltelli ? 2 * k : k;
    if ((saltelli || s->design == A5_DESIGN_SOBOL) && dim > A5_DESIGN_SOBOL_MAX_DIM) {
        A5_SC_ERR(L, rg, "a %s design supports at most %d paths, got %zu", mt,
                  saltelli ? A5_DESIGN_SOBOL_MAX_DIM / 2 : A5_DESIGN_SOBOL_MAX_DIM, k);
        bad = 1;
    }
    double per = !saltelli && !morris ? 1
                 : morris             ? (double)(k + 1)
                 : s->second_order    ? (double)(2 * k + 2)
                                      : (double)(k + 2);
    double total = np * per;
    if (!bad && total > (double)A5_MAX_POINTS) {
        A5_SC_ERR(L, morris ? a5_yaml_get(dz, "trajectories") : pts,
                  "%.0f design points; at most %ld are supported", total, A5_MAX_POINTS);
        bad = 1;
    }
    if (bad)
        goto done;
    s->design_n = (long)np;
    s->npoints = (long)total;
    rc = design_points(s, (long)np, dim, lo, hi, lg);
done:
    if (bad || rc) {
        free(s->points);
        s->points = NULL;
        s->npoints = 0;
    }
    free(lo);
    free(hi);
    free(lg);
    return rc;
}

int a5_sc_design(a5_sc_loader *L, const a5_yaml_node *dz)
{
    a5_scenario *s = L->s;
    if (a5_sc_expect_map(L, dz, "design"))
        return 0;
    static const char *const keys[] = {"method",       "points", "ranges",      "file",
                                       "trajectories", "levels", "second_order"};
    static const char *const methods[] = {"lhs", "sobol", "saltelli", "file", "morris"};
    const a5_yaml_node *m = a5_yaml_get(dz, "method"), *pts = a5_yaml_get(dz, "points"),
                       *rg = a5_yaml_get(dz, "ranges"), *fn = a5_yaml_get(dz, "file");
    a5_sc_check_keys(L, dz, "'design'", keys, 7);
    const char *mt = NULL;
    if (!m) {
        A5_SC_ERR(L, dz, "'design' needs a 'method' (lhs, sobol, saltelli, morris, file or robust)");
        return 0;
    }
    if (a5_sc_text(L, m, "design.method", &mt))
        return 0;
    int method = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(mt, methods[i]) == 0)
            method = i;
    if (method < 0) {
        char h[96];
        A5_SC_ERR(L, m,
                  "unknown design method '%s'; expected lhs, sobol, saltelli, morris, file or "
                  "robust%s", mt,
                  a5_sc_hint(h, sizeof h, mt, methods, 5));
        return 0;
    }
    s->design = (int[]){A5_DESIGN_LHS, A5_DESIGN_SOBOL, A5_DESIGN_SALTELLI, A5_DESIGN_FILE,
                        A5_DESIGN_MORRIS}[method];
    if (s->design != A5_DESIGN_FILE)
        return design_sampled(L, dz, mt);
    const char *t;
    int bad = foreign_key(L, dz, "second_order", "saltelli");
    bad |= foreign_key(L, dz, "trajectories", "morris");
    bad |= foreign_key(L, dz, "levels", "morris");
    if (pts || rg)
        A5_SC_ERR(L, pts ? pts : rg,
                  "a 'file' design takes its points and paths from the file: "
                  "drop 'points' and 'ranges'");
    else if (!fn)
        A5_SC_ERR(L, dz,
                  "a 'file' design needs 'file: PATH.csv' (a header of paths, one row per "
                  "point)");
    else if (a5_sc_text(L, fn, "design.file", &t) == 0 && !bad)
        return design_file(L, fn, t);
    return 0;
}
