/* Designs: Latin hypercube stratification, Sobol points equal to GSL's, Saltelli
 * layouts in SALib's order, Morris trajectories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_design.h"
#include "a5_mem.h"
#include "a5_scenario.h"

#include <gsl/gsl_qrng.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void test_lhs_stratified(void **state)
{
    (void)state;
    const long n = 97;
    const int k = 5;
    double *u = malloc(sizeof(double) * (size_t)(n * k));
    assert_int_equal(a5_design_lhs(n, k, 123, u), 0);
    for (int j = 0; j < k; j++) {
        char seen[97] = {0};
        for (long i = 0; i < n; i++) {
            double v = u[i * k + j];
            assert_true(v >= 0 && v < 1);
            long s = (long)(v * (double)n);
            assert_false(seen[s]);
            seen[s] = 1;
        }
    }
    double *again = malloc(sizeof(double) * (size_t)(n * k));
    assert_int_equal(a5_design_lhs(n, k, 123, again), 0);
    assert_memory_equal(u, again, sizeof(double) * (size_t)(n * k));
    assert_int_equal(a5_design_lhs(n, k, 124, again), 0);
    assert_true(memcmp(u, again, sizeof(double) * (size_t)(n * k)) != 0);
    free(u);
    free(again);
}

static void test_sobol_matches_gsl(void **state)
{
    (void)state;
    const long n = 64;
    const int k = 3;
    double u[64 * 3], v[3];
    assert_int_equal(a5_design_sobol(n, k, u), 0);
    gsl_qrng *q = gsl_qrng_alloc(gsl_qrng_sobol, k);
    for (long i = 0; i < n; i++) {
        gsl_qrng_get(q, v);
        for (int j = 0; j < k; j++)
            assert_true(u[i * k + j] == v[j]);
    }
    gsl_qrng_free(q);
    assert_int_equal(a5_design_sobol(4, 41, u), A5_ELIMIT);
}

static void test_scenario_design_ranges(void **state)
{
    (void)state;
    const char *t = "nations: [{code: A}]\n"
                    "design: {method: lhs, points: 10, ranges: {us.escalation: [0, 0.1],\n"
                    "         decision.rationality: {lo: 0.1, hi: 10, log: true}}}\n";
    a5_diag d = {0};
    a5_scenario *s = NULL;
    assert_int_equal(a5_scenario_parse(t, strlen(t), "t.yaml", NULL, 0, &d, &s), 0);
    assert_int_equal(s->npoints, 10);
    for (long p = 0; p < 10; p++) {
        double e = s->points[p * 2], r = s->points[p * 2 + 1];
        assert_true(e >= 0 && e <= 0.1);
        assert_true(r >= 0.1 && r <= 10);
    }
    a5_scenario_free(s);
    a5_diag_free(&d);
}

static void test_saltelli_layout(void **state)
{
    (void)state;
    /* n = 2 base rows, k = 3: unit rows are [a1 a2 a3 b1 b2 b3]. */
    const double unit[2 * 6] = {1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60};
    double out[2 * 5 * 3];
    a5_design_saltelli(unit, 2, 3, out);
    const double want[2 * 5 * 3] = {1, 2, 3, 10, 2, 3, 1, 20, 3, 1, 2, 30, 10, 20, 30,
                                    4, 5, 6, 40, 5, 6, 4, 50, 6, 4, 5, 60, 40, 50, 60};
    assert_memory_equal(out, want, sizeof want);
}

static a5_scenario *parse_at(const char *dir, const char *text, a5_diag *d)
{
    char name[1024];
    snprintf(name, sizeof name, "%s/s.yaml", dir);
    a5_scenario *s = NULL;
    a5_scenario_parse(text, strlen(text), name, NULL, 0, d, &s);
    return s;
}

/* Write csv, then parse a scenario whose design reads it from dir. */
static a5_scenario *parse_with_csv(const char *dir, const char *csv, const char *text, a5_diag *d)
{
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return parse_at(dir, "nations: [{code: A}]\ndesign: {method: file, file: pts.csv}\n", d);
}

