/* Model: exact invariants for degenerate parameters, closed forms, choice
 * frequencies against softmax probabilities computed here from docs/model.md, and
 * every allocation of the model's set-up failed in turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_error.h"
#include "a5_mem.h"
#include "a5_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static a5_scenario *parse(const char *text)
{
    a5_diag d = {0};
    a5_scenario *s = NULL;
    if (a5_scenario_parse(text, strlen(text), "t.yaml", NULL, 0, &d, &s)) {
        a5_diag_print(&d, stderr);
        fail_msg("scenario did not load");
    }
    a5_diag_free(&d);
    return s;
}

typedef struct {
    a5_scenario *s;
    a5_model *m;
    a5_work *w;
    gsl_rng *g;
    double *x, *cost, *risk;
} fixture;

static void setup(fixture *f, const char *text)
{
    f->s = parse(text);
    f->m = a5_model_alloc(f->s);
    f->w = a5_model_work_alloc(f->m);
    f->g = a5_rng_alloc();
    f->x = a5_model_work_x(f->w);
    f->cost = calloc((size_t)f->s->n, sizeof(double));
    f->risk = calloc((size_t)f->s->n, sizeof(double));
    assert_non_null(f->m);
    assert_non_null(f->w);
}

static void teardown(fixture *f)
{
    free(f->cost);
    free(f->risk);
    gsl_rng_free(f->g);
    a5_model_work_free(f->w);
    a5_model_free(f->m);
    a5_scenario_free(f->s);
}

#define SLOT(f, attr, i) (f)->x[a5_param_nslot(attr, i, (f)->s->n)]

/* Count one-step choices of nation i over `reps` replicates. */
static void count_choices(fixture *f, int i, long reps, long counts[3])
{
    counts[0] = counts[1] = counts[2] = 0;
    for (long r = 0; r < reps; r++) {
        a5_rng_state *rs = a5_rng_state_of(f->g);
        a5_model_init(f->m, 0, r, f->x, rs);
        a5_model_step(f->m, f->x, 0, rs, f->w, f->cost, f->risk);
        counts[(int)SLOT(f, A5_N_POLICY, i)]++;
    }
}

static void assert_freq(const long counts[3], long reps, const double p[3])
{
    for (int k = 0; k < 3; k++) {
        double se = sqrt(p[k] * (1 - p[k]) / (double)reps);
        double f = (double)counts[k] / (double)reps;
        if (fabs(f - p[k]) > 4 * se + 1e-12)
            fail_msg("option %d: frequency %.4f, probability %.4f, 4 SE = %.4f", k, f, p[k], 4 * se);
    }
}

static void test_rationality_zero_is_uniform(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "decision: {rationality: 0}\ndefaults: {review_rate: 1}\n"
              "nations: [{code: A, threat: 0.9, high_risk_share: 0.5}, {code: B}]\n");
    long c[3];
    count_choices(&f, 0, 30000, c);
    const double p[3] = {1. / 3, 1. / 3, 1. / 3};
    assert_freq(c, 30000, p);
    teardown(&f);
}

static void test_review_zero_changes_no_policy(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "steps: 30\ndefaults: {review_rate: 0}\n"
              "nations: [{code: A, policy: restrict}, {code: B, policy: ban}, {code: C}]\n"
              "uncertain: {nations.*.threat: {dist: uniform, lo: 0, hi: 1}}\n");
    for (long r = 0; r < 50; r++) {
        a5_rng_state *rs = a5_rng_state_of(f.g);
        a5_model_init(f.m, 0, r, f.x, rs);
        for (int t = 0; t < 30; t++) {
            a5_model_step(f.m, f.x, t, rs, f.w, f.cost, f.risk);
            assert_true(SLOT(&f, A5_N_POLICY, 0) == 1);
            assert_true(SLOT(&f, A5_N_POLICY, 1) == 2);
            assert_true(SLOT(&f, A5_N_POLICY, 2) == 0);
        }
    }
    teardown(&f);
}

