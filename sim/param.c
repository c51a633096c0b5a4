/* The parameter table (see a5_param.h): defaults, ranges, units and docs. */
#include "a5_param.h"

#include "a5_error.h"

#include <math.h>
#include <string.h>

#define INF HUGE_VAL
#define V A5_PF_VARY
/* Weights and other open-ended numbers are bounded so that every utility and every
 * softmax argument stays finite in double precision. */
#define BIG 1e6

const a5_param a5_param_global[A5_G_COUNT] = {
    [A5_G_RESTRICT_CAP] = {"policy.restrict_cap", A5_T_REAL, 0.35, 0, 1, 0, V, "share",
                           "kappa: highest high-risk share of the radio network a RESTRICT policy allows"},
    [A5_G_RESTRICT_COMPLIANCE] = {"policy.restrict_compliance", A5_T_REAL, 0.5, 0, 1, 0, V, "1",
                                  "psi: how far RESTRICT counts as complying with the US (BAN is 1, OPEN 0)"},
    [A5_G_PHASE_OUT_STEPS] = {"policy.phase_out_steps", A5_T_INT, 12, 1, 10000, 0, V, "steps",
                              "L: steps over which equipment above a new cap is removed"},
    [A5_G_RATIONALITY] = {"decision.rationality", A5_T_REAL, 4.0, 0, BIG, 0, V, "1/utility",
                          "lambda: softmax sharpness of policy choice (0: uniform at random)"},
    [A5_G_W_COST] = {"decision.weights.cost", A5_T_REAL, 1, -BIG, BIG, 0, V, "1",
                     "w_cost: weight of replacement and forgone-discount cost"},
    [A5_G_W_RISK] = {"decision.weights.risk", A5_T_REAL, 1, -BIG, BIG, 0, V, "1",
                     "w_risk: weight of security risk"},
    [A5_G_W_US] = {"decision.weights.us", A5_T_REAL, 1, -BIG, BIG, 0, V, "1",
                   "w_us: weight of US pressure and intelligence-sharing threats"},
    [A5_G_W_CHINA] = {"decision.weights.china", A5_T_REAL, 1, -BIG, BIG, 0, V, "1",
                      "w_china: weight of Chinese economic retaliation"},
    [A5_G_W_PEER] = {"decision.weights.peer", A5_T_REAL, 1, -BIG, BIG, 0, V, "1",
                     "w_peer: weight of doing what bloc partners do"},
    [A5_G_W_INERTIA] = {"decision.weights.inertia", A5_T_REAL, 0.5, -BIG, BIG, 0, V, "1",
                        "w_inertia: bonus for keeping the current policy"},
    [A5_G_W_HOME] = {"decision.weights.home", A5_T_REAL, 0.2, -BIG, BIG, 0, V, "1",
                     "w_home: bonus for compliance when a trusted vendor is domestic"},
    [A5_G_RENEWAL] = {"market.renewal", A5_T_REAL, 0.05, 0, 1, 0, V, "1/step",
                      "phi_b: share of the installed radio network renewed each step"},
    [A5_G_PRICE_ELASTICITY] = {"market.price_elasticity", A5_T_REAL, 5, 0, BIG, 0, V, "1",
                               "gamma: operators' sensitivity of vendor choice to price and risk"},
    [A5_G_OPERATOR_RISK_WEIGHT] = {"market.operator_risk_weight", A5_T_REAL, 1, 0, BIG, 0, V, "1",
                                   "omega: weight operators give to the nation's perceived threat"},
    [A5_G_REPLACE_COST] = {"market.replace_cost", A5_T_REAL, 1, 0, BIG, 0, V, "1",
                           "zeta: cost of ripping out installed equipment, per unit share"},
    [A5_G_RAN_WEIGHT] = {"risk.ran_weight", A5_T_REAL, 0.5, 0, BIG, 0, V, "1",
                         "nu: security risk of high-risk radio equipment relative to the core"},
    [A5_G_SUPPLY_RISK] = {"risk.supply_risk", A5_T_REAL, 0, 0, 1, 0, V, "1",
                          "sigma(0): risk that the high-risk vendor cannot supply (e.g. chip export controls)"},
    [A5_G_US_PRESSURE] = {"us.pressure", A5_T_REAL, 0.2, 0, BIG, 0, V, "1",
                          "default initial US pressure P_i(0) for nations that do not set us_pressure"},
    [A5_G_US_ESCALATION] = {"us.escalation", A5_T_REAL, 0.02, 0, BIG, 0, V, "1/step",
                            "added to P_i each step, times (1 - compliance)"},
    [A5_G_US_MAX_PRESSURE] = {"us.max_pressure", A5_T_REAL, 1, 0, BIG, 0, V, "1",
                              "ceiling on US pressure"},
    [A5_G_INTEL_THREAT] = {"us.intel_threat", A5_T_REAL, 0, 0, 1, 0, V, "1",
                           "theta(0): credibility of a US threat to curtail intelligence sharing"},
    [A5_G_CHINA_RETALIATION] = {"china.retaliation", A5_T_REAL, 0.2, 0, BIG, 0, V, "1",
                                "base Chinese retaliation against compliance with the US"},
    [A5_G_CHINA_ESCALATION] = {"china.escalation", A5_T_REAL, 0.3, 0, BIG, 0, V, "1",
                               "retaliation added per unit of mean compliance across nations"},
    [A5_G_BASE_TIE] = {"peers.base_tie", A5_T_REAL, 0, 0, BIG, 0, V, "1",
                       "tie between any two nations on top of one per shared bloc"},
    [A5_G_US_STRATEGY] = {"us.strategy", A5_T_CHOICE, A5_US_SCHEDULE, 0, A5_US_COUNT - 1, 0, V,
                          "schedule|uniform|pivotal|wavering",
                          "how US pressure is spread: schedule (escalation), or a budget per step "
                          "spread uniformly, on the pivotal nation or on the waverer"},
    [A5_G_US_BUDGET] = {"us.budget", A5_T_REAL, 0, 0, BIG, 0, V, "1/step",
                        "B_0: US pressure budget per step (strategies other than schedule)"},
    [A5_G_US_BUDGET_GROWTH] = {"us.budget_growth", A5_T_REAL, 0, -1, 10, 0, V, "1/step",
                               "gamma_US: budget B(t) = B_0 (1 + gamma_US)^t"},
    [A5_G_LEVER_CREDIBILITY] = {"us.intel_lever.credibility", A5_T_REAL, 0.5, 0, 1, 0, V, "1",
                                "theta_L(0): chance a due threat to downgrade intelligence "
                                "sharing is carried out"},
    [A5_G_LEVER_DOWNGRADE] = {"us.intel_lever.downgrade", A5_T_REAL, 0, 0, 1, 0, V, "1",
                              "delta: share of intelligence withheld by a downgrade "
                              "(0: lever off)"},
    [A5_G_LEVER_LEAD] = {"us.intel_lever.lead", A5_T_INT, 2, 1, 10000, 0, V, "steps",
                         "T_W: steps from a threat to the step it falls due"},
    [A5_G_LEVER_DURATION] = {"us.intel_lever.duration", A5_T_INT, 4, 1, 10000, 0, V, "steps",
                             "T_D: steps a carried-out downgrade lasts"},
    [A5_G_LEVER_LOSS] = {"us.intel_lever.credibility_loss", A5_T_REAL, 0.1, 0, 1, 0, V, "1",
                         "l: credibility lost per threat not carried out (with everyone, or "
                         "with its target under credibility_scope nation)"},
    [A5_G_LEVER_THREATS] = {"us.intel_lever.threats_per_step", A5_T_INT, 0, 0, 10000, 0, V,
                            "1/step",
                            "M: most new threats per step, to the most dependent OPEN nations "
                            "(0: every OPEN nation not yet threatened)"},
    [A5_G_LEVER_GAIN] = {"us.intel_lever.credibility_gain", A5_T_REAL, 0, 0, 1, 0, V, "1",
                         "g_L: credibility gained per threat carried out"},
    [A5_G_LEVER_SCOPE] = {"us.intel_lever.credibility_scope", A5_T_CHOICE, A5_SCOPE_WORLD, 0,
                          A5_SCOPE_COUNT - 1, 0, V, "world|nation",
                          "whose credibility a threat's outcome moves: the world's (one "
                          "theta_L) or its target's alone (theta_i = theta_L + o_i)"},
    [A5_G_LEVER_US_COST] = {"us.intel_lever.us_cost", A5_T_REAL, 0, 0, BIG, 0, V, "1",
                            "kappa: pressure budget the US gives up per step per downgrade in "
                            "force, times delta d_i (sharing runs both ways)"},
    [A5_G_CHINA_STRATEGY] = {"china.strategy", A5_T_CHOICE, A5_CN_AGGREGATE, 0, A5_CN_COUNT - 1,
                             0, V, "aggregate|targeted|deterrent",
                             "how retaliation is aimed: aggregate (escalation with mean "
                             "compliance), targeted (a budget shared by the compliers), "
                             "deterrent (a budget on the waverer)"},
    [A5_G_CHINA_BUDGET] = {"china.budget", A5_T_REAL, 0, 0, BIG, 0, V, "1",
                           "B_CN: retaliation budget of the targeted and deterrent strategies"},
    [A5_G_PRICE_RESPONSE] = {"china.price_response", A5_T_REAL, 0, 0, 1, 0, V, "1",
                             "pi: largest discount on the high-risk price offered to one nation "
                             "(0: off)"},
    [A5_G_PRICE_BUDGET] = {"china.price_budget", A5_T_REAL, 0, 0, BIG, 0, V, "1/step",
                           "Pi: discount budget per step, spread by installed high-risk share"},
    [A5_G_INTEL_STANDING] = {"peers.intel_standing", A5_T_REAL, 0, 0, BIG, 0, V, "1",
                             "eta: an early mover's influence is g_j (1 + eta d_j)"},
    [A5_G_US_REACT] = {"us.react", A5_T_REAL, 0, 0, 1, 0, V, "1",
                       "W_US: share of the US budget moved toward the nations China "
                       "retaliated against last step (0: no reaction)"},
    [A5_G_CHINA_REACT] = {"china.react", A5_T_REAL, 0, 0, 1, 0, V, "1",
                          "W_CN: share of China's budget moved toward the nations the US "
                          "pressed last step (0: no reaction)"},
    [A5_G_ANT_HORIZON] = {"decision.anticipation.horizon", A5_T_INT, 0, 0, 1000, 0, V, "steps",
                          "H: steps of US escalation a nation anticipates (0: myopic)"},
    [A5_G_ANT_DISCOUNT] = {"decision.anticipation.discount", A5_T_REAL, 1, 0, 1, 0, V,
                           "1/step", "d: discount per step of the anticipated escalation"},
    [A5_G_WINDOW_BOOST] = {"windows.hazard_boost", A5_T_REAL, 0, 0, 1, 0, V, "1",
                           "beta_W: a nation in one of its windows (windows.file) reviews with "
                           "1 - (1 - rho_i)(1 - beta_W) (0: off)"},
    [A5_G_ATTENTION_WEIGHT] = {"attention.weight", A5_T_REAL, 0, 0, BIG, 0, V, "1",
                               "w_A: attention a(t) = min(1, w_A sum_e S_e delta_A^(t - t_e)) "
                               "raises every review hazard (0: off)"},
    [A5_G_ATTENTION_DECAY] = {"attention.decay", A5_T_REAL, 0.5, 0, 1, 0, V, "1/step",
                              "delta_A: share of an attention event's salience left one step on"},
    [A5_G_REVERSAL_COST] = {"policy.reversal_cost", A5_T_REAL, 0, 0, BIG, 0, V, "1",
                            "w_rev: a laxer policy costs w_rev zeta b_i V_i, V_i the high-risk "
                            "share removed since the current policy took force (0: off)"},
#ifdef A5_MODEL_EXTENSION_TEST /* docs/extending.md's example; the test build only */
    [A5_G_W_TECH] = {"decision.weights.tech", A5_T_REAL, 0, -BIG, BIG, 0, V, "1",
                     "w_tech: weight of the domestic tech industry's stake in complying"},
    [A5_G_W_FIRST] = {"decision.weights.first_mover", A5_T_REAL, 0, 0, BIG, 0, V, "1",
                      "w_first: cost of banning while few allies ban"},
#endif
};

