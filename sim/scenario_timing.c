/* Timing without hindsight (docs/model.md, "Timing"): the windows file and the
 * attention events of a scenario. See scenario_int.h.
 *
 *   windows: {file: windows.csv, hazard_boost: 0.3}
 *   attention: {events: [{at: 2019Q2, salience: 1}], decay: 0.5, weight: 0.2}
 *
 * The numbers (hazard_boost, decay, weight) are parameters of the table, read by
 * load_globals; this file reads what is not a number: the windows, which it turns
 * into a steps x nations table of 0/1, and the attention events' dates. */
#include "scenario_int.h"

#include "a5_csv.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int a5_sc_timing_key(const char *path)
{
    return strcmp(path, "windows.file") == 0 || strcmp(path, "attention.events") == 0;
}

/* The windows file's columns, in this order. */
static const char *const win_cols[] = {"code", "start", "end", "known", "kind", "source"};
enum { W_CODE, W_START, W_END, W_KNOWN, W_KIND, W_SOURCE, W_NCOLS };
/* What a window is (docs/model.md, "Timing"). */
static const char *const win_kinds[] = {"auction",  "licence",      "deadline",
                                        "election", "consultation", "review"};
#define NKINDS (sizeof win_kinds / sizeof win_kinds[0])

typedef struct {
    a5_sc_loader *L;
    const char *path;
    size_t rows;
    int bad;
} win_csv;

/* A calendar date YYYY-MM-DD into *days (a number that orders dates) and its
 * quarter index y * 4 + q - 1. Returns 0, or 1 when it is not a date. */
static int parse_date(const char *t, long *days, long *quarter)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? t[i] != '-' : !isdigit((unsigned char)t[i]))
            return 1;
    if (t[10])
        return 1;
    const int y = atoi(t), m = atoi(t + 5), d = atoi(t + 8);
    const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
        return 1;
    *days = (long)y * 372 + (m - 1) * 31 + (d - 1);
    *quarter = (long)y * 4 + (m - 1) / 3;
    return 0;
}

#define WERR(f, ...) (a5_diag_add(c->L->d, c->path, (f).line, (f).col, __VA_ARGS__), c->bad = 1)

/* The nations a window's code names (a nation, a bloc or *) into mark[0 .. n). */
static int win_nations(win_csv *c, const a5_csv_field *f, unsigned char *mark)
{
    const a5_scenario *s = c->L->s;
    const char *code = f->text;
    if (strcmp(code, "*") == 0) {
        memset(mark, 1, (size_t)s->n);
        return 0;
    }
    int i = a5_sc_find_name(s->codes, s->n, code), b = a5_sc_find_name(s->bloc_names, s->nblocs, code);
    if (i < 0 && b < 0) {
        WERR(*f, "'%s' is not a nation code, a bloc or '*' of this scenario", code);
        return 1;
    }
    memset(mark, 0, (size_t)s->n);
    if (i >= 0)
        mark[i] = 1;
    for (int j = 0; b >= 0 && j < s->n; j++)
        for (int q = s->bloc_off[j]; q < s->bloc_off[j + 1]; q++)
            mark[j] |= s->bloc_idx[q] == b;
    return 0;
}

