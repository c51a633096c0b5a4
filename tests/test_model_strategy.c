/* The strategic actors of docs/model.md ("Strategic actors") on small worlds:
 * exact checks against hand computations, neutral settings that must give the
 * plain model's bits, and Monte Carlo checks of the intelligence lever within
 * stated standard errors. The kernel is checked against the plain reference step
 * on random worlds with strategies on in test_model_reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    a5_scenario *s;
    a5_model *m;
    a5_work *w;
    gsl_rng *g;
    double *x, cost[16], risk[16];
} fixture;

static void setup(fixture *f, const char *text)
{
    a5_diag d = {0};
    memset(f, 0, sizeof *f);
    if (a5_scenario_parse(text, strlen(text), "t.yaml", NULL, 0, &d, &f->s)) {
        a5_diag_print(&d, stderr);
        fail_msg("scenario did not load:\n%s", text);
    }
    a5_diag_free(&d);
    f->m = a5_model_alloc(f->s);
    f->w = a5_model_work_alloc(f->m);
    f->g = a5_rng_alloc();
    f->x = a5_model_work_x(f->w);
    assert_non_null(f->m);
    assert_non_null(f->w);
}

static void init(fixture *f, long r)
{
    memset(f->cost, 0, sizeof f->cost);
    memset(f->risk, 0, sizeof f->risk);
    a5_model_init(f->m, 0, r, f->x, a5_rng_state_of(f->g));
}

static void step(fixture *f, int t)
{
    a5_model_step(f->m, f->x, t, a5_rng_state_of(f->g), f->w, f->cost, f->risk);
}

static void teardown(fixture *f)
{
    gsl_rng_free(f->g);
    a5_model_work_free(f->w);
    a5_model_free(f->m);
    a5_scenario_free(f->s);
}

static double P_of(const fixture *f, int i)
{
    return f->x[a5_param_nslot(A5_N_US_PRESSURE, i, f->s->n)];
}

/* Nobody reviews: the policies stay, only the pressures move. */
#define STILL "defaults: {review_rate: 0}\nus: {pressure: 0.2, max_pressure: 5, "

/* pivotal: pi_i = g_i sum_{j != i} w_ij. Blocs x = {A, B}, y = {A, C}, D alone,
 * g = (1, 3, 1, 10): pi = (1 * 2, 3 * 1, 1 * 1, 10 * 0) = (2, 3, 1, 0): B. With
 * base_tie 0.5 (N - 1 = 3): pi = (1 * 3.5, 3 * 2.5, 1 * 2.5, 10 * 1.5): D. With
 * B banning and no base tie: A. */
static void test_pivotal_picks_the_hand_computed_nation(void **state)
{
    (void)state;
    const char *fmt = STILL "strategy: pivotal, budget: 0.125}\npeers: {base_tie: %s}\n"
                            "nations: [{code: A, blocs: [x, y], influence: 1},"
                            " {code: B, blocs: [x], influence: 3, policy: %s},"
                            " {code: C, blocs: [y], influence: 1}, {code: D, influence: 10}]\n";
    const struct {
        const char *tie, *bpol;
        int want;
    } cases[] = {{"0", "open", 1}, {"0.5", "open", 3}, {"0", "ban", 0}, {"0", "restrict", 1}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char text[1024];
        snprintf(text, sizeof text, fmt, cases[c].tie, cases[c].bpol);
        fixture f;
        setup(&f, text);
        init(&f, 0);
        for (int t = 0; t < 3; t++) {
            step(&f, t);
            for (int i = 0; i < 4; i++)
                assert_true(P_of(&f, i) == (i == cases[c].want ? 0.2 + 0.125 * (t + 1) : 0.2));
        }
        teardown(&f);
    }
}

/* Ties go to the lowest index; uniform shares B(t) = B_0 (1 + g)^t equally
 * among the nations not banning. */
static void test_ties_and_uniform(void **state)
{
    (void)state;
    fixture f;
    setup(&f, STILL "strategy: pivotal, budget: 0.25}\n"
                    "nations: [{code: A, policy: ban, blocs: [x]}, {code: B, blocs: [x]},"
                    " {code: C, blocs: [x]}]\n");
    init(&f, 0);
    step(&f, 0);
    assert_true(P_of(&f, 0) == 0.2 && P_of(&f, 1) == 0.2 + 0.25 && P_of(&f, 2) == 0.2);
    teardown(&f);

    setup(&f, STILL "strategy: uniform, budget: 0.3, budget_growth: 0.5}\n"
                    "nations: [{code: A}, {code: B, policy: ban}, {code: C, policy: restrict},"
                    " {code: D}]\n");
    init(&f, 0);
    double want = 0.2, B = 0.3;
    for (int t = 0; t < 4; t++) {
        step(&f, t);
        want += B / 3;
        for (int i = 0; i < 4; i++)
            assert_true(P_of(&f, i) == (i == 1 ? 0.2 : want));
        B *= 1.5;
    }
    teardown(&f);
}

/* wavering: the nation not banning with the smallest U_i(s_i) - U_i(BAN) >= 0,
 * computed here from a5_model_utility (which equals the strategic utility when
 * no other strategic term is on). */