const a5_param a5_param_nation[A5_N_COUNT] = {
    [A5_N_INTEL] = {"intel", A5_T_REAL, 0.5, 0, 1, 0, V, "1",
                    "d_i: dependence on US intelligence sharing"},
    [A5_N_US_TIES] = {"us_ties", A5_T_REAL, 0.5, 0, 1, 0, V, "1",
                      "a_i: security and economic leverage the US holds"},
    [A5_N_CHINA_TRADE] = {"china_trade", A5_T_REAL, 0.1, 0, 1, 0, V, "1",
                          "c_i: exposure to Chinese economic retaliation"},
    [A5_N_COST_SENSITIVITY] = {"cost_sensitivity", A5_T_REAL, 0.5, 0, 1, 0, V, "1",
                               "b_i: weight the nation puts on network cost"},
    [A5_N_MITIGATION] = {"mitigation", A5_T_REAL, 0, 0, 1, 0, V, "1",
                         "m_i: technical capacity to contain vendor risk"},
    [A5_N_THREAT] = {"threat", A5_T_REAL, 0.5, 0, 1, 0, V, "1",
                     "r_i: perceived threat of espionage or sabotage"},
    [A5_N_INFLUENCE] = {"influence", A5_T_REAL, 1, 0, BIG, 0, V, "1",
                        "g_i: weight of this nation in its peers' decisions"},
    [A5_N_REVIEW_RATE] = {"review_rate", A5_T_REAL, 0.25, 0, 1, 0, V, "1/step",
                          "rho_i: chance per step of reconsidering policy"},
    [A5_N_HOME_VENDOR] = {"home_vendor", A5_T_BOOL, 0, 0, 1, 0, 0, "flag",
                          "a trusted vendor is domestic"},
    [A5_N_CHINA_TARGET] = {"china_target", A5_T_BOOL, 0, 0, 1, 0, V, "flag",
                           "named target of China's targeted and deterrent strategies (also "
                           "`china.targets: [CODE, ...]`); none named: every nation is one"},
#ifdef A5_MODEL_EXTENSION_TEST /* docs/extending.md's example; the test build only */
    [A5_N_TECH] = {"tech", A5_T_REAL, 0, 0, 1, 0, V, "1",
                   "t_i: exposure of the domestic tech industry to Chinese supply chains"},
#endif
    [A5_N_POLICY] = {"policy", A5_T_POLICY, 0, 0, 2, 0, 0, "open|restrict|ban",
                     "s_i(0): policy at step 0 (events may force it)"},
    [A5_N_HIGH_RISK_SHARE] = {"high_risk_share", A5_T_REAL, 0, 0, 1, 0, V, "share",
                              "h_i(0): installed high-risk share of the radio network"},
    [A5_N_US_PRESSURE] = {"us_pressure", A5_T_REAL, NAN, 0, BIG, 0, V, "1",
                          "P_i(0): US pressure on this nation (default: us.pressure)"},
};

