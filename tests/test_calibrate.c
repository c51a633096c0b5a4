/* Calibration (issue 17): K-fold cross-validation by nation, baselines scored on the
 * same rows, bootstrap intervals whose coverage is measured on synthetic data with a
 * known truth, diagnostics as warnings, the CSV writers, and out-of-memory paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_calibrate.h"
#include "a5_mem.h"
#include "a5_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A small world: N nations with seeded attributes in 4 blocs, 12 quarters. */
static a5_scenario *world(int n)
{
    char *text = malloc(65536);
    assert_non_null(text);
    size_t off = (size_t)snprintf(text, 65536,
        "name: calib-test\nstart: 2019Q1\nsteps: 12\nreplicates: 100\nseed: 777\n"
        "decision: {rationality: 4.0, weights: {cost: 1, risk: 1, us: 1, china: 1, peer: 1, "
        "inertia: 0.5, home: 0.2}}\n"
        "vendors: [{name: H, price: 0.8, high_risk: true}, {name: E, price: 1.0}]\n"
        "peers: {base_tie: 0.1}\ndefaults: {review_rate: 0.3, policy: open}\n"
        "events:\n  - {at: 2, set: {risk.supply_risk: 0.3}, add: {nations.*.us_pressure: 0.1}}\n"
        "  - {at: 5, set: {risk.supply_risk: 0.5, us.intel_threat: 0.4}}\n"
        "nations:\n");
    uint64_t st = 12345;
    for (int i = 0; i < n; i++) {
        double u[8];
        for (int q = 0; q < 8; q++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            u[q] = (double)(st >> 11) / 9007199254740992.0;
        }
        off += (size_t)snprintf(text + off, 65536 - off,
            "  - {code: N%d, blocs: [a%d, c%d], intel: %.3f, us_ties: %.3f, china_trade: %.3f, "
            "high_risk_share: %.3f, cost_sensitivity: %.3f, mitigation: %.3f, threat: %.3f}\n",
            i, i % 4, (i / 4) % 4, u[0], u[1], 0.5 * u[2], 0.6 * u[3], u[4], u[5], u[6]);
    }
    a5_diag d = {0};
    a5_scenario *s = NULL;
    if (a5_scenario_parse(text, off, "calib.yaml", NULL, 0, &d, &s)) {
        a5_diag_print(&d, stderr);
        fail_msg("scenario did not load");
    }
    a5_diag_free(&d);
    free(text);
    return s;
}

/* Observations from `worlds` simulated worlds with decision.weights.us = truth (on
 * streams far from those the fit uses): every nation at steps 2, 5, 8 and 11. */
static a5_obs *observe(const a5_scenario *s, double truth, int worlds, long first, size_t *nobs)
{
    static const int at[4] = {2, 5, 8, 11};
    a5_model *m = a5_model_alloc(s);
    a5_work *w = a5_model_work_alloc(m);
    gsl_rng *g = a5_rng_alloc();
    double *cost = calloc((size_t)s->n, sizeof *cost), *risk = calloc((size_t)s->n, sizeof *risk);
    a5_obs *obs = calloc((size_t)worlds * 4 * (size_t)s->n, sizeof *obs);
    assert_true(m && w && g && cost && risk && obs);
    a5_target t;
    char err[256];
    assert_int_equal(a5_scenario_resolve(s, "decision.weights.us", &t, err, sizeof err), 0);
    double *v = calloc(t.nslots, sizeof *v);
    for (size_t i = 0; i < t.nslots; i++)
        v[i] = truth;
    assert_int_equal(a5_model_override(m, t.nslots, t.slots, v), 0);
    size_t k = 0;
    for (int r = 0; r < worlds; r++) {
        double *x = a5_model_work_x(w);
        a5_rng_state *rs = a5_rng_state_of(g);
        a5_model_init(m, 0, first + r, x, rs);
        for (int step = 0, q = 0; step <= at[3]; step++) {
            a5_model_step(m, x, step, rs, w, cost, risk);
            if (step == at[q]) {
                for (int i = 0; i < s->n; i++)
                    obs[k++] = (a5_obs){i, step, (int)x[a5_param_nslot(A5_N_POLICY, i, s->n)], 0};
                q++;
            }
        }
    }
    *nobs = k;
    a5_scenario_target_free(&t);
    free(v);
    free(cost);
    free(risk);
    gsl_rng_free(g);
    a5_model_work_free(w);
    a5_model_free(m);
    return obs;
}