static void test_single_nation_has_no_peer_term(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "peers: {base_tie: 2}\nnations: [{code: A, blocs: [x, y], influence: 3, policy: restrict}]\n");
    a5_model_init(f.m, 0, 0, f.x, a5_rng_state_of(f.g));
    double U1[3], U0[3];
    a5_model_prepare(f.m, f.x, f.w);
    f.x[A5_G_W_PEER] = 5;
    a5_model_utility(f.m, f.x, f.w, 0, U1);
    f.x[A5_G_W_PEER] = 0;
    a5_model_utility(f.m, f.x, f.w, 0, U0);
    for (int k = 0; k < 3; k++)
        assert_true(U1[k] == U0[k]);
    teardown(&f);
}

static void test_peer_term_matches_naive(void **state)
{
    (void)state;
    /* 40 nations, random blocs, policies and influence; compare with O(N^2). */
    char text[16384];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "peers: {base_tie: 0.3}\nnations:\n");
    const char *blocs[] = {"a", "b", "c", "d", "e"};
    const char *pol[] = {"open", "restrict", "ban"};
    unsigned seed = 7;
    int mask[40];
    for (int i = 0; i < 40; i++) {
        seed = seed * 1103515245u + 12345u;
        mask[i] = (int)((seed >> 8) % 32);
        n += (size_t)snprintf(text + n, sizeof text - n, "  - {code: N%d, influence: %.2f, policy: %s, blocs: [",
                              i, (double)((seed >> 4) % 100) / 25.0, pol[(seed >> 16) % 3]);
        int first = 1;
        for (int b = 0; b < 5; b++)
            if (mask[i] & (1 << b)) {
                n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", first ? "" : ", ", blocs[b]);
                first = 0;
            }
        n += (size_t)snprintf(text + n, sizeof text - n, "]}\n");
    }
    fixture f;
    setup(&f, text);
    a5_model_init(f.m, 0, 0, f.x, a5_rng_state_of(f.g));
    a5_model_prepare(f.m, f.x, f.w);
    for (int i = 0; i < 40; i++) {
        double num[3] = {0, 0, 0}, den = 0;
        for (int j = 0; j < 40; j++) {
            if (j == i)
                continue;
            double wij = __builtin_popcount((unsigned)(mask[i] & mask[j])) + 0.3;
            double g = SLOT(&f, A5_N_INFLUENCE, j);
            num[(int)SLOT(&f, A5_N_POLICY, j)] += wij * g;
            den += wij * g;
        }
        double U1[3], U0[3];
        f.x[A5_G_W_PEER] = 1;
        a5_model_utility(f.m, f.x, f.w, i, U1);
        f.x[A5_G_W_PEER] = 0;
        a5_model_utility(f.m, f.x, f.w, i, U0);
        for (int k = 0; k < 3; k++) {
            double want = den > 0 ? num[k] / den : 0;
            assert_true(fabs((U1[k] - U0[k]) - want) < 1e-12);
        }
    }
    teardown(&f);
}

static void test_installed_base_and_pressure_closed_form(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "steps: 20\npolicy: {phase_out_steps: 4}\nmarket: {renewal: 0.1}\n"
              "us: {pressure: 0.1, escalation: 0.07, max_pressure: 0.9}\n"
              "defaults: {review_rate: 0}\n"
              "nations: [{code: B, policy: ban, high_risk_share: 0.6},\n"
              "          {code: O, policy: open, high_risk_share: 0.2, threat: 0.3}]\n");
    a5_rng_state *rs = a5_rng_state_of(f.g);
    a5_model_init(f.m, 0, 0, f.x, rs);
    /* Natural share for O: D = (1 - 0.8)/1 = 0.2, sigma = 0, omega = 1, gamma = 5. */
    double xo = 1 / (1 + exp(-5 * (0.2 - 0 - 1 * 0.3)));
    double ho = 0.2;
    for (int t = 0; t < 20; t++) {
        a5_model_step(f.m, f.x, t, rs, f.w, f.cost, f.risk);
        double hb = 0.6 * pow(0.9 * 0.75, t + 1); /* h' = 0.9 h, minus h'/L */
        ho = 0.9 * ho + 0.1 * xo;
        assert_true(fabs(SLOT(&f, A5_N_HIGH_RISK_SHARE, 0) - hb) < 1e-12);
        assert_true(fabs(SLOT(&f, A5_N_HIGH_RISK_SHARE, 1) - ho) < 1e-12);
        assert_true(SLOT(&f, A5_N_US_PRESSURE, 0) == 0.1);
        assert_true(fabs(SLOT(&f, A5_N_US_PRESSURE, 1) - fmin(0.9, 0.1 + 0.07 * (t + 1))) < 1e-12);
    }
    teardown(&f);
}