static int win_record(void *ctx, size_t record, int line, const a5_csv_field *f, size_t n)
{
    win_csv *c = ctx;
    a5_scenario *s = c->L->s;
    (void)line;
    if (record == 0) {
        for (size_t k = 0; k < W_NCOLS; k++)
            if (k >= n || strcmp(f[k].text, win_cols[k]) != 0) {
                a5_diag_add(c->L->d, c->path, k < n ? f[k].line : line, k < n ? f[k].col : 1,
                            "the windows file's header must be code,start,end,known,kind,source "
                            "(column %zu should be '%s')",
                            k + 1, win_cols[k]);
                c->bad = 1;
                return A5_ESCENARIO;
            }
        return n == W_NCOLS ? 0 : (WERR(f[W_NCOLS], "unexpected column '%s'", f[W_NCOLS].text),
                                   A5_ESCENARIO);
    }
    if (n != W_NCOLS)
        return 0; /* reported by the reader */
    c->rows++;
    long day[3], qtr[3];
    int badrow = 0;
    for (int k = 0; k < 3; k++)
        if (parse_date(f[W_START + k].text, &day[k], &qtr[k])) {
            WERR(f[W_START + k], "%s must be a date YYYY-MM-DD, got '%s'", win_cols[W_START + k],
                 f[W_START + k].text);
            badrow = 1;
        }
    if (!badrow && day[1] < day[0]) {
        WERR(f[W_END], "window ends (%s) before it starts (%s)", f[W_END].text, f[W_START].text);
        badrow = 1;
    }
    if (!badrow && day[2] > day[0]) {
        WERR(f[W_KNOWN],
             "window known on %s, after its start %s: only windows public in advance are "
             "allowed (no hindsight)",
             f[W_KNOWN].text, f[W_START].text);
        badrow = 1;
    }
    size_t k;
    for (k = 0; k < NKINDS; k++)
        if (strcmp(f[W_KIND].text, win_kinds[k]) == 0)
            break;
    if (k == NKINDS) {
        char h[96];
        WERR(f[W_KIND],
             "kind must be auction, licence, deadline, election, consultation or review, got "
             "'%s'%s",
             f[W_KIND].text, a5_sc_hint(h, sizeof h, f[W_KIND].text, win_kinds, NKINDS));
        badrow = 1;
    }
    if (strncmp(f[W_SOURCE].text, "https://", 8) != 0 && strncmp(f[W_SOURCE].text, "http://", 7) != 0) {
        WERR(f[W_SOURCE], "every window needs a source URL (http:// or https://), got '%s'",
             f[W_SOURCE].text);
        badrow = 1;
    }
    unsigned char *mark = a5_malloc((size_t)s->n);
    if (!mark)
        return A5_ENOMEM;
    badrow |= win_nations(c, &f[W_CODE], mark);
    const long q0 = (long)s->start_year * 4 + s->start_quarter - 1;
    const long kq = qtr[2] - q0; /* the step of its known date (forecasts: a5_fc_view) */
    const int known = kq < -1000000 ? -1000000 : kq > 1000000 ? 1000000 : (int)kq;
    for (long t = badrow ? s->steps : 0; t < s->steps; t++)
        if (q0 + t >= qtr[0] && q0 + t <= qtr[1])
            for (int i = 0; i < s->n; i++) {
                const size_t cell = (size_t)t * s->n + i;
                s->window[cell] |= mark[i];
                if (mark[i] && known < s->window_known[cell])
                    s->window_known[cell] = known;
            }
    free(mark);
    return 0;
}

/* windows: {file: PATH, hazard_boost: X}: the file into s->window. */
static int load_windows(a5_sc_loader *L, const a5_yaml_node *wn)
{
    a5_scenario *s = L->s;
    if (a5_sc_expect_map(L, wn, "windows")) /* its other keys: load_globals */
        return 0;
    const a5_yaml_node *fn = a5_yaml_get(wn, "file");
    if (!fn) {
        A5_SC_ERR(L, wn, "'windows' needs 'file' (a CSV of windows: code,start,end,known,kind,source)");
        return 0;
    }
    const char *fname;
    if (a5_sc_text(L, fn, "windows.file", &fname))
        return 0;
    char path[4096];
    a5_sc_beside(fn->file, fname, path, sizeof path);
    const size_t cells = (size_t)s->steps * (size_t)s->n;
    if (!(s->window = a5_calloc(cells, 1)) ||
        !(s->window_known = a5_calloc(cells, sizeof *s->window_known)))
        return A5_ENOMEM;
    for (size_t c = 0; c < cells; c++)
        s->window_known[c] = INT_MAX;
    win_csv c = {.L = L, .path = path};
    a5_csv_opts o = {.record = win_record, .ctx = &c};
    a5_csv_info info;
    int rc = a5_csv_read(path, &o, L->d, &info);
    if (rc == A5_EIO) {
        A5_SC_ERR(L, fn, "cannot open windows file '%s': %s", path, strerror(errno));
        return 0;
    }
    if (rc == A5_ENOMEM)
        return rc;
    if (!rc && !c.bad && c.rows == 0)
        a5_diag_add(L->d, path, info.lines ? info.lines : 1, 1,
                    "windows file has no rows (a header code,start,end,known,kind,source, then "
                    "one row per window)");
    s->nwindows = c.rows;
    return 0;
}

