/* The plain scalar reference step of docs/model.md, and the fast kernel checked
 * against it bit for bit over many random worlds and steps.
 *
 * a5_model_step_reference below is the model as a reader would write it from
 * docs/model.md: one nation at a time, nothing cached, every utility term
 * evaluated (also those that are exactly 0), random words taken one by one. It
 * calls the equations of sim/model_terms.h, the ones the kernel calls, so what
 * this test checks is everything around them: events, caching of terms until
 * their inputs change, the peer sums by bloc, the packing of the reviewing
 * nations into vectors, the terms the kernel leaves out at OPEN and BAN, the
 * order of random words. The state (policies, shares, pressures) and the sums of
 * cost and risk are compared, so a slip in a utility shows once it changes a
 * choice (a 1 % change in one peer weight does, within these worlds); the
 * utilities with and without the exactly-0 terms are compared value for value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_model.h"
#include "model_terms.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void apply_event(const a5_event *e, double *x)
{
    for (size_t o = 0; o < e->nops; o++) {
        const a5_event_op *op = &e->ops[o];
        for (size_t q = 0; q < op->target.nslots; q++) {
            const size_t slot = op->target.slots[q];
            const double v = op->op == A5_OP_SET ? op->value : x[slot] + op->value;
            x[slot] = a5_param_clamp(op->target.param, v);
        }
    }
}

/* One step t of docs/model.md on the parameter vector x of scenario s, in place;
 * adds each nation's C_i and S_i at its new policy to cost[i] and risk[i]. */
