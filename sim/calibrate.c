/* Calibration by simulated composite likelihood. See a5_calibrate.h. */
#include "a5_calibrate.h"


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

/* --- observations ------------------------------------------------------------------ */

typedef struct {
    const a5_scenario *s;
    const char *path;
    a5_diag *d;
    a5_obs *v;
    size_t n, cap;
} obs_csv;

/* Header code,date,policy; then one observation per row, each bad field reported. */
static int obs_record(void *ctx, size_t record, int line, const a5_csv_field *f, size_t nf)
{
    obs_csv *c = ctx;
    const a5_scenario *s = c->s;
    if (record == 0) {
        if (nf != 3 || strcmp(f[0].text, "code") || strcmp(f[1].text, "date") ||
            strcmp(f[2].text, "policy"))
            a5_diag_add(c->d, c->path, line, 1, "the header must be 'code,date,policy'");
        return 0;
    }
    if (nf != 3)
        return 0; /* reported by obs_ragged */
    a5_obs o = {-1, -1, -1, line};
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->codes[i], f[0].text) == 0)
            o.nation = i;
    if (o.nation < 0) {
        const char *sug = a5_suggest(f[0].text, (const char *const *)s->codes, (size_t)s->n);
        a5_diag_add(c->d, c->path, f[0].line, f[0].col, "unknown nation code '%s'%s%s%s",
                    f[0].text, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
    }
    long t;
    if (a5_scenario_label_step(s, f[1].text, &t)) {
        a5_diag_add(c->d, c->path, f[1].line, f[1].col,
                    "bad date '%s': expected a quarter like 2020Q3", f[1].text);
    } else if (t < 0 || t >= s->steps) {
        char last[16];
        a5_scenario_date(s, s->steps - 1, last, sizeof last);
        a5_diag_add(c->d, c->path, f[1].line, f[1].col, "date %s is outside the run (%s to %s)",
                    f[1].text, s->start, last);
    } else
        o.step = (int)t;
    o.policy = a5_policy_parse(f[2].text);
    if (o.policy < 0)
        a5_diag_add(c->d, c->path, f[2].line, f[2].col,
                    "bad policy '%s': expected open, restrict or ban", f[2].text);
    if (o.nation < 0 || o.step < 0 || o.policy < 0)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        a5_obs *nv = a5_realloc(c->v, cap * sizeof *nv);
        if (!nv)
            return A5_ENOMEM;
        c->v = nv;
        c->cap = cap;
    }
    c->v[c->n++] = o;
    return 0;
}

static void obs_ragged(void *ctx, a5_diag *d, const char *file, int line, size_t n, size_t width)
{
    (void)ctx;
    (void)width;
    a5_diag_add(d, file, line, 1, "expected 3 fields (code,date,policy), got %zu", n);
}

int a5_calib_read_obs(const char *path, const a5_scenario *s, a5_diag *d, a5_obs **obs, size_t *n)
{
    *obs = NULL;
    *n = 0;
    size_t before = a5_diag_count(d);
    /* A NUL byte would end a field early ("ban\\0x" read as "ban"): refuse it. */
    char *raw = NULL;
    size_t rawlen = 0;
    int rrc = a5_sys_read_regular(path, 1u << 30, &raw, &rawlen);
    if (rrc == A5_ENOMEM)
        return A5_ENOMEM;
    if (rrc == A5_EIO) {
        a5_diag_add(d, path, 0, 0, "cannot open: %s", errno == EINVAL ? "not a regular file"
                                                                      : strerror(errno));
        return A5_EIO;
    }
    const char *nul = memchr(raw, 0, rawlen);
    if (nul) {
        int line = 1, col = 1;
        for (const char *q = raw; q < nul; q++, col++)
            if (*q == '\n')
                line++, col = 0;
        a5_diag_add(d, path, line, col, "a NUL byte is not allowed in an observations file");
        free(raw);
        return A5_ESCENARIO;
    }
    free(raw);
    obs_csv c = {.s = s, .path = path, .d = d};
    a5_csv_opts o = {.record = obs_record, .ragged = obs_ragged, .ctx = &c, .width = 3};
    a5_csv_info info;
    int rc = a5_csv_read(path, &o, d, &info);
    if (rc == A5_EIO) {
        a5_diag_add(d, path, 0, 0, "cannot open: %s", strerror(errno));
        free(c.v);
        return A5_EIO;
    }
    if (!rc && a5_diag_count(d) == before && c.n == 0)
        a5_diag_add(d, path, info.lines ? info.lines : 1, 1, "no observations");
    if (rc || a5_diag_count(d) != before) {
        free(c.v);
        return rc == A5_ENOMEM ? A5_ENOMEM : A5_ESCENARIO;
    }
    *obs = c.v;
    *n = c.n;
    return 0;
}

