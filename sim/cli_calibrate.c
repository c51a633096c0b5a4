/* `allied5g calibrate`: fit scenario parameters to observed policies and write
 * FITTED.yaml (the work is in the calibrate module; this file is its command
 * line and report). See a5_cli.h and a5_calibrate.h. */
#include "a5_cli.h"

#include "a5_calibrate.h"
#include "a5_error.h"
#include "a5_param.h"
#include "a5_scenario.h"
#include "a5_sys.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An argument as messages show it: control bytes escaped, cut when long. */
#define SHOW(v) a5_escape((v), 200, (char[1024]){0}, 1024)

enum { C_OUT, C_OBSERVED, C_FIT, C_REPS, C_STARTS, C_HOLDOUT, C_OBJECTIVE, C_THREADS, C_SET,
       C_SEED, C_FORCE, C_QUIET, C_FOLDS, C_FOLD_SEED, C_SEEDS, C_MAX_ITER, C_TOL, C_SMOOTH,
       C_BOOTSTRAP, C_LEVEL, C_PREDICTIONS, C_ESTIMATES,
       C_REPEATED, C_NOPT };

static const a5_cli_opt calibrate_opts[C_NOPT] = {
    [C_OUT] = {"output", 'o', "FITTED.yaml", 0, "required", "fitted scenario to write"},
    [C_OBSERVED] = {"observed", 0, "OBS.csv", 0, "required",
                    "observed policies, header code,date,policy"},
    [C_FIT] = {"fit", 0, "PATH[=LO:HI]", 1, "the parameter's range when modest",
               "a parameter to fit, within bounds; given, the --fit list replaces the "
               "scenario's calibration.fit (needed when it has none)"},
    [C_REPS] = {"replicates", 0, "N", 0, "1000",
                "simulated worlds per evaluation of the objective"},
    [C_STARTS] = {"starts", 0, "K", 0, "8",
                  "Nelder-Mead starts: the scenario's values, then Latin-hypercube points"},
    [C_HOLDOUT] = {"holdout", 0, "CODE,...", 0, NULL, "nations left out of the fit and scored"},
    [C_OBJECTIVE] = {"objective", 0, "loglik|brier", 0, "loglik", "what the fit minimises"},
    [C_THREADS] = {"threads", 0, "N", 0, "all cores", "worker threads"},
    [C_SET] = {"set", 0, "PATH=VALUE", 1, NULL, "override one scenario value, as in the file"},
    [C_SEED] = {"seed", 0, "N", 0, "the scenario's seed",
                "master seed (the random streams of every simulated world)"},
    [C_FORCE] = {"force", 0, NULL, 0, NULL, "replace FITTED.yaml and the --predictions and "
                                            "--estimates files"},
    [C_QUIET] = {"quiet", 'q', NULL, 0, NULL, "no progress lines (warnings are still printed)"},
    [C_FOLDS] = {"folds", 0, "K", 0, NULL,
                 "K-fold cross-validation by nation: fit on K-1 folds, score the held-out one"},
    [C_FOLD_SEED] = {"fold-seed", 0, "S", 0, "the scenario's seed",
                     "the shuffle that deals nations into folds"},
    [C_SEEDS] = {"seeds", 0, "N", 0, "1",
                 "repeat everything on N independent random-number sets and report the spread"},
    [C_MAX_ITER] = {"max-iter", 0, "N", 0, "400", "Nelder-Mead iterations per start"},
    [C_TOL] = {"tol", 0, "T", 0, "0.001",
               "stop a start when the simplex (logistic scale) is this small"},
    [C_SMOOTH] = {"smooth", 0, "A", 0, "0.5",
                  "pseudo-count per policy in simulated shares: (count + A) / (R + 3A)"},
    [C_BOOTSTRAP] = {"bootstrap", 0, "B", 0, "100 with --estimates, else 0",
                     "parametric-bootstrap refits for the intervals (0: none)"},
    [C_LEVEL] = {"level", 0, "L", 0, "0.9", "interval level, between 0 and 1"},
    [C_PREDICTIONS] = {"predictions", 0, "FILE.csv", 0, NULL,
                       "write code,date,observed,fold,p_open,p_restrict,p_ban per scored row"},
    [C_ESTIMATES] = {"estimates", 0, "FILE.csv", 0, NULL,
                     "write path,estimate,lo,hi,level,method per fitted path"},
    [C_REPEATED] = {"repeated-observations", 0, NULL, 0, NULL,
                    "rows of one nation and quarter are independent observations (e.g. "
                    "simulated worlds) and may disagree"},
};

