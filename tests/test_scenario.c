/* Scenario loader: every error class (with line and column), defaults, --set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_mem.h"
#include "a5_param.h"
#include "a5_rng.h"
#include "a5_scenario.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char base_text[] =
    "steps: 8\n"
    "nations:\n"
    "  - {code: GBR, blocs: [five_eyes, nato]}\n"
    "  - {code: DEU, blocs: [nato, eu]}\n";

static a5_scenario *load_ok(const char *text, const char *const *sets, int nsets)
{
    a5_diag d = {0};
    a5_scenario *s = NULL;
    int rc = a5_scenario_parse(text, strlen(text), "t.yaml", sets, nsets, &d, &s);
    if (rc) {
        a5_diag_print(&d, stderr);
        fail_msg("expected a valid scenario, got %d errors", (int)a5_diag_count(&d));
    }
    a5_diag_free(&d);
    return s;
}

/* Expect the load to fail with a message at file:line:col containing `needle`. */
static void expect_error(const char *text, const char *const *sets, int nsets, const char *file,
                         int line, int col, const char *needle)
{
    a5_diag d = {0};
    a5_scenario *s = NULL;
    int rc = a5_scenario_parse(text, strlen(text), "t.yaml", sets, nsets, &d, &s);
    assert_int_equal(rc, A5_ESCENARIO);
    assert_null(s);
    int found = 0;
    for (size_t i = 0; i < d.n; i++)
        if (strstr(d.v[i].msg, needle) && d.v[i].line == line && d.v[i].col == col &&
            strcmp(d.v[i].file, file) == 0)
            found = 1;
    if (!found) {
        a5_diag_print(&d, stderr);
        fail_msg("no error '%s' at %s:%d:%d", needle, file, line, col);
    }
    a5_diag_free(&d);
}

static void test_defaults(void **state)
{
    (void)state;
    a5_scenario *s = load_ok(base_text, NULL, 0);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->steps, 8);
    assert_int_equal(s->replicates, (long)a5_param_run[A5_S_REPLICATES].def);
    assert_int_equal(s->nblocs, 3);
    assert_int_equal(s->npoints, 1);
    assert_string_equal(s->start, "2019Q1");
    /* Every global default comes from the table. */
    for (int g = 0; g < A5_G_COUNT; g++)
        assert_true(s->base[g] == a5_param_global[g].def);
    /* Nation attributes default from the table; us_pressure from us.pressure. */
    for (int a = 0; a < A5_N_COUNT; a++) {
        double want = a == A5_N_US_PRESSURE ? a5_param_global[A5_G_US_PRESSURE].def
                                            : a5_param_nation[a].def;
        for (int i = 0; i < s->n; i++)
            assert_true(s->base[a5_param_nslot(a, i, s->n)] == want);
    }
    /* Default vendors: one high-risk, one trusted. */
    assert_int_equal(s->nvendors, 2);
    assert_true(s->vendor_high_risk[0] && !s->vendor_high_risk[1]);
    assert_true(s->store_full);
    a5_scenario_free(s);
}

static void test_sections_and_defaults_block(void **state)
{
    (void)state;
    const char *t = "decision: {rationality: 2.5, weights: {risk: 3}}\n"
                    "defaults: {review_rate: 0.1, policy: restrict, us_pressure: 0.4}\n"
                    "nations:\n  - {code: A, threat: 0.9}\n  - {code: B, policy: ban}\n";
    a5_scenario *s = load_ok(t, NULL, 0);
    assert_true(s->base[A5_G_RATIONALITY] == 2.5);
    assert_true(s->base[A5_G_W_RISK] == 3);
    assert_true(s->base[a5_param_nslot(A5_N_REVIEW_RATE, 1, 2)] == 0.1);
    assert_true(s->base[a5_param_nslot(A5_N_POLICY, 0, 2)] == 1);
    assert_true(s->base[a5_param_nslot(A5_N_POLICY, 1, 2)] == 2);
    assert_true(s->base[a5_param_nslot(A5_N_THREAT, 0, 2)] == 0.9);
    assert_true(s->base[a5_param_nslot(A5_N_US_PRESSURE, 1, 2)] == 0.4);
    assert_false(s->pressure_default[0]);
    a5_scenario_free(s);
}