/* --- simulated shares at the observed cells ----------------------------------------- */

typedef struct {
    const a5_scenario *s;
    a5_model *m;
    const a5_obs *obs;
    size_t nobs;
    size_t *off, *idx; /* observations by step: idx[off[t] .. off[t+1]) */
    int tmax;
    long R;
    int threads;
    uint32_t *count; /* nobs x 3 */
    const unsigned char *train;
    a5_target *targets;
    size_t k;
    size_t nslot;
    size_t *slots;
    double *values;
    double floor;
    int brier;
    int evaluations;
} calib;

static int simulate(calib *c)
{
    const int n = c->s->n;
    int rc = 0;
    memset(c->count, 0, c->nobs * 3 * sizeof *c->count);
#pragma omp parallel num_threads(c->threads)
    {
        a5_work *w = a5_model_work_alloc(c->m);
        uint32_t *local = calloc(c->nobs * 3, sizeof *local);
        double *cost = calloc((size_t)n, sizeof *cost), *risk = calloc((size_t)n, sizeof *risk);
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
            a5_model_init(c->m, 0, r, x, rs);
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

/* Log-likelihood, Brier score and accuracy over observations with mask[i] == want. */
static void score(const calib *c, int want, double *ll, double *brier, double *acc, size_t *n)
{
    double l = 0, b = 0, a = 0;
    size_t m = 0;
    for (size_t i = 0; i < c->nobs; i++) {
        if (c->train[i] != want)
            continue;
        double p[3];
        int best = 0;
        for (int k = 0; k < 3; k++) {
            p[k] = (double)c->count[i * 3 + (size_t)k] / (double)c->R;
            if (p[k] > p[best])
                best = k;
        }
        int y = c->obs[i].policy;
        l += log(fmax(p[y], c->floor));
        for (int k = 0; k < 3; k++)
            b += (p[k] - (k == y)) * (p[k] - (k == y));
        a += best == y;
        m++;
    }
    *ll = l;
    *brier = m ? b / (double)m : NAN;
    *acc = m ? a / (double)m : NAN;
    *n = m;
}

/* Fitted paths to vector slots: every slot of every target takes its value. */
static int set_values(calib *c, const double *theta)
{
    size_t q = 0;
    for (size_t j = 0; j < c->k; j++)
        for (size_t i = 0; i < c->targets[j].nslots; i++) {
            c->slots[q] = c->targets[j].slots[i];
            c->values[q++] = a5_param_clamp(c->targets[j].param, theta[j]);
        }
    return a5_model_override(c->m, q, c->slots, c->values);
}

/* The minimised objective at parameter values theta. */
static double objective(calib *c, const double *theta)
{
    if (set_values(c, theta) || simulate(c))
        return HUGE_VAL;
    double ll, br, acc;
    size_t m;
    score(c, 1, &ll, &br, &acc, &m);
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

static double nm_f(const gsl_vector *z, void *params)
{
    nm_ctx *x = params;
    for (size_t j = 0; j < x->c->k; j++)
        x->theta[j] = to_theta(&x->fit[j], gsl_vector_get(z, j));
    return objective(x->c, x->theta);
}

static void say(const a5_calib_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const a5_calib_opts *o, const char *fmt, ...)
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

/* Approximate standard errors from the inverse of a central-difference Hessian of
 * -log-likelihood at theta (steps of 2 % of each range: the simulated objective is
 * piecewise constant at finer scales). NaN where the curvature is not positive. */
static void standard_errors(calib *c, const a5_fit_spec *fit, const double *theta, double f0,
                            double *se)
{
    size_t k = c->k;
    gsl_matrix *H = gsl_matrix_alloc(k, k), *inv = gsl_matrix_alloc(k, k);
    gsl_permutation *perm = gsl_permutation_alloc(k);
    double *t = malloc(k * sizeof *t), *h = malloc(k * sizeof *h);
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
                double fp = objective(c, t);
                t[a] = theta[a] - h[a];
                double fm = objective(c, t);
                v = (fp - 2 * f0 + fm) / (h[a] * h[a]);
            } else {
                double f4[4];
                const int sa[4] = {1, 1, -1, -1}, sb[4] = {1, -1, 1, -1};
                for (int q = 0; q < 4; q++) {
                    memcpy(t, theta, k * sizeof *t);
                    t[a] += sa[q] * h[a];
                    t[b] += sb[q] * h[b];
                    f4[q] = objective(c, t);
                }
                v = (f4[0] - f4[1] - f4[2] + f4[3]) / (4 * h[a] * h[b]);
            }
            gsl_matrix_set(H, a, b, v);
            gsl_matrix_set(H, b, a, v);
        }
    int sign;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    if (gsl_linalg_LU_decomp(H, perm, &sign) == 0 && gsl_linalg_LU_invert(H, perm, inv) == 0)
        for (size_t j = 0; j < k; j++) {
            double v = gsl_matrix_get(inv, j, j);
            se[j] = v > 0 && isfinite(v) ? sqrt(v) : NAN;
        }
    gsl_set_error_handler(old);
done:
    gsl_matrix_free(H);
    gsl_matrix_free(inv);
    gsl_permutation_free(perm);
    free(t);
    free(h);
}

/* Baselines on held-out observations: one-hot predictions. */
static void baseline(const calib *c, int bloc_majority, double *ll, double *br, double *acc)
{
    const a5_scenario *s = c->s;
    double l = 0, b = 0, a = 0;
    size_t m = 0;
    for (size_t i = 0; i < c->nobs; i++) {
        if (c->train[i])
            continue;
        const a5_obs *o = &c->obs[i];
        int pred = (int)s->base[a5_param_nslot(A5_N_POLICY, o->nation, s->n)];
        if (bloc_majority) {
            int votes[3] = {0, 0, 0}, any = 0;
            for (size_t q = 0; q < c->nobs; q++) {
                const a5_obs *p = &c->obs[q];
                if (!c->train[q] || p->step != o->step || p->nation == o->nation)
                    continue;
                int shared = 0;
                for (int x = s->bloc_off[o->nation]; x < s->bloc_off[o->nation + 1]; x++)
                    for (int y = s->bloc_off[p->nation]; y < s->bloc_off[p->nation + 1]; y++)
                        shared |= s->bloc_idx[x] == s->bloc_idx[y];
                if (shared) {
                    votes[p->policy]++;
                    any = 1;
                }
            }
            /* The most common policy among bloc partners; a tie keeps the initial one. */
            if (any) {
                int top = pred;
                for (int k = 0; k < 3; k++)
                    if (votes[k] > votes[top])
                        top = k;
                pred = top;
            }
        }
        l += log(pred == o->policy ? 1.0 : c->floor);
        b += pred == o->policy ? 0 : 2;
        a += pred == o->policy;
        m++;
    }
    *ll = l;
    *br = m ? b / (double)m : NAN;
    *acc = m ? a / (double)m : NAN;
}

void a5_calib_result_free(a5_calib_result *r)
{
    free(r->start);
    free(r->value);
    free(r->se);
    memset(r, 0, sizeof *r);
}

int a5_calib_fit(const a5_scenario *s, const a5_obs *obs, size_t nobs, const a5_fit_spec *fit,
                 size_t nfit, const a5_calib_opts *o, a5_calib_result *res, char *err,
                 size_t errlen)
{
    memset(res, 0, sizeof *res);
    calib c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.obs = obs;
    c.nobs = nobs;
    c.R = o->replicates > 0 ? o->replicates : 500;
    c.threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    c.floor = o->floor > 0 ? o->floor : 0.5 / (double)c.R;
    c.brier = o->brier;
    c.k = nfit;
    int rc = A5_ENOMEM;
    unsigned char *train = calloc(nobs, 1);
    c.targets = calloc(nfit, sizeof *c.targets);
    c.count = calloc(nobs * 3, sizeof *c.count);
    c.off = calloc((size_t)s->steps + 2, sizeof *c.off);
    c.idx = calloc(nobs, sizeof *c.idx);
    c.m = a5_model_alloc(s);
    res->k = nfit;
    res->start = calloc(nfit, sizeof(double));
    res->value = calloc(nfit, sizeof(double));
    res->se = calloc(nfit, sizeof(double));
    double *theta = calloc(nfit, sizeof *theta), *best = calloc(nfit, sizeof *best);
    double *starts = NULL;
    if (!train || !c.targets || !c.count || !c.off || !c.idx || !c.m || !res->start ||
        !res->value || !res->se || !theta || !best)
        goto done;
    c.train = train;
    size_t nslot = 0;
    for (size_t j = 0; j < nfit; j++) {
        if ((rc = a5_scenario_resolve(s, fit[j].path, &c.targets[j], err, errlen)) != 0) {
            size_t l = strlen(err);
            snprintf(err + l, errlen - l, " (--fit %s)", fit[j].path);
            goto done;
        }
        const a5_param *p = c.targets[j].param;
        if (!(fit[j].lo < fit[j].hi) || fit[j].lo < p->lo || fit[j].hi > p->hi) {
            snprintf(err, errlen, "--fit %s: bounds [%g, %g] must be increasing and within the "
                                  "parameter's range [%g, %g]", fit[j].path, fit[j].lo, fit[j].hi,
                     p->lo, p->hi);
            rc = A5_ESCENARIO;
            goto done;
        }
        nslot += c.targets[j].nslots;
        res->start[j] = s->base[c.targets[j].slots[0]];
    }
    rc = A5_ENOMEM;
    c.slots = calloc(nslot + 1, sizeof *c.slots);
    c.values = calloc(nslot + 1, sizeof *c.values);
    if (!c.slots || !c.values)
        goto done;
    /* Observations by step, and which are fitted. */
    for (size_t i = 0; i < nobs; i++) {
        int held = 0;
        for (const char *const *h = o->holdout; h && *h; h++)
            held |= strcmp(*h, s->codes[obs[i].nation]) == 0;
        train[i] = (unsigned char)!held;
        res->nfit += !held;
        res->nheld += (size_t)held;
        c.off[obs[i].step + 1]++;
        if (obs[i].step > c.tmax)
            c.tmax = obs[i].step;
    }
    if (res->nfit == 0) {
        snprintf(err, errlen, "every observation is held out: nothing to fit");
        rc = A5_ESCENARIO;
        goto done;
    }
    for (int t = 0; t <= s->steps; t++)
        c.off[t + 1] += c.off[t];
    {
        size_t *fill = calloc((size_t)s->steps + 1, sizeof *fill);
        if (!fill)
            goto done;
        for (size_t i = 0; i < nobs; i++)
            c.idx[c.off[obs[i].step] + fill[obs[i].step]++] = i;
        free(fill);
    }

    /* Starts: the scenario's own values, then a Latin hypercube over the bounds. */
    int nstarts = o->starts > 0 ? o->starts : 3;
    starts = calloc((size_t)nstarts * nfit, sizeof *starts);
    if (!starts)
        goto done;
    for (size_t j = 0; j < nfit; j++) {
        double v = res->start[j];
        starts[j] = v < fit[j].lo ? fit[j].lo : v > fit[j].hi ? fit[j].hi : v;
    }
    if (nstarts > 1) {
        double *u = calloc((size_t)(nstarts - 1) * nfit, sizeof *u);
        if (!u || a5_design_lhs(nstarts - 1, (int)nfit, s->seed ^ 0x5eedca1bULL, u)) {
            free(u);
            goto done;
        }
        for (int q = 1; q < nstarts; q++)
            for (size_t j = 0; j < nfit; j++)
                starts[(size_t)q * nfit + j] = fit[j].lo + (fit[j].hi - fit[j].lo) * u[(size_t)(q - 1) * nfit + j];
        free(u);
    }
    res->obj_start = objective(&c, starts);
    say(o, "objective at the scenario's values: %.4f (%s, %zu observations, %ld replicates)",
        res->obj_start, c.brier ? "Brier score" : "-log-likelihood", res->nfit, c.R);
    double fbest = HUGE_VAL;
    nm_ctx ctx = {&c, fit, theta};
    gsl_multimin_function fn = {nm_f, nfit, &ctx};
    gsl_multimin_fminimizer *mz = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, nfit);
    gsl_vector *z = gsl_vector_alloc(nfit), *step = gsl_vector_alloc(nfit);
    if (!mz || !z || !step) {
        gsl_multimin_fminimizer_free(mz);
        gsl_vector_free(z);
        gsl_vector_free(step);
        goto done;
    }
    int max_iter = o->max_iter > 0 ? o->max_iter : 150;
    for (int q = 0; q < nstarts; q++) {
        for (size_t j = 0; j < nfit; j++) {
            gsl_vector_set(z, j, to_z(&fit[j], starts[(size_t)q * nfit + j]));
            gsl_vector_set(step, j, 1.0);
        }
        double f0 = q == 0 ? res->obj_start : nm_f(z, &ctx);
        gsl_multimin_fminimizer_set(mz, &fn, z, step);
        int it = 0;
        for (; it < max_iter; it++) {
            if (gsl_multimin_fminimizer_iterate(mz))
                break;
            if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(mz), 1e-3) == GSL_SUCCESS)
                break;
        }
        double fq = mz->fval;
        char vals[512] = "";
        size_t off = 0;
        for (size_t j = 0; j < nfit && off < sizeof vals; j++)
            off += (size_t)snprintf(vals + off, sizeof vals - off, "%s%s=%.4g", j ? ", " : "",
                                    fit[j].path, to_theta(&fit[j], gsl_vector_get(mz->x, j)));
        say(o, "start %d/%d: %.4f -> %.4f in %d iterations (%s)", q + 1, nstarts, f0, fq, it, vals);
        if (fq < fbest) {
            fbest = fq;
            for (size_t j = 0; j < nfit; j++)
                best[j] = to_theta(&fit[j], gsl_vector_get(mz->x, j));
        }
    }
    gsl_multimin_fminimizer_free(mz);
    gsl_vector_free(z);
    gsl_vector_free(step);

    memcpy(res->value, best, nfit * sizeof *best);
    res->obj_end = objective(&c, best);
    double ll, br, acc;
    size_t m;
    score(&c, 1, &ll, &br, &acc, &m);
    res->loglik = ll;
    res->brier = br;
    res->accuracy = acc;
    if (res->nheld) {
        score(&c, 0, &res->held_loglik, &res->held_brier, &res->held_accuracy, &m);
        baseline(&c, 0, &res->base_keep_loglik, &res->base_keep_brier, &res->base_keep_accuracy);
        baseline(&c, 1, &res->base_bloc_loglik, &res->base_bloc_brier, &res->base_bloc_accuracy);
    }
    if (!c.brier)
        standard_errors(&c, fit, best, res->obj_end, res->se);
    else
        for (size_t j = 0; j < nfit; j++)
            res->se[j] = NAN;
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
    free(theta);
    free(best);
    free(starts);
    if (rc)
        a5_calib_result_free(res);
    return rc;
}
