/* Scenario loading and validation. See a5_scenario.h.
 *
 * Loading runs in stages over a YAML tree (a5_yaml.h): --set overrides are applied
 * to the tree, then each section is checked against the parameter table. Every
 * check reports through the diagnostics list and carries on, so one run shows the
 * user all their mistakes; a later stage is skipped only when an earlier one left
 * nothing sensible to check against.
 *
 * This file holds the stages and the sections of the run, vendors, nations,
 * and uncertain. The rest of the loader, sharing scenario_int.h:
 *   scenario_events.c   `events:` (when, what, and when it became known)
 *   scenario_read.c     values, key checks, quarter labels
 *   scenario_path.c     dotted paths to parameter-vector slots
 *   scenario_set.c      --set overrides on the tree
 *   scenario_base.c     `base:` files, reading files
 *   design.c            sweep grids and design points (lhs, sobol, saltelli, CSV file)
 *   scenario_summary.c  `allied5g validate`'s summary and the output-size estimate */
#include "scenario_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const top_keys[] = {
    "name",    "description", "start", "steps",  "replicates", "seed",  "policy",   "decision",
    "vendors", "market",      "risk",  "us",     "china",      "peers", "defaults", "nations",
    "events",  "uncertain",   "sweep", "design", "output",     "base",  "windows",  "attention",
    "calibration", "initial_policies", "outcomes", "levers"};
#define NTOP (sizeof top_keys / sizeof top_keys[0])

/* --- sections ----------------------------------------------------------------------- */

/* Model-parameter sections (policy, decision, market, ...): walk nested mappings,
 * building dotted paths, and store each leaf in the base vector. */
static void load_globals(a5_sc_loader *L, const a5_yaml_node *map, const char *prefix)
{
    if (a5_sc_expect_map(L, map, prefix))
        return;
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < map->n; i++) {
        const a5_yaml_node *k = map->key[i], *v = map->item[i];
        char path[256];
        snprintf(path, sizeof path, "%s.%s", prefix, k->value);
        int slot;
        const a5_param *p = a5_param_find_global(path, &slot);
        if (a5_sc_timing_key(path))
            continue; /* windows.file, attention.events: a5_sc_timing */
        if (strcmp(path, "china.targets") == 0)
            continue; /* nations' china_target, once the nations are known (china_targets) */
        if (p) {
            double x;
            if (a5_sc_value(L, v, p, path, &x) == 0)
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
        A5_SC_ERR(L, k, "unknown key '%s' in '%s'%s", k->value, prefix,
                  a5_sc_hint(h, sizeof h, k->value, cands, nc));
    }
}

/* Every quarter of the run must lie in 1678Q1 .. 2261Q4: the dates that pandas and
 * xarray (nanosecond time stamps) can hold, so that every results file can be read.
 * Reported at `start` when it is outside, else at `steps`. */
static void check_dates(a5_sc_loader *L, const a5_yaml_node *start, const a5_yaml_node *steps)
{
    const a5_scenario *s = L->s;
    char last[16];
    a5_scenario_date(s, s->steps - 1, last, sizeof last);
    long end_year = ((long)s->start_year * 4 + s->start_quarter - 1 + s->steps - 1) / 4;
    const a5_yaml_node *at = s->start_year < 1678 || s->start_year > 2261 || !steps ? start : steps;
    if (at && (s->start_year < 1678 || end_year > 2261))
        A5_SC_ERR(L, at, "the run's quarters %s to %s go outside 1678Q1 .. 2261Q4, the dates "
                         "results files can hold (pandas, xarray); choose a start or fewer steps "
                         "within them", s->start, last);
}

const char *const a5_scenario_record_names[A5_REC_COUNT] = {
    "us_pressure",  "intel_status",    "china_retaliation", "us_target",
    "china_target", "cum_retaliation", "cum_downgrade"};

/* output.record: a list of record names (a5_scenario_record_names), each once. */
static void record_list(a5_sc_loader *L, const a5_yaml_node *v)
{
    if (!v)
        return;
    if (v->kind != A5_YAML_SEQ) {
        A5_SC_ERR(L, v, "'output.record' must be a list of names, e.g. [china_retaliation, "
                        "us_target]");
        return;
    }
    for (size_t k = 0; k < v->n; k++) {
        const char *t;
        if (a5_sc_text(L, v->item[k], "output.record", &t) != 0)
            continue;
        int bit = -1;
        for (int b = 0; b < A5_REC_COUNT; b++)
            if (strcmp(t, a5_scenario_record_names[b]) == 0)
                bit = b;
        char h[96], all[256] = "";
        for (int b = 0; bit < 0 && b < A5_REC_COUNT; b++)
            snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", b ? ", " : "",
                     a5_scenario_record_names[b]);
        if (bit < 0)
            A5_SC_ERR(L, v->item[k], "'output.record' has no record '%s'%s (records: %s)", t,
                      a5_sc_hint(h, sizeof h, t, a5_scenario_record_names, A5_REC_COUNT), all);
        else if (L->s->record & (1 << bit))
            A5_SC_ERR(L, v->item[k], "'output.record' lists '%s' twice", t);
        else
            L->s->record |= 1 << bit;
    }
}

