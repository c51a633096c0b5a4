/* Observations by nation and date: reading them (a5_calib_read_obs), an order of
 * the rows built in linear time, the check that one nation and quarter has one
 * policy, and the check of observations at or before the start against the
 * scenario's starting policies. See a5_calibrate.h; issue 25.11 (linear in rows) and
 * issue 23.3. */
#include "calibrate_int.h"

#include "a5_csv.h"
#include "a5_mem.h"
#include "a5_sys.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const policy_word[3] = {"open", "restrict", "ban"};

/* Rows in order of nation, then date, then file order: two stable counting sorts. */
int a5c_obs_order(const a5_scenario *s, const a5_obs *obs, size_t n, size_t *order)
{
    size_t nb = (size_t)(s->steps > s->n ? s->steps : s->n) + 1;
    size_t *cnt = a5_calloc(nb, sizeof *cnt), *tmp = a5_calloc(n ? n : 1, sizeof *tmp);
    if (!cnt || !tmp) {
        free(cnt);
        free(tmp);
        return A5_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        cnt[obs[i].step + 1]++;
    for (size_t k = 1; k < nb; k++)
        cnt[k] += cnt[k - 1];
    for (size_t i = 0; i < n; i++)
        tmp[cnt[obs[i].step]++] = i;
    memset(cnt, 0, nb * sizeof *cnt);
    for (size_t i = 0; i < n; i++)
        cnt[obs[i].nation + 1]++;
    for (size_t k = 1; k < nb; k++)
        cnt[k] += cnt[k - 1];
    for (size_t q = 0; q < n; q++)
        order[cnt[obs[tmp[q]].nation]++] = tmp[q];
    free(cnt);
    free(tmp);
    return 0;
}

int a5c_obs_cell_rank(const a5_scenario *s, const a5_obs *obs, size_t n, int *rank)
{
    size_t *order = a5_calloc(n ? n : 1, sizeof *order);
    if (!order || a5c_obs_order(s, obs, n, order)) {
        free(order);
        return A5_ENOMEM;
    }
    for (size_t q = 0; q < n; q++) {
        const a5_obs *a = &obs[order[q]], *b = q ? &obs[order[q - 1]] : NULL;
        rank[order[q]] = b && a->nation == b->nation && a->step == b->step ? rank[order[q - 1]] + 1
                                                                           : 0;
    }
    free(order);
    return 0;
}

int a5_calib_check_cells(const char *path, const a5_scenario *s, const a5_obs *obs, size_t n,
                         a5_diag *d)
{
    size_t *order = a5_calloc(n ? n : 1, sizeof *order);
    size_t *other = a5_calloc(n ? n : 1, sizeof *other);
    if (!order || !other || a5c_obs_order(s, obs, n, order)) {
        free(order);
        free(other);
        return A5_ENOMEM;
    }
    /* Within a cell (rows in file order), each row against the earliest row before it
     * with another policy: the first row of each policy so far. */
    for (size_t g = 0; g < n;) {
        size_t h = g, first[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX};
        for (; h < n && obs[order[h]].nation == obs[order[g]].nation &&
               obs[order[h]].step == obs[order[g]].step; h++) {
            size_t j = order[h];
            other[j] = SIZE_MAX;
            for (int k = 0; k < 3; k++)
                if (k != obs[j].policy && first[k] < other[j])
                    other[j] = first[k];
            if (first[obs[j].policy] == SIZE_MAX)
                first[obs[j].policy] = j;
        }
        g = h;
    }
    for (size_t j = 0; j < n; j++) { /* reported in file order, as the first ones are kept */
        size_t i = other[j];
        if (i == SIZE_MAX)
            continue;
        char q[16];
        a5_scenario_date(s, obs[j].step, q, sizeof q);
        a5_diag_add(d, path, obs[j].line, 1, "%s %s is '%s' here but '%s' on line %d: one "
                    "policy per nation and quarter (repeated observations, such as "
                    "simulated worlds: --repeated-observations)", s->codes[obs[j].nation],
                    q, policy_word[obs[j].policy], policy_word[obs[i].policy], obs[i].line);
    }
    free(order);
    free(other);
    return 0;
}

int a5_calib_check_start(const char *path, const a5_scenario *s, const a5_obs *obs, size_t n,
                         a5_diag *w)
{
    for (size_t i = 0; i < n; i++) {
        int st = a5c_start(s, obs[i].nation);
        if (obs[i].step > 0 || obs[i].policy == st)
            continue;
        char q[16];
        a5_scenario_date(s, obs[i].step, q, sizeof q);
        a5_diag_add(w, path, obs[i].line, 1, "%s is '%s' at %s, the scenario's first quarter, "
                    "but %s starts it at '%s': the scenario contradicts the data at its start "
                    "(the model can match this row only by a change in that quarter)",
                    s->codes[obs[i].nation], policy_word[obs[i].policy], q, s->file,
                    policy_word[st]);
    }
    return 0;
}
/* --- observations ------------------------------------------------------------------ */

typedef struct {
    const a5_scenario *s;
    const char *path;
    a5_diag *d;
    a5_obs *v;
    size_t n, cap;
} obs_csv;

/* Header code,date,policy; then one observation per row, each bad field reported. */
static int obs_record(void *ctx, size_t record, int line, const a5_csv_field *f, size_t nf)
{
    obs_csv *c = ctx;
    const a5_scenario *s = c->s;
    if (record == 0) {
        if (nf != 3 || strcmp(f[0].text, "code") || strcmp(f[1].text, "date") ||
            strcmp(f[2].text, "policy"))
            a5_diag_add(c->d, c->path, line, 1, "the header must be 'code,date,policy'");
        return 0;
    }
    if (nf != 3)
        return 0; /* reported by obs_ragged */
    a5_obs o = {-1, -1, -1, line};
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->codes[i], f[0].text) == 0)
            o.nation = i;
    if (o.nation < 0) {
        const char *sug = a5_suggest(f[0].text, (const char *const *)s->codes, (size_t)s->n);
        a5_diag_add(c->d, c->path, f[0].line, f[0].col, "unknown nation code '%s'%s%s%s",
                    f[0].text, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
    }
    long t;
    if (a5_scenario_label_step(s, f[1].text, &t)) {
        a5_diag_add(c->d, c->path, f[1].line, f[1].col,
                    "bad date '%s': expected a quarter like 2020Q3", f[1].text);
    } else if (t < 0 || t >= s->steps) {
        char last[16];
        a5_scenario_date(s, s->steps - 1, last, sizeof last);
        a5_diag_add(c->d, c->path, f[1].line, f[1].col, "date %s is outside the run (%s to %s)",
                    f[1].text, s->start, last);
    } else
        o.step = (int)t;
    o.policy = a5_policy_parse(f[2].text);
    if (o.policy < 0)
        a5_diag_add(c->d, c->path, f[2].line, f[2].col,
                    "bad policy '%s': expected open, restrict or ban", f[2].text);
    if (o.nation < 0 || o.step < 0 || o.policy < 0)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        a5_obs *nv = a5_realloc(c->v, cap * sizeof *nv);
        if (!nv)
            return A5_ENOMEM;
        c->v = nv;
        c->cap = cap;
    }
    c->v[c->n++] = o;
    return 0;
}