/* attention: {events: [{at: WHEN, salience: S}, ...], decay: D, weight: W}. */
static int load_attention(a5_sc_loader *L, const a5_yaml_node *an)
{
    a5_scenario *s = L->s;
    static const char *const ekeys[] = {"at", "salience"};
    if (a5_sc_expect_map(L, an, "attention")) /* its other keys: load_globals */
        return 0;
    const a5_yaml_node *ev = a5_yaml_get(an, "events");
    if (!ev) {
        if (s->base[A5_G_ATTENTION_WEIGHT] != 0)
            A5_SC_ERR(L, an, "'attention.weight' needs 'attention.events' (a list of {at, salience})");
        return 0;
    }
    if (a5_sc_expect_seq(L, ev, "attention.events"))
        return 0;
    s->att_step = a5_calloc(ev->n + 1, sizeof *s->att_step);
    s->att_salience = a5_calloc(ev->n + 1, sizeof *s->att_salience);
    if (!s->att_step || !s->att_salience)
        return A5_ENOMEM;
    static const a5_param sp = {"salience", A5_T_REAL, 1, 0, 1e6, 0, 0, "", ""};
    for (size_t e = 0; e < ev->n; e++) {
        const a5_yaml_node *it = ev->item[e];
        if (a5_sc_expect_map(L, it, "attention event"))
            continue;
        a5_sc_check_keys(L, it, "attention event", ekeys, 2);
        const a5_yaml_node *at = a5_yaml_get(it, "at"), *sal = a5_yaml_get(it, "salience");
        if (!at || !sal) {
            A5_SC_ERR(L, it, "an attention event needs 'at' (a step or quarter label) and "
                             "'salience' (a number >= 0)");
            continue;
        }
        int step;
        double v;
        if (a5_sc_event_at(L, at, &step) == 0 && a5_sc_value(L, sal, &sp, "salience", &v) == 0) {
            s->att_step[s->nattention] = step;
            s->att_salience[s->nattention++] = v;
        }
    }
    return 0;
}

/* Whether uncertain:, events: or a sweep/design varies global slot g. */
static int slot_varied(const a5_scenario *s, int g)
{
    int on = 0;
    for (size_t u = 0; u < s->nuncertain; u++)
        for (size_t q = 0; q < s->uncertain[u].target.nslots; q++)
            on |= s->uncertain[u].target.slots[q] == (size_t)g;
    for (size_t e = 0; e < s->nevents; e++)
        for (size_t o = 0; o < s->events[e].nops; o++)
            for (size_t q = 0; q < s->events[e].ops[o].target.nslots; q++)
                on |= s->events[e].ops[o].target.slots[q] == (size_t)g;
    for (size_t v = 0; v < s->nvaried; v++)
        for (size_t q = 0; q < s->varied[v].nslots; q++)
            on |= s->varied[v].slots[q] == (size_t)g;
    return on;
}

void a5_sc_timing_check(a5_sc_loader *L)
{
    const a5_scenario *s = L->s;
    static const int slots[] = {A5_G_WINDOW_BOOST, A5_G_ATTENTION_WEIGHT, A5_G_ATTENTION_DECAY};
    for (size_t k = 0; k < sizeof slots / sizeof *slots; k++) {
        const char *need = a5_sc_timing_needs(s, (size_t)slots[k]);
        if (need && slot_varied(s, slots[k]))
            a5_diag_add(L->d, s->file, 1, 1, A5_SC_TIMING_UNUSED, a5_param_global[slots[k]].path,
                        need);
    }
}

int a5_sc_timing(a5_sc_loader *L, const a5_yaml_node *root)
{
    const a5_yaml_node *wn = a5_yaml_get(root, "windows"), *an = a5_yaml_get(root, "attention");
    int rc = 0;
    if (wn && (rc = load_windows(L, wn)))
        return rc;
    if (an && (rc = load_attention(L, an)))
        return rc;
    if (!wn && L->s->base[A5_G_WINDOW_BOOST] != 0)
        a5_diag_add(L->d, L->s->file, 1, 1,
                    "'windows.hazard_boost' needs 'windows.file' (the windows it boosts)");
    if (L->s->nattention == 0 && L->s->base[A5_G_ATTENTION_WEIGHT] != 0) /* none, or [] */
        a5_diag_add(L->d, L->s->file, 1, 1,
                    "'attention.weight' needs 'attention.events' (the events it weighs)");
    return 0;
}