const a5_param a5_param_run[A5_S_COUNT] = {
    [A5_S_NAME] = {"name", A5_T_STRING, 0, 0, 0, 0, A5_PF_STRUCT, "", "short scenario name"},
    [A5_S_DESCRIPTION] = {"description", A5_T_STRING, 0, 0, 0, 0, A5_PF_STRUCT, "", "free text"},
    [A5_S_START] = {"start", A5_T_STRING, 0, 0, 0, 0, A5_PF_STRUCT, "YYYYQn",
                    "label of step 0 (quarters); default 2019Q1; the run within 1678Q1 .. 2261Q4"},
    [A5_S_STEPS] = {"steps", A5_T_INT, 40, 1, 32767, 0, A5_PF_STRUCT, "steps",
                    "number of steps (quarters) simulated"},
    [A5_S_REPLICATES] = {"replicates", A5_T_INT, 100, 1, 1e9, 0, A5_PF_STRUCT, "1",
                         "Monte Carlo replicates per design point"},
    [A5_S_SEED] = {"seed", A5_T_INT, 1, 0, 9007199254740991.0, 0, A5_PF_STRUCT, "1",
                   "base of every random stream (stream = (seed, point, replicate)); "
                   "also `seed: {value: N, common: BOOL}`"},
    [A5_S_SEED_COMMON] = {"seed.common", A5_T_BOOL, 0, 0, 1, 0, A5_PF_STRUCT, "-",
                          "common random numbers: every design point's replicate r uses "
                          "stream (seed, 0, r), so differences between points are paired "
                          "(`run --crn`)"},
    [A5_S_STORE] = {"output.store", A5_T_STORE, 0, 0, 0, 0, A5_PF_STRUCT, "full|summary|outcomes",
                    "full keeps per-replicate step arrays; summary drops them; outcomes keeps only "
                    "the scenario's outcomes (and records), no per-replicate finals or per-point "
                    "aggregates"},
    [A5_S_RECORD] = {"output.record", A5_T_STRING, 0, 0, 0, 0, A5_PF_STRUCT, "-",
                     "records to keep in any store, a list of: us_pressure, "
                     "intel_status, china_retaliation, us_target, china_target (per step); "
                     "cum_retaliation, cum_downgrade (realised costs, per replicate) "
                     "(docs/results.md)"},
};