/* Scenarios with one error each, in "t.yaml": where it is and what it says. */
typedef struct {
    const char *text;
    int line, col;
    const char *needle;
} bad_case;

static void expect_errors(const bad_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_error(c[i].text, NULL, 0, "t.yaml", c[i].line, c[i].col, c[i].needle);
}

static void test_unknown_key(void **state)
{
    (void)state;
    static const bad_case c[] = {
        {"stpes: 4\nnations: [{code: A}]\n", 1, 1, "unknown key 'stpes' (did you mean 'steps'?)"},
        {"decision: {weights: {rsk: 1}}\nnations: [{code: A}]\n", 1, 22,
         "unknown key 'rsk' in 'decision.weights' (did you mean 'risk'?)"},
        {"nations: [{code: A, thret: 0.1}]\n", 1, 21,
         "unknown key 'thret' in nation 'A' (did you mean 'threat'?)"},
    };
    expect_errors(c, sizeof c / sizeof *c);
}

static void test_wrong_type_and_range(void **state)
{
    (void)state;
    static const bad_case c[] = {
        {"steps: many\nnations: [{code: A}]\n", 1, 8, "'steps': expected a number, got 'many'"},
        {"steps: \"4\"\nnations: [{code: A}]\n", 1, 8, "quoted text"},
        {"nations: [{code: A, threat: 1.5}]\n", 1, 29,
         "'nations.A.threat' = 1.5 must be in [0, 1]"},
        {"steps: 2.5\nnations: [{code: A}]\n", 1, 8, "whole number"},
        {"nations: [{code: A, home_vendor: yes}]\n", 1, 34, "must be true or false"},
        {"decision: {rationality: [1, 2]}\nnations: [{code: A}]\n", 1, 25,
         "must be a number, got a list"},
    };
    expect_errors(c, sizeof c / sizeof *c);
}

static void test_nan_inf_huge(void **state)
{
    (void)state;
    static const bad_case c[] = {
        {"decision: {rationality: .nan}\nnations: [{code: A}]\n", 1, 25, "expected a number"},
        {"decision: {rationality: .inf}\nnations: [{code: A}]\n", 1, 25, "expected a number"},
        {"decision: {rationality: nan}\nnations: [{code: A}]\n", 1, 25, "expected a number"},
        {"decision: {rationality: 1e999}\nnations: [{code: A}]\n", 1, 25, "too large"},
        {"replicates: 99999999999999999999\nnations: [{code: A}]\n", 1, 13,
         "must be in [1, 1000000000]"},
        {"steps: 40000\nnations: [{code: A}]\n", 1, 8, "must be in [1, 32767]"},
    };
    expect_errors(c, sizeof c / sizeof *c);
}

static void test_duplicates(void **state)
{
    (void)state;
    expect_error("nations:\n  - {code: A}\n  - {code: A}\n", NULL, 0, "t.yaml", 3, 12,
                 "duplicate nation code 'A' (first at line 2)");
    expect_error("steps: 3\nsteps: 4\nnations: [{code: A}]\n", NULL, 0, "t.yaml", 2, 1,
                 "duplicate key 'steps'");
}