static void test_saltelli_and_file_designs(void **state)
{
    (void)state;
    a5_diag d = {0};
    a5_scenario *s = parse_at(".", "nations: [{code: A}]\ndesign: {method: saltelli, points: 8, "
                                    "ranges: {us.escalation: [0, 1], us.pressure: [0, 2]}}\n", &d);
    assert_non_null(s);
    assert_int_equal(s->npoints, 8 * 4);
    assert_int_equal(s->design_n, 8);
    /* Row 1 (AB_1) differs from row 0 (A) only in column 0; row 3 is B. */
    assert_true(s->points[2 + 1] == s->points[1]);
    assert_true(s->points[2 * 2 + 0] == s->points[0]);
    assert_true(s->points[2 * 1 + 0] == s->points[2 * 3 + 0]);
    a5_scenario_free(s);

    char dir[] = "/tmp/a5designXXXXXX";
    assert_non_null(mkdtemp(dir));
    char csv[1100];
    snprintf(csv, sizeof csv, "%s/pts.csv", dir);
    s = parse_with_csv(dir, csv, "us.escalation, nations.*.threat\n0.1, 0.2\n0.3,0.4\n", &d);
    assert_non_null(s);
    assert_int_equal(s->npoints, 2);
    assert_true(s->points[0] == 0.1 && s->points[3] == 0.4);
    a5_scenario_free(s);
    assert_int_equal(a5_diag_count(&d), 0);

    s = parse_with_csv(dir, csv, "us.escalaton,nations.*.threat\n0.1,7\n0.2\n", &d);
    assert_null(s);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 1);
    assert_int_equal(d.v[0].col, 1);
    assert_non_null(strstr(d.v[0].msg, "did you mean 'us.escalation'"));
    a5_diag_free(&d);

    s = parse_with_csv(dir, csv, "us.escalation,nations.*.threat\n0.1,7\n0.2\n", &d);
    assert_null(s);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[0].line, 2); /* 7 is outside [0, 1] */
    assert_int_equal(d.v[0].col, 5);
    assert_int_equal(d.v[1].line, 3); /* one value short */
    a5_diag_free(&d);
    unlink(csv);
    rmdir(dir);
}

/* Design files as pandas, R and spreadsheet programs write them (0.2.1 refused
 * each: "path '' names nothing", "path '"us.escalation"' names nothing", a BOM
 * glued to the first path). */
static void test_file_design_from_other_tools(void **state)
{
    (void)state;
    char dir[] = "/tmp/a5designXXXXXX";
    assert_non_null(mkdtemp(dir));
    char csv[1100];
    snprintf(csv, sizeof csv, "%s/pts.csv", dir);
    static const char *const files[] = {
        /* pandas: df.to_csv("pts.csv") */
        ",us.escalation,nations.*.threat\n0,0.1,0.2\n1,0.3,0.4\n",
        /* R: write.csv(df, "pts.csv") */
        "\"\",\"us.escalation\",\"nations.*.threat\"\n\"1\",0.1,0.2\n\"2\",0.3,0.4\n",
        /* UTF-8 with a byte-order mark and CRLF, no final newline */
        "\xEF\xBB\xBF" "us.escalation,nations.*.threat\r\n0.1,0.2\r\n0.3,0.4",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        a5_diag d = {0};
        a5_scenario *s = parse_with_csv(dir, csv, files[i], &d);
        if (!s)
            a5_diag_print(&d, stderr);
        assert_non_null(s);
        assert_int_equal(s->nvaried, 2);
        assert_string_equal(s->varied[0].path, "us.escalation");
        assert_int_equal(s->npoints, 2);
        assert_true(s->points[0] == 0.1 && s->points[1] == 0.2);
        assert_true(s->points[2] == 0.3 && s->points[3] == 0.4);
        a5_scenario_free(s);
        a5_diag_free(&d);
    }
    /* The index column is dropped from every row: a row of just an index is short. */
    a5_diag d = {0};
    assert_null(parse_with_csv(dir, csv, ",us.escalation\n0,0.1\n1\n", &d));
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 3);
    assert_non_null(strstr(d.v[0].msg, "row has 0 values; the header names 1 paths"));
    a5_diag_free(&d);
    /* A quote left open is located where its field starts. */
    assert_null(parse_with_csv(dir, csv, "us.escalation\n\"0.1\n", &d));
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 2);
    assert_int_equal(d.v[0].col, 1);
    assert_non_null(strstr(d.v[0].msg, "not closed"));
    a5_diag_free(&d);
    unlink(csv);
    rmdir(dir);
}