static void obs_ragged(void *ctx, a5_diag *d, const char *file, int line, size_t n, size_t width)
{
    (void)ctx;
    (void)width;
    a5_diag_add(d, file, line, 1, "expected 3 fields (code,date,policy), got %zu", n);
}

int a5_calib_read_obs(const char *path, const a5_scenario *s, a5_diag *d, a5_obs **obs, size_t *n)
{
    *obs = NULL;
    *n = 0;
    size_t before = a5_diag_count(d);
    /* A NUL byte would end a field early ("ban\\0x" read as "ban"): refuse it. */
    char *raw = NULL;
    size_t rawlen = 0;
    int rrc = a5_sys_read_regular(path, 1u << 30, &raw, &rawlen);
    if (rrc == A5_ENOMEM)
        return A5_ENOMEM;
    if (rrc == A5_EIO) {
        a5_diag_add(d, path, 0, 0, "cannot open: %s", errno == EINVAL ? "not a regular file"
                                                                      : strerror(errno));
        return A5_EIO;
    }
    const char *nul = memchr(raw, 0, rawlen);
    if (nul) {
        int line = 1, col = 1;
        for (const char *q = raw; q < nul; q++, col++)
            if (*q == '\n')
                line++, col = 0;
        a5_diag_add(d, path, line, col, "a NUL byte is not allowed in an observations file");
        free(raw);
        return A5_ESCENARIO;
    }
    free(raw);
    obs_csv c = {.s = s, .path = path, .d = d};
    a5_csv_opts o = {.record = obs_record, .ragged = obs_ragged, .ctx = &c, .width = 3};
    a5_csv_info info;
    int rc = a5_csv_read(path, &o, d, &info);
    if (rc == A5_EIO) {
        a5_diag_add(d, path, 0, 0, "cannot open: %s", strerror(errno));
        free(c.v);
        return A5_EIO;
    }
    if (!rc && a5_diag_count(d) == before && c.n == 0)
        a5_diag_add(d, path, info.lines ? info.lines : 1, 1, "no observations");
    if (rc || a5_diag_count(d) != before) {
        free(c.v);
        return rc == A5_ENOMEM ? A5_ENOMEM : A5_ESCENARIO;
    }
    *obs = c.v;
    *n = c.n;
    return 0;
}
