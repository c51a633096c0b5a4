/* Scenario files: load, validate and describe.
 *
 * a5_scenario_load reads a YAML file, applies --set overrides to its tree, checks
 * every key and value against the parameter table (a5_param.h) and resolves every
 * path, reporting all problems found as FILE:LINE:COL diagnostics. On success it
 * returns an immutable scenario: read its fields, never write them. */
#ifndef A5_SCENARIO_H
#define A5_SCENARIO_H

#include "a5_error.h"
#include "a5_param.h"
#include "a5_rng.h"

#include <stdint.h>
#include <stdio.h>

/* Hard limits checked before anything is allocated from them. */
#define A5_MAX_NATIONS 100000
#define A5_MAX_CELLS 10000000L /* steps x nations in one replicate */
#define A5_MAX_POINTS 1000000L
#define A5_MAX_BLOCS 1000
#define A5_MAX_VENDORS 1000
#define A5_MAX_BASE_DEPTH 4 /* `base:` files chained */

/* A resolved path: the parameter it names and the vector slots it covers. */
typedef struct {
    char *path;
    const a5_param *param;
    size_t nslots;
    size_t *slots;
} a5_target;

typedef struct {
    a5_target target;
    a5_dist dist;
} a5_uncertain;

enum { A5_OP_SET, A5_OP_ADD };

typedef struct {
    a5_target target;
    int op;
    double value;
} a5_event_op;

typedef struct {
    int at;        /* step the event applies at, or -1 for a hazard event */
    int known;     /* step from which the event is known (`known:`, default at; a forecast
                    * from origin t keeps it only if known <= t; docs/forecast.md); may be
                    * < 0 (known before the start); INT_MIN for hazard events (always) */
    double hazard; /* chance per step (hazard events) */
    size_t nops;
    a5_event_op *ops;
} a5_event;

enum {
    A5_DESIGN_NONE,
    A5_DESIGN_GRID,
    A5_DESIGN_LHS,
    A5_DESIGN_SOBOL,
    A5_DESIGN_SALTELLI,
    A5_DESIGN_FILE,
    A5_DESIGN_MORRIS,
    A5_DESIGN_ROBUST /* policies x worlds (design_robust.c) */
};

/* `outcomes:` metrics (docs/robust.md), each computed per replicate from its records. */
enum {
    A5_OUT_N_BAN,           /* nations banning at step `at` */
    A5_OUT_N_MOVED,         /* nations not open at `at` */
    A5_OUT_BAN,             /* 1 where `nation` bans at `at` */
    A5_OUT_NOT_OPEN,        /* 1 where `nation` is not open at `at` */
    A5_OUT_BANNED_BY,       /* 1 where `nation` first banned at or before `at` */
    A5_OUT_US_PRESSURE,     /* US pressure on `nation` (all: summed) at `at` */
    A5_OUT_US_SPENT,        /* US pressure on `nation` (all: summed) summed over steps */
    A5_OUT_CUM_COST,        /* cum_cost of `nation` (all: summed) */
    A5_OUT_CUM_RETALIATION, /* cum_retaliation of `nation` (all: summed) */
    A5_OUT_CUM_DOWNGRADE,   /* cum_downgrade of `nation` (all: summed) */
    A5_OUT_METRIC_COUNT
};
#define A5_MAX_OUTCOMES 64

typedef struct {
    char name[64];   /* outcomes.NAME: letters, digits, '_', not starting with a digit */
    int metric;      /* A5_OUT_* */
    int nation;      /* the nation, or -1: all (summed) or none */
    int at;          /* the step, or -1: none */
    int maximise;    /* direction: 1 max, 0 min */
    double threshold; /* NAN: none */
    char expr[96];   /* the metric as a call, "ban(GBR, 2025Q4)" (the package's names) */
} a5_outcome;

/* One entry of the scenario's calibration.fit (the line of its key). */
typedef struct {
    char *path;
    double lo, hi;
    int line;
} a5_fit_decl;

/* Per-step records a scenario may ask for (output: {record: [...]}); see
 * a5_scenario_record_names. */
enum {
    A5_REC_US_PRESSURE = 1,     /* us_pressure: P_i(t+1) */
    A5_REC_INTEL = 2,           /* intel_status: the lever's status */
    A5_REC_RETALIATION = 4,     /* china_retaliation: phi(K_i) R_i(K_i) */
    A5_REC_US_TARGET = 8,       /* us_target: the US budget went to nation i */
    A5_REC_CHINA_TARGET = 16,   /* china_target: China's strategy aimed at nation i */
    A5_REC_CUM_RETALIATION = 32, /* cum_retaliation: sum over steps of c_i phi(K_i) R_i(K_i) */
    A5_REC_CUM_DOWNGRADE = 64,  /* cum_downgrade: sum over steps of delta d_i while downgraded */
    A5_REC_COUNT = 7
};
/* The names of the A5_REC_* bits, in bit order. */
extern const char *const a5_scenario_record_names[A5_REC_COUNT];