const a5_cli_cmd a5_cli_calibrate_cmd = {
    "calibrate", "SCENARIO.yaml", 1,
    "Fit scenario parameters to the policies nations chose (simulated likelihood,\n"
    "Nelder-Mead), score the fit against baselines (held out with --folds or\n"
    "--holdout), print the fit and write the scenario with the fitted values.\n"
    "  allied5g calibrate SCENARIO.yaml --observed OBS.csv [--fit PATH[=LO:HI]...] -o FITTED.yaml\n"
    "      [--folds K] [--fold-seed S] [--holdout CODE,...] [--seeds N] [--seed N]\n"
    "      [--bootstrap B] [--level L] [--replicates R] [--starts K] [--max-iter N]\n"
    "      [--tol T] [--smooth A] [--objective loglik|brier] [--predictions FILE.csv]\n"
    "      [--estimates FILE.csv] [--threads N] [--set PATH=VALUE]... [--force] [--quiet]\n"
    "Warnings (iteration cap, estimates at a bound, flat or unidentified parameters,\n"
    "seed spread) go to stderr even with --quiet, and into FITTED.yaml's header.\n"
    "Without --fit, the paths and bounds of the scenario's calibration: {fit: {PATH: LO:HI}}\n"
    "section are fitted; any --fit replaces that whole set.\n"
    "docs/calibration.md explains the defaults, the intervals and the baselines.",
    calibrate_opts, C_NOPT,
    "allied5g calibrate scenarios/huawei_2019.yaml --observed scenarios/observed_sourced.csv "
    "--fit decision.weights.us=0:3 --folds 5 --estimates est.csv --predictions pred.csv "
    "-o fitted.yaml"};

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
    /* Split by hand: an empty code (",,", a comma at an end) is a mistake. */
    for (char *tok = buf, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = 0;
        if (!*tok) {
            fprintf(stderr, "--holdout:1:%d: error: empty nation code (two commas, or one at an "
                            "end)\n", (int)(tok - buf) + 1);
            return A5_EUSAGE;
        }
        for (size_t q = 0; q < nh; q++)
            if (!strcmp(list[q], tok)) {
                fprintf(stderr, "--holdout:1:%d: error: '%s' is held out twice\n",
                        (int)(tok - buf) + 1, a5_escape(tok, 200, (char[1024]){0}, 1024));
                return A5_EUSAGE;
            }
        list[nh++] = tok;
    }
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

/* "n/a (reason)" for a missing std.err: the reason from the library's warning. */
static const char *se_missing(const a5_calib_result *res)
{
    static const char key[] = "std.err not available: ";
    for (size_t i = 0; i < res->nwarnings; i++)
        if (!strncmp(res->warnings[i], key, sizeof key - 1))
            return res->warnings[i] + sizeof key - 1;
    return "the curvature gave none";
}

static void print_estimates(const a5_fit_spec *spec, int nfits, const a5_calib_result *res)
{
    int any_na = 0;
    printf("  %-32s %10s %10s %10s  %s\n", "path", "start", "fitted", "std.err",
           res->bootstrap ? "interval" : "");
    for (int j = 0; j < nfits; j++) {
        char se[32] = "n/a", iv[96] = "";
        if (isfinite(res->se[j]))
            snprintf(se, sizeof se, "%.3g", res->se[j]);
        else
            any_na = 1;
        if (isfinite(res->lo[j]) && isfinite(res->hi[j]))
            snprintf(iv, sizeof iv, "[%.4g, %.4g]", res->lo[j], res->hi[j]);
        printf("  %-32s %10.4g %10.4g %10s  %s\n", spec[j].path, res->start[j], res->value[j], se,
               iv);
    }
    if (any_na)
        printf("  std.err n/a (%s)\n", se_missing(res));
    if (res->bootstrap)
        printf("  intervals: %g %% %s, %d refits (std.err from the curvature is a lower bound)\n",
               100 * res->level, res->method, res->bootstrap);
    else
        printf("  intervals: n/a (no bootstrap: give --bootstrap B or --estimates); std.err from "
               "the curvature is a lower bound\n");
}

