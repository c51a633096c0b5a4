/* The command line's entry: dispatch to the commands, the overview and full help,
 * and the small commands (validate, info, reference). Calls the commands' files
 * (cli_run.c, cli_calibrate.c, ...) and cli.c; nothing calls back. See a5_cli.h. */
#include "a5_cli.h"

#include "a5_error.h"
#include "a5_output.h"
#include "a5_param.h"
#include "a5_scenario.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#ifndef A5_VERSION
#define A5_VERSION "0.0.0"
#endif
#include "a5_gitrev.h" /* generated at build time: A5_GIT_REVISION */

/* A value from the command line as printed in messages: escaped, long ones cut. */
#define SHOW(v) a5_escape((v), 200, (char[1024]){0}, 1024)

/* --- validate, info, reference ---------------------------------------------------------- */

enum { V_SET, V_SEED, V_REPS, V_STORE, V_NOPT };
static const a5_cli_opt validate_opts[V_NOPT] = {
    [V_SET] = {"set", 0, "PATH=VALUE", 1, NULL, "override one scenario value, as in the file"},
    [V_SEED] = {"seed", 0, "N", 0, "the scenario's seed", "master seed"},
    [V_REPS] = {"replicates", 0, "N", 0, "the scenario's replicates", "replicates per design point"},
    [V_STORE] = {"store", 0, "full|summary", 0, "the scenario's output.store (full)",
                 "what the results file would keep"},
};
static const a5_cli_cmd validate_cmd = {
    "validate", "SCENARIO.yaml", 1,
    "Check a scenario (every error found, as FILE:LINE:COL) and print a one-screen summary;\n"
    "nothing is run or written.",
    validate_opts, V_NOPT, "allied5g validate scenarios/minimal.yaml --set us.escalation=0.05"};

static const a5_cli_cmd info_cmd = {
    "info", "OUT.h5", 1, "Print what a results file holds and how it was made.", NULL, 0,
    "allied5g info out.h5"};

static const a5_cli_cmd reference_cmd = {
    "reference", "", 0,
    "Print the scenario reference (every section, parameter, default and range) as Markdown.",
    NULL, 0, "allied5g reference > docs/scenario-reference.md"};

static int cmd_validate(int argc, char **argv)
{
    a5_cli_args a;
    a5_cli_sets sets = {0};
    a5_scenario *s = NULL;
    int rc = a5_cli_parse(&validate_cmd, argc, argv, &a);
    if (!rc && !a.help)
        rc = a5_cli_sets_make(&sets, a.list[V_SET], a.given[V_SET], a.val[V_SEED], a.val[V_REPS],
                              a.val[V_STORE]);
    if (rc || a.help) {
        rc = rc == A5_ENOMEM ? A5_EXIT_RUNTIME : rc ? A5_EXIT_USAGE : 0;
    } else if ((rc = a5_cli_load(a.operand[0], &sets, &s)) == 0) {
        a5_scenario_summary(s, stdout);
        const size_t nw = s->warnings.n;
        if (nw)
            printf("ok: %s is valid, with %zu warning%s: setting%s with no effect (above, on "
                   "stderr)\n", a.operand[0], nw, nw == 1 ? "" : "s", nw == 1 ? "" : "s");
        else
            printf("ok: %s is valid\n", a.operand[0]);
    }
    a5_scenario_free(s);
    a5_cli_sets_free(&sets);
    a5_cli_args_free(&a);
    return rc;
}

static int cmd_info(int argc, char **argv)
{
    a5_cli_args a;
    int rc = a5_cli_parse(&info_cmd, argc, argv, &a);
    if (!rc && !a.help) {
        char err[1024];
        int irc = a5_output_info(a.operand[0], stdout, err, sizeof err);
        if (irc) {
            /* A file that is not a results file, or a damaged one, is bad input. */
            fprintf(stderr, "allied5g: %s\n", irc == A5_ENOMEM ? a5_strerror(irc) : err);
            rc = irc == A5_ENOMEM ? A5_EXIT_RUNTIME : A5_EXIT_USAGE;
        }
    } else if (rc)
        rc = A5_EXIT_USAGE;
    a5_cli_args_free(&a);
    return rc;
}