static int load_run(a5_sc_loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *v;
    const char *t;
    double x;
    if ((v = a5_yaml_get(root, "name")) && a5_sc_text(L, v, "name", &t) == 0)
        s->name = a5_strdup(t);
    if ((v = a5_yaml_get(root, "description")) && a5_sc_text(L, v, "description", &t) == 0)
        s->description = a5_strdup(t);
    if (!s->name)
        s->name = a5_strdup("unnamed");
    if (!s->description)
        s->description = a5_strdup("");
    if (!s->name || !s->description)
        return A5_ENOMEM;
    snprintf(s->start, sizeof s->start, "2019Q1");
    s->start_year = 2019;
    s->start_quarter = 1;
    if ((v = a5_yaml_get(root, "start")) && a5_sc_text(L, v, "start", &t) == 0) {
        if (a5_quarter_parse(t, &s->start_year, &s->start_quarter))
            A5_SC_ERR(L, v, "'start' must be a quarter label like 2019Q1, got '%s'", t);
        else
            snprintf(s->start, sizeof s->start, "%04dQ%d", s->start_year, s->start_quarter);
    }
    s->steps = (int)a5_param_run[A5_S_STEPS].def;
    s->replicates = (long)a5_param_run[A5_S_REPLICATES].def;
    s->seed = (uint64_t)a5_param_run[A5_S_SEED].def;
    s->store_full = 1;
    if ((v = a5_yaml_get(root, "steps")) &&
        a5_sc_value(L, v, &a5_param_run[A5_S_STEPS], "steps", &x) == 0)
        s->steps = (int)x;
    check_dates(L, a5_yaml_get(root, "start"), a5_yaml_get(root, "steps"));
    if ((v = a5_yaml_get(root, "replicates")) &&
        a5_sc_value(L, v, &a5_param_run[A5_S_REPLICATES], "replicates", &x) == 0)
        s->replicates = (long)x;
    if ((v = a5_yaml_get(root, "seed")) && v->kind == A5_YAML_MAP) {
        /* seed: {value: N, common: BOOL} */
        static const char *const ok[] = {"value", "common"};
        a5_sc_check_keys(L, v, "'seed'", ok, 2);
        const a5_yaml_node *sv = a5_yaml_get(v, "value"), *cv = a5_yaml_get(v, "common");
        if (sv && a5_sc_value(L, sv, &a5_param_run[A5_S_SEED], "seed.value", &x) == 0)
            s->seed = (uint64_t)x;
        if (cv && a5_sc_value(L, cv, &a5_param_run[A5_S_SEED_COMMON], "seed.common", &x) == 0)
            s->common = x != 0;
    } else if (v && a5_sc_value(L, v, &a5_param_run[A5_S_SEED], "seed", &x) == 0)
        s->seed = (uint64_t)x;
    if ((v = a5_yaml_get(root, "output")) && a5_sc_expect_map(L, v, "output") == 0) {
        static const char *const ok[] = {"store", "record"};
        a5_sc_check_keys(L, v, "'output'", ok, 2);
        record_list(L, a5_yaml_get(v, "record"));
        const a5_yaml_node *st = a5_yaml_get(v, "store");
        if (st && a5_sc_text(L, st, "output.store", &t) == 0) {
            static const char *const stores[] = {"full", "summary", "outcomes"};
            if (strcmp(t, "full") == 0)
                s->store_full = 1;
            else if (strcmp(t, "summary") == 0)
                s->store_full = 0;
            else if (strcmp(t, "outcomes") == 0) {
                s->store_full = 0;
                s->store_outcomes = 1;
                if (!a5_yaml_get(root, "outcomes"))
                    A5_SC_ERR(L, st, "'output.store' outcomes keeps only the scenario's outcomes, "
                                     "and it has none: add 'outcomes:' or store summary");
            } else {
                char h[96];
                A5_SC_ERR(L, st, "'output.store' must be full, summary or outcomes, got '%s'%s", t,
                          a5_sc_hint(h, sizeof h, t, stores, 3));
            }
        }
    }
    return 0;
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

static int load_vendors(a5_sc_loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *vs = a5_yaml_get(root, "vendors");
    static const char *const dnames[] = {"Huawei", "Ericsson"};
    static const double dprice[] = {0.8, 1.0};
    size_t n = vs ? vs->n : 2;
    if (vs && a5_sc_expect_seq(L, vs, "vendors"))
        return 0;
    if (n > A5_MAX_VENDORS) {
        A5_SC_ERR(L, vs, "%zu vendors: at most %d are supported", n, A5_MAX_VENDORS);
        return 0;
    }
    s->vendor_names = a5_calloc(n ? n : 1, sizeof *s->vendor_names);
    s->vendor_high_risk = a5_calloc(n ? n : 1, 1);
    double *price = a5_calloc(n ? n : 1, sizeof *price);
    if (!s->vendor_names || !s->vendor_high_risk || !price) {
        free(price);
        return A5_ENOMEM;
    }
    s->nvendors = (int)n; /* names filled below; a5_scenario_free accepts NULL ones */
    int nrisk = 0, ntrust = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = vs ? "?" : dnames[i];
        int hr = !vs && i == 0;
        price[i] = vs ? 1.0 : dprice[i];
        if (vs && a5_sc_expect_map(L, vs->item[i], "vendors entry") == 0) {
            const a5_yaml_node *v = vs->item[i];
            static const char *const keys[] = {"name", "price", "high_risk"};
            a5_sc_check_keys(L, v, "a vendor", keys, 3);
            const a5_yaml_node *nm = a5_yaml_get(v, "name"), *pr = a5_yaml_get(v, "price"),
                               *hk = a5_yaml_get(v, "high_risk");
            name = NULL;
            if (!nm)
                A5_SC_ERR(L, v, "vendor without a 'name'");
            else if (a5_sc_text(L, nm, "vendors.name", &name) == 0 && !valid_name(name)) {
                A5_SC_ERR(L, nm, "vendor name '%s' must be 1-63 letters, digits, '_' or '-'", name);
                name = NULL;
            } else if (name && a5_sc_find_name(s->vendor_names, (int)i, name) >= 0) {
                A5_SC_ERR(L, nm, "duplicate vendor name '%s'", name);
                name = NULL;
            }
            char vpath[96];
            snprintf(vpath, sizeof vpath, "vendors.%s.price", name ? name : "?");
            if (!pr)
                A5_SC_ERR(L, v, "vendor without a 'price'");
            else
                a5_sc_value(L, pr, &a5_param_vendor_price, vpath, &price[i]);
            double x = 0;
            static const a5_param boolp = {"high_risk", A5_T_BOOL, 0, 0, 1, 0, 0, "", ""};
            if (hk && a5_sc_value(L, hk, &boolp, "high_risk", &x) == 0)
                hr = x != 0;
            else
                hr = 0;
            if (!name)
                name = "?";
        }
        s->vendor_names[i] = a5_strdup(name);
        if (!s->vendor_names[i]) {
            free(price);
            return A5_ENOMEM;
        }
        s->vendor_high_risk[i] = (unsigned char)hr;
        nrisk += hr;
        ntrust += !hr;
    }
    if (vs && (!nrisk || !ntrust))
        A5_SC_ERR(L, vs,
                  "'vendors' needs at least one high-risk vendor (high_risk: true) and one "
                  "trusted vendor; found %d high-risk and %d trusted",
                  nrisk, ntrust);
    /* Prices go into the vector once it exists; keep them in base temporarily. */
    free(s->base);
    s->base = price;
    return 0;
}

