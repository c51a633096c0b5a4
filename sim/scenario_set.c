/* --set PATH=VALUE overrides, applied to the YAML tree before it is checked. See
 * scenario_int.h. */
#include "scenario_int.h"

#include <stdlib.h>
#include <string.h>

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
 * Takes ownership of v. Returns 0, A5_ESCENARIO when the path cannot be created
 * (not reported), or A5_ENOMEM. */
static int put_path(a5_yaml_node *map, const char *path, a5_yaml_node *v)
{
    const char *rest;
    long i = match_key(map, path, &rest);
    if (i >= 0 && *rest) {
        if (map->item[i]->kind != A5_YAML_MAP) {
            a5_yaml_free(v);
            return A5_ESCENARIO;
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
        return a5_yaml_put(map, path, v) ? A5_ENOMEM : 0;
    char head[128];
    size_t hl = (size_t)(dot - path);
    if (hl >= sizeof head) {
        a5_yaml_free(v);
        return A5_ESCENARIO;
    }
    memcpy(head, path, hl);
    head[hl] = 0;
    a5_yaml_node *sub = a5_yaml_collection(A5_YAML_MAP, v->file, v->line, v->col);
    if (!sub || a5_yaml_put(map, head, sub)) {
        a5_yaml_free(v);
        return A5_ENOMEM;
    }
    return put_path(sub, dot + 1, v);
}

/* `seed` is a number or {value: N, common: BOOL}: --set seed.KEY on a number first
 * makes it {value: N}, and --set seed=N on a mapping sets seed.value. */
static int seed_form(a5_yaml_node *root, char **path)
{
    const long i = a5_yaml_index(root, "seed");
    a5_yaml_node *sd = i >= 0 ? root->item[i] : NULL;
    if (sd && sd->kind == A5_YAML_MAP && strcmp(*path, "seed") == 0) {
        char *np = a5_strdup("seed.value");
        if (!np)
            return A5_ENOMEM;
        free(*path);
        *path = np;
    } else if (sd && sd->kind == A5_YAML_SCALAR && strncmp(*path, "seed.", 5) == 0) {
        a5_yaml_node *m = a5_yaml_collection(A5_YAML_MAP, sd->file, sd->line, sd->col);
        if (!m)
            return A5_ENOMEM;
        root->item[i] = m;
        return a5_yaml_put(m, "value", sd);
    }
    return 0;
}

/* Is `path` something --set may create when absent? */
static int settable(const char *path)
{
    if (strcmp(path, "seed.value") == 0 || strcmp(path, "china.targets") == 0)
        return 1;
    /* whole sections, and one new outcome: outcomes.NAME={metric: .., direction: ..} */
    if (strcmp(path, "outcomes") == 0 || strcmp(path, "levers") == 0 ||
        strcmp(path, "design.policies") == 0 || strcmp(path, "design.worlds") == 0 ||
        (strncmp(path, "outcomes.", 9) == 0 && path[9] && !strchr(path + 9, '.')))
        return 1;
    if (a5_param_find_global(path, NULL) || a5_param_find_run(path, NULL))
        return 1;
    if (strncmp(path, "defaults.", 9) == 0 && a5_param_find_nation(path + 9, NULL))
        return 1;
    return 0;
}

/* --set fixes a value: the same path no longer varies in uncertain, sweep, design or
 * levers. */
static void unvary(a5_yaml_node *root, const char *path)
{
    a5_yaml_node *dz = a5_yaml_get(root, "design");
    a5_yaml_remove(a5_yaml_get(root, "uncertain"), path);
    a5_yaml_remove(a5_yaml_get(root, "levers"), path);
    a5_yaml_node *sw = a5_yaml_get(root, "sweep"), *rg = a5_yaml_get(dz, "ranges");
    if (a5_yaml_remove(sw, path) && sw->n == 0)
        a5_yaml_remove(root, "sweep");
    if (a5_yaml_remove(rg, path) && rg->n == 0)
        a5_yaml_remove(root, "design");
}

/* The section (uncertain, sweep, levers, design) that draws or varies every nation's
 * ATTR (nations.*.ATTR) when path is one nation's, nations.CODE.ATTR; else NULL. A
 * --set of that nation alone would be overwritten by the draw or the design. */
static const char *varied_for_all(a5_yaml_node *root, const char *path)
{
    if (strncmp(path, "nations.", 8) != 0)
        return NULL;
    const char *attr = strchr(path + 8, '.');
    if (!attr || !strncmp(path + 8, "*.", 2))
        return NULL;
    /* A code no nation has is reported as unknown (set_listed), not as this. */
    const a5_yaml_node *list = a5_yaml_get(root, "nations");
    int known = 0;
    for (size_t i = 0; list && list->kind == A5_YAML_SEQ && i < list->n; i++) {
        const a5_yaml_node *f = a5_yaml_get(list->item[i], "code");
        known |= f && f->kind == A5_YAML_SCALAR && strlen(f->value) == (size_t)(attr - path - 8) &&
                 strncmp(f->value, path + 8, (size_t)(attr - path - 8)) == 0;
    }
    if (!known)
        return NULL;
    char all[256];
    snprintf(all, sizeof all, "nations.*%s", attr);
    static const char *const where[] = {"uncertain", "sweep", "levers", "design"};
    for (int k = 0; k < 4; k++) {
        const a5_yaml_node *m = a5_yaml_get(root, where[k]);
        if (k == 3)
            m = a5_yaml_get(m, "ranges");
        if (m && m->kind == A5_YAML_MAP && a5_yaml_index(m, all) >= 0)
            return where[k];
    }
    return NULL;
}

/* --set nations.CODE.ATTR=V (CODE may be *) or vendors.NAME.ATTR=V: put V into the
 * matching list entries; problems located at src:line. Takes ownership of v. */
static int set_listed(a5_sc_loader *L, a5_yaml_node *root, const char *path, size_t plen,
                      a5_yaml_node *v, const char *src, int line)
{
    int rc = 0;
    char h[128];
    int nat = path[0] == 'n';
    const char *who = path + 8, *dot = strchr(who, '.');
    a5_yaml_node *list = a5_yaml_get(root, nat ? "nations" : "vendors");
    if (!dot || !list || list->kind != A5_YAML_SEQ) {
        a5_diag_add(L->d, src, line, 1, "'%s' names nothing: expected %s", path,
                    nat ? "nations.CODE.ATTRIBUTE" : "vendors.NAME.price");
        a5_yaml_free(v);
        return 0;
    }
    char name[128];
    size_t wl = (size_t)(dot - who) < sizeof name ? (size_t)(dot - who) : sizeof name - 1;
    memcpy(name, who, wl);
    name[wl] = 0;
    const char *attr = dot + 1;
    int n_ok = nat ? a5_param_find_nation(attr, NULL) != NULL || !strcmp(attr, "name")
                   : !strcmp(attr, "price") || !strcmp(attr, "high_risk");
    if (!n_ok) {
        a5_diag_add(L->d, src, line, (int)(attr - path) + 1,
                    "'%s' names nothing: '%s' is not a %s attribute%s", path, attr,
                    nat ? "nation" : "vendor",
                    nat ? a5_sc_hint(h, sizeof h, attr, a5_sc_nation_attrs(), A5_N_COUNT) : "");
        a5_yaml_free(v);
        return 0;
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
            if (v->kind == A5_YAML_SCALAR &&
                !(copy = a5_yaml_scalar(v->value, v->plain, v->file, v->line, v->col))) {
                rc = A5_ENOMEM;
                break;
            }
            if (v->kind != A5_YAML_SCALAR) {
                a5_diag_add(L->d, src, line, (int)plen + 2, "'%s' takes a single value", path);
                break;
            }
        }
        if (a5_yaml_put(it, attr, copy)) { /* consumed copy */
            if (copy == v)
                v = NULL;
            rc = A5_ENOMEM;
            break;
        }
        any = 1;
        if (copy == v) {
            v = NULL;
            break;
        }
    }
    if (!any && !rc) {
        const char *names[1024];
        size_t nn = 0;
        for (size_t i = 0; i < list->n && nn < 1024; i++) {
            const a5_yaml_node *f = a5_yaml_get(list->item[i], nat ? "code" : "name");
            if (f && f->kind == A5_YAML_SCALAR)
                names[nn++] = f->value;
        }
        a5_diag_add(L->d, src, line, 9, "unknown %s '%s' in '%s'%s", nat ? "nation" : "vendor",
                    name, path, a5_sc_hint(h, sizeof h, name, names, nn));
    }
    a5_yaml_free(v);
    return rc;
}

/* Override arg "PATH=VALUE" from src (its line `line`): the value located at
 * column 1 when `atvalue`, else at its column in arg. */
static int apply_set(a5_sc_loader *L, a5_yaml_node *root, const char *arg, const char *src,
                     int line, int atvalue)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        a5_diag_add(L->d, src, line, 1, "expected PATH=VALUE, got '%s'", arg);
        return 0;
    }
    size_t plen = (size_t)(eq - arg);
    char *path = a5_malloc(plen + 1);
    if (!path)
        return A5_ENOMEM;
    memcpy(path, arg, plen);
    path[plen] = 0;
    const char *val = eq + 1;
    a5_yaml_node *v;
    if (seed_form(root, &path)) {
        free(path);
        return A5_ENOMEM;
    }
    if (*val == 0) {
        v = a5_yaml_scalar("", 1, src, line, atvalue ? 1 : (int)plen + 2);
        if (!v) {
            free(path);
            return A5_ENOMEM;
        }
    } else {
        int rc = a5_yaml_load(val, strlen(val), src, L->d, &v);
        if (rc) {
            free(path);
            return rc == A5_ENOMEM ? rc : 0; /* a parse error is reported */
        }
        relocate(v, line, atvalue ? 0 : (int)plen + 1);
    }
    int rc;
    char h[128];
    const char *all = varied_for_all(root, path);
    if (all) {
        a5_diag_add(L->d, src, line, 1,
                    "'%s' would change nothing: '%s' gives every nation's value (nations.*%s); "
                    "fix them all with --set nations.*%s=V, or take it out of '%s'",
                    path, all, strchr(path + 8, '.'), strchr(path + 8, '.'), all);
        a5_yaml_free(v);
        free(path);
        return 0;
    }
    unvary(root, path);
    if (strncmp(path, "nations.", 8) == 0 || strncmp(path, "vendors.", 8) == 0) {
        rc = set_listed(L, root, path, plen, v, src, line);
        free(path);
        return rc;
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
        a5_diag_add(L->d, src, line, 1, "'%s' names nothing%s", path,
                    a5_sc_hint(h, sizeof h, path, c, nc));
        a5_yaml_free(v);
        free(path);
        return 0;
    }
    rc = put_path(root, path, v);
    if (rc == A5_ESCENARIO) {
        rc = 0;
        a5_diag_add(L->d, src, line, 1, "cannot set '%s': a value on its way is not a mapping",
                    path);
    }
    free(path);
    return rc;
}

int a5_sc_apply_set(a5_sc_loader *L, a5_yaml_node *root, const char *arg, int idx,
                    const char *from)
{
    if (from) /* "--store outcomes" is "output.store=outcomes", found at --store:1:1 */
        return apply_set(L, root, arg, from, 1, 1);
    return apply_set(L, root, arg, "--set", idx, 0);
}
