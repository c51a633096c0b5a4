/* The walkthroughs of docs/extending.md, kept from rotting: a utility term
 * - w_tech t_i phi(k) with a nation attribute `tech` and a weight
 * `decision.weights.tech`, and a term on a quantity derived per step,
 * - w_first (1 - beta(t)) [k = BAN], compiled in with A5_MODEL_EXTENSION_TEST.
 *
 * This file is built twice (tests/CMakeLists.txt):
 * - test_model_ext_base, against the ordinary core library: run with --dump it
 *   prints a digest of every record of 40 replicates of a scenario;
 * - test_model_ext, against the core library built with the extension: it checks
 *   that the term changes choices as the formula says, and that with w_tech = 0
 *   (and tech != 0) its digest equals the base build's, bit for bit. */
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

/* Blocs, both kinds of events, an uncertain parameter: every path of the step. */
static const char *const world =
    "steps: 24\n"
    "decision: {rationality: 3, weights: {peer: 1.2, home: 0.4}}\n"
    "peers: {base_tie: 0.2}\n"
    "us: {intel_threat: 0.2}\n"
    "defaults: {review_rate: 0.4}\n"
    "nations:\n"
    "  - {code: A, blocs: [x, y], threat: 0.7, china_trade: 0.5}\n"
    "  - {code: B, blocs: [x], policy: restrict, high_risk_share: 0.4}\n"
    "  - {code: C, blocs: [y], home_vendor: true, us_ties: 0.9}\n"
    "  - {code: D, policy: ban, mitigation: 0.3}\n"
    "  - {code: E, blocs: [x, y], intel: 0.9, high_risk_share: 0.6}\n"
    "  - {code: F, blocs: [z], cost_sensitivity: 0.9, influence: 2}\n"
    "  - {code: G, blocs: [z, x], threat: 0.2}\n"
    "  - {code: H, high_risk_share: 0.8}\n"
    "  - {code: I, blocs: [y]}\n"
    "events: [{at: 5, set: {nations.B.policy: open}},\n"
    "         {hazard: 0.2, add: {nations.*.threat: 0.03}}]\n"
    "uncertain: {decision.weights.risk: {dist: lognormal, mu: 0, sigma: 0.3}}\n";

enum { REPS = 40 };

static a5_scenario *parse(const char *text)
{
    a5_diag d = {0};
    a5_scenario *s = NULL;
    if (a5_scenario_parse(text, strlen(text), "t.yaml", NULL, 0, &d, &s)) {
        a5_diag_print(&d, stderr);
        a5_diag_free(&d);
        return NULL;
    }
    a5_diag_free(&d);
    return s;
}

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ c[i]) * 0x100000001b3ull;
    return h;
}

/* One line per replicate: a digest of all its records. Each build's model,
 * with overrides (slots, values) applied. Returns a malloc'd string or NULL. */
static char *digest(size_t nover, const size_t *slots, const double *values)
{
    a5_scenario *s = parse(world);
    if (!s)
        return NULL;
    a5_model *m = a5_model_alloc(s);
    a5_work *w = m ? a5_model_work_alloc(m) : NULL;
    const size_t n = (size_t)s->n, steps = (size_t)s->steps;
    int8_t *pol = malloc(steps * n), *fin = malloc(n);
    float *h = malloc(steps * n * sizeof *h), *P = malloc(steps * n * sizeof *P);
    float *cc = malloc(n * sizeof *cc), *cr = malloc(n * sizeof *cr);
    int16_t *fb = malloc(n * sizeof *fb);
    char *out = malloc(REPS * 32 + 1);
    int ok = w && pol && fin && h && P && cc && cr && fb && out &&
             (nover == 0 || a5_model_override(m, nover, slots, values) == 0);
    if (ok) {
        size_t len = 0;
        for (long r = 0; r < REPS && ok; r++) {
            a5_records rec = {.policy = pol, .h = h, .P = P, .first_ban = fb, .final_policy = fin, .cum_cost = cc, .cum_risk = cr};
            ok = a5_model_run(m, 0, r, w, &rec, 0) == 0;
            uint64_t d = 0xcbf29ce484222325ull;
            d = fnv(d, pol, steps * n);
            d = fnv(d, h, steps * n * sizeof *h);
            d = fnv(d, P, steps * n * sizeof *P);
            d = fnv(d, fb, n * sizeof *fb);
            d = fnv(d, fin, n);
            d = fnv(d, cc, n * sizeof *cc);
            d = fnv(d, cr, n * sizeof *cr);
            len += (size_t)snprintf(out + len, 32, "%016llx\n", (unsigned long long)d);
        }
    }
    free(pol), free(fin), free(h), free(P), free(cc), free(cr), free(fb);
    a5_model_work_free(w);
    a5_model_free(m);
    a5_scenario_free(s);
    if (!ok) {
        free(out);
        return NULL;
    }
    return out;
}