/* First pass over nations: codes, names and blocs, which fix N and the layout. */
/* Nation i's `blocs:` list, appended to s->bloc_idx (nidx used of cap). */
static int load_blocs(a5_sc_loader *L, const a5_yaml_node *bl, size_t i, size_t *nidx, size_t *cap)
{
    a5_scenario *s = L->s;
    for (size_t b = 0; b < bl->n; b++) {
        const char *bn;
        if (a5_sc_text(L, bl->item[b], "blocs", &bn))
            continue;
        if (!valid_name(bn)) {
            A5_SC_ERR(L, bl->item[b], "bloc name '%s' must be 1-63 letters, digits, '_' or '-'",
                      bn);
            continue;
        }
        int bi = a5_sc_find_name(s->bloc_names, s->nblocs, bn);
        if (bi < 0) {
            if (s->nblocs >= A5_MAX_BLOCS) {
                A5_SC_ERR(L, bl->item[b], "more than %d distinct blocs", A5_MAX_BLOCS);
                continue;
            }
            char **nb = a5_realloc(s->bloc_names, (size_t)(s->nblocs + 1) * sizeof *nb);
            if (!nb)
                return A5_ENOMEM;
            s->bloc_names = nb;
            if (!(nb[s->nblocs] = a5_strdup(bn)))
                return A5_ENOMEM;
            bi = s->nblocs++;
        }
        int dup = 0;
        for (size_t q = (size_t)s->bloc_off[i]; q < *nidx; q++)
            dup |= s->bloc_idx[q] == bi;
        if (dup) {
            A5_SC_ERR(L, bl->item[b], "bloc '%s' listed twice", bn);
            continue;
        }
        if (*nidx == *cap) {
            size_t nc = *cap ? 2 * *cap : 64;
            int *ni = a5_realloc(s->bloc_idx, nc * sizeof *ni);
            if (!ni)
                return A5_ENOMEM;
            s->bloc_idx = ni;
            *cap = nc;
        }
        s->bloc_idx[(*nidx)++] = bi;
    }
    return 0;
}