static void run_policy_trace(const char *text, int8_t *trace, int steps, int n)
{
    fixture f;
    setup(&f, text);
    a5_rng_state *rs = a5_rng_state_of(f.g);
    a5_model_init(f.m, 0, 3, f.x, rs);
    for (int t = 0; t < steps; t++) {
        a5_model_step(f.m, f.x, t, rs, f.w, f.cost, f.risk);
        for (int i = 0; i < n; i++)
            trace[t * n + i] = (int8_t)SLOT(&f, A5_N_POLICY, i);
    }
    teardown(&f);
}

static void test_event_label_equals_index(void **state)
{
    (void)state;
    int8_t a[24], b[24];
    run_policy_trace("start: 2019Q2\nsteps: 12\ndefaults: {review_rate: 0}\nnations: [{code: A}, {code: B}]\n"
                     "events: [{at: 2020Q1, set: {nations.B.policy: ban}}]\n", a, 12, 2);
    run_policy_trace("start: 2019Q2\nsteps: 12\ndefaults: {review_rate: 0}\nnations: [{code: A}, {code: B}]\n"
                     "events: [{at: 3, set: {nations.B.policy: ban}}]\n", b, 12, 2);
    assert_memory_equal(a, b, sizeof a);
    for (int t = 0; t < 12; t++) {
        assert_int_equal(a[t * 2 + 0], 0);
        assert_int_equal(a[t * 2 + 1], t >= 3 ? 2 : 0); /* forced at step 3, recorded from row 3 */
    }
}

static void test_hazard_zero_and_one(void **state)
{
    (void)state;
    for (int h = 0; h <= 1; h++) {
        char text[512];
        snprintf(text, sizeof text, "steps: 15\nnations: [{code: A, threat: 0.2}]\n"
                                    "events: [{hazard: %d, add: {nations.A.threat: 0.1}}]\n", h);
        fixture f;
        setup(&f, text);
        for (long r = 0; r < 20; r++) {
            a5_rng_state *rs = a5_rng_state_of(f.g);
            a5_model_init(f.m, 0, r, f.x, rs);
            for (int t = 0; t < 15; t++) {
                a5_model_step(f.m, f.x, t, rs, f.w, f.cost, f.risk);
                double want = h ? fmin(1.0, 0.2 + 0.1 * (t + 1)) : 0.2;
                assert_true(fabs(SLOT(&f, A5_N_THREAT, 0) - want) < 1e-12);
            }
        }
        teardown(&f);
    }
}

/* U_i(k) for a lone nation (no peers) straight from docs/model.md. */
static void reference_utility(double D, double sigma, double theta, double R, double kappa,
                              double psi, double zeta, double nu, double gamma, double omega,
                              const double w[7], double b, double m, double r, double a, double d,
                              double c, double h, double P, int s, int home, double U[3])
{
    double cap[3] = {1, kappa, 0}, phi[3] = {0, psi, 1}, core[3] = {1, 0, 0};
    double x = 1 / (1 + exp(-gamma * (D - sigma - omega * r)));
    double H = fmax(h, x);
    for (int k = 0; k < 3; k++) {
        double C = b * (D * fmax(0, x - cap[k]) + zeta * fmax(0, h - cap[k]));
        double S = r * (1 + sigma) * (1 - m) * (core[k] + nu * fmin(H, cap[k]));
        double A = (a * P + d * theta) * (1 - phi[k]);
        double Q = c * R * phi[k];
        U[k] = -w[0] * C - w[1] * S - w[2] * A - w[3] * Q + w[5] * (k == s) + w[6] * home * phi[k];
    }
}