static void a5_model_step_reference(const a5_scenario *s, double *x, int t, a5_rng_state *rs,
                                    double *cost, double *risk)
{
    const int n = s->n;
#define NX(attr, i) x[a5_param_nslot(attr, i, n)]
    /* 1. Events: scheduled ones at t in file order, then each hazard event that
     *    fires; every hazard event's uniform is drawn, fired or not. */
    double *uh = calloc(s->nevents + 1, sizeof *uh);
    for (size_t e = 0; e < s->nevents; e++)
        if (s->events[e].at < 0)
            uh[e] = a5_rng_uniform(rs);
    for (size_t e = 0; e < s->nevents; e++)
        if (s->events[e].at == t)
            apply_event(&s->events[e], x);
    for (size_t e = 0; e < s->nevents; e++)
        if (s->events[e].at < 0 && uh[e] < s->events[e].hazard)
            apply_event(&s->events[e], x);
    free(uh);

    /* 2. Price advantage, natural shares, risk scales. */
    double ph = HUGE_VAL, pa = HUGE_VAL;
    for (int v = 0; v < s->nvendors; v++) {
        const double price = x[a5_param_vslot(v, n)];
        if (s->vendor_high_risk[v])
            ph = fmin(ph, price);
        else
            pa = fmin(pa, price);
    }
    const double D = fmax(0, (pa - ph) / pa), sigma = x[A5_G_SUPPLY_RISK];
    double *xn = calloc((size_t)n, sizeof *xn), *rsk = calloc((size_t)n, sizeof *rsk);
    for (int i = 0; i < n; i++) {
        xn[i] = a5_natural_share(x[A5_G_PRICE_ELASTICITY], D, sigma, x[A5_G_OPERATOR_RISK_WEIGHT],
                                 NX(A5_N_THREAT, i));
        rsk[i] = a5_risk_scale(NX(A5_N_THREAT, i), sigma, NX(A5_N_MITIGATION, i));
    }
    /* R(t) = retaliation + escalation * mean phi(s_j), the mean as
     * (n_restrict psi + n_ban) / N. */
    int nr = 0, nb = 0;
    for (int i = 0; i < n; i++) {
        nr += NX(A5_N_POLICY, i) == A5_RESTRICT;
        nb += NX(A5_N_POLICY, i) == A5_BAN;
    }
    const double R = x[A5_G_CHINA_RETALIATION] +
                     x[A5_G_CHINA_ESCALATION] * ((nr * x[A5_G_RESTRICT_COMPLIANCE] + nb) / n);
    /* Peer sums: M[b][k] = sum of g_j [s_j = k] over bloc b's members, T[k] over
     * everyone, each in nation order. */
    double *M = calloc(3 * (size_t)s->nblocs + 1, sizeof *M), T[3] = {0, 0, 0};
    for (int j = 0; j < n; j++) {
        const int k = (int)NX(A5_N_POLICY, j);
        T[k] += NX(A5_N_INFLUENCE, j);
        for (int q = s->bloc_off[j]; q < s->bloc_off[j + 1]; q++)
            M[3 * s->bloc_idx[q] + k] += NX(A5_N_INFLUENCE, j);
    }

    /* 3. Decisions, all on X(t). */
    a5_globals g;
    a5_globals_of(x, D, R, &g);
    double *K = calloc((size_t)n, sizeof *K);
    for (int i = 0; i < n; i++) {
        const double u = a5_rng_uniform(rs), rho = NX(A5_N_REVIEW_RATE, i);
        K[i] = NX(A5_N_POLICY, i);
        if (!(u < rho))
            continue;
        a5_nation_in v = {.s = NX(A5_N_POLICY, i), .h = NX(A5_N_HIGH_RISK_SHARE, i),
                          .P = NX(A5_N_US_PRESSURE, i), .xn = xn[i], .rsk = rsk[i]};
#define A5_LOAD(name, attr) v.name = NX(attr, i);
        A5_MODEL_NATION_INPUTS(A5_LOAD)
#undef A5_LOAD
        double V[3];
        a5_peer_weights(s->bloc_idx + s->bloc_off[i], s->bloc_off[i + 1] - s->bloc_off[i], M, T,
                        (int)v.s, NX(A5_N_INFLUENCE, i), x[A5_G_BASE_TIE], V);
        a5_peer_shares(V[0], V[1], V[2], v.G);
        const double c = fmin(u / rho, 0x1.fffffffffffffp-1); /* uniform on [0, 1) */
        K[i] = a5_decide(&g, &v, c, 0);
    }

    /* 4, 5. Cost and risk at the new policy, installed base, pressure. */
    for (int i = 0; i < n; i++) {
        const a5_option o = a5_option_of(K[i], g.kappa, g.psi);
        const double h = NX(A5_N_HIGH_RISK_SHARE, i);
        cost[i] += a5_cost(&g, NX(A5_N_COST_SENSITIVITY, i), xn[i], h, o.cap);
        risk[i] += a5_risk(&g, rsk[i], xn[i], h, o);
        NX(A5_N_HIGH_RISK_SHARE, i) = a5_installed_base(h, xn[i], o.cap, x[A5_G_RENEWAL],
                                                         x[A5_G_PHASE_OUT_STEPS]);
        NX(A5_N_US_PRESSURE, i) = a5_pressure(NX(A5_N_US_PRESSURE, i), x[A5_G_US_ESCALATION],
                                              x[A5_G_US_MAX_PRESSURE], o.phi);
        NX(A5_N_POLICY, i) = K[i];
    }
#undef NX
    free(xn);
    free(rsk);
    free(M);
    free(K);
}

/* ---- random worlds ---------------------------------------------------------- */

static uint64_t rng_state = 88172645463325252ull;
static double rnd(void) /* xorshift64: the worlds are fixed by the seed above */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1p-53;
}
static double pick_zero(double v) { return rnd() < 0.2 ? 0 : v; } /* exercise the zero paths */