static void test_saltelli_second_order_layout(void **state)
{
    (void)state;
    /* n = 2 base rows, k = 3: per base row A, AB_1..AB_3, BA_1..BA_3, B (SALib's
     * calc_second_order=True order). */
    const double unit[2 * 6] = {1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60};
    double out[2 * 8 * 3];
    a5_design_saltelli2(unit, 2, 3, out);
    const double want[2 * 8 * 3] = {
        1,  2,  3,  10, 2,  3,  1, 20, 3,  1, 2,  30, 1,  20, 30, 10, 2,  30, 10, 20, 3,  10, 20, 30,
        4,  5,  6,  40, 5,  6,  4, 50, 6,  4, 5,  60, 4,  50, 60, 40, 5,  60, 40, 50, 6,  40, 50, 60};
    assert_memory_equal(out, want, sizeof want);
}

/* Check r trajectories of k inputs on p levels: rows on the grid in [0, 1], each
 * step moves exactly one input by +-delta, every input moves once per trajectory.
 * Counts steps up and down into *up, *down. */
static void check_trajectories(const double *u, long r, int k, int p, long *up, long *down)
{
    double delta = p / (2.0 * (p - 1));
    for (long t = 0; t < r; t++) {
        const double *row = u + t * (k + 1) * k;
        int moved[64] = {0};
        for (int i = 0; i <= k; i++)
            for (int j = 0; j < k; j++) {
                double v = row[i * k + j], lv = v * (p - 1);
                assert_true(v >= 0 && v <= 1);
                assert_true(fabs(lv - round(lv)) < 1e-9); /* on the grid */
            }
        for (int i = 1; i <= k; i++) {
            int changed = 0;
            for (int j = 0; j < k; j++) {
                double d = row[i * k + j] - row[(i - 1) * k + j];
                if (d == 0)
                    continue;
                changed++;
                moved[j]++;
                assert_true(fabs(fabs(d) - delta) < 1e-12);
                *up += d > 0;
                *down += d < 0;
            }
            assert_int_equal(changed, 1);
        }
        for (int j = 0; j < k; j++)
            assert_int_equal(moved[j], 1);
    }
}

static void test_morris_trajectories(void **state)
{
    (void)state;
    static const int levels[] = {2, 4, 6, 10};
    for (size_t q = 0; q < sizeof levels / sizeof *levels; q++) {
        const long r = 200;
        const int k = 7, p = levels[q];
        size_t bytes = sizeof(double) * (size_t)(r * (k + 1) * k);
        double *u = malloc(bytes), *again = malloc(bytes);
        assert_int_equal(a5_design_morris(r, k, p, 99, u), 0);
        long up = 0, down = 0;
        check_trajectories(u, r, k, p, &up, &down);
        /* Directions are drawn: both occur, about equally often. */
        assert_true(up > r * k / 3 && down > r * k / 3);
        /* Every start level x* in {0, .., p/2 - 1} of the grid is used, none above. */
        int seen[10] = {0};
        for (long t = 0; t < r; t++)
            for (int j = 0; j < k; j++) {
                const double *row = u + t * (k + 1) * k;
                double lo = fmin(row[j], row[k * k + j]); /* start or end: the lower end */
                long lv = lround(lo * (p - 1));
                assert_true(lv >= 0 && lv < p / 2);
                seen[lv] = 1;
            }
        for (int l = 0; l < p / 2; l++)
            assert_true(seen[l]);
        /* The order in which inputs move is drawn: input 0 does not always move first. */
        int first0 = 0;
        for (long t = 0; t < r; t++)
            first0 += u[t * (k + 1) * k + k] != u[t * (k + 1) * k];
        assert_true(first0 > 0 && first0 < r / 2);
        /* Deterministic for a seed, different for another. */
        assert_int_equal(a5_design_morris(r, k, p, 99, again), 0);
        assert_memory_equal(u, again, bytes);
        assert_int_equal(a5_design_morris(r, k, p, 100, again), 0);
        assert_true(memcmp(u, again, bytes) != 0);
        free(u);
        free(again);
    }
}