static void test_choice_frequencies_match_softmax(void **state)
{
    (void)state;
    struct {
        double lambda, h, P, r, m;
        int s, home;
    } cases[] = {{4, 0.5, 0.3, 0.6, 0.2, 0, 0}, {1, 0.1, 0.8, 0.3, 0.7, 1, 1}, {10, 0.3, 0.5, 0.5, 0.5, 2, 0}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char text[2048];
        const char *pn[] = {"open", "restrict", "ban"};
        snprintf(text, sizeof text,
                 "decision: {rationality: %g, weights: {cost: 1.3, risk: 0.9, us: 1.1, china: 0.7, peer: 1, inertia: 0.4, home: 0.6}}\n"
                 "vendors: [{name: H, price: 0.7, high_risk: true}, {name: E, price: 1.0}]\n"
                 "risk: {supply_risk: 0.2, ran_weight: 0.5}\nus: {intel_threat: 0.3}\n"
                 "china: {retaliation: 0.2, escalation: 0.3}\n"
                 "nations: [{code: A, review_rate: 1, policy: %s, high_risk_share: %g, us_pressure: %g,\n"
                 "           threat: %g, mitigation: %g, home_vendor: %s, intel: 0.6, us_ties: 0.7,\n"
                 "           china_trade: 0.4, cost_sensitivity: 0.8}]\n",
                 cases[c].lambda, pn[cases[c].s], cases[c].h, cases[c].P, cases[c].r, cases[c].m,
                 cases[c].home ? "true" : "false");
        fixture f;
        setup(&f, text);
        const double w[7] = {1.3, 0.9, 1.1, 0.7, 1, 0.4, 0.6};
        double phi_s = cases[c].s == 0 ? 0 : cases[c].s == 1 ? 0.5 : 1;
        double R = 0.2 + 0.3 * phi_s, U[3], p[3];
        reference_utility(0.3, 0.2, 0.3, R, 0.35, 0.5, 1, 0.5, 5, 1, w, 0.8, cases[c].m, cases[c].r,
                          0.7, 0.6, 0.4, cases[c].h, cases[c].P, cases[c].s, cases[c].home, U);
        double mx = fmax(U[0], fmax(U[1], U[2])), sum = 0;
        for (int k = 0; k < 3; k++)
            sum += p[k] = exp(cases[c].lambda * (U[k] - mx));
        for (int k = 0; k < 3; k++)
            p[k] /= sum;
        long counts[3];
        count_choices(&f, 0, 40000, counts);
        assert_freq(counts, 40000, p);
        teardown(&f);
    }
}

static void test_softmax_is_stable(void **state)
{
    (void)state;
    const double big[][3] = {{1e300, -1e300, 0}, {1e6, 1e6, 1e6}, {-1e308, -1e308, -1e308}, {0, 0, 0}};
    const double lambdas[] = {0, 1, 1e6, 1e300};
    for (size_t a = 0; a < 4; a++)
        for (size_t l = 0; l < 4; l++) {
            double p[3];
            a5_model_choice_probs(lambdas[l], big[a], p);
            double s = 0;
            for (int k = 0; k < 3; k++) {
                assert_true(isfinite(p[k]) && p[k] >= 0);
                s += p[k];
            }
            assert_true(fabs(s - 1) < 1e-12);
        }
    double p[3];
    const double U[3] = {1, 2, 3};
    a5_model_choice_probs(0, U, p);
    for (int k = 0; k < 3; k++)
        assert_true(fabs(p[k] - 1.0 / 3) < 1e-15);
}

/* The softmax's own exp: within 2 ulp of libm's over its whole range, exactly 1 at
 * 0, exactly 0 below -708, and never more than 1. */
static void test_exp_accuracy(void **state)
{
    (void)state;
    assert_true(a5_model_exp(0.0) == 1.0);
    assert_true(a5_model_exp(-709.0) == 0.0);
    assert_true(a5_model_exp(-1e300) == 0.0);
    double worst = 0;
    unsigned s = 3;
    for (int i = 0; i < 2000000; i++) {
        s = s * 1664525u + 1013904223u;
        /* Half spread over [-708, 0], half over [-1, 0] where most arguments lie. */
        double u = (s >> 8) / 16777216.0;
        double x = i % 2 ? -708.0 * u : -u;
        double want = exp(x), got = a5_model_exp(x);
        double ulps = fabs(got - want) / (nextafter(want, INFINITY) - want);
        worst = ulps > worst ? ulps : worst;
        assert_true(got <= 1.0);
    }
    printf("exp: worst error %.2f ulp\n", worst);
    assert_true(worst <= 2.0);
}