const a5_param a5_param_vendor_price = {"price", A5_T_REAL, 1, 0, BIG, 1, V, "1",
                                        "unit price of the vendor's radio equipment"};

/* The entry of table[0 .. n) named path (its index into *index), or NULL. */
static const a5_param *find_in(const a5_param *table, int n, const char *path, int *index)
{
    for (int i = 0; i < n; i++)
        if (strcmp(table[i].path, path) == 0) {
            if (index)
                *index = i;
            return &table[i];
        }
    return NULL;
}

const a5_param *a5_param_find_global(const char *path, int *slot)
{
    return find_in(a5_param_global, A5_G_COUNT, path, slot);
}

const a5_param *a5_param_find_nation(const char *name, int *attr)
{
    return find_in(a5_param_nation, A5_N_COUNT, name, attr);
}

const a5_param *a5_param_find_run(const char *path, int *which)
{
    return find_in(a5_param_run, A5_S_COUNT, path, which);
}

static void fmt_num(char *buf, size_t len, double v)
{
    if (v == HUGE_VAL)
        snprintf(buf, len, "inf");
    else if (v == -HUGE_VAL)
        snprintf(buf, len, "-inf");
    else
        snprintf(buf, len, "%.15g", v);
}

int a5_param_check(const a5_param *p, double v, char *buf, size_t len)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "must be a finite number");
        return -1;
    }
    if (p->type == A5_T_INT && v != floor(v)) {
        snprintf(buf, len, "must be a whole number");
        return -1;
    }
    int bad = p->lo_open ? !(v > p->lo) : !(v >= p->lo);
    if (bad || !(v <= p->hi)) {
        char lo[32], hi[32];
        fmt_num(lo, sizeof lo, p->lo);
        fmt_num(hi, sizeof hi, p->hi);
        snprintf(buf, len, "must be in %s%s, %s]", p->lo_open ? "(" : "[", lo, hi);
        return -1;
    }
    return 0;
}