static int cmd_reference(int argc, char **argv)
{
    a5_cli_args a;
    int rc = a5_cli_parse(&reference_cmd, argc, argv, &a);
    if (!rc && !a.help)
        rc = a5_param_write_reference(stdout) ? A5_EXIT_RUNTIME : 0;
    else if (rc)
        rc = A5_EXIT_USAGE;
    a5_cli_args_free(&a);
    return rc;
}

/* --- dispatch ------------------------------------------------------------------------- */

static const a5_cli_cmd *const commands[] = {&a5_cli_run_cmd, &validate_cmd, &info_cmd,
                                             &a5_cli_calibrate_cmd, &a5_cli_forecast_cmd,
                                             &a5_cli_export_cmd, &a5_cli_report_cmd, &reference_cmd};
enum { NCOMMANDS = sizeof commands / sizeof *commands };

static void overview(FILE *out)
{
    fprintf(out, "usage: allied5g COMMAND [options]   (allied5g COMMAND --help: its options)\n\n");
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  allied5g %s%s%s\n", commands[i]->name, commands[i]->operands[0] ? " " : "",
                commands[i]->operands);
    fprintf(out, "  allied5g --version\n");
}

static void full_help(FILE *out)
{
    overview(out);
    for (int i = 0; i < NCOMMANDS; i++) {
        fprintf(out, "\n");
        a5_cli_help(commands[i], out);
    }
}

static int dispatch(int argc, char **argv)
{
    a5_cli_set_self(argc > 0 ? argv[0] : NULL);
    if (argc < 2) {
        overview(stderr);
        return A5_EXIT_USAGE;
    }
    const char *cmd = argv[1];
#ifdef __GLIBC__
    /* Large buffers (blocks of records, HDF5's chunk and conversion buffers) are
     * allocated and freed over and over. Left to glibc, each may get fresh pages
     * from the system and give them back, and on a VM a page fault costs several
     * microseconds: a batch took up to twice as long. Keep them in the heap. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
    if (!strcmp(cmd, "run"))
        return a5_cli_run(argc - 1, argv + 1, argc, argv);
    if (!strcmp(cmd, "validate"))
        return cmd_validate(argc - 1, argv + 1);
    if (!strcmp(cmd, "info"))
        return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "calibrate"))
        return a5_cli_calibrate(argc - 1, argv + 1, argc, argv);
    if (!strcmp(cmd, "forecast"))
        return a5_cli_forecast(argc - 1, argv + 1, argc, argv);
    if (!strcmp(cmd, "export"))
        return a5_cli_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "report"))
        return a5_cli_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "reference"))
        return cmd_reference(argc - 1, argv + 1);
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("allied5g %s (%s)\n", A5_VERSION, A5_GIT_REVISION);
        return 0;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        full_help(stdout);
        return 0;
    }
    const char *names[NCOMMANDS + 1];
    for (int i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i]->name;
    names[NCOMMANDS] = "--version";
    const char *near = a5_suggest(cmd, names, NCOMMANDS + 1);
    if (near)
        fprintf(stderr, "allied5g: unknown command '%s' (did you mean '%s'?)\n", SHOW(cmd), near);
    else
        fprintf(stderr, "allied5g: unknown command '%s'\n", SHOW(cmd));
    overview(stderr);
    return A5_EXIT_USAGE;
}

int a5_cli_main(int argc, char **argv)
{
    int rc = dispatch(argc, argv);
    /* What was printed must have been written: a full disk or a closed pipe behind
     * stdout is a failure (files the command wrote are in place all the same). */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int e = errno ? errno : EIO;
        fprintf(stderr, "allied5g: cannot write to standard output: %s\n", strerror(e));
        return rc ? rc : A5_EXIT_RUNTIME;
    }
    return rc;
}