static void test_paths(void **state)
{
    (void)state;
    expect_error("nations: [{code: GBR}]\nuncertain: {nations.GBX.threat: {dist: fixed, value: 1}}\n",
                 NULL, 0, "t.yaml", 2, 13, "unknown nation 'GBX' in path 'nations.GBX.threat' (did you mean 'GBR'?)");
    expect_error("nations: [{code: A}]\nsweep: {us.escalaton: [0, 1]}\n", NULL, 0, "t.yaml", 2, 9,
                 "path 'us.escalaton' names nothing (did you mean 'us.escalation'?)");
    expect_error("nations: [{code: A}]\nsweep: {nations.*.treat: [0, 1]}\n", NULL, 0, "t.yaml", 2, 9,
                 "(did you mean 'threat'?)");
    expect_error("nations: [{code: A}]\nsweep: {steps: [1, 2]}\n", NULL, 0, "t.yaml", 2, 9,
                 "whole-run setting");
    expect_error("nations: [{code: A}]\nsweep: {nations.A.home_vendor: [0, 1]}\n", NULL, 0,
                 "t.yaml", 2, 9, "cannot be varied");
}

static void test_distributions(void **state)
{
    (void)state;
    expect_error("nations: [{code: A}]\nuncertain: {us.escalation: {dist: gaussian, mean: 0}}\n",
                 NULL, 0, "t.yaml", 2, 35, "unknown distribution 'gaussian'");
    expect_error("nations: [{code: A}]\nuncertain: {us.escalation: {dist: normal, mean: 0}}\n",
                 NULL, 0, "t.yaml", 2, 28, "needs 'sd'");
    expect_error("nations: [{code: A}]\nuncertain: {us.escalation: {dist: beta, a: 0, b: 1}}\n",
                 NULL, 0, "t.yaml", 2, 28, "needs a > 0 and b > 0");
    expect_error("nations: [{code: A}]\nuncertain: {us.escalation: {dist: uniform, lo: 0, hi: 1, "
                 "mean: 3}}\n",
                 NULL, 0, "t.yaml", 2, 58, "unknown key 'mean' in a uniform distribution");
    a5_scenario *s = load_ok("nations: [{code: A}, {code: B}]\nuncertain:\n"
                             "  nations.*.threat: {dist: triangular, lo: 0, mode: 0.5, hi: 2}\n",
                             NULL, 0);
    assert_int_equal(s->nuncertain, 1);
    assert_int_equal(s->uncertain[0].target.nslots, 2);
    assert_true(s->uncertain[0].dist.max == 1); /* clipped to the attribute's range */
    a5_scenario_free(s);
}

static void test_sweep_with_design(void **state)
{
    (void)state;
    expect_error("nations: [{code: A}]\nsweep: {us.escalation: [0, 1]}\n"
                 "design: {method: lhs, points: 4, ranges: {us.pressure: [0, 1]}}\n",
                 NULL, 0, "t.yaml", 3, 9, "cannot be used together");
}

static void test_policy_and_vendors(void **state)
{
    (void)state;
    expect_error("nations: [{code: A, policy: banned}]\n", NULL, 0, "t.yaml", 1, 29,
                 "unknown policy 'banned'; expected open, restrict or ban");
    expect_error("vendors: [{name: E, price: 1}, {name: N, price: 1}]\nnations: [{code: A}]\n",
                 NULL, 0, "t.yaml", 1, 10, "at least one high-risk vendor");
    expect_error("vendors: [{name: H, price: 1, high_risk: true}]\nnations: [{code: A}]\n", NULL,
                 0, "t.yaml", 1, 10, "found 1 high-risk and 0 trusted");
    expect_error("vendors: [{name: H, price: 0, high_risk: true}, {name: E, price: 1}]\n"
                 "nations: [{code: A}]\n", NULL, 0, "t.yaml", 1, 28, "'vendors.H.price' = 0 must be in (0,");
}