static void test_replicate_is_deterministic(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "steps: 10\nnations: [{code: A}, {code: B, blocs: [x]}, {code: C, blocs: [x]}]\n"
              "events: [{hazard: 0.3, add: {nations.*.threat: 0.05}}]\n"
              "uncertain: {decision.weights.risk: {dist: lognormal, mu: 0, sigma: 0.3}}\n");
    a5_records rec;
    int8_t pol[2][30], fin[2][3];
    float h[2][30], P[2][30], cc[2][3], cr[2][3];
    int16_t fb[2][3], fr[2][3];
    for (int run = 0; run < 2; run++) {
        rec = (a5_records){.policy = pol[run], .h = h[run], .P = P[run], .first_ban = fb[run], .final_policy = fin[run], .cum_cost = cc[run], .cum_risk = cr[run], .first_restrict = fr[run]};
        a5_model_run(f.m, 0, 17, f.w, &rec, 0);
    }
    assert_memory_equal(pol[0], pol[1], sizeof pol[0]);
    assert_memory_equal(fr[0], fr[1], sizeof fr[0]);
    /* The first steps at ban, and at restrict or ban, are read off the policy rows. */
    for (int i = 0; i < 3; i++) {
        int want_b = -1, want_r = -1;
        for (int t = 9; t >= 0; t--) {
            want_b = pol[0][t * 3 + i] == A5_BAN ? t : want_b;
            want_r = pol[0][t * 3 + i] >= A5_RESTRICT ? t : want_r;
        }
        assert_int_equal(fb[0][i], want_b);
        assert_int_equal(fr[0][i], want_r);
    }
    assert_memory_equal(h[0], h[1], sizeof h[0]);
    assert_memory_equal(cc[0], cc[1], sizeof cc[0]);
    teardown(&f);
}

/* Each allocation of a5_model_alloc + a5_model_work_alloc fails in turn: the one
 * that fails returns NULL, nothing crashes, nothing leaks (the sanitizer build's
 * leak checker fails the test otherwise). Then a5_model_override's ENOMEM. */
static void test_allocation_failures(void **state)
{
    (void)state;
    a5_scenario *s = parse("steps: 6\nnations: [{code: A, blocs: [x, y]}, {code: B, blocs: [x]}, {code: C}]\n"
                           "events: [{at: 2, set: {nations.A.policy: ban}},\n"
                           "         {hazard: 0.5, add: {nations.*.threat: 0.05}}]\n"
                           "uncertain: {nations.B.us_pressure: {dist: uniform, lo: 0, hi: 1}}\n");
    a5_mem_fail_at(0);
    a5_model *m = a5_model_alloc(s);
    a5_work *w = m ? a5_model_work_alloc(m) : NULL;
    const long count = a5_mem_fail_at(0);
    assert_non_null(m);
    assert_non_null(w);
    a5_model_work_free(w);
    a5_model_free(m);
    printf("model set-up: %ld allocations\n", count);
    assert_true(count >= 10); /* the hook sees them: a model and its scratch need more */
    for (long k = 1; k <= count; k++) {
        a5_mem_fail_at(k);
        m = a5_model_alloc(s);
        w = m ? a5_model_work_alloc(m) : NULL;
        const long made = a5_mem_fail_at(0);
        if (w)
            fail_msg("allocation %ld of %ld failed, yet the set-up succeeded", k, count);
        assert_true(made >= k);
        a5_model_work_free(w);
        a5_model_free(m);
    }
    /* After all that, a set-up still works and runs. */
    m = a5_model_alloc(s);
    assert_non_null(m);
    const size_t slot = a5_param_nslot(A5_N_MITIGATION, 0, s->n); /* no event changes it */
    const double value = 0.4;
    a5_mem_fail_at(1);
    assert_int_equal(a5_model_override(m, 1, &slot, &value), A5_ENOMEM);
    a5_mem_fail_at(2);
    assert_int_equal(a5_model_override(m, 1, &slot, &value), A5_ENOMEM);
    a5_mem_fail_at(0);
    assert_int_equal(a5_model_override(m, 1, &slot, &value), 0);
    w = a5_model_work_alloc(m);
    assert_non_null(w);
    int8_t pol[18], fin[3];
    float h[18], cc[3], cr[3];
    int16_t fb[3];
    a5_records rec = {.policy = pol, .h = h, .first_ban = fb, .final_policy = fin, .cum_cost = cc, .cum_risk = cr};
    assert_int_equal(a5_model_run(m, 0, 3, w, &rec, 0), 0);
    assert_true(a5_model_work_x(w)[slot] == 0.4);
    a5_model_work_free(w);
    a5_model_free(m);
    a5_scenario_free(s);
}