static size_t world(char *t, size_t cap, int steps)
{
    static const char *const pol[] = {"open", "restrict", "ban"};
    const int n = 1 + (int)(rnd() * 24);
    size_t k = 0;
#define OUT(...) k += (size_t)snprintf(t + k, cap - k, __VA_ARGS__)
    OUT("steps: %d\n", steps);
    OUT("decision: {rationality: %.3f, weights: {cost: %.3f, risk: %.3f, us: %.3f, china: %.3f,"
        " peer: %.3f, inertia: %.3f, home: %.3f}}\n",
        pick_zero(8 * rnd()), 3 * rnd() - 0.5, 3 * rnd() - 0.5, 3 * rnd(), 2 * rnd(),
        pick_zero(3 * rnd()), rnd(), rnd() - 0.3);
    OUT("policy: {restrict_cap: %.3f, restrict_compliance: %.3f, phase_out_steps: %d}\n", rnd(),
        rnd(), 1 + (int)(rnd() * 12));
    OUT("market: {renewal: %.3f, price_elasticity: %.3f, operator_risk_weight: %.3f, replace_cost: %.3f}\n",
        rnd() * 0.3, 10 * rnd(), 2 * rnd(), 2 * rnd());
    OUT("risk: {supply_risk: %.3f, ran_weight: %.3f}\n", pick_zero(rnd()), rnd());
    OUT("us: {pressure: %.3f, escalation: %.3f, max_pressure: %.3f, intel_threat: %.3f}\n", rnd(),
        0.1 * rnd(), 0.5 + rnd(), pick_zero(rnd()));
    OUT("china: {retaliation: %.3f, escalation: %.3f}\n", rnd(), rnd());
    OUT("peers: {base_tie: %.3f}\n", pick_zero(rnd()));
    OUT("vendors: [{name: H, price: %.3f, high_risk: true}, {name: E, price: %.3f}]\n", 0.5 + rnd(),
        0.5 + rnd());
    OUT("nations:\n");
    for (int i = 0; i < n; i++) {
        OUT("  - {code: N%d, intel: %.3f, us_ties: %.3f, china_trade: %.3f, cost_sensitivity: %.3f,"
            " mitigation: %.3f, threat: %.3f, influence: %.3f, review_rate: %.3f, home_vendor: %s,"
            " policy: %s, high_risk_share: %.3f",
            i, rnd(), rnd(), rnd(), rnd(), pick_zero(rnd()), rnd(), pick_zero(2 * rnd()),
            rnd() < 0.1 ? 1.0 : pick_zero(rnd()), rnd() < 0.3 ? "true" : "false",
            pol[(int)(rnd() * 3)], pick_zero(rnd()));
        if (rnd() < 0.3)
            OUT(", us_pressure: %.3f", rnd());
        OUT(", blocs: [");
        for (int b = 0, first = 1; b < 4; b++)
            if (rnd() < 0.4) {
                OUT("%sb%d", first ? "" : ", ", b);
                first = 0;
            }
        OUT("]}\n");
    }
    OUT("events:\n");
    OUT("  - {at: %d, set: {nations.N0.policy: %s}}\n", (int)(rnd() * steps), pol[(int)(rnd() * 3)]);
    OUT("  - {at: %d, add: {risk.supply_risk: 0.2, nations.*.threat: -0.1}}\n", (int)(rnd() * steps));
    OUT("  - {at: %d, set: {decision.weights.peer: %.3f}}\n", (int)(rnd() * steps), pick_zero(rnd()));
    OUT("  - {hazard: %.3f, add: {us.intel_threat: 0.1, nations.*.high_risk_share: 0.05}}\n", 0.2 * rnd());
    OUT("  - {hazard: %.3f, set: {nations.*.policy: restrict}}\n", 0.05 * rnd());
    OUT("uncertain: {nations.*.threat: {dist: uniform, lo: 0, hi: 1}}\n");
#undef OUT
    return k;
}