static void test_malformed_and_empty(void **state)
{
    (void)state;
    expect_error("nations: [{code: A}\nsteps: 3\n", NULL, 0, "t.yaml", 2, 1, "malformed YAML");
    expect_error("", NULL, 0, "t.yaml", 1, 1, "empty scenario");
    expect_error("# only a comment\n", NULL, 0, "t.yaml", 1, 1, "empty scenario");
    expect_error("- a\n- b\n", NULL, 0, "t.yaml", 1, 1, "must be a mapping");
    expect_error("steps: 3\n", NULL, 0, "t.yaml", 1, 1, "no 'nations' list");
    expect_error("a: &x 1\nb: *x\nnations: [{code: A}]\n", NULL, 0, "t.yaml", 2, 4, "alias");
    const char nul[] = "steps: 3\nna\0es: []\n";
    a5_diag d = {0};
    a5_scenario *s;
    assert_int_equal(a5_scenario_parse(nul, sizeof nul - 1, "t.yaml", NULL, 0, &d, &s), A5_ESCENARIO);
    assert_int_equal(d.v[0].line, 2);
    assert_int_equal(d.v[0].col, 3);
    a5_diag_free(&d);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    char buf[4096];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        buf[n++] = '[';
    buf[n] = 0;
    expect_error(buf, NULL, 0, "t.yaml", 1, 33, "nesting deeper than 32");
}

static void test_events(void **state)
{
    (void)state;
    expect_error("steps: 8\nnations: [{code: A}]\nevents: [{at: 2021Q1, set: {risk.supply_risk: 0.5}}]\n",
                 NULL, 0, "t.yaml", 3, 15, "event date 2021Q1 is outside the run (2019Q1 to 2020Q4)");
    expect_error("steps: 8\nnations: [{code: A}]\nevents: [{at: 8, set: {risk.supply_risk: 0.5}}]\n",
                 NULL, 0, "t.yaml", 3, 15, "outside the run (steps 0 to 7)");
    expect_error("steps: 8\nnations: [{code: A}]\nevents: [{at: 2019Q5, set: {risk.supply_risk: 0.5}}]\n",
                 NULL, 0, "t.yaml", 3, 15, "quarter label");
    expect_error("nations: [{code: A}]\nevents: [{set: {risk.supply_risk: 0.5}}]\n", NULL, 0,
                 "t.yaml", 2, 10, "exactly one of 'at'");
    expect_error("nations: [{code: A}]\nevents: [{at: 1, add: {nations.A.policy: 1}}]\n", NULL, 0,
                 "t.yaml", 2, 24, "use 'set'");
    a5_scenario *s = load_ok("start: 2019Q3\nsteps: 8\nnations: [{code: A}]\nevents:\n"
                             "  - {at: 2020Q1, set: {nations.A.policy: ban}}\n"
                             "  - {hazard: 0.5, add: {nations.*.threat: 0.1}}\n",
                             NULL, 0);
    assert_int_equal(s->nevents, 2);
    assert_int_equal(s->events[0].at, 2);
    assert_true(s->events[0].ops[0].value == 2);
    assert_int_equal(s->events[1].at, -1);
    assert_true(s->events[1].hazard == 0.5);
    a5_scenario_free(s);
}

static void test_all_errors_reported(void **state)
{
    (void)state;
    a5_diag d = {0};
    a5_scenario *s;
    const char *t = "stpes: 3\nnations:\n  - {code: A, threat: 2}\n  - {code: B, intel: -1}\n";
    assert_int_equal(a5_scenario_parse(t, strlen(t), "t.yaml", NULL, 0, &d, &s), A5_ESCENARIO);
    assert_int_equal(a5_diag_count(&d), 3);
    a5_diag_free(&d);
}

