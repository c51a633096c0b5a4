/* Scenario loading, private to the scenario files (scenario*.c, design.c).
 *
 * The loader state and the reading helpers every section shares. Helpers return
 * 0, A5_ESCENARIO after adding a located message to L->d (the caller carries on
 * with the next item, so one run shows every mistake), or A5_ENOMEM (the caller
 * stops and returns it). Section loaders return 0 or A5_ENOMEM: their problems
 * are in the diagnostics. */
#ifndef A5_SCENARIO_INT_H
#define A5_SCENARIO_INT_H

#include "a5_mem.h"
#include "a5_scenario.h"
#include "a5_yaml.h"

#include <stddef.h>

typedef struct {
    a5_diag *d;
    a5_scenario *s;
    double ndef[A5_N_COUNT];        /* nation attribute defaults after `defaults:` */
    int pressure_given;             /* defaults.us_pressure was set */
    char *files[A5_MAX_BASE_DEPTH]; /* files read for `base:`: node->file points here */
    int nfiles;
    char pressure_file[1024];       /* where us.pressure is first varied ("": nowhere) */
    int pressure_line, pressure_col;
    char design_note[640]; /* "# design file ...: checksum": appended to the resolved text */
} a5_sc_loader;

/* Report a problem located at a YAML node. */
#define A5_SC_ERR(L, node, ...)                                                                    \
    a5_diag_add((L)->d, (node)->file, (node)->line, (node)->col, __VA_ARGS__)

/* Stop on out-of-memory, carry on after a reported problem. */
#define A5_SC_NOMEM(rc) ((rc) == A5_ENOMEM)

/* --- values (scenario_read.c) --- */

/* "a mapping", "a list" or "a value". */
const char *a5_sc_kind_name(const a5_yaml_node *n);
/* " (did you mean 'x'?)" into buf when a name in `names` is close to `word`, else "". */
const char *a5_sc_hint(char *buf, size_t len, const char *word, const char *const *names, size_t n);
/* Parse a plain decimal number; rejects hex, nan, inf, empty and overflow, setting
 * *why. Returns 0 or A5_ESCENARIO (nothing reported). */
int a5_sc_parse_double(const char *text, double *v, const char **why);
/* Read a value for parameter p (checked against its type and range). */
int a5_sc_value(a5_sc_loader *L, const a5_yaml_node *node, const a5_param *p, const char *path,
                double *v);
/* A plain number with no parameter entry (distribution parameters, ranges). */
int a5_sc_number(a5_sc_loader *L, const a5_yaml_node *node, const char *what, double *v);
int a5_sc_text(a5_sc_loader *L, const a5_yaml_node *node, const char *what, const char **t);
int a5_sc_expect_map(a5_sc_loader *L, const a5_yaml_node *node, const char *what);
int a5_sc_expect_seq(a5_sc_loader *L, const a5_yaml_node *node, const char *what);
/* `name` relative to the directory of `file` (the file that names it) into out;
 * absolute names and names in a file without a directory as they are. */
void a5_sc_beside(const char *file, const char *name, char *out, size_t len);
/* The file node names (read from `path`, where it was found) named in the resolved
 * scenario by its absolute path, so that the saved scenario reruns with the same
 * file from anywhere (a name relative to a base's directory would not). Returns 0 or
 * A5_ENOMEM; a path realpath cannot resolve is left as it is. */
int a5_sc_pin_path(const a5_yaml_node *node, const char *path);
/* Report keys of `map` not in `allowed`. */
void a5_sc_check_keys(a5_sc_loader *L, const a5_yaml_node *map, const char *where,
                      const char *const *allowed, size_t n);
/* Index of `name` among names[0..n), or -1. */
int a5_sc_find_name(char *const *names, int n, const char *name);

/* --- settings with no effect (scenario_inert.c) --- */

/* Warn, into L->s->warnings at the place each was given, about settings that the
 * resolved scenario never lets act. Returns A5_ENOMEM, or 0. */
int a5_sc_inert(a5_sc_loader *L, const a5_yaml_node *root);

/* --- paths (scenario_path.c) --- */

enum { A5_SC_VARY = 1, A5_SC_EVENT = 2 };

/* Every nation attribute's name, for suggestions (A5_N_COUNT of them). */
const char *const *a5_sc_nation_attrs(void);
/* Resolve a dotted path into t; `node` locates errors; mode is A5_SC_VARY and/or
 * A5_SC_EVENT. On error t holds nothing to free. */
/* 1 when no nation follows us.pressure (every nation gives its own us_pressure, or
 * has it drawn, varied or set by an event at step 0), so that varying or setting
 * us.pressure would change nothing. */
