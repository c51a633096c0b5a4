/* Philox streams and distributions: known answers, independence, moments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_rng.h"

#include <gsl/gsl_randist.h>
#include <math.h>

static void test_known_answer(void **state)
{
    (void)state;
    /* Random123's published known-answer vector for philox4x32-10, counter 0, key 0. */
    gsl_rng *g = a5_rng_alloc();
    a5_rng_seek(g, 0, 0, 0);
    const unsigned long want[4] = {0x6627e8d5UL, 0xe169c58dUL, 0xbc57ac4cUL, 0x9b00dbd8UL};
    for (int i = 0; i < 4; i++)
        assert_int_equal(gsl_rng_get(g), want[i]);
    gsl_rng_free(g);
}

static void test_streams_are_distinct_and_repeatable(void **state)
{
    (void)state;
    gsl_rng *a = a5_rng_alloc(), *b = a5_rng_alloc();
    const uint64_t keys[][3] = {{1, 0, 0}, {1, 0, 1}, {1, 1, 0}, {2, 0, 0}, {1ULL << 32, 0, 0}};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 5; j++) {
            a5_rng_seek(a, keys[i][0], (uint32_t)keys[i][1], (uint32_t)keys[i][2]);
            a5_rng_seek(b, keys[j][0], (uint32_t)keys[j][1], (uint32_t)keys[j][2]);
            int same = 1;
            for (int k = 0; k < 16; k++)
                same &= gsl_rng_get(a) == gsl_rng_get(b);
            assert_int_equal(same, i == j);
        }
    gsl_rng_free(a);
    gsl_rng_free(b);
}

/* a5_rng_fill gives the same words as one a5_rng_u32 call after another, from any
 * position in a block, across the 32-bit carry of the block counter, in lengths
 * that end inside a block and that span more than one batch of blocks. */
static void test_fill_matches_word_by_word(void **state)
{
    (void)state;
    gsl_rng *a = a5_rng_alloc(), *b = a5_rng_alloc();
    const size_t lens[] = {0, 1, 3, 4, 5, 17, 90, 256, 257, 1000};
    const uint32_t lows[] = {0, 0xFFFFFFF0u};
    uint32_t got[1000];
    for (size_t l = 0; l < sizeof lows / sizeof *lows; l++)
        for (size_t skip = 0; skip < 6; skip++) {
            a5_rng_seek(a, 0x123456789abcdefULL, 7, 11);
            a5_rng_seek(b, 0x123456789abcdefULL, 7, 11);
            a5_rng_state *sa = a5_rng_state_of(a), *sb = a5_rng_state_of(b);
            sa->ctr[0] = sb->ctr[0] = lows[l];
            for (size_t k = 0; k < skip; k++)
                assert_int_equal(a5_rng_u32(sa), a5_rng_u32(sb));
            for (size_t q = 0; q < sizeof lens / sizeof *lens; q++) {
                a5_rng_fill(sa, got, lens[q]);
                for (size_t k = 0; k < lens[q]; k++)
                    assert_int_equal(got[k], a5_rng_u32(sb));
            }
            for (int k = 0; k < 9; k++) /* and both are left at the same place */
                assert_int_equal(a5_rng_u32(sa), a5_rng_u32(sb));
        }
    gsl_rng_free(a);
    gsl_rng_free(b);
}

static void test_uniform_and_gsl_agree(void **state)
{
    (void)state;
    gsl_rng *a = a5_rng_alloc(), *b = a5_rng_alloc();
    a5_rng_seek(a, 9, 3, 4);
    a5_rng_seek(b, 9, 3, 4);
    double sum = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = a5_rng_uniform(a5_rng_state_of(a));
        assert_true(u >= 0 && u < 1);
        assert_true(u == gsl_rng_uniform(b));
        sum += u;
    }
    double se = sqrt(1.0 / 12 / n);
    assert_true(fabs(sum / n - 0.5) < 4 * se);
    gsl_rng_free(a);
    gsl_rng_free(b);
}

static void check_moments(const a5_dist *d, double mean, double var)
{
    gsl_rng *g = a5_rng_alloc();
    a5_rng_seek(g, 5, 0, 0);
    const int n = 100000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double x = a5_rng_draw(d, g);
        assert_true(x >= d->min && x <= d->max);
        s += x;
        s2 += x * x;
    }
    double m = s / n, v = s2 / n - m * m;
    if (fabs(m - mean) > 4 * sqrt(var / n) + 1e-12)
        fail_msg("kind %d: mean %.5f, want %.5f", d->kind, m, mean);
    if (var > 0 && fabs(v - var) > 0.05 * var)
        fail_msg("kind %d: variance %.5f, want %.5f", d->kind, v, var);
    gsl_rng_free(g);
}

static void test_distribution_moments(void **state)
{
    (void)state;
    const double inf = HUGE_VAL;
    a5_dist fixed = {A5_DIST_FIXED, {0.3, 0, 0}, -inf, inf};
    a5_dist uni = {A5_DIST_UNIFORM, {1, 3, 0}, -inf, inf};
    a5_dist nor = {A5_DIST_NORMAL, {1, 0.5, 0}, -inf, inf};
    a5_dist lgn = {A5_DIST_LOGNORMAL, {0, 0.25, 0}, -inf, inf};
    a5_dist bet = {A5_DIST_BETA, {2, 3, 0}, -inf, inf};
    a5_dist tri = {A5_DIST_TRIANGULAR, {0, 0.25, 1}, -inf, inf};
    check_moments(&fixed, 0.3, 0);
    check_moments(&uni, 2, 4.0 / 12);
    check_moments(&nor, 1, 0.25);
    double s2 = 0.0625;
    check_moments(&lgn, exp(s2 / 2), (exp(s2) - 1) * exp(s2));
    check_moments(&bet, 0.4, 2.0 * 3 / (25.0 * 6));
    check_moments(&tri, 1.25 / 3, (0 + 0.0625 + 1 - 0 - 0 - 0.25) / 18);
}

static void test_clipping(void **state)
{
    (void)state;
    a5_dist nor = {A5_DIST_NORMAL, {0, 1, 0}, -0.5, 0.5};
    gsl_rng *g = a5_rng_alloc();
    a5_rng_seek(g, 1, 2, 3);
    int lo = 0, hi = 0;
    for (int i = 0; i < 10000; i++) {
        double x = a5_rng_draw(&nor, g);
        assert_true(x >= -0.5 && x <= 0.5);
        lo += x == -0.5;
        hi += x == 0.5;
    }
    assert_true(lo > 2500 && hi > 2500); /* P(|z| > 0.5) = 0.617, half each side */
    gsl_rng_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_streams_are_distinct_and_repeatable),
        cmocka_unit_test(test_fill_matches_word_by_word),
        cmocka_unit_test(test_uniform_and_gsl_agree),
        cmocka_unit_test(test_distribution_moments),
        cmocka_unit_test(test_clipping),
    };
    return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
