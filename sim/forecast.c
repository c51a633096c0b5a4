/* Forecasts from an observed state: state replacement, and their scores. See
 * a5_forecast.h and docs/forecast.md. */
#include "a5_forecast.h"

#include "calibrate_int.h"

#include "a5_error.h"
#include "a5_mem.h"
#include "a5_model.h"
#include "a5_param.h"
#include "a5_rng.h"

#include <Random123/philox.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const a5_fc_pred_name[A5_FC_NPRED] = {"model (assimilated)", "model, free run",
                                                  "no change (smoothed)",
                                                  "transition rates"};

int a5_fc_view(const a5_scenario *s, int origin, a5_scenario *view, a5_event **keep)
{
    *view = *s;
    /* One block: the events, the attention events' saliences and steps, the windows. */
    const size_t cells = s->window ? (size_t)s->steps * (size_t)s->n : 0;
    const size_t ev = (s->nevents + 1) * sizeof **keep,
                 sal = (s->nattention + 1) * sizeof *s->att_salience,
                 at = (s->nattention + 1) * sizeof *s->att_step;
    char *block = a5_calloc(ev + sal + at + cells + 1, 1);
    if (!block)
        return A5_ENOMEM;
    *keep = (a5_event *)block;
    size_t k = 0;
    for (size_t e = 0; e < s->nevents; e++)
        if (s->events[e].known <= origin) /* hazard events: INT_MIN */
            (*keep)[k++] = s->events[e];
    view->events = *keep;
    view->nevents = k;
    /* Attention events after the origin had not happened yet; windows count only
     * where one of them was known by the origin (no hindsight either way). */
    view->att_salience = (double *)(block + ev);
    view->att_step = (int *)(block + ev + sal);
    view->nattention = 0;
    for (size_t e = 0; e < s->nattention; e++)
        if (s->att_step[e] <= origin) {
            view->att_salience[view->nattention] = s->att_salience[e];
            view->att_step[view->nattention++] = s->att_step[e];
        }
    if (s->window) {
        view->window = (unsigned char *)(block + ev + sal + at);
        for (size_t c = 0; c < cells; c++)
            view->window[c] = s->window_known[c] <= origin; /* INT_MAX: no window */
    }
    return 0;
}

void a5_fc_result_free(a5_fc_result *r)
{
    free(r->at_origin);
    free(r->p);
    free(r->p_free);
    free(r->h_assim);
    free(r->h_free);
    free(r->h_sd);
    memset(r, 0, sizeof *r);
}

/* The uniform that picks replicate r's donor for nation i at step t: Philox4x32-10
 * with the replicate's key at counter (t, 0xC0000000 + i, r, p), outside the step
 * stream (second word below 2^31) and the lever's draws (2^31 + i). */
static double donor_uniform(const a5_rng_state *rs, int t, int i)
{
    philox4x32_ctr_t c = {{(uint32_t)t, 0xC0000000u + (uint32_t)i, rs->ctr[2], rs->ctr[3]}};
    philox4x32_key_t k = {{rs->key[0], rs->key[1]}};
    philox4x32_ctr_t out = philox4x32_R(10, c, k);
    return a5_rng_uniform53(out.v[0], out.v[1]);
}

/* Everything one forecast holds: a work and a stream per replicate. */
typedef struct {
    const a5_scenario *s;
    a5_model *m;
    long R, rep0;
    int n, origin, horizon, threads;
    a5_work **w;
    gsl_rng **g;
    uint32_t *count, *count_free; /* [horizon][n][3] */
} fc;

static void fc_free(fc *f)
{
    for (long r = 0; f->w && r < f->R; r++)
        a5_model_work_free(f->w[r]);
    for (long r = 0; f->g && r < f->R; r++)
        if (f->g[r])
            gsl_rng_free(f->g[r]);
    free(f->w);
    free(f->g);
    free(f->count);
    free(f->count_free);
    a5_model_free(f->m);
}

/* Steps t0..t1 of replicate r (work w, stream g), counting policies after steps past
 * the origin into cnt. */
static void steps(const fc *f, a5_work *w, gsl_rng *g, int t0, int t1, double *cost, double *risk,
                  uint32_t *cnt)
{
    double *x = a5_model_work_x(w);
    const int n = f->n;
    for (int t = t0; t <= t1; t++) {
        a5_model_step(f->m, x, t, a5_rng_state_of(g), w, cost, risk);
        if (t <= f->origin)
            continue;
        uint32_t *c = cnt + (size_t)(t - f->origin - 1) * (size_t)n * 3;
        for (int i = 0; i < n; i++)
            c[3 * i + (int)x[a5_param_nslot(A5_N_POLICY, i, n)]]++;
    }
}

