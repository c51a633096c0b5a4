/* `allied5g calibrate`: fit scenario parameters to observed policies and write
 * FITTED.yaml (the work is in the calibrate module; this file is its command
 * line and report). See a5_cli.h and a5_calibrate.h. */
#include "a5_cli.h"

#include "a5_calibrate.h"
#include "a5_error.h"
#include "a5_scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { C_OUT, C_OBSERVED, C_FIT, C_REPS, C_STARTS, C_HOLDOUT, C_OBJECTIVE, C_THREADS, C_SET,
       C_SEED, C_FORCE, C_QUIET, C_REPEATED, C_NOPT };

static const a5_cli_opt calibrate_opts[C_NOPT] = {
    [C_OUT] = {"output", 'o', "FITTED.yaml", 0, "required", "fitted scenario to write"},
    [C_OBSERVED] = {"observed", 0, "OBS.csv", 0, "required",
                    "observed policies, header code,date,policy"},
    [C_FIT] = {"fit", 0, "PATH[=LO:HI]", 1, "the parameter's range when modest",
               "a parameter to fit, within bounds (at least one)"},
    [C_REPS] = {"replicates", 0, "N", 0, "the scenario's, at least 100",
                "replicates per evaluation of the objective"},
    [C_STARTS] = {"starts", 0, "K", 0, "3", "Nelder-Mead starts"},
    [C_HOLDOUT] = {"holdout", 0, "CODE,...", 0, NULL, "nations left out of the fit and scored"},
    [C_OBJECTIVE] = {"objective", 0, "loglik|brier", 0, "loglik", "what the fit minimises"},
    [C_THREADS] = {"threads", 0, "N", 0, "all cores", "worker threads"},
    [C_SET] = {"set", 0, "PATH=VALUE", 1, NULL, "override one scenario value, as in the file"},
    [C_SEED] = {"seed", 0, "N", 0, "the scenario's seed", "master seed"},
    [C_FORCE] = {"force", 0, NULL, 0, NULL, "replace FITTED.yaml"},
    [C_QUIET] = {"quiet", 'q', NULL, 0, NULL, "no progress lines"},
    [C_REPEATED] = {"repeated-observations", 0, NULL, 0, NULL,
                    "rows of one nation and quarter are independent observations (e.g. "
                    "simulated worlds) and may disagree"},
};

/* Observations are decisions: one nation, one quarter, one policy. A second row
 * that disagrees is a mistake in the data, unless the rows are repeated
 * observations (--repeated-observations). Reports each at its line. */
static void contradictions(const char *path, const a5_scenario *s, const a5_obs *o, size_t n,
                           a5_diag *d)
{
    static const char *const pw[] = {"open", "restrict", "ban"};
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < j; i++)
            if (o[i].nation == o[j].nation && o[i].step == o[j].step &&
                o[i].policy != o[j].policy) {
                char q[16];
                a5_scenario_date(s, o[j].step, q, sizeof q);
                a5_diag_add(d, path, o[j].line, 1, "%s %s is '%s' here but '%s' on line %d: one "
                            "policy per nation and quarter (repeated observations, such as "
                            "simulated worlds: --repeated-observations)", s->codes[o[j].nation],
                            q, pw[o[j].policy], pw[o[i].policy], o[i].line);
                break;
            }
}

const a5_cli_cmd a5_cli_calibrate_cmd = {
    "calibrate", "SCENARIO.yaml", 1,
    "Fit scenario parameters to the policies nations chose (simulated likelihood,\n"
    "Nelder-Mead), print the fit and write the scenario with the fitted values.",
    calibrate_opts, C_NOPT,
    "allied5g calibrate scenarios/huawei_2019.yaml --observed scenarios/observed_2019_2025.csv "
    "--fit decision.weights.us=0:5 -o fitted.yaml"};

static void calib_report(void *ctx, const char *line)
{
    if (!*(const int *)ctx)
        fprintf(stderr, "calibrate: %s\n", line);
}

/* The --holdout codes, split in place in buf (NULL-terminated list), each checked
 * against the scenario's nations. Returns 0 or A5_EUSAGE (printed). */
static int holdout_codes(const a5_scenario *s, char *buf, const char **list)
{
    size_t nh = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
        list[nh++] = tok;
    for (size_t q = 0; q < nh; q++) {
        int found = 0;
        for (int i = 0; i < s->n; i++)
            found |= !strcmp(s->codes[i], list[q]);
        if (!found) {
            fprintf(stderr, "--holdout:1:1: error: unknown nation code '%s'\n",
                    a5_escape(list[q], 200, (char[1024]){0}, 1024));
            return A5_EUSAGE;
        }
    }
    return 0;
}

