/* Designs: Latin hypercube stratification, Sobol points equal to GSL's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_design.h"
#include "a5_scenario.h"

#include <gsl/gsl_qrng.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lhs_stratified),
        cmocka_unit_test(test_sobol_matches_gsl),
        cmocka_unit_test(test_scenario_design_ranges),
        cmocka_unit_test(test_saltelli_layout),
        cmocka_unit_test(test_saltelli_and_file_designs),
        cmocka_unit_test(test_file_design_from_other_tools),
    };
    return cmocka_run_group_tests_name("design", tests, NULL, NULL);
}
