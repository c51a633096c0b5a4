/* Dotted parameter paths (us.escalation, nations.GBR.threat, vendors.Huawei.price)
 * resolved to slots of the parameter vector. See scenario_int.h. */
#include "scenario_int.h"

#include <stdlib.h>
#include <string.h>

/* Candidate list of every global path, for suggestions. */
static const char *const *global_paths(void)
{
    static const char *v[A5_G_COUNT];
    for (int i = 0; i < A5_G_COUNT; i++)
        v[i] = a5_param_global[i].path;
    return v;
}

const char *const *a5_sc_nation_attrs(void)
{
    static const char *v[A5_N_COUNT];
    for (int i = 0; i < A5_N_COUNT; i++)
        v[i] = a5_param_nation[i].path;
    return v;
}

int a5_target_covers(const a5_target *t, size_t slot)
{
    for (size_t i = 0; i < t->nslots; i++)
        if (t->slots[i] == slot)
            return 1;
    return 0;
}

const a5_event_op *a5_sc_set_at_start(const a5_scenario *s, size_t slot, size_t *event)
{
    for (size_t e = 0; e < s->nevents; e++) {
        const a5_event *ev = &s->events[e];
        const int first = ev->at == 0 || (ev->at < 0 && ev->hazard >= 1);
        for (size_t o = 0; first && ev->known <= 0 && o < ev->nops; o++)
            if (ev->ops[o].op == A5_OP_SET && a5_target_covers(&ev->ops[o].target, slot)) {
                *event = e;
                return &ev->ops[o];
            }
    }
    return NULL;
}

int a5_scenario_replaced_at_start(const a5_scenario *s, const a5_target *t)
{
    size_t e;
    int all = t->nslots > 0;
    for (size_t q = 0; all && q < t->nslots; q++)
        all = a5_sc_set_at_start(s, t->slots[q], &e) != NULL;
    return all;
}

/* Is nation i's starting pressure given some other way than following us.pressure:
 * drawn (uncertain), varied (sweep, design) or set by an event at the first step
 * (a5_sc_set_at_start)? */
static int own_pressure(const a5_scenario *s, int i)
{
    size_t slot = a5_param_nslot(A5_N_US_PRESSURE, i, s->n);
    if (!s->pressure_default[i])
        return 1;
    for (size_t u = 0; u < s->nuncertain; u++)
        if (a5_target_covers(&s->uncertain[u].target, slot))
            return 1;
    for (size_t v = 0; v < s->nvaried; v++)
        if (a5_target_covers(&s->varied[v], slot))
            return 1;
    size_t e;
    return a5_sc_set_at_start(s, slot, &e) != NULL;
}

int a5_sc_pressure_unused(const a5_scenario *s)
{
    if (!s->pressure_default || s->n == 0)
        return 0;
    for (int i = 0; i < s->n; i++)
        if (!own_pressure(s, i))
            return 0;
    return 1;
}

