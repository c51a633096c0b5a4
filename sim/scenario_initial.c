/* `initial_policies: {from: FILE.csv}`: each nation's starting policy from an
 * observations file (header code,date,policy; the path relative to the file naming
 * it): the latest row of each nation dated at or before the scenario's start. Rows
 * after the start are outcomes, not inputs, and are not read into the scenario. The
 * policies are written into the nations' entries (as `policy:` would be) and the
 * section removed, so the resolved scenario (results files, resume checks, FITTED.yaml)
 * holds them and not a file that may change. Issue 23.3; docs/scenario-reference.md. */
#include "scenario_int.h"

#include "a5_csv.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    a5_sc_loader *L;
    const char *path;
    const a5_yaml_node *nations;
    long start; /* year * 4 + quarter - 1 */
    long *when; /* per nation entry: the date of the row kept, LONG_MIN for none */
    int *policy, *line, *col;
    int bad;
} init_csv;

static long nation_entry(const a5_yaml_node *nations, const char *code)
{
    for (size_t i = 0; i < nations->n; i++) {
        const a5_yaml_node *c = nations->item[i]->kind == A5_YAML_MAP
                                    ? a5_yaml_get(nations->item[i], "code") : NULL;
        if (c && c->kind == A5_YAML_SCALAR && strcmp(c->value, code) == 0)
            return (long)i;
    }
    return -1;
}

static int init_record(void *ctx, size_t record, int line, const a5_csv_field *f, size_t nf)
{
    init_csv *c = ctx;
    a5_diag *d = c->L->d;
    static const char *const word[3] = {"open", "restrict", "ban"};
    if (record == 0) {
        if (nf != 3 || strcmp(f[0].text, "code") || strcmp(f[1].text, "date") ||
            strcmp(f[2].text, "policy")) {
            a5_diag_add(d, c->path, line, 1, "the header must be 'code,date,policy'");
            c->bad = 1;
        }
        return 0;
    }
    if (nf != 3)
        return 0; /* reported by init_ragged */
    long i = nation_entry(c->nations, f[0].text);
    int y, q, p = a5_policy_parse(f[2].text);
    if (i < 0)
        a5_diag_add(d, c->path, f[0].line, f[0].col, "unknown nation code '%s' (not in the "
                    "scenario's nations)", f[0].text);
    if (a5_quarter_parse(f[1].text, &y, &q))
        a5_diag_add(d, c->path, f[1].line, f[1].col,
                    "bad date '%s': expected a quarter like 2019Q1", f[1].text);
    if (p < 0)
        a5_diag_add(d, c->path, f[2].line, f[2].col,
                    "bad policy '%s': expected open, restrict or ban", f[2].text);
    if (i < 0 || p < 0 || a5_quarter_parse(f[1].text, &y, &q)) {
        c->bad = 1;
        return 0;
    }
    long t = (long)y * 4 + q - 1;
    if (t > c->start || t < c->when[i])
        return 0;
    if (t == c->when[i] && p != c->policy[i]) {
        a5_diag_add(d, c->path, f[2].line, f[2].col, "%s %s is '%s' here but '%s' on line %d: "
                    "one policy per nation and quarter", f[0].text, f[1].text, word[p],
                    word[c->policy[i]], c->line[i]);
        c->bad = 1;
        return 0;
    }
    if (t > c->when[i]) {
        c->when[i] = t;
        c->policy[i] = p;
        c->line[i] = f[2].line;
        c->col[i] = f[2].col;
    }
    return 0;
}

static void init_ragged(void *ctx, a5_diag *d, const char *file, int line, size_t n, size_t w)
{
    (void)w;
    ((init_csv *)ctx)->bad = 1;
    a5_diag_add(d, file, line, 1, "expected 3 fields (code,date,policy), got %zu", n);
}

/* Each nation entry given a row: its `policy` (a --set of it wins; a policy in the
 * scenario too is refused: one source per setting). */
static int init_apply(init_csv *c, a5_yaml_node *nations)
{
    static const char *const word[3] = {"open", "restrict", "ban"};
    for (size_t i = 0; i < nations->n; i++) {
        if (c->when[i] == LONG_MIN)
            continue;
        a5_yaml_node *m = nations->item[i];
        const a5_yaml_node *have = a5_yaml_get(m, "policy");
        if (have && strcmp(have->file, "--set") == 0)
            continue;
        if (have) {
            A5_SC_ERR(c->L, have, "this nation's policy is also given by initial_policies "
                      "(%s:%d): give it in one place", c->path, c->line[i]);
            continue;
        }
        a5_yaml_node *v = a5_yaml_scalar(word[c->policy[i]], 1, c->path, c->line[i], c->col[i]);
        if (!v || a5_yaml_put(m, "policy", v))
            return A5_ENOMEM;
    }
    return 0;
}

int a5_sc_initial_policies(a5_sc_loader *L, a5_yaml_node *root)
{
    const a5_yaml_node *ip = a5_yaml_get(root, "initial_policies"), *from, *st;
    a5_yaml_node *nations = a5_yaml_get(root, "nations");
    const char *name, *t;
    if (!ip)
        return 0;
    if (a5_sc_expect_map(L, ip, "initial_policies"))
        return 0;
    static const char *const keys[] = {"from"};
    a5_sc_check_keys(L, ip, "initial_policies", keys, 1);
    if (!(from = a5_yaml_get(ip, "from"))) {
        A5_SC_ERR(L, ip, "'initial_policies' needs 'from: FILE.csv' (code,date,policy)");
        return 0;
    }
    if (a5_sc_text(L, from, "initial_policies.from", &name) || !nations ||
        nations->kind != A5_YAML_SEQ)
        return 0; /* a missing or bad nations list is reported where it is loaded */
    int y = 2019, q = 1;
    if ((st = a5_yaml_get(root, "start")) &&
        (a5_sc_text(L, st, "start", &t) || a5_quarter_parse(t, &y, &q)))
        return 0; /* reported where it is loaded */
    char path[4096];
    a5_sc_beside(from->file, name, path, sizeof path);
    size_t n = nations->n ? nations->n : 1;
    init_csv c = {.L = L, .path = path, .nations = nations, .start = (long)y * 4 + q - 1};
    c.when = a5_calloc(n, sizeof *c.when);
    c.policy = a5_calloc(n, sizeof *c.policy);
    c.line = a5_calloc(n, sizeof *c.line);
    c.col = a5_calloc(n, sizeof *c.col);
    int rc = A5_ENOMEM;
    if (!c.when || !c.policy || !c.line || !c.col)
        goto done;
    for (size_t i = 0; i < nations->n; i++)
        c.when[i] = LONG_MIN;
    a5_csv_opts o = {.record = init_record, .ragged = init_ragged, .ctx = &c, .width = 3};
    rc = a5_csv_read(path, &o, L->d, NULL);
    if (rc == A5_EIO) {
        A5_SC_ERR(L, from, "cannot open initial policies '%s': %s", path, strerror(errno));
        rc = 0;
    } else if (rc != A5_ENOMEM) {
        rc = rc || c.bad ? 0 : init_apply(&c, nations);
        if (!rc)
            a5_yaml_remove(root, "initial_policies");
    }
done:
    free(c.when);
    free(c.policy);
    free(c.line);
    free(c.col);
    return rc;
}
