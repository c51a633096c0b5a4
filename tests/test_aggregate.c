/* Aggregates: exact, order-independent sums; quantiles within their stated bound;
 * failed replicates left out; checkpoint save/load round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_aggregate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* One cell, n replicates with values v[]: returns mean and quantiles. */
static double run_cell(const float *v, const int8_t *pol, long n, const unsigned char *failed,
                       float *mean, float quant[3], float share[3])
{
    a5_agg *a = a5_agg_alloc(1, n);
    a5_records rec = {.policy = (int8_t *)pol, .h = (float *)v};
    a5_agg_reset(a, 1);
    a5_agg_fold(a, &rec, n, failed, 0, 1);
    long ok = n;
    for (long j = 0; failed && j < n; j++)
        ok -= failed[j];
    double err = a5_agg_finish(a, ok, 1, share, mean, quant);
    a5_agg_free(a);
    return err;
}

static void test_exact_order_independent_mean(void **state)
{
    (void)state;
    const long n = 20000;
    float *v = malloc(n * sizeof *v), *r = malloc(n * sizeof *r);
    int8_t *pol = calloc((size_t)n, 1);
    unsigned s = 1;
    for (long i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        /* Values over many magnitudes, including tiny ones. */
        v[i] = (float)((s >> 8) / 16777216.0 * pow(10.0, -(double)(s % 7)));
        r[n - 1 - i] = v[i];
    }
    float m1, m2, q[3], sh[3];
    run_cell(v, pol, n, NULL, &m1, q, sh);
    run_cell(r, pol, n, NULL, &m2, q, sh);
    assert_memory_equal(&m1, &m2, sizeof m1);
    long double exact = 0;
    for (long i = 0; i < n; i++)
        exact += v[i];
    assert_true(fabs((double)(exact / n) - m1) <= 1e-7 * fabs(m1));
    free(v);
    free(r);
    free(pol);
}

static void test_quantiles_within_bound(void **state)
{
    (void)state;
    const long n = 5001;
    float *v = malloc(n * sizeof *v), *sorted = malloc(n * sizeof *sorted);
    int8_t *pol = malloc((size_t)n);
    unsigned s = 7;
    for (long i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        v[i] = (float)((s >> 8) / 16777216.0);
        v[i] = v[i] * v[i]; /* skewed */
        pol[i] = (int8_t)(s % 3);
    }
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_float);
    float mean, quant[3], share[3];
    double bound = run_cell(v, pol, n, NULL, &mean, quant, share);
    const double qs[3] = {0.05, 0.5, 0.95};
    for (int k = 0; k < 3; k++) {
        double pos = qs[k] * (n - 1);
        long lo = (long)floor(pos);
        double want = sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]);
        assert_true(fabs(quant[k] - want) <= bound + 1e-7);
    }
    assert_true(bound < 1.0 / 1024);
    long c[3] = {0, 0, 0};
    for (long i = 0; i < n; i++)
        c[pol[i]]++;
    for (int k = 0; k < 3; k++)
        assert_true(fabs(share[k] - (double)c[k] / n) < 1e-6);
    /* All equal values: quantiles are exact. */
    for (long i = 0; i < n; i++)
        v[i] = 0.3f;
    bound = run_cell(v, pol, n, NULL, &mean, quant, share);
    assert_true(bound == 0 && quant[0] == 0.3f && quant[2] == 0.3f && mean == 0.3f);
    free(v);
    free(sorted);
    free(pol);
}

static void test_failed_left_out(void **state)
{
    (void)state;
    float v[4] = {0.1f, NAN, 0.3f, 0.5f};
    int8_t pol[4] = {0, -1, 2, 2};
    unsigned char failed[4] = {0, 1, 0, 0};
    float mean, quant[3], share[3];
    run_cell(v, pol, 4, failed, &mean, quant, share);
    assert_true(fabs(mean - 0.3f) < 1e-7);
    assert_true(fabs(share[2] - 2.0f / 3) < 1e-7 && share[1] == 0);
    run_cell(v, pol, 4, (unsigned char[4]){1, 1, 1, 1}, &mean, quant, share);
    assert_true(isnan(mean) && isnan(share[0]));
}