static void print_scores(const a5_calib_result *res, const char *holdout)
{
    if (res->folds)
        printf("held out: %d folds by nation, %zu observations, each predicted by a fit that did "
               "not see its nation\n", res->folds, res->scores[A5_CALIB_MODEL].n);
    else if (res->out_of_sample)
        printf("held out: %zu observations of --holdout %s\n", res->scores[A5_CALIB_MODEL].n,
               holdout);
    else
        printf("in sample: %zu observations, the rows fitted (optimistic; --folds K scores held "
               "out)\n", res->scores[A5_CALIB_MODEL].n);
    printf("  %-22s %6s %8s %10s %9s\n", "predictor", "n", "Brier", "log score", "accuracy");
    for (int m = 0; m < A5_CALIB_NMODELS; m++) {
        const a5_calib_score *sc = &res->scores[m];
        if (!sc->n || !isfinite(sc->brier)) {
            printf("  %-22s %6zu n/a (no rows to score)\n", sc->name ? sc->name : "?", sc->n);
            continue;
        }
        printf("  %-22s %6zu %8.4f %10.4f %9.3f\n", sc->name, sc->n, sc->brier, sc->logscore,
               sc->accuracy);
    }
    printf("  (Brier 0 best, 2 worst; log score = mean log max(p, %g); base rates are the "
           "training rows' shares)\n", res->score_floor);
}

/* A score or "n/a" (no rows), right-aligned in w columns with d decimals. */
static const char *num(char *buf, size_t len, int w, int d, double x)
{
    if (isfinite(x))
        snprintf(buf, len, "%*.*f", w, d, x);
    else
        snprintf(buf, len, "%*s", w, "n/a");
    return buf;
}

/* Issue 23: the scores on changed and unchanged rows, the within-date AUC of "has
 * moved" and the timing curve, for the model and every baseline. */
static void print_subsets(const a5_calib_result *res)
{
    const a5_calib_score *m0 = &res->scores[A5_CALIB_MODEL];
    char a[32], b[32], c[32], d[32], e[32];
    printf("changed rows (%zu: the observed policy is not the nation's starting policy) and "
           "unchanged rows (%zu); moved AUC: within-date ranking of changed above unchanged "
           "rows by 1 - p(starting policy), %zu pairs\n", m0->n_changed, m0->n_unchanged,
           m0->auc_pairs);
    printf("  %-22s %14s %10s %17s %10s %10s\n", "predictor", "changed: Brier", "log score",
           "unchanged: Brier", "log score", "moved AUC");
    for (int m = 0; m < A5_CALIB_NMODELS; m++) {
        const a5_calib_score *sc = &res->scores[m];
        printf("  %-22s %s %s %s %s %s\n", sc->name ? sc->name : "?",
               num(a, sizeof a, 14, 4, sc->brier_changed),
               num(b, sizeof b, 10, 4, sc->logscore_changed),
               num(c, sizeof c, 17, 4, sc->brier_unchanged),
               num(d, sizeof d, 10, 4, sc->logscore_unchanged),
               num(e, sizeof e, 10, 3, sc->auc_moved));
    }
    printf("Brier - model, row by row (paired std.err over rows, taken as independent): a "
           "predictor the model beats has a positive difference\n");
    printf("  %-22s %24s %24s\n", "predictor", "all rows", "changed rows");
    for (int m = 0; m < A5_CALIB_NMODELS; m++) {
        const a5_calib_score *sc = &res->scores[m];
        if (m == A5_CALIB_MODEL)
            continue;
        char x[64], y[64];
        snprintf(x, sizeof x, "%+.4f (%.4f)", sc->dbrier, sc->dbrier_se);
        snprintf(y, sizeof y, "%+.4f (%.4f)", sc->dbrier_changed, sc->dbrier_changed_se);
        printf("  %-22s %24s %24s\n", sc->name ? sc->name : "?", isfinite(sc->dbrier) ? x : "n/a",
               isfinite(sc->dbrier_changed) ? y : "n/a");
    }
    printf("timing: mean probability of the new policy at the nation's row 1 year before, at, 1 "
           "and 2 years after each observed change (rows: %zu, %zu, %zu, %zu)\n",
           m0->timing_n[0], m0->timing_n[1], m0->timing_n[2], m0->timing_n[3]);
    printf("  %-22s %8s %8s %8s %8s\n", "predictor", "-1 year", "0", "+1 year", "+2 years");
    for (int m = 0; m < A5_CALIB_NMODELS; m++) {
        const a5_calib_score *sc = &res->scores[m];
        printf("  %-22s %s %s %s %s\n", sc->name ? sc->name : "?",
               num(a, sizeof a, 8, 3, sc->timing[0]), num(b, sizeof b, 8, 3, sc->timing[1]),
               num(c, sizeof c, 8, 3, sc->timing[2]), num(d, sizeof d, 8, 3, sc->timing[3]));
    }
}

