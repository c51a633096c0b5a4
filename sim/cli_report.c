/* allied5g report OUT.h5 -o DIR: figures (PNG, SVG, PDF), an interactive index.html
 * and the end-of-run table of a results file; and the launcher that `report` and
 * `export` share.
 *
 * Both are written once, by the analysis package (allied5g.write_report,
 * allied5g.export_csv); the binary runs it with the project's Python, never the first
 * `python3` on PATH (which may be a pyenv or conda one without numpy):
 *   - $ALLIED5G_PYTHON if set (its own allied5g package);
 *   - an installed binary (cmake --install) uses the package installed beside it,
 *     PREFIX/share/allied5g/analysis, with Debian's /usr/bin/python3;
 *   - else the checkout's .venv (scripts/quickstart.sh makes it);
 *   - else /usr/bin/python3 with the checkout's analysis/ on PYTHONPATH. */
#include "a5_cli.h"

#include "a5_error.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef A5_SOURCE_DIR
#define A5_SOURCE_DIR "."
#endif

/* PREFIX/share/allied5g/analysis when this executable is PREFIX/bin/allied5g and the
 * package is installed there; else "". */
static const char *installed_analysis(void)
{
    static char dir[PATH_MAX + 64];
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return "";
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return "";
    *slash = 0;                                   /* PREFIX/bin */
    snprintf(dir, sizeof dir, "%s/../share/allied5g/analysis", exe);
    char probe[sizeof dir + 32];
    snprintf(probe, sizeof probe, "%s/allied5g/__init__.py", dir);
    return access(probe, R_OK) == 0 ? dir : "";
}

/* The Python to run, and the directory to put first on PYTHONPATH ("" for none). */
static const char *python(const char **path)
{
    static char venv[4096];
    const char *env = getenv("ALLIED5G_PYTHON");
    *path = "";
    if (env && *env)
        return env;
    *path = installed_analysis();
    if (**path)
        return "/usr/bin/python3";
    snprintf(venv, sizeof venv, "%s/.venv/bin/python", A5_SOURCE_DIR);
    if (access(venv, X_OK) == 0)
        return venv;
    *path = A5_SOURCE_DIR "/analysis";
    return "/usr/bin/python3";
}

int a5_cli_python(const char *cmd, const char *const *args)
{
    const char *dir;
    const char *py = python(&dir);
    if (*dir) {
        const char *old = getenv("PYTHONPATH");
        size_t n = strlen(dir) + (old ? strlen(old) : 0) + 2;
        char *pp = malloc(n);
        if (!pp) {
            fprintf(stderr, "allied5g %s: out of memory\n", cmd);
            return A5_EXIT_RUNTIME;
        }
        snprintf(pp, n, "%s%s%s", dir, old && *old ? ":" : "", old ? old : "");
        setenv("PYTHONPATH", pp, 1);
        free(pp);
    }
    setenv("ALLIED5G_PROG", a5_cli_self(), 1); /* usage lines name the command as typed */
    const char *argv[A5_CLI_MAXOPT * 2 + 8];
    int k = 0;
    argv[k++] = py;
    argv[k++] = "-m";
    argv[k++] = "allied5g";
    argv[k++] = cmd;
    for (const char *const *a = args; *a && k < (int)(sizeof argv / sizeof *argv) - 1; a++)
        argv[k++] = *a;
    argv[k] = NULL;
    fflush(NULL);
    execv(py, (char *const *)argv);
    char e[512];
    fprintf(stderr, "allied5g %s: cannot run %s: %s (set ALLIED5G_PYTHON, or run bash "
                    "%s/scripts/quickstart.sh)\n", cmd, a5_escape(py, 200, e, sizeof e), strerror(errno),
            A5_SOURCE_DIR);
    return A5_EXIT_RUNTIME;
}

enum { R_OUT, R_NATIONS, R_TOP, R_CODES, R_STATIC, R_FORCE, R_NOPT };

static const a5_cli_opt report_opts[R_NOPT] = {
    [R_OUT] = {"outdir", 'o', "DIR", 0, "required",
               "directory for index.html, the figures (.png, .svg, .pdf) and end_of_run.csv"},
    [R_NATIONS] = {"nations", 0, "CODES", 1, NULL,
                   "nations to plot, comma-separated ISO codes (e.g. DEU,FRA,GBR); default: "
                   "the --top nations with the most influence in the scenario"},
    [R_TOP] = {"top", 0, "N", 0, "8", "how many nations to plot when --nations is not given"},
    [R_CODES] = {"codes", 0, NULL, 0, NULL, "label nations by ISO code instead of name"},
    [R_STATIC] = {"static", 0, NULL, 0, NULL,
                  "leave out the interactive figures (a page without JavaScript)"},
    [R_FORCE] = {"force", 0, NULL, 0, NULL, "replace the report's files DIR already has"},
};

const a5_cli_cmd a5_cli_report_cmd = {
    "report", "OUT.h5", 1,
    "Write a report of a results file to send a colleague: index.html (key findings with\n"
    "90 % Monte Carlo intervals, interactive figures that work offline, provenance, the\n"
    "scenario as run), the figures as PNG, SVG and PDF, and end_of_run.csv. Needs the\n"
    "analysis package (bash scripts/quickstart.sh sets it up).",
    report_opts, R_NOPT, "allied5g report out.h5 -o report --nations DEU,FRA,GBR"};

int a5_cli_report(int argc, char **argv)
{
    a5_cli_args a;
    int rc = a5_cli_parse(&a5_cli_report_cmd, argc, argv, &a);
    if (rc || a.help) {
        a5_cli_args_free(&a);
        return rc ? A5_EXIT_USAGE : 0;
    }
    long top = 8;
    if (!a.given[R_OUT]) {
        fprintf(stderr, "allied5g report: needs -o DIR\n");
        rc = A5_EXIT_USAGE;
    } else if (a.given[R_TOP] && a5_cli_whole("--top", a.val[R_TOP], 1, 1000, &top))
        rc = A5_EXIT_USAGE;
    if (rc) {
        a5_cli_args_free(&a);
        return rc;
    }
    const char *args[A5_CLI_MAXOPT * 2 + 4];
    int k = 0;
    args[k++] = a.operand[0];
    args[k++] = "--outdir";
    args[k++] = a.val[R_OUT];
    for (int i = 0; i < a.given[R_NATIONS] && k < A5_CLI_MAXOPT * 2; i++) {
        args[k++] = "--nations";
        args[k++] = a.list[R_NATIONS][i];
    }
    if (a.given[R_TOP]) {
        args[k++] = "--top";
        args[k++] = a.val[R_TOP];
    }
    if (a.given[R_CODES])
        args[k++] = "--codes";
    if (a.given[R_STATIC])
        args[k++] = "--static";
    if (a.given[R_FORCE])
        args[k++] = "--force";
    args[k] = NULL;
    rc = a5_cli_python("report", args);
    a5_cli_args_free(&a);
    return rc;
}