/* First pass over nations: codes, names and blocs, which fix N and the layout. */
static int load_nation_ids(a5_sc_loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *ns = a5_yaml_get(root, "nations");
    if (!ns) {
        A5_SC_ERR(L, root, "the scenario has no 'nations' list");
        return 0;
    }
    if (a5_sc_expect_seq(L, ns, "nations"))
        return 0;
    if (ns->n == 0) {
        A5_SC_ERR(L, ns, "'nations' is empty: at least one nation is needed");
        return 0;
    }
    if (ns->n > A5_MAX_NATIONS) {
        A5_SC_ERR(L, ns, "%zu nations: at most %d are supported", ns->n, A5_MAX_NATIONS);
        return 0;
    }
    size_t n = ns->n;
    s->codes = a5_calloc(n, sizeof *s->codes);
    s->names = a5_calloc(n, sizeof *s->names);
    s->bloc_off = a5_calloc(n + 1, sizeof *s->bloc_off);
    if (!s->codes || !s->names || !s->bloc_off)
        return A5_ENOMEM;
    s->n = (int)n; /* codes and names filled below; a5_scenario_free accepts NULL ones */
    size_t nidx = 0, capidx = 0;
    for (size_t i = 0; i < n; i++) {
        const a5_yaml_node *v = ns->item[i], *c, *nm, *bl;
        const char *code = NULL, *name = NULL;
        char fallback[32];
        s->bloc_off[i] = (int)nidx;
        if (v->kind == A5_YAML_MAP) {
            if (!(c = a5_yaml_get(v, "code")))
                A5_SC_ERR(L, v, "nation without a 'code'");
            else if (a5_sc_text(L, c, "code", &code) == 0) {
                if (!valid_name(code) || strcmp(code, "*") == 0) {
                    A5_SC_ERR(L, c, "nation code '%s' must be 1-63 letters, digits, '_' or '-'",
                              code);
                    code = NULL;
                } else {
                    int prev = a5_sc_find_name(s->codes, (int)i, code);
                    if (prev >= 0) {
                        const a5_yaml_node *pc = a5_yaml_get(ns->item[prev], "code");
                        A5_SC_ERR(L, c, "duplicate nation code '%s' (first at line %d)", code,
                                  pc->line);
                        code = NULL;
                    }
                }
            }
            if ((nm = a5_yaml_get(v, "name")))
                a5_sc_text(L, nm, "name", &name);
            if ((bl = a5_yaml_get(v, "blocs")) && a5_sc_expect_seq(L, bl, "blocs") == 0 &&
                load_blocs(L, bl, i, &nidx, &capidx))
                return A5_ENOMEM;
        } else {
            A5_SC_ERR(L, v, "each nation must be a mapping with a 'code', got %s",
                      a5_sc_kind_name(v));
        }
        if (!code) {
            snprintf(fallback, sizeof fallback, "#%zu", i + 1);
            code = fallback;
        }
        if (!(s->codes[i] = a5_strdup(code)) || !(s->names[i] = a5_strdup(name ? name : code)))
            return A5_ENOMEM;
    }
    s->bloc_off[n] = (int)nidx;
    if (!s->bloc_idx && !(s->bloc_idx = a5_malloc(sizeof(int))))
        return A5_ENOMEM;
    return 0;
}