static void test_morris_scenario(void **state)
{
    (void)state;
    const char *t = "seed: 7\nnations: [{code: A}]\n"
                    "design: {method: morris, trajectories: 30, levels: 6, ranges: {\n"
                    "  us.escalation: [0.01, 0.05], decision.rationality: {lo: 0.1, hi: 10, log: "
                    "true},\n"
                    "  nations.*.threat: [0.2, 0.9]}}\n";
    a5_diag d = {0};
    a5_scenario *s = NULL;
    assert_int_equal(a5_scenario_parse(t, strlen(t), "t.yaml", NULL, 0, &d, &s), 0);
    assert_int_equal(s->design, A5_DESIGN_MORRIS);
    assert_int_equal(s->npoints, 30 * 4);
    assert_int_equal(s->design_n, 30);
    assert_int_equal(s->morris_levels, 6);
    const double lo[3] = {0.01, 0.1, 0.2}, hi[3] = {0.05, 10, 0.9};
    int at_lo[3] = {0}, at_hi[3] = {0};
    for (long p = 0; p < s->npoints; p++)
        for (int j = 0; j < 3; j++) {
            double v = s->points[p * 3 + j];
            assert_true(v >= lo[j] && v <= hi[j]);
            at_lo[j] |= v == lo[j];
            at_hi[j] |= v == hi[j];
        }
    for (int j = 0; j < 3; j++) /* the grid's ends are the range's ends exactly */
        assert_true(at_lo[j] && at_hi[j]);
    /* The points are the unit trajectories of the scenario seed, scaled. */
    double *u = malloc(sizeof(double) * 30 * 4 * 3);
    assert_int_equal(a5_design_morris(30, 3, 6, 7, u), 0);
    long up = 0, down = 0;
    check_trajectories(u, 30, 3, 6, &up, &down);
    for (long p = 0; p < 30 * 4; p++) {
        double want = 0.2 + 0.7 * u[p * 3 + 2];
        assert_true(fabs(s->points[p * 3 + 2] - want) < 1e-12);
        double lw = exp(log(0.1) + (log(10) - log(0.1)) * u[p * 3 + 1]);
        assert_true(fabs(s->points[p * 3 + 1] - lw) < 1e-9 * lw);
    }
    free(u);
    a5_scenario_free(s);
    assert_int_equal(a5_diag_count(&d), 0);
}

/* Parse text expecting errors; the first error must be at line:col and contain msg. */
static void expect_error(const char *text, int n, int line, int col, const char *msg)
{
    a5_diag d = {0};
    a5_scenario *s = NULL;
    assert_int_equal(a5_scenario_parse(text, strlen(text), "e.yaml", NULL, 0, &d, &s),
                     A5_ESCENARIO);
    assert_null(s);
    if ((int)d.n != n || d.v[0].line != line || d.v[0].col != col || !strstr(d.v[0].msg, msg))
        a5_diag_print(&d, stderr);
    assert_int_equal(d.n, n);
    assert_int_equal(d.v[0].line, line);
    assert_int_equal(d.v[0].col, col);
    assert_non_null(strstr(d.v[0].msg, msg));
    a5_diag_free(&d);
}

