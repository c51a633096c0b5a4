/* allied5g export OUT.h5 --csv DIR: tidy CSV files of a results file, for
 * spreadsheets and R.
 *
 * The CSV layout is written once, by the analysis package (allied5g.export_csv);
 * this command runs it with the project's Python: $ALLIED5G_PYTHON if set, else the
 * checkout's .venv (scripts/quickstart.sh makes it), else Debian's /usr/bin/python3
 * with the checkout's analysis/ on PYTHONPATH. Never the first `python3` on PATH,
 * which may be a pyenv or conda one without numpy. */
#include "a5_cli.h"

#include "a5_error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef A5_SOURCE_DIR
#define A5_SOURCE_DIR "."
#endif

enum { E_CSV, E_FORCE, E_SPACE, E_NOPT };

static const a5_cli_opt export_opts[E_NOPT] = {
    [E_CSV] = {"csv", 0, "DIR", 0, "required",
               "directory for steps.csv, finals.csv, aggregates.csv, design.csv, nations.csv"},
    [E_FORCE] = {"force", 0, NULL, 0, NULL, "replace those files when DIR already has them"},
    [E_SPACE] = {"ignore-space", 0, NULL, 0, NULL,
                 "export even when the estimated size exceeds the free space beside DIR"},
};

const a5_cli_cmd a5_cli_export_cmd = {
    "export", "OUT.h5", 1,
    "Write a results file as tidy CSV files, one per variable family (per replicate and\n"
    "step, per replicate at the end, aggregates over replicates, design values), plus\n"
    "nations.csv. Needs the analysis package (bash scripts/quickstart.sh sets it up).",
    export_opts, E_NOPT, "allied5g export out.h5 --csv out-csv"};

/* The Python to run the exporter with, and whether it needs analysis/ on its path. */
static const char *python(int *needs_path)
{
    static char venv[4096];
    const char *env = getenv("ALLIED5G_PYTHON");
    *needs_path = 0;
    if (env && *env)
        return env;
    snprintf(venv, sizeof venv, "%s/.venv/bin/python", A5_SOURCE_DIR);
    if (access(venv, X_OK) == 0)
        return venv;
    *needs_path = 1;
    return "/usr/bin/python3";
}

int a5_cli_export(int argc, char **argv)
{
    a5_cli_args a;
    int rc = a5_cli_parse(&a5_cli_export_cmd, argc, argv, &a);
    if (rc || a.help) {
        a5_cli_args_free(&a);
        return rc ? A5_EXIT_USAGE : 0;
    }
    if (!a.given[E_CSV]) {
        fprintf(stderr, "allied5g export: needs --csv DIR\n");
        a5_cli_args_free(&a);
        return A5_EXIT_USAGE;
    }
    int needs_path;
    const char *py = python(&needs_path);
    if (needs_path) {
        const char *old = getenv("PYTHONPATH");
        size_t n = strlen(A5_SOURCE_DIR) + (old ? strlen(old) : 0) + 16;
        char *pp = malloc(n);
        if (!pp) {
            a5_cli_args_free(&a);
            return A5_EXIT_RUNTIME;
        }
        snprintf(pp, n, "%s/analysis%s%s", A5_SOURCE_DIR, old && *old ? ":" : "", old ? old : "");
        setenv("PYTHONPATH", pp, 1);
        free(pp);
    }
    char *args[10] = {(char *)py, "-m", "allied5g", "export", (char *)a.operand[0], "--csv",
                      (char *)a.val[E_CSV]};
    int n = 7;
    if (a.given[E_FORCE])
        args[n++] = "--force";
    if (a.given[E_SPACE])
        args[n++] = "--ignore-space";
    args[n] = NULL;
    fflush(NULL);
    execv(py, args);
    char e[512];
    fprintf(stderr, "allied5g export: cannot run %s: %s (set ALLIED5G_PYTHON, or run bash "
                    "scripts/quickstart.sh)\n", a5_escape(py, 200, e, sizeof e), strerror(errno));
    a5_cli_args_free(&a);
    return A5_EXIT_RUNTIME;
}
