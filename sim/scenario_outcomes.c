/* The `outcomes:` section (issue 27.1): named metrics of a run, each with a direction
 * (max or min) and an optional threshold, computed per replicate by the run
 * (sim/outcomes.c) into the results variable `outcomes`. The metrics are the
 * package's per-replicate outcomes (allied5g.compare), under the same names:
 *
 *   outcomes:
 *     allies_banning: {metric: n_ban, at: 2025Q4, direction: max, threshold: 10}
 *     uk_bans: {metric: ban, nation: GBR, direction: max}
 *     pressure_spent: {metric: us_spent, direction: min}
 *
 * Checked like every section: unknown keys, metrics, nations and dates are refused
 * at FILE:LINE:COL. See docs/robust.md and docs/scenario-reference.md. */
#include "scenario_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What each metric takes: a nation (0 none, 1 required, 2 a nation or all, default
 * all), a date (`at`: 1 optional, default the last step), and the record it needs. */
static const struct {
    const char *name;
    int nation, at, record;
    const char *what;
} metrics[A5_OUT_METRIC_COUNT] = {
    [A5_OUT_N_BAN] = {"n_ban", 0, 1, 0, "nations banning at `at`"},
    [A5_OUT_N_MOVED] = {"n_moved", 0, 1, 0, "nations not open at `at`"},
    [A5_OUT_BAN] = {"ban", 1, 1, 0, "1 where `nation` bans at `at`"},
    [A5_OUT_NOT_OPEN] = {"not_open", 1, 1, 0, "1 where `nation` is not open at `at`"},
    [A5_OUT_BANNED_BY] = {"banned_by", 1, 1, 0, "1 where `nation` has banned by `at`"},
    [A5_OUT_US_PRESSURE] = {"us_pressure", 2, 1, 0, "US pressure on `nation` at `at`"},
    [A5_OUT_US_SPENT] = {"us_spent", 2, 0, 0, "US pressure on `nation` summed over the steps"},
    [A5_OUT_CUM_COST] = {"cum_cost", 2, 0, 0, "cumulative cost of `nation`"},
    [A5_OUT_CUM_RETALIATION] = {"cum_retaliation", 2, 0, A5_REC_CUM_RETALIATION,
                                "retaliation `nation` bore over the run"},
    [A5_OUT_CUM_DOWNGRADE] = {"cum_downgrade", 2, 0, A5_REC_CUM_DOWNGRADE,
                              "intelligence `nation` lost to downgrades over the run"},
};

const char *a5_outcome_metric_name(int metric) { return metrics[metric].name; }

int a5_outcome_needs_pressure(const a5_scenario *s)
{
    for (size_t o = 0; o < s->noutcomes; o++)
        if (s->outcomes[o].metric == A5_OUT_US_PRESSURE || s->outcomes[o].metric == A5_OUT_US_SPENT)
            return 1;
    return 0;
}

static int valid_name(const char *t)
{
    if (!t[0] || strlen(t) > 48 || (t[0] >= '0' && t[0] <= '9'))
        return 0;
    for (const char *c = t; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_'))
            return 0;
    return 1;
}

/* The metric and its nation of outcomes.NAME (mapping v) into *o. Returns 1 if bad. */
static int outcome_metric(a5_sc_loader *L, const a5_yaml_node *v, const char *name, a5_outcome *o)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *mn = a5_yaml_get(v, "metric"), *nn = a5_yaml_get(v, "nation");
    const char *t;
    char h[96];
    if (!mn) {
        A5_SC_ERR(L, v, "'outcomes.%s' needs a 'metric' (e.g. n_ban, ban, us_spent, cum_cost)",
                  name);
        return 1;
    }
    if (a5_sc_text(L, mn, "metric", &t))
        return 1;
    const char *names[A5_OUT_METRIC_COUNT];
    o->metric = -1;
    for (int k = 0; k < A5_OUT_METRIC_COUNT; k++)
        if (strcmp(t, names[k] = metrics[k].name) == 0)
            o->metric = k;
    if (o->metric < 0) {
        A5_SC_ERR(L, mn,
                  "unknown metric '%s'%s; expected n_ban, n_moved, ban, not_open, banned_by, "
                  "us_pressure, us_spent, cum_cost, cum_retaliation or cum_downgrade",
                  t, a5_sc_hint(h, sizeof h, t, names, A5_OUT_METRIC_COUNT));
        return 1;
    }
    const int need = metrics[o->metric].nation;
    o->nation = -1;
    if (nn && need == 0) {
        A5_SC_ERR(L, nn, "metric %s counts every nation: drop 'nation'", t);
        return 1;
    }
    if (!nn && need == 1) {
        A5_SC_ERR(L, v, "metric %s needs a 'nation' (a nation code)", t);
        return 1;
    }
    if (nn && a5_sc_text(L, nn, "nation", &t))
        return 1;
    if (nn && !(need == 2 && strcmp(t, "all") == 0)) {
        o->nation = a5_sc_find_name(s->codes, s->n, t);
        if (o->nation < 0) {
            A5_SC_ERR(L, nn, "unknown nation '%s' in 'outcomes.%s'%s%s", t, name,
                      a5_sc_hint(h, sizeof h, t, (const char *const *)s->codes, (size_t)s->n),
                      need == 2 ? " (or 'all': summed over the nations)" : "");
            return 1;
        }
    }
    const int rec = metrics[o->metric].record;
    if (rec && !(s->record & rec)) {
        A5_SC_ERR(L, mn,
                  "metric %s reads the record of that name: add %s to output.record "
                  "(output: {record: [%s]})",
                  metrics[o->metric].name, metrics[o->metric].name, metrics[o->metric].name);
        return 1;
    }
    return 0;
}