static void report(void *ctx, const char *line)
{
    (void)ctx;
    (void)line; /* set A5_CALIB_VERBOSE to see progress */
    if (getenv("A5_CALIB_VERBOSE"))
        fprintf(stderr, "  %s\n", line);
}

static a5_calib_opts opts(void)
{
    a5_calib_opts o;
    memset(&o, 0, sizeof o);
    o.replicates = 100;
    o.starts = 1;
    o.threads = 1;
    o.bootstrap = -1;
    o.report = report;
    return o;
}

static int has_warning(const a5_calib_result *r, const char *needle)
{
    for (size_t i = 0; i < r->nwarnings; i++)
        if (strstr(r->warnings[i], needle))
            return 1;
    return 0;
}

static const a5_fit_spec US = {"decision.weights.us", 0, 4};

/* K-fold: every observed nation in exactly one fold, sizes within one, the split
 * recorded and reproducible from the seed; every row predicted once, out of sample. */
static void test_folds(void **state)
{
    (void)state;
    a5_scenario *s = world(14);
    size_t nobs;
    a5_obs *obs = observe(s, 1.5, 2, 1000000000L, &nobs);
    a5_calib_opts o = opts();
    o.folds = 4;
    o.fold_seed = 99;
    a5_calib_result r, r2;
    char err[256];
    assert_int_equal(a5_calib_fit(s, obs, nobs, &US, 1, &o, &r, err, sizeof err), 0);
    assert_int_equal(r.folds, 4);
    assert_true(r.out_of_sample);
    int size[5] = {0};
    for (int i = 0; i < s->n; i++) {
        assert_true(r.fold_of[i] >= 1 && r.fold_of[i] <= 4);
        size[r.fold_of[i]]++;
    }
    for (int f = 1; f <= 4; f++)
        assert_true(size[f] == 3 || size[f] == 4);
    assert_int_equal(r.npred, nobs);
    for (size_t i = 0; i < r.npred; i++) {
        const a5_calib_pred *p = &r.pred[i];
        assert_int_equal(p->fold, r.fold_of[p->nation]);
        assert_true(fabs(p->p[0] + p->p[1] + p->p[2] - 1) < 1e-12);
        assert_true(p->p[0] > 0 && p->p[1] > 0 && p->p[2] > 0); /* smoothed */
    }
    for (int m = 0; m < A5_CALIB_NMODELS; m++)
        assert_int_equal(r.scores[m].n, nobs);
    /* Same seed, same split and same predictions; another seed, another split. */
    assert_int_equal(a5_calib_fit(s, obs, nobs, &US, 1, &o, &r2, err, sizeof err), 0);
    assert_memory_equal(r.fold_of, r2.fold_of, (size_t)s->n * sizeof *r.fold_of);
    assert_memory_equal(r.pred, r2.pred, r.npred * sizeof *r.pred);
    a5_calib_result_free(&r2);
    o.fold_seed = 100;
    assert_int_equal(a5_calib_fit(s, obs, nobs, &US, 1, &o, &r2, err, sizeof err), 0);
    assert_memory_not_equal(r.fold_of, r2.fold_of, (size_t)s->n * sizeof *r.fold_of);
    a5_calib_result_free(&r2);
    /* Folds with --holdout, or more folds than nations: refused with a message. */
    const char *h[] = {"N1", NULL};
    o.holdout = h;
    assert_int_equal(a5_calib_fit(s, obs, nobs, &US, 1, &o, &r2, err, sizeof err), A5_ESCENARIO);
    assert_non_null(strstr(err, "holdout"));
    o.holdout = NULL;
    o.folds = 15;
    assert_int_equal(a5_calib_fit(s, obs, nobs, &US, 1, &o, &r2, err, sizeof err), A5_ESCENARIO);
    assert_non_null(strstr(err, "folds"));
    a5_calib_result_free(&r);
    free(obs);
    a5_scenario_free(s);
}