static void test_wavering_picks_the_smallest_gap(void **state)
{
    (void)state;
    fixture f;
    setup(&f, STILL "strategy: wavering, budget: 0.5}\n"
                    "nations: [{code: A, us_ties: 0.2, threat: 0.1}, {code: B, us_ties: 0.9},"
                    " {code: C, us_ties: 0.6, threat: 0.4, policy: restrict},"
                    " {code: D, us_ties: 0.1, threat: 0.9, intel: 0.9}, {code: E, policy: ban}]\n");
    init(&f, 0);
    int picks[5] = {0};
    for (int t = 0; t < 12; t++) {
        a5_model_prepare(f.m, f.x, f.w);
        int want = -1;
        double best = HUGE_VAL;
        for (int i = 0; i < 5; i++) {
            const double s = f.x[a5_param_nslot(A5_N_POLICY, i, 5)];
            double U[3];
            a5_model_utility(f.m, f.x, f.w, i, U);
            const double gap = U[(int)s] - U[A5_BAN];
            if (s != A5_BAN && gap >= 0 && gap < best) {
                best = gap;
                want = i;
            }
        }
        double before[5];
        for (int i = 0; i < 5; i++)
            before[i] = P_of(&f, i);
        step(&f, t);
        for (int i = 0; i < 5; i++)
            assert_true(P_of(&f, i) == (i == want ? fmin(5, before[i] + 0.5) : before[i]));
        if (want >= 0)
            picks[want]++;
    }
    /* the gaps shrink as the pressure grows: the target moves on */
    int distinct = 0;
    for (int i = 0; i < 5; i++)
        distinct += picks[i] > 0;
    printf("wavering targets over 12 steps: A %d B %d C %d D %d E %d\n", picks[0], picks[1],
           picks[2], picks[3], picks[4]);
    assert_true(distinct >= 2);
    assert_int_equal(picks[4], 0);
    teardown(&f);
}

/* Runs a scenario's replicates and returns a digest of every record. */
static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ c[i]) * 0x100000001b3ull;
    return h;
}

enum { MAXN = 8, MAXSTEPS = 40 };

static uint64_t digest(const char *text, int reps)
{
    fixture f;
    setup(&f, text);
    const size_t n = (size_t)f.s->n, cells = n * (size_t)f.s->steps;
    assert_true(n <= MAXN && f.s->steps <= MAXSTEPS);
    int8_t pol[MAXN * MAXSTEPS], fin[MAXN];
    float h[MAXN * MAXSTEPS], P[MAXN * MAXSTEPS], cc[MAXN], cr[MAXN];
    int16_t fb[MAXN];
    uint64_t d = 1469598103934665603ull;
    for (int r = 0; r < reps; r++) {
        a5_records rec = {.policy = pol, .h = h, .P = P, .first_ban = fb, .final_policy = fin, .cum_cost = cc, .cum_risk = cr};
        assert_int_equal(a5_model_run(f.m, 0, r, f.w, &rec, 0), 0);
        d = fnv(d, pol, cells);
        d = fnv(d, h, cells * sizeof *h);
        d = fnv(d, P, cells * sizeof *P);
        d = fnv(d, fb, n * sizeof *fb);
        d = fnv(d, cc, n * sizeof *cc);
        d = fnv(d, cr, n * sizeof *cr);
    }
    teardown(&f);
    return d;
}

#define WORLD                                                                                      \
    "steps: 30\n"                                                                                  \
    "decision: {rationality: 3, weights: {peer: 1.2}}\n"                                           \
    "peers: {base_tie: 0.2%s}\n"                                                                   \
    "us: {intel_threat: 0.2, escalation: %s%s}\n"                                                  \
    "china: {escalation: %s%s}\n"                                                                  \
    "defaults: {review_rate: 0.4}\n"                                                               \
    "nations:\n"                                                                                   \
    "  - {code: A, blocs: [x, y], threat: 0.7, china_trade: 0.5}\n"                               \
    "  - {code: B, blocs: [x], policy: restrict, high_risk_share: 0.4}\n"                          \
    "  - {code: C, blocs: [y], home_vendor: true, us_ties: 0.9}\n"                                 \
    "  - {code: D, policy: ban, mitigation: 0.3}\n"                                                \
    "  - {code: E, blocs: [x, y], intel: 0.9, high_risk_share: 0.6}\n"                             \
    "  - {code: F, blocs: [z], cost_sensitivity: 0.9, influence: 2}\n"                             \
    "events: [{at: 5, set: {nations.B.policy: open}},\n"                                           \
    "         {hazard: 0.2, add: {nations.*.threat: 0.03}}]\n"                                     \
    "uncertain: {decision.weights.risk: {dist: lognormal, mu: 0, sigma: 0.3}}\n"

static uint64_t world(const char *peers, const char *esc, const char *us, const char *cesc,
                      const char *china)
{
    char text[4096];
    snprintf(text, sizeof text, WORLD, peers, esc, us, cesc, china);
    return digest(text, 30);
}

