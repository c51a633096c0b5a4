/* Calibration by simulated composite likelihood. See a5_calibrate.h. */
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

#include "a5_mem.h"


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

/* The simulated probability of each policy at observation i: the share of
 * replicates in it, smoothed by a pseudo-count a per policy, (count + a) / (R + 3a),
 * so that no policy the model can reach only rarely has probability 0. */
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

/* splitmix64: the folds' shuffle and the bootstrap's draws (not the model's streams). */
static uint64_t mix_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t mix_below(uint64_t *s, size_t n) { return (size_t)(mix_next(s) % (uint64_t)n); }

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
        double last = mz->fval;
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
static int baseline(const calib *c, int bloc, double *ll, double *br, double *acc)
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
            if (baseline(&c, 0, &res->base_keep_loglik, &res->base_keep_brier,
                         &res->base_keep_accuracy) ||
                baseline(&c, 1, &res->base_bloc_loglik, &res->base_bloc_brier,
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
