/* Scenario loading and validation. See a5_scenario.h.
 *
 * Loading runs in stages over a YAML tree (a5_yaml.h): --set overrides are applied
 * to the tree, then each section is checked against the parameter table. Every
 * check reports through the diagnostics list and carries on, so one run shows the
 * user all their mistakes; a later stage is skipped only when an earlier one left
 * nothing sensible to check against. */
#include "a5_scenario.h"

#include "a5_design.h"
#include "a5_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    a5_diag *d;
    a5_scenario *s;
    int oom;
    double ndef[A5_N_COUNT]; /* nation attribute defaults after `defaults:` */
    int pressure_given;      /* defaults.us_pressure was set */
    char *files[A5_MAX_BASE_DEPTH]; /* files read for `base:`: node->file points here */
    int nfiles;
} loader;

#define ERR(L, node, ...) a5_diag_add((L)->d, (node)->file, (node)->line, (node)->col, __VA_ARGS__)

static const char *const top_keys[] = {
    "name",   "description", "start",    "steps", "replicates", "seed",      "policy",
    "decision", "vendors",   "market",   "risk",  "us",         "china",     "peers",
    "defaults", "nations",   "events",   "uncertain", "sweep",  "design",    "output",
    "base"};
#define NTOP (sizeof top_keys / sizeof top_keys[0])

static const char *kind_name(const a5_yaml_node *n)
{
    return n->kind == A5_YAML_MAP ? "a mapping" : n->kind == A5_YAML_SEQ ? "a list" : "a value";
}

/* " (did you mean 'x'?)" or "" */
static const char *hint(char *buf, size_t len, const char *word, const char *const *names,
                        size_t n)
{
    const char *s = a5_suggest(word, names, n);
    if (s && strcmp(s, word) != 0)
        snprintf(buf, len, " (did you mean '%s'?)", s);
    else
        buf[0] = 0;
    return buf;
}

/* --- scalar values ------------------------------------------------------------------ */

/* Parse a plain decimal number; rejects hex, nan, inf, empty and overflow. */
static int parse_double(const char *text, double *v, const char **why)
{
    const char *p = text;
    if (!*p) {
        *why = "expected a number, got an empty value";
        return -1;
    }
    for (; *p; p++)
        if (!(isdigit((unsigned char)*p) || *p == '.' || *p == '-' || *p == '+' || *p == 'e' ||
              *p == 'E')) {
            *why = "expected a number";
            return -1;
        }
    char *end;
    errno = 0;
    double x = strtod(text, &end);
    if (*end || end == text) {
        *why = "expected a number";
        return -1;
    }
    if (errno == ERANGE && fabs(x) > 1) {
        *why = "number too large to represent";
        return -1;
    }
    if (!isfinite(x)) {
        *why = "must be a finite number";
        return -1;
    }
    *v = x;
    return 0;
}

/* Read a value for parameter p from node into *v; reports and returns -1 on error. */
static int get_value(loader *L, const a5_yaml_node *node, const a5_param *p, const char *path,
                     double *v)
{
    if (node->kind != A5_YAML_SCALAR) {
        ERR(L, node, "'%s' must be %s, got %s", path,
            p->type == A5_T_POLICY ? "a policy name" : "a number", kind_name(node));
        return -1;
    }
    const char *t = node->value;
    if (p->type == A5_T_BOOL) {
        if (node->plain && strcmp(t, "true") == 0)
            *v = 1;
        else if (node->plain && strcmp(t, "false") == 0)
            *v = 0;
        else {
            ERR(L, node, "'%s' must be true or false, got '%s'", path, t);
            return -1;
        }
        return 0;
    }
    if (p->type == A5_T_POLICY) {
        int k = a5_policy_parse(t);
        if (k < 0) {
            static const char *const pol[] = {"open", "restrict", "ban"};
            char h[96];
            ERR(L, node, "'%s': unknown policy '%s'; expected open, restrict or ban%s", path, t,
                hint(h, sizeof h, t, pol, 3));
            return -1;
        }
        *v = k;
        return 0;
    }
    const char *why;
    if (!node->plain) {
        ERR(L, node, "'%s' must be a number, got the quoted text \"%s\"", path, t);
        return -1;
    }
    if (parse_double(t, v, &why)) {
        ERR(L, node, "'%s': %s, got '%s'", path, why, t);
        return -1;
    }
    char buf[128];
    if (a5_param_check(p, *v, buf, sizeof buf)) {
        ERR(L, node, "'%s' = %s %s", path, t, buf);
        return -1;
    }
    return 0;
}

/* A plain number with no parameter entry (distribution parameters, ranges). */
static int get_number(loader *L, const a5_yaml_node *node, const char *what, double *v)
{
    const char *why;
    if (node->kind != A5_YAML_SCALAR) {
        ERR(L, node, "%s must be a number, got %s", what, kind_name(node));
        return -1;
    }
    if (!node->plain) {
        ERR(L, node, "%s must be a number, got the quoted text \"%s\"", what, node->value);
        return -1;
    }
    if (parse_double(node->value, v, &why)) {
        ERR(L, node, "%s: %s, got '%s'", what, why, node->value);
        return -1;
    }
    return 0;
}

static int get_text(loader *L, const a5_yaml_node *node, const char *what, const char **t)
{
    if (node->kind != A5_YAML_SCALAR) {
        ERR(L, node, "'%s' must be text, got %s", what, kind_name(node));
        return -1;
    }
    *t = node->value;
    return 0;
}

static int expect_map(loader *L, const a5_yaml_node *node, const char *what)
{
    if (node->kind != A5_YAML_MAP) {
        ERR(L, node, "'%s' must be a mapping (key: value), got %s", what, kind_name(node));
        return -1;
    }
    return 0;
}

static int expect_seq(loader *L, const a5_yaml_node *node, const char *what)
{
    if (node->kind != A5_YAML_SEQ) {
        ERR(L, node, "'%s' must be a list, got %s", what, kind_name(node));
        return -1;
    }
    return 0;
}

/* Report keys of `map` not in `allowed`. */
static void check_keys(loader *L, const a5_yaml_node *map, const char *where,
                       const char *const *allowed, size_t n)
{
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->key[i]->value;
        size_t j;
        for (j = 0; j < n; j++)
            if (strcmp(k, allowed[j]) == 0)
                break;
        if (j == n) {
            char h[96];
            ERR(L, map->key[i], "unknown key '%s' in %s%s", k, where,
                hint(h, sizeof h, k, allowed, n));
        }
    }
}

/* --- dates -------------------------------------------------------------------------- */

static int parse_label(const char *t, int *year, int *q)
{
    int y = 0, n = 0;
    const char *p = t;
    while (isdigit((unsigned char)*p) && n < 5) {
        y = y * 10 + (*p - '0');
        p++;
        n++;
    }
    if (n != 4 || (*p != 'Q' && *p != 'q') || p[1] < '1' || p[1] > '4' || p[2])
        return -1;
    *year = y;
    *q = p[1] - '0';
    return 0;
}

void a5_scenario_date(const a5_scenario *s, int t, char *buf, size_t len)
{
    long idx = (long)s->start_year * 4 + (s->start_quarter - 1) + t;
    snprintf(buf, len, "%ldQ%ld", idx / 4, idx % 4 + 1);
}

/* --- paths -------------------------------------------------------------------------- */

