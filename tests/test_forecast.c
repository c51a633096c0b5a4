/* Forecasts from an observed state (docs/forecast.md): state replacement changes no
 * bits when nothing is replaced, gives the same bits for any thread count, and
 * recovers a known hidden state in synthetic worlds; the baselines by hand; the
 * scenario's `known:` field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_forecast.h"
#include "a5_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static a5_scenario *load(const char *path, const char *const *sets, int nsets)
{
    a5_diag d = {0};
    a5_scenario *s = NULL;
    if (a5_scenario_load(path, sets, nsets, &d, &s)) {
        a5_diag_print(&d, stderr);
        fail_msg("%s did not load", path);
    }
    a5_diag_free(&d);
    return s;
}

static a5_scenario *huawei(void)
{
    return load(A5_SOURCE_DIR "/scenarios/huawei_2019.yaml", NULL, 0);
}

/* A "true" world: replicate r of s (every event: the world that happened), run to
 * step `last`. Its policies at the year ends (Q4 steps) up to `observe_to` become
 * observations; its high-risk shares at step `at` go into h (n). Returns the rows. */
static a5_obs *truth(const a5_scenario *s, long r, int last, int observe_to, int at, double *h,
                     int *pol_last, size_t *nobs)
{
    a5_model *m = a5_model_alloc(s);
    a5_work *w = a5_model_work_alloc(m);
    gsl_rng *g = a5_rng_alloc();
    double *cost = calloc((size_t)s->n, sizeof *cost), *risk = calloc((size_t)s->n, sizeof *risk);
    a5_obs *obs = malloc((size_t)s->steps * (size_t)s->n * sizeof *obs);
    assert_true(m && w && g && cost && risk && obs);
    double *x = a5_model_work_x(w);
    a5_model_init(m, 0, r, x, a5_rng_state_of(g));
    size_t k = 0;
    for (int t = 0; t <= last; t++) {
        a5_model_step(m, x, t, a5_rng_state_of(g), w, cost, risk);
        for (int i = 0; i < s->n; i++) {
            int p = (int)x[a5_param_nslot(A5_N_POLICY, i, s->n)];
            if (t % 4 == 3 && t <= observe_to)
                obs[k++] = (a5_obs){i, t, p, 0};
            if (t == at && h)
                h[i] = x[a5_param_nslot(A5_N_HIGH_RISK_SHARE, i, s->n)];
            if (t == last && pol_last)
                pol_last[i] = p;
        }
    }
    free(cost);
    free(risk);
    gsl_rng_free(g);
    a5_model_work_free(w);
    a5_model_free(m);
    *nobs = k;
    return obs;
}

/* Nothing to replace: with no observation at the origin, or when the one replicate
 * already agrees everywhere, the assimilated forecast is the free run bit for bit
 * (the hook a5_model_prepare restarts the step from x without changing a bit). */
static void test_no_replacement_same_bits(void **state)
{
    (void)state;
    a5_scenario *s = huawei();
    const int origin = 11, h = 8;
    /* The forecast's own replicate 5, run with the events known at the origin. */
    a5_scenario view;
    a5_event *keep;
    assert_int_equal(a5_fc_view(s, origin, &view, &keep), 0);
    size_t nobs;
    a5_obs *obs = truth(&view, 5, origin, origin, origin, NULL, NULL, &nobs);
    for (int pass = 0; pass < 2; pass++) {
        a5_fc_opts o = {.replicates = 1, .rep0 = 5, .threads = 1, .horizon = h};
        a5_fc_result r;
        char err[256];
        assert_int_equal(a5_fc_run(s, obs, pass ? nobs : 0, origin, &o, &r, err, sizeof err), 0);
        assert_int_equal(r.replaced, 0);
        assert_int_equal(r.cells, pass ? (long)s->n : 0);
        assert_memory_equal(r.p, r.p_free, (size_t)h * (size_t)s->n * 3 * sizeof *r.p);
        a5_fc_result_free(&r);
    }
    free(obs);
    free(keep);
    a5_scenario_free(s);
}

/* Same seed, same bits, for 1 and 3 threads; and the replacement really happens.
 * Replacing at every observed year end (every) leaves fewer to replace at the
 * origin. */