/* The replicates from step t0 to t1, counting the steps past the origin into
 * f->count. From the start (from_start: t0 is 0, t1 <= origin), each replicate's work
 * and stream are made and kept (f->w, f->g), and its free run to origin + horizon, in
 * a scratch work, is counted into f->count_free instead. Returns 0 or A5_ENOMEM. */
static int run(fc *f, int t0, int t1, int from_start)
{
    const size_t cells = (size_t)f->horizon * (size_t)f->n * 3;
    uint32_t *total = from_start ? f->count_free : f->count;
    int rc = 0;
#pragma omp parallel num_threads(f->threads)
    {
        a5_work *tw = from_start ? a5_model_work_alloc(f->m) : NULL;
        gsl_rng *tg = from_start ? a5_rng_alloc() : NULL;
        uint32_t *local = a5_calloc(cells, sizeof *local);
        double *cost = a5_calloc((size_t)f->n, sizeof *cost);
        double *risk = a5_calloc((size_t)f->n, sizeof *risk);
        int ok = local && cost && risk && (!from_start || (tw && tg));
#pragma omp for schedule(dynamic, 8)
        for (long r = 0; r < f->R; r++) {
            if (from_start) {
                f->w[r] = ok ? a5_model_work_alloc(f->m) : NULL;
                f->g[r] = ok ? a5_rng_alloc() : NULL;
                if (!f->w[r] || !f->g[r])
                    ok = 0;
                else
                    a5_model_init(f->m, 0, f->rep0 + r, a5_model_work_x(f->w[r]),
                                  a5_rng_state_of(f->g[r]));
            }
            if (!ok)
                continue;
            steps(f, f->w[r], f->g[r], t0, t1, cost, risk, local);
            if (from_start) {
                a5_model_init(f->m, 0, f->rep0 + r, a5_model_work_x(tw), a5_rng_state_of(tg));
                steps(f, tw, tg, 0, f->origin + f->horizon, cost, risk, local);
            }
        }
        /* Integer counts: the order threads add them in does not matter. */
#pragma omp critical
        {
            if (!ok)
                rc = A5_ENOMEM;
            else
                for (size_t q = 0; q < cells; q++)
                    total[q] += local[q];
        }
        a5_model_work_free(tw);
        if (tg)
            gsl_rng_free(tg);
        free(local);
        free(cost);
        free(risk);
    }
    return rc;
}

/* The observed policy of each nation at step `origin` into y (-1: none). Returns 0,
 * or A5_ESCENARIO when two rows disagree. */
static int observed_at(const a5_scenario *s, const a5_obs *obs, size_t nobs, int origin, int *y,
                       char *err, size_t errlen)
{
    for (int i = 0; i < s->n; i++)
        y[i] = -1;
    for (size_t q = 0; q < nobs; q++) {
        const a5_obs *o = &obs[q];
        if (o->step != origin)
            continue;
        if (y[o->nation] >= 0 && y[o->nation] != o->policy) {
            char d[16];
            a5_scenario_date(s, origin, d, sizeof d);
            snprintf(err, errlen, "line %d: %s at %s is observed as both %s and %s: a forecast "
                     "starts from one observed policy", o->line, s->codes[o->nation], d,
                     a5_policy_name(y[o->nation]), a5_policy_name(o->policy));
            return A5_ESCENARIO;
        }
        y[o->nation] = o->policy;
    }
    return 0;
}

/* Mean (and sd) over replicates of each nation's high-risk share now. */
static void share_stats(const fc *f, double *mean, double *sd)
{
    const int n = f->n;
    for (int i = 0; i < n; i++) {
        double s1 = 0, s2 = 0;
        for (long r = 0; r < f->R; r++) {
            double h = a5_model_work_x(f->w[r])[a5_param_nslot(A5_N_HIGH_RISK_SHARE, i, n)];
            s1 += h;
            s2 += h * h;
        }
        mean[i] = s1 / (double)f->R;
        if (sd) {
            double v = s2 / (double)f->R - mean[i] * mean[i];
            sd[i] = v > 0 ? sqrt(v) : 0;
        }
    }
}

/* State replacement at step t (see a5_forecast.h), counted into res. Every
 * replicate's nation i is read before any is written: a donor agrees on i, so its
 * nation i is never changed. Returns 0 or A5_ENOMEM. */