static int find_name(char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

/* Candidate list of every global path, for suggestions. */
static const char *const *global_paths(void)
{
    static const char *v[A5_G_COUNT];
    for (int i = 0; i < A5_G_COUNT; i++)
        v[i] = a5_param_global[i].path;
    return v;
}

static const char *const *nation_attrs(void)
{
    static const char *v[A5_N_COUNT];
    for (int i = 0; i < A5_N_COUNT; i++)
        v[i] = a5_param_nation[i].path;
    return v;
}

enum { RESOLVE_VARY = 1, RESOLVE_EVENT = 2 };

/* Resolve a dotted path into a target. `node` locates errors. Returns 0 or -1. */
static int resolve(loader *L, const char *path, const a5_yaml_node *node, int mode, a5_target *t)
{
    a5_scenario *s = L->s;
    char h[128];
    memset(t, 0, sizeof *t);
    const char *dot1 = strchr(path, '.');
    size_t n0 = dot1 ? (size_t)(dot1 - path) : strlen(path);
    int is_nations = n0 == 7 && strncmp(path, "nations", 7) == 0;
    int is_vendors = n0 == 7 && strncmp(path, "vendors", 7) == 0;
    if (is_nations || is_vendors) {
        const char *rest = dot1 ? dot1 + 1 : "";
        const char *dot2 = strchr(rest, '.');
        if (!dot1 || !dot2 || strchr(dot2 + 1, '.')) {
            ERR(L, node, "path '%s' names nothing: expected %s", path,
                is_nations ? "nations.CODE.ATTRIBUTE or nations.*.ATTRIBUTE"
                           : "vendors.NAME.price");
            return -1;
        }
        char who[128];
        size_t wl = (size_t)(dot2 - rest);
        if (wl >= sizeof who)
            wl = sizeof who - 1;
        memcpy(who, rest, wl);
        who[wl] = 0;
        const char *attr = dot2 + 1;
        if (is_vendors) {
            int v = find_name(s->vendor_names, s->nvendors, who);
            if (v < 0) {
                ERR(L, node, "unknown vendor '%s' in path '%s'%s", who, path,
                    hint(h, sizeof h, who, (const char *const *)s->vendor_names,
                         (size_t)s->nvendors));
                return -1;
            }
            if (strcmp(attr, "price") != 0) {
                static const char *const pr[] = {"price"};
                ERR(L, node, "path '%s' names nothing: a vendor's only number is 'price'%s",
                    path, hint(h, sizeof h, attr, pr, 1));
                return -1;
            }
            t->param = &a5_param_vendor_price;
            t->nslots = 1;
            t->slots = malloc(sizeof *t->slots);
            if (!t->slots)
                return L->oom = 1, -1;
            t->slots[0] = a5_param_vslot(v, s->n);
        } else {
            int a, who_i = -1;
            const a5_param *p = a5_param_find_nation(attr, &a);
            int bad = 0;
            if (strcmp(who, "*") != 0) {
                who_i = find_name(s->codes, s->n, who);
                if (who_i < 0) {
                    ERR(L, node, "unknown nation '%s' in path '%s'%s", who, path,
                        hint(h, sizeof h, who, (const char *const *)s->codes, (size_t)s->n));
                    bad = 1;
                }
            }
            if (!p) {
                ERR(L, node, "path '%s' names nothing: '%s' is not a nation attribute%s", path,
                    attr, hint(h, sizeof h, attr, nation_attrs(), A5_N_COUNT));
                return -1;
            }
            if (bad)
                return -1;
            t->param = p;
            t->nslots = who_i < 0 ? (size_t)s->n : 1;
            t->slots = malloc(t->nslots * sizeof *t->slots);
            if (!t->slots)
                return L->oom = 1, -1;
            for (size_t i = 0; i < t->nslots; i++)
                t->slots[i] = a5_param_nslot(a, who_i < 0 ? (int)i : who_i, s->n);
        }
    } else {
        int g;
        const a5_param *p = a5_param_find_global(path, &g);
        if (!p) {
            if (a5_param_find_run(path, NULL))
                ERR(L, node, "'%s' is a whole-run setting: it can be changed with --set but "
                             "not varied", path);
            else
                ERR(L, node, "path '%s' names nothing%s", path,
                    hint(h, sizeof h, path, global_paths(), A5_G_COUNT));
            return -1;
        }
        t->param = p;
        t->nslots = 1;
        t->slots = malloc(sizeof *t->slots);
        if (!t->slots)
            return L->oom = 1, -1;
        t->slots[0] = (size_t)g;
    }
    int ok_policy = (mode & RESOLVE_EVENT) && t->param->type == A5_T_POLICY;
    if ((mode & RESOLVE_VARY) && !(t->param->flags & A5_PF_VARY) && !ok_policy) {
        ERR(L, node, "'%s' cannot be %s", path,
            (mode & RESOLVE_EVENT) ? "changed by an event" : "varied (it is not a number)");
        free(t->slots);
        t->slots = NULL;
        return -1;
    }
    t->path = strdup(path);
    if (!t->path) {
        free(t->slots);
        t->slots = NULL;
        return L->oom = 1, -1;
    }
    return 0;
}

static void target_free(a5_target *t)
{
    free(t->path);
    free(t->slots);
}

/* --- sections ----------------------------------------------------------------------- */

/* Model-parameter sections (policy, decision, market, ...): walk nested mappings,
 * building dotted paths, and store each leaf in the base vector. */
static void load_globals(loader *L, const a5_yaml_node *map, const char *prefix)
{
    if (expect_map(L, map, prefix))
        return;
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < map->n; i++) {
        const a5_yaml_node *k = map->key[i], *v = map->item[i];
        char path[256];
        snprintf(path, sizeof path, "%s.%s", prefix, k->value);
        int slot;
        const a5_param *p = a5_param_find_global(path, &slot);
        if (p) {
            double x;
            if (get_value(L, v, p, path, &x) == 0)
                L->s->base[slot] = x;
            continue;
        }
        /* A sub-section: some parameter path continues below this one. */
        size_t pl = strlen(path);
        int sub = 0;
        for (int g = 0; g < A5_G_COUNT; g++)
            if (strncmp(a5_param_global[g].path, path, pl) == 0 &&
                a5_param_global[g].path[pl] == '.')
                sub = 1;
        if (sub) {
            load_globals(L, v, path);
            continue;
        }
        /* Unknown: suggest among the keys valid at this level. */
        const char *cands[A5_G_COUNT];
        char store[A5_G_COUNT][64];
        size_t nc = 0;
        for (int g = 0; g < A5_G_COUNT; g++) {
            const char *gp = a5_param_global[g].path;
            if (strncmp(gp, prefix, plen) != 0 || gp[plen] != '.')
                continue;
            const char *c = gp + plen + 1, *e = strchr(c, '.');
            size_t cl = e ? (size_t)(e - c) : strlen(c);
            if (cl >= 64)
                continue;
            memcpy(store[nc], c, cl);
            store[nc][cl] = 0;
            cands[nc] = store[nc];
            nc++;
        }
        char h[96];
        ERR(L, k, "unknown key '%s' in '%s'%s", k->value, prefix,
            hint(h, sizeof h, k->value, cands, nc));
    }
}

static void load_run(loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *v;
    const char *t;
    double x;
    if ((v = a5_yaml_get(root, "name")) && get_text(L, v, "name", &t) == 0)
        s->name = strdup(t);
    if ((v = a5_yaml_get(root, "description")) && get_text(L, v, "description", &t) == 0)
        s->description = strdup(t);
    if (!s->name)
        s->name = strdup("unnamed");
    if (!s->description)
        s->description = strdup("");
    if (!s->name || !s->description)
        L->oom = 1;
    snprintf(s->start, sizeof s->start, "2019Q1");
    s->start_year = 2019;
    s->start_quarter = 1;
    if ((v = a5_yaml_get(root, "start")) && get_text(L, v, "start", &t) == 0) {
        if (parse_label(t, &s->start_year, &s->start_quarter))
            ERR(L, v, "'start' must be a quarter label like 2019Q1, got '%s'", t);
        else
            snprintf(s->start, sizeof s->start, "%04dQ%d", s->start_year, s->start_quarter);
    }
    s->steps = (int)a5_param_run[A5_S_STEPS].def;
    s->replicates = (long)a5_param_run[A5_S_REPLICATES].def;
    s->seed = (uint64_t)a5_param_run[A5_S_SEED].def;
    s->store_full = 1;
    if ((v = a5_yaml_get(root, "steps")) &&
        get_value(L, v, &a5_param_run[A5_S_STEPS], "steps", &x) == 0)
        s->steps = (int)x;
    if ((v = a5_yaml_get(root, "replicates")) &&
        get_value(L, v, &a5_param_run[A5_S_REPLICATES], "replicates", &x) == 0)
        s->replicates = (long)x;
    if ((v = a5_yaml_get(root, "seed")) &&
        get_value(L, v, &a5_param_run[A5_S_SEED], "seed", &x) == 0)
        s->seed = (uint64_t)x;
    if ((v = a5_yaml_get(root, "output")) && expect_map(L, v, "output") == 0) {
        static const char *const ok[] = {"store"};
        check_keys(L, v, "'output'", ok, 1);
        const a5_yaml_node *st = a5_yaml_get(v, "store");
        if (st && get_text(L, st, "output.store", &t) == 0) {
            static const char *const stores[] = {"full", "summary"};
            if (strcmp(t, "full") == 0)
                s->store_full = 1;
            else if (strcmp(t, "summary") == 0)
                s->store_full = 0;
            else {
                char h[96];
                ERR(L, st, "'output.store' must be full or summary, got '%s'%s", t,
                    hint(h, sizeof h, t, stores, 2));
            }
        }
    }
}

