/* The `events:` section of a scenario: each event's date (`at:`, or a `hazard:`
 * chance per step), the date it became known (`known:`, for forecasts), and its
 * `set:` / `add:` operations. Part of the loader (scenario.c), sharing scenario_int.h. */
#include "scenario_int.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A scheduled event's `known:` (the quarter it became known; default its `at`) into
 * out->known. Only forecasts read it (docs/forecast.md): a run is the same without. */
static int event_known(a5_sc_loader *L, const a5_yaml_node *e, a5_event *out)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *kn = a5_yaml_get(e, "known");
    out->known = out->at;
    if (!kn)
        return 0;
    long t;
    if (kn->kind != A5_YAML_SCALAR || a5_scenario_label_step(s, kn->value, &t) != 0) {
        A5_SC_ERR(L, kn, "'known' must be a quarter label like 2020Q1 (when the event became "
                         "known), got '%s'",
                  kn->kind == A5_YAML_SCALAR ? kn->value : a5_sc_kind_name(kn));
        return A5_ESCENARIO;
    }
    if (t >= s->steps) {
        char last[16];
        a5_scenario_date(s, s->steps - 1, last, sizeof last);
        A5_SC_ERR(L, kn, "'known' %s is after the run's end (%s)", kn->value, last);
        return A5_ESCENARIO;
    }
    if (t < -100000) {
        A5_SC_ERR(L, kn, "'known' %s is too long before the run's start (%s)", kn->value,
                  s->start);
        return A5_ESCENARIO;
    }
    out->known = (int)t;
    return 0;
}

/* An event's `at:` (a step index or a quarter label) or `hazard:` into out. */
static int event_when(a5_sc_loader *L, const a5_yaml_node *e, a5_event *out)
{
    const a5_yaml_node *at = a5_yaml_get(e, "at"), *hz = a5_yaml_get(e, "hazard");
    out->at = -1;
    if (!at == !hz) {
        A5_SC_ERR(L, e,
                  "an event needs exactly one of 'at' (a step or date label) and 'hazard' "
                  "(a chance per step)");
        return A5_ESCENARIO;
    }
    if (hz) {
        out->known = INT_MIN;
        if (a5_yaml_get(e, "known")) {
            A5_SC_ERR(L, a5_yaml_get(e, "known"), "'known' is for scheduled events ('at'): a "
                                                   "hazard event has no date and is always known");
            return A5_ESCENARIO;
        }
        static const a5_param hp = {"hazard", A5_T_REAL, 0, 0, 1, 0, 0, "", ""};
        return a5_sc_value(L, hz, &hp, "hazard", &out->hazard);
    }
    int rc = a5_sc_event_at(L, at, &out->at);
    return rc ? rc : event_known(L, e, out);
}

int a5_sc_event_at(a5_sc_loader *L, const a5_yaml_node *at, int *step)
{
    a5_scenario *s = L->s;
    double x;
    long t;
    const char *why;
    if (at->kind == A5_YAML_SCALAR && a5_scenario_label_step(s, at->value, &t) == 0) {
        if (t < 0 || t >= s->steps) {
            char last[16];
            a5_scenario_date(s, s->steps - 1, last, sizeof last);
            A5_SC_ERR(L, at, "event date %s is outside the run (%s to %s)", at->value, s->start,
                      last);
            return A5_ESCENARIO;
        }
        *step = (int)t;
    } else if (at->kind == A5_YAML_SCALAR && at->plain &&
               a5_sc_parse_double(at->value, &x, &why) == 0 && x == floor(x)) {
        if (x < 0 || x >= s->steps) {
            A5_SC_ERR(L, at, "event step %s is outside the run (steps 0 to %d)", at->value,
                      s->steps - 1);
            return A5_ESCENARIO;
        }
        *step = (int)x;
    } else {
        A5_SC_ERR(L, at, "'at' must be a step index or a quarter label like 2020Q2, got '%s'",
                  at->kind == A5_YAML_SCALAR ? at->value : a5_sc_kind_name(at));
        return A5_ESCENARIO;
    }
    return 0;
}