/* The same bits (every double of the state, every cost and risk). */
static int same_bits(const double *a, const double *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

static void test_kernel_equals_reference_step(void **state)
{
    (void)state;
    static char text[16384];
    long worlds = 0, steps_checked = 0, reviews = 0;
    for (int wi = 0; wi < 150; wi++) {
        const int steps = 30;
        world(text, sizeof text, steps);
        a5_diag d = {0};
        a5_scenario *s = NULL;
        if (a5_scenario_parse(text, strlen(text), "w.yaml", NULL, 0, &d, &s)) {
            a5_diag_print(&d, stderr);
            fprintf(stderr, "%s", text);
            fail_msg("world %d did not load", wi);
        }
        a5_diag_free(&d);
        a5_model *m = a5_model_alloc(s);
        a5_work *w = a5_model_work_alloc(m);
        gsl_rng *g1 = a5_rng_alloc(), *g2 = a5_rng_alloc();
        const size_t n = (size_t)s->n;
        double *x1 = a5_model_work_x(w), *x2 = calloc(s->nslots, sizeof *x2);
        double *c1 = calloc(n, sizeof *c1), *r1 = calloc(n, sizeof *r1);
        double *c2 = calloc(n, sizeof *c2), *r2 = calloc(n, sizeof *r2);
        for (long r = 0; r < 4; r++) {
            a5_rng_state *rs1 = a5_rng_state_of(g1), *rs2 = a5_rng_state_of(g2);
            a5_model_init(m, 0, r, x1, rs1);
            a5_model_init(m, 0, r, x2, rs2);
            memset(c1, 0, n * sizeof *c1), memset(r1, 0, n * sizeof *r1);
            memset(c2, 0, n * sizeof *c2), memset(r2, 0, n * sizeof *r2);
            for (int t = 0; t < steps; t++) {
                double before[64];
                memcpy(before, x2 + a5_param_nslot(A5_N_POLICY, 0, (int)n), n * sizeof *before);
                a5_model_step(m, x1, t, rs1, w, c1, r1);
                a5_model_step_reference(s, x2, t, rs2, c2, r2);
                if (!same_bits(x1, x2, s->nslots) || !same_bits(c1, c2, n) || !same_bits(r1, r2, n)) {
                    fprintf(stderr, "%s", text);
                    fail_msg("world %d, replicate %ld, step %d: kernel and reference differ", wi, r, t);
                }
                for (size_t i = 0; i < n; i++)
                    reviews += before[i] != x2[a5_param_nslot(A5_N_POLICY, (int)i, (int)n)];
                steps_checked++;
            }
        }
        worlds++;
        free(x2), free(c1), free(r1), free(c2), free(r2);
        gsl_rng_free(g1);
        gsl_rng_free(g2);
        a5_model_work_free(w);
        a5_model_free(m);
        a5_scenario_free(s);
    }
    printf("%ld worlds, %ld steps equal bit for bit; %ld policy changes\n", worlds, steps_checked, reviews);
    assert_true(reviews > 1000); /* the worlds do decide things */
}

/* Leaving out the terms that are exactly 0 at OPEN and BAN gives the same
 * utility as the whole formula, on random inputs including the edges 0 and 1. */
static void test_fast_utility_equals_full(void **state)
{
    (void)state;
    static const double edge[] = {0, 1, 0.5};
    long checked = 0;
    for (int trial = 0; trial < 200000; trial++) {
#define R01() (rnd() < 0.1 ? edge[(int)(rnd() * 3)] : rnd())
        a5_globals g = {.D = R01(), .R = 2 * rnd(), .theta = R01(), .kappa = R01(), .psi = R01(),
                        .zeta = 3 * rnd(), .nu = 2 * R01(), .wc = 4 * rnd() - 1,
                        .wr = 4 * rnd() - 1, .wu = 4 * rnd() - 1, .wch = 4 * rnd() - 1,
                        .wp = 3 * R01(), .wi = 2 * rnd() - 0.5, .wh = R01(), .lambda = 10 * rnd()};
        a5_nation_in v = {.s = (double)(int)(rnd() * 3), .h = R01(), .P = 2 * R01(), .xn = R01(),
                          .rsk = R01()};
#define A5_RANDOM(name, attr) v.name = R01();
        A5_MODEL_NATION_INPUTS(A5_RANDOM)
#undef A5_RANDOM
#undef R01
        a5_peer_shares(rnd(), rnd() < 0.3 ? 0 : rnd(), rnd(), v.G);
        for (int k = 0; k < 3; k++) {
            const double fast = a5_utility(&g, &v, k, 1), full = a5_utility(&g, &v, k, 0);
            if (!(fast == full)) /* +0 and -0 are one value: the choice sees them alike */
                fail_msg("trial %d, option %d: %a != %a", trial, k, fast, full);
            checked++;
        }
        double e1[3], e2[3], U1[3], U2[3];
        for (int k = 0; k < 3; k++) {
            U1[k] = a5_utility(&g, &v, k, 1);
            U2[k] = a5_utility(&g, &v, k, 0);
        }
        assert_true(a5_softmax3(g.lambda, U1, e1) == a5_softmax3(g.lambda, U2, e2));
        assert_memory_equal(e1, e2, sizeof e1);
    }
    printf("%ld utilities equal\n", checked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_utility_equals_full),
        cmocka_unit_test(test_kernel_equals_reference_step),
    };
    return cmocka_run_group_tests_name("model_reference", tests, NULL, NULL);
}