static int valid_name(const char *t)
{
    if (!*t || strlen(t) > 63)
        return 0;
    for (const char *p = t; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static void load_vendors(loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *vs = a5_yaml_get(root, "vendors");
    static const char *const dnames[] = {"Huawei", "Ericsson"};
    static const double dprice[] = {0.8, 1.0};
    size_t n = vs ? vs->n : 2;
    if (vs && expect_seq(L, vs, "vendors"))
        return;
    if (n > A5_MAX_VENDORS) {
        ERR(L, vs, "%zu vendors: at most %d are supported", n, A5_MAX_VENDORS);
        return;
    }
    s->vendor_names = calloc(n ? n : 1, sizeof *s->vendor_names);
    s->vendor_high_risk = calloc(n ? n : 1, 1);
    double *price = calloc(n ? n : 1, sizeof *price);
    if (!s->vendor_names || !s->vendor_high_risk || !price) {
        free(price);
        L->oom = 1;
        return;
    }
    int nrisk = 0, ntrust = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = vs ? "?" : dnames[i];
        int hr = !vs && i == 0;
        price[i] = vs ? 1.0 : dprice[i];
        if (vs && expect_map(L, vs->item[i], "vendors entry") == 0) {
            const a5_yaml_node *v = vs->item[i];
            static const char *const keys[] = {"name", "price", "high_risk"};
            check_keys(L, v, "a vendor", keys, 3);
            const a5_yaml_node *nm = a5_yaml_get(v, "name"), *pr = a5_yaml_get(v, "price"),
                               *hk = a5_yaml_get(v, "high_risk");
            name = NULL;
            if (!nm)
                ERR(L, v, "vendor without a 'name'");
            else if (get_text(L, nm, "vendors.name", &name) == 0 && !valid_name(name)) {
                ERR(L, nm, "vendor name '%s' must be 1-63 letters, digits, '_' or '-'", name);
                name = NULL;
            } else if (name && find_name(s->vendor_names, (int)i, name) >= 0) {
                ERR(L, nm, "duplicate vendor name '%s'", name);
                name = NULL;
            }
            char vpath[96];
            snprintf(vpath, sizeof vpath, "vendors.%s.price", name ? name : "?");
            if (!pr)
                ERR(L, v, "vendor without a 'price'");
            else
                get_value(L, pr, &a5_param_vendor_price, vpath, &price[i]);
            double x = 0;
            static const a5_param boolp = {"high_risk", A5_T_BOOL, 0, 0, 1, 0, 0, "", ""};
            if (hk && get_value(L, hk, &boolp, "high_risk", &x) == 0)
                hr = x != 0;
            else
                hr = 0;
            if (!name)
                name = "?";
        }
        s->vendor_names[i] = strdup(name);
        if (!s->vendor_names[i])
            L->oom = 1;
        s->vendor_high_risk[i] = (unsigned char)hr;
        nrisk += hr;
        ntrust += !hr;
    }
    s->nvendors = (int)n;
    if (vs && (!nrisk || !ntrust))
        ERR(L, vs, "'vendors' needs at least one high-risk vendor (high_risk: true) and one "
                   "trusted vendor; found %d high-risk and %d trusted", nrisk, ntrust);
    /* Prices go into the vector once it exists; keep them in base temporarily. */
    free(s->base);
    s->base = price;
}

/* First pass over nations: codes, names and blocs, which fix N and the layout. */
static void load_nation_ids(loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *ns = a5_yaml_get(root, "nations");
    if (!ns) {
        ERR(L, root, "the scenario has no 'nations' list");
        return;
    }
    if (expect_seq(L, ns, "nations"))
        return;
    if (ns->n == 0) {
        ERR(L, ns, "'nations' is empty: at least one nation is needed");
        return;
    }
    if (ns->n > A5_MAX_NATIONS) {
        ERR(L, ns, "%zu nations: at most %d are supported", ns->n, A5_MAX_NATIONS);
        return;
    }
    size_t n = ns->n;
    s->codes = calloc(n, sizeof *s->codes);
    s->names = calloc(n, sizeof *s->names);
    s->bloc_off = calloc(n + 1, sizeof *s->bloc_off);
    if (!s->codes || !s->names || !s->bloc_off) {
        L->oom = 1;
        return;
    }
    size_t nidx = 0, capidx = 0;
    int *idx = NULL;
    for (size_t i = 0; i < n; i++) {
        const a5_yaml_node *v = ns->item[i], *c, *nm, *bl;
        const char *code = NULL, *name = NULL;
        char fallback[32];
        s->bloc_off[i] = (int)nidx;
        if (v->kind == A5_YAML_MAP) {
            if (!(c = a5_yaml_get(v, "code")))
                ERR(L, v, "nation without a 'code'");
            else if (get_text(L, c, "code", &code) == 0) {
                if (!valid_name(code) || strcmp(code, "*") == 0) {
                    ERR(L, c, "nation code '%s' must be 1-63 letters, digits, '_' or '-'", code);
                    code = NULL;
                } else {
                    int prev = find_name(s->codes, (int)i, code);
                    if (prev >= 0) {
                        const a5_yaml_node *pc = a5_yaml_get(ns->item[prev], "code");
                        ERR(L, c, "duplicate nation code '%s' (first at line %d)", code, pc->line);
                        code = NULL;
                    }
                }
            }
            if ((nm = a5_yaml_get(v, "name")))
                get_text(L, nm, "name", &name);
            if ((bl = a5_yaml_get(v, "blocs")) && expect_seq(L, bl, "blocs") == 0) {
                for (size_t b = 0; b < bl->n; b++) {
                    const char *bn;
                    if (get_text(L, bl->item[b], "blocs", &bn))
                        continue;
                    if (!valid_name(bn)) {
                        ERR(L, bl->item[b], "bloc name '%s' must be 1-63 letters, digits, '_' or '-'", bn);
                        continue;
                    }
                    int bi = find_name(s->bloc_names, s->nblocs, bn);
                    if (bi < 0) {
                        if (s->nblocs >= A5_MAX_BLOCS) {
                            ERR(L, bl->item[b], "more than %d distinct blocs", A5_MAX_BLOCS);
                            continue;
                        }
                        char **nb = realloc(s->bloc_names, (size_t)(s->nblocs + 1) * sizeof *nb);
                        if (!nb || !(nb[s->nblocs] = strdup(bn))) {
                            if (nb)
                                s->bloc_names = nb;
                            L->oom = 1;
                            continue;
                        }
                        s->bloc_names = nb;
                        bi = s->nblocs++;
                    }
                    int dup = 0;
                    for (size_t q = (size_t)s->bloc_off[i]; q < nidx; q++)
                        dup |= idx[q] == bi;
                    if (dup) {
                        ERR(L, bl->item[b], "bloc '%s' listed twice", bn);
                        continue;
                    }
                    if (nidx == capidx) {
                        capidx = capidx ? 2 * capidx : 64;
                        int *ni = realloc(idx, capidx * sizeof *ni);
                        if (!ni) {
                            L->oom = 1;
                            break;
                        }
                        idx = ni;
                    }
                    idx[nidx++] = bi;
                }
            }
        } else {
            ERR(L, v, "each nation must be a mapping with a 'code', got %s", kind_name(v));
        }
        if (!code) {
            snprintf(fallback, sizeof fallback, "#%zu", i + 1);
            code = fallback;
        }
        s->codes[i] = strdup(code);
        s->names[i] = strdup(name ? name : code);
        if (!s->codes[i] || !s->names[i])
            L->oom = 1;
    }
    s->bloc_off[n] = (int)nidx;
    s->bloc_idx = idx ? idx : malloc(sizeof(int));
    if (!s->bloc_idx)
        L->oom = 1;
    s->n = (int)n;
}

/* `defaults:` then each nation's attributes, into the vector. */
static void load_nation_attrs(loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    for (int a = 0; a < A5_N_COUNT; a++)
        L->ndef[a] = a5_param_nation[a].def;
    L->ndef[A5_N_US_PRESSURE] = s->base[A5_G_US_PRESSURE];
    const a5_yaml_node *df = a5_yaml_get(root, "defaults");
    if (df && expect_map(L, df, "defaults") == 0)
        for (size_t i = 0; i < df->n; i++) {
            int a;
            char path[96], h[96];
            const a5_param *p = a5_param_find_nation(df->key[i]->value, &a);
            if (!p) {
                ERR(L, df->key[i], "unknown nation attribute '%s' in 'defaults'%s",
                    df->key[i]->value, hint(h, sizeof h, df->key[i]->value, nation_attrs(), A5_N_COUNT));
                continue;
            }
            snprintf(path, sizeof path, "defaults.%s", p->path);
            get_value(L, df->item[i], p, path, &L->ndef[a]);
            if (a == A5_N_US_PRESSURE)
                L->pressure_given = 1;
        }
    const a5_yaml_node *ns = a5_yaml_get(root, "nations");
    const char *allowed[A5_N_COUNT + 3];
    for (int a = 0; a < A5_N_COUNT; a++)
        allowed[a] = a5_param_nation[a].path;
    allowed[A5_N_COUNT] = "code";
    allowed[A5_N_COUNT + 1] = "name";
    allowed[A5_N_COUNT + 2] = "blocs";
    s->pressure_default = calloc((size_t)s->n, 1);
    if (!s->pressure_default) {
        L->oom = 1;
        return;
    }
    for (int i = 0; i < s->n; i++) {
        const a5_yaml_node *v = ns->item[i];
        for (int a = 0; a < A5_N_COUNT; a++)
            s->base[a5_param_nslot(a, i, s->n)] = L->ndef[a];
        s->pressure_default[i] = !L->pressure_given && !a5_yaml_get(v, "us_pressure");
        if (v->kind != A5_YAML_MAP)
            continue;
        char where[96];
        snprintf(where, sizeof where, "nation '%s'", s->codes[i]);
        check_keys(L, v, where, allowed, A5_N_COUNT + 3);
        for (int a = 0; a < A5_N_COUNT; a++) {
            const a5_yaml_node *x = a5_yaml_get(v, a5_param_nation[a].path);
            char path[160];
            if (!x)
                continue;
            snprintf(path, sizeof path, "nations.%s.%s", s->codes[i], a5_param_nation[a].path);
            get_value(L, x, &a5_param_nation[a], path, &s->base[a5_param_nslot(a, i, s->n)]);
        }
    }
}

static const char *const dist_names[] = {"fixed", "uniform", "normal", "lognormal", "beta",
                                         "triangular"};
static const char *const dist_params[][3] = {{"value"},        {"lo", "hi"}, {"mean", "sd"},
                                             {"mu", "sigma"},  {"a", "b"},   {"lo", "mode", "hi"}};
static const int dist_nparams[] = {1, 2, 2, 2, 2, 3};

static void load_uncertain(loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *u = a5_yaml_get(root, "uncertain");
    if (!u || expect_map(L, u, "uncertain"))
        return;
    s->uncertain = calloc(u->n ? u->n : 1, sizeof *s->uncertain);
    if (!s->uncertain) {
        L->oom = 1;
        return;
    }
    for (size_t i = 0; i < u->n; i++) {
        const a5_yaml_node *k = u->key[i], *v = u->item[i];
        a5_uncertain un;
        memset(&un, 0, sizeof un);
        if (resolve(L, k->value, k, RESOLVE_VARY, &un.target))
            continue;
        int bad = 0;
        if (expect_map(L, v, k->value)) {
            target_free(&un.target);
            continue;
        }
        const a5_yaml_node *dn = a5_yaml_get(v, "dist");
        const char *dname = NULL;
        int kind = -1;
        if (!dn)
            ERR(L, v, "'uncertain.%s' has no 'dist' (one of fixed, uniform, normal, lognormal, "
                      "beta, triangular)", k->value);
        else if (get_text(L, dn, "dist", &dname) == 0) {
            for (int j = 0; j < 6; j++)
                if (strcmp(dname, dist_names[j]) == 0)
                    kind = j;
            if (kind < 0) {
                char h[96];
                ERR(L, dn, "unknown distribution '%s'; expected fixed, uniform, normal, lognormal, "
                           "beta or triangular%s", dname, hint(h, sizeof h, dname, dist_names, 6));
            }
        }
        if (kind < 0) {
            target_free(&un.target);
            continue;
        }
        un.dist.kind = (a5_dist_kind)kind;
        un.dist.min = -HUGE_VAL;
        un.dist.max = HUGE_VAL;
        const char *allowed[6] = {"dist", "min", "max"};
        size_t na = 3;
        for (int j = 0; j < dist_nparams[kind]; j++)
            allowed[na++] = dist_params[kind][j];
        char where[160];
        snprintf(where, sizeof where, "a %s distribution", dname);
        size_t before = a5_diag_count(L->d);
        check_keys(L, v, where, allowed, na);
        bad |= a5_diag_count(L->d) != before;
        for (int j = 0; j < dist_nparams[kind]; j++) {
            const a5_yaml_node *pv = a5_yaml_get(v, dist_params[kind][j]);
            char what[200];
            snprintf(what, sizeof what, "'%s' of %s", dist_params[kind][j], k->value);
            if (!pv) {
                ERR(L, v, "the %s distribution of '%s' needs '%s'", dname, k->value,
                    dist_params[kind][j]);
                bad = 1;
            } else
                bad |= get_number(L, pv, what, &un.dist.p[j]) != 0;
        }
        const a5_yaml_node *mn = a5_yaml_get(v, "min"), *mx = a5_yaml_get(v, "max");
        if (mn)
            bad |= get_number(L, mn, "'min'", &un.dist.min) != 0;
        if (mx)
            bad |= get_number(L, mx, "'max'", &un.dist.max) != 0;
        if (!bad) {
            const double *p = un.dist.p;
            const char *why = NULL;
            if (kind == A5_DIST_UNIFORM && !(p[0] <= p[1]))
                why = "needs lo <= hi";
            else if ((kind == A5_DIST_NORMAL || kind == A5_DIST_LOGNORMAL) && !(p[1] >= 0))
                why = "needs a spread (sd / sigma) >= 0";
            else if (kind == A5_DIST_BETA && !(p[0] > 0 && p[1] > 0))
                why = "needs a > 0 and b > 0";
            else if (kind == A5_DIST_TRIANGULAR && !(p[0] <= p[1] && p[1] <= p[2]))
                why = "needs lo <= mode <= hi";
            else if (!(un.dist.min <= un.dist.max))
                why = "needs min <= max";
            else if (kind == A5_DIST_LOGNORMAL && p[0] + 6 * p[1] > 700)
                why = "draws values too large to represent (mu + 6 sigma > 700)";
            if (why) {
                ERR(L, v, "the %s distribution of '%s' %s", dname, k->value, why);
                bad = 1;
            }
        }
        if (!bad) {
            /* Clip also to the parameter's own range. */
            if (un.dist.min < un.target.param->lo)
                un.dist.min = un.target.param->lo;
            if (un.dist.max > un.target.param->hi)
                un.dist.max = un.target.param->hi;
            if (!(un.dist.min <= un.dist.max)) {
                ERR(L, v, "the min/max of '%s' lie outside its valid range", k->value);
                bad = 1;
            }
        }
        if (bad) {
            target_free(&un.target);
            continue;
        }
        s->uncertain[s->nuncertain++] = un;
    }
}

static void load_events(loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *ev = a5_yaml_get(root, "events");
    if (!ev || expect_seq(L, ev, "events"))
        return;
    s->events = calloc(ev->n ? ev->n : 1, sizeof *s->events);
    if (!s->events) {
        L->oom = 1;
        return;
    }
    for (size_t i = 0; i < ev->n; i++) {
        const a5_yaml_node *e = ev->item[i];
        if (expect_map(L, e, "events entry"))
            continue;
        static const char *const keys[] = {"at", "hazard", "set", "add", "note"};
        check_keys(L, e, "an event", keys, 5);
        a5_event out;
        memset(&out, 0, sizeof out);
        out.at = -1;
        const a5_yaml_node *at = a5_yaml_get(e, "at"), *hz = a5_yaml_get(e, "hazard");
        int bad = 0;
        if (!at == !hz) {
            ERR(L, e, "an event needs exactly one of 'at' (a step or date label) and 'hazard' "
                      "(a chance per step)");
            bad = 1;
        } else if (at) {
            double x;
            int y, q;
            const char *why;
            if (at->kind == A5_YAML_SCALAR && parse_label(at->value, &y, &q) == 0) {
                long t = ((long)y * 4 + q) - ((long)s->start_year * 4 + s->start_quarter);
                if (t < 0 || t >= s->steps) {
                    char last[16];
                    a5_scenario_date(s, s->steps - 1, last, sizeof last);
                    ERR(L, at, "event date %s is outside the run (%s to %s)", at->value, s->start,
                        last);
                    bad = 1;
                } else
                    out.at = (int)t;
            } else if (at->kind == A5_YAML_SCALAR && at->plain &&
                       parse_double(at->value, &x, &why) == 0 && x == floor(x)) {
                if (x < 0 || x >= s->steps) {
                    ERR(L, at, "event step %s is outside the run (steps 0 to %d)", at->value,
                        s->steps - 1);
                    bad = 1;
                } else
                    out.at = (int)x;
            } else {
                ERR(L, at, "'at' must be a step index or a quarter label like 2020Q2, got '%s'",
                    at->kind == A5_YAML_SCALAR ? at->value : kind_name(at));
                bad = 1;
            }
        } else {
            static const a5_param hp = {"hazard", A5_T_REAL, 0, 0, 1, 0, 0, "", ""};
            bad |= get_value(L, hz, &hp, "hazard", &out.hazard) != 0;
        }
        const a5_yaml_node *ops[2] = {a5_yaml_get(e, "set"), a5_yaml_get(e, "add")};
        if (!ops[0] && !ops[1]) {
            ERR(L, e, "an event needs 'set' and/or 'add'");
            bad = 1;
        }
        size_t nops = 0;
        for (int o = 0; o < 2; o++)
            if (ops[o] && expect_map(L, ops[o], o ? "add" : "set") == 0)
                nops += ops[o]->n;
            else if (ops[o])
                bad = 1;
        out.ops = calloc(nops ? nops : 1, sizeof *out.ops);
        if (!out.ops) {
            L->oom = 1;
            continue;
        }
        for (int o = 0; o < 2; o++) {
            if (!ops[o] || ops[o]->kind != A5_YAML_MAP)
                continue;
            for (size_t j = 0; j < ops[o]->n; j++) {
                const a5_yaml_node *k = ops[o]->key[j], *v = ops[o]->item[j];
                a5_event_op op;
                memset(&op, 0, sizeof op);
                op.op = o ? A5_OP_ADD : A5_OP_SET;
                if (resolve(L, k->value, k, RESOLVE_VARY | RESOLVE_EVENT, &op.target)) {
                    bad = 1;
                    continue;
                }
                int vbad;
                if (o == 0)
                    vbad = get_value(L, v, op.target.param, k->value, &op.value);
                else if (op.target.param->type == A5_T_POLICY) {
                    ERR(L, k, "'add' cannot change '%s': a policy is a name; use 'set'", k->value);
                    vbad = 1;
                } else {
                    char what[200];
                    snprintf(what, sizeof what, "'add' to '%s'", k->value);
                    vbad = get_number(L, v, what, &op.value);
                }
                if (vbad) {
                    target_free(&op.target);
                    bad = 1;
                    continue;
                }
                out.ops[out.nops++] = op;
            }
        }
        if (bad) {
            for (size_t j = 0; j < out.nops; j++)
                target_free(&out.ops[j].target);
            free(out.ops);
            continue;
        }
        s->events[s->nevents++] = out;
    }
}

/* Does `path` resolve to the same slots as an uncertain parameter? */
static const a5_uncertain *overlaps_uncertain(const a5_scenario *s, const a5_target *t)
{
    for (size_t i = 0; i < s->nuncertain; i++)
        for (size_t a = 0; a < s->uncertain[i].target.nslots; a++)
            for (size_t b = 0; b < t->nslots; b++)
                if (s->uncertain[i].target.slots[a] == t->slots[b])
                    return &s->uncertain[i];
    return NULL;
}

static int add_varied(loader *L, const a5_yaml_node *k)
{
    a5_scenario *s = L->s;
    a5_target t;
    if (resolve(L, k->value, k, RESOLVE_VARY, &t))
        return -1;
    const a5_uncertain *u = overlaps_uncertain(s, &t);
    if (u) {
        ERR(L, k, "'%s' is also in 'uncertain' (as '%s'): a parameter is either drawn or "
                  "varied, not both", k->value, u->target.path);
        target_free(&t);
        return -1;
    }
    for (size_t i = 0; i < s->nvaried; i++)
        for (size_t a = 0; a < s->varied[i].nslots; a++)
            for (size_t b = 0; b < t.nslots; b++)
                if (s->varied[i].slots[a] == t.slots[b]) {
                    ERR(L, k, "'%s' overlaps '%s', varied already", k->value, s->varied[i].path);
                    target_free(&t);
                    return -1;
                }
    s->varied[s->nvaried++] = t;
    return 0;
}

static void load_sweep(loader *L, const a5_yaml_node *sw)
{
    a5_scenario *s = L->s;
    if (expect_map(L, sw, "sweep"))
        return;
    size_t k = sw->n;
    if (!k) {
        ERR(L, sw, "'sweep' is empty: give at least one path with a list of values");
        return;
    }
    s->varied = calloc(k, sizeof *s->varied);
    double **vals = calloc(k, sizeof *vals);
    size_t *nv = calloc(k, sizeof *nv);
    if (!s->varied || !vals || !nv) {
        free(vals);
        free(nv);
        L->oom = 1;
        return;
    }
    int bad = 0;
    double total = 1;
    for (size_t i = 0; i < k; i++) {
        const a5_yaml_node *key = sw->key[i], *v = sw->item[i];
        if (add_varied(L, key)) {
            bad = 1;
            continue;
        }
        const a5_param *p = s->varied[s->nvaried - 1].param;
        size_t j = s->nvaried - 1;
        if (expect_seq(L, v, key->value) || v->n == 0) {
            if (v->kind == A5_YAML_SEQ)
                ERR(L, v, "'sweep.%s' has no values", key->value);
            bad = 1;
            continue;
        }
        vals[j] = malloc(v->n * sizeof **vals);
        if (!vals[j]) {
            L->oom = 1;
            break;
        }
        nv[j] = v->n;
        total *= (double)v->n;
        for (size_t q = 0; q < v->n; q++)
            bad |= get_value(L, v->item[q], p, key->value, &vals[j][q]) != 0;
    }
    if (!bad && !L->oom && total > (double)A5_MAX_POINTS) {
        ERR(L, sw, "the sweep grid has %.0f points; at most %ld are supported", total,
            A5_MAX_POINTS);
        bad = 1;
    }
    if (!bad && !L->oom) {
        long np = (long)total;
        k = s->nvaried;
        s->points = malloc((size_t)np * (k ? k : 1) * sizeof *s->points);
        if (!s->points)
            L->oom = 1;
        else {
            /* Full factorial; the first path varies slowest. */
            for (long p = 0; p < np; p++) {
                long rem = p;
                for (size_t j = k; j-- > 0;) {
                    s->points[(size_t)p * k + j] = vals[j][rem % (long)nv[j]];
                    rem /= (long)nv[j];
                }
            }
            s->npoints = np;
            s->design = A5_DESIGN_GRID;
        }
    }
    for (size_t i = 0; i < k; i++)
        free(vals[i]);
    free(vals);
    free(nv);
}

/* Read a CSV design matrix: a header of paths, then one row of numbers per point.
 * Errors are located in the CSV file itself. */
static void load_design_file(loader *L, const a5_yaml_node *fnode, const char *fname)
{
    a5_scenario *s = L->s;
    char path[4096];
    const char *slash = strrchr(s->file, '/');
    if (fname[0] != '/' && slash)
        snprintf(path, sizeof path, "%.*s/%s", (int)(slash - s->file), s->file, fname);
    else
        snprintf(path, sizeof path, "%s", fname);
    FILE *f = fopen(path, "r");
    if (!f) {
        ERR(L, fnode, "cannot open design file '%s': %s", path, strerror(errno));
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int lineno = 0, bad = 0;
    size_t k = 0, rows = 0, rcap = 0;
    double *vals = NULL;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = 0;
        if (got == 0 || line[0] == '#')
            continue;
        size_t col = 0;
        char *p = line;
        int header = s->varied == NULL;
        if (header) {
            size_t ncomma = 1;
            for (char *q = line; *q; q++)
                ncomma += *q == ',';
            s->varied = calloc(ncomma, sizeof *s->varied);
            if (!s->varied) {
                L->oom = 1;
                break;
            }
        }
        for (;;) {
            char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
            char save = *end;
            *end = 0;
            char *a = p, *b = end;
            while (*a == ' ' || *a == '\t')
                a++;
            while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
                *--b = 0;
            a5_yaml_node *cell = a5_yaml_scalar(a, 1, path, lineno, (int)(a - line) + 1);
            if (!cell) {
                L->oom = 1;
                break;
            }
            if (header) {
                if (add_varied(L, cell))
                    bad = 1;
            } else if (col < k) {
                if (rows * k + col >= rcap) {
                    rcap = rcap ? 2 * rcap : 64 * k;
                    double *nv = realloc(vals, rcap * sizeof *nv);
                    if (!nv) {
                        L->oom = 1;
                        a5_yaml_free(cell);
                        break;
                    }
                    vals = nv;
                }
                if (get_value(L, cell, s->varied[col].param, s->varied[col].path,
                              &vals[rows * k + col]))
                    bad = 1;
            }
            a5_yaml_free(cell);
            col++;
            *end = save;
            if (!comma)
                break;
            p = comma + 1;
        }
        if (L->oom)
            break;
        if (header) {
            k = s->nvaried;
            if (bad)
                break;
        } else {
            if (col != k) {
                a5_diag_add(L->d, path, lineno, 1, "row has %zu values; the header names %zu paths",
                            col, k);
                bad = 1;
            }
            if (++rows > (size_t)A5_MAX_POINTS) {
                a5_diag_add(L->d, path, lineno, 1, "more than %ld design points", A5_MAX_POINTS);
                bad = 1;
                break;
            }
        }
    }
    free(line);
    fclose(f);
    if (!bad && !L->oom && rows == 0)
        a5_diag_add(L->d, path, lineno ? lineno : 1, 1,
                    "design file has no rows (a header of paths, then one row per point)");
    if (bad || L->oom || rows == 0) {
        free(vals);
        return;
    }
    s->points = vals;
    s->npoints = (long)rows;
    s->design_n = (long)rows;
}

static void load_design(loader *L, const a5_yaml_node *dz)
{
    a5_scenario *s = L->s;
    if (expect_map(L, dz, "design"))
        return;
    static const char *const keys[] = {"method", "points", "ranges", "file"};
    static const char *const methods[] = {"lhs", "sobol", "saltelli", "file"};
    const a5_yaml_node *m = a5_yaml_get(dz, "method"), *pts = a5_yaml_get(dz, "points"),
                       *rg = a5_yaml_get(dz, "ranges"), *fn = a5_yaml_get(dz, "file");
    check_keys(L, dz, "'design'", keys, 4);
    const char *mt = NULL;
    if (!m) {
        ERR(L, dz, "'design' needs a 'method' (lhs, sobol, saltelli or file)");
        return;
    }
    if (get_text(L, m, "design.method", &mt))
        return;
    int method = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(mt, methods[i]) == 0)
            method = i;
    if (method < 0) {
        char h[96];
        ERR(L, m, "unknown design method '%s'; expected lhs, sobol, saltelli or file%s", mt,
            hint(h, sizeof h, mt, methods, 4));
        return;
    }
    s->design = (int[]){A5_DESIGN_LHS, A5_DESIGN_SOBOL, A5_DESIGN_SALTELLI, A5_DESIGN_FILE}[method];
    if (s->design == A5_DESIGN_FILE) {
        const char *t;
        if (pts || rg)
            ERR(L, pts ? pts : rg, "a 'file' design takes its points and paths from the file: "
                                   "drop 'points' and 'ranges'");
        else if (!fn)
            ERR(L, dz, "a 'file' design needs 'file: PATH.csv' (a header of paths, one row per point)");
        else if (get_text(L, fn, "design.file", &t) == 0)
            load_design_file(L, fn, t);
        return;
    }
    int bad = 0;
    if (fn) {
        ERR(L, fn, "'file' belongs to method: file");
        bad = 1;
    }
    static const a5_param pp = {"design.points", A5_T_INT, 0, 1, A5_MAX_POINTS, 0, 0, "", ""};
    double np = 0;
    if (!pts) {
        ERR(L, dz, "'design' needs 'points' (%s)",
            s->design == A5_DESIGN_SALTELLI ? "the base sample size N" : "how many design points");
        bad = 1;
    } else
        bad |= get_value(L, pts, &pp, "design.points", &np) != 0;
    if (!rg) {
        ERR(L, dz, "'design' needs 'ranges' (PATH: [lo, hi])");
        return;
    }
    if (expect_map(L, rg, "design.ranges"))
        return;
    if (rg->n == 0) {
        ERR(L, rg, "'design.ranges' is empty");
        return;
    }
    size_t k = rg->n;
    s->varied = calloc(k, sizeof *s->varied);
    double *lo = calloc(k, sizeof *lo), *hi = calloc(k, sizeof *hi);
    int *lg = calloc(k, sizeof *lg);
    double *unit = NULL;
    if (!s->varied || !lo || !hi || !lg) {
        L->oom = 1;
        goto done;
    }
    for (size_t i = 0; i < k; i++) {
        const a5_yaml_node *key = rg->key[i], *v = rg->item[i], *lv = NULL, *hv = NULL;
        if (add_varied(L, key)) {
            bad = 1;
            continue;
        }
        size_t j = s->nvaried - 1;
        const a5_param *p = s->varied[j].param;
        if (v->kind == A5_YAML_SEQ && v->n == 2) {
            lv = v->item[0];
            hv = v->item[1];
        } else if (v->kind == A5_YAML_MAP) {
            static const char *const rk[] = {"lo", "hi", "log"};
            check_keys(L, v, "a design range", rk, 3);
            lv = a5_yaml_get(v, "lo");
            hv = a5_yaml_get(v, "hi");
            const a5_yaml_node *l = a5_yaml_get(v, "log");
            static const a5_param bp = {"log", A5_T_BOOL, 0, 0, 1, 0, 0, "", ""};
            double x = 0;
            if (l && get_value(L, l, &bp, "log", &x))
                bad = 1;
            lg[j] = x != 0;
        }
        if (!lv || !hv) {
            ERR(L, v, "range of '%s' must be [lo, hi] or {lo: .., hi: .., log: true}", key->value);
            bad = 1;
            continue;
        }
        if (get_value(L, lv, p, key->value, &lo[j]) || get_value(L, hv, p, key->value, &hi[j])) {
            bad = 1;
            continue;
        }
        if (!(lo[j] <= hi[j])) {
            ERR(L, v, "range of '%s' needs lo <= hi", key->value);
            bad = 1;
        } else if (lg[j] && !(lo[j] > 0)) {
            ERR(L, v, "a log range of '%s' needs lo > 0", key->value);
            bad = 1;
        }
        if (p->type == A5_T_INT) {
            ERR(L, key, "'%s' is a whole number: use 'sweep' or a 'file' design to vary it",
                key->value);
            bad = 1;
        }
    }
    /* Unit-cube dimension each method needs: saltelli samples A and B side by side. */
    size_t dim = s->design == A5_DESIGN_SALTELLI ? 2 * k : k;
    if (s->design != A5_DESIGN_LHS && dim > A5_DESIGN_SOBOL_MAX_DIM) {
        ERR(L, rg, "a %s design supports at most %d paths, got %zu", mt,
            s->design == A5_DESIGN_SALTELLI ? A5_DESIGN_SOBOL_MAX_DIM / 2 : A5_DESIGN_SOBOL_MAX_DIM, k);
        bad = 1;
    }
    double total = s->design == A5_DESIGN_SALTELLI ? np * (double)(k + 2) : np;
    if (!bad && total > (double)A5_MAX_POINTS) {
        ERR(L, pts, "%.0f design points; at most %ld are supported", total, A5_MAX_POINTS);
        bad = 1;
    }
    if (bad || L->oom)
        goto done;
    long n = (long)np;
    s->design_n = n;
    s->npoints = (long)total;
    unit = malloc((size_t)n * dim * sizeof *unit);
    s->points = malloc((size_t)s->npoints * k * sizeof *s->points);
    if (!unit || !s->points) {
        L->oom = 1;
        goto done;
    }
    int rc = s->design == A5_DESIGN_LHS ? a5_design_lhs(n, (int)k, s->seed, unit)
                                        : a5_design_sobol(n, (int)dim, unit);
    if (rc) {
        L->oom = 1;
        goto done;
    }
    if (s->design == A5_DESIGN_SALTELLI)
        a5_design_saltelli(unit, n, (int)k, s->points);
    else
        memcpy(s->points, unit, (size_t)n * k * sizeof *unit);
    for (long p = 0; p < s->npoints; p++)
        for (size_t j = 0; j < k; j++) {
            double u = s->points[(size_t)p * k + j];
            s->points[(size_t)p * k + j] =
                lg[j] ? exp(log(lo[j]) + (log(hi[j]) - log(lo[j])) * u)
                      : lo[j] + (hi[j] - lo[j]) * u;
        }
done:
    if (bad || L->oom) {
        free(s->points);
        s->points = NULL;
        s->npoints = 0;
    }
    free(unit);
    free(lo);
    free(hi);
    free(lg);
}