/* Budget 0 is no pressure: every US strategy with B_0 = 0 gives the bits of the
 * schedule with e_US = 0; China's with B_CN = 0 those of aggregate with e_CN = 0;
 * a lever with credibility 0 those of no lever; a vendor with no budget or eta 0
 * change nothing. The strategic step runs in each (a different code path from
 * the plain kernel's), so this also checks that its neutral form is the plain
 * model's, bit for bit. */
static void test_neutral_settings_give_the_plain_bits(void **state)
{
    (void)state;
    const uint64_t none = world("", "0", "", "0", "");
    const char *us[] = {", strategy: uniform, budget: 0", ", strategy: pivotal, budget: 0",
                        ", strategy: wavering, budget: 0, budget_growth: 0.5"};
    for (int k = 0; k < 3; k++)
        assert_true(world("", "0", us[k], "0", "") == none);
    assert_true(world("", "0", "", "0", ", strategy: targeted, budget: 0") == none);
    assert_true(world("", "0", "", "0", ", strategy: deterrent, budget: 0") == none);
    const uint64_t plain = world("", "0.03", "", "0.3", "");
    assert_true(world("", "0.03", ", intel_lever: {credibility: 0, downgrade: 0.6}", "0.3", "") ==
                plain);
    assert_true(world(", intel_standing: 0", "0.03", "", "0.3",
                      ", price_response: 0.3, price_budget: 0") == plain);
    /* and each one on does change the results */
    assert_true(world("", "0", ", strategy: uniform, budget: 0.05", "0", "") != none);
    assert_true(world("", "0", "", "0", ", strategy: targeted, budget: 1") != none);
    assert_true(world("", "0", "", "0", ", strategy: deterrent, budget: 1") != none);
    assert_true(world("", "0.03", ", intel_lever: {credibility: 0.5, downgrade: 0.6}", "0.3", "") !=
                plain);
    assert_true(world(", intel_standing: 1", "0.03", "", "0.3", "") != plain);
    assert_true(world("", "0.03", "", "0.3", ", price_response: 0.3, price_budget: 1") != plain);
}

/* The lever's transitions, one open nation that never reviews: threatened at the
 * end of step 0, due at the end of step T_W; downgraded with probability theta_L,
 * for T_D steps. Over R replicates the share downgraded at step T_W is theta_L
 * within 4 standard errors sqrt(theta (1 - theta) / R); a failed threat lowers
 * the credibility by l exactly. */
static void test_lever_carries_out_with_probability_credibility(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "steps: 10\ndefaults: {review_rate: 0}\n"
              "us: {intel_lever: {credibility: 0.3, downgrade: 0.5, lead: 2, duration: 3,"
              " credibility_loss: 0.125}}\nnations: [{code: A}, {code: B, policy: ban}]\n");
    const int R = 4000;
    int down = 0;
    for (int r = 0; r < R; r++) {
        init(&f, r);
        const int8_t *st = a5_model_intel_status(f.w);
        step(&f, 0);
        assert_int_equal(st[0], 1); /* open: threatened */
        assert_int_equal(st[1], 0); /* banning: never */
        step(&f, 1);
        assert_int_equal(st[0], 1);
        step(&f, 2); /* due: carried out or not */
        const double cred = f.x[A5_G_LEVER_CREDIBILITY];
        if (st[0] == 2) {
            down++;
            assert_true(cred == 0.3);
            for (int t = 3; t < 5; t++) {
                step(&f, t);
                assert_int_equal(st[0], 2);
            }
            step(&f, 5); /* T_D = 3 steps later: back to none */
            assert_int_equal(st[0], 0);
            step(&f, 6); /* and threatened again */
            assert_int_equal(st[0], 1);
        } else {
            assert_int_equal(st[0], 0);
            assert_true(cred == 0.3 - 0.125);
        }
    }
    const double p = 0.3, se = sqrt(p * (1 - p) / R), share = (double)down / R;
    printf("downgraded %d of %d: %.4f, expected %.2f (se %.4f)\n", down, R, share, p, se);
    assert_true(fabs(share - p) < 4 * se);
    teardown(&f);
}

/* Issue 24.3, staggered threats: threats_per_step 2, d = (0.2, 0.9, 0.5, 0.9), all
 * open, nobody reviews. Step 0 threatens the two most dependent (B, D: the tie
 * to the lowest index first), step 1 the other two (C, then A); B's and D's
 * threats (lead 2) fall due at step 2 and, with credibility 1, are carried out. */
static void test_lever_staggers_threats_by_hand(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "steps: 4\ndefaults: {review_rate: 0}\n"
              "us: {intel_lever: {credibility: 1, downgrade: 0.5, lead: 2, threats_per_step: 2}}\n"
              "nations: [{code: A, intel: 0.2}, {code: B, intel: 0.9}, {code: C, intel: 0.5},"
              " {code: D, intel: 0.9}]\n");
    static const int8_t want[3][4] = {{0, 1, 0, 1}, {1, 1, 1, 1}, {1, 2, 1, 2}};
    init(&f, 0);
    const int8_t *st = a5_model_intel_status(f.w);
    for (int t = 0; t < 3; t++) {
        step(&f, t);
        for (int i = 0; i < 4; i++)
            assert_int_equal(st[i], want[t][i]);
    }
    teardown(&f);
}