static void test_threads_same_bits(void **state)
{
    (void)state;
    a5_scenario *s = huawei();
    size_t nobs;
    a5_obs *obs = truth(s, 900001, 15, 15, 15, NULL, NULL, &nobs);
    long replaced_at_origin = 0;
    for (int every = 0; every < 2; every++) {
        a5_fc_result r[2];
        for (int q = 0; q < 2; q++) {
            a5_fc_opts o = {.replicates = 97, .threads = q ? 3 : 1, .horizon = 8, .every = every};
            char err[256];
            assert_int_equal(a5_fc_run(s, obs, nobs, 15, &o, &r[q], err, sizeof err), 0);
        }
        const size_t cells = 8 * (size_t)s->n * 3;
        assert_memory_equal(r[0].p, r[1].p, cells * sizeof *r[0].p);
        assert_memory_equal(r[0].p_free, r[1].p_free, cells * sizeof *r[0].p);
        assert_memory_equal(r[0].h_assim, r[1].h_assim, (size_t)s->n * sizeof *r[0].h_assim);
        assert_int_equal(r[0].replaced, r[1].replaced);
        assert_true(r[0].replaced > 0);
        assert_int_equal(r[0].cells, 97L * s->n);
        if (every)
            assert_true(r[0].replaced < replaced_at_origin);
        replaced_at_origin = r[0].replaced;
        for (int q = 0; q < 2; q++)
            a5_fc_result_free(&r[q]);
    }
    free(obs);
    a5_scenario_free(s);
}

/* The synthetic test: true worlds are replicates of the default scenario on streams
 * the forecast never uses, each with its own drawn weights and its own history;
 * only their policies are observed (year ends up to the origin, 2021Q4). After
 * state replacement, the hidden installed high-risk shares at the origin are
 * closer to the truth than the free run's, and within the ensemble's spread; and
 * the forecasts of the held-out policies a year later score better than the free
 * run's and than smoothed no change (in worlds the model made, the scores must be
 * able to show its skill). Differences are paired over worlds with their standard
 * errors. */
static void test_recovers_hidden_state(void **state)
{
    (void)state;
    a5_scenario *s = huawei();
    const int W = 16, origin = 11, horizon = 4, n = s->n;
    double dh_sum = 0, dh_sq = 0, db_sum = 0, db_sq = 0, cover = 0, cells = 0, ea_sum = 0,
           ba_sum = 0, dn_sum = 0, dn_sq = 0;
    double *ht = malloc((size_t)n * sizeof *ht);
    int *yl = malloc((size_t)n * sizeof *yl);
    for (int wld = 0; wld < W; wld++) {
        size_t nobs;
        a5_obs *obs = truth(s, 700000 + wld, origin + horizon, origin, origin, ht, yl, &nobs);
        a5_fc_opts o = {.replicates = 300, .threads = 2, .horizon = horizon};
        a5_fc_result r;
        char err[256];
        assert_int_equal(a5_fc_run(s, obs, nobs, origin, &o, &r, err, sizeof err), 0);
        double ea = 0, ef = 0, ba = 0, bf = 0, bn = 0;
        const double *pa = r.p + (size_t)(horizon - 1) * (size_t)n * 3,
                     *pf = r.p_free + (size_t)(horizon - 1) * (size_t)n * 3;
        for (int i = 0; i < n; i++) {
            ea += fabs(r.h_assim[i] - ht[i]);
            ef += fabs(r.h_free[i] - ht[i]);
            cover += fabs(r.h_assim[i] - ht[i]) <= 3 * r.h_sd[i] + 1e-3;
            cells++;
            double nc[3], tr[3];
            a5_fc_baselines(s, obs, nobs, origin, r.at_origin[i], 1, 0.5, nc, tr);
            for (int k = 0; k < 3; k++) {
                bn += (nc[k] - (k == yl[i])) * (nc[k] - (k == yl[i]));
                ba += (pa[3 * i + k] - (k == yl[i])) * (pa[3 * i + k] - (k == yl[i]));
                bf += (pf[3 * i + k] - (k == yl[i])) * (pf[3 * i + k] - (k == yl[i]));
            }
        }
        const double dh = (ef - ea) / n, db = (bf - ba) / n;
        ea_sum += ea / n;
        ba_sum += ba / n;
        const double dn = (bn - ba) / n;
        dn_sum += dn;
        dn_sq += dn * dn;
        dh_sum += dh;
        dh_sq += dh * dh;
        db_sum += db;
        db_sq += db * db;
        a5_fc_result_free(&r);
        free(obs);
    }
    const double mh = dh_sum / W, sh = sqrt((dh_sq / W - mh * mh) / (W - 1));
    const double mb = db_sum / W, sb = sqrt((db_sq / W - mb * mb) / (W - 1));
    printf("hidden share: mean abs error assimilated %.4f, free - assimilated %.4f (se %.4f); "
           "held-out Brier assimilated %.4f, free - assimilated %.4f (se %.4f); truth within 3 sd "
           "of the ensemble %.1f %%\n", ea_sum / W, mh, sh, ba_sum / W, mb, sb,
           100 * cover / cells);
    const double mn = dn_sum / W, sn = sqrt((dn_sq / W - mn * mn) / (W - 1));
    printf("smoothed no change - assimilated model, Brier: %.4f (se %.4f)\n", mn, sn);
    assert_true(mh > 3 * sh);
    assert_true(mn > 2 * sn); /* where the model is right, the scores can show it */
    assert_true(mb > 3 * sb);
    assert_true(cover / cells > 0.9);
    free(ht);
    free(yl);
    a5_scenario_free(s);
}

