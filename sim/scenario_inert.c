/* Settings inert in context (issue 25.8; docs/scenario-reference.md, "Settings
 * with no effect"): a strategic setting that the resolved scenario never lets act
 * (the chosen strategy ignores it, the lever is off everywhere, the price response
 * has no budget, a strategy has no budget) is warned about where it was given.
 * Decided on the resolved scenario: the base values, every design point, and any
 * draw or event that may change the governing setting. See scenario_int.h. */
#include "scenario_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The key node of dotted `path` in the nested mappings of `map`, or NULL. */
static const a5_yaml_node *in_sections(const a5_yaml_node *map, const char *path)
{
    char part[128];
    size_t l = strcspn(path, ".");
    if (!map || map->kind != A5_YAML_MAP || l >= sizeof part)
        return NULL;
    memcpy(part, path, l);
    part[l] = 0;
    const long i = a5_yaml_index(map, part);
    if (i < 0)
        return NULL;
    return path[l] ? in_sections(map->item[i], path + l + 1) : map->key[i];
}

/* The key node of `path` among a mapping's whole-path keys (sweep, uncertain). */
static const a5_yaml_node *as_key(const a5_yaml_node *map, const char *path)
{
    const long i = map && map->kind == A5_YAML_MAP ? a5_yaml_index(map, path) : -1;
    return i >= 0 ? map->key[i] : NULL;
}

/* Where `path` was given: in its section (us: {intel_lever: {lead: 3}}, --set
 * included), as a key of sweep, design ranges, uncertain or levers, in an event's set
 * or add, or as a column of the design file (its `file:` then); NULL when nowhere
 * (its default). */
static const a5_yaml_node *given(const a5_scenario *s, const a5_yaml_node *root,
                                 const char *path)
{
    const a5_yaml_node *n = in_sections(root, path);
    if (!n)
        n = as_key(a5_yaml_get(root, "sweep"), path);
    if (!n)
        n = as_key(a5_yaml_get(a5_yaml_get(root, "design"), "ranges"), path);
    if (!n)
        n = as_key(a5_yaml_get(root, "uncertain"), path);
    if (!n)
        n = as_key(a5_yaml_get(root, "levers"), path);
    const a5_yaml_node *ev = a5_yaml_get(root, "events");
    for (size_t e = 0; !n && ev && ev->kind == A5_YAML_SEQ && e < ev->n; e++) {
        n = as_key(a5_yaml_get(ev->item[e], "set"), path);
        if (!n)
            n = as_key(a5_yaml_get(ev->item[e], "add"), path);
    }
    const a5_yaml_node *file = a5_yaml_get(a5_yaml_get(root, "design"), "file");
    for (size_t v = 0; !n && file && v < s->nvaried; v++)
        if (strcmp(s->varied[v].path, path) == 0)
            n = file; /* a column of the design file */
    return n;
}

/* Whether an event sets `slot` at the first step before any step reads it
 * (a5_sc_set_at_start); with root, *where gets the key of its `set` (NULL if not
 * found). */
static int set_at_start(const a5_scenario *s, const a5_yaml_node *root, size_t slot,
                        const a5_yaml_node **where)
{
    size_t e;
    const a5_event_op *op = a5_sc_set_at_start(s, slot, &e);
    if (!op)
        return 0;
    const a5_yaml_node *evs = root ? a5_yaml_get(root, "events") : NULL;
    if (where)
        *where = evs && evs->kind == A5_YAML_SEQ && evs->n == s->nevents
                     ? as_key(a5_yaml_get(evs->item[e], "set"), op->target.path)
                     : NULL;
    return 1;
}

/* What a governing setting must be for a governed one to act. */
typedef enum { NONZERO, ZERO } cond;

static int fits(double v, cond c) { return c == NONZERO ? v != 0 : v == 0; }

/* Whether global `slot` may meet c in some replicate of s: its base value, a
 * design point's, an event that sets it; a draw, or an event that adds, may give
 * anything. The values for the start count only where no event sets the slot at
 * the first step. */