/* Direction, threshold and date of outcomes.NAME into *o. Returns 1 if bad. */
static int outcome_rest(a5_sc_loader *L, const a5_yaml_node *v, const char *name, a5_outcome *o)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *dn = a5_yaml_get(v, "direction"), *tn = a5_yaml_get(v, "threshold"),
                       *an = a5_yaml_get(v, "at");
    const char *t;
    int bad = 0;
    if (!dn) {
        A5_SC_ERR(L, v, "'outcomes.%s' needs a 'direction': max (more is better) or min", name);
        bad = 1;
    } else if (a5_sc_text(L, dn, "direction", &t) == 0 && strcmp(t, "max") && strcmp(t, "min")) {
        A5_SC_ERR(L, dn, "'direction' is max (more is better) or min, not '%s'", t);
        bad = 1;
    } else if (dn->kind == A5_YAML_SCALAR)
        o->maximise = strcmp(dn->value, "max") == 0;
    else
        bad = 1;
    o->threshold = NAN;
    if (tn && a5_sc_number(L, tn, "threshold", &o->threshold))
        bad = 1;
    o->at = -1;
    if (an && !metrics[o->metric].at) {
        A5_SC_ERR(L, an, "metric %s sums the whole run: drop 'at'", metrics[o->metric].name);
        bad = 1;
    } else if (an)
        bad |= a5_sc_event_at(L, an, &o->at) != 0;
    else if (metrics[o->metric].at)
        o->at = s->steps - 1;
    return bad;
}

/* "metric(NATION, DATE)" as the package writes it. */
static void outcome_expr(const a5_scenario *s, a5_outcome *o)
{
    char date[16] = "";
    if (o->at >= 0)
        a5_scenario_date(s, o->at, date, sizeof date);
    const char *who = o->nation >= 0 ? s->codes[o->nation] : "all";
    const int need = metrics[o->metric].nation;
    if (need == 0)
        snprintf(o->expr, sizeof o->expr, "%s(%s)", metrics[o->metric].name, date);
    else if (o->at >= 0)
        snprintf(o->expr, sizeof o->expr, "%s(%.16s, %s)", metrics[o->metric].name, who, date);
    else
        snprintf(o->expr, sizeof o->expr, "%s(%.16s)", metrics[o->metric].name, who);
}

int a5_sc_outcomes(a5_sc_loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *u = a5_yaml_get(root, "outcomes");
    if (!u || a5_sc_expect_map(L, u, "outcomes"))
        return 0;
    if (u->n == 0) {
        A5_SC_ERR(L, u, "'outcomes' is empty: name at least one, e.g. "
                        "allies_banning: {metric: n_ban, direction: max}");
        return 0;
    }
    if (u->n > A5_MAX_OUTCOMES) {
        A5_SC_ERR(L, u, "%zu outcomes; at most %d are supported", u->n, A5_MAX_OUTCOMES);
        return 0;
    }
    if (!(s->outcomes = a5_calloc(u->n, sizeof *s->outcomes)))
        return A5_ENOMEM;
    static const char *const keys[] = {"metric", "nation", "at", "direction", "threshold"};
    int bad = 0;
    for (size_t k = 0; k < u->n; k++) {
        const char *name = u->key[k]->value;
        const a5_yaml_node *v = u->item[k];
        a5_outcome *o = &s->outcomes[k];
        if (!valid_name(name)) {
            A5_SC_ERR(L, u->key[k],
                      "outcome name '%s' must be letters, digits and '_' (at most 48, not "
                      "starting with a digit), as it names the outcome in the results",
                      name);
            bad = 1;
            continue;
        }
        if (a5_sc_expect_map(L, v, name)) {
            bad = 1;
            continue;
        }
        char where[96];
        snprintf(where, sizeof where, "'outcomes.%s'", name);
        a5_sc_check_keys(L, v, where, keys, 5);
        snprintf(o->name, sizeof o->name, "%s", name);
        if (outcome_metric(L, v, name, o) || outcome_rest(L, v, name, o)) {
            bad = 1;
            continue;
        }
        outcome_expr(s, o);
    }
    if (!bad)
        s->noutcomes = u->n;
    return 0;
}