static void print_folds(const a5_scenario *s, const a5_calib_result *res)
{
    printf("folds (fold seed %llu):\n", (unsigned long long)res->fold_seed);
    for (int f = 1; f <= res->folds; f++) {
        printf("  fold %d:", f);
        for (int i = 0; i < s->n; i++)
            if (res->fold_of[i] == f)
                printf(" %s", s->codes[i]);
        printf("\n");
    }
}

static void print_seeds(const a5_fit_spec *spec, int nfits, const a5_calib_result *res)
{
    int S = res->seeds;
    printf("random-number sets (%d): the whole procedure on each\n  %7s %8s", S, "set",
           res->out_of_sample ? "Brier" : "Brier*");
    for (int j = 0; j < nfits; j++)
        printf(" %*s", (int)(strlen(spec[j].path) > 10 ? strlen(spec[j].path) : 10), spec[j].path);
    printf("\n");
    for (int q = 0; q <= S; q++) { /* the sets, then their spread */
        double lo = HUGE_VAL, hi = -HUGE_VAL;
        for (int r = 0; r < S; r++) {
            lo = fmin(lo, res->seed_brier[r]);
            hi = fmax(hi, res->seed_brier[r]);
        }
        if (q < S)
            printf("  %7d %8.4f", q + 1, res->seed_brier[q]);
        else
            printf("  %7s %8.4f", "max-min", hi - lo);
        for (int j = 0; j < nfits; j++) {
            const double *v = res->seed_value + (size_t)j;
            lo = HUGE_VAL;
            hi = -HUGE_VAL;
            for (int r = 0; r < S; r++) {
                lo = fmin(lo, v[(size_t)r * (size_t)nfits]);
                hi = fmax(hi, v[(size_t)r * (size_t)nfits]);
            }
            printf(" %*.4g", (int)(strlen(spec[j].path) > 10 ? strlen(spec[j].path) : 10),
                   q < S ? v[(size_t)q * (size_t)nfits] : hi - lo);
        }
        printf("\n");
    }
    if (!res->out_of_sample)
        printf("  (* in sample)\n");
}

static void print_fit(const a5_scenario *s, const a5_fit_spec *spec, int nfits,
                      const a5_calib_result *res, int brier, const char *holdout)
{
    printf("fitted %d parameter%s to %zu observations (%ld replicates per evaluation, %d "
           "evaluations; %d starts, max-iter %d, tol %g, smoothing %g)\n",
           nfits, nfits == 1 ? "" : "s", res->nfit, res->replicates, res->evaluations,
           res->starts_total, res->max_iter, res->tol, res->smooth);
    print_estimates(spec, nfits, res);
    printf("objective (%s): %.4f at the scenario's values -> %.4f\n",
           brier ? "Brier score" : "-log-likelihood", res->obj_start, res->obj_end);
    printf("fitted observations: log-likelihood %.3f, Brier %.4f, accuracy %.3f\n", res->loglik,
           res->brier, res->accuracy);
    print_scores(res, holdout);
    print_subsets(res);
    if (res->folds)
        print_folds(s, res);
    if (res->seeds > 1)
        print_seeds(spec, nfits, res);
    printf("Nelder-Mead starts: %d of %d stopped at the iteration cap (max-iter %d), %d of %d "
           "began on a flat objective\n", res->starts_capped, res->starts_total, res->max_iter,
           res->starts_flat, res->starts_total);
    if (res->nwarnings)
        printf("%zu warning%s (on stderr and in the fitted scenario's header)\n", res->nwarnings,
               res->nwarnings == 1 ? "" : "s");
}