static void test_set(void **state)
{
    (void)state;
    const char *sets[] = {"decision.weights.risk=2", "nations.GBR.threat=0.9", "nations.*.intel=0.3",
                          "steps=5", "output.store=summary", "us.intel_threat=0.25"};
    a5_scenario *s = load_ok(base_text, sets, 6);
    assert_true(s->base[A5_G_W_RISK] == 2);
    assert_true(s->base[a5_param_nslot(A5_N_THREAT, 0, 2)] == 0.9);
    assert_true(s->base[a5_param_nslot(A5_N_THREAT, 1, 2)] == 0.5);
    assert_true(s->base[a5_param_nslot(A5_N_INTEL, 1, 2)] == 0.3);
    assert_int_equal(s->steps, 5);
    assert_false(s->store_full);
    assert_true(s->base[A5_G_INTEL_THREAT] == 0.25);
    /* The resolved text reloads to the same scenario. */
    a5_scenario *r = load_ok(s->text, NULL, 0);
    assert_int_equal(r->nslots, s->nslots);
    assert_memory_equal(r->base, s->base, s->nslots * sizeof *s->base);
    assert_int_equal(r->steps, 5);
    a5_scenario_free(r);
    a5_scenario_free(s);

    /* --set fixes a path that was drawn or swept. */
    const char *fix[] = {"decision.weights.risk=2", "us.escalation=0.5"};
    s = load_ok("nations: [{code: A}]\nuncertain: {decision.weights.risk: {dist: normal, mean: 1, sd: 1}}\n"
                "sweep: {us.escalation: [0, 1]}\n", fix, 2);
    assert_int_equal(s->nuncertain, 0);
    assert_int_equal(s->npoints, 1);
    assert_int_equal(s->nvaried, 0);
    assert_true(s->base[A5_G_W_RISK] == 2 && s->base[A5_G_US_ESCALATION] == 0.5);
    a5_scenario_free(s);

    const char *bad1[] = {"decision.weights.rsk=2"};
    expect_error(base_text, bad1, 1, "--set", 1, 1, "names nothing (did you mean 'decision.weights.risk'?)");
    const char *bad2[] = {"steps=3", "nations.GBX.threat=0.9"};
    expect_error(base_text, bad2, 2, "--set", 2, 9, "unknown nation 'GBX'");
    const char *bad3[] = {"nations.GBR.threat=2"};
    expect_error(base_text, bad3, 1, "--set", 1, 20, "must be in [0, 1]");
    const char *bad4[] = {"novalue"};
    expect_error(base_text, bad4, 1, "--set", 1, 1, "expected PATH=VALUE");
}

static void test_sweep_grid(void **state)
{
    (void)state;
    a5_scenario *s = load_ok("nations: [{code: A}]\nsweep:\n  us.escalation: [0, 0.1, 0.2]\n"
                             "  nations.*.threat: [0.2, 0.8]\n", NULL, 0);
    assert_int_equal(s->npoints, 6);
    assert_int_equal(s->nvaried, 2);
    /* First path slowest. */
    double want[6][2] = {{0, 0.2}, {0, 0.8}, {0.1, 0.2}, {0.1, 0.8}, {0.2, 0.2}, {0.2, 0.8}};
    for (int p = 0; p < 6; p++)
        for (int j = 0; j < 2; j++)
            assert_true(s->points[p * 2 + j] == want[p][j]);
    double x[64];
    assert_true(s->nslots <= 64);
    a5_scenario_point_params(s, 3, x);
    assert_true(x[A5_G_US_ESCALATION] == 0.1);
    assert_true(x[a5_param_nslot(A5_N_THREAT, 0, 1)] == 0.8);
    a5_scenario_free(s);
}

static void test_example_files_valid(void **state)
{
    (void)state;
    const char *files[] = {"minimal.yaml", "huawei_2019.yaml", "us_escalation_sweep.yaml",
                           "sensitivity.yaml"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/scenarios/%s", A5_SOURCE_DIR, files[i]);
        a5_diag d = {0};
        a5_scenario *s = NULL;
        int rc = a5_scenario_load(path, NULL, 0, &d, &s);
        if (rc)
            a5_diag_print(&d, stderr);
        assert_int_equal(rc, 0);
        a5_scenario_free(s);
        a5_diag_free(&d);
    }
}

