/* CSV reading: quoting, BOM, line ends, index columns, comments, located errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a5_calibrate.h"
#include "a5_csv.h"
#include "a5_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every record as "line:col=text|line:col=text" lines, one per record. */
typedef struct {
    char out[4096];
    size_t len;
    int stop_at;    /* record index whose callback returns A5_EUSAGE (0: never) */
    int index_line; /* the dropped index may start the record on an earlier line */
} collect;

static int on_record(void *ctx, size_t record, int line, const a5_csv_field *f, size_t n)
{
    collect *c = ctx;
    assert_true(n == 0 || line == f[0].line || c->index_line);
    if (c->stop_at && (size_t)c->stop_at == record)
        return A5_EUSAGE;
    for (size_t i = 0; i < n; i++)
        c->len +=
            (size_t)snprintf(c->out + c->len, sizeof c->out - c->len, "%s%d:%d%s=%s", i ? "|" : "",
                             f[i].line, f[i].col, f[i].quoted ? "q" : "", f[i].text);
    c->len += (size_t)snprintf(c->out + c->len, sizeof c->out - c->len, "\n");
    return 0;
}

static int parse(const char *text, size_t len, collect *c, a5_diag *d, a5_csv_info *info)
{
    memset(c, 0, sizeof *c);
    a5_csv_opts o = {.record = on_record, .ctx = c};
    return a5_csv_parse(text, len, "t.csv", &o, d, info);
}

static void expect_records(const char *text, const char *want)
{
    collect c;
    a5_diag d = {0};
    int rc = parse(text, strlen(text), &c, &d, NULL);
    if (rc || strcmp(c.out, want) != 0)
        fprintf(stderr, "input:\n%s\ngot rc %d:\n%s\nwant:\n%s\n", text, rc, c.out, want);
    assert_int_equal(rc, 0);
    assert_string_equal(c.out, want);
    assert_int_equal(a5_diag_count(&d), 0);
    a5_diag_free(&d);
}

/* One located error from text: its line, column and a piece of its message. */
static void expect_error(const char *text, size_t len, int line, int col, const char *msg)
{
    collect c;
    a5_diag d = {0};
    assert_int_equal(parse(text, len, &c, &d, NULL), A5_ESCENARIO);
    assert_int_equal(d.n, 1);
    if (!strstr(d.v[0].msg, msg))
        fprintf(stderr, "message: %s\n", d.v[0].msg);
    assert_non_null(strstr(d.v[0].msg, msg));
    assert_string_equal(d.v[0].file, "t.csv");
    assert_int_equal(d.v[0].line, line);
    assert_int_equal(d.v[0].col, col);
    a5_diag_free(&d);
}

static void test_plain_and_trimmed(void **state)
{
    (void)state;
    expect_records("a,b\n1,2\n", "1:1=a|1:3=b\n2:1=1|2:3=2\n");
    expect_records("a, b\n 1 ,2", "1:1=a|1:4=b\n2:2=1|2:5=2\n"); /* no final newline */
    expect_records("a\tb,c\n", "1:1=a\tb|1:5=c\n");
}

static void test_line_ends_blank_and_comment_lines(void **state)
{
    (void)state;
    expect_records("a,b\r\n1,2\r\n", "1:1=a|1:3=b\n2:1=1|2:3=2\n");
    expect_records("a,b\r1,2\r", "1:1=a|1:3=b\n2:1=1|2:3=2\n");
    expect_records("# note\n\na,b\n  # another, with a comma\n\n1,2\n\n",
                   "3:1=a|3:3=b\n6:1=1|6:3=2\n");
    /* A '#' inside a record, or opening a line inside a quoted field, is text. */
    expect_records("a,#b\n\"x\n# y\",2\n", "1:1=a|1:3=#b\n2:1q=x\n# y|3:6=2\n");
}