static void test_new_design_errors(void **state)
{
    (void)state;
    const char *head = "nations: [{code: A}]\n";
    char t[512];
#define E(design, n, line, col, msg)                                                               \
    do {                                                                                           \
        snprintf(t, sizeof t, "%sdesign:\n%s", head, design);                                      \
        expect_error(t, n, line, col, msg);                                                        \
    } while (0)
    E("  method: morris\n  trajectories: 4\n  levels: 5\n  ranges: {us.escalation: [0, 1]}\n", 1,
      5, 11, "is odd");
    E("  method: morris\n  trajectories: 4\n  levels: 1\n  ranges: {us.escalation: [0, 1]}\n", 1,
      5, 11, "must be in [2,");
    E("  method: morris\n  levels: 4\n  ranges: {us.escalation: [0, 1]}\n", 1, 3, 3,
      "needs 'trajectories'");
    E("  method: morris\n  trajectories: 0\n  ranges: {us.escalation: [0, 1]}\n", 1, 4, 17,
      "design.trajectories");
    E("  method: morris\n  trajectories: 3\n  points: 10\n  ranges: {us.escalation: [0, 1]}\n", 1,
      5, 11, "has no 'points'");
    E("  method: morris\n  trajectories: 3\n  ranges: {us.escalation: [0.5, 0.5]}\n", 1, 5, 27,
      "must move");
    E("  method: morris\n  trajectories: 3\n  trajectorys: 3\n  ranges: {us.escalation: [0, 1]}\n",
      1, 5, 3, "did you mean 'trajectories'");
    E("  method: morris\n  trajectories: 3\n  ranges: {policy.phase_out_steps: [1, 9]}\n", 1, 5,
      12, "whole number");
    E("  method: morris\n  trajectories: 500000\n  ranges: {us.escalation: [0, 1], "
      "us.pressure: [0, 1]}\n",
      1, 4, 17, "at most");
    E("  method: lhs\n  points: 4\n  second_order: true\n  ranges: {us.escalation: [0, 1]}\n", 1, 5,
      3, "'second_order' belongs to method: saltelli");
    E("  method: sobol\n  points: 4\n  levels: 4\n  ranges: {us.escalation: [0, 1]}\n", 1, 5, 3,
      "'levels' belongs to method: morris");
    E("  method: file\n  file: x.csv\n  trajectories: 4\n", 1, 5, 3,
      "'trajectories' belongs to method: morris");
    E("  method: saltelli\n  points: 4\n  second_order: 1\n  ranges: {us.escalation: [0, 1]}\n", 1,
      5, 17, "must be true or false");
    /* 200000 base rows of 3 paths: 1,000,000 points first-order, 1,600,000 second. */
    E("  method: saltelli\n  points: 200000\n  second_order: true\n  ranges: {us.escalation: [0, "
      "1], us.pressure: [0, 1], nations.*.threat: [0, 1]}\n",
      1, 4, 11, "1600000 design points; at most");
    E("  method: morriss\n  trajectories: 4\n  ranges: {us.escalation: [0, 1]}\n", 1, 3, 11,
      "did you mean 'morris'");
#undef E
}