static int can(const a5_scenario *s, size_t slot, cond c)
{
    const int start = !set_at_start(s, NULL, slot, NULL);
    int varied = 0; /* then every point gives its own value, and the base acts nowhere */
    for (size_t v = 0; v < s->nvaried; v++)
        varied |= a5_target_covers(&s->varied[v], slot);
    if (start && !varied && fits(s->base[slot], c))
        return 1;
    for (size_t u = 0; start && u < s->nuncertain; u++)
        if (a5_target_covers(&s->uncertain[u].target, slot))
            return 1;
    for (size_t e = 0; e < s->nevents; e++)
        for (size_t o = 0; o < s->events[e].nops; o++) {
            const a5_event_op *op = &s->events[e].ops[o];
            if (a5_target_covers(&op->target, slot) &&
                (op->op == A5_OP_ADD || fits(op->value, c)))
                return 1;
        }
    for (size_t v = 0; start && v < s->nvaried; v++)
        if (a5_target_covers(&s->varied[v], slot))
            for (long p = 0; p < s->npoints; p++)
                if (fits(s->points[(size_t)p * s->nvaried + v], c))
                    return 1;
    return 0;
}

/* Warn at `at`, where `path` was given; a draw (a key of uncertain) is told that
 * it still moves the random stream. */
static void warn(a5_scenario *s, const a5_yaml_node *root, const a5_yaml_node *at,
                 const char *path, const char *why)
{
    const a5_yaml_node *u = a5_yaml_get(root, "uncertain");
    int draw = 0;
    for (size_t k = 0; u && u->kind == A5_YAML_MAP && k < u->n; k++)
        draw |= u->key[k] == at;
    a5_diag_add(&s->warnings, at->file, at->line, at->col, "'%s' %s%s", path, why,
                draw ? "; its draw still takes numbers from the random stream, so removing "
                       "the entry changes the draws after it"
                     : "");
}

/* Warn at every given path of `paths` (NULL-terminated) unless `matters`. */
static void rule(a5_scenario *s, const a5_yaml_node *root, const char *const *paths, int matters,
                 const char *why)
{
    for (int k = 0; !matters && paths[k]; k++) {
        const a5_yaml_node *at = given(s, root, paths[k]);
        if (at)
            warn(s, root, at, paths[k], why);
    }
}

/* output.record: a record that would hold the same value throughout. */
static void record_rules(a5_scenario *s, const a5_yaml_node *root, int us_budget, int cn_budget)
{
    const a5_yaml_node *rec = a5_yaml_get(a5_yaml_get(root, "output"), "record");
    for (size_t k = 0; rec && rec->kind == A5_YAML_SEQ && k < rec->n; k++) {
        const a5_yaml_node *at = rec->item[k];
        const char *t = at->value ? at->value : "", *why = NULL;
        if ((strcmp(t, "intel_status") == 0 || strcmp(t, "cum_downgrade") == 0) &&
            !can(s, A5_G_LEVER_DOWNGRADE, NONZERO))
            why = "would be 0 throughout: us.intel_lever.downgrade is 0 everywhere (the lever "
                  "is off)";
        else if (strcmp(t, "us_target") == 0 && !us_budget)
            why = "would be 0 throughout: no US budget anywhere (only uniform, pivotal and "
                  "wavering aim one, and only when us.budget is above 0)";
        else if (strcmp(t, "us_pressure") == 0 && s->store_full)
            why = "adds nothing: the full store keeps us_pressure already (per replicate and "
                  "step)";
        else if (strcmp(t, "china_target") == 0 && !cn_budget)
            why = "would be 0 throughout: no Chinese budget anywhere (only targeted and "
                  "deterrent aim one, and only when china.budget is above 0)";
        if (why)
            a5_diag_add(&s->warnings, at->file, at->line, at->col, "output.record '%s' %s", t, why);
    }
}

/* Warn at `at` (where `path` was given for the start) when an event at the first
 * step sets every slot of t (one slot: a global in its section); `others`: how
 * many other nations' entries the same holds for (one warning for them all). */
static void overwritten(a5_scenario *s, const a5_yaml_node *root, const a5_yaml_node *at,
                        const char *path, const size_t *slots, size_t nslots, size_t others)
{
    const a5_yaml_node *by = NULL;
    int all = at && nslots > 0;
    for (size_t q = 0; all && q < nslots; q++)
        all = set_at_start(s, root, slots[q], &by);
    if (!all)
        return;
    char why[512];
    if (by)
        snprintf(why, sizeof why,
                 "has no effect: the event at %s:%d:%d sets it at the first step, before any "
                 "step reads it (that value acts instead)",
                 by->file, by->line, by->col);
    else
        snprintf(why, sizeof why,
                 "has no effect: an event sets it at the first step, before any step reads it "
                 "(that value acts instead)");
    if (others > 0) { /* one warning for the entries of many nations */
        const size_t l = strlen(why);
        snprintf(why + l, sizeof why - l, "; the same holds for %zu other nations' entries",
                 others);
    }
    warn(s, root, at, path, why);
}