/* The baselines by hand: two nations, initial policies open and open; observed at
 * 2019Q4 open and ban, at 2020Q4 open and ban. At origin 2020Q4: annual pairs
 * (initial, 2019Q4) x 2 and (2019Q4, 2020Q4) x 2: 1 moved of 4. */
static void test_baselines(void **state)
{
    (void)state;
    static const char text[] =
        "name: b\nstart: 2019Q1\nsteps: 12\nreplicates: 10\nseed: 1\n"
        "vendors: [{name: H, price: 0.8, high_risk: true}, {name: E, price: 1.0}]\n"
        "nations:\n  - {code: A}\n  - {code: B}\n";
    a5_diag d = {0};
    a5_scenario *s = NULL;
    assert_int_equal(a5_scenario_parse(text, sizeof text - 1, "b.yaml", NULL, 0, &d, &s), 0);
    a5_obs obs[] = {{0, 3, 0, 1}, {1, 3, 2, 2}, {0, 7, 0, 3}, {1, 7, 2, 4}};
    double nc[3], tr[3];
    a5_fc_baselines(s, obs, 4, 7, A5_OPEN, 1, 0.5, nc, tr);
    const double e = 1.5 / 5;
    assert_true(fabs(nc[0] - (1 - e)) < 1e-12 && fabs(nc[1] - e / 2) < 1e-12);
    /* Transitions from open: 2 to open, 1 to ban: (2.5, 0.5, 1.5) / 4.5. */
    assert_true(fabs(tr[0] - 2.5 / 4.5) < 1e-12 && fabs(tr[2] - 1.5 / 4.5) < 1e-12);
    a5_fc_baselines(s, obs, 4, 7, A5_OPEN, 2, 0.5, nc, tr);
    assert_true(fabs(nc[0] - (1 - e) * (1 - e)) < 1e-12);
    /* Two years of the chain: from ban (row 0.5, 0.5, 1.5) / 2.5. */
    const double ob = 2.5 / 4.5 * 1.5 / 4.5 + 0.5 / 4.5 * 0.5 / 1.5 + 1.5 / 4.5 * 1.5 / 2.5;
    assert_true(fabs(tr[2] - ob) < 1e-12);
    /* Scores: a row that moved, the model sure of it, the free run not. */
    a5_fc_row rows[2] = {{.origin = 7, .step = 11, .observed = 2, .at_origin = 0},
                         {.origin = 7, .step = 11, .observed = 0, .at_origin = 0}};
    rows[0].p[A5_FC_MODEL][2] = 1;
    rows[0].p[A5_FC_FREE][0] = 1;
    rows[1].p[A5_FC_MODEL][0] = 1;
    rows[1].p[A5_FC_FREE][0] = 1;
    a5_fc_score sc;
    a5_fc_score_rows(rows, 2, A5_FC_MODEL, 1, 1e-3, &sc);
    assert_int_equal(sc.n, 1);
    assert_true(sc.brier == 0);
    a5_fc_score_rows(rows, 2, A5_FC_FREE, 0, 1e-3, &sc);
    assert_true(fabs(sc.brier - 1.0) < 1e-15 && fabs(sc.logscore - log(1e-3) / 2) < 1e-12);
    size_t pairs;
    assert_true(a5_fc_auc(rows, 2, A5_FC_MODEL, &pairs, NULL) == 1.0 && pairs == 1);
    assert_true(a5_fc_auc(rows, 2, A5_FC_FREE, &pairs, NULL) == 0.5);
    /* DeLong's std.err by hand: movers at 0.9 and 0.2, stayers at 0.5 and 0.1 (scores
     * 1 - p(open)): AUC 3/4; mover means 1 and 1/2, stayer means 1/2 and 1. */
    a5_fc_row four[4];
    const double score[4] = {0.9, 0.2, 0.5, 0.1};
    for (int q = 0; q < 4; q++) {
        four[q] = (a5_fc_row){.origin = 7, .step = 11, .observed = q < 2 ? 2 : 0, .at_origin = 0};
        four[q].p[A5_FC_MODEL][0] = 1 - score[q];
    }
    double se;
    assert_true(fabs(a5_fc_auc(four, 4, A5_FC_MODEL, &pairs, &se) - 0.75) < 1e-12 && pairs == 4);
    assert_true(fabs(se - sqrt(0.125)) < 1e-12);
    a5_diag_free(&d);
    a5_scenario_free(s);
}