static void test_base(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/scenarios/x.yaml", A5_SOURCE_DIR);
    const char *t = "base: huawei_2019.yaml\nsteps: 8\nuncertain: {}\n";
    a5_diag d = {0};
    a5_scenario *s = NULL;
    assert_int_equal(a5_scenario_parse(t, strlen(t), path, NULL, 0, &d, &s), 0);
    assert_int_equal(s->steps, 8);
    assert_int_equal(s->n, 34);
    assert_int_equal(s->nuncertain, 0);
    assert_null(strstr(s->text, "base:"));
    a5_scenario_free(s);
    const char *bad = "base: nope.yaml\nsteps: 4\n";
    assert_int_equal(a5_scenario_parse(bad, strlen(bad), path, NULL, 0, &d, &s), A5_ESCENARIO);
    int found = 0;
    for (size_t i = 0; i < d.n; i++)
        found |= d.v[i].line == 1 && d.v[i].col == 7 && strstr(d.v[i].msg, "cannot read base") != NULL;
    assert_true(found);
    a5_diag_free(&d);
    /* An error inside the base file is located in the base file. */
    const char *typo = "base: huawei_2019.yaml\nsteps: 8\ndecision: {weights: {rsk: 1}}\n";
    assert_int_equal(a5_scenario_parse(typo, strlen(typo), path, NULL, 0, &d, &s), A5_ESCENARIO);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 3);
    a5_diag_free(&d);
}

/* Write `text` to dir/name. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

/* Design files as pandas (index column), R's write.csv (quoted names, "" index
 * header, row names) and Excel (BOM, CRLF) write them load like the plain one;
 * 0.2.1 refused the first two ("path '' names nothing", "path '"us.escalation"'
 * names nothing") and the BOM ("path '\xEF\xBB\xBFus.escalation' ..."). */
static void test_design_csv_styles(void **state)
{
    (void)state;
    char dir[] = "/tmp/a5scenXXXXXX";
    assert_non_null(mkdtemp(dir));
    char name[1100];
    snprintf(name, sizeof name, "%s/s.yaml", dir);
    static const char *const styles[] = {
        "us.escalation,nations.*.threat\n0.25,0.5\n0.75,0.125\n",
        ",us.escalation,nations.*.threat\n0,0.25,0.5\n1,0.75,0.125\n",
        "\"\",\"us.escalation\",\"nations.*.threat\"\n\"1\",0.25,0.5\n\"2\",0.75,0.125\n",
        "\xEF\xBB\xBF" "us.escalation,nations.*.threat\r\n0.25,0.5\r\n0.75,0.125",
        "\xEF\xBB\xBF" ",\"us.escalation\",nations.*.threat\r\n0,\"0.25\",0.5\r\n1,0.75,0.125\r\n",
    };
    const char *t = "nations: [{code: A}, {code: B}]\ndesign: {method: file, file: pts.csv}\n";
    for (size_t i = 0; i < sizeof styles / sizeof *styles; i++) {
        write_file(dir, "pts.csv", styles[i]);
        a5_diag d = {0};
        a5_scenario *s = NULL;
        int rc = a5_scenario_parse(t, strlen(t), name, NULL, 0, &d, &s);
        if (rc) {
            a5_diag_print(&d, stderr);
            fail_msg("style %zu refused", i);
        }
        assert_int_equal(s->design, A5_DESIGN_FILE);
        assert_int_equal(s->nvaried, 2);
        assert_string_equal(s->varied[0].path, "us.escalation");
        assert_string_equal(s->varied[1].path, "nations.*.threat");
        assert_int_equal(s->npoints, 2);
        assert_true(s->points[0] == 0.25 && s->points[1] == 0.5);
        assert_true(s->points[2] == 0.75 && s->points[3] == 0.125);
        a5_scenario_free(s);
        a5_diag_free(&d);
    }
    /* Only an empty header names an index column: a named first column is a path,
     * and errors stay located in the CSV (column of the field's start). */
    write_file(dir, "pts.csv", "id,us.escalation\n0,0.5\n");
    a5_diag d = {0};
    a5_scenario *s = NULL;
    assert_int_equal(a5_scenario_parse(t, strlen(t), name, NULL, 0, &d, &s), A5_ESCENARIO);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 1);
    assert_int_equal(d.v[0].col, 1);
    assert_non_null(strstr(d.v[0].msg, "path 'id' names nothing"));
    a5_diag_free(&d);
    write_file(dir, "pts.csv", ",\"nations.*.threat\"\r\n\"1\",\"7\"\r\n\"2\"\r\n");
    assert_int_equal(a5_scenario_parse(t, strlen(t), name, NULL, 0, &d, &s), A5_ESCENARIO);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[0].line, 2); /* 7 is outside [0, 1] */
    assert_int_equal(d.v[0].col, 5);
    assert_non_null(strstr(d.v[0].msg, "nations.*.threat"));
    assert_int_equal(d.v[1].line, 3); /* the index alone */
    assert_non_null(strstr(d.v[1].msg, "row has 0 values; the header names 1 paths"));
    a5_diag_free(&d);
    char csv[1100]; /* a NUL byte on line 3, column 1 */
    snprintf(csv, sizeof csv, "%s/pts.csv", dir);
    FILE *f = fopen(csv, "wb");
    assert_non_null(f);
    fwrite("us.escalation\n0.5\n\0\n", 1, 20, f);
    fclose(f);
    assert_int_equal(a5_scenario_parse(t, strlen(t), name, NULL, 0, &d, &s), A5_ESCENARIO);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].file, csv);
    assert_int_equal(d.v[0].line, 3);
    assert_int_equal(d.v[0].col, 1);
    assert_non_null(strstr(d.v[0].msg, "NUL byte"));
    a5_diag_free(&d);
    remove_file(dir, "pts.csv");
    rmdir(dir);
}