/* The start-value rule for what the lists give: each nation's attributes in its
 * entry of `nations:`, each `defaults:` attribute (for the nations that do not
 * give it) and each vendor's price. Returns A5_ENOMEM, or 0. */
static int listed_rules(a5_scenario *s, const a5_yaml_node *root)
{
    const a5_yaml_node *ns = a5_yaml_get(root, "nations"), *df = a5_yaml_get(root, "defaults");
    if (!ns || ns->kind != A5_YAML_SEQ || ns->n != (size_t)s->n)
        return 0;
    size_t *rest = a5_calloc((size_t)s->n, sizeof *rest);
    if (!rest)
        return A5_ENOMEM;
    char path[160];
    for (int a = 0; a < A5_N_COUNT; a++) {
        const char *attr = a5_param_nation[a].path;
        size_t nrest = 0, nrep = 0;
        int first = -1; /* the first nation whose entry's value is replaced */
        for (int i = 0; i < s->n; i++) {
            const size_t slot = a5_param_nslot(a, i, s->n);
            if (!a5_yaml_get(ns->item[i], attr))
                rest[nrest++] = slot;
            else if (set_at_start(s, NULL, slot, NULL)) {
                first = first < 0 ? i : first;
                nrep++;
            }
        }
        if (first >= 0) { /* at the value: a --set into the entry is located there */
            const size_t slot = a5_param_nslot(a, first, s->n);
            snprintf(path, sizeof path, "nations.%s.%s", s->codes[first], attr);
            overwritten(s, root, a5_yaml_get(ns->item[first], attr), path, &slot, 1, nrep - 1);
        }
        snprintf(path, sizeof path, "defaults.%s", attr);
        overwritten(s, root, as_key(df, attr), path, rest, nrest, 0);
    }
    free(rest);
    const a5_yaml_node *vs = a5_yaml_get(root, "vendors");
    for (int v = 0; vs && vs->kind == A5_YAML_SEQ && v < s->nvendors && (size_t)v < vs->n; v++) {
        const size_t slot = a5_param_vslot(v, s->n);
        snprintf(path, sizeof path, "vendors.%s.price", s->vendor_names[v]);
        overwritten(s, root, a5_yaml_get(vs->item[v], "price"), path, &slot, 1, 0);
    }
    return 0;
}

/* Values given for the start that an event known from the start sets at the
 * first step, before any step reads them: a global in its section (--set
 * included), and any path of sweep, design (its ranges, or a column of its file),
 * levers, uncertain or calibration.fit whose every slot is so set; and what the
 * lists give (listed_rules). (us.pressure, which a5_model_init reads before the
 * events, no event may change: it acts through the nations that follow it.)
 * Returns A5_ENOMEM, or 0. */
static int overwritten_rules(a5_sc_loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    if (s->nevents == 0)
        return 0;
    for (size_t g = 0; g < A5_G_COUNT; g++)
        overwritten(s, root, in_sections(root, a5_param_global[g].path), a5_param_global[g].path,
                    &g, 1, 0);
    const a5_yaml_node *design = a5_yaml_get(a5_yaml_get(root, "design"), "ranges");
    for (size_t v = 0; v < s->nvaried; v++) {
        const a5_target *t = &s->varied[v];
        const a5_yaml_node *at = as_key(a5_yaml_get(root, "sweep"), t->path);
        at = at ? at : as_key(design, t->path);
        at = at ? at : as_key(a5_yaml_get(root, "levers"), t->path);
        at = at ? at : as_key(a5_yaml_get(root, "uncertain"), t->path); /* robust: worlds */
        at = at ? at : a5_yaml_get(a5_yaml_get(root, "design"), "file"); /* a column of it */
        overwritten(s, root, at, t->path, t->slots, t->nslots, 0);
    }
    for (size_t u = 0; u < s->nuncertain; u++) {
        const a5_target *t = &s->uncertain[u].target;
        overwritten(s, root, as_key(a5_yaml_get(root, "uncertain"), t->path), t->path, t->slots,
                    t->nslots, 0);
    }
    if (listed_rules(s, root))
        return A5_ENOMEM;
    /* calibration.fit: what calibrate would fit (resolved again: the scenario keeps
     * the paths only) */
    const a5_yaml_node *fit = a5_yaml_get(a5_yaml_get(root, "calibration"), "fit");
    for (size_t k = 0; fit && fit->kind == A5_YAML_MAP && k < fit->n; k++) {
        a5_target t;
        const int rc = a5_sc_resolve(L, fit->key[k]->value, fit->key[k], A5_SC_VARY, &t);
        if (A5_SC_NOMEM(rc))
            return rc;
        if (rc)
            continue;
        overwritten(s, root, fit->key[k], t.path, t.slots, t.nslots, 0);
        a5_scenario_target_free(&t);
    }
    return 0;
}