/* Baselines recomputed here from their definitions on the held-out rows: the base
 * rates from the training rows with pseudo-count 0.5, one-hot keep-initial. */
static void test_baselines(void **state)
{
    (void)state;
    a5_scenario *s = world(12);
    size_t nobs;
    a5_obs *obs = observe(s, 2.0, 2, 2000000000L, &nobs);
    /* Drop step 11 rows of the training nations: the held-out rows there must fall
     * back to the overall rate. */
    size_t n2 = 0;
    for (size_t i = 0; i < nobs; i++)
        if (!(obs[i].step == 11 && obs[i].nation >= 3))
            obs[n2++] = obs[i];
    a5_calib_opts o = opts();
    const char *h[] = {"N0", "N1", "N2", NULL};
    o.holdout = h;
    a5_calib_result r;
    char err[256];
    assert_int_equal(a5_calib_fit(s, obs, n2, &US, 1, &o, &r, err, sizeof err), 0);
    double all[3] = {0}, by[12][3] = {{0}};
    for (size_t i = 0; i < n2; i++)
        if (obs[i].nation >= 3) {
            all[obs[i].policy]++;
            by[obs[i].step][obs[i].policy]++;
        }
    double na = all[0] + all[1] + all[2];
    double bd = 0, bo = 0, ld = 0, bk = 0, ak = 0;
    size_t n = 0;
    for (size_t i = 0; i < n2; i++) {
        if (obs[i].nation >= 3)
            continue;
        const double *c = by[obs[i].step];
        double nd = c[0] + c[1] + c[2];
        int y = obs[i].policy;
        for (int k = 0; k < 3; k++) {
            double po = (all[k] + 0.5) / (na + 1.5);
            double pd = nd > 0 ? (c[k] + 0.5) / (nd + 1.5) : po;
            bd += (pd - (k == y)) * (pd - (k == y));
            bo += (po - (k == y)) * (po - (k == y));
            if (k == y)
                ld += log(fmax(pd, 1e-3));
        }
        int keep = (int)s->base[a5_param_nslot(A5_N_POLICY, obs[i].nation, s->n)];
        bk += keep == y ? 0 : 2;
        ak += keep == y;
        n++;
    }
    assert_int_equal(r.npred, n);
    assert_int_equal(r.scores[A5_CALIB_BASE_DATE].n, n);
    assert_true(fabs(r.scores[A5_CALIB_BASE_DATE].brier - bd / (double)n) < 1e-12);
    assert_true(fabs(r.scores[A5_CALIB_BASE_DATE].logscore - ld / (double)n) < 1e-12);
    assert_true(fabs(r.scores[A5_CALIB_BASE_OVERALL].brier - bo / (double)n) < 1e-12);
    assert_true(fabs(r.scores[A5_CALIB_BASE_KEEP].brier - bk / (double)n) < 1e-12);
    assert_true(fabs(r.scores[A5_CALIB_BASE_KEEP].accuracy - ak / (double)n) < 1e-12);
    assert_true(fabs(r.scores[A5_CALIB_BASE_KEEP].logscore -
                     (ak * 0 + ((double)n - ak) * log(1e-3)) / (double)n) < 1e-12);
    /* Issue 23: the stratified base rate (date and starting policy, else by date), the
     * smoothed persistence (e = (moved + 0.5) / (rows + 1) at the date, else over all
     * training rows) and the changed / unchanged split, from their definitions. */
    double strat[12][3][3] = {{{0}}}, mv[12][2] = {{0}}, mva[2] = {0};
    for (size_t i = 0; i < n2; i++)
        if (obs[i].nation >= 3) {
            int st = (int)s->base[a5_param_nslot(A5_N_POLICY, obs[i].nation, s->n)];
            strat[obs[i].step][st][obs[i].policy]++;
            mv[obs[i].step][0] += obs[i].policy != st;
            mv[obs[i].step][1]++;
            mva[0] += obs[i].policy != st;
            mva[1]++;
        }
    double bs = 0, bp = 0, bpc = 0, bpu = 0;
    size_t nc = 0;
    for (size_t i = 0; i < n2; i++) {
        if (obs[i].nation >= 3)
            continue;
        int y = obs[i].policy, st = (int)s->base[a5_param_nslot(A5_N_POLICY, obs[i].nation, s->n)];
        const double *c = by[obs[i].step], *g = strat[obs[i].step][st];
        double nd = c[0] + c[1] + c[2], ng = g[0] + g[1] + g[2];
        const double *m = mv[obs[i].step][1] > 0 ? mv[obs[i].step] : mva;
        double e = (m[0] + 0.5) / (m[1] + 1), b1 = 0;
        for (int k = 0; k < 3; k++) {
            double po = (all[k] + 0.5) / (na + 1.5);
            double pd = nd > 0 ? (c[k] + 0.5) / (nd + 1.5) : po;
            double ps = ng > 0 ? (g[k] + 0.5) / (ng + 1.5) : pd;
            double pp = k == st ? 1 - e : e / 2;
            bs += (ps - (k == y)) * (ps - (k == y));
            b1 += (pp - (k == y)) * (pp - (k == y));
        }
        bp += b1;
        if (y != st) {
            bpc += b1;
            nc++;
        } else
            bpu += b1;
    }
    assert_true(nc > 0 && nc < n);
    assert_true(fabs(r.scores[A5_CALIB_BASE_STRAT].brier - bs / (double)n) < 1e-12);
    assert_true(fabs(r.scores[A5_CALIB_BASE_PERSIST].brier - bp / (double)n) < 1e-12);
    assert_int_equal(r.scores[A5_CALIB_BASE_PERSIST].n_changed, nc);
    assert_int_equal(r.scores[A5_CALIB_MODEL].n_unchanged, n - nc);
    assert_true(fabs(r.scores[A5_CALIB_BASE_PERSIST].brier_changed - bpc / (double)nc) < 1e-12);
    assert_true(fabs(r.scores[A5_CALIB_BASE_PERSIST].brier_unchanged - bpu / (double)(n - nc)) <
                1e-12);
    /* Keep initial policy: 2 on every changed row, 0 on every other; it cannot rank. */
    assert_true(r.scores[A5_CALIB_BASE_KEEP].brier_changed == 2.0);
    assert_true(r.scores[A5_CALIB_BASE_KEEP].brier_unchanged == 0.0);
    assert_true(fabs(r.scores[A5_CALIB_BASE_KEEP].auc_moved - 0.5) < 1e-12);
    /* The model's within-date AUC of "has moved", pair by pair. */
    double conc = 0, pairs = 0;
    for (size_t i = 0; i < r.npred; i++)
        for (size_t j = 0; j < r.npred; j++) {
            const a5_calib_pred *a = &r.pred[i], *b = &r.pred[j];
            if (a->step != b->step || a->observed == a->start || b->observed != b->start)
                continue;
            double sa = 1 - a->p[a->start], sb = 1 - b->p[b->start];
            conc += sa > sb ? 1 : sa == sb ? 0.5 : 0;
            pairs++;
        }
    assert_int_equal(r.scores[A5_CALIB_MODEL].auc_pairs, (size_t)pairs);
    assert_true(pairs > 0 && fabs(r.scores[A5_CALIB_MODEL].auc_moved - conc / pairs) < 1e-12);
    /* The model's score is the same formula on its predictions. */
    double bm = 0;
    for (size_t i = 0; i < r.npred; i++)
        for (int k = 0; k < 3; k++)
            bm += (r.pred[i].p[k] - (k == r.pred[i].observed)) * (r.pred[i].p[k] - (k == r.pred[i].observed));
    assert_true(fabs(r.scores[A5_CALIB_MODEL].brier - bm / (double)n) < 1e-12);
    /* A plain fit scores every row in sample (fold 0). */
    a5_calib_result_free(&r);
    o.holdout = NULL;
    assert_int_equal(a5_calib_fit(s, obs, n2, &US, 1, &o, &r, err, sizeof err), 0);
    assert_false(r.out_of_sample);
    assert_int_equal(r.npred, n2);
    for (size_t i = 0; i < r.npred; i++)
        assert_int_equal(r.pred[i].fold, 0);
    a5_calib_result_free(&r);
    free(obs);
    a5_scenario_free(s);
}