/* --- --set -------------------------------------------------------------------------- */

/* In `map`, the key matching the longest prefix of components starting at `path`
 * (keys may hold dots, as in uncertain: {decision.weights.risk: ...}). Returns its
 * index and sets *rest to what follows, or -1. */
static long match_key(const a5_yaml_node *map, const char *path, const char **rest)
{
    long best = -1;
    size_t bestlen = 0;
    if (!map || map->kind != A5_YAML_MAP)
        return -1;
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->key[i]->value;
        size_t kl = strlen(k);
        if (strncmp(path, k, kl) == 0 && (path[kl] == 0 || path[kl] == '.') && kl > bestlen) {
            best = (long)i;
            bestlen = kl;
        }
    }
    if (best >= 0)
        *rest = path[bestlen] ? path + bestlen + 1 : path + bestlen;
    return best;
}

static void relocate(a5_yaml_node *n, int line, int coloff)
{
    n->line = line;
    n->col += coloff;
    for (size_t i = 0; i < n->n; i++) {
        if (n->key)
            relocate(n->key[i], line, coloff);
        relocate(n->item[i], line, coloff);
    }
}

/* Put value `v` at dotted `path` in `map`, creating mappings along the way.
 * Takes ownership of v. Returns 0, or -1 when the path cannot be created. */
