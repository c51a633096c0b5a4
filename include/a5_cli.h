/* The allied5g command line (CONTRACT: "Command line"). Not part of the core
 * library: cli.c (dispatch, option parsing, help, validate, info, reference),
 * cli_run.c (run), cli_calibrate.c (calibrate), cli_forecast.c (forecast) and
 * cli_export.c (export) build the
 * executable only.
 *
 * Options follow getopt_long: `--opt value` and `--opt=value` alike, short forms
 * where listed, options and operands in any order, `--` ends the options. Long
 * names must be spelled out (a near miss gets a suggestion, never a silent
 * prefix match); a single-valued option given twice is refused. Every command
 * takes -h/--help. Exit status: 0 success, 2 usage or scenario error, 1 run-time
 * failure. */
#ifndef A5_CLI_H
#define A5_CLI_H

#include "a5_calibrate.h"
#include "a5_scenario.h"

enum { A5_EXIT_OK = 0, A5_EXIT_RUNTIME = 1, A5_EXIT_USAGE = 2 };

int a5_cli_main(int argc, char **argv);

/* --- shared by the cli*.c files ------------------------------------------------------ */

#define A5_CLI_MAXOPT 24

/* One option of a command: drives getopt_long, the checks and the help text. */
typedef struct {
    const char *name;    /* long name, without the dashes */
    char short_name;     /* 0: none */
    const char *metavar; /* NULL: a flag without a value */
    int repeat;          /* may be given more than once (values kept in order) */
    const char *def;     /* default, as shown by --help (NULL: "none") */
    const char *help;
} a5_cli_opt;

typedef struct {
    const char *name;     /* the command word */
    const char *operands; /* e.g. "SCENARIO.yaml" */
    int noperands;        /* how many operands it takes (exactly) */
    const char *summary;
    const a5_cli_opt *opts; /* nopts entries, --help not among them */
    int nopts;
    const char *example;
} a5_cli_cmd;

/* What the command line said, by index into the command's opts. */
typedef struct {
    const char *operand[2];
    int noperands;
    int given[A5_CLI_MAXOPT];        /* times given */
    const char *val[A5_CLI_MAXOPT];  /* the value (single-valued options) */
    const char **list[A5_CLI_MAXOPT]; /* every value (repeatable options), in order */
    int help;                         /* --help was given (and printed) */
} a5_cli_args;

/* Parse argv[1..argc) (argv[0] is the command word) for command c. Returns 0 (with
 * a->help set when help was printed: exit 0), or A5_EUSAGE after printing why. Free
 * with a5_cli_args_free. */
int a5_cli_parse(const a5_cli_cmd *c, int argc, char **argv, a5_cli_args *a);
void a5_cli_args_free(a5_cli_args *a);

/* Print a command's help (options, defaults, an example) to out. */
void a5_cli_help(const a5_cli_cmd *c, FILE *out);

/* v as a whole number in [lo, hi] into *out. Returns 0, or A5_EUSAGE after
 * printing "allied5g: OPT expects a whole number in [lo, hi], got 'v'". */
int a5_cli_whole(const char *opt, const char *v, long lo, long hi, long *out);

/* The --set overrides of a command line, with --seed, --replicates and --store
 * turned into the same form (they apply after every --set); from[i] names the
 * option override i came from (NULL for a --set), for its diagnostics. */
typedef struct {
    const char **v;
    const char **from;
    int n;
    char *owned[3];
} a5_cli_sets;

/* Collect sets (n of them) and the optional seed/replicates/store values (NULL:
 * not given), checking those three. Returns 0, A5_EUSAGE (printed) or A5_ENOMEM. */
int a5_cli_sets_make(a5_cli_sets *out, const char *const *sets, int n, const char *seed,
                     const char *replicates, const char *store);
void a5_cli_sets_free(a5_cli_sets *s);

/* Load scenario `path` with the overrides, printing every diagnostic. A missing
 * file gets one error with the nearest .yaml beside it. Returns 0, or the exit
 * status (A5_EXIT_USAGE, A5_EXIT_RUNTIME). */
int a5_cli_load(const char *path, const a5_cli_sets *sets, a5_scenario **s);
/* For commands that run one scenario (calibrate "fits", forecast "runs"): 0, or
 * A5_EXIT_USAGE after printing where s's sweep or design is (its points would go
 * unseen); `fix` says what to do instead. */
int a5_cli_one_scenario(const a5_scenario *s, const char *command, const char *verb,
                        const char *fix);

/* The command line as one shell-quoted string (malloc'd; NULL if out of memory). */
char *a5_cli_join_argv(int argc, char **argv);
/* a5_cli_parse for a command that records how it was run: first joins the whole
 * command line (before getopt_long permutes argv) into *cmdline (free it). Returns as
 * a5_cli_parse, or A5_ENOMEM after printing it. */
int a5_cli_parse_recorded(const a5_cli_cmd *c, int argc, char **argv, int full_argc,
                          char **full_argv, a5_cli_args *a, char **cmdline);
/* Write a file the user named as output: `len` bytes of `text` replace `path` at once
 * (a5_sys_write_atomic), then "wrote PATH" is printed; a failure is printed instead.
 * Returns 0 or A5_EXIT_RUNTIME. */
int a5_cli_write_text(const char *path, const char *text, size_t len);

/* The commands in their own files. */
extern const a5_cli_cmd a5_cli_run_cmd, a5_cli_calibrate_cmd, a5_cli_export_cmd,
    a5_cli_forecast_cmd, a5_cli_report_cmd;
int a5_cli_run(int argc, char **argv, int full_argc, char **full_argv);
int a5_cli_calibrate(int argc, char **argv, int full_argc, char **full_argv);
/* forecast: rolling-origin forecasts from the observed state (cli_forecast.c). */
int a5_cli_forecast(int argc, char **argv, int full_argc, char **full_argv);
/* export: runs the analysis package's CSV exporter (cli_export.c); returns only on failure. */
int a5_cli_export(int argc, char **argv);
/* report: runs the analysis package's report writer (cli_report.c); returns only on failure. */
int a5_cli_report(int argc, char **argv);
/* Run `PYTHON -m allied5g cmd args...` (args NULL-terminated) with the project's Python
 * and analysis package (cli_report.c says which). Returns only on failure, after
 * printing why: A5_EXIT_RUNTIME. */
int a5_cli_python(const char *cmd, const char *const *args);

/* The program as the user typed it, for messages that name a command to type next:
 * argv[0] when it names a path (build/allied5g), else "allied5g" (found on PATH). */
const char *a5_cli_self(void);
/* Remember argv[0] for a5_cli_self when it names a path (cli_main.c calls it first). */
void a5_cli_set_self(const char *argv0);

#endif
