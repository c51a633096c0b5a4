#define _XOPEN_SOURCE 700 /* realpath */
/* Reading scenario values: numbers, text, typed parameter values, key checks, and
 * quarter labels. See scenario_int.h. */
#include "scenario_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *a5_sc_kind_name(const a5_yaml_node *n)
{
    return n->kind == A5_YAML_MAP ? "a mapping" : n->kind == A5_YAML_SEQ ? "a list" : "a value";
}

const char *a5_sc_hint(char *buf, size_t len, const char *word, const char *const *names, size_t n)
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
int a5_sc_parse_double(const char *text, double *v, const char **why)
{
    const char *p = text;
    if (!*p) {
        *why = "expected a number, got an empty value";
        return A5_ESCENARIO;
    }
    for (; *p; p++)
        if (!(isdigit((unsigned char)*p) || *p == '.' || *p == '-' || *p == '+' || *p == 'e' ||
              *p == 'E')) {
            *why = "expected a number";
            return A5_ESCENARIO;
        }
    char *end;
    errno = 0;
    double x = strtod(text, &end);
    if (*end || end == text) {
        *why = "expected a number";
        return A5_ESCENARIO;
    }
    if (errno == ERANGE && fabs(x) > 1) {
        *why = "number too large to represent";
        return A5_ESCENARIO;
    }
    if (!isfinite(x)) {
        *why = "must be a finite number";
        return A5_ESCENARIO;
    }
    *v = x;
    return 0;
}

/* Read a value for parameter p from node into *v. */
int a5_sc_value(a5_sc_loader *L, const a5_yaml_node *node, const a5_param *p, const char *path,
                double *v)
{
    if (node->kind != A5_YAML_SCALAR) {
        A5_SC_ERR(L, node, "'%s' must be %s, got %s", path,
                  p->type == A5_T_POLICY   ? "a policy name"
                  : p->type == A5_T_CHOICE ? "a name"
                                           : "a number", a5_sc_kind_name(node));
        return A5_ESCENARIO;
    }
    const char *t = node->value;
    if (p->type == A5_T_BOOL) {
        if (node->plain && strcmp(t, "true") == 0)
            *v = 1;
        else if (node->plain && strcmp(t, "false") == 0)
            *v = 0;
        else {
            A5_SC_ERR(L, node, "'%s' must be true or false, got '%s'", path, t);
            return A5_ESCENARIO;
        }
        return 0;
    }
    if (p->type == A5_T_POLICY) {
        int k = a5_policy_parse(t);
        if (k < 0) {
            const char *const pol[] = {a5_policy_name(0), a5_policy_name(1), a5_policy_name(2)};
            char h[96];
            A5_SC_ERR(L, node, "'%s': unknown policy '%s'; expected open, restrict or ban%s", path,
                      t, a5_sc_hint(h, sizeof h, t, pol, 3));
            return A5_ESCENARIO;
        }
        *v = k;
        return 0;
    }
    if (p->type == A5_T_CHOICE) { /* a strategy name, stored as its index, or the index */
        int nc, k = a5_param_choice_parse(p, t);
        const char *why;
        double c;
        if (k < 0 && node->plain && a5_sc_parse_double(t, &c, &why) == 0 && c >= p->lo &&
            c <= p->hi)
            k = (int)floor(c + 0.5); /* a code, as calibrate writes it: the nearest */
        if (k < 0) {
            char h[96];
            const char *const *names = a5_param_choices(p, &nc);
            A5_SC_ERR(L, node, "'%s': unknown value '%s'; expected %s%s", path, t, p->units,
                      a5_sc_hint(h, sizeof h, t, names, (size_t)nc));
            return A5_ESCENARIO;
        }
        *v = k;
        return 0;
    }
    const char *why;
    if (!node->plain) {
        A5_SC_ERR(L, node, "'%s' must be a number, got text: \"%s\" (quoted text, or tagged "
                             "!!str)", path, t);
        return A5_ESCENARIO;
    }
    if (a5_sc_parse_double(t, v, &why)) {
        A5_SC_ERR(L, node, "'%s': %s%s%s%s", path, why, *t ? ", got '" : "", t, *t ? "'" : "");
        return A5_ESCENARIO;
    }
    char buf[128];
    if (a5_param_check(p, *v, buf, sizeof buf)) {
        A5_SC_ERR(L, node, "'%s' = %s %s", path, t, buf);
        return A5_ESCENARIO;
    }
    return 0;
}

