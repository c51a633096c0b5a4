/* Diagnostics and typo suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_suggest(void **state)
{
    (void)state;
    const char *names[] = {"steps", "seed", "replicates", NULL, "description"};
    assert_string_equal(a5_suggest("stpes", names, 5), "steps");
    assert_string_equal(a5_suggest("replicate", names, 5), "replicates");
    assert_string_equal(a5_suggest("DESCRIPTION", names, 5), "description");
    assert_null(a5_suggest("banana", names, 5));
    assert_null(a5_suggest("x", names, 0));
}

static void test_diag_sorted_and_formatted(void **state)
{
    (void)state;
    a5_diag d = {0};
    a5_diag_add(&d, "f.yaml", 3, 2, "third %d", 3);
    a5_diag_add(&d, "f.yaml", 1, 9, "first");
    a5_diag_add(&d, "f.yaml", 3, 1, "second");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    a5_diag_print(&d, f);
    fclose(f);
    assert_string_equal(buf, "f.yaml:1:9: error: first\nf.yaml:3:1: error: second\n"
                             "f.yaml:3:2: error: third 3\n");
    free(buf);
    assert_int_equal(a5_diag_count(&d), 3);
    a5_diag_free(&d);
}

static void test_diag_limit_counts_dropped(void **state)
{
    (void)state;
    a5_diag d = {0};
    d.limit = 2;
    for (int i = 0; i < 5; i++)
        a5_diag_add(&d, "f", i, 1, "e%d", i);
    assert_int_equal(d.n, 2);
    assert_int_equal(a5_diag_count(&d), 5);
    a5_diag_free(&d);
}

static void test_strerror(void **state)
{
    (void)state;
    for (int c = 0; c >= -11; c--)
        assert_true(strcmp(a5_strerror(c), "unknown error") != 0);
    assert_string_equal(a5_strerror(-99), "unknown error");
}

static void test_escape(void **state)
{
    (void)state;
    char out[256];
    /* Control bytes, DEL, C1 controls and broken UTF-8 are escaped; UTF-8 text is kept. */
    assert_string_equal(a5_escape("a\x1b[2Jb\n\t\\\x7f", 100, out, sizeof out),
                        "a\\x1B[2Jb\\n\\t\\\\\\x7F");
    assert_string_equal(a5_escape("caf\xc3\xa9 \xc2\x9b \xff", 100, out, sizeof out),
                        "caf\xc3\xa9 \\xC2\\x9B \\xFF");
    /* Long text keeps its start and end. */
    char big[5000];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = 0;
    big[sizeof big - 2] = 'Z';
    a5_escape(big, 100, out, sizeof out);
    assert_true(strlen(out) < 140);
    assert_non_null(strstr(out, "[...4899 bytes...]"));
    assert_int_equal(out[strlen(out) - 1], 'Z');
    /* The output buffer is never overrun. */
    char small[8];
    a5_escape("\x01\x02\x03\x04", 100, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
    /* Diagnostics escape what they echo and print a whole-file problem without 0:0. */
    a5_diag d = {0};
    a5_diag_add(&d, "f\x1b", 0, 0, "bad '%s'", "\x1b]0;x\x07");
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    a5_diag_print(&d, m);
    fclose(m);
    assert_string_equal(buf, "f\\x1B: error: bad '\\x1B]0;x\\x07'\n");
    free(buf);
    a5_diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_diag_sorted_and_formatted),
        cmocka_unit_test(test_diag_limit_counts_dropped),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_escape),
    };
    return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