typedef struct {
    char *file;
    char *name, *description;
    char start[16]; /* label of step 0, e.g. 2019Q1 */
    int start_year, start_quarter;
    int steps;
    long replicates;
    uint64_t seed;
    int common; /* seed.common: common random numbers, stream (seed, 0, replicate) */
    int store_full; /* 1: full, 0: summary or outcomes */
    int store_outcomes; /* output.store outcomes: only the outcomes (and records) per replicate */
    int record;     /* output.record: the A5_REC_* records kept whatever the store */

    int n; /* nations */
    char **codes, **names;
    int nblocs;
    char **bloc_names;
    int *bloc_off, *bloc_idx; /* nation i's blocs: bloc_idx[bloc_off[i] .. bloc_off[i+1]) */

    unsigned char *pressure_default; /* 1: P_i(0) not given, so it follows us.pressure */

    int nvendors;
    char **vendor_names;
    unsigned char *vendor_high_risk;

    size_t nslots;
    double *base; /* parameter vector before design points and draws */

    size_t nuncertain;
    a5_uncertain *uncertain;
    size_t nevents;
    a5_event *events;

    int design;    /* A5_DESIGN_* */
    long design_n; /* lhs, sobol: points; saltelli: base sample N; file: rows;
                      morris: trajectories */
    int second_order;  /* saltelli: 1 with second-order terms (N (2k + 2) points) */
    int morris_levels; /* morris: grid levels p (even) */
    size_t nvaried;
    a5_target *varied; /* one per swept/designed path, in file order */
    /* design.method robust: the first nlevers varied paths are the levers, the rest
     * the worlds' drawn inputs; point p is policy p / nworlds in world p % nworlds,
     * and its replicate r uses stream (seed, world, r): every policy meets the same
     * worlds on the same random numbers; npoints / nworlds policies (design_n). 0
     * otherwise. */
    size_t nlevers;
    long nworlds;
    long npoints;      /* >= 1; 1 when nothing varies */
    double *points;    /* npoints x nvaried values, row-major */
    char *vary_file;   /* where `sweep:` or `design:` is (NULL when neither): file, */
    int vary_line, vary_col; /* line and column, for commands that take one point */

    /* Timing (docs/model.md, "Timing"): the windows of windows.file and the
     * attention events. */
    unsigned char *window; /* steps x n, row t: 1 where nation i is in a window; NULL: none */
    int *window_known;     /* steps x n: the first step at which one of those windows was
                            * known (its `known` date's quarter; may be < 0), INT_MAX: none */
    size_t nwindows;       /* rows of windows.file */
    size_t nattention;
    int *att_step;         /* attention event e at step att_step[e] with salience att_salience[e] */
    double *att_salience;

    char *text; /* the resolved scenario (after --set) as YAML */
    a5_diag warnings; /* settings with no effect (scenario_inert.c): the run goes on */

    size_t noutcomes; /* `outcomes:` */
    a5_outcome *outcomes;

    /* `calibration: {fit: {PATH: LO:HI}}`: what `calibrate` fits when no --fit is given.
     * Not a model setting: a run does not read it (docs/scenario-reference.md). */
    size_t ncalib_fit;
    a5_fit_decl *calib_fit;
} a5_scenario;

/* Load `path`, applying `nsets` overrides "PATH=VALUE" in order. On success stores
 * the scenario in *out and returns 0. Returns A5_ESCENARIO with every problem in
 * `d`, A5_EIO if the file cannot be read (message in d too), or A5_ENOMEM. */
/* The name of outcome metric A5_OUT_* ("n_ban"), as in `outcomes:`. */
const char *a5_outcome_metric_name(int metric);
/* Whether an outcome of s reads the US pressure of every step (us_pressure, us_spent). */
int a5_outcome_needs_pressure(const a5_scenario *s);

int a5_scenario_load(const char *path, const char *const *sets, int nsets, a5_diag *d,
                     a5_scenario **out);
/* The same, with from[i] (NULL: "--set") the option override i came from, as its
 * diagnostics name it: "--store" for the --store of a command line, located at
 * its value (--store:1:1), where "--set" overrides are located by their number. */
int a5_scenario_load_from(const char *path, const char *const *sets, const char *const *from,
                          int nsets, a5_diag *d, a5_scenario **out);
/* The same from text in memory; `name` is used in diagnostics. */
int a5_scenario_parse(const char *text, size_t len, const char *name, const char *const *sets,
                      int nsets, a5_diag *d, a5_scenario **out);
void a5_scenario_free(a5_scenario *s); /* accepts NULL */

/* Resolve a dotted path that may vary (as in sweep:) into t. Returns 0, or
 * A5_ESCENARIO with the reason (and a suggestion for typos) in err. Free t with
 * a5_scenario_target_free. */
int a5_scenario_resolve(const a5_scenario *s, const char *path, a5_target *t, char *err,
                        size_t errlen);

/* Whether an event known from the start (a scheduled one at the first step, or a
 * hazard of 1) sets every slot of t at the first step, before any step reads
 * them: then no value given for the start changes a run (docs/scenario-reference.md,
 * "Settings with no effect"). */
int a5_scenario_replaced_at_start(const a5_scenario *s, const a5_target *t);
void a5_scenario_target_free(a5_target *t);
/* 1 when t covers vector slot `slot`. */
int a5_target_covers(const a5_target *t, size_t slot);

/* Write the base, then point p's design values, into vector x (nslots doubles). */
void a5_scenario_point_params(const a5_scenario *s, long p, double *x);

/* Parse a quarter label "2020Q3" (or "2020q3"): four digits, Q, 1-4. Returns 0 or
 * A5_ESCENARIO. The one parser of quarter labels (scenarios, observations). */
int a5_quarter_parse(const char *label, int *year, int *quarter);
/* Step of quarter `label` in s's run (may be < 0 or >= steps: the caller checks).
 * Returns 0 or A5_ESCENARIO when the label is not a quarter. */
int a5_scenario_label_step(const a5_scenario *s, const char *label, long *step);

/* Label of step t ("2019Q3" style) into buf. */
void a5_scenario_date(const a5_scenario *s, int t, char *buf, size_t len);

/* Bytes the results file will need (uncompressed upper bound). */
double a5_scenario_output_bytes(const a5_scenario *s);

/* One-screen summary for `allied5g validate`. */
void a5_scenario_summary(const a5_scenario *s, FILE *out);

#endif