static int assimilate(fc *f, const int *y, int t, a5_fc_result *res)
{
    const int n = f->n;
    long *agree = a5_malloc((size_t)f->R * sizeof *agree);
    if (!agree)
        return A5_ENOMEM;
    const size_t sp = a5_param_nslot(A5_N_POLICY, 0, n), sh = a5_param_nslot(A5_N_HIGH_RISK_SHARE, 0, n),
                 sP = a5_param_nslot(A5_N_US_PRESSURE, 0, n);
    for (int i = 0; i < n; i++) {
        if (y[i] < 0)
            continue;
        long na = 0;
        for (long r = 0; r < f->R; r++)
            if ((int)a5_model_work_x(f->w[r])[sp + (size_t)i] == y[i])
                agree[na++] = r;
        for (long r = 0; r < f->R; r++) {
            double *x = a5_model_work_x(f->w[r]);
            res->cells++;
            if ((int)x[sp + (size_t)i] == y[i])
                continue;
            res->replaced++;
            x[sp + (size_t)i] = y[i];
            if (!na) {
                res->unsupported++;
                continue;
            }
            double u = donor_uniform(a5_rng_state_of(f->g[r]), t, i);
            long j = agree[(long)(u * (double)na)];
            const double *xd = a5_model_work_x(f->w[j]);
            x[sh + (size_t)i] = xd[sh + (size_t)i];
            x[sP + (size_t)i] = xd[sP + (size_t)i];
            a5_model_copy_lever(f->w[r], f->w[j], i);
        }
    }
    free(agree);
    for (long r = 0; r < f->R; r++)
        a5_model_prepare(f->m, a5_model_work_x(f->w[r]), f->w[r]);
    return 0;
}

/* The replicates to the origin, replaced at every observed step before it (every)
 * or only there. res counts the replacements at the origin. */
static int assimilate_to_origin(fc *f, const a5_scenario *s, const a5_obs *obs, size_t nobs,
                                int every, a5_fc_result *res, char *err, size_t errlen)
{
    int *y = a5_malloc((size_t)f->n * sizeof *y), last = -1, rc = y ? 0 : A5_ENOMEM;
    for (int t = every ? 0 : f->origin; !rc && t <= f->origin; t++) {
        int seen = t == f->origin;
        for (size_t q = 0; q < nobs && !seen; q++)
            seen = obs[q].step == t;
        if (!seen)
            continue;
        rc = run(f, last < 0 ? 0 : last + 1, t, last < 0);
        last = t;
        a5_fc_result earlier = {0}; /* counts of the earlier steps: not reported */
        if (!rc && t < f->origin) {
            rc = observed_at(s, obs, nobs, t, y, err, errlen);
            if (!rc)
                rc = assimilate(f, y, t, &earlier);
        } else if (!rc) {
            share_stats(f, res->h_free, NULL);
            rc = assimilate(f, res->at_origin, t, res);
        }
    }
    free(y);
    return rc;
}

/* Counts of R replicates (cells / 3 nations and steps, 3 policies each) to smoothed
 * shares, by calibration's own rule (a5c_shares). */
static void to_shares(uint32_t *count, size_t cells, long R, double a, double *p)
{
    const calib c = {.count = count, .R = R, .smooth = a};
    for (size_t i = 0; i < cells / 3; i++)
        a5c_shares(&c, i, p + 3 * i);
}

static int fc_alloc(fc *f, a5_fc_result *res)
{
    const size_t n = (size_t)f->n, cells = (size_t)f->horizon * n * 3;
    f->w = a5_calloc((size_t)f->R, sizeof *f->w);
    f->g = a5_calloc((size_t)f->R, sizeof *f->g);
    f->count = a5_calloc(cells, sizeof *f->count);
    f->count_free = a5_calloc(cells, sizeof *f->count_free);
    res->at_origin = a5_calloc(n, sizeof *res->at_origin);
    res->p = a5_calloc(cells, sizeof *res->p);
    res->p_free = a5_calloc(cells, sizeof *res->p_free);
    res->h_assim = a5_calloc(n, sizeof *res->h_assim);
    res->h_free = a5_calloc(n, sizeof *res->h_free);
    res->h_sd = a5_calloc(n, sizeof *res->h_sd);
    return f->w && f->g && f->count && f->count_free && res->at_origin && res->p &&
                   res->p_free && res->h_assim && res->h_free && res->h_sd
               ? 0
               : A5_ENOMEM;
}

