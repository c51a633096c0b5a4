/* allied5g export OUT.h5 --csv DIR: tidy CSV files of a results file, for
 * spreadsheets and R.
 *
 * The CSV layout is written once, by the analysis package (allied5g.export_csv);
 * this command runs it with the project's Python (a5_cli_python in cli_report.c
 * says which: never the first `python3` on PATH). */
#include "a5_cli.h"

#include "a5_error.h"

#include <stdio.h>

enum { E_CSV, E_FORCE, E_SPACE, E_NOPT };

static const a5_cli_opt export_opts[E_NOPT] = {
    [E_CSV] = {"csv", 0, "DIR", 0, "required",
               "directory for steps.csv, finals.csv, outcomes.csv, aggregates.csv, design.csv, "
               "nations.csv"},
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
    const char *args[] = {a.operand[0], "--csv", a.val[E_CSV],
                          a.given[E_FORCE] ? "--force" : NULL, NULL, NULL};
    if (a.given[E_SPACE])
        args[a.given[E_FORCE] ? 4 : 3] = "--ignore-space";
    rc = a5_cli_python("export", args);
    a5_cli_args_free(&a);
    return rc;
}
