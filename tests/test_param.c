/* The parameter table: defaults inside ranges, lookups, checks, the reference page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_param.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_entry(const a5_param *p)
{
    char buf[128];
    assert_non_null(p->path);
    assert_non_null(p->doc);
    assert_true(strlen(p->doc) > 5);
    if ((p->type == A5_T_REAL || p->type == A5_T_INT) && !isnan(p->def))
        assert_int_equal(a5_param_check(p, p->def, buf, sizeof buf), 0);
}

static void test_defaults_in_range(void **state)
{
    (void)state;
    for (int i = 0; i < A5_G_COUNT; i++)
        check_entry(&a5_param_global[i]);
    for (int i = 0; i < A5_N_COUNT; i++)
        check_entry(&a5_param_nation[i]);
    for (int i = 0; i < A5_S_COUNT; i++)
        check_entry(&a5_param_run[i]);
    check_entry(&a5_param_vendor_price);
}

static void test_lookup(void **state)
{
    (void)state;
    int slot = -1, attr = -1, which = -1;
    assert_non_null(a5_param_find_global("us.escalation", &slot));
    assert_int_equal(slot, A5_G_US_ESCALATION);
    assert_null(a5_param_find_global("us", NULL));
    assert_non_null(a5_param_find_nation("threat", &attr));
    assert_int_equal(attr, A5_N_THREAT);
    assert_non_null(a5_param_find_run("output.store", &which));
    assert_int_equal(which, A5_S_STORE);
    assert_int_equal(a5_param_nslot(A5_N_THREAT, 2, 5), A5_G_COUNT + A5_N_THREAT * 5 + 2);
    assert_int_equal(a5_param_vslot(1, 5), A5_G_COUNT + A5_N_COUNT * 5 + 1);
}

static void test_check_and_clamp(void **state)
{
    (void)state;
    char buf[128];
    const a5_param *p = &a5_param_global[A5_G_RESTRICT_CAP];
    assert_int_equal(a5_param_check(p, 1.5, buf, sizeof buf), -1);
    assert_string_equal(buf, "must be in [0, 1]");
    assert_int_equal(a5_param_check(p, NAN, buf, sizeof buf), -1);
    assert_int_equal(a5_param_check(&a5_param_vendor_price, 0, buf, sizeof buf), -1);
    assert_int_equal(a5_param_check(&a5_param_global[A5_G_PHASE_OUT_STEPS], 2.5, buf, sizeof buf), -1);
    assert_string_equal(buf, "must be a whole number");
    assert_true(a5_param_clamp(p, 1.2) == 1 && a5_param_clamp(p, -3) == 0);
    assert_true(a5_param_clamp(&a5_param_global[A5_G_PHASE_OUT_STEPS], 3.6) == 4);
    assert_int_equal(a5_policy_parse("restrict"), 1);
    assert_int_equal(a5_policy_parse("Ban"), -1);
    assert_string_equal(a5_policy_name(2), "ban");
}

/* Strategy names: a categorical type stored as codes, rounded when drawn. */
static void test_choices(void **state)
{
    (void)state;
    const a5_param *us = &a5_param_global[A5_G_US_STRATEGY];
    const a5_param *cn = &a5_param_global[A5_G_CHINA_STRATEGY];
    int n;
    assert_int_equal(us->type, A5_T_CHOICE);
    assert_int_equal(a5_param_choice_parse(us, "pivotal"), A5_US_PIVOTAL);
    assert_int_equal(a5_param_choice_parse(us, "wavering"), A5_US_WAVERING);
    assert_int_equal(a5_param_choice_parse(us, "targeted"), -1);
    assert_int_equal(a5_param_choice_parse(cn, "deterrent"), A5_CN_DETERRENT);
    assert_string_equal(a5_param_choices(cn, &n)[0], "aggregate");
    assert_int_equal(n, A5_CN_COUNT);
    assert_null(a5_param_choices(&a5_param_global[A5_G_W_US], &n));
    assert_int_equal(n, 0);
    assert_true(a5_param_clamp(us, 2.4) == 2 && a5_param_clamp(us, 7) == 3);
    assert_true(us->def == A5_US_SCHEDULE && cn->def == A5_CN_AGGREGATE);
    assert_true(a5_param_global[A5_G_LEVER_DOWNGRADE].def == 0);
    assert_true(a5_param_global[A5_G_INTEL_STANDING].def == 0);
}

static void test_reference_lists_every_path(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(a5_param_write_reference(f), 0);
    fclose(f);
    char want[128];
    for (int i = 0; i < A5_G_COUNT; i++) {
        snprintf(want, sizeof want, "| `%s` |", a5_param_global[i].path);
        assert_non_null(strstr(buf, want));
    }
    for (int i = 0; i < A5_N_COUNT; i++) {
        snprintf(want, sizeof want, "| `nations.CODE.%s` |", a5_param_nation[i].path);
        assert_non_null(strstr(buf, want));
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_in_range),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_check_and_clamp),
        cmocka_unit_test(test_choices),
        cmocka_unit_test(test_reference_lists_every_path),
    };
    return cmocka_run_group_tests_name("param", tests, NULL, NULL);
}