/* Write one of the CSV outputs atomically with writer w. Returns 0 or the exit status. */
static int write_csv(const char *path, int (*w)(FILE *, const a5_calib_result *),
                     const a5_calib_result *res)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        fprintf(stderr, "allied5g: out of memory\n");
        return A5_EXIT_RUNTIME;
    }
    int bad = w(m, res);
    if (fclose(m) != 0 || bad) {
        free(text);
        fprintf(stderr, "allied5g: out of memory\n");
        return A5_EXIT_RUNTIME;
    }
    int rc = a5_cli_write_text(path, text, len);
    free(text);
    return rc;
}

/* A real number option in [lo, hi] (open at an end when lo_open/hi_open). Returns 0,
 * or A5_EUSAGE after printing why. */
static int real_opt(const char *opt, const char *v, double lo, int lo_open, double hi, int hi_open,
                    double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (*v && !*end && isfinite(x) && (lo_open ? x > lo : x >= lo) &&
        (hi_open ? x < hi : x <= hi)) {
        *out = x;
        return 0;
    }
    fprintf(stderr, "allied5g: %s expects a number in %c%g, %g%c, got '%s'\n", opt,
            lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']', v);
    return A5_EUSAGE;
}

/* The numeric options into co. Returns 0 or A5_EUSAGE (printed). */
static int numeric_opts(const a5_cli_args *a, const a5_scenario *s, a5_calib_opts *co)
{
    long x;
    double r;
    const char *v;
    if ((v = a->val[C_STARTS]) && a5_cli_whole("--starts", v, 1, 100, &x) == 0)
        co->starts = (int)x;
    else if (v)
        return A5_EUSAGE;
    if ((v = a->val[C_THREADS]) && a5_cli_whole("--threads", v, 1, 1024, &x) == 0)
        co->threads = (int)x;
    else if (v)
        return A5_EUSAGE;
    if ((v = a->val[C_FOLDS]) && a5_cli_whole("--folds", v, 2, s->n, &x) == 0)
        co->folds = (int)x;
    else if (v)
        return A5_EUSAGE;
    if ((v = a->val[C_FOLD_SEED]) && a5_cli_whole("--fold-seed", v, 1, LONG_MAX, &x) == 0)
        co->fold_seed = (uint64_t)x;
    else if (v)
        return A5_EUSAGE;
    if ((v = a->val[C_SEEDS]) && a5_cli_whole("--seeds", v, 1, 100, &x) == 0)
        co->seeds = (int)x;
    else if (v)
        return A5_EUSAGE;
    if ((v = a->val[C_MAX_ITER]) && a5_cli_whole("--max-iter", v, 1, 1000000, &x) == 0)
        co->max_iter = (int)x;
    else if (v)
        return A5_EUSAGE;
    co->bootstrap = a->val[C_ESTIMATES] ? 100 : -1;
    if ((v = a->val[C_BOOTSTRAP]) && a5_cli_whole("--bootstrap", v, 0, 100000, &x) == 0)
        co->bootstrap = x ? (int)x : -1;
    else if (v)
        return A5_EUSAGE;
    if ((v = a->val[C_TOL]) && real_opt("--tol", v, 0, 1, 10, 0, &r) == 0)
        co->tol = r;
    else if (v)
        return A5_EUSAGE;
    if ((v = a->val[C_SMOOTH]) && real_opt("--smooth", v, 0, 0, 1000, 0, &r) == 0)
        co->smooth = r > 0 ? r : -1;
    else if (v)
        return A5_EUSAGE;
    co->level = 0.9;
    if ((v = a->val[C_LEVEL]) && real_opt("--level", v, 0, 1, 1, 1, &r) == 0)
        co->level = r;
    else if (v)
        return A5_EUSAGE;
    if (co->folds && a->val[C_HOLDOUT]) {
        fprintf(stderr, "allied5g: --folds and --holdout cannot be combined: the folds hold out "
                        "every nation once\n");
        return A5_EUSAGE;
    }
    return 0;
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
    /* One scenario is fitted: the points of a sweep or design are not. */
    if (a5_cli_one_scenario(s, "calibrate", "fits", "fit each point on its own (--set)"))
        return A5_EXIT_USAGE;
    int rc = a5_calib_read_obs(a->val[C_OBSERVED], s, &d, obs, nobs);
    if (!rc && !a->given[C_REPEATED]) {
        rc = a5_calib_check_cells(a->val[C_OBSERVED], s, *obs, *nobs, &d);
        if (!rc && a5_diag_count(&d))
            rc = A5_ESCENARIO;
    }
    if (!rc) { /* warnings: rows at the start that contradict the scenario */
        a5_diag w = {0};
        a5_calib_check_start(a->val[C_OBSERVED], s, *obs, *nobs, &w);
        for (size_t i = 0; i < w.n; i++)
            fprintf(stderr, "%s:%d:%d: warning: %s\n", w.v[i].file, w.v[i].line, w.v[i].col,
                    w.v[i].msg);
        if (w.dropped)
            fprintf(stderr, "(%zu more warnings not shown)\n", w.dropped);
        a5_diag_free(&w);
    }
    if (!rc)
        rc = a5_calib_parse_fits(s, a->list[C_FIT], a->given[C_FIT], spec, &d);
    a5_diag_print(&d, stderr);
    a5_diag_free(&d);
    if (rc == A5_EIO)
        return A5_EXIT_USAGE; /* an observations file that cannot be read is bad input */
    return rc ? exit_of(rc) : 0;
}