double a5_param_clamp(const a5_param *p, double v)
{
    if (v < p->lo)
        v = p->lo;
    if (v > p->hi)
        v = p->hi;
    if (p->type == A5_T_INT || p->type == A5_T_POLICY || p->type == A5_T_BOOL ||
        p->type == A5_T_CHOICE)
        v = floor(v + 0.5);
    return v;
}

static const char *const policy_names[3] = {"open", "restrict", "ban"};

int a5_policy_parse(const char *s)
{
    for (int k = 0; k < 3; k++)
        if (strcmp(s, policy_names[k]) == 0)
            return k;
    return -1;
}

const char *a5_policy_name(int k) { return (k >= 0 && k < 3) ? policy_names[k] : "?"; }

static const char *const us_strategies[A5_US_COUNT] = {"schedule", "uniform", "pivotal",
                                                       "wavering"};
static const char *const cn_strategies[A5_CN_COUNT] = {"aggregate", "targeted", "deterrent"};

static const char *const lever_scopes[A5_SCOPE_COUNT] = {"world", "nation"};

const char *const *a5_param_choices(const a5_param *p, int *n)
{
    if (p == &a5_param_global[A5_G_US_STRATEGY]) {
        *n = A5_US_COUNT;
        return us_strategies;
    }
    if (p == &a5_param_global[A5_G_CHINA_STRATEGY]) {
        *n = A5_CN_COUNT;
        return cn_strategies;
    }
    if (p == &a5_param_global[A5_G_LEVER_SCOPE]) {
        *n = A5_SCOPE_COUNT;
        return lever_scopes;
    }
    *n = 0;
    return NULL;
}

int a5_param_choice_parse(const a5_param *p, const char *name)
{
    int n;
    const char *const *names = a5_param_choices(p, &n);
    for (int k = 0; k < n; k++)
        if (strcmp(name, names[k]) == 0)
            return k;
    return -1;
}

static const char *type_name(const a5_param *p)
{
    switch (p->type) {
    case A5_T_REAL: return "number";
    case A5_T_INT: return "integer";
    case A5_T_BOOL: return "bool";
    case A5_T_POLICY: return "policy";
    case A5_T_STRING: return "text";
    case A5_T_STORE: return "full|summary|outcomes";
    case A5_T_CHOICE: return "name";
    }
    return "?";
}

static void ref_row(FILE *out, const char *prefix, const a5_param *p)
{
    char def[32] = "", range[80] = "";
    if (p->type == A5_T_REAL || p->type == A5_T_INT) {
        char lo[32], hi[32];
        fmt_num(lo, sizeof lo, p->lo);
        fmt_num(hi, sizeof hi, p->hi);
        snprintf(range, sizeof range, "%s%s, %s]", p->lo_open ? "(" : "[", lo, hi);
        if (isnan(p->def))
            snprintf(def, sizeof def, "see doc");
        else
            fmt_num(def, sizeof def, p->def);
    } else if (p->type == A5_T_BOOL) {
        snprintf(def, sizeof def, "%s", p->def != 0 ? "true" : "false");
    } else if (p->type == A5_T_POLICY) {
        snprintf(def, sizeof def, "%s", a5_policy_name((int)p->def));
    } else if (p->type == A5_T_CHOICE) {
        int nc;
        snprintf(def, sizeof def, "%s", a5_param_choices(p, &nc)[(int)p->def]);
    }
    fprintf(out, "| `%s%s` | %s | %s | %s | %s | %s | %s |\n", prefix, p->path, type_name(p), def,
            range, p->units, (p->flags & A5_PF_VARY) ? "yes" : "no", p->doc);
}