static void print_fit(const a5_fit_spec *spec, int nfits, const a5_calib_result *res, long reps,
                      int brier, const char *out)
{
    printf("fitted %d parameter%s to %zu observations (%ld replicates per evaluation, %d evaluations)\n",
           nfits, nfits == 1 ? "" : "s", res->nfit, reps, res->evaluations);
    printf("  %-32s %10s %10s %10s\n", "path", "start", "fitted", "std.err");
    for (int j = 0; j < nfits; j++)
        printf("  %-32s %10.4g %10.4g %10.3g\n", spec[j].path, res->start[j], res->value[j],
               res->se[j]);
    printf("objective (%s): %.4f at the scenario's values -> %.4f\n",
           brier ? "Brier score" : "-log-likelihood", res->obj_start, res->obj_end);
    printf("fitted observations: log-likelihood %.3f, Brier %.4f, accuracy %.3f\n", res->loglik,
           res->brier, res->accuracy);
    if (res->nheld)
        printf("held out (%zu observations):     log-likelihood  Brier  accuracy\n"
               "  model at the fit              %14.3f %6.4f %9.3f\n"
               "  baseline: keep initial policy %14.3f %6.4f %9.3f\n"
               "  baseline: bloc majority       %14.3f %6.4f %9.3f\n",
               res->nheld, res->held_loglik, res->held_brier, res->held_accuracy,
               res->base_keep_loglik, res->base_keep_brier, res->base_keep_accuracy,
               res->base_bloc_loglik, res->base_bloc_brier, res->base_bloc_accuracy);
    printf("wrote %s\n", out);
}

/* Exit status of an A5_E* code from the calibrate module. */
static int exit_of(int code)
{
    return code == A5_ENOMEM || code == A5_EIO ? A5_EXIT_RUNTIME : A5_EXIT_USAGE;
}

/* Check the command line; read the observations and the fit specs. */
static int prepare(const a5_cli_args *a, const a5_scenario *s, a5_obs **obs, size_t *nobs,
                   a5_fit_spec *spec)
{
    a5_diag d = {0};
    int rc = a5_calib_read_obs(a->val[C_OBSERVED], s, &d, obs, nobs);
    if (!rc && !a->given[C_REPEATED]) {
        contradictions(a->val[C_OBSERVED], s, *obs, *nobs, &d);
        if (a5_diag_count(&d))
            rc = A5_ESCENARIO;
    }
    for (int j = 0; !rc && j < a->given[C_FIT]; j++) {
        rc = a5_calib_parse_fit(s, a->list[C_FIT][j], j + 1, &spec[j], &d);
        /* One parameter, one set of bounds: a second --fit of it is a mistake. */
        for (int i = 0; !rc && i < j; i++)
            if (!strcmp(spec[i].path, spec[j].path)) {
                a5_diag_add(&d, "--fit", j + 1, 1, "'%s' is fitted twice (also --fit number %d); "
                            "give each parameter once", spec[j].path, i + 1);
                rc = A5_ESCENARIO;
            }
    }
    a5_diag_print(&d, stderr);
    a5_diag_free(&d);
    if (rc == A5_EIO)
        return A5_EXIT_USAGE; /* an observations file that cannot be read is bad input */
    return rc ? exit_of(rc) : 0;
}