/* Fail each allocation of a5_scenario_parse in turn, on scenarios that use base:,
 * --set, uncertain, events and a design (from a file, then sampled): every one
 * returns A5_ENOMEM or a located diagnostic, never a scenario, never a crash; the
 * sanitizer build checks that nothing leaks. */
static void test_out_of_memory(void **state)
{
    (void)state;
    char dir[] = "/tmp/a5scenXXXXXX";
    assert_non_null(mkdtemp(dir));
    char name[1100];
    snprintf(name, sizeof name, "%s/s.yaml", dir);
    write_file(dir, "base.yaml",
               "steps: 12\nnations:\n  - {code: GBR, blocs: [five_eyes, nato]}\n"
               "  - {code: DEU, blocs: [nato, eu], threat: 0.4}\n"
               "vendors: [{name: Huawei, price: 0.8, high_risk: true}, {name: Nokia, price: 1}]\n");
    write_file(dir, "pts.csv", ",us.escalation,nations.*.threat\n0,0.1,0.2\n1,0.3,0.4\n");
    static const char *const texts[] = {
        "base: base.yaml\nname: oom\ndecision: {weights: {risk: 2}}\n"
        "uncertain: {us.intel_threat: {dist: uniform, lo: 0, hi: 1}}\n"
        "events: [{at: 2020Q2, set: {nations.GBR.policy: ban}}, {hazard: 0.1, add: {us.escalation: 0.1}}]\n"
        "design: {method: file, file: pts.csv}\n",
        "base: base.yaml\nuncertain: {nations.DEU.threat: {dist: beta, a: 2, b: 3}}\n"
        "events: [{at: 3, set: {vendors.Nokia.price: 1.2}}]\n"
        "design: {method: saltelli, points: 4, ranges: {us.escalation: [0, 1], market.renewal: [0, 1]}}\n",
        "base: base.yaml\nsweep: {us.escalation: [0.1, 0.2], nations.*.threat: [0.3, 0.6]}\n",
    };
    const char *const sets[] = {"replicates=3", "nations.*.threat=0.5", "vendors.Huawei.price=0.7",
                                "defaults.us_pressure=0.2", "description=under pressure"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        const char *t = texts[i];
        int nsets = i == 2 ? 3 : 5; /* the sweep varies nations.*.threat: no override */
        const char *const *st = i == 2 ? sets + 2 : sets;
        a5_diag d = {0};
        a5_scenario *s = NULL;
        a5_mem_fail_at(0);
        int rc = a5_scenario_parse(t, strlen(t), name, st, nsets, &d, &s);
        long calls = a5_mem_fail_at(0);
        if (rc) {
            a5_diag_print(&d, stderr);
            fail_msg("scenario %zu refused", i);
        }
        a5_scenario_free(s);
        assert_true(calls > 50);
        long nomem = 0;
        for (long k = 1; k <= calls; k++) {
            a5_diag dk = {0};
            a5_scenario *sk = NULL;
            a5_mem_fail_at(k);
            rc = a5_scenario_parse(t, strlen(t), name, st, nsets, &dk, &sk);
            a5_mem_fail_at(0);
            if (rc != A5_ENOMEM && !(rc == A5_ESCENARIO && a5_diag_count(&dk) > 0))
                fail_msg("scenario %zu, allocation %ld of %ld failed: rc %d, %zu messages", i, k,
                         calls, rc, a5_diag_count(&dk));
            assert_null(sk);
            nomem += rc == A5_ENOMEM;
            if (rc != A5_ENOMEM && getenv("A5_OOM_VERBOSE")) {
                fprintf(stderr, "k=%ld: ", k);
                a5_diag_print(&dk, stderr);
            }
            a5_diag_free(&dk);
        }
        assert_true(nomem > calls / 2);
        a5_diag_free(&d);
    }
    remove_file(dir, "base.yaml");
    remove_file(dir, "pts.csv");
    rmdir(dir);
}