/* Issue 24.3, credibility per target (credibility_scope nation, theta_L 0.5, loss
 * 0.125, gain 0.25, lead 1, duration 1): each nation's first threat is due at
 * step 1 and carried out with probability 0.5; the world's theta_L stays 0.5. A
 * nation whose threat failed is threatened again at step 2 (due at step 3) with
 * its own credibility 0.375; one downgraded at step 1 is free at step 2,
 * threatened at step 3 and due at step 4 with credibility 0.75. Each share is
 * checked within 4 standard errors. */
static void test_credibility_per_target(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "steps: 6\ndefaults: {review_rate: 0}\n"
              "us: {intel_lever: {credibility: 0.5, downgrade: 0.5, lead: 1, duration: 1,"
              " credibility_loss: 0.125, credibility_gain: 0.25, credibility_scope: nation}}\n"
              "nations: [{code: A}, {code: B}]\n");
    long nf = 0, df = 0, ns = 0, ds = 0;
    for (int r = 0; r < 3000; r++) {
        init(&f, r);
        const int8_t *st = a5_model_intel_status(f.w);
        step(&f, 0);
        step(&f, 1);
        int first[2] = {st[0], st[1]};
        for (int t = 2; t < 5; t++) {
            step(&f, t);
            assert_true(f.x[A5_G_LEVER_CREDIBILITY] == 0.5);
            for (int i = 0; i < 2; i++) {
                if (first[i] == 0 && t == 3) { /* failed at step 1: second threat due now */
                    nf++;
                    df += st[i] == 2;
                }
                if (first[i] == 2 && t == 4) { /* carried out at step 1 */
                    ns++;
                    ds += st[i] == 2;
                }
            }
        }
    }
    const double pf = (double)df / nf, ps = (double)ds / ns;
    const double sef = sqrt(0.375 * 0.625 / nf), ses = sqrt(0.75 * 0.25 / ns);
    printf("after a failure %.4f (n %ld, expected 0.375, se %.4f); after a downgrade %.4f "
           "(n %ld, expected 0.75, se %.4f)\n", pf, nf, sef, ps, ns, ses);
    assert_true(fabs(pf - 0.375) < 4 * sef);
    assert_true(fabs(ps - 0.75) < 4 * ses);
    teardown(&f);
}

/* Issue 24.3, the US pays for a downgrade: uniform, budget 0.3, A open with d =
 * 0.8, B restricting; A is threatened at step 0 and downgraded at the end of step
 * 1 (credibility 1, lead 1). Steps 0 and 1 give each 0.15; at step 2 the
 * downgrade in force costs kappa delta d_A = 0.5 * 0.5 * 0.8 = 0.2, leaving 0.1:
 * 0.05 each, so P = 0.2 + 0.15 + 0.15 + 0.05 = 0.55. */
static void test_downgrade_costs_the_us_by_hand(void **state)
{
    (void)state;
    fixture f;
    setup(&f, STILL "strategy: uniform, budget: 0.3,"
              " intel_lever: {credibility: 1, downgrade: 0.5, lead: 1, us_cost: 0.5}}\n"
              "steps: 3\nnations: [{code: A, intel: 0.8}, {code: B, policy: restrict}]\n");
    init(&f, 0);
    step(&f, 0);
    step(&f, 1);
    assert_int_equal(a5_model_intel_status(f.w)[0], 2);
    assert_true(fabs(P_of(&f, 0) - 0.5) < 1e-15 && fabs(P_of(&f, 1) - 0.5) < 1e-15);
    step(&f, 2);
    assert_true(fabs(P_of(&f, 0) - 0.55) < 1e-15 && fabs(P_of(&f, 1) - 0.55) < 1e-15);
    teardown(&f);
}

/* Issue 24.4, actors that react, three steps by hand. Nobody reviews; A and C
 * restrict (psi 0.5) in bloc x, A with influence 2; B bans. US pivotal, budget
 * 0.3 (all on A, leverage 2 against C's 1), us.react 0.5; China targeted, R_0 =
 * 0.2, B_CN 1, its allocations A_i = phi(s_i)(R_i(s_i) - R_0).
 * Step 0 (nothing to react to): Delta P = (0.3, 0, 0); Phi_-A = Phi_-C = 1.5,
 * Phi_-B = 1: R - R_0 = 1/2 for all, A = (0.25, 0.5, 0.25).
 * Step 1: the US moves 0.5 * 0.3 in proportion to A over E = {A, C} (0.25 each):
 * Delta P = (0.15 + 0.075, 0, 0.075). China (china.react 0.5) moves half its
 * budget to the nations the US pressed (only A, 0.3 of 0.3): R - R_0 = (0.25 +
 * 0.5, 0.25, 0.25), A = (0.375, 0.25, 0.125).
 * Step 2: Delta P = (0.15 + 0.15 * 0.375 / 0.5, 0, 0.15 * 0.125 / 0.5) = (0.2625,
 * 0, 0.0375); without China's reaction it would be (0.225, 0, 0.075) again. */