static int calibrate(const a5_cli_args *a, const a5_cli_sets *sets, const a5_scenario *s,
                     const char *cmdline)
{
    a5_obs *obs = NULL;
    size_t nobs = 0;
    const int nfits = a->given[C_FIT];
    a5_fit_spec *spec = calloc((size_t)nfits, sizeof *spec);
    char *holdout_buf = a->val[C_HOLDOUT] ? strdup(a->val[C_HOLDOUT]) : NULL;
    const char **holdout = holdout_buf ? calloc(strlen(holdout_buf) + 2, sizeof *holdout) : NULL;
    a5_calib_result res;
    memset(&res, 0, sizeof res);
    long starts = 3;
    int rc = A5_EXIT_RUNTIME;
    if (!spec || (a->val[C_HOLDOUT] && !holdout))
        goto out;
    if ((rc = prepare(a, s, &obs, &nobs, spec)) != 0)
        goto out;
    rc = A5_EXIT_USAGE;
    if ((a->val[C_STARTS] && a5_cli_whole("--starts", a->val[C_STARTS], 1, 100, &starts)) ||
        (holdout && holdout_codes(s, holdout_buf, holdout)))
        goto out;
    int threads = 0;
    long x;
    if (a->val[C_THREADS]) {
        if (a5_cli_whole("--threads", a->val[C_THREADS], 1, 1024, &x))
            goto out;
        threads = (int)x;
    }
    int quiet = a->given[C_QUIET] > 0, brier = a->val[C_OBJECTIVE] && !strcmp(a->val[C_OBJECTIVE], "brier");
    /* --replicates given: use it as is; else at least 100. */
    long reps = a->val[C_REPS] || s->replicates >= 100 ? s->replicates : 100;
    a5_calib_opts co = {reps, (int)starts, 150, brier, 0, threads, holdout, calib_report, &quiet};
    char err[512] = "";
    int frc = a5_calib_fit(s, obs, nobs, spec, (size_t)nfits, &co, &res, err, sizeof err);
    if (frc) {
        fprintf(stderr, "allied5g: calibrate: %s\n", err[0] ? err : a5_strerror(frc));
        rc = exit_of(frc);
        goto out;
    }
    a5_calib_provenance how = {cmdline, a->val[C_OBSERVED], reps, brier};
    a5_diag d = {0};
    int wrc = a5_calib_write_fitted(a->val[C_OUT], a->operand[0], sets->v, sets->n, spec,
                                    (size_t)nfits, &res, &how, &d, err, sizeof err);
    a5_diag_print(&d, stderr);
    a5_diag_free(&d);
    if (wrc) {
        fprintf(stderr, "allied5g: cannot write %s: %s\n", a->val[C_OUT],
                err[0] ? err : a5_strerror(wrc));
        rc = A5_EXIT_RUNTIME;
        goto out;
    }
    print_fit(spec, nfits, &res, reps, brier, a->val[C_OUT]);
    rc = 0;
out:
    a5_calib_result_free(&res);
    for (int j = 0; spec && j < nfits; j++)
        free(spec[j].path);
    free(spec);
    free(holdout);
    free(holdout_buf);
    free(obs);
    return rc;
}

int a5_cli_calibrate(int argc, char **argv, int full_argc, char **full_argv)
{
    a5_cli_args a;
    a5_cli_sets sets = {0};
    a5_scenario *s = NULL;
    /* Joined before getopt_long permutes argv: the command exactly as typed. */
    char *cmdline = a5_cli_join_argv(full_argc, full_argv);
    int rc = a5_cli_parse(&a5_cli_calibrate_cmd, argc, argv, &a);
    if (!rc && !cmdline) {
        fprintf(stderr, "allied5g: out of memory\n");
        rc = A5_ENOMEM;
    }
    if (rc || a.help) {
        rc = rc == A5_ENOMEM ? A5_EXIT_RUNTIME : rc ? A5_EXIT_USAGE : 0;
        goto done;
    }
    rc = A5_EXIT_USAGE;
    const char *objective = a.val[C_OBJECTIVE];
    struct stat st;
    if (!a.val[C_OUT] || !a.val[C_OBSERVED] || !a.given[C_FIT]) {
        fprintf(stderr, "allied5g calibrate: needs -o FITTED.yaml, --observed OBS.csv and at "
                        "least one --fit PATH\n");
    } else if (objective && strcmp(objective, "loglik") && strcmp(objective, "brier")) {
        fprintf(stderr, "allied5g: --objective expects loglik or brier, got '%s'\n",
                a5_escape(objective, 200, (char[1024]){0}, 1024));
    } else if (!a.given[C_FORCE] && stat(a.val[C_OUT], &st) == 0) {
        fprintf(stderr, "allied5g: %s exists; use --force to replace it\n", a.val[C_OUT]);
    } else if ((rc = a5_cli_sets_make(&sets, a.list[C_SET], a.given[C_SET], a.val[C_SEED],
                                      a.val[C_REPS], NULL)) != 0) {
        rc = rc == A5_ENOMEM ? A5_EXIT_RUNTIME : A5_EXIT_USAGE;
    } else if ((rc = a5_cli_load(a.operand[0], &sets, &s)) == 0) {
        rc = calibrate(&a, &sets, s, cmdline);
    }
done:
    free(cmdline);
    a5_scenario_free(s);
    a5_cli_sets_free(&sets);
    a5_cli_args_free(&a);
    return rc;
}