static const char robust_text[] =
    "- `design: {method: robust, policies: all|N|FILE.csv, worlds: M}` with `levers:`\n"
    "  (docs/robust.md): every policy in every world. `levers: {PATH: [v1, v2, ..] or\n"
    "  {lo: .., hi: .., log: true}}` are what a decision maker controls; a policy sets\n"
    "  each. `policies: all` (the default; every lever a list) takes every\n"
    "  combination, the first lever varying slowest; `N` a Latin hypercube of N (a list\n"
    "  lever by equal shares of its values); `FILE.csv` a header of the levers, one row\n"
    "  per policy, each value one of its lever's. A world is one draw of `uncertain:`\n"
    "  (needed; each drawn slot becomes a design input of its own, `nations.*.X` one\n"
    "  per nation), from stream (seed, 0xFFFFFFFD, w), so world w is the same for any\n"
    "  M. Point p is policy p / M in world p % M; its replicate r runs on stream\n"
    "  (seed, w, r) (with `seed.common`, (seed, 0, r)): every policy meets the same\n"
    "  worlds on the same random numbers. The file adds `policy_index`, `world_index`\n"
    "  and attributes `robust_policies`, `robust_worlds`, `robust_levers`.\n\n"
    "A path may be in only one of `uncertain`, `sweep`, `design` and `levers`. A\n"
    "scenario's `sweep` replaces its base's `design` and `levers`, and its `design` or\n"
    "`levers` its base's `sweep` (one way to vary). A design or policies file is named\n"
    "by its absolute path in the resolved scenario (the file's `scenario`).\n"
    "`--set PATH=VALUE` fixes PATH: it also removes PATH from `uncertain`, `sweep`,\n"
    "`design` and `levers`.\n\n";
static const char outcomes_text[] =
    "## Outcomes\n\n"
    "`outcomes: {NAME: {metric: M, nation: CODE, at: WHEN, direction: max|min,\n"
    "threshold: X}}` names metrics the run computes per replicate into the results\n"
    "variable `outcomes` (point, replicate, outcome), in every store. NAME is letters,\n"
    "digits and `_`. `direction` (needed) says which way is better; `threshold`\n"
    "(optional) is what satisficing asks for. The metrics are the package's\n"
    "(`allied5g.compare`) by the same names:\n\n"
    "| metric | nation | at | value per replicate |\n|---|---|---|---|\n"
    "| n_ban, n_moved | - | optional | nations banning / not open at `at` |\n"
    "| ban, not_open | needed | optional | 1 where the nation bans / is not open |\n"
    "| banned_by | needed | optional | 1 where it first banned at or before `at` |\n"
    "| us_pressure | CODE or all | optional | US pressure on it (all: summed) |\n"
    "| us_spent | CODE or all | - | US pressure summed over the steps |\n"
    "| cum_cost | CODE or all | - | cumulative cost |\n"
    "| cum_retaliation, cum_downgrade | CODE or all | - | realised costs (need the "
    "record of that name in `output.record`) |\n\n"
    "`at` is a step or a quarter label (default the last step); `nation` left out of\n"
    "a CODE-or-all metric is all.\n\n";

/* The reference's "Settings with no effect" (sim/scenario_inert.c). */
static const char inert_text[] =
    "## Settings with no effect\n\n"
    "A setting that the resolved scenario (base values, every design point, draws\n"
    "and events) never lets act is accepted with a located warning\n"
    "(`FILE:LINE:COL: warning: ...`, `--set:N:COL` for an option; `validate` ends with\n"
    "`is valid, with N warnings`), wherever it was given (its section, `sweep`,\n"
    "`design` (its ranges, or a column of its file: located at its `file:`),\n"
    "`levers`, `uncertain`, an event). A governing setting varied at every point\n"
    "(sweep, design, levers) counts with its points' values only, not its section's:\n\n"
    "- `us.budget`, `us.budget_growth` while `us.strategy` is `schedule` everywhere;\n"
    "  `us.budget_growth` while `us.budget` is 0 everywhere;\n"
    "- `us.escalation` while `us.strategy` is never `schedule`;\n"
    "- `china.budget` while `china.strategy` is `aggregate` everywhere;\n"
    "  `china.escalation` while it is never `aggregate`;\n"
    "- `us.strategy` (`china.strategy`) set to a budget strategy while `us.budget`\n"
    "  (`china.budget`) is 0 everywhere: no pressure (retaliation beyond the base);\n"
    "- `us.intel_lever.credibility`, `.lead`, `.duration`, `.credibility_loss`,\n"
    "  `.threats_per_step`, `.credibility_gain`, `.credibility_scope`, `.us_cost`\n"
    "  while `us.intel_lever.downgrade` is 0 everywhere; `.us_cost` while no US\n"
    "  budget strategy has a budget anywhere; `.credibility_scope` while\n"
    "  `.credibility_loss` and `.credibility_gain` are 0 everywhere;\n"
    "- `us.react` (`china.react`) while no US (Chinese) budget strategy has a\n"
    "  budget anywhere;\n"
    "- `decision.anticipation.discount` while `.horizon` is 0 everywhere;\n"
    "  `.horizon` while `decision.weights.us` is 0 everywhere;\n"
    "- `china.targets`, or a nation's own `china_target` (or `defaults`'), while\n"
    "  `china.strategy` is `aggregate` everywhere (both given is an error: one place);\n"
    "- `china.price_budget` while `china.price_response` is 0 everywhere, and the\n"
    "  other way round;\n"
    "- `output.record`: a record that would be 0 throughout (`intel_status`,\n"
    "  `cum_downgrade` with the lever off; `us_target`, `china_target` with no budget),\n"
    "  and `us_pressure` in a full store, which keeps it already;\n"
    "- `windows.hazard_boost` while no window of its file falls within the run;\n"
    "  `attention.decay` while there are no attention events;\n"
    "- `seed.common` (`run --crn`) while the scenario has one design point: there\n"
    "  is nothing to pair;\n"
    "- `us.pressure` while no nation's P_i(0) follows it (each gives, draws, varies\n"
    "  or sets at the first step its own `us_pressure`, or `defaults` gives one);\n"
    "- a value given for the start (a global in its section or `--set`; any path of\n"
    "  `sweep`, `design` (its ranges or its file's columns), `levers`, `uncertain` or\n"
    "  `calibration.fit`; a nation's entry in `nations:`, a `defaults:` attribute for\n"
    "  the nations that do not give it, a vendor's price) while an event known from the\n"
    "  start (one at the first step, or a hazard of 1) sets it, for every nation the\n"
    "  path names, at the first step: no step reads the value before the event\n"
    "  replaces it (the warning names the event). Such a value does not count either\n"
    "  where the rules above ask whether a setting can be on. A draw so replaced still\n"
    "  takes numbers from the random stream: removing it changes the draws after it.\n"
    "  `calibrate --fit` and `forecast --fit` of such a path are refused: every value\n"
    "  gives the same runs.\n\n";