static int put_path(a5_yaml_node *map, const char *path, a5_yaml_node *v)
{
    const char *rest;
    long i = match_key(map, path, &rest);
    if (i >= 0 && *rest) {
        if (map->item[i]->kind != A5_YAML_MAP) {
            a5_yaml_free(v);
            return -1;
        }
        return put_path(map->item[i], rest, v);
    }
    if (i >= 0) {
        a5_yaml_free(map->item[i]);
        map->item[i] = v;
        return 0;
    }
    const char *dot = strchr(path, '.');
    if (!dot)
        return a5_yaml_put(map, path, v) ? -2 : 0;
    char head[128];
    size_t hl = (size_t)(dot - path);
    if (hl >= sizeof head) {
        a5_yaml_free(v);
        return -1;
    }
    memcpy(head, path, hl);
    head[hl] = 0;
    a5_yaml_node *sub = a5_yaml_collection(A5_YAML_MAP, v->file, v->line, v->col);
    if (!sub || a5_yaml_put(map, head, sub)) {
        a5_yaml_free(v);
        return -2;
    }
    return put_path(sub, dot + 1, v);
}

/* Is `path` something --set may create when absent? */
static int settable(const char *path)
{
    if (a5_param_find_global(path, NULL) || a5_param_find_run(path, NULL))
        return 1;
    if (strncmp(path, "defaults.", 9) == 0 && a5_param_find_nation(path + 9, NULL))
        return 1;
    return 0;
}