static void test_saltelli_second_order_scenario(void **state)
{
    (void)state;
    a5_diag d = {0};
    const char *first = "nations: [{code: A}]\ndesign: {method: saltelli, points: 16, ranges: "
                        "{us.escalation: [0, 1], us.pressure: [0, 2], nations.*.threat: [0.5, "
                        "1]}}\n";
    const char *second = "nations: [{code: A}]\ndesign: {method: saltelli, second_order: true, "
                         "points: 16, ranges: {us.escalation: [0, 1], us.pressure: [0, 2], "
                         "nations.*.threat: [0.5, 1]}}\n";
    const char *off = "nations: [{code: A}]\ndesign: {method: saltelli, second_order: false, "
                      "points: 16, ranges: {us.escalation: [0, 1], us.pressure: [0, 2], "
                      "nations.*.threat: [0.5, 1]}}\n";
    a5_scenario *s1 = parse_at(".", first, &d), *s2 = parse_at(".", second, &d),
                *s0 = parse_at(".", off, &d);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_non_null(s0);
    const int k = 3;
    assert_int_equal(s1->second_order, 0);
    assert_int_equal(s2->second_order, 1);
    assert_int_equal(s2->design_n, 16);
    assert_int_equal(s2->npoints, 16 * (2 * k + 2));
    /* second_order: false is today's layout, bit for bit. */
    assert_int_equal(s0->npoints, s1->npoints);
    assert_memory_equal(s0->points, s1->points, sizeof(double) * (size_t)(s1->npoints * k));
    for (long i = 0; i < 16; i++) {
        const double *r1 = s1->points + i * (k + 2) * k, *r2 = s2->points + i * (2 * k + 2) * k;
        /* A, AB_j and B are the same rows as the first-order design's. */
        assert_memory_equal(r2, r1, sizeof(double) * (size_t)((k + 1) * k));
        assert_memory_equal(r2 + (2 * k + 1) * k, r1 + (k + 1) * k, sizeof(double) * (size_t)k);
        /* BA_j is B with column j from A. */
        const double *a = r2, *b = r2 + (2 * k + 1) * k;
        for (int j = 0; j < k; j++)
            for (int c = 0; c < k; c++)
                assert_true(r2[(k + 1 + j) * k + c] == (c == j ? a[c] : b[c]));
    }
    a5_scenario_free(s0);
    a5_scenario_free(s1);
    a5_scenario_free(s2);
    assert_int_equal(a5_diag_count(&d), 0);
}

/* Every allocation of a morris or second-order saltelli design failing in turn:
 * A5_ENOMEM (or a reported problem), no scenario, nothing leaked (sanitize build). */
static void test_new_designs_out_of_memory(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "nations: [{code: A}]\ndesign: {method: morris, trajectories: 5, levels: 4, ranges: "
        "{us.escalation: [0, 1], decision.rationality: {lo: 0.1, hi: 10, log: true}}}\n",
        "nations: [{code: A}]\ndesign: {method: saltelli, second_order: true, points: 8, ranges: "
        "{us.escalation: [0, 1], us.pressure: [0, 2]}}\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        a5_diag d = {0};
        a5_scenario *s = NULL;
        a5_mem_fail_at(0);
        assert_int_equal(a5_scenario_parse(texts[i], strlen(texts[i]), "t.yaml", NULL, 0, &d, &s),
                         0);
        long calls = a5_mem_fail_at(0);
        a5_scenario_free(s);
        assert_true(calls > 10);
        long nomem = 0;
        for (long k = 1; k <= calls; k++) {
            a5_diag dk = {0};
            a5_scenario *sk = NULL;
            a5_mem_fail_at(k);
            int rc = a5_scenario_parse(texts[i], strlen(texts[i]), "t.yaml", NULL, 0, &dk, &sk);
            a5_mem_fail_at(0);
            assert_true(rc == A5_ENOMEM || (rc == A5_ESCENARIO && a5_diag_count(&dk) > 0));
            assert_null(sk);
            nomem += rc == A5_ENOMEM;
            a5_diag_free(&dk);
        }
        assert_true(nomem > calls / 2);
        a5_diag_free(&d);
    }
    /* a5_design_morris itself. */
    double u[3 * 3 * 2];
    for (long k = 1; k <= 3; k++) {
        a5_mem_fail_at(k);
        int rc = a5_design_morris(3, 2, 4, 1, u);
        a5_mem_fail_at(0);
        assert_int_equal(rc, A5_ENOMEM);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lhs_stratified),
        cmocka_unit_test(test_sobol_matches_gsl),
        cmocka_unit_test(test_scenario_design_ranges),
        cmocka_unit_test(test_saltelli_layout),
        cmocka_unit_test(test_saltelli_and_file_designs),
        cmocka_unit_test(test_file_design_from_other_tools),
        cmocka_unit_test(test_saltelli_second_order_layout),
        cmocka_unit_test(test_morris_trajectories),
        cmocka_unit_test(test_morris_scenario),
        cmocka_unit_test(test_new_design_errors),
        cmocka_unit_test(test_saltelli_second_order_scenario),
        cmocka_unit_test(test_new_designs_out_of_memory),
    };
    return cmocka_run_group_tests_name("design", tests, NULL, NULL);
}