/* Diagnostics: the iteration cap, a parameter nothing depends on (flat start, not
 * identified), an estimate at a bound, the Brier objective's missing std.errs, and
 * the spread over random-number sets. */
static void test_warnings(void **state)
{
    (void)state;
    a5_scenario *s = world(12);
    size_t nobs;
    a5_obs *obs = observe(s, 1.5, 2, 3000000000L, &nobs);
    a5_calib_opts o = opts();
    o.max_iter = 2;
    o.starts = 2;
    a5_calib_result r;
    char err[256];
    /* No nation has a home vendor: the home weight changes nothing. */
    const a5_fit_spec fit[2] = {{"decision.weights.us", 0, 4}, {"decision.weights.home", 0, 2}};
    assert_int_equal(a5_calib_fit(s, obs, nobs, fit, 2, &o, &r, err, sizeof err), 0);
    assert_int_equal(r.starts_total, 2);
    assert_int_equal(r.starts_capped, 2);
    assert_true(has_warning(&r, "2 of 2 Nelder-Mead starts stopped at the iteration cap (max_iter 2)"));
    assert_true(has_warning(&r, "decision.weights.home is not identified"));
    assert_false(has_warning(&r, "decision.weights.us is not identified"));
    a5_calib_result_free(&r);
    /* One path nothing depends on: every start is flat; no curvature, no std.err. */
    o.max_iter = 0;
    assert_int_equal(a5_calib_fit(s, obs, nobs, fit + 1, 1, &o, &r, err, sizeof err), 0);
    assert_int_equal(r.starts_flat, 2);
    assert_true(has_warning(&r, "2 of 2 Nelder-Mead starts began where the objective is flat"));
    assert_true(isnan(r.se[0]));
    assert_true(has_warning(&r, "std.err not available: the Hessian"));
    a5_calib_result_free(&r);
    /* Truth far above the bounds: the estimate sits on the upper bound. */
    const a5_fit_spec narrow = {"decision.weights.us", 0, 0.3};
    a5_obs *obs2 = observe(s, 4.0, 2, 3100000000L, &nobs);
    assert_int_equal(a5_calib_fit(s, obs2, nobs, &narrow, 1, &o, &r, err, sizeof err), 0);
    assert_true(r.value[0] > 0.25);
    assert_true(has_warning(&r, "its bound 0.3 "));
    assert_false(has_warning(&r, "its bound 0 "));
    a5_calib_result_free(&r);
    free(obs2);
    /* Brier objective: std.errs are NaN and a warning says why. Few replicates and
     * three random-number sets: the spread warnings. */
    o.brier = 1;
    o.seeds = 3;
    o.replicates = 20;
    o.bootstrap = 10;
    assert_int_equal(a5_calib_fit(s, obs, nobs, &US, 1, &o, &r, err, sizeof err), 0);
    assert_true(isnan(r.se[0]));
    assert_true(has_warning(&r, "no standard errors with the Brier objective"));
    assert_int_equal(r.seeds, 3);
    int differ = 0;
    for (int q = 1; q < 3; q++)
        differ |= r.seed_value[q] != r.seed_value[0];
    assert_true(differ); /* each set changes the common random numbers */
    double lo = fmin(fmin(r.seed_value[0], r.seed_value[1]), r.seed_value[2]);
    double hi = fmax(fmax(r.seed_value[0], r.seed_value[1]), r.seed_value[2]);
    assert_int_equal(has_warning(&r, "over 3 random-number sets, more than"),
                     hi - lo > r.hi[0] - r.lo[0]);
    a5_calib_result_free(&r);
    free(obs);
    a5_scenario_free(s);
}