int a5_param_write_reference(FILE *out)
{
    static const char head[] =
        "| path | type | default | range | units | varies | meaning |\n"
        "|---|---|---|---|---|---|---|\n";
    fprintf(out,
            "# Scenario reference\n\n"
            "Generated by `allied5g reference` from the parameter table in `sim/param.c`;\n"
            "a test fails when this page and the table disagree. Every path below works\n"
            "with `--set PATH=VALUE`; those marked *varies* also work in `uncertain`,\n"
            "`sweep`, `design` and `events`. See `docs/model.md` for the equations.\n\n"
            "## Run settings\n\n%s",
            head);
    for (int i = 0; i < A5_S_COUNT; i++)
        ref_row(out, "", &a5_param_run[i]);
    fprintf(out, "\n## Model parameters\n\n%s", head);
    for (int i = 0; i < A5_G_COUNT; i++)
        ref_row(out, "", &a5_param_global[i]);
    fprintf(out,
            "\n## Nation attributes\n\n"
            "Each nation is a mapping in `nations:` with a unique `code` (the path key), an\n"
            "optional `name`, `blocs` (list of names) and the attributes below. Paths:\n"
            "`nations.CODE.ATTR`, or `nations.*.ATTR` for every nation. `defaults:` may\n"
            "give any attribute for nations that omit it. `china.targets: [CODE, ...]` (also\n"
            "with `--set`) sets `china_target` for the nations listed.\n\n%s",
            head);
    for (int i = 0; i < A5_N_COUNT; i++)
        ref_row(out, "nations.CODE.", &a5_param_nation[i]);
    fprintf(out,
            "\n## Vendors\n\n"
            "`vendors:` is a list of `{name, price, high_risk}`; at least one high-risk and one\n"
            "trusted vendor. Path of a price: `vendors.NAME.price`.\n\n%s",
            head);
    ref_row(out, "vendors.NAME.", &a5_param_vendor_price);
    fprintf(out,
            "\n## Distributions (`uncertain:`)\n\n"
            "| dist | parameters |\n|---|---|\n"
            "| fixed | value |\n| uniform | lo, hi |\n| normal | mean, sd |\n"
            "| lognormal | mu, sigma |\n| beta | a, b |\n| triangular | lo, mode, hi |\n\n"
            "Any may add `min` and/or `max`: draws are clipped to them, then to the\n"
            "parameter's own range. `nations.*.ATTR` draws independently per nation.\n\n"
            "## Events\n\n"
            "Each event has either `at:` (a step index or a label such as 2020Q2) or\n"
            "`hazard:` (chance per step), and `set:` and/or `add:` mappings of path to\n"
            "value. Results are clamped to each parameter's range. `nations.X.policy` takes\n"
            "a policy name and forces that policy. Scheduled events at a step apply in file\n"
            "order, then each hazard event fires with its chance (one draw per event, step\n"
            "and replicate).\n\n"
            "A scheduled event may add `known:` (a quarter label): when it became known,\n"
            "default its `at:`. Runs ignore it; a forecast from origin t keeps only the\n"
            "events known at t, so that no forecast uses what was learned later\n"
            "(docs/forecast.md). Hazard events take no `known:`.\n\n"
            "## Varying parameters\n\n"
            "- `sweep: {PATH: [v1, v2, ...], ...}`: full factorial grid; the first path varies\n"
            "  slowest.\n"
            "- `design: {method: lhs|sobol, points: N, ranges: {PATH: [lo, hi], ...}}`: Latin\n"
            "  hypercube (seeded by `seed`) or GSL's Sobol sequence; a range may be\n"
            "  `{lo: .., hi: .., log: true}`.\n"
            "- `design: {method: saltelli, points: N, ranges: ...}`: N (k + 2) points in SALib's\n"
            "  order without second-order terms (A, AB_1 .. AB_k, B per base row), for Sobol\n"
            "  indices; at most 20 paths. With `second_order: true`, N (2k + 2) points (A,\n"
            "  AB_1 .. AB_k, BA_1 .. BA_k, B per base row) for second-order indices too.\n"
            "- `design: {method: morris, trajectories: R, levels: P, ranges: ...}`: R Morris\n"
            "  trajectories of k + 1 points (seeded by `seed`), in SALib's order; each step moves\n"
            "  one path by P / (2 (P - 1)) of its range. `levels` is even, default 4.\n"
            "- `design: {method: file, file: points.csv}`: a CSV whose header names the paths\n"
            "  and whose rows are the points (relative to the file that names it: the\n"
            "  scenario, or a base).\n\n"
            "%s", robust_text);
    fputs(outcomes_text, out);
    fprintf(out,
            "## Timing\n\n"
            "`windows: {file: FILE.csv, hazard_boost: X}`: a CSV (relative to the file naming\n"
            "it) with header `code,start,end,known,kind,source`, one row per window public in\n"
            "advance: a nation code, a bloc or `*`; first and last day (YYYY-MM-DD); the day it\n"
            "became known (not after `start`); auction, licence, deadline, election,\n"
            "consultation or review; a source URL. `attention: {events: [{at: WHEN, salience:\n"
            "S}, ...], decay: D, weight: W}`: salient global events. Both raise the review\n"
            "hazard only (docs/model.md, \"Timing\").\n\n");
    fputs(inert_text, out);
    fprintf(out,
            "## Deriving scenarios\n\n"
            "`base: FILE` (relative to the file naming it) starts from FILE's settings; each\n"
            "top-level section given beside `base` replaces the base's whole section. Bases\n"
            "may chain up to 4 files. The resolved scenario stored in results files is the\n"
            "merged one.\n");
    fprintf(out,
            "\n## Calibration fit set (`calibration:`)\n"
            "\n"
            "```yaml\n"
            "calibration:\n"
            "  fit:\n"
            "    decision.weights.us: 0:3\n"
            "    decision.weights.inertia: 0:3\n"
            "```\n"
            "\n"
            "`calibration.fit` maps each path `allied5g calibrate` should fit (any path\n"
            "`--fit` accepts) to its bounds `LO:HI`, increasing and within the parameter's\n"
            "range. `calibrate SCENARIO.yaml --observed OBS.csv -o FITTED.yaml` then needs no\n"
            "`--fit`; any `--fit` on the command line replaces the whole declared set.\n"
            "Unknown keys, unknown paths and bad bounds are `FILE:LINE:COL` errors (exit 2)\n"
            "for every command, `run` and `validate` included.\n"
            "\n"
            "This section is the one exception to \"every accepted setting changes the run\":\n"
            "it is not a model setting but metadata for `calibrate`, and a run with it is\n"
            "bit-identical to the run without it (tested). `scenarios/huawei_2019.yaml`\n"
            "declares the two weights [calibration.md](calibration.md) fits.\n");
    fprintf(out,
            "\n## Starting policies from observations (`initial_policies:`)\n"
            "\n"
            "`initial_policies: {from: FILE.csv}` (the path relative to the file naming it)\n"
            "takes each nation's starting policy from an observations file with the header\n"
            "`code,date,policy` (the format of `calibrate --observed`): the nation's latest\n"
            "row dated at or before `start`. Rows after the start are outcomes, not inputs,\n"
            "and are ignored; nations without such a row keep their policy from `defaults`.\n"
            "The policies are written into the nations' entries, so the resolved scenario\n"
            "stored in results files (and checked on `--resume`) holds them, not the file\n"
            "name. A nation whose `policy` is also given in the scenario is an error (one\n"
            "place per setting); `--set nations.X.policy=...` wins over the file. Unknown\n"
            "codes, bad dates or policies, and two rows of one nation and date that disagree\n"
            "are `FILE.csv:LINE:COL` errors (exit 2).\n");
    return ferror(out) ? A5_EIO : 0;
}