#ifdef A5_MODEL_EXTENSION_TEST

/* A parsed scenario with its model, work and stream, for the tests below. */
typedef struct {
    a5_scenario *s;
    a5_model *m;
    a5_work *w;
    gsl_rng *g;
    double *x;
} opened;

static opened open_text(const char *text)
{
    opened o = {parse(text), NULL, NULL, a5_rng_alloc(), NULL};
    assert_non_null(o.s);
    o.m = a5_model_alloc(o.s);
    o.w = a5_model_work_alloc(o.m);
    assert_non_null(o.w);
    o.x = a5_model_work_x(o.w);
    return o;
}

static void close_opened(opened *o)
{
    gsl_rng_free(o->g);
    a5_model_work_free(o->w);
    a5_model_free(o->m);
    a5_scenario_free(o->s);
}


/* With w_tech = 0 the extended model is the base model, bit for bit, whatever
 * the nations' tech: compared with the base build's digest of the same runs. */
static void test_weight_zero_is_base_model(void **state)
{
    (void)state;
    FILE *p = popen(A5_EXT_BASE_BIN " --dump", "r");
    assert_non_null(p);
    char base[REPS * 32 + 1];
    size_t len = fread(base, 1, sizeof base - 1, p);
    base[len] = 0;
    assert_int_equal(pclose(p), 0);
    assert_int_equal(len, REPS * 17);

    a5_scenario *s = parse(world);
    assert_non_null(s);
    const int n = s->n;
    size_t slots[32];
    double values[32];
    size_t k = 0;
    for (int i = 0; i < n; i++) { /* tech != 0 everywhere: only the weight switches it off */
        slots[k] = a5_param_nslot(A5_N_TECH, i, n);
        values[k++] = 0.1 + 0.1 * i;
    }
    slots[k] = A5_G_W_TECH;
    values[k++] = 0;
    a5_scenario_free(s);
    char *ext = digest(k, slots, values);
    assert_non_null(ext);
    assert_string_equal(ext, base);
    /* and the term does act: with a weight the runs differ */
    values[k - 1] = 2;
    char *on = digest(k, slots, values);
    assert_non_null(on);
    assert_true(strcmp(on, base) != 0);
    free(ext);
    free(on);
}

/* U(k) moves by exactly - w_tech t_i phi(k), and one-step choices follow the
 * softmax of the new utilities: a high-tech nation keeps OPEN more often. */
static void test_term_changes_choices(void **state)
{
    (void)state;
    double popen_w[2];
    for (int on = 0; on < 2; on++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "decision: {rationality: 2, weights: {tech: %g}}\n"
                 "policy: {restrict_compliance: 0.6}\n"
                 "nations: [{code: A, tech: 0.8, review_rate: 1, threat: 0.8, high_risk_share: 0.3},\n"
                 "          {code: B, review_rate: 0}]\n",
                 on ? 1.5 : 0.0);
        opened o = open_text(text);
        a5_model *m = o.m;
        a5_work *w = o.w;
        gsl_rng *g = o.g;
        double *x = o.x, U[3], Ub[3], p[3];
        a5_model_init(m, 0, 0, x, a5_rng_state_of(g));
        a5_model_prepare(m, x, w);
        a5_model_utility(m, x, w, 0, U);
        x[A5_G_W_TECH] = 0;
        a5_model_utility(m, x, w, 0, Ub);
        const double phi[3] = {0, 0.6, 1}, wt = on ? 1.5 : 0.0;
        for (int k = 0; k < 3; k++)
            assert_true(fabs((U[k] - Ub[k]) - (-wt * 0.8 * phi[k])) < 1e-12);
        a5_model_choice_probs(2, U, p);
        long counts[3] = {0, 0, 0}, reps = 20000;
        double *cost = calloc(2, sizeof *cost), *risk = calloc(2, sizeof *risk);
        for (long r = 0; r < reps; r++) {
            a5_rng_state *rs = a5_rng_state_of(g);
            a5_model_init(m, 0, r, x, rs);
            a5_model_step(m, x, 0, rs, w, cost, risk);
            counts[(int)x[a5_param_nslot(A5_N_POLICY, 0, 2)]]++;
        }
        for (int k = 0; k < 3; k++) {
            double se = sqrt(p[k] * (1 - p[k]) / (double)reps), f = (double)counts[k] / (double)reps;
            if (fabs(f - p[k]) > 4 * se + 1e-12)
                fail_msg("w_tech %g, option %d: frequency %.4f, probability %.4f", wt, k, f, p[k]);
        }
        popen_w[on] = (double)counts[0] / (double)reps;
        free(cost);
        free(risk);
        close_opened(&o);
    }
    printf("share keeping OPEN: %.3f without the term, %.3f with it\n", popen_w[0], popen_w[1]);
    assert_true(popen_w[1] > popen_w[0] + 0.1);
}