int a5_fc_run(const a5_scenario *s, const a5_obs *obs, size_t nobs, int origin,
              const a5_fc_opts *o, a5_fc_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (origin < 0 || o->horizon < 1 || origin + o->horizon >= s->steps) {
        char d[16], last[16];
        a5_scenario_date(s, origin, d, sizeof d);
        a5_scenario_date(s, s->steps - 1, last, sizeof last);
        snprintf(err, errlen, "a forecast from %s over %d steps runs past the scenario's last "
                 "step (%s): give it steps: %d or more (--set steps=%d)", d, o->horizon, last,
                 origin + o->horizon + 1, origin + o->horizon + 1);
        return A5_ESCENARIO;
    }
    a5_scenario view;
    a5_event *keep = NULL;
    fc f = {.s = &view, .R = o->replicates > 0 ? o->replicates : A5_CALIB_REPLICATES,
            .rep0 = o->rep0, .n = s->n, .origin = origin, .horizon = o->horizon,
            .threads = o->threads > 0 ? o->threads : omp_get_max_threads()};
    int rc = a5_fc_view(s, origin, &view, &keep);
    if (!rc && !(f.m = a5_model_alloc(&view)))
        rc = A5_ENOMEM;
    if (!rc && o->nover)
        rc = a5_model_override(f.m, o->nover, o->over_slot, o->over_value);
    if (!rc)
        rc = fc_alloc(&f, res);
    if (!rc)
        rc = observed_at(s, obs, nobs, origin, res->at_origin, err, errlen);
    if (!rc)
        rc = assimilate_to_origin(&f, s, obs, nobs, o->every, res, err, errlen);
    if (!rc) {
        share_stats(&f, res->h_assim, res->h_sd);
        rc = run(&f, origin + 1, origin + o->horizon, 0);
    }
    if (!rc) {
        const size_t cells = (size_t)f.horizon * (size_t)f.n * 3;
        const double a = o->smooth == 0 ? A5_CALIB_SMOOTH : o->smooth;
        to_shares(f.count, cells, f.R, a, res->p);
        to_shares(f.count_free, cells, f.R, a, res->p_free);
        res->origin = origin;
        res->horizon = f.horizon;
        res->n = f.n;
        res->R = f.R;
    }
    if (rc == A5_ENOMEM)
        snprintf(err, errlen, "out of memory");
    fc_free(&f);
    free(keep);
    if (rc)
        a5_fc_result_free(res);
    return rc;
}

/* --- baselines and scores ------------------------------------------------------------- */

int a5_fc_observed(const a5_obs *obs, size_t nobs, int i, int t)
{
    int y = -1;
    for (size_t q = 0; q < nobs; q++)
        if (obs[q].nation == i && obs[q].step == t)
            y = obs[q].policy;
    return y;
}

int a5_fc_year_end(const a5_scenario *s, int t)
{
    return ((s->start_quarter - 1 + t) % 4 + 4) % 4 == 3;
}

/* Nation i's known policy at step t: the observation there, the scenario's initial
 * policy at t = -1, else -1. */
static int known_policy(const a5_scenario *s, const a5_obs *obs, size_t nobs, int i, int t)
{
    if (t == -1)
        return a5c_start(s, i);
    return a5_fc_observed(obs, nobs, i, t);
}

void a5_fc_baselines(const a5_scenario *s, const a5_obs *obs, size_t nobs, int origin,
                     int at_origin, int years, double smooth, double nochange[3],
                     double transition[3])
{
    /* Annual pairs (t - 4, t), t <= origin, both known: counts from policy a to b. */
    double T[3][3] = {{0}};
    double moved = 0, pairs = 0;
    for (int i = 0; i < s->n; i++)
        for (int t = origin; t - 4 >= -1; t--) {
            int a = known_policy(s, obs, nobs, i, t - 4), b = known_policy(s, obs, nobs, i, t);
            if (a < 0 || b < 0)
                continue;
            T[a][b]++;
            pairs++;
            moved += a != b;
        }
    const double e = (moved + smooth) / (pairs + 2 * smooth);
    const double keep = pow(1 - e, years);
    for (int k = 0; k < 3; k++)
        nochange[k] = k == at_origin ? keep : (1 - keep) / 2;
    /* Rows of the smoothed annual transition matrix, then y steps of the chain. */
    double M[3][3];
    for (int a = 0; a < 3; a++) {
        double na = T[a][0] + T[a][1] + T[a][2];
        for (int b = 0; b < 3; b++)
            M[a][b] = (T[a][b] + smooth) / (na + 3 * smooth);
    }
    double v[3] = {0, 0, 0};
    v[at_origin] = 1;
    for (int y = 0; y < years; y++) {
        double nv[3] = {0, 0, 0};
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                nv[b] += v[a] * M[a][b];
        memcpy(v, nv, sizeof v);
    }
    memcpy(transition, v, sizeof v);
}