int a5_sc_pressure_unused(const a5_scenario *s);
/* The first event known from the start (every forecast keeps it: a scheduled one
 * at the first step, or a hazard of 1, which fires at every step) that sets vector
 * slot `slot` at the first step, before any step reads it: its op, its index in
 * *event; NULL: none. */
const a5_event_op *a5_sc_set_at_start(const a5_scenario *s, size_t slot, size_t *event);
/* The message for that case (one text for every place that refuses it). */
#define A5_SC_PRESSURE_UNUSED                                                                \
    "'us.pressure' would change nothing here: it only starts nations without their own "     \
    "us_pressure, and every nation has its own (given, drawn, varied or set at the first "  \
    "step); vary or set nations.*.us_pressure (or nations.CODE.us_pressure) instead"

int a5_sc_resolve(a5_sc_loader *L, const char *path, const a5_yaml_node *node, int mode,
                  a5_target *t);

/* --- timing (scenario_timing.c) --- */

/* `windows: {file: ..}` and `attention: {events: ..}` into s->window and s->att_*
 * (their numeric settings are parameters, read by load_globals). */
int a5_sc_timing(a5_sc_loader *L, const a5_yaml_node *root);
/* Refuse varying a timing parameter that has nothing to act on (after sweep/design). */
void a5_sc_timing_check(a5_sc_loader *L);
/* What timing parameter `slot` needs and s lacks ("windows.file", ...), or NULL. */
const char *a5_sc_timing_needs(const a5_scenario *s, size_t slot);
#define A5_SC_TIMING_UNUSED "'%s' is varied but would change nothing: it needs '%s'"
/* Keys of parameter sections that are not parameters (read by a5_sc_timing). */
int a5_sc_timing_key(const char *path);
/* An event's `at:` (a step or a quarter label inside the run) into *step. */
/* The `events:` section (scenario_events.c). */
int a5_sc_load_events(a5_sc_loader *L, const a5_yaml_node *root);
int a5_sc_event_at(a5_sc_loader *L, const a5_yaml_node *at, int *step);

/* --- distributions (scenario.c) --- */

extern const char *const a5_sc_dist_names[6];

/* --- design construction (design.c) --- */

/* `sweep:` (a full factorial grid) and `design:` (lhs, sobol, saltelli, file) into
 * s->varied and s->points. */
int a5_sc_sweep(a5_sc_loader *L, const a5_yaml_node *sw);
/* Resolve path k and append it to s->varied (room for it allocated by the caller):
 * refused when it is drawn (uncertain) or overlaps a path varied already. */
int a5_sc_add_varied(a5_sc_loader *L, const a5_yaml_node *k);
/* A design file's contents in the resolved scenario's text (a comment), so that a
 * resume of a run whose file changed since is refused: its paths (s->varied) and
 * every value (rows x nvaried), checksummed. */
void a5_sc_design_note(a5_sc_loader *L, const double *vals, size_t rows);
/* design: {method: robust, ..} with `levers:` lv (may be NULL) (design_robust.c). */
int a5_sc_robust(a5_sc_loader *L, const a5_yaml_node *dz, const a5_yaml_node *lv);
int a5_sc_design(a5_sc_loader *L, const a5_yaml_node *dz);

/* --- --set and base: (scenario_set.c, scenario_base.c) --- */

/* Apply override number idx (1-based) "PATH=VALUE" to the tree: a --set (from
 * NULL), or the option `from` names ("--store"), located at its value. */
int a5_sc_apply_set(a5_sc_loader *L, a5_yaml_node *root, const char *arg, int idx,
                    const char *from);
/* Merge `base: FILE` chains into root (consumed). Returns 0 with the merged tree in
 * *out, A5_ESCENARIO after reporting, or A5_ENOMEM; *out is NULL on error. */
/* The calibration: section into s->calib_fit (scenario_calib.c). 0 or A5_ENOMEM. */
int a5_sc_calibration(a5_sc_loader *L, const a5_yaml_node *root);
/* The `outcomes:` section into s->outcomes (scenario_outcomes.c). 0 or A5_ENOMEM. */
int a5_sc_outcomes(a5_sc_loader *L, const a5_yaml_node *root);
/* initial_policies: {from: FILE.csv} into the nations' `policy` entries of the tree
 * (scenario_initial.c), the section removed. 0 or A5_ENOMEM. */
int a5_sc_initial_policies(a5_sc_loader *L, a5_yaml_node *root);
int a5_sc_merge_base(a5_sc_loader *L, a5_yaml_node *root, int depth, a5_yaml_node **out);
/* Read a whole file. Returns 0, A5_EIO (message in d) or A5_ENOMEM. */
int a5_sc_read_file(const char *path, a5_diag *d, char **out, size_t *outlen);

#endif