static void test_actors_react_by_hand(void **state)
{
    (void)state;
    static const double want[2][3][2] = {{{0.5, 0.2}, {0.725, 0.275}, {0.9875, 0.3125}},
                                         {{0.5, 0.2}, {0.725, 0.275}, {0.95, 0.35}}};
    for (int c = 0; c < 2; c++) {
        char text[1024];
        snprintf(text, sizeof text,
                 STILL "strategy: pivotal, budget: 0.3, react: 0.5}\n"
                       "policy: {restrict_compliance: 0.5}\n"
                       "china: {retaliation: 0.2, strategy: targeted, budget: 1, react: %s}\n"
                       "steps: 3\nnations: [{code: A, policy: restrict, blocs: [x], influence: 2},"
                       " {code: B, policy: ban}, {code: C, policy: restrict, blocs: [x]}]\n",
                 c == 0 ? "0.5" : "0");
        fixture f;
        setup(&f, text);
        init(&f, 0);
        for (int t = 0; t < 3; t++) {
            step(&f, t);
            assert_true(fabs(P_of(&f, 0) - want[c][t][0]) < 1e-12);
            assert_true(fabs(P_of(&f, 2) - want[c][t][1]) < 1e-12);
            assert_true(P_of(&f, 1) == 0.2);
        }
        teardown(&f);
    }
}

/* Issue 24.4, a nation that anticipates, by hand. One open nation, a_i 1, P 0.2,
 * theta 0, weights us 1 and inertia 0.3 only, rationality 1e6 (the best option
 * is chosen): U(OPEN) = 0.3 - 0.2 - X(OPEN), U(BAN) = 0 and U(RESTRICT) = -0.1 -
 * X(RESTRICT) < 0. The schedule's escalation 0.1 gives X(OPEN) = sum_{h<=H} d^h
 * (min(Pmax, 0.2 + 0.1 h) - 0.2): H 0: 0, OPEN; H 2, d 1: 0.1 + 0.2 = 0.3, BAN;
 * with Pmax 0.22: 0.02 + 0.02 = 0.04, OPEN; H 3, d 0.5: 0.05 + 0.05 + 0.0375 =
 * 0.1375, BAN; H 1, d 0.5: 0.05, OPEN. */
static void test_anticipation_by_hand(void **state)
{
    (void)state;
    static const struct {
        int H;
        double d, pmax;
        int want;
    } cases[] = {{0, 1, 5, A5_OPEN}, {2, 1, 5, A5_BAN}, {2, 1, 0.22, A5_OPEN},
                 {3, 0.5, 5, A5_BAN}, {1, 0.5, 5, A5_OPEN}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "steps: 1\ndefaults: {review_rate: 1}\n"
                 "decision: {rationality: 1e6, weights: {cost: 0, risk: 0, us: 1, china: 0,"
                 " peer: 0, inertia: 0.3, home: 0}, anticipation: {horizon: %d, discount: %g}}\n"
                 "us: {pressure: 0.2, escalation: 0.1, max_pressure: %g, intel_threat: 0}\n"
                 "nations: [{code: A, us_ties: 1}]\n",
                 cases[c].H, cases[c].d, cases[c].pmax);
        fixture f;
        setup(&f, text);
        for (int r = 0; r < 5; r++) {
            init(&f, r);
            step(&f, 0);
            assert_int_equal((int)f.x[a5_param_nslot(A5_N_POLICY, 0, 1)], cases[c].want);
        }
        teardown(&f);
    }
}

/* Issue 24.2: a nation at the pressure ceiling is not a target while another can
 * still move: pivotal's budget goes past A (the largest leverage, at the cap) to
 * B, and uniform's is shared by B and C only. */
static void test_targets_at_the_cap_are_skipped(void **state)
{
    (void)state;
    const char *fmt = "steps: 2\ndefaults: {review_rate: 0}\n"
                      "us: {strategy: %s, budget: 0.1, max_pressure: 0.8}\n"
                      "nations: [{code: A, blocs: [x], influence: 2, us_pressure: 0.8},"
                      " {code: B, blocs: [x], influence: 1.5, us_pressure: 0.2},"
                      " {code: C, blocs: [x], us_pressure: 0.2}, {code: D, policy: ban}]\n";
    const char *names[2] = {"pivotal", "uniform"};
    const double want[2][3] = {{0.8, 0.2 + 0.1, 0.2}, {0.8, 0.2 + 0.05, 0.2 + 0.05}};
    for (int c = 0; c < 2; c++) {
        char text[1024];
        snprintf(text, sizeof text, fmt, names[c]);
        fixture f;
        setup(&f, text);
        init(&f, 0);
        step(&f, 0);
        for (int i = 0; i < 3; i++)
            assert_true(fabs(f.x[a5_param_nslot(A5_N_US_PRESSURE, i, 4)] - want[c][i]) < 1e-15);
        teardown(&f);
    }
}

/* Issue 24.3: an event that switches the lever off while threats are pending
 * ends them (they used to stay "threatened" to the end, since their due step went
 * by unchecked, and weighed on the nation once the lever came back); a downgrade
 * ends as soon as the nation complies. */