static int in_subset(const a5_fc_row *r, int subset)
{
    if (r->observed < 0)
        return 0;
    return subset == 0 || (subset == 1) == (r->observed != r->at_origin);
}

static double brier_row(const double p[3], int y)
{
    double b = 0;
    for (int k = 0; k < 3; k++)
        b += (p[k] - (k == y)) * (p[k] - (k == y));
    return b;
}

void a5_fc_score_rows(const a5_fc_row *rows, size_t n, int k, int subset, double floor,
                      a5_fc_score *sc)
{
    double b = 0, l = 0, d1 = 0, d2 = 0;
    size_t m = 0;
    for (size_t q = 0; q < n; q++) {
        const a5_fc_row *r = &rows[q];
        if (!in_subset(r, subset))
            continue;
        double bk = brier_row(r->p[k], r->observed);
        double d = bk - brier_row(r->p[A5_FC_MODEL], r->observed);
        b += bk;
        l += log(fmax(r->p[k][r->observed], floor));
        d1 += d;
        d2 += d * d;
        m++;
    }
    sc->n = m;
    sc->brier = m ? b / (double)m : NAN;
    sc->logscore = m ? l / (double)m : NAN;
    double var = m > 1 ? (d2 - d1 * d1 / (double)m) / (double)(m - 1) : NAN;
    sc->se_diff = m > 1 ? sqrt(fmax(var, 0) / (double)m) : NAN;
}

/* Whether rows a (a mover) and b (a stayer of the same forecast) are a pair, and the
 * concordance of predictor k on it (1, 0.5 on ties, 0); -1 when not a pair. */
static double concordance(const a5_fc_row *ra, const a5_fc_row *rb, int k)
{
    if (ra->observed < 0 || ra->observed == ra->at_origin || rb->observed < 0 ||
        rb->observed != rb->at_origin || rb->origin != ra->origin || rb->step != ra->step)
        return -1;
    const double sa = 1 - ra->p[k][ra->at_origin], sb = 1 - rb->p[k][rb->at_origin];
    return sa > sb ? 1.0 : sa == sb ? 0.5 : 0.0;
}

/* DeLong's std.err from each mover's and each stayer's mean concordance. */
static double auc_se(const a5_fc_row *rows, size_t n, int k, double auc)
{
    double s[2] = {0, 0};
    size_t m[2] = {0, 0};
    for (size_t a = 0; a < n; a++)
        for (int side = 0; side < 2; side++) {
            double sum = 0;
            size_t cnt = 0;
            for (size_t b = 0; b < n; b++) {
                double c = side ? concordance(&rows[b], &rows[a], k)
                                : concordance(&rows[a], &rows[b], k);
                if (c >= 0) {
                    sum += c;
                    cnt++;
                }
            }
            if (cnt) {
                s[side] += (sum / (double)cnt - auc) * (sum / (double)cnt - auc);
                m[side]++;
            }
        }
    if (m[0] < 2 || m[1] < 2)
        return NAN;
    return sqrt(s[0] / (double)(m[0] - 1) / (double)m[0] + s[1] / (double)(m[1] - 1) / (double)m[1]);
}

double a5_fc_auc(const a5_fc_row *rows, size_t n, int k, size_t *pairs, double *se)
{
    double conc = 0;
    size_t np = 0;
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            double c = concordance(&rows[a], &rows[b], k);
            if (c >= 0) {
                conc += c;
                np++;
            }
        }
    *pairs = np;
    const double auc = np ? conc / (double)np : NAN;
    if (se)
        *se = np ? auc_se(rows, n, k, auc) : NAN;
    return auc;
}

int a5_fc_write_predictions(FILE *f, const a5_scenario *s, const a5_fc_row *rows, size_t n,
                            const char *header)
{
    for (const char *l = header; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        fprintf(f, "# %.*s\n", (int)len, l);
        l += len + (e != NULL);
    }
    fprintf(f, "origin,code,date,observed,policy_at_origin,p_open,p_restrict,p_ban\n");
    for (size_t q = 0; q < n; q++) {
        const a5_fc_row *r = &rows[q];
        char od[16], d[16];
        a5_scenario_date(s, r->origin, od, sizeof od);
        a5_scenario_date(s, r->step, d, sizeof d);
        fprintf(f, "%s,%s,%s,%s,%s,%.17g,%.17g,%.17g\n", od, s->codes[r->nation], d,
                r->observed >= 0 ? a5_policy_name(r->observed) : "",
                a5_policy_name(r->at_origin), r->p[A5_FC_MODEL][0], r->p[A5_FC_MODEL][1],
                r->p[A5_FC_MODEL][2]);
    }
    return ferror(f) ? A5_EIO : 0;
}