/* The writers: headers, one row per scored observation / per path, no "nan". */
static void test_writers(void **state)
{
    (void)state;
    a5_scenario *s = world(8);
    size_t nobs;
    a5_obs *obs = observe(s, 1.0, 1, 4000000000L, &nobs);
    a5_calib_opts o = opts();
    o.brier = 1;
    a5_calib_result r;
    char err[256];
    assert_int_equal(a5_calib_fit(s, obs, nobs, &US, 1, &o, &r, err, sizeof err), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(a5_calib_write_predictions(f, &r), 0);
    fclose(f);
    static const char head[] =
        "code,date,observed,fold,p_open,p_restrict,p_ban,start_policy,changed\nN0,2019Q3,";
    assert_true(!strncmp(buf, head, sizeof head - 1));
    /* Each row ends with the nation's starting policy and whether it was left. */
    const char *row1 = strchr(buf, '\n') + 1, *end1 = strchr(row1, '\n');
    char want[32];
    static const char *const pw[] = {"open", "restrict", "ban"};
    snprintf(want, sizeof want, ",%s,%d\n", pw[r.pred[0].start],
             r.pred[0].observed != r.pred[0].start);
    assert_true(!strncmp(end1 + 1 - strlen(want), want, strlen(want)));
    size_t lines = 0;
    for (char *p = buf; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, nobs + 1);
    free(buf);
    f = open_memstream(&buf, &len);
    assert_int_equal(a5_calib_write_estimates(f, &r), 0);
    fclose(f);
    assert_true(!strncmp(buf, "path,estimate,lo,hi,level,method\ndecision.weights.us,", 53));
    assert_null(strstr(buf, "nan"));
    assert_non_null(strstr(buf, ",,,0.9,none\n"));
    free(buf);
    a5_calib_result_free(&r);
    free(obs);
    a5_scenario_free(s);
}

/* Every allocation failing in turn (a sample of them): A5_ENOMEM or success, no crash,
 * no leak (the sanitizer build checks leaks). */
static void test_out_of_memory(void **state)
{
    (void)state;
    a5_scenario *s = world(6);
    size_t nobs;
    a5_obs *obs = observe(s, 1.0, 1, 5000000000L, &nobs);
    a5_calib_opts o = opts();
    o.replicates = 10;
    o.max_iter = 3;
    o.folds = 2;
    o.bootstrap = 2;
    o.seeds = 2;
    a5_calib_result r;
    char err[256];
    a5_mem_fail_at(0);
    assert_int_equal(a5_calib_fit(s, obs, nobs, &US, 1, &o, &r, err, sizeof err), 0);
    a5_calib_result_free(&r);
    long total = a5_mem_fail_at(0);
    assert_true(total > 10);
    int failed = 0;
    for (long k = 1; k <= total; k += k < 60 ? 1 : total / 40 + 1) {
        a5_mem_fail_at(k);
        int rc = a5_calib_fit(s, obs, nobs, &US, 1, &o, &r, err, sizeof err);
        a5_mem_fail_at(0);
        assert_true(rc == 0 || rc == A5_ENOMEM);
        failed += rc == A5_ENOMEM;
        if (rc == 0)
            a5_calib_result_free(&r);
    }
    assert_true(failed > 0);
    free(obs);
    a5_scenario_free(s);
}

/* The simulation study: 20 synthetic data sets with a known truth; nominal 90 %
 * bootstrap intervals must cover it at least 80 % of the time. */
static void test_coverage(void **state)
{
    (void)state;
    /* The study's statistics are the release build's to check; a sanitized build
     * (about 25 x slower here) covers the same code in the tests above. */
    if (getenv("A5_SKIP_COVERAGE_STUDY")) {
        skip();
        return;
    }
    const int datasets = 20;
    const double truth = 1.5;
    a5_scenario *s = world(16);
    int covered = 0;
    double width = 0;
    for (int d = 0; d < datasets; d++) {
        size_t nobs;
        a5_obs *obs = observe(s, truth, 1, 6000000000L + 1000L * d, &nobs);
        a5_calib_opts o = opts();
        o.bootstrap = 40;
        o.fold_seed = (uint64_t)d + 1;
        a5_calib_result r;
        char err[256];
        assert_int_equal(a5_calib_fit(s, obs, nobs, &US, 1, &o, &r, err, sizeof err), 0);
        assert_int_equal(r.bootstrap, 40);
        assert_true(r.lo[0] <= r.hi[0]);
        int in = r.lo[0] <= truth && truth <= r.hi[0];
        covered += in;
        width += r.hi[0] - r.lo[0];
        if (getenv("A5_CALIB_VERBOSE"))
            fprintf(stderr, "data set %2d: estimate %.3f, 90 %% interval [%.3f, %.3f]%s\n", d,
                    r.value[0], r.lo[0], r.hi[0], in ? "" : "  (misses)");
        a5_calib_result_free(&r);
        free(obs);
    }
    printf("coverage study: nominal 90 %% parametric-bootstrap intervals cover the truth "
           "decision.weights.us = %.1f in %d of %d synthetic data sets (%.0f %%); mean width %.3f\n",
           truth, covered, datasets, 100.0 * covered / datasets, width / datasets);
    assert_true(covered >= 16);
    a5_scenario_free(s);
}

/* One policy per nation and quarter: each disagreeing row is reported against the
 * earliest earlier row of its cell with another policy (as the pairwise check did),
 * in linear time. 3 x 40000 agreeing repeats and a few disagreements. */
static void test_cells(void **state)
{
    (void)state;
    a5_scenario *s = world(4);
    size_t n = 120000 + 3;
    a5_obs *o = calloc(n, sizeof *o);
    assert_non_null(o);
    for (size_t i = 0; i < 120000; i++)
        o[i] = (a5_obs){(int)(i % 4), (int)(i / 4 % 3), 0, (int)i + 2};
    o[120000] = (a5_obs){1, 2, 2, 120002};  /* ban after 10000 x open */
    o[120001] = (a5_obs){1, 2, 1, 120003};  /* restrict: against the first open row */
    o[120002] = (a5_obs){3, 11, 2, 120004}; /* its own cell: fine */
    a5_diag d = {0};
    assert_int_equal(a5_calib_check_cells("obs.csv", s, o, n, &d), 0);
    assert_int_equal(a5_diag_count(&d), 2);
    assert_string_equal(d.v[0].file, "obs.csv");
    assert_int_equal(d.v[0].line, 120002);
    assert_non_null(strstr(d.v[0].msg, "N1 2019Q3 is 'ban' here but 'open' on line 11:"));
    assert_int_equal(d.v[1].line, 120003);
    assert_non_null(strstr(d.v[1].msg, "'restrict' here but 'open' on line 11:"));
    a5_diag_free(&d);
    /* A row that agrees with the first but not with a later one is reported against
     * the earliest disagreeing row. */
    a5_obs w[3] = {{0, 0, 0, 2}, {0, 0, 2, 3}, {0, 0, 0, 4}};
    assert_int_equal(a5_calib_check_cells("o.csv", s, w, 3, &d), 0);
    assert_int_equal(a5_diag_count(&d), 2);
    assert_non_null(strstr(d.v[0].msg, "'ban' here but 'open' on line 2"));
    assert_non_null(strstr(d.v[1].msg, "'open' here but 'ban' on line 3"));
    a5_diag_free(&d);
    free(o);
    a5_scenario_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folds),    cmocka_unit_test(test_baselines),
        cmocka_unit_test(test_warnings), cmocka_unit_test(test_writers),
        cmocka_unit_test(test_out_of_memory), cmocka_unit_test(test_cells),
        cmocka_unit_test(test_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