static void test_lever_off_ends_pending_threats(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "steps: 12\ndefaults: {review_rate: 0}\n"
              "us: {intel_lever: {credibility: 1, downgrade: 0.5, lead: 2, duration: 6}}\n"
              "events: [{at: 1, set: {us.intel_lever.downgrade: 0}},"
              " {at: 5, set: {us.intel_lever.downgrade: 0.5}},"
              " {at: 9, set: {nations.A.policy: restrict}}]\n"
              "nations: [{code: A}, {code: B}]\n");
    for (int r = 0; r < 20; r++) {
        init(&f, r);
        const int8_t *st = a5_model_intel_status(f.w);
        step(&f, 0);
        assert_int_equal(st[0], 1); /* threatened, due at the end of step 2 */
        for (int t = 1; t < 5; t++) { /* the lever off over the due step */
            step(&f, t);
            assert_int_equal(st[0], 0);
            assert_int_equal(st[1], 0);
        }
        step(&f, 5); /* back on: a fresh threat, due at the end of step 7 */
        assert_int_equal(st[0], 1);
        step(&f, 6);
        assert_int_equal(st[0], 1);
        step(&f, 7); /* credibility 1: carried out, for 6 steps */
        assert_int_equal(st[0], 2);
        step(&f, 8);
        assert_int_equal(st[0], 2);
        step(&f, 9); /* A restricts: its downgrade ends, B's goes on */
        assert_int_equal(st[0], 0);
        assert_int_equal(st[1], 2);
    }
    teardown(&f);
}

/* A threatened nation weighs the expected loss theta_L delta d_i in its US term:
 * one reviewing nation, one step after the threat, chooses BAN with the softmax
 * probability of utilities whose US term has that much more, within 4 standard
 * errors; with the lever off it chooses with the plain probability. */
static void test_threat_moves_choices_as_the_formula_says(void **state)
{
    (void)state;
    const char *fmt = "steps: 3\ndecision: {rationality: 2, weights: {peer: 0}}\n"
                      "us: {pressure: 0.3, escalation: 0, intel_lever: {credibility: 0.8,"
                      " downgrade: %s, lead: 3}}\n"
                      "nations: [{code: A, intel: 0.9, us_ties: 0.4, review_rate: %s}]\n";
    const double lam = 0.8 * 0.7 * 0.9; /* theta_L delta d */
    double p_ban[2];
    for (int on = 0; on < 2; on++) {
        char text[1024];
        /* step 0: no review (rate 0 there would fix it for good: use an event) */
        snprintf(text, sizeof text, fmt, on ? "0.7" : "0", "1");
        char with_event[1200];
        snprintf(with_event, sizeof with_event,
                 "%sevents: [{at: 0, set: {nations.A.review_rate: 0}},"
                 " {at: 1, set: {nations.A.review_rate: 1}}]\n",
                 text);
        fixture f;
        setup(&f, with_event);
        const int R = 20000;
        int bans = 0;
        double U[3];
        for (int r = 0; r < R; r++) {
            init(&f, r);
            step(&f, 0);
            if (r == 0) {
                a5_model_prepare(f.m, f.x, f.w);
                a5_model_utility(f.m, f.x, f.w, 0, U); /* the plain utilities */
            }
            step(&f, 1);
            bans += f.x[a5_param_nslot(A5_N_POLICY, 0, 1)] == A5_BAN;
        }
        /* expected: U_i(k) - w_us Lambda [k = OPEN] when on (w_us = 1): restricting
         * satisfies the threat, as the transition says */
        double Uo[3] = {U[0] - on * lam, U[1], U[2]}, pk[3];
        a5_model_choice_probs(2, Uo, pk);
        const double share = (double)bans / R, se = sqrt(pk[2] * (1 - pk[2]) / R);
        printf("lever %s: P(ban) %.4f, formula %.4f (se %.4f)\n", on ? "on" : "off", share, pk[2],
               se);
        assert_true(fabs(share - pk[2]) < 4 * se);
        p_ban[on] = share;
        teardown(&f);
    }
    assert_true(p_ban[1] > p_ban[0]);
}


/* One step of nation A (the others never review), R replicates: the share of each
 * option against the softmax of hand-computed utilities, within 4 standard
 * errors; returns the shares. */
static void one_step_shares(const char *text, int R, double share[3])
{
    fixture f;
    setup(&f, text);
    int count[3] = {0, 0, 0};
    for (int r = 0; r < R; r++) {
        init(&f, r);
        step(&f, 0);
        count[(int)f.x[a5_param_nslot(A5_N_POLICY, 0, f.s->n)]]++;
    }
    for (int k = 0; k < 3; k++)
        share[k] = (double)count[k] / R;
    teardown(&f);
}

static void expect_shares(const double share[3], const double U[3], double lambda, int R,
                          const char *what)
{
    double p[3];
    a5_model_choice_probs(lambda, U, p);
    for (int k = 0; k < 3; k++) {
        const double se = sqrt(p[k] * (1 - p[k]) / R);
        printf("%s: option %d share %.4f, formula %.4f (se %.4f)\n", what, k, share[k], p[k], se);
        assert_true(fabs(share[k] - p[k]) < 4 * se);
    }
}