/* The files the command writes (a5_sys_check_output: no input, nothing but regular
 * files, none there without --force), no two of them one file, nor one the other's
 * temporary file (NAME.tmp, a5_sys_write_atomic). Called before the
 * scenario is read, and again once every input is (then inputs are known). */
static int check_outputs(const a5_cli_args *a)
{
    static const char *const opt[3] = {"-o", "--predictions", "--estimates"};
    const char *out[3] = {a->val[C_OUT], a->val[C_PREDICTIONS], a->val[C_ESTIMATES]};
    char err[1024], tmp[4200];
    for (int i = 0; i < 3; i++) {
        if (!out[i])
            continue;
        int rc = a5_sys_check_output(out[i], a->given[C_FORCE] > 0, err, sizeof err);
        if (rc) {
            fprintf(stderr, "allied5g: %s: %s\n", opt[i], err);
            return rc == A5_EIO ? A5_EXIT_RUNTIME : A5_EXIT_USAGE;
        }
        for (int j = 0; j < 3; j++) {
            if (j == i || !out[j])
                continue;
            snprintf(tmp, sizeof tmp, "%s.tmp", out[j]);
            if (j < i && a5_sys_same_file(out[i], out[j])) {
                fprintf(stderr, "allied5g: %s is named for two outputs (%s %s and %s %s are one "
                                "file); give each output its own\n", SHOW(out[i]), opt[j],
                        SHOW(out[j]), opt[i], SHOW(out[i]));
                return A5_EXIT_USAGE;
            }
            if (a5_sys_same_file(out[i], tmp)) {
                fprintf(stderr, "allied5g: %s %s is the temporary file of %s %s (written "
                                "first, then renamed over it); give each output its own name\n",
                        opt[i], SHOW(out[i]), opt[j], SHOW(out[j]));
                return A5_EXIT_USAGE;
            }
        }
    }
    return 0;
}

