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
#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lhs_stratified),
        cmocka_unit_test(test_sobol_matches_gsl),
        cmocka_unit_test(test_scenario_design_ranges),
    };
    return cmocka_run_group_tests_name("design", tests, NULL, NULL);
}