/* Folding cells one by one, in uneven ranges, or all at once gives the same state:
 * 70 cells (more than one tile of the fold), values of many magnitudes. */
static void test_fold_ranges_agree(void **state)
{
    (void)state;
    const size_t cells = 70;
    const long n = 300;
    float *v = malloc(cells * (size_t)n * sizeof *v);
    int8_t *pol = malloc(cells * (size_t)n);
    unsigned s = 7;
    for (size_t i = 0; i < cells * (size_t)n; i++) {
        s = s * 1664525u + 1013904223u;
        v[i] = (s % 5 == 0) ? 0.0f : (float)((s >> 8) / 16777216.0 * pow(10.0, -(double)(s % 9)));
        pol[i] = (int8_t)((s >> 4) % 3);
    }
    a5_records rec = {.policy = pol, .h = v};
    char *buf[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};
    for (int way = 0; way < 3; way++) {
        a5_agg *a = a5_agg_alloc(cells, n);
        a5_agg_reset(a, 1);
        if (way == 0)
            for (size_t c = 0; c < cells; c++)
                a5_agg_fold(a, &rec, n, NULL, c, c + 1);
        else if (way == 1)
            for (size_t c = 0; c < cells; c += 7)
                a5_agg_fold(a, &rec, n, NULL, c, c + 7 < cells ? c + 7 : cells);
        else
            a5_agg_fold(a, &rec, n, NULL, 0, cells);
        FILE *f = open_memstream(&buf[way], &len[way]);
        assert_int_equal(a5_agg_save(a, f), 0);
        fclose(f);
        a5_agg_free(a);
    }
    for (int way = 1; way < 3; way++) {
        assert_int_equal(len[way], len[0]);
        assert_memory_equal(buf[way], buf[0], len[0]);
    }
    for (int way = 0; way < 3; way++)
        free(buf[way]);
    free(v);
    free(pol);
}

static void test_save_load(void **state)
{
    (void)state;
    const size_t cells = 6;
    const long n = 50;
    float v[6 * 50];
    int8_t pol[6 * 50];
    for (size_t i = 0; i < cells * n; i++) {
        v[i] = (float)((i * 37) % 101) / 100.0f;
        pol[i] = (int8_t)(i % 3);
    }
    a5_records rec = {.policy = pol, .h = v};
    a5_agg *a = a5_agg_alloc(cells, n), *b = a5_agg_alloc(cells, n);
    a5_agg_reset(a, 1);
    for (size_t c = 0; c < cells; c++)
        a5_agg_fold(a, &rec, n, NULL, c, c + 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(a5_agg_save(a, f), 0);
    fclose(f);
    f = fmemopen(buf, len, "rb");
    assert_int_equal(a5_agg_load(b, f), 0);
    fclose(f);
    float sa[18], ma[6], qa[18], sb[18], mb[6], qb[18];
    a5_agg_finish(a, n, 1, sa, ma, qa);
    a5_agg_finish(b, n, 1, sb, mb, qb);
    assert_memory_equal(sa, sb, sizeof sa);
    assert_memory_equal(ma, mb, sizeof ma);
    assert_memory_equal(qa, qb, sizeof qa);
    /* A state for another size is refused. */
    a5_agg *c = a5_agg_alloc(cells + 1, n);
    f = fmemopen(buf, len, "rb");
    assert_int_equal(a5_agg_load(c, f), A5_ESCENARIO);
    fclose(f);
    free(buf);
    a5_agg_free(a);
    a5_agg_free(b);
    a5_agg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_order_independent_mean),
        cmocka_unit_test(test_quantiles_within_bound),
        cmocka_unit_test(test_failed_left_out),
        cmocka_unit_test(test_fold_ranges_agree),
        cmocka_unit_test(test_save_load),
    };
    return cmocka_run_group_tests_name("aggregate", tests, NULL, NULL);
}