/* A uniform over codes (a strategy name) gives every code the same chance: 4000
 * draws over schedule..wavering (4 codes) land about 1000 on each (the end codes
 * had half of that when the uniform spanned only lo..hi). */
static void test_uniform_over_names_is_uniform(void **state)
{
    (void)state;
    a5_scenario *s = load_ok("steps: 2\nnations: [{code: A}]\nuncertain: {us.strategy: "
                             "{dist: uniform, lo: 0, hi: 3}}\n",
                             NULL, 0);
    assert_int_equal((int)s->nuncertain, 1);
    gsl_rng *g = a5_rng_alloc();
    assert_non_null(g);
    int count[4] = {0};
    for (uint32_t r = 0; r < 4000; r++) {
        a5_rng_seek(g, 7, 0, r);
        double v = a5_param_clamp(s->uncertain[0].target.param,
                                  a5_rng_draw(&s->uncertain[0].dist, g));
        assert_true(v >= 0 && v <= 3);
        count[(int)v]++;
    }
    for (int c = 0; c < 4; c++)
        if (count[c] < 850 || count[c] > 1150)
            fail_msg("code %d drawn %d times of 4000 (expected about 1000)", c, count[c]);
    gsl_rng_free(g);
    a5_scenario_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_sections_and_defaults_block),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_wrong_type_and_range),
        cmocka_unit_test(test_nan_inf_huge),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_distributions),
        cmocka_unit_test(test_sweep_with_design),
        cmocka_unit_test(test_policy_and_vendors),
        cmocka_unit_test(test_malformed_and_empty),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_sweep_grid),
        cmocka_unit_test(test_example_files_valid),
        cmocka_unit_test(test_base),
        cmocka_unit_test(test_design_csv_styles),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_uniform_over_names_is_uniform),
    };
    return cmocka_run_group_tests_name("scenario", tests, NULL, NULL);
}