/* `known:`: default its `at`; the view at an origin keeps the events known there;
 * bad values are located errors. */
static void test_known(void **state)
{
    (void)state;
    static const char head[] =
        "name: k\nstart: 2019Q1\nsteps: 12\nreplicates: 10\nseed: 1\n"
        "vendors: [{name: H, price: 0.8, high_risk: true}, {name: E, price: 1.0}]\n"
        "nations:\n  - {code: A}\nevents:\n";
    static const struct {
        const char *ev, *msg;
    } cases[] = {
        {"  - {at: 2020Q1, known: 2020Q9, set: {us.intel_threat: 0.1}}\n", "quarter label"},
        {"  - {at: 2020Q1, known: 2030Q1, set: {us.intel_threat: 0.1}}\n", "after the run's end"},
        {"  - {hazard: 0.1, known: 2020Q1, set: {us.intel_threat: 0.1}}\n", "hazard event"},
        {"  - {at: 2020Q1, known: [1], set: {us.intel_threat: 0.1}}\n", "quarter label"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char text[1024];
        int len = snprintf(text, sizeof text, "%s%s", head, cases[c].ev);
        a5_diag d = {0};
        a5_scenario *s = NULL;
        assert_int_equal(a5_scenario_parse(text, (size_t)len, "k.yaml", NULL, 0, &d, &s),
                         A5_ESCENARIO);
        char *out = NULL;
        size_t olen = 0;
        FILE *f = open_memstream(&out, &olen);
        a5_diag_print(&d, f);
        fclose(f);
        assert_non_null(strstr(out, "k.yaml:10:"));
        assert_non_null(strstr(out, cases[c].msg));
        free(out);
        a5_diag_free(&d);
    }
    char text[1024];
    int len = snprintf(text, sizeof text, "%s%s", head,
                       "  - {at: 2020Q1, set: {us.intel_threat: 0.1}}\n"
                       "  - {at: 2020Q3, known: 2019Q2, set: {us.intel_threat: 0.2}}\n"
                       "  - {at: 2019Q2, known: 2020Q4, set: {us.intel_threat: 0.3}}\n"
                       "  - {hazard: 0.1, add: {us.intel_threat: 0.01}}\n"
                       "  - {at: 2019Q1, known: 2018Q3, set: {us.intel_threat: 0.4}}\n");
    a5_diag d = {0};
    a5_scenario *s = NULL;
    assert_int_equal(a5_scenario_parse(text, (size_t)len, "k.yaml", NULL, 0, &d, &s), 0);
    assert_int_equal(s->events[0].known, 4);
    assert_int_equal(s->events[1].known, 1);
    assert_int_equal(s->events[2].known, 7);
    assert_int_equal(s->events[4].known, -2);
    a5_scenario v;
    a5_event *keep;
    assert_int_equal(a5_fc_view(s, 3, &v, &keep), 0); /* 2019Q4 */
    assert_int_equal(v.nevents, 3);
    assert_true(v.events[0].at == 6 && v.events[1].hazard == 0.1 && v.events[2].at == 0);
    free(keep);
    assert_int_equal(a5_fc_view(s, 7, &v, &keep), 0);
    assert_int_equal(v.nevents, 5);
    free(keep);
    a5_diag_free(&d);
    a5_scenario_free(s);
}

/* The view at an origin: attention events after it are left out, and window cells
 * count only where a window covering them was known by it (its `known` date). */
static void test_view_timing(void **state)
{
    (void)state;
    char dir[] = "/tmp/a5fcviewXXXXXX";
    assert_non_null(mkdtemp(dir));
    char csv[1100], yml[1100];
    snprintf(csv, sizeof csv, "%s/w.csv", dir);
    snprintf(yml, sizeof yml, "%s/k.yaml", dir);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    /* A: 2019Q3-2019Q4 known 2019Q1; B: 2020Q2 known 2020Q1; A again at 2020Q2, known
     * 2019Q2 (a cell covered by two windows: the earlier known date counts). */
    fputs("code,start,end,known,kind,source\n"
          "A,2019-07-01,2019-12-31,2019-01-15,auction,https://example.org/1\n"
          "B,2020-04-01,2020-06-30,2020-01-29,deadline,https://example.org/2\n"
          "A,2020-04-01,2020-06-30,2020-02-01,election,https://example.org/3\n"
          "A,2020-05-01,2020-05-31,2019-05-01,review,https://example.org/4\n",
          f);
    fclose(f);
    static const char text[] =
        "name: k\nstart: 2019Q1\nsteps: 12\nreplicates: 10\nseed: 1\n"
        "vendors: [{name: H, price: 0.8, high_risk: true}, {name: E, price: 1.0}]\n"
        "nations:\n  - {code: A}\n  - {code: B}\n"
        "windows: {file: w.csv, hazard_boost: 0.5}\n"
        "attention: {events: [{at: 2019Q2, salience: 1}, {at: 2020Q1, salience: 2}], weight: 0.5}\n";
    a5_diag d = {0};
    a5_scenario *s = NULL;
    assert_int_equal(a5_scenario_parse(text, sizeof text - 1, yml, NULL, 0, &d, &s), 0);
    a5_scenario v;
    a5_event *keep;
    /* 2019Q4 (step 3): the 2020Q1 attention event and B's 2020Q2 window (known 2020Q1)
     * are not known yet; A's 2020Q2 cell is, by its 2019Q2 row. */
    assert_int_equal(a5_fc_view(s, 3, &v, &keep), 0);
    assert_int_equal(v.nattention, 1);
    assert_true(v.att_step[0] == 1 && v.att_salience[0] == 1);
    assert_true(v.window[2 * 2 + 0] && v.window[3 * 2 + 0]); /* A, 2019Q3-Q4 */
    assert_true(v.window[5 * 2 + 0] && !v.window[5 * 2 + 1]); /* 2020Q2: A known, B not */
    assert_true(s->window[5 * 2 + 1]);                        /* in the scenario itself */
    free(keep);
    /* 2020Q1 (step 4): both attention events, and B's window. */
    assert_int_equal(a5_fc_view(s, 4, &v, &keep), 0);
    assert_int_equal(v.nattention, 2);
    assert_true(v.window[5 * 2 + 0] && v.window[5 * 2 + 1]);
    assert_memory_equal(v.window, s->window, (size_t)s->steps * (size_t)s->n);
    free(keep);
    a5_diag_free(&d);
    a5_scenario_free(s);
    remove(csv);
    remove(dir);
}

/* Past the run's end, and two observations at the origin that disagree: errors. */
static void test_refusals(void **state)
{
    (void)state;
    a5_scenario *s = huawei();
    a5_fc_opts o = {.replicates = 4, .horizon = 8};
    a5_fc_result r;
    char err[256];
    assert_int_equal(a5_fc_run(s, NULL, 0, 23, &o, &r, err, sizeof err), A5_ESCENARIO);
    assert_non_null(strstr(err, "--set steps=32"));
    a5_obs two[] = {{1, 3, 0, 7}, {1, 3, 2, 8}};
    assert_int_equal(a5_fc_run(s, two, 2, 3, &o, &r, err, sizeof err), A5_ESCENARIO);
    assert_non_null(strstr(err, "line 8: GBR at 2019Q4"));
    a5_scenario_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_replacement_same_bits),
        cmocka_unit_test(test_threads_same_bits),
        cmocka_unit_test(test_recovers_hidden_state),
        cmocka_unit_test(test_baselines),
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_view_timing),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
