/* YAML tree: positions, refusals, editing and a lossless round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_yaml.h"

#include <stdlib.h>
#include <string.h>

static a5_yaml_node *parse(const char *t, a5_diag *d)
{
    return a5_yaml_parse(t, strlen(t), "t.yaml", d);
}

static void test_positions_and_styles(void **state)
{
    (void)state;
    a5_diag d = {0};
    a5_yaml_node *r = parse("a: 1\nb:\n  c: [x, \"y\"]\n", &d);
    assert_non_null(r);
    assert_int_equal(r->kind, A5_YAML_MAP);
    a5_yaml_node *c = a5_yaml_get(a5_yaml_get(r, "b"), "c");
    assert_int_equal(c->kind, A5_YAML_SEQ);
    assert_true(c->flow);
    assert_int_equal(c->line, 3);
    assert_int_equal(c->col, 6);
    assert_true(c->item[0]->plain);
    assert_false(c->item[1]->plain);
    assert_int_equal(c->item[1]->col, 10);
    a5_yaml_free(r);
    a5_diag_free(&d);
}

static void expect_refused(const char *t, int line, int col, const char *needle)
{
    a5_diag d = {0};
    assert_null(parse(t, &d));
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, line);
    assert_int_equal(d.v[0].col, col);
    assert_non_null(strstr(d.v[0].msg, needle));
    a5_diag_free(&d);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refused("a: 1\n---\nb: 2\n", 2, 1, "second YAML document");
    expect_refused("a: &x [1]\nb: *x\n", 2, 4, "alias '*x'");
    expect_refused("? [1, 2]\n: 3\n", 1, 3, "mapping key must be a plain name");
    expect_refused("a: 1\na: 2\n", 2, 1, "duplicate key 'a' (first given at line 1)");
    expect_refused("", 1, 1, "empty scenario");
}

static void test_edit_and_round_trip(void **state)
{
    (void)state;
    a5_diag d = {0};
    const char *t = "name: x\nlist: [1, 2.50, \"q\"]\nmap:\n  k: v\n  n: 3\n";
    a5_yaml_node *r = parse(t, &d);
    assert_non_null(r);
    assert_int_equal(a5_yaml_put(r, "extra", a5_yaml_scalar("7", 1, "t", 1, 1)), 0);
    assert_int_equal(a5_yaml_remove(a5_yaml_get(r, "map"), "k"), 1);
    assert_int_equal(a5_yaml_remove(a5_yaml_get(r, "map"), "zz"), 0);
    char *out;
    size_t len;
    assert_int_equal(a5_yaml_emit(r, &out, &len), 0);
    a5_yaml_node *r2 = a5_yaml_parse(out, len, "out", &d);
    assert_non_null(r2);
    assert_string_equal(a5_yaml_get(r2, "extra")->value, "7");
    assert_string_equal(a5_yaml_get(r2, "list")->item[1]->value, "2.50"); /* text kept as written */
    assert_false(a5_yaml_get(r2, "list")->item[2]->plain);
    assert_null(a5_yaml_get(a5_yaml_get(r2, "map"), "k"));
    assert_string_equal(a5_yaml_get(a5_yaml_get(r2, "map"), "n")->value, "3");
    free(out);
    a5_yaml_free(r);
    a5_yaml_free(r2);
    a5_diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions_and_styles),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_edit_and_round_trip),
    };
    return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