/* Each utility term of docs/model.md ("Utility") alone (its weight 1, every other
 * weight 0), computed here from the formulas with this world's numbers, not from
 * model_terms.h: cost C, risk S, US A, China Q, home, inertia (the peer term is
 * test_peer_term_matches_naive). Nation A is open; B bans. */
static void test_utility_terms_by_hand(void **state)
{
    (void)state;
    static const char *const wname[6] = {"cost", "risk", "us", "china", "home", "inertia"};
    const char *world =
        "vendors:\n  - {name: H, price: 0.8, high_risk: true}\n  - {name: T, price: 1.0}\n"
        "market: {price_elasticity: 5, operator_risk_weight: 1, replace_cost: 1.5}\n"
        "risk: {ran_weight: 0.5, supply_risk: 0.1}\n"
        "policy: {restrict_cap: 0.35, restrict_compliance: 0.5}\n"
        "us: {pressure: 0.2, intel_threat: 0.4}\n"
        "china: {retaliation: 0.3, escalation: 0.8}\n"
        "nations:\n"
        "  - {code: A, threat: 0.6, mitigation: 0.3, high_risk_share: 0.5, cost_sensitivity: 0.7,\n"
        "     us_ties: 0.8, intel: 0.9, china_trade: 0.4, home_vendor: true, us_pressure: 0.6}\n"
        "  - {code: B, policy: ban}\n";
    /* By hand: D = (1 - 0.8) / 1; x = 1 / (1 + e^(-5 (D - 0.1 - 1 * 0.6))); H = max(h, x);
     * R = 0.3 + 0.8 (0 * 0.5 + 1) / 2. */
    const double D = 0.2, x = 1 / (1 + exp(-5 * (D - 0.1 - 0.6))), h = 0.5, H = h > x ? h : x;
    const double cap[3] = {1, 0.35, 0}, phi[3] = {0, 0.5, 1}, core[3] = {1, 0, 0};
    const double R = 0.3 + 0.8 * (0 * 0.5 + 1) / 2.0;
    for (int term = 0; term < 6; term++) {
        char text[2048], weights[160] = "";
        for (int q = 0; q < 6; q++)
            snprintf(weights + strlen(weights), sizeof weights - strlen(weights), "%s%s: %d",
                     q ? ", " : "", wname[q], q == term);
        snprintf(text, sizeof text, "decision: {weights: {%s, peer: 0}}\n%s", weights, world);
        fixture f;
        setup(&f, text);
        a5_model_init(f.m, 0, 0, f.x, a5_rng_state_of(f.g));
        a5_model_prepare(f.m, f.x, f.w);
        double U[3];
        a5_model_utility(f.m, f.x, f.w, 0, U);
        for (int k = 0; k < 3; k++) {
            const double a = x - cap[k] > 0 ? x - cap[k] : 0, e = h - cap[k] > 0 ? h - cap[k] : 0;
            const double want[6] = {
                -(0.7 * (D * a + 1.5 * e)),                                          /* C */
                -(0.6 * 1.1 * 0.7 * (core[k] + 0.5 * (H < cap[k] ? H : cap[k]))),  /* S */
                -((0.8 * 0.6 + 0.9 * 0.4) * (1 - phi[k])),                         /* A */
                -(0.4 * R * phi[k]),                                                /* Q */
                1.0 * phi[k],                                                       /* home */
                k == 0 ? 1.0 : 0.0,                                                 /* inertia */
            };
            if (fabs(U[k] - want[term]) > 1e-12)
                fail_msg("%s term at option %d: model %.17g, by hand %.17g", wname[term], k, U[k],
                         want[term]);
        }
        teardown(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rationality_zero_is_uniform),
        cmocka_unit_test(test_review_zero_changes_no_policy),
        cmocka_unit_test(test_single_nation_has_no_peer_term),
        cmocka_unit_test(test_peer_term_matches_naive),
        cmocka_unit_test(test_installed_base_and_pressure_closed_form),
        cmocka_unit_test(test_event_label_equals_index),
        cmocka_unit_test(test_hazard_zero_and_one),
        cmocka_unit_test(test_choice_frequencies_match_softmax),
        cmocka_unit_test(test_softmax_is_stable),
        cmocka_unit_test(test_exp_accuracy),
        cmocka_unit_test(test_replicate_is_deterministic),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_utility_terms_by_hand),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