int a5_sc_resolve(a5_sc_loader *L, const char *path, const a5_yaml_node *node, int mode,
                  a5_target *t)
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
            A5_SC_ERR(L, node, "path '%s' names nothing: expected %s", path,
                      is_nations ? "nations.CODE.ATTRIBUTE or nations.*.ATTRIBUTE"
                                 : "vendors.NAME.price");
            return A5_ESCENARIO;
        }
        char who[128];
        size_t wl = (size_t)(dot2 - rest);
        if (wl >= sizeof who)
            wl = sizeof who - 1;
        memcpy(who, rest, wl);
        who[wl] = 0;
        const char *attr = dot2 + 1;
        if (is_vendors) {
            int v = a5_sc_find_name(s->vendor_names, s->nvendors, who);
            if (v < 0) {
                A5_SC_ERR(L, node, "unknown vendor '%s' in path '%s'%s", who, path,
                          a5_sc_hint(h, sizeof h, who, (const char *const *)s->vendor_names,
                                     (size_t)s->nvendors));
                return A5_ESCENARIO;
            }
            if (strcmp(attr, "price") != 0) {
                static const char *const pr[] = {"price"};
                A5_SC_ERR(L, node, "path '%s' names nothing: a vendor's only number is 'price'%s",
                          path, a5_sc_hint(h, sizeof h, attr, pr, 1));
                return A5_ESCENARIO;
            }
            t->param = &a5_param_vendor_price;
            t->nslots = 1;
            t->slots = a5_malloc(sizeof *t->slots);
            if (!t->slots)
                return A5_ENOMEM;
            t->slots[0] = a5_param_vslot(v, s->n);
        } else {
            int a, who_i = -1;
            const a5_param *p = a5_param_find_nation(attr, &a);
            int bad = 0;
            if (strcmp(who, "*") != 0) {
                who_i = a5_sc_find_name(s->codes, s->n, who);
                if (who_i < 0) {
                    A5_SC_ERR(
                        L, node, "unknown nation '%s' in path '%s'%s", who, path,
                        a5_sc_hint(h, sizeof h, who, (const char *const *)s->codes, (size_t)s->n));
                    bad = 1;
                }
            }
            if (!p) {
                A5_SC_ERR(L, node, "path '%s' names nothing: '%s' is not a nation attribute%s",
                          path, attr,
                          a5_sc_hint(h, sizeof h, attr, a5_sc_nation_attrs(), A5_N_COUNT));
                return A5_ESCENARIO;
            }
            if (bad)
                return A5_ESCENARIO;
            t->param = p;
            t->nslots = who_i < 0 ? (size_t)s->n : 1;
            t->slots = a5_malloc(t->nslots * sizeof *t->slots);
            if (!t->slots)
                return A5_ENOMEM;
            for (size_t i = 0; i < t->nslots; i++)
                t->slots[i] = a5_param_nslot(a, who_i < 0 ? (int)i : who_i, s->n);
        }
    } else {
        int g;
        const a5_param *p = a5_param_find_global(path, &g);
        if (!p) {
            if (a5_param_find_run(path, NULL))
                A5_SC_ERR(L, node,
                          "'%s' is a whole-run setting: it can be changed with --set but "
                          "not varied",
                          path);
            else
                A5_SC_ERR(L, node, "path '%s' names nothing%s", path,
                          a5_sc_hint(h, sizeof h, path, global_paths(), A5_G_COUNT));
            return A5_ESCENARIO;
        }
        t->param = p;
        t->nslots = 1;
        t->slots = a5_malloc(sizeof *t->slots);
        if (!t->slots)
            return A5_ENOMEM;
        t->slots[0] = (size_t)g;
    }
    int pressure = (mode & A5_SC_VARY) && !(mode & A5_SC_EVENT) &&
                   t->param == &a5_param_global[A5_G_US_PRESSURE];
    if (pressure && !L->pressure_file[0]) { /* checked again on the whole scenario */
        snprintf(L->pressure_file, sizeof L->pressure_file, "%s", node->file);
        L->pressure_line = node->line;
        L->pressure_col = node->col;
    }
    if (pressure && a5_sc_pressure_unused(s)) {
        A5_SC_ERR(L, node, A5_SC_PRESSURE_UNUSED);
        free(t->slots);
        t->slots = NULL;
        return A5_ESCENARIO;
    }
    int ok_policy = (mode & A5_SC_EVENT) && t->param->type == A5_T_POLICY;
    if ((mode & A5_SC_VARY) && !(t->param->flags & A5_PF_VARY) && !ok_policy) {
        A5_SC_ERR(L, node, "'%s' cannot be %s", path,
                  (mode & A5_SC_EVENT) ? "changed by an event" : "varied (it is not a number)");
        free(t->slots);
        t->slots = NULL;
        return A5_ESCENARIO;
    }
    t->path = a5_strdup(path);
    if (!t->path) {
        free(t->slots);
        t->slots = NULL;
        return A5_ENOMEM;
    }
    return 0;
}

/* What a timing parameter needs to act on (scenario_int.h); here, below the files
 * that load timing and events, so that the loader's files call one way only. */
const char *a5_sc_timing_needs(const a5_scenario *s, size_t slot)
{
    if (slot == A5_G_WINDOW_BOOST && !s->window)
        return "windows.file";
    if ((slot == A5_G_ATTENTION_WEIGHT || slot == A5_G_ATTENTION_DECAY) && !s->nattention)
        return "attention.events";
    return NULL;
}

int a5_scenario_resolve(const a5_scenario *s, const char *path, a5_target *t, char *err,
                        size_t errlen)
{
    a5_diag d = {0};
    a5_sc_loader L;
    memset(&L, 0, sizeof L);
    L.d = &d;
    L.s = (a5_scenario *)s; /* resolve only reads the scenario */
    a5_yaml_node *where = a5_yaml_scalar(path, 1, "path", 1, 1);
    if (!where)
        return A5_ENOMEM;
    int rc = a5_sc_resolve(&L, path, where, A5_SC_VARY, t);
    a5_yaml_free(where);
    if (rc) {
        snprintf(err, errlen, "%s", rc == A5_ENOMEM || !d.n ? "out of memory" : d.v[0].msg);
    }
    a5_diag_free(&d);
    const char *need = rc ? NULL : a5_sc_timing_needs(s, t->nslots == 1 ? t->slots[0] : A5_G_COUNT);
    if (need) { /* calibrate --fit: a parameter that would change nothing */
        snprintf(err, errlen, A5_SC_TIMING_UNUSED, path, need);
        a5_scenario_target_free(t);
        rc = A5_ESCENARIO;
    }
    return rc;
}

void a5_scenario_target_free(a5_target *t)
{
    free(t->path);
    free(t->slots);
    t->path = NULL;
    t->slots = NULL;
}
