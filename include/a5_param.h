/* The one parameter table: every setting a scenario file can hold.
 *
 * Each entry gives the dotted path, type, default, valid range, units and a
 * one-line doc. The loader, validation, --set, the uncertain/sweep/design/event
 * path resolver and docs/scenario-reference.md are all driven from it.
 *
 * Numeric model parameters live in one flat vector of doubles per replicate (a
 * "parameter vector"): the A5_G_* globals first, then each nation attribute as a
 * contiguous array of N values (attribute-major, so the step reads plain arrays),
 * then one price per vendor. Dynamic state that events may change in place
 * (policy, high_risk_share, us_pressure, supply_risk, intel_threat) lives in the
 * same vector, so an event is simply a write to a slot. */
#ifndef A5_PARAM_H
#define A5_PARAM_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
    A5_T_REAL,   /* finite double */
    A5_T_INT,    /* whole number */
    A5_T_BOOL,   /* true / false */
    A5_T_POLICY, /* open | restrict | ban, stored as 0 / 1 / 2 */
    A5_T_STRING, /* free text */
    A5_T_STORE,  /* full | summary */
    A5_T_CHOICE  /* one of a parameter's names (a5_param_choice), stored as its index */
} a5_param_type;

enum {
    A5_PF_VARY = 1,  /* may be drawn (uncertain), swept, designed or changed by events */
    A5_PF_STRUCT = 2 /* a whole-run setting: --set only */
};

typedef struct {
    const char *path; /* globals: full dotted path; nation attrs: the attribute name */
    a5_param_type type;
    double def, lo, hi; /* default and inclusive range (REAL/INT) */
    int lo_open;        /* 1: the lower bound itself is excluded */
    int flags;
    const char *units;
    const char *doc;
} a5_param;

/* Global numeric parameters: slot index in the parameter vector. */
enum {
    A5_G_RESTRICT_CAP,
    A5_G_RESTRICT_COMPLIANCE,
    A5_G_PHASE_OUT_STEPS,
    A5_G_RATIONALITY,
    A5_G_W_COST,
    A5_G_W_RISK,
    A5_G_W_US,
    A5_G_W_CHINA,
    A5_G_W_PEER,
    A5_G_W_INERTIA,
    A5_G_W_HOME,
    A5_G_RENEWAL,
    A5_G_PRICE_ELASTICITY,
    A5_G_OPERATOR_RISK_WEIGHT,
    A5_G_REPLACE_COST,
    A5_G_RAN_WEIGHT,
    A5_G_SUPPLY_RISK,
    A5_G_US_PRESSURE,
    A5_G_US_ESCALATION,
    A5_G_US_MAX_PRESSURE,
    A5_G_INTEL_THREAT,
    A5_G_CHINA_RETALIATION,
    A5_G_CHINA_ESCALATION,
    A5_G_BASE_TIE,
    /* Strategic actors (docs/model.md); the defaults switch them off. */
    A5_G_US_STRATEGY,
    A5_G_US_BUDGET,
    A5_G_US_BUDGET_GROWTH,
    A5_G_LEVER_CREDIBILITY,
    A5_G_LEVER_DOWNGRADE,
    A5_G_LEVER_LEAD,
    A5_G_LEVER_DURATION,
    A5_G_LEVER_LOSS,
    A5_G_LEVER_THREATS,
    A5_G_LEVER_GAIN,
    A5_G_LEVER_SCOPE,
    A5_G_LEVER_US_COST,
    A5_G_CHINA_STRATEGY,
    A5_G_CHINA_BUDGET,
    A5_G_PRICE_RESPONSE,
    A5_G_PRICE_BUDGET,
    A5_G_INTEL_STANDING,
    A5_G_US_REACT,
    A5_G_CHINA_REACT,
    A5_G_ANT_HORIZON,
    A5_G_ANT_DISCOUNT,
    /* Timing and reversal cost (docs/model.md, "Timing" and "Reversal cost"); the
     * defaults switch them off. */
    A5_G_WINDOW_BOOST,
    A5_G_ATTENTION_WEIGHT,
    A5_G_ATTENTION_DECAY,
    A5_G_REVERSAL_COST,
#ifdef A5_MODEL_EXTENSION_TEST /* docs/extending.md's examples; the test build only */
    A5_G_W_TECH,
    A5_G_W_FIRST,
#endif
    A5_G_COUNT
};