/* --set fixes a value: the same path no longer varies in uncertain, sweep or design. */
static void unvary(a5_yaml_node *root, const char *path)
{
    a5_yaml_node *dz = a5_yaml_get(root, "design");
    a5_yaml_remove(a5_yaml_get(root, "uncertain"), path);
    a5_yaml_node *sw = a5_yaml_get(root, "sweep"), *rg = a5_yaml_get(dz, "ranges");
    if (a5_yaml_remove(sw, path) && sw->n == 0)
        a5_yaml_remove(root, "sweep");
    if (a5_yaml_remove(rg, path) && rg->n == 0)
        a5_yaml_remove(root, "design");
}

static void apply_set(loader *L, a5_yaml_node *root, const char *arg, int idx)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        a5_diag_add(L->d, "--set", idx, 1, "expected PATH=VALUE, got '%s'", arg);
        return;
    }
    size_t plen = (size_t)(eq - arg);
    char *path = malloc(plen + 1);
    if (!path) {
        L->oom = 1;
        return;
    }
    memcpy(path, arg, plen);
    path[plen] = 0;
    const char *val = eq + 1;
    a5_yaml_node *v;
    if (*val == 0)
        v = a5_yaml_scalar("", 1, "--set", idx, (int)plen + 2);
    else {
        v = a5_yaml_parse(val, strlen(val), "--set", L->d);
        if (v)
            relocate(v, idx, (int)plen + 1);
    }
    if (!v) {
        free(path);
        return;
    }
    int rc = 0;
    char h[128];
    unvary(root, path);
    if (strncmp(path, "nations.", 8) == 0 || strncmp(path, "vendors.", 8) == 0) {
        int nat = path[0] == 'n';
        const char *who = path + 8, *dot = strchr(who, '.');
        a5_yaml_node *list = a5_yaml_get(root, nat ? "nations" : "vendors");
        if (!dot || !list || list->kind != A5_YAML_SEQ) {
            a5_diag_add(L->d, "--set", idx, 1, "'%s' names nothing: expected %s", path,
                        nat ? "nations.CODE.ATTRIBUTE" : "vendors.NAME.price");
            a5_yaml_free(v);
            free(path);
            return;
        }
        char name[128];
        size_t wl = (size_t)(dot - who) < sizeof name ? (size_t)(dot - who) : sizeof name - 1;
        memcpy(name, who, wl);
        name[wl] = 0;
        const char *attr = dot + 1;
        int n_ok = nat ? a5_param_find_nation(attr, NULL) != NULL || !strcmp(attr, "name")
                       : !strcmp(attr, "price") || !strcmp(attr, "high_risk");
        if (!n_ok) {
            a5_diag_add(L->d, "--set", idx, (int)(attr - path) + 1,
                        "'%s' names nothing: '%s' is not a %s attribute%s", path, attr,
                        nat ? "nation" : "vendor",
                        nat ? hint(h, sizeof h, attr, nation_attrs(), A5_N_COUNT) : "");
            a5_yaml_free(v);
            free(path);
            return;
        }
        int any = 0;
        for (size_t i = 0; i < list->n; i++) {
            a5_yaml_node *it = list->item[i];
            const a5_yaml_node *f = a5_yaml_get(it, nat ? "code" : "name");
            if (!f || f->kind != A5_YAML_SCALAR ||
                (strcmp(name, "*") != 0 && strcmp(f->value, name) != 0))
                continue;
            a5_yaml_node *copy = v;
            if (strcmp(name, "*") == 0) {
                /* Each nation gets its own copy of a scalar value. */
                copy = v->kind == A5_YAML_SCALAR
                           ? a5_yaml_scalar(v->value, v->plain, v->file, v->line, v->col)
                           : NULL;
                if (!copy) {
                    a5_diag_add(L->d, "--set", idx, (int)plen + 2,
                                "'%s' takes a single value", path);
                    break;
                }
            }
            if (a5_yaml_put(it, attr, copy))
                L->oom = 1;
            any = 1;
            if (copy == v) {
                v = NULL;
                break;
            }
        }
        if (!any) {
            const char *names[1024];
            size_t nn = 0;
            for (size_t i = 0; i < list->n && nn < 1024; i++) {
                const a5_yaml_node *f = a5_yaml_get(list->item[i], nat ? "code" : "name");
                if (f && f->kind == A5_YAML_SCALAR)
                    names[nn++] = f->value;
            }
            a5_diag_add(L->d, "--set", idx, 9, "unknown %s '%s' in '%s'%s",
                        nat ? "nation" : "vendor", name, path, hint(h, sizeof h, name, names, nn));
        }
        a5_yaml_free(v);
        free(path);
        return;
    }
    const char *rest;
    a5_yaml_node *cur = root;
    const char *p = path;
    long i;
    int exists = 1;
    while ((i = match_key(cur, p, &rest)) >= 0 && *rest) {
        cur = cur->item[i];
        p = rest;
        if (cur->kind != A5_YAML_MAP)
            break;
    }
    if (i < 0)
        exists = 0;
    if (!exists && !settable(path)) {
        const char *c[A5_G_COUNT + A5_S_COUNT];
        size_t nc = 0;
        for (int g = 0; g < A5_G_COUNT; g++)
            c[nc++] = a5_param_global[g].path;
        for (int r = 0; r < A5_S_COUNT; r++)
            c[nc++] = a5_param_run[r].path;
        a5_diag_add(L->d, "--set", idx, 1, "'%s' names nothing%s", path,
                    hint(h, sizeof h, path, c, nc));
        a5_yaml_free(v);
        free(path);
        return;
    }
    rc = put_path(root, path, v);
    if (rc == -2)
        L->oom = 1;
    else if (rc)
        a5_diag_add(L->d, "--set", idx, 1, "cannot set '%s': a value on its way is not a mapping",
                    path);
    free(path);
}