/* China's strategies by hand. A (open, a = c = 1, d = 0, P = 0.55) decides; B and
 * C ban. Weights: us 1, china 1, inertia 0.5, the rest 0; psi = 0.5, R_0 = 0.1,
 * e_CN = 0.3, B_CN = 0.5. U_A(k) = -P (1 - phi(k)) - R_A(k) phi(k) + 0.5 [k = OPEN]:
 *   aggregate: R = 0.1 + 0.3 * 2/3 for every k;
 *   targeted:  R_A(RESTRICT) = 0.1 + 0.5 / 2.5 (phi(k) enters once, in Q), R_A(BAN) = 0.1 + 0.5 / 3;
 *   deterrent: A is the waverer (U(OPEN) - U(BAN) = -0.05 + 0.1 >= 0 with R_0),
 *              so R_A = 0.1 + 0.5. */
static void test_china_strategies_by_hand(void **state)
{
    (void)state;
    const char *fmt =
        "steps: 1\ndecision: {rationality: 4, weights: {cost: 0, risk: 0, us: 1, china: 1,"
        " peer: 0, inertia: 0.5, home: 0}}\n"
        "us: {pressure: 0.55}\nchina: {retaliation: 0.1, escalation: 0.3, strategy: %s,"
        " budget: 0.5}\n"
        "nations: [{code: A, us_ties: 1, intel: 0, china_trade: 1, review_rate: 1},"
        " {code: B, policy: ban, review_rate: 0}, {code: C, policy: ban, review_rate: 0}]\n";
    const double P = 0.55, R[3][2] = {{0.1 + 0.3 * (2.0 / 3), 0.1 + 0.3 * (2.0 / 3)},
                                      {0.1 + 0.5 / 2.5, 0.1 + 0.5 / 3},
                                      {0.1 + 0.5, 0.1 + 0.5}};
    const char *names[3] = {"aggregate", "targeted", "deterrent"};
    const int N = 40000;
    double shares[3][3];
    for (int c = 0; c < 3; c++) {
        char text[1024];
        snprintf(text, sizeof text, fmt, names[c]);
        one_step_shares(text, N, shares[c]);
        const double U[3] = {-P + 0.5, -P * 0.5 - R[c][0] * 0.5, -R[c][1]};
        expect_shares(shares[c], U, 4, N, names[c]);
    }
    /* the three differ from each other by more than 5 standard errors of a difference */
    assert_true(fabs(shares[0][2] - shares[1][2]) > 0.01);
    assert_true(fabs(shares[0][2] - shares[2][2]) > 0.05);
}

/* Named targets by hand (china.targets), in the world above with targeted and
 * deterrent: with [A, B] Phi_-A counts B only, so R_A(RESTRICT) = 0.1 + 0.5 / 1.5
 * and R_A(BAN) = 0.1 + 0.5 / 2; with [B] A is no target: R_A = R_0 = 0.1 for
 * every k under both (deterrent's waverer is chosen among the targets, and B
 * bans). Also from nations' china_target. */
static void test_named_chinese_targets_by_hand(void **state)
{
    (void)state;
    const char *fmt =
        "steps: 1\ndecision: {rationality: 4, weights: {cost: 0, risk: 0, us: 1, china: 1,"
        " peer: 0, inertia: 0.5, home: 0}}\n"
        "us: {pressure: 0.55}\nchina: {retaliation: 0.1, strategy: %s, budget: 0.5%s}\n"
        "nations: [{code: A, us_ties: 1, intel: 0, china_trade: 1, review_rate: 1},"
        " {code: B, policy: ban, review_rate: 0%s}, {code: C, policy: ban, review_rate: 0}]\n";
    const struct {
        const char *strategy, *targets, *flag;
        double R1, R2;
    } cases[] = {
        {"targeted", ", targets: [A, B]", "", 0.1 + 0.5 / 1.5, 0.1 + 0.5 / 2},
        {"targeted", ", targets: [B]", "", 0.1, 0.1},
        {"targeted", "", ", china_target: true", 0.1, 0.1},
        {"deterrent", ", targets: [B]", "", 0.1, 0.1},
        {"deterrent", ", targets: [A]", "", 0.1 + 0.5, 0.1 + 0.5},
    };
    const int N = 40000;
    const double P = 0.55;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char text[1024], what[96];
        snprintf(text, sizeof text, fmt, cases[c].strategy, cases[c].targets, cases[c].flag);
        double shares[3];
        one_step_shares(text, N, shares);
        const double U[3] = {-P + 0.5, -P * 0.5 - cases[c].R1 * 0.5, -cases[c].R2};
        snprintf(what, sizeof what, "%s%s%s", cases[c].strategy, cases[c].targets, cases[c].flag);
        expect_shares(shares, U, 4, N, what);
    }
}

/* The demonstration effect by hand: A (open) and its bloc partners B (ban, d_B =
 * 0.9) and C (open), influence 1 each, peer weight 1, inertia 0.5, the rest 0:
 * G_A(BAN) = g_B' / (g_B' + g_C) with g_B' = 1 + eta 0.9, G_A(OPEN) the rest. */