/* docs/extending.md's second example, a term on a quantity derived per step:
 * - w_first (1 - beta(t)) [k = BAN], beta(t) = n_B / N from a5_derive_step. U(BAN)
 * moves by exactly that, U(OPEN) and U(RESTRICT) not at all; and the plain step
 * and the strategic step (a US strategy on) both apply it with no change of
 * their own: nations ban less often with it. */
static double ban_share_after(double wfirst, int strategic)
{
    char text[1024];
    snprintf(text, sizeof text,
             "steps: 12\n"
             "decision: {rationality: 2, weights: {first_mover: %g, us: 2}}\n"
             "us: {pressure: 0.6%s}\n"
             "defaults: {review_rate: 0.5, us_ties: 0.9, threat: 0.8}\n"
             "nations: [{code: A, policy: ban}, {code: B}, {code: C}, {code: D},\n"
             "          {code: E, policy: restrict}, {code: F}]\n",
             wfirst, strategic ? ", strategy: uniform, budget: 0.3" : "");
    opened o = open_text(text);
    double cost[6], risk[6];
    long bans = 0, reps = 4000;
    for (long r = 0; r < reps; r++) {
        a5_rng_state *rs = a5_rng_state_of(o.g);
        a5_model_init(o.m, 0, r, o.x, rs);
        for (int t = 0; t < 12; t++)
            a5_model_step(o.m, o.x, t, rs, o.w, cost, risk);
        for (int i = 0; i < 6; i++)
            bans += o.x[a5_param_nslot(A5_N_POLICY, i, 6)] == A5_BAN;
    }
    close_opened(&o);
    return (double)bans / (double)(6 * reps);
}

static void test_derived_term(void **state)
{
    (void)state;
    opened o = open_text("decision: {weights: {first_mover: 1.5}}\n"
                         "nations: [{code: A, policy: ban}, {code: B}, {code: C, policy: ban},\n"
                         "          {code: D, policy: restrict}]\n");
    double U[3], Ub[3];
    a5_model_init(o.m, 0, 0, o.x, a5_rng_state_of(o.g));
    a5_model_prepare(o.m, o.x, o.w);
    a5_model_utility(o.m, o.x, o.w, 1, U);
    o.x[A5_G_W_FIRST] = 0;
    a5_model_utility(o.m, o.x, o.w, 1, Ub);
    assert_true(U[0] == Ub[0] && U[1] == Ub[1]);
    assert_true(fabs((U[2] - Ub[2]) - (-1.5 * (1 - 2.0 / 4))) < 1e-12); /* beta = 2 / 4 */
    close_opened(&o);
    for (int strategic = 0; strategic < 2; strategic++) {
        const double off = ban_share_after(0, strategic), on = ban_share_after(3, strategic);
        printf("%s step: share banning after 12 steps %.3f without the term, %.3f with it\n",
               strategic ? "strategic" : "plain", off, on);
        assert_true(on < off - 0.05);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weight_zero_is_base_model),
        cmocka_unit_test(test_term_changes_choices),
        cmocka_unit_test(test_derived_term),
    };
    return cmocka_run_group_tests_name("model_ext", tests, NULL, NULL);
}

#else /* the base build: the digest the extended build compares with */

int main(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--dump") != 0) {
        fprintf(stderr, "usage: %s --dump\n", argv[0]);
        return 2;
    }
    char *d = digest(0, NULL, NULL);
    if (!d)
        return 1;
    fputs(d, stdout);
    free(d);
    return 0;
}

#endif