/* A plain number with no parameter entry (distribution parameters, ranges). */
int a5_sc_number(a5_sc_loader *L, const a5_yaml_node *node, const char *what, double *v)
{
    const char *why;
    if (node->kind != A5_YAML_SCALAR) {
        A5_SC_ERR(L, node, "%s must be a number, got %s", what, a5_sc_kind_name(node));
        return A5_ESCENARIO;
    }
    if (!node->plain) {
        A5_SC_ERR(L, node, "%s must be a number, got text: \"%s\" (quoted text, or tagged "
                             "!!str)", what, node->value);
        return A5_ESCENARIO;
    }
    if (a5_sc_parse_double(node->value, v, &why)) {
        A5_SC_ERR(L, node, "%s: %s%s%s%s", what, why, *node->value ? ", got '" : "", node->value,
                  *node->value ? "'" : "");
        return A5_ESCENARIO;
    }
    return 0;
}

int a5_sc_text(a5_sc_loader *L, const a5_yaml_node *node, const char *what, const char **t)
{
    if (node->kind != A5_YAML_SCALAR) {
        A5_SC_ERR(L, node, "'%s' must be text, got %s", what, a5_sc_kind_name(node));
        return A5_ESCENARIO;
    }
    *t = node->value;
    return 0;
}

int a5_sc_expect_map(a5_sc_loader *L, const a5_yaml_node *node, const char *what)
{
    if (node->kind != A5_YAML_MAP) {
        A5_SC_ERR(L, node, "'%s' must be a mapping (key: value), got %s", what,
                  a5_sc_kind_name(node));
        return A5_ESCENARIO;
    }
    return 0;
}

int a5_sc_expect_seq(a5_sc_loader *L, const a5_yaml_node *node, const char *what)
{
    if (node->kind != A5_YAML_SEQ) {
        A5_SC_ERR(L, node, "'%s' must be a list, got %s", what, a5_sc_kind_name(node));
        return A5_ESCENARIO;
    }
    return 0;
}

/* Report keys of `map` not in `allowed`. */
void a5_sc_check_keys(a5_sc_loader *L, const a5_yaml_node *map, const char *where,
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
            A5_SC_ERR(L, map->key[i], "unknown key '%s' in %s%s", k, where,
                      a5_sc_hint(h, sizeof h, k, allowed, n));
        }
    }
}

int a5_sc_find_name(char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

/* --- dates -------------------------------------------------------------------------- */

int a5_quarter_parse(const char *t, int *year, int *q)
{
    int y = 0, n = 0;
    const char *p = t;
    while (isdigit((unsigned char)*p) && n < 5) {
        y = y * 10 + (*p - '0');
        p++;
        n++;
    }
    if (n != 4 || (*p != 'Q' && *p != 'q') || p[1] < '1' || p[1] > '4' || p[2])
        return A5_ESCENARIO;
    *year = y;
    *q = p[1] - '0';
    return 0;
}

int a5_scenario_label_step(const a5_scenario *s, const char *label, long *step)
{
    int y, q;
    if (a5_quarter_parse(label, &y, &q))
        return A5_ESCENARIO;
    *step = ((long)y * 4 + q) - ((long)s->start_year * 4 + s->start_quarter);
    return 0;
}

void a5_scenario_date(const a5_scenario *s, int t, char *buf, size_t len)
{
    long idx = (long)s->start_year * 4 + (s->start_quarter - 1) + t;
    snprintf(buf, len, "%04ldQ%ld", idx / 4, idx % 4 + 1);
}

void a5_sc_beside(const char *file, const char *name, char *out, size_t len)
{
    const char *slash = strrchr(file, '/');
    if (name[0] != '/' && slash)
        snprintf(out, len, "%.*s/%s", (int)(slash - file), file, name);
    else
        snprintf(out, len, "%s", name);
}

int a5_sc_pin_path(const a5_yaml_node *node, const char *path)
{
    char *abs = realpath(path, NULL);
    if (!abs)
        return 0;
    char *copy = a5_strdup(abs);
    free(abs);
    if (!copy)
        return A5_ENOMEM;
    a5_yaml_node *n = (a5_yaml_node *)node; /* the loader's own tree, emitted later */
    free(n->value);
    n->value = copy;
    return 0;
}