static void test_quoted_fields(void **state)
{
    (void)state;
    expect_records("\"a,1\",\"say \"\"hi\"\"\"\n\"\",x\n",
                   "1:1q=a,1|1:7q=say \"hi\"\n2:1q=|2:4=x\n");
    /* A newline inside quotes moves later fields to later lines. */
    expect_records("a,b\n\"two\nlines\",3\n4,5\n",
                   "1:1=a|1:3=b\n2:1q=two\nlines|3:8=3\n4:1=4|4:3=5\n");
}

static void test_bom_and_index_columns(void **state)
{
    (void)state;
    expect_records("\xEF\xBB\xBF"
                   "a,b\n1,2\n",
                   "1:1=a|1:3=b\n2:1=1|2:3=2\n");
    /* pandas: an empty first header cell; R: a quoted empty one and quoted names. */
    expect_records(",a,b\n0,1,2\n1,3,4\n", "1:2=a|1:4=b\n2:3=1|2:5=2\n3:3=3|3:5=4\n");
    expect_records("\"\",\"a\",\"b\"\r\n\"1\",1,2\r\n", "1:4q=a|1:8q=b\n2:5=1|2:7=2\n");
    expect_records("\xEF\xBB\xBF"
                   ",a\n0,1\n",
                   "1:2=a\n2:3=1\n");
    /* A named first column stays; so does a lone empty header. */
    expect_records("id,a\n0,1\n", "1:1=id|1:4=a\n2:1=0|2:3=1\n");
    expect_records("\"\"\n\"\"\n", "1:1q=\n2:1q=\n");
    collect c;
    a5_diag d = {0};
    a5_csv_info info;
    assert_int_equal(parse(",a\n0,1\n", 7, &c, &d, &info), 0);
    assert_int_equal(info.index_dropped, 1);
    assert_int_equal(info.records, 2);
    assert_int_equal(info.lines, 2);
}

static void test_errors_located(void **state)
{
    (void)state;
    expect_error("a,b\n1,2,3\n", 10, 2, 1, "record has 3 fields; the header has 2");
    expect_error("a,b\n1\n", 6, 2, 1, "record has 1 field; the header has 2");
    expect_error(",a,b\n0,1\n", 9, 2, 1, "record has 1 field; the header has 2");
    expect_error("a,b\n1,\0\n", 8, 2, 3, "NUL byte");
    expect_error("a,b\n1,x\"y\n", 10, 2, 4, "malformed quoting");
    expect_error("a,b\n1,\"x\"y\n", 11, 2, 6, "malformed quoting");
    expect_error("a,b\n1,\"open\n2,3\n", 16, 2, 3, "a quoted field is not closed");
}

static void test_empty_and_stop(void **state)
{
    (void)state;
    collect c;
    a5_diag d = {0};
    a5_csv_info info;
    assert_int_equal(parse("", 0, &c, &d, &info), 0);
    assert_int_equal(info.records, 0);
    assert_int_equal(info.lines, 0);
    assert_int_equal(parse("\xEF\xBB\xBF"
                           "\n\n# only\n",
                           11, &c, &d, &info),
                     0);
    assert_int_equal(info.records, 0);
    assert_int_equal(info.lines, 3);
    assert_int_equal(a5_diag_count(&d), 0);
    /* A callback's code stops reading and comes back. */
    memset(&c, 0, sizeof c);
    c.stop_at = 1;
    a5_csv_opts o = {.record = on_record, .ctx = &c};
    assert_int_equal(a5_csv_parse("a\n1\n2\n", 6, "t.csv", &o, &d, &info), A5_EUSAGE);
    assert_int_equal(info.records, 2);
    assert_string_equal(c.out, "1:1=a\n");
}