/* `defaults:` then each nation's attributes, into the vector. */
static int load_nation_attrs(a5_sc_loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    for (int a = 0; a < A5_N_COUNT; a++)
        L->ndef[a] = a5_param_nation[a].def;
    L->ndef[A5_N_US_PRESSURE] = s->base[A5_G_US_PRESSURE];
    const a5_yaml_node *df = a5_yaml_get(root, "defaults");
    if (df && a5_sc_expect_map(L, df, "defaults") == 0)
        for (size_t i = 0; i < df->n; i++) {
            int a;
            char path[96], h[96];
            const a5_param *p = a5_param_find_nation(df->key[i]->value, &a);
            if (!p) {
                A5_SC_ERR(
                    L, df->key[i], "unknown nation attribute '%s' in 'defaults'%s",
                    df->key[i]->value,
                    a5_sc_hint(h, sizeof h, df->key[i]->value, a5_sc_nation_attrs(), A5_N_COUNT));
                continue;
            }
            snprintf(path, sizeof path, "defaults.%s", p->path);
            a5_sc_value(L, df->item[i], p, path, &L->ndef[a]);
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
    s->pressure_default = a5_calloc((size_t)s->n, 1);
    if (!s->pressure_default)
        return A5_ENOMEM;
    for (int i = 0; i < s->n; i++) {
        const a5_yaml_node *v = ns->item[i];
        for (int a = 0; a < A5_N_COUNT; a++)
            s->base[a5_param_nslot(a, i, s->n)] = L->ndef[a];
        s->pressure_default[i] = !L->pressure_given && !a5_yaml_get(v, "us_pressure");
        if (v->kind != A5_YAML_MAP)
            continue;
        char where[96];
        snprintf(where, sizeof where, "nation '%s'", s->codes[i]);
        a5_sc_check_keys(L, v, where, allowed, A5_N_COUNT + 3);
        for (int a = 0; a < A5_N_COUNT; a++) {
            const a5_yaml_node *x = a5_yaml_get(v, a5_param_nation[a].path);
            char path[160];
            if (!x)
                continue;
            snprintf(path, sizeof path, "nations.%s.%s", s->codes[i], a5_param_nation[a].path);
            a5_sc_value(L, x, &a5_param_nation[a], path, &s->base[a5_param_nslot(a, i, s->n)]);
        }
    }
    return 0;
}

const char *const a5_sc_dist_names[6] = {"fixed",     "uniform", "normal",
                                         "lognormal", "beta",    "triangular"};
static const char *const dist_params[][3] = {{"value"},       {"lo", "hi"}, {"mean", "sd"},
                                             {"mu", "sigma"}, {"a", "b"},   {"lo", "mode", "hi"}};
static const int dist_nparams[] = {1, 2, 2, 2, 2, 3};

/* The distribution of `uncertain.K` (mapping v), clipped to param's range. */
static int read_dist(a5_sc_loader *L, const a5_yaml_node *k, const a5_yaml_node *v,
                     const a5_param *param, a5_dist *dist)
{
    int bad = 0;
    const a5_yaml_node *dn = a5_yaml_get(v, "dist");
    const char *dname = NULL;
    int kind = -1;
    if (!dn)
        A5_SC_ERR(L, v,
                  "'uncertain.%s' has no 'dist' (one of fixed, uniform, normal, lognormal, "
                  "beta, triangular)",
                  k->value);
    else if (a5_sc_text(L, dn, "dist", &dname) == 0) {
        for (int j = 0; j < 6; j++)
            if (strcmp(dname, a5_sc_dist_names[j]) == 0)
                kind = j;
        if (kind < 0) {
            char h[96];
            A5_SC_ERR(L, dn,
                      "unknown distribution '%s'; expected fixed, uniform, normal, lognormal, "
                      "beta or triangular%s",
                      dname, a5_sc_hint(h, sizeof h, dname, a5_sc_dist_names, 6));
        }
    }
    if (kind < 0)
        return A5_ESCENARIO;
    dist->kind = (a5_dist_kind)kind;
    dist->min = -HUGE_VAL;
    dist->max = HUGE_VAL;
    const char *allowed[6] = {"dist", "min", "max"};
    size_t na = 3;
    for (int j = 0; j < dist_nparams[kind]; j++)
        allowed[na++] = dist_params[kind][j];
    char where[160];
    snprintf(where, sizeof where, "a %s distribution", dname);
    size_t before = a5_diag_count(L->d);
    a5_sc_check_keys(L, v, where, allowed, na);
    bad |= a5_diag_count(L->d) != before;
    for (int j = 0; j < dist_nparams[kind]; j++) {
        const a5_yaml_node *pv = a5_yaml_get(v, dist_params[kind][j]);
        char what[200];
        snprintf(what, sizeof what, "'%s' of %s", dist_params[kind][j], k->value);
        if (!pv) {
            A5_SC_ERR(L, v, "the %s distribution of '%s' needs '%s'", dname, k->value,
                      dist_params[kind][j]);
            bad = 1;
        } else
            bad |= a5_sc_number(L, pv, what, &dist->p[j]) != 0;
    }
    const a5_yaml_node *mn = a5_yaml_get(v, "min"), *mx = a5_yaml_get(v, "max");
    if (mn)
        bad |= a5_sc_number(L, mn, "'min'", &dist->min) != 0;
    if (mx)
        bad |= a5_sc_number(L, mx, "'max'", &dist->max) != 0;
    if (!bad) {
        const double *p = dist->p;
        const char *why = NULL;
        if (kind == A5_DIST_UNIFORM && !(p[0] <= p[1]))
            why = "needs lo <= hi";
        else if ((kind == A5_DIST_NORMAL || kind == A5_DIST_LOGNORMAL) && !(p[1] >= 0))
            why = "needs a spread (sd / sigma) >= 0";
        else if (kind == A5_DIST_BETA && !(p[0] > 0 && p[1] > 0))
            why = "needs a > 0 and b > 0";
        else if (kind == A5_DIST_TRIANGULAR && !(p[0] <= p[1] && p[1] <= p[2]))
            why = "needs lo <= mode <= hi";
        else if (!(dist->min <= dist->max))
            why = "needs min <= max";
        else if (kind == A5_DIST_LOGNORMAL && p[0] + 6 * p[1] > 700)
            why = "draws values too large to represent (mu + 6 sigma > 700)";
        if (why) {
            A5_SC_ERR(L, v, "the %s distribution of '%s' %s", dname, k->value, why);
            bad = 1;
        }
    }
    if (!bad && kind == A5_DIST_UNIFORM && param->type != A5_T_REAL) {
        /* Whole numbers and names are drawn as the nearest code: a uniform over
         * codes lo..hi gives each the same chance when it spans lo - 0.5 .. hi + 0.5
         * (over lo..hi the end codes had half of it). */
        dist->p[0] -= 0.5;
        dist->p[1] += 0.5;
    }
    if (!bad) {
        /* Clip also to the parameter's own range. */
        if (dist->min < param->lo)
            dist->min = param->lo;
        if (dist->max > param->hi)
            dist->max = param->hi;
        if (!(dist->min <= dist->max)) {
            A5_SC_ERR(L, v, "the min/max of '%s' lie outside its valid range", k->value);
            bad = 1;
        }
    }
    return bad ? A5_ESCENARIO : 0;
}

static int load_uncertain(a5_sc_loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *u = a5_yaml_get(root, "uncertain");
    if (!u || a5_sc_expect_map(L, u, "uncertain"))
        return 0;
    s->uncertain = a5_calloc(u->n ? u->n : 1, sizeof *s->uncertain);
    if (!s->uncertain)
        return A5_ENOMEM;
    for (size_t i = 0; i < u->n; i++) {
        const a5_yaml_node *k = u->key[i], *v = u->item[i];
        a5_uncertain un;
        memset(&un, 0, sizeof un);
        int rc = a5_sc_resolve(L, k->value, k, A5_SC_VARY, &un.target);
        if (A5_SC_NOMEM(rc))
            return rc;
        if (rc)
            continue;
        if (a5_sc_expect_map(L, v, k->value) || read_dist(L, k, v, un.target.param, &un.dist)) {
            a5_scenario_target_free(&un.target);
            continue;
        }
        /* One draw per slot: a later entry over the same slot would overwrite the
         * first's draw (nations.*.threat and nations.DEU.threat). */
        const a5_uncertain *dup = NULL;
        for (size_t j = 0; j < s->nuncertain && !dup; j++)
            for (size_t q = 0; q < un.target.nslots && !dup; q++)
                if (a5_target_covers(&s->uncertain[j].target, un.target.slots[q]))
                    dup = &s->uncertain[j];
        if (dup) {
            A5_SC_ERR(L, k, "'%s' overlaps '%s', drawn already: a parameter is drawn once",
                      k->value, dup->target.path);
            a5_scenario_target_free(&un.target);
            continue;
        }
        s->uncertain[s->nuncertain++] = un;
    }
    return 0;
}

/* --- assembly ----------------------------------------------------------------------- */

void a5_scenario_free(a5_scenario *s)
{
    if (!s)
        return;
    a5_diag_free(&s->warnings);
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
        a5_scenario_target_free(&s->uncertain[i].target);
    free(s->uncertain);
    for (size_t i = 0; i < s->ncalib_fit; i++)
        free(s->calib_fit[i].path);
    free(s->calib_fit);
    free(s->outcomes);
    for (size_t i = 0; i < s->nevents; i++) {
        for (size_t j = 0; j < s->events[i].nops; j++)
            a5_scenario_target_free(&s->events[i].ops[j].target);
        free(s->events[i].ops);
    }
    free(s->events);
    for (size_t i = 0; i < s->nvaried; i++)
        a5_scenario_target_free(&s->varied[i]);
    free(s->varied);
    free(s->points);
    free(s->window);
    free(s->window_known);
    free(s->att_step);
    free(s->att_salience);
    free(s->vary_file);
    free(s->text);
    free(s);
}

/* Does top-level section `key` hold model parameters (policy, decision, market, ...)?
 * Read off the parameter table, so the list of sections lives in one place. */
static int is_param_section(const char *key)
{
    size_t kl = strlen(key);
    for (int g = 0; g < A5_G_COUNT; g++)
        if (strncmp(a5_param_global[g].path, key, kl) == 0 && a5_param_global[g].path[kl] == '.')
            return 1;
    return 0;
}

/* Lay out the parameter vector now that N is known; vendor prices were parked in
 * base by load_vendors. */
static int layout_vector(a5_sc_loader *L)
{
    a5_scenario *s = L->s;
    double *price = s->base;
    s->nslots = a5_param_vslot(s->nvendors, s->n);
    s->base = a5_calloc(s->nslots, sizeof *s->base);
    if (!s->base) {
        free(price);
        return A5_ENOMEM;
    }
    for (int v = 0; v < s->nvendors; v++)
        s->base[a5_param_vslot(v, s->n)] = price ? price[v] : 1.0;
    free(price);
    for (int g = 0; g < A5_G_COUNT; g++)
        s->base[g] = a5_param_global[g].def;
    return 0;
}

/* Every section of the (merged, overridden) tree into L->s. Returns 0 or
 * A5_ENOMEM; problems are in the diagnostics. */
/* china.targets: [CODE, ...] names China's targets: china_target = 1 for each. */
static void china_targets(a5_sc_loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *t = a5_yaml_get(a5_yaml_get(root, "china"), "targets");
    if (!t || a5_sc_expect_seq(L, t, "china.targets"))
        return;
    /* One place per setting: the list, or the nations' own china_target. */
    const a5_yaml_node *nl = a5_yaml_get(root, "nations"),
                       *own = a5_yaml_get(a5_yaml_get(root, "defaults"), "china_target");
    for (size_t i = 0; !own && nl && nl->kind == A5_YAML_SEQ && i < nl->n; i++)
        own = a5_yaml_get(nl->item[i], "china_target");
    if (own && t->n > 0) { /* an empty list names no one: the nations' own stand */
        A5_SC_ERR(L, own, "China's targets are given twice: here (china_target) and in "
                          "'china.targets' (%s:%d:%d); give them in one place",
                  t->file, t->line, t->col);
        return;
    }
    for (size_t k = 0; k < t->n; k++) {
        const char *code;
        if (a5_sc_text(L, t->item[k], "china.targets entry", &code))
            continue;
        const int i = a5_sc_find_name(s->codes, s->n, code);
        char h[96];
        if (i < 0)
            A5_SC_ERR(L, t->item[k], "unknown nation '%s' in 'china.targets'%s", code,
                      a5_sc_hint(h, sizeof h, code, (const char *const *)s->codes, (size_t)s->n));
        else if (s->base[a5_param_nslot(A5_N_CHINA_TARGET, i, s->n)] != 0)
            A5_SC_ERR(L, t->item[k], "'china.targets' names '%s' twice", code);
        else
            s->base[a5_param_nslot(A5_N_CHINA_TARGET, i, s->n)] = 1;
    }
}

static int load_sections(a5_sc_loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    int rc;
    char h[96];
    for (size_t i = 0; i < root->n; i++) {
        const char *k = root->key[i]->value;
        size_t j;
        for (j = 0; j < NTOP; j++)
            if (strcmp(k, top_keys[j]) == 0)
                break;
        if (j == NTOP)
            A5_SC_ERR(L, root->key[i], "unknown key '%s'%s", k,
                      a5_sc_hint(h, sizeof h, k, top_keys, NTOP));
    }
    if ((rc = load_run(L, root)) || (rc = load_vendors(L, root)) || (rc = load_nation_ids(L, root)))
        return rc;
    if (s->n == 0)
        return 0;
    if ((long)s->steps * s->n > A5_MAX_CELLS) {
        a5_diag_add(L->d, s->file, 1, 1,
                    "%d steps x %d nations = %ld cells per replicate; the limit is %ld", s->steps,
                    s->n, (long)s->steps * s->n, A5_MAX_CELLS);
        return 0;
    }
    if ((rc = layout_vector(L)))
        return rc;
    for (size_t i = 0; i < NTOP; i++) {
        const a5_yaml_node *sec = a5_yaml_get(root, top_keys[i]);
        if (sec && is_param_section(top_keys[i]))
            load_globals(L, sec, top_keys[i]);
    }
    if ((rc = load_nation_attrs(L, root)))
        return rc;
    china_targets(L, root);
    if ((rc = load_uncertain(L, root)) || (rc = a5_sc_load_events(L, root)) ||
        (rc = a5_sc_timing(L, root)) || (rc = a5_sc_calibration(L, root)) || (rc = a5_sc_outcomes(L, root)))
        return rc;
    const a5_yaml_node *sw = a5_yaml_get(root, "sweep"), *dz = a5_yaml_get(root, "design");
    if (sw && dz) {
        A5_SC_ERR(L, dz,
                  "'sweep' and 'design' cannot be used together (sweep at line %d): "
                  "choose one way to vary parameters",
                  sw->line);
        return 0;
    }
    const a5_yaml_node *vz = sw ? sw : dz;
    if (vz) {
        if (!(s->vary_file = a5_strdup(vz->file)))
            return A5_ENOMEM;
        s->vary_line = vz->line;
        s->vary_col = vz->col;
    }
    const a5_yaml_node *lv = a5_yaml_get(root, "levers"),
                       *mt = dz && dz->kind == A5_YAML_MAP ? a5_yaml_get(dz, "method") : NULL;
    const int robust = mt && mt->kind == A5_YAML_SCALAR && strcmp(mt->value, "robust") == 0;
    if (lv && !robust)
        A5_SC_ERR(L, lv, "'levers' are the policies of a robust design: add design: {method: "
                         "robust, worlds: M} (or vary them with 'sweep')");
    if ((rc = sw ? a5_sc_sweep(L, sw) : robust ? a5_sc_robust(L, dz, lv) : dz ? a5_sc_design(L, dz) : 0))
        return rc;
    a5_sc_timing_check(L);
    return 0;
}

static int parse(const char *text, size_t len, const char *name, const char *const *sets,
                 const char *const *from, int nsets, a5_diag *d, a5_scenario **out)
{
    *out = NULL;
    size_t before = a5_diag_count(d);
    a5_sc_loader L;
    memset(&L, 0, sizeof L);
    L.d = d;
    a5_scenario *s = a5_calloc(1, sizeof *s);
    char *fname = a5_strdup(name);
    if (!s || !fname) {
        free(s);
        free(fname);
        return A5_ENOMEM;
    }
    s->file = fname;
    L.s = s;
    a5_yaml_node *root;
    int rc = a5_yaml_load(text, len, s->file, d, &root);
    if (rc)
        goto fail;
    rc = A5_ESCENARIO;
    if (root->kind != A5_YAML_MAP) {
        A5_SC_ERR(&L, root, "a scenario must be a mapping of settings (key: value), got %s",
                  a5_sc_kind_name(root));
        goto fail;
    }
    if ((rc = a5_sc_merge_base(&L, root, 0, &root)))
        goto fail;
    for (int i = 0; i < nsets; i++)
        if ((rc = a5_sc_apply_set(&L, root, sets[i], i + 1, from ? from[i] : NULL)))
            goto fail;
    if ((rc = a5_sc_initial_policies(&L, root)) || (rc = load_sections(&L, root)))
        goto fail;
    /* Decided on the whole scenario: what makes us.pressure inert may come later in
     * the file than what varies it. Reported once, at its first place. */
    if (L.pressure_file[0] && a5_sc_pressure_unused(s) && a5_diag_count(d) == before)
        a5_diag_add(d, L.pressure_file, L.pressure_line, L.pressure_col, A5_SC_PRESSURE_UNUSED);
    for (int i = 0; i < nsets && a5_sc_pressure_unused(s); i++) {
        const char *set = sets[i] + strspn(sets[i], " \t");
        if (!strncmp(set, "us.pressure", 11) && strchr(" \t=", set[11]))
            a5_diag_add(d, "--set", i + 1, 1, A5_SC_PRESSURE_UNUSED);
    }
    rc = A5_ESCENARIO;
    if (s->npoints == 0 && s->nvaried == 0)
        s->npoints = 1;
    if (a5_diag_count(d) != before)
        goto fail;
    if (a5_sc_inert(&L, root)) {
        rc = A5_ENOMEM;
        goto fail;
    }
    if ((double)s->npoints * (double)s->replicates > 1e12) {
        a5_diag_add(d, s->file, 1, 1, "%ld points x %ld replicates exceeds the limit of 1e12 runs",
                    s->npoints, s->replicates);
        goto fail;
    }
    size_t tl;
    if ((rc = a5_yaml_emit(root, &s->text, &tl)))
        goto fail;
    if (L.design_note[0]) {
        size_t nl = strlen(L.design_note);
        char *t = a5_realloc(s->text, tl + nl + 1);
        if (!t) {
            rc = A5_ENOMEM;
            goto fail;
        }
        memcpy(t + tl, L.design_note, nl + 1);
        s->text = t;
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
    return rc == A5_ENOMEM ? A5_ENOMEM : A5_ESCENARIO;
}

int a5_scenario_parse(const char *text, size_t len, const char *name, const char *const *sets,
                      int nsets, a5_diag *d, a5_scenario **out)
{
    return parse(text, len, name, sets, NULL, nsets, d, out);
}

int a5_scenario_load_from(const char *path, const char *const *sets, const char *const *from,
                          int nsets, a5_diag *d, a5_scenario **out)
{
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc = a5_sc_read_file(path, d, &buf, &len);
    if (!rc)
        rc = parse(buf, len, path, sets, from, nsets, d, out);
    free(buf);
    return rc;
}

int a5_scenario_load(const char *path, const char *const *sets, int nsets, a5_diag *d,
                     a5_scenario **out)
{
    return a5_scenario_load_from(path, sets, NULL, nsets, d, out);
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