/* Nation attributes (numeric, stored per nation). */
enum {
    A5_N_INTEL,
    A5_N_US_TIES,
    A5_N_CHINA_TRADE,
    A5_N_COST_SENSITIVITY,
    A5_N_MITIGATION,
    A5_N_THREAT,
    A5_N_INFLUENCE,
    A5_N_REVIEW_RATE,
    A5_N_HOME_VENDOR,
    A5_N_CHINA_TARGET,
#ifdef A5_MODEL_EXTENSION_TEST /* docs/extending.md's example; the test build only */
    A5_N_TECH,
#endif
    A5_N_POLICY,
    A5_N_HIGH_RISK_SHARE,
    A5_N_US_PRESSURE,
    A5_N_COUNT
};

/* Whole-run settings (not in the vector). */
enum {
    A5_S_NAME,
    A5_S_DESCRIPTION,
    A5_S_START,
    A5_S_STEPS,
    A5_S_REPLICATES,
    A5_S_SEED,
    A5_S_SEED_COMMON,
    A5_S_STORE,
    A5_S_RECORD,
    A5_S_COUNT
};

extern const a5_param a5_param_global[A5_G_COUNT];
extern const a5_param a5_param_nation[A5_N_COUNT];
extern const a5_param a5_param_run[A5_S_COUNT];
extern const a5_param a5_param_vendor_price;

/* Slot of nation attribute `attr` for nation `i` among `n` nations. */
static inline size_t a5_param_nslot(int attr, int i, int n)
{
    return (size_t)A5_G_COUNT + (size_t)attr * (size_t)n + (size_t)i;
}
/* Slot of vendor `v`'s price. */
static inline size_t a5_param_vslot(int v, int n)
{
    return (size_t)A5_G_COUNT + (size_t)A5_N_COUNT * (size_t)n + (size_t)v;
}

/* Entry for a global path ("us.escalation"), or NULL; *slot receives the index. */
const a5_param *a5_param_find_global(const char *path, int *slot);
/* Entry for a nation attribute name ("threat"), or NULL. */
const a5_param *a5_param_find_nation(const char *name, int *attr);
/* Entry for a whole-run setting path ("steps", "output.store"), or NULL. */
const a5_param *a5_param_find_run(const char *path, int *which);

/* Check a value against an entry's range: 0 if valid. On failure writes a
 * description such as "must be in [0, 1]" into buf. */
int a5_param_check(const a5_param *p, double v, char *buf, size_t len);

/* Clamp v into the entry's range (used after event arithmetic). */
double a5_param_clamp(const a5_param *p, double v);

/* Parse a policy name; returns 0..2 or -1. */
int a5_policy_parse(const char *s);
/* "open", "restrict" or "ban". */
const char *a5_policy_name(int k);

/* Values of the A5_T_CHOICE parameters. */
enum { A5_US_SCHEDULE, A5_US_UNIFORM, A5_US_PIVOTAL, A5_US_WAVERING, A5_US_COUNT };
enum { A5_CN_AGGREGATE, A5_CN_TARGETED, A5_CN_DETERRENT, A5_CN_COUNT };
/* us.intel_lever.credibility_scope: one credibility for all, or one per target. */
enum { A5_SCOPE_WORLD, A5_SCOPE_NATION, A5_SCOPE_COUNT };
/* The names of a choice parameter (NULL for other types); *n receives how many. */
const char *const *a5_param_choices(const a5_param *p, int *n);
/* Index of name among p's choices, or -1. */
int a5_param_choice_parse(const a5_param *p, const char *name);

/* Write the Markdown reference page for the table. Returns 0 or A5_EIO. */
int a5_param_write_reference(FILE *out);

#endif