static void test_demonstration_effect_by_hand(void **state)
{
    (void)state;
    const char *fmt =
        "steps: 1\ndecision: {rationality: 4, weights: {cost: 0, risk: 0, us: 0, china: 0,"
        " peer: 1, inertia: 0.5, home: 0}}\npeers: {intel_standing: %s}\n"
        "nations: [{code: A, blocs: [x], review_rate: 1},"
        " {code: B, blocs: [x], policy: ban, intel: 0.9, review_rate: 0},"
        " {code: C, blocs: [x], review_rate: 0}]\n";
    const double etas[2] = {0, 2};
    const int N = 40000;
    double shares[2][3];
    for (int e = 0; e < 2; e++) {
        char text[1024], eta[16];
        snprintf(eta, sizeof eta, "%g", etas[e]);
        snprintf(text, sizeof text, fmt, eta);
        one_step_shares(text, N, shares[e]);
        const double gb = 1 + etas[e] * 0.9, U[3] = {1 / (gb + 1) + 0.5, 0, gb / (gb + 1)};
        expect_shares(shares[e], U, 4, N, e ? "eta 2" : "eta 0");
    }
    assert_true(shares[1][2] > shares[0][2] + 0.05);
}

/* The vendor's price response by hand: one open nation with installed share
 * 0.5, budget Pi = 1 and cap pi = 0.25: delta = min(0.25, 1 * 0.5 / 0.5), so
 * D = (1 - 0.8 (1 - 0.25)) / 1 = 0.4 instead of 0.2. Only cost matters
 * (b = 1, zeta = 0): C(k) = D max(0, x - cap_k), x = 1 / (1 + e^(-gamma D)). */
static void test_price_response_by_hand(void **state)
{
    (void)state;
    const char *fmt =
        "steps: 1\ndecision: {rationality: 4, weights: {cost: 1, risk: 0, us: 0, china: 0,"
        " peer: 0, inertia: 0, home: 0}}\n"
        "market: {replace_cost: 0, price_elasticity: 5, operator_risk_weight: 0}\n"
        "vendors: [{name: H, price: 0.8, high_risk: true}, {name: E, price: 1}]\n"
        "china: {price_response: 0.25, price_budget: %s}\n"
        "nations: [{code: A, cost_sensitivity: 1, high_risk_share: 0.5, review_rate: 1}]\n";
    const char *budgets[2] = {"0", "1"};
    const double Ds[2] = {0.2, 0.4};
    const int N = 40000;
    double shares[2][3];
    for (int b = 0; b < 2; b++) {
        char text[1024];
        snprintf(text, sizeof text, fmt, budgets[b]);
        one_step_shares(text, N, shares[b]);
        const double D = Ds[b], x = 1 / (1 + exp(-5 * D));
        const double U[3] = {0, -D * fmax(0, x - 0.35), -D * x};
        expect_shares(shares[b], U, 4, N, b ? "discount" : "no discount");
    }
    assert_true(shares[1][0] > shares[0][0] + 0.02);
}

/* An override (what calibration tries) can switch a strategy on in a model whose
 * scenario has none: uniform with budget 0.3 over three open nations. */
static void test_override_switches_a_strategy_on(void **state)
{
    (void)state;
    fixture f;
    setup(&f, STILL "budget: 0.3}\nnations: [{code: A}, {code: B}, {code: C}]\n");
    const size_t slot = A5_G_US_STRATEGY;
    const double uniform = A5_US_UNIFORM;
    assert_int_equal(a5_model_override(f.m, 1, &slot, &uniform), 0);
    init(&f, 0);
    step(&f, 0);
    for (int i = 0; i < 3; i++)
        assert_true(P_of(&f, i) == 0.2 + 0.3 / 3);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pivotal_picks_the_hand_computed_nation),
        cmocka_unit_test(test_ties_and_uniform),
        cmocka_unit_test(test_wavering_picks_the_smallest_gap),
        cmocka_unit_test(test_neutral_settings_give_the_plain_bits),
        cmocka_unit_test(test_lever_carries_out_with_probability_credibility),
        cmocka_unit_test(test_lever_off_ends_pending_threats),
        cmocka_unit_test(test_lever_staggers_threats_by_hand),
        cmocka_unit_test(test_credibility_per_target),
        cmocka_unit_test(test_downgrade_costs_the_us_by_hand),
        cmocka_unit_test(test_actors_react_by_hand),
        cmocka_unit_test(test_anticipation_by_hand),
        cmocka_unit_test(test_targets_at_the_cap_are_skipped),
        cmocka_unit_test(test_named_chinese_targets_by_hand),
        cmocka_unit_test(test_threat_moves_choices_as_the_formula_says),
        cmocka_unit_test(test_china_strategies_by_hand),
        cmocka_unit_test(test_demonstration_effect_by_hand),
        cmocka_unit_test(test_price_response_by_hand),
        cmocka_unit_test(test_override_switches_a_strategy_on),
    };
    return cmocka_run_group_tests_name("model_strategy", tests, NULL, NULL);
}