/* An event's `set:` and `add:` operations into out->ops (allocated even when
 * something is wrong, so the caller frees one way). */
static int event_ops(a5_sc_loader *L, const a5_yaml_node *e, a5_event *out)
{
    const a5_yaml_node *ops[2] = {a5_yaml_get(e, "set"), a5_yaml_get(e, "add")};
    int bad = 0;
    if (!ops[0] && !ops[1]) {
        A5_SC_ERR(L, e, "an event needs 'set' and/or 'add'");
        bad = 1;
    }
    size_t nops = 0;
    for (int o = 0; o < 2; o++)
        if (ops[o] && a5_sc_expect_map(L, ops[o], o ? "add" : "set") == 0)
            nops += ops[o]->n;
        else if (ops[o])
            bad = 1;
    out->ops = a5_calloc(nops ? nops : 1, sizeof *out->ops);
    if (!out->ops)
        return A5_ENOMEM;
    for (int o = 0; o < 2; o++) {
        if (!ops[o] || ops[o]->kind != A5_YAML_MAP)
            continue;
        for (size_t j = 0; j < ops[o]->n; j++) {
            const a5_yaml_node *k = ops[o]->key[j], *v = ops[o]->item[j];
            a5_event_op op;
            memset(&op, 0, sizeof op);
            op.op = o ? A5_OP_ADD : A5_OP_SET;
            int rc = a5_sc_resolve(L, k->value, k, A5_SC_VARY | A5_SC_EVENT, &op.target);
            if (A5_SC_NOMEM(rc))
                return rc;
            if (rc) {
                bad = 1;
                continue;
            }
            if (op.target.param == &a5_param_global[A5_G_US_PRESSURE]) {
                /* Read once, into each nation's P_i(0), before any event: an event
                 * setting it would change nothing. */
                A5_SC_ERR(L, k, "an event cannot change 'us.pressure': it is only the initial "
                                "pressure P_i(0), copied into each nation before events apply; "
                                "change the nations' pressure instead: nations.*.us_pressure "
                                "(or nations.CODE.us_pressure)");
                a5_scenario_target_free(&op.target);
                bad = 1;
                continue;
            }
            int vbad;
            if (o == 0)
                vbad = a5_sc_value(L, v, op.target.param, k->value, &op.value);
            else if (op.target.param->type == A5_T_POLICY) {
                A5_SC_ERR(L, k, "'add' cannot change '%s': a policy is a name; use 'set'",
                          k->value);
                vbad = 1;
            } else {
                char what[200];
                snprintf(what, sizeof what, "'add' to '%s'", k->value);
                vbad = a5_sc_number(L, v, what, &op.value);
            }
            if (vbad) {
                a5_scenario_target_free(&op.target);
                bad = 1;
                continue;
            }
            out->ops[out->nops++] = op;
        }
    }
    return bad ? A5_ESCENARIO : 0;
}

int a5_sc_load_events(a5_sc_loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    const a5_yaml_node *ev = a5_yaml_get(root, "events");
    if (!ev || a5_sc_expect_seq(L, ev, "events"))
        return 0;
    s->events = a5_calloc(ev->n ? ev->n : 1, sizeof *s->events);
    if (!s->events)
        return A5_ENOMEM;
    for (size_t i = 0; i < ev->n; i++) {
        const a5_yaml_node *e = ev->item[i];
        if (a5_sc_expect_map(L, e, "events entry"))
            continue;
        static const char *const keys[] = {"at", "hazard", "known", "set", "add", "note"};
        a5_sc_check_keys(L, e, "an event", keys, 6);
        a5_event out;
        memset(&out, 0, sizeof out);
        int bad = event_when(L, e, &out) != 0;
        int rc = event_ops(L, e, &out);
        if (rc || bad) {
            for (size_t j = 0; j < out.nops; j++)
                a5_scenario_target_free(&out.ops[j].target);
            free(out.ops);
            if (A5_SC_NOMEM(rc))
                return rc;
            continue;
        }
        s->events[s->nevents++] = out;
    }
    return 0;
}