int a5_sc_inert(a5_sc_loader *L, const a5_yaml_node *root)
{
    a5_scenario *s = L->s;
    if (overwritten_rules(L, root))
        return A5_ENOMEM;
    /* us.pressure acts only through the nations whose P_i(0) follows it (varied or
     * --set, a5_sc_pressure_unused refuses it) */
    const a5_yaml_node *up = in_sections(root, "us.pressure");
    if (up && a5_sc_pressure_unused(s))
        warn(s, root, up, "us.pressure",
             "has no effect: it only starts nations without their own us_pressure, and every "
             "nation has its own (given, drawn, varied or set at the first step)");
    /* Common random numbers pair the points of a sweep or design: one has none to pair. */
    const a5_yaml_node *cm = a5_yaml_get(a5_yaml_get(root, "seed"), "common");
    if (cm && s->common && s->npoints == 1)
        warn(s, root, cm, "seed.common",
             "(seed: {common: true}, or run --crn, which adds it as the last --set) has no "
             "effect: the scenario has one design point (common random numbers pair the "
             "points of a sweep or design)");
    const int us_budget = can(s, A5_G_US_STRATEGY, NONZERO), us_sched = can(s, A5_G_US_STRATEGY, ZERO);
    const int cn_budget = can(s, A5_G_CHINA_STRATEGY, NONZERO),
              cn_aggr = can(s, A5_G_CHINA_STRATEGY, ZERO);
    static const char *const usb[] = {"us.budget", "us.budget_growth", NULL};
    rule(s, root, usb, us_budget,
         "has no effect: us.strategy is schedule everywhere (uniform, pivotal and wavering spend the budget)");
    static const char *const use[] = {"us.escalation", NULL};
    rule(s, root, use, us_sched, "has no effect: us.strategy is never schedule (only schedule escalates)");
    static const char *const usg[] = {"us.budget_growth", NULL};
    rule(s, root, usg, !us_budget || can(s, A5_G_US_BUDGET, NONZERO), "has no effect: us.budget is 0 everywhere");
    static const char *const cnb[] = {"china.budget", NULL};
    rule(s, root, cnb, cn_budget,
         "has no effect: china.strategy is aggregate everywhere (targeted and deterrent spend the budget)");
    static const char *const cnt[] = {"china.targets", NULL};
    rule(s, root, cnt, cn_budget,
         "has no effect: china.strategy is aggregate everywhere (targeted and deterrent "
         "aim at the targets)");
    /* A nation's own china_target (or defaults'), as china.targets: only targeted
     * and deterrent aim at targets. */
    const a5_yaml_node *nl = a5_yaml_get(root, "nations"),
                       *dflt = a5_yaml_get(a5_yaml_get(root, "defaults"), "china_target");
    static const char cn_why[] = "has no effect: china.strategy is aggregate everywhere "
                                 "(targeted and deterrent aim at the targets)";
    int by_default = 0; /* a nation a target by defaults' china_target */
    for (int i = 0; !cn_budget && nl && nl->kind == A5_YAML_SEQ && (size_t)i < nl->n && i < s->n;
         i++) {
        const a5_yaml_node *own = a5_yaml_get(nl->item[i], "china_target");
        if (s->base[a5_param_nslot(A5_N_CHINA_TARGET, i, s->n)] == 0)
            continue;
        char path[96];
        snprintf(path, sizeof path, "nations.%s.china_target", s->codes[i]);
        if (own)
            warn(s, root, own, path, cn_why);
        by_default |= !own;
    }
    if (by_default && dflt) /* (china.targets, warned above, may have set it instead) */
        warn(s, root, dflt, "defaults.china_target", cn_why);
    static const char *const cne[] = {"china.escalation", NULL};
    rule(s, root, cne, cn_aggr, "has no effect: china.strategy is never aggregate (only aggregate escalates)");
    static const char *const lever[] = {"us.intel_lever.credibility", "us.intel_lever.lead",
                                        "us.intel_lever.duration",
                                        "us.intel_lever.credibility_loss",
                                        "us.intel_lever.threats_per_step",
                                        "us.intel_lever.credibility_gain",
                                        "us.intel_lever.credibility_scope",
                                        "us.intel_lever.us_cost", NULL};
    rule(s, root, lever, can(s, A5_G_LEVER_DOWNGRADE, NONZERO),
         "has no effect: us.intel_lever.downgrade is 0 everywhere (the lever is off)");
    static const char *const usc[] = {"us.intel_lever.us_cost", NULL};
    rule(s, root, usc, us_budget && can(s, A5_G_US_BUDGET, NONZERO),
         "has no effect: no US pressure budget anywhere (a downgrade's cost comes out of "
         "the us.budget of uniform, pivotal and wavering)");
    static const char *const usr[] = {"us.react", NULL};
    rule(s, root, usr, us_budget && can(s, A5_G_US_BUDGET, NONZERO),
         "has no effect: no US pressure budget anywhere (us.react moves a share of the "
         "us.budget of uniform, pivotal and wavering)");
    static const char *const cnr[] = {"china.react", NULL};
    rule(s, root, cnr, cn_budget && can(s, A5_G_CHINA_BUDGET, NONZERO),
         "has no effect: no Chinese retaliation budget anywhere (china.react moves a share "
         "of the china.budget of targeted and deterrent)");
    static const char *const antd[] = {"decision.anticipation.discount", NULL};
    rule(s, root, antd, can(s, A5_G_ANT_HORIZON, NONZERO),
         "has no effect: decision.anticipation.horizon is 0 everywhere (nations are myopic)");
    static const char *const anth[] = {"decision.anticipation.horizon", NULL};
    rule(s, root, anth, can(s, A5_G_W_US, NONZERO),
         "has no effect: decision.weights.us is 0 everywhere (the anticipated escalation is "
         "weighed by it)");
    /* The timing terms (the windows' boost, the attention's decay) need something to act on. */
    int cells = 0;
    for (size_t c = 0; s->window && !cells && c < (size_t)s->steps * (size_t)s->n; c++)
        cells = s->window[c];
    static const char *const wb[] = {"windows.hazard_boost", NULL};
    rule(s, root, wb, !s->window || cells,
         "has no effect: no window of the windows file falls within the run");
    static const char *const ad[] = {"attention.decay", NULL};
    rule(s, root, ad, s->nattention > 0, "has no effect: there are no attention events");
    static const char *const scope[] = {"us.intel_lever.credibility_scope", NULL};
    rule(s, root, scope, can(s, A5_G_LEVER_LOSS, NONZERO) || can(s, A5_G_LEVER_GAIN, NONZERO),
         "has no effect: credibility_loss and credibility_gain are 0 everywhere (credibility "
         "never moves, the world's or a target's)");
    static const char *const pb[] = {"china.price_budget", NULL};
    rule(s, root, pb, can(s, A5_G_PRICE_RESPONSE, NONZERO),
         "has no effect: china.price_response is 0 everywhere (no discount is offered)");
    static const char *const pr[] = {"china.price_response", NULL};
    rule(s, root, pr, can(s, A5_G_PRICE_BUDGET, NONZERO),
         "has no effect: china.price_budget is 0 everywhere (no discount is offered)");
    /* A strategy with no budget: no pressure (retaliation beyond the base) at all. */
    static const char *const uss[] = {"us.strategy", NULL};
    rule(s, root, uss, !us_budget || can(s, A5_G_US_BUDGET, NONZERO),
         "is a budget strategy but us.budget is 0 everywhere: it adds no pressure (the same "
         "as schedule with us.escalation 0); give us.budget");
    record_rules(s, root, us_budget && can(s, A5_G_US_BUDGET, NONZERO),
                 cn_budget && can(s, A5_G_CHINA_BUDGET, NONZERO));
    static const char *const cns[] = {"china.strategy", NULL};
    rule(s, root, cns, !cn_budget || can(s, A5_G_CHINA_BUDGET, NONZERO),
         "is a budget strategy but china.budget is 0 everywhere: it retaliates with "
         "china.retaliation alone (the same as aggregate with china.escalation 0); give "
         "china.budget");
    return 0;
}