static void test_file_and_out_of_memory(void **state)
{
    (void)state;
    collect c;
    memset(&c, 0, sizeof c);
    a5_diag d = {0};
    a5_csv_opts o = {.record = on_record, .ctx = &c};
    errno = 0;
    assert_int_equal(a5_csv_read("/nonexistent/x.csv", &o, &d, NULL), A5_EIO);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(a5_diag_count(&d), 0);
    char path[] = "/tmp/a5csvXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(",\"a\",b\n0,\"1\n2\",3\n", f);
    fclose(f);
    assert_int_equal(a5_csv_read(path, &o, &d, NULL), 0);
    assert_string_equal(c.out, "1:2q=a|1:6=b\n2:3q=1\n2|3:4=3\n");
    /* Fail each allocation in turn: A5_ENOMEM, never a crash or a leak. */
    a5_mem_fail_at(0);
    memset(&c, 0, sizeof c);
    assert_int_equal(a5_csv_read(path, &o, &d, NULL), 0);
    long calls = a5_mem_fail_at(0);
    assert_true(calls > 0);
    for (long k = 1; k <= calls; k++) {
        memset(&c, 0, sizeof c);
        a5_mem_fail_at(k);
        assert_int_equal(a5_csv_read(path, &o, &d, NULL), A5_ENOMEM);
    }
    a5_mem_fail_at(0);
    unlink(path);
    a5_diag_free(&d);
}

/* Observations go through the same reader: pandas' and R's files load, and every
 * bad field stays located. */
static void test_observations(void **state)
{
    (void)state;
    const char *t = "steps: 8\nnations: [{code: GBR}, {code: DEU}]\n";
    a5_diag d = {0};
    a5_scenario *s = NULL;
    assert_int_equal(a5_scenario_parse(t, strlen(t), "t.yaml", NULL, 0, &d, &s), 0);
    char path[] = "/tmp/a5obsXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    static const char *const files[] = {
        "code,date,policy\nGBR,2019Q3,ban\nDEU,2020q1,restrict\n",
        ",code,date,policy\n0,GBR,2019Q3,ban\n1,DEU,2020q1,restrict\n",
        "\xEF\xBB\xBF"
        "\"\",\"code\",\"date\",\"policy\"\r\n\"1\",\"GBR\",\"2019Q3\",\"ban\"\r\n"
        "\"2\",\"DEU\",\"2020q1\",\"restrict\"\r\n",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        FILE *f = fopen(path, "wb");
        fputs(files[i], f);
        fclose(f);
        a5_obs *obs = NULL;
        size_t n = 0;
        int rc = a5_calib_read_obs(path, s, &d, &obs, &n);
        if (rc)
            a5_diag_print(&d, stderr);
        assert_int_equal(rc, 0);
        assert_int_equal(n, 2);
        assert_int_equal(obs[0].nation, 0);
        assert_int_equal(obs[0].step, 2);
        assert_int_equal(obs[0].policy, 2);
        assert_int_equal(obs[0].line, 2);
        assert_int_equal(obs[1].nation, 1);
        assert_int_equal(obs[1].step, 4);
        assert_int_equal(obs[1].policy, 1);
        free(obs);
    }
    FILE *f = fopen(path, "wb");
    fputs(",code,date,policy\n0,GBR, 2031Q1,ban\n1,DEU,2020Q1\n", f);
    fclose(f);
    a5_obs *obs = NULL;
    size_t n = 0;
    assert_int_equal(a5_calib_read_obs(path, s, &d, &obs, &n), A5_ESCENARIO);
    assert_null(obs);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[0].line, 2);
    assert_int_equal(d.v[0].col, 8);
    assert_non_null(strstr(d.v[0].msg, "date 2031Q1 is outside the run (2019Q1 to 2020Q4)"));
    assert_int_equal(d.v[1].line, 3);
    assert_non_null(strstr(d.v[1].msg, "expected 3 fields (code,date,policy), got 2"));
    a5_diag_free(&d);
    unlink(path);
    a5_scenario_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_trimmed),
        cmocka_unit_test(test_line_ends_blank_and_comment_lines),
        cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_bom_and_index_columns),
        cmocka_unit_test(test_errors_located),
        cmocka_unit_test(test_empty_and_stop),
        cmocka_unit_test(test_file_and_out_of_memory),
        cmocka_unit_test(test_observations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