/* --- assembly ----------------------------------------------------------------------- */

void a5_scenario_free(a5_scenario *s)
{
    if (!s)
        return;
    free(s->file);
    free(s->name);
    free(s->description);
    for (int i = 0; s->codes && i < s->n; i++)
        free(s->codes[i]);
    for (int i = 0; s->names && i < s->n; i++)
        free(s->names[i]);
    free(s->codes);
    free(s->names);
    for (int i = 0; i < s->nblocs; i++)
        free(s->bloc_names[i]);
    free(s->bloc_names);
    free(s->bloc_off);
    free(s->bloc_idx);
    free(s->pressure_default);
    for (int i = 0; s->vendor_names && i < s->nvendors; i++)
        free(s->vendor_names[i]);
    free(s->vendor_names);
    free(s->vendor_high_risk);
    free(s->base);
    for (size_t i = 0; i < s->nuncertain; i++)
        target_free(&s->uncertain[i].target);
    free(s->uncertain);
    for (size_t i = 0; i < s->nevents; i++) {
        for (size_t j = 0; j < s->events[i].nops; j++)
            target_free(&s->events[i].ops[j].target);
        free(s->events[i].ops);
    }
    free(s->events);
    for (size_t i = 0; i < s->nvaried; i++)
        target_free(&s->varied[i]);
    free(s->varied);
    free(s->points);
    free(s->text);
    free(s);
}

static int read_file(const char *path, a5_diag *d, char **out, size_t *outlen);

/* `base: FILE` (relative to the file naming it): start from FILE's settings and
 * replace each top-level section this file gives. Returns the merged tree (root
 * is consumed) or NULL after reporting. */
static a5_yaml_node *merge_base(loader *L, a5_yaml_node *root, int depth)
{
    const a5_yaml_node *b = a5_yaml_get(root, "base");
    const char *t;
    if (!b)
        return root;
    if (get_text(L, b, "base", &t))
        goto fail;
    if (depth >= A5_MAX_BASE_DEPTH || L->nfiles >= A5_MAX_BASE_DEPTH) {
        ERR(L, b, "'base' files nest deeper than %d", A5_MAX_BASE_DEPTH);
        goto fail;
    }
    const char *slash = strrchr(b->file, '/');
    size_t n = strlen(t) + strlen(b->file) + 2;
    char *path = malloc(n);
    if (!path) {
        L->oom = 1;
        goto fail;
    }
    if (t[0] != '/' && slash)
        snprintf(path, n, "%.*s/%s", (int)(slash - b->file), b->file, t);
    else
        snprintf(path, n, "%s", t);
    L->files[L->nfiles++] = path;
    char *buf;
    size_t len;
    int rc = read_file(path, L->d, &buf, &len);
    if (rc) {
        L->oom |= rc == A5_ENOMEM;
        ERR(L, b, "cannot read base scenario '%s'", path);
        goto fail;
    }
    a5_yaml_node *base = a5_yaml_parse(buf, len, path, L->d);
    free(buf);
    if (!base)
        goto fail;
    if (base->kind != A5_YAML_MAP) {
        ERR(L, base, "a scenario must be a mapping of settings (key: value), got %s",
            kind_name(base));
        a5_yaml_free(base);
        goto fail;
    }
    base = merge_base(L, base, depth + 1);
    if (!base)
        goto fail;
    for (size_t i = 0; i < root->n; i++) {
        if (strcmp(root->key[i]->value, "base") == 0)
            continue;
        long j = a5_yaml_index(base, root->key[i]->value);
        if (j >= 0) {
            a5_yaml_free(base->key[j]);
            a5_yaml_free(base->item[j]);
            base->key[j] = root->key[i];
            base->item[j] = root->item[i];
        } else if (a5_yaml_append(base, root->key[i], root->item[i])) {
            L->oom = 1;
        }
        root->key[i] = root->item[i] = NULL;
    }
    a5_yaml_free(root);
    return base;
fail:
    a5_yaml_free(root);
    return NULL;
}