static int calibrate(const a5_cli_args *a, const a5_cli_sets *sets, const a5_scenario *s,
                     const char *cmdline)
{
    a5_obs *obs = NULL;
    size_t nobs = 0;
    /* --fit, else the scenario's calibration.fit (checked when it was loaded). */
    const int nfits = a->given[C_FIT] ? a->given[C_FIT] : (int)s->ncalib_fit;
    a5_fit_spec *spec = calloc((size_t)nfits + 1, sizeof *spec);
    for (int j = 0; spec && !a->given[C_FIT] && j < nfits; j++) {
        spec[j].lo = s->calib_fit[j].lo;
        spec[j].hi = s->calib_fit[j].hi;
        if (!(spec[j].path = strdup(s->calib_fit[j].path))) {
            for (int i = 0; i < j; i++)
                free(spec[i].path);
            free(spec);
            spec = NULL;
        }
    }
    char *holdout_buf = a->val[C_HOLDOUT] ? strdup(a->val[C_HOLDOUT]) : NULL;
    const char **holdout = holdout_buf ? calloc(strlen(holdout_buf) + 2, sizeof *holdout) : NULL;
    a5_calib_result res;
    memset(&res, 0, sizeof res);
    int rc = A5_EXIT_RUNTIME;
    if (!spec || (a->val[C_HOLDOUT] && !holdout))
        goto out;
    if ((rc = prepare(a, s, &obs, &nobs, spec)) != 0 || (rc = check_outputs(a)) != 0)
        goto out;
    a5_calib_opts co = {.report = calib_report};
    if ((rc = numeric_opts(a, s, &co)) != 0 ||
        (holdout && holdout_codes(s, holdout_buf, holdout))) {
        rc = A5_EXIT_USAGE;
        goto out;
    }
    int quiet = a->given[C_QUIET] > 0;
    int brier = a->val[C_OBJECTIVE] && !strcmp(a->val[C_OBJECTIVE], "brier");
    /* --replicates given: the scenario carries it (as --set replicates=N); else the
     * library's default. */
    co.replicates = a->val[C_REPS] ? s->replicates : 0;
    co.brier = brier;
    co.holdout = holdout;
    co.ctx = &quiet;
    char err[512] = "";
    int frc = a5_calib_fit(s, obs, nobs, spec, (size_t)nfits, &co, &res, err, sizeof err);
    if (frc) {
        fprintf(stderr, "allied5g: calibrate: %s\n", err[0] ? err : a5_strerror(frc));
        rc = exit_of(frc);
        goto out;
    }
    for (size_t i = 0; i < res.nwarnings; i++)
        fprintf(stderr, "calibrate: warning: %s\n", res.warnings[i]);
    long reps = res.replicates;
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
    print_fit(s, spec, nfits, &res, brier, a->val[C_HOLDOUT]);
    printf("wrote %s\n", a->val[C_OUT]);
    rc = 0;
    if (a->val[C_PREDICTIONS])
        rc = write_csv(a->val[C_PREDICTIONS], a5_calib_write_predictions, &res);
    if (!rc && a->val[C_ESTIMATES])
        rc = write_csv(a->val[C_ESTIMATES], a5_calib_write_estimates, &res);
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
    char *cmdline;
    int rc = a5_cli_parse_recorded(&a5_cli_calibrate_cmd, argc, argv, full_argc, full_argv, &a, &cmdline);
    if (rc || a.help) {
        rc = rc == A5_ENOMEM ? A5_EXIT_RUNTIME : rc ? A5_EXIT_USAGE : 0;
        goto done;
    }
    rc = A5_EXIT_USAGE;
    const char *objective = a.val[C_OBJECTIVE];
    if (!a.val[C_OUT] || !a.val[C_OBSERVED]) {
        fprintf(stderr, "allied5g calibrate: needs -o FITTED.yaml, --observed OBS.csv and at "
                        "least one --fit PATH (or the scenario's calibration.fit)\n");
    } else if (objective && strcmp(objective, "loglik") && strcmp(objective, "brier")) {
        fprintf(stderr, "allied5g: --objective expects loglik or brier, got '%s'\n",
                a5_escape(objective, 200, (char[1024]){0}, 1024));
    } else if ((rc = check_outputs(&a)) != 0) {
    } else if ((rc = a5_cli_sets_make(&sets, a.list[C_SET], a.given[C_SET], a.val[C_SEED],
                                      a.val[C_REPS], NULL)) != 0) {
        rc = rc == A5_ENOMEM ? A5_EXIT_RUNTIME : A5_EXIT_USAGE;
    } else if ((rc = a5_cli_load(a.operand[0], &sets, &s)) == 0) {
        if (!a.given[C_FIT] && s->ncalib_fit == 0) {
            fprintf(stderr, "allied5g calibrate: nothing to fit: give --fit PATH[=LO:HI], or "
                            "declare calibration: {fit: {PATH: LO:HI}} in %s\n", a.operand[0]);
            rc = A5_EXIT_USAGE;
        } else
            rc = calibrate(&a, &sets, s, cmdline);
    }
done:
    free(cmdline);
    a5_scenario_free(s);
    a5_cli_sets_free(&sets);
    a5_cli_args_free(&a);
    return rc;
}