int a5_scenario_parse(const char *text, size_t len, const char *name, const char *const *sets,
                      int nsets, a5_diag *d, a5_scenario **out)
{
    *out = NULL;
    size_t before = a5_diag_count(d);
    loader L;
    memset(&L, 0, sizeof L);
    L.d = d;
    a5_scenario *s = calloc(1, sizeof *s);
    char *fname = strdup(name);
    if (!s || !fname) {
        free(s);
        free(fname);
        return A5_ENOMEM;
    }
    s->file = fname;
    L.s = s;
    a5_yaml_node *root = a5_yaml_parse(text, len, s->file, d);
    if (!root)
        goto fail;
    if (root->kind != A5_YAML_MAP) {
        ERR(&L, root, "a scenario must be a mapping of settings (key: value), got %s",
            kind_name(root));
        goto fail;
    }
    root = merge_base(&L, root, 0);
    if (!root)
        goto fail;
    for (int i = 0; i < nsets; i++)
        apply_set(&L, root, sets[i], i + 1);
    {
        char h[96];
        for (size_t i = 0; i < root->n; i++) {
            const char *k = root->key[i]->value;
            size_t j;
            for (j = 0; j < NTOP; j++)
                if (strcmp(k, top_keys[j]) == 0)
                    break;
            if (j == NTOP)
                ERR(&L, root->key[i], "unknown key '%s'%s", k, hint(h, sizeof h, k, top_keys, NTOP));
        }
    }
    load_run(&L, root);
    load_vendors(&L, root);
    load_nation_ids(&L, root);
    if (L.oom)
        goto fail;
    if (s->n > 0) {
        if ((long)s->steps * s->n > A5_MAX_CELLS) {
            a5_diag_add(d, s->file, 1, 1,
                        "%d steps x %d nations = %ld cells per replicate; the limit is %ld", s->steps,
                        s->n, (long)s->steps * s->n, A5_MAX_CELLS);
            goto fail;
        }
        /* Lay out the vector now that N is known; vendor prices were parked in base. */
        double *price = s->base;
        s->nslots = a5_param_vslot(s->nvendors, s->n);
        s->base = calloc(s->nslots, sizeof *s->base);
        if (!s->base) {
            free(price);
            L.oom = 1;
            goto fail;
        }
        for (int v = 0; v < s->nvendors; v++)
            s->base[a5_param_vslot(v, s->n)] = price ? price[v] : 1.0;
        free(price);
        for (int g = 0; g < A5_G_COUNT; g++)
            s->base[g] = a5_param_global[g].def;
        static const char *const sections[] = {"policy", "decision", "market", "risk",
                                               "us",     "china",    "peers"};
        for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
            const a5_yaml_node *sec = a5_yaml_get(root, sections[i]);
            if (sec)
                load_globals(&L, sec, sections[i]);
        }
        load_nation_attrs(&L, root);
        load_uncertain(&L, root);
        load_events(&L, root);
        const a5_yaml_node *sw = a5_yaml_get(root, "sweep"), *dz = a5_yaml_get(root, "design");
        if (sw && dz) {
            ERR(&L, dz, "'sweep' and 'design' cannot be used together (sweep at line %d): "
                        "choose one way to vary parameters", sw->line);
        } else if (sw)
            load_sweep(&L, sw);
        else if (dz)
            load_design(&L, dz);
    }
    if (L.oom)
        goto fail;
    if (s->npoints == 0 && s->nvaried == 0)
        s->npoints = 1;
    if (a5_diag_count(d) != before)
        goto fail;
    if ((double)s->npoints * (double)s->replicates > 1e12) {
        a5_diag_add(d, s->file, 1, 1, "%ld points x %ld replicates exceeds the limit of 1e12 runs",
                    s->npoints, s->replicates);
        goto fail;
    }
    size_t tl;
    if (a5_yaml_emit(root, &s->text, &tl)) {
        L.oom = 1;
        goto fail;
    }
    a5_yaml_free(root);
    for (int i = 0; i < L.nfiles; i++)
        free(L.files[i]);
    *out = s;
    return 0;
fail:
    a5_yaml_free(root);
    for (int i = 0; i < L.nfiles; i++)
        free(L.files[i]);
    a5_scenario_free(s);
    return L.oom ? A5_ENOMEM : A5_ESCENARIO;
}

/* Read a whole file (at most a little over the YAML size limit, which parsing then
 * reports). Returns 0, A5_EIO (message in d) or A5_ENOMEM. */
static int read_file(const char *path, a5_diag *d, char **out, size_t *outlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        a5_diag_add(d, path, 0, 0, "cannot open: %s", strerror(errno));
        return A5_EIO;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int rc = 0;
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap || cap > A5_YAML_MAX_BYTES)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (!buf)
        rc = A5_ENOMEM;
    else if (ferror(f)) {
        a5_diag_add(d, path, 0, 0, "cannot read: %s", strerror(errno));
        rc = A5_EIO;
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *outlen = len;
    return 0;
}

int a5_scenario_load(const char *path, const char *const *sets, int nsets, a5_diag *d,
                     a5_scenario **out)
{
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc = read_file(path, d, &buf, &len);
    if (!rc)
        rc = a5_scenario_parse(buf, len, path, sets, nsets, d, out);
    free(buf);
    return rc;
}

void a5_scenario_point_params(const a5_scenario *s, long p, double *x)
{
    memcpy(x, s->base, s->nslots * sizeof *x);
    for (size_t j = 0; j < s->nvaried; j++) {
        double v = s->points[(size_t)p * s->nvaried + j];
        for (size_t q = 0; q < s->varied[j].nslots; q++)
            x[s->varied[j].slots[q]] = v;
    }
}

double a5_scenario_output_bytes(const a5_scenario *s)
{
    double runs = (double)s->npoints * (double)s->replicates;
    double per = (double)s->n * (2 + 1 + 4 + 4); /* first_ban, final, cum_cost, cum_risk */
    if (s->store_full)
        per += (double)s->steps * s->n * (1 + 4 + 4);
    double agg = (double)s->npoints * s->steps * s->n * (3 + 1 + 3) * 4;
    return runs * per + agg;
}

static void human_bytes(double b, char *buf, size_t len)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int i = 0;
    while (b >= 1024 && i < 5) {
        b /= 1024;
        i++;
    }
    snprintf(buf, len, "%.1f %s", b, u[i]);
}

void a5_scenario_summary(const a5_scenario *s, FILE *out)
{
    char last[16], size[32];
    a5_scenario_date(s, s->steps - 1, last, sizeof last);
    fprintf(out, "scenario   %s (%s)\n", s->name, s->file);
    if (s->description[0])
        fprintf(out, "             %.200s\n", s->description);
    fprintf(out, "steps      %d quarters, %s to %s\n", s->steps, s->start, last);
    fprintf(out, "nations    %d:", s->n);
    for (int i = 0; i < s->n && i < 40; i++)
        fprintf(out, " %s", s->codes[i]);
    fprintf(out, "%s\n", s->n > 40 ? " ..." : "");
    fprintf(out, "blocs      %d:", s->nblocs);
    for (int b = 0; b < s->nblocs && b < 20; b++) {
        int m = 0;
        for (int i = 0; i < s->n; i++)
            for (int q = s->bloc_off[i]; q < s->bloc_off[i + 1]; q++)
                m += s->bloc_idx[q] == b;
        fprintf(out, " %s(%d)", s->bloc_names[b], m);
    }
    fprintf(out, "%s\n", s->nblocs > 20 ? " ..." : "");
    fprintf(out, "vendors    %d:", s->nvendors);
    for (int v = 0; v < s->nvendors; v++)
        fprintf(out, " %s%s @ %g", s->vendor_names[v], s->vendor_high_risk[v] ? " (high-risk)" : "",
                s->base[a5_param_vslot(v, s->n)]);
    fprintf(out, "\n");
    static const char *const dn[] = {"none", "sweep grid", "latin hypercube", "sobol",
                                     "saltelli", "file"};
    fprintf(out, "design     %ld point%s (%s)", s->npoints, s->npoints == 1 ? "" : "s",
            dn[s->design]);
    for (size_t j = 0; j < s->nvaried && j < 6; j++)
        fprintf(out, "%s%s", j ? ", " : ": ", s->varied[j].path);
    fprintf(out, "\n");
    fprintf(out, "replicates %ld per point, seed %llu\n", s->replicates,
            (unsigned long long)s->seed);
    fprintf(out, "uncertain  %zu", s->nuncertain);
    for (size_t j = 0; j < s->nuncertain && j < 6; j++)
        fprintf(out, "%s%s ~ %s", j ? ", " : ": ", s->uncertain[j].target.path,
                dist_names[s->uncertain[j].dist.kind]);
    fprintf(out, "%s\n", s->nuncertain > 6 ? ", ..." : "");
    size_t nat = 0;
    for (size_t e = 0; e < s->nevents; e++)
        nat += s->events[e].at >= 0;
    fprintf(out, "events     %zu scheduled, %zu hazard\n", nat, s->nevents - nat);
    double cells = (double)s->npoints * (double)s->replicates * s->steps * s->n;
    human_bytes(a5_scenario_output_bytes(s), size, sizeof size);
    fprintf(out, "run size   %.3g nation-steps; output %s uncompressed (store %s)\n", cells, size,
            s->store_full ? "full" : "summary");
}

int a5_scenario_resolve(const a5_scenario *s, const char *path, a5_target *t, char *err,
                        size_t errlen)
{
    a5_diag d = {0};
    loader L;
    memset(&L, 0, sizeof L);
    L.d = &d;
    L.s = (a5_scenario *)s; /* resolve only reads the scenario */
    a5_yaml_node *where = a5_yaml_scalar(path, 1, "path", 1, 1);
    if (!where)
        return A5_ENOMEM;
    int rc = resolve(&L, path, where, RESOLVE_VARY, t);
    a5_yaml_free(where);
    if (rc) {
        snprintf(err, errlen, "%s", d.n ? d.v[0].msg : "out of memory");
        rc = L.oom ? A5_ENOMEM : A5_ESCENARIO;
    }
    a5_diag_free(&d);
    return rc;
}

void a5_scenario_target_free(a5_target *t) { target_free(t); }
