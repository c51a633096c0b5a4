/* `allied5g forecast`: rolling-origin forecasts from the observed state, scored
 * against what happened and against baselines fitted on the same rows; or one
 * forecast of the future (docs/forecast.md). The work is in the forecast module;
 * this file is its command line and report. See a5_cli.h and a5_forecast.h. */
#include "a5_cli.h"

#include "a5_calibrate.h"
#include "a5_error.h"
#include "a5_forecast.h"
#include "a5_output.h"
#include "a5_param.h"
#include "a5_scenario.h"
#include "a5_sys.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "a5_gitrev.h" /* generated at build time: A5_GIT_REVISION */

enum { F_OBSERVED, F_ORIGIN, F_HORIZON, F_REPS, F_SEED, F_THREADS, F_SET, F_PREDICTIONS,
       F_FORCE, F_FIT, F_STARTS, F_QUIET, F_ASSIM, F_NOPT };

static const a5_cli_opt forecast_opts[F_NOPT] = {
    [F_OBSERVED] = {"observed", 0, "OBS.csv", 0, "required",
                    "observed policies, header code,date,policy"},
    [F_ORIGIN] = {"origin", 0, "DATE", 1, "every observed year end with a row after it",
                  "forecast from this quarter (the observed state there)"},
    [F_HORIZON] = {"horizon", 0, "H", 0, "4", "steps (quarters) forecast after each origin"},
    [F_REPS] = {"replicates", 0, "N", 0, "1000", "simulated worlds per forecast"},
    [F_SEED] = {"seed", 0, "N", 0, "the scenario's seed", "master seed"},
    [F_THREADS] = {"threads", 0, "N", 0, "all cores", "worker threads"},
    [F_SET] = {"set", 0, "PATH=VALUE", 1, NULL, "override one scenario value, as in the file"},
    [F_PREDICTIONS] = {"predictions", 0, "FILE.csv", 0, NULL,
                       "write origin,code,date,observed,policy_at_origin,p_open,p_restrict,"
                       "p_ban per forecast row, under a header saying how it was made"},
    [F_FORCE] = {"force", 0, NULL, 0, NULL, "replace the --predictions file"},
    [F_FIT] = {"fit", 0, "PATH[=LO:HI]", 1, NULL,
               "refit this parameter at each origin on the rows up to it (as calibrate; slow)"},
    [F_STARTS] = {"starts", 0, "K", 0, "8", "Nelder-Mead starts of each --fit"},
    [F_ASSIM] = {"assimilate", 0, "origin|every", 0, "origin",
                 "replace the state at the origin only, or at every observed quarter up to it"},
    [F_QUIET] = {"quiet", 'q', NULL, 0, NULL, "no progress lines of --fit"},
};

const a5_cli_cmd a5_cli_forecast_cmd = {
    "forecast", "SCENARIO.yaml", 1,
    "Forecast policies from the observed state (data assimilation by state\n"
    "replacement) at each origin, with only the events known there, and score the\n"
    "forecasts against the rows after it, beside a smoothed no-change and a\n"
    "transition-rate baseline fitted on the rows up to it.\n"
    "  allied5g forecast SCENARIO.yaml --observed OBS.csv [--origin DATE]... [--horizon H]\n"
    "      [--replicates N] [--seed N] [--assimilate origin|every] [--fit PATH[=LO:HI]]...\n"
    "      [--starts K] [--predictions FILE.csv] [--force] [--threads N]\n"
    "      [--set PATH=VALUE]... [--quiet]\n"
    "docs/forecast.md explains the method, its limits and the scores.",
    forecast_opts, F_NOPT,
    "allied5g forecast scenarios/huawei_2019.yaml --observed scenarios/observed_sourced.csv "
    "--predictions forecasts.csv"};

/* The origins: --origin dates, or every year end (Q4) with an observation that has
 * one within the horizon after it. Returns how many (into org), or -1 (printed). */
static int origins(const a5_cli_args *a, const a5_scenario *s, const a5_obs *obs, size_t nobs,
                   int horizon, int *org)
{
    int k = 0;
    for (int j = 0; j < a->given[F_ORIGIN]; j++) {
        long t;
        const char *v = a->list[F_ORIGIN][j];
        if (a5_scenario_label_step(s, v, &t) || t < 0 || t >= s->steps) {
            char last[16];
            a5_scenario_date(s, s->steps - 1, last, sizeof last);
            fprintf(stderr, "--origin:%d:1: error: '%s' is not a quarter of the run (%s to %s)\n",
                    j + 1, a5_escape(v, 100, (char[512]){0}, 512), s->start, last);
            return -1;
        }
        int seen = 0, dup = 0;
        for (size_t q = 0; q < nobs; q++)
            seen |= obs[q].step == t;
        for (int i = 0; i < k; i++)
            dup |= org[i] == t;
        if (!seen || dup) {
            fprintf(stderr, "--origin:%d:1: error: %s\n", j + 1,
                    dup ? "this origin is given twice"
                        : "no observation at this quarter: a forecast starts from an observed "
                          "state");
            return -1;
        }
        org[k++] = (int)t;
    }
    if (k)
        return k;
    for (int t = 0; t < s->steps; t++) {
        int here = 0, after = 0;
        for (size_t q = 0; q < nobs; q++) {
            here |= obs[q].step == t;
            after |= obs[q].step > t && obs[q].step <= t + horizon;
        }
        if (here && after && a5_fc_year_end(s, t))
            org[k++] = t;
    }
    if (!k)
        fprintf(stderr, "allied5g forecast: no year end (Q4) with observations has observations "
                        "within --horizon after it; give --origin DATE\n");
    return k ? k : -1;
}

typedef struct {
    const a5_cli_args *a;
    const a5_scenario *s;
    const a5_obs *obs;
    size_t nobs;
    a5_fit_spec *spec;
    int nfit, horizon, quiet, every;
    char *fitlog;
    size_t fitlen;
    FILE *fits; /* "fit at ORIGIN on N rows: PATH = VALUE" lines for the header (NULL: none) */
    long reps;
    a5_fc_row *rows;
    size_t nrows, cap;
} run_ctx;

static void fit_report(void *ctx, const char *line)
{
    if (!*(const int *)ctx)
        fprintf(stderr, "forecast: %s\n", line);
}

/* --fit at origin t: the fitted values on the rows up to t, with the events known at
 * t, as slot overrides. Returns 0, or an exit status (printed). */
static int refit(run_ctx *c, int t, size_t *nover, size_t **slots, double **values)
{
    a5_obs *sub = malloc((c->nobs ? c->nobs : 1) * sizeof *sub);
    size_t m = 0;
    a5_scenario view;
    a5_event *keep = NULL;
    a5_calib_result res;
    memset(&res, 0, sizeof res);
    char err[512] = "";
    int rc = !sub || a5_fc_view(c->s, t, &view, &keep) ? A5_ENOMEM : 0;
    for (size_t q = 0; !rc && q < c->nobs; q++)
        if (c->obs[q].step <= t)
            sub[m++] = c->obs[q];
    long starts = c->a->val[F_STARTS] ? atol(c->a->val[F_STARTS]) : A5_CALIB_STARTS; /* checked */
    a5_calib_opts co = {.replicates = c->reps, .starts = (int)starts, .bootstrap = -1,
                        .report = fit_report, .ctx = &c->quiet};
    if (!rc)
        rc = a5_calib_fit(&view, sub, m, c->spec, (size_t)c->nfit, &co, &res, err, sizeof err);
    size_t total = 0;
    a5_target *tg = calloc((size_t)c->nfit + 1, sizeof *tg);
    for (int j = 0; !rc && j < c->nfit; j++) {
        rc = a5_scenario_resolve(c->s, c->spec[j].path, &tg[j], err, sizeof err);
        total += rc ? 0 : tg[j].nslots;
    }
    *slots = calloc(total + 1, sizeof **slots);
    *values = calloc(total + 1, sizeof **values);
    *nover = 0;
    for (int j = 0; !rc && j < c->nfit; j++)
        for (size_t q = 0; q < tg[j].nslots; q++) {
            (*slots)[*nover] = tg[j].slots[q];
            (*values)[(*nover)++] = a5_param_clamp(tg[j].param, res.value[j]);
        }
    if (!rc) {
        char d[16];
        a5_scenario_date(c->s, t, d, sizeof d);
        for (int j = 0; j < c->nfit; j++) {
            if (!c->quiet)
                fprintf(stderr, "forecast: fit at %s on %zu rows: %s = %.4g\n", d, m,
                        c->spec[j].path, res.value[j]);
            if (c->fits)
                fprintf(c->fits, "\nfit at %s on %zu rows: %s = %.17g", d, m, c->spec[j].path,
                        res.value[j]);
        }
        /* The fit's diagnostics (a bound, no std.err, the iteration cap, ...), as
         * calibrate shows them: printed even with --quiet, and in the header. */
        for (size_t i = 0; i < res.nwarnings; i++) {
            fprintf(stderr, "forecast: warning: fit at %s: %s\n", d, res.warnings[i]);
            if (c->fits)
                fprintf(c->fits, "\nwarning: fit at %s: %s", d, res.warnings[i]);
        }
    }
    for (int j = 0; tg && j < c->nfit; j++)
        a5_scenario_target_free(&tg[j]);
    free(tg);
    a5_calib_result_free(&res);
    free(keep);
    free(sub);
    if (rc)
        fprintf(stderr, "allied5g forecast: fit: %s\n", err[0] ? err : a5_strerror(rc));
    return rc ? (rc == A5_ENOMEM ? A5_EXIT_RUNTIME : A5_EXIT_USAGE) : 0;
}

/* The rows of one forecast: every nation observed at the origin, at every year end
 * (Q4) of the horizon (the horizon's last step when it has none). */
static int add_rows(run_ctx *c, const a5_fc_result *r)
{
    const a5_scenario *s = c->s;
    for (int j = 0; j < r->horizon; j++) {
        const int t = r->origin + 1 + j;
        int q4 = 0;
        for (int jj = 0; jj < r->horizon; jj++)
            q4 |= a5_fc_year_end(s, r->origin + 1 + jj);
        if (q4 ? !a5_fc_year_end(s, t) : j != r->horizon - 1)
            continue;
        for (int i = 0; i < s->n; i++) {
            if (r->at_origin[i] < 0)
                continue;
            if (c->nrows == c->cap) {
                size_t cap = c->cap ? 2 * c->cap : 256;
                a5_fc_row *nr = realloc(c->rows, cap * sizeof *nr);
                if (!nr)
                    return A5_ENOMEM;
                c->rows = nr;
                c->cap = cap;
            }
            a5_fc_row *row = &c->rows[c->nrows++];
            *row = (a5_fc_row){.origin = r->origin, .nation = i, .step = t,
                               .observed = a5_fc_observed(c->obs, c->nobs, i, t), .at_origin = r->at_origin[i]};
            const size_t off = ((size_t)j * (size_t)s->n + (size_t)i) * 3;
            memcpy(row->p[A5_FC_MODEL], r->p + off, sizeof row->p[0]);
            memcpy(row->p[A5_FC_FREE], r->p_free + off, sizeof row->p[0]);
            int years = (t - r->origin + 2) / 4;
            a5_fc_baselines(s, c->obs, c->nobs, r->origin, row->at_origin, years > 0 ? years : 1,
                            0.5, row->p[A5_FC_NOCHANGE], row->p[A5_FC_TRANSITION]);
        }
    }
    return 0;
}

/* One origin's line of the table (Brier of every predictor on its scored rows). */
static void print_origin(const run_ctx *c, size_t first, const a5_fc_result *r)
{
    char d[16];
    a5_scenario_date(c->s, r->origin, d, sizeof d);
    const a5_fc_row *rows = c->rows + first;
    size_t n = c->nrows - first, changed = 0;
    a5_fc_score sc[A5_FC_NPRED];
    for (int k = 0; k < A5_FC_NPRED; k++)
        a5_fc_score_rows(rows, n, k, 0, A5_CALIB_SCORE_FLOOR, &sc[k]);
    for (size_t q = 0; q < n; q++)
        changed += rows[q].observed >= 0 && rows[q].observed != rows[q].at_origin;
    printf("  %-7s %5zu %5zu %7.1f %% %6.1f %%", d, sc[0].n, changed,
           r->cells ? 100.0 * (double)r->replaced / (double)r->cells : 0.0,
           r->replaced ? 100.0 * (double)r->unsupported / (double)r->replaced : 0.0);
    for (int k = 0; k < A5_FC_NPRED; k++)
        if (sc[k].n)
            printf(" %9.4f", sc[k].brier);
        else
            printf(" %9s", "n/a");
    printf("\n");
}

static void print_pooled(const run_ctx *c)
{
    static const char *const sub[3] = {"all rows", "changed rows", "unchanged rows"};
    printf("pooled over origins (Brier 0 best, 2 worst; log score = mean log max(p, %g); "
           "difference = predictor - model, paired std.err over rows):\n", A5_CALIB_SCORE_FLOOR);
    for (int q = 0; q < 3; q++) {
        printf("  %s\n  %-22s %5s %8s %10s %18s\n", sub[q], "predictor", "n", "Brier",
               "log score", "Brier - model");
        for (int k = 0; k < A5_FC_NPRED; k++) {
            a5_fc_score sc;
            a5_fc_score_rows(c->rows, c->nrows, k, q, A5_CALIB_SCORE_FLOOR, &sc);
            if (!sc.n) {
                printf("  %-22s %5zu n/a (no rows)\n", a5_fc_pred_name[k], sc.n);
                continue;
            }
            double dm = 0;
            if (k) {
                a5_fc_score m;
                a5_fc_score_rows(c->rows, c->nrows, A5_FC_MODEL, q, A5_CALIB_SCORE_FLOOR, &m);
                dm = sc.brier - m.brier;
            }
            printf("  %-22s %5zu %8.4f %10.4f", a5_fc_pred_name[k], sc.n, sc.brier, sc.logscore);
            if (k)
                printf("  %+8.4f (%.4f)", dm, sc.se_diff);
            printf("\n");
        }
    }
    printf("  mover AUC within forecast date (ranking by 1 - P(policy at origin)):\n");
    for (int k = 0; k < A5_FC_NPRED; k++) {
        size_t pairs;
        double se, auc = a5_fc_auc(c->rows, c->nrows, k, &pairs, &se);
        printf("  %-22s %8.3f  (std.err %.3f; %zu mover-stayer pairs)\n", a5_fc_pred_name[k], auc,
               se, pairs);
    }
}

/* How the forecast was made, for the predictions file's header. */
static char *provenance(const run_ctx *c, const char *cmdline)
{
    char *obs = NULL, stamp[32] = "?";
    size_t olen = 0;
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (a5_sys_read_regular(c->a->val[F_OBSERVED], 1u << 30, &obs, &olen))
        olen = 0;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) {
        free(obs);
        return NULL;
    }
    fprintf(f, "allied5g forecast, made %s by allied5g %s (%s)\ncommand: %s\n", stamp, A5_VERSION,
            A5_GIT_REVISION, cmdline);
    fprintf(f, "scenario: %s, resolved text FNV-1a-64 %016llx\n", c->a->operand[0],
            (unsigned long long)a5_sys_fnv1a(c->s->text, strlen(c->s->text)));
    fprintf(f, "observations: %s, %zu rows, file FNV-1a-64 %016llx\n", c->a->val[F_OBSERVED],
            c->nobs, (unsigned long long)(obs ? a5_sys_fnv1a(obs, olen) : 0));
    fprintf(f, "replicates %ld, horizon %d steps, state replaced at %s, p_* = (count + 0.5) / "
            "(R + 1.5) of the assimilated replicates (docs/forecast.md)", c->reps, c->horizon,
            c->every ? "every observed quarter up to the origin" : "the origin");
    if (c->fits && fflush(c->fits) == 0 && c->fitlog)
        fputs(c->fitlog, f);
    free(obs);
    if (fclose(f)) {
        free(out);
        return NULL;
    }
    return out;
}

static int write_predictions(const run_ctx *c, const char *path, const char *cmdline)
{
    char *text = NULL;
    size_t len = 0;
    char *head = provenance(c, cmdline);
    FILE *m = head ? open_memstream(&text, &len) : NULL;
    int bad = !m || a5_fc_write_predictions(m, c->s, c->rows, c->nrows, head);
    if ((m && fclose(m) != 0) || bad) {
        free(text);
        free(head);
        fprintf(stderr, "allied5g: out of memory\n");
        return A5_EXIT_RUNTIME;
    }
    free(head);
    int rc = a5_cli_write_text(path, text, len);
    free(text);
    return rc;
}

/* Every origin in turn: fit (with --fit), forecast, rows. */
static int run_origins(run_ctx *c, const int *org, int norg, long threads)
{
    printf("  %-7s %5s %5s %9s %8s %9s %9s %9s %9s\n", "origin", "rows", "moved", "replaced",
           "no donor", "model", "free run", "no change", "transit.");
    for (int q = 0; q < norg; q++) {
        size_t nover = 0, *slots = NULL;
        double *values = NULL;
        int rc = c->nfit ? refit(c, org[q], &nover, &slots, &values) : 0;
        a5_fc_opts fo = {.replicates = c->reps, .threads = (int)threads, .horizon = c->horizon,
                         .every = c->every,
                         .nover = nover, .over_slot = slots, .over_value = values};
        a5_fc_result r;
        char err[512] = "";
        int frc = rc ? 0 : a5_fc_run(c->s, c->obs, c->nobs, org[q], &fo, &r, err, sizeof err);
        free(slots);
        free(values);
        if (rc)
            return rc;
        if (frc) {
            fprintf(stderr, "allied5g forecast: %s: %s\n", c->a->val[F_OBSERVED], err);
            return frc == A5_ENOMEM ? A5_EXIT_RUNTIME : A5_EXIT_USAGE;
        }
        size_t first = c->nrows;
        int arc = add_rows(c, &r);
        if (!arc)
            print_origin(c, first, &r);
        a5_fc_result_free(&r);
        if (arc) {
            fprintf(stderr, "allied5g: out of memory\n");
            return A5_EXIT_RUNTIME;
        }
    }
    return 0;
}

static int forecast(const a5_cli_args *a, const a5_scenario *s, const char *cmdline)
{
    a5_diag d = {0};
    run_ctx c = {.a = a, .s = s, .quiet = a->given[F_QUIET] > 0, .horizon = 4,
                 .reps = a->val[F_REPS] ? s->replicates : A5_CALIB_REPLICATES};
    long x, threads = 0;
    int *org = NULL, rc = A5_EXIT_USAGE;
    /* The model runs point 0 alone: a design's other points would go unseen. */
    if (a5_cli_one_scenario(s, "forecast", "runs", "forecast each point on its own (--set)"))
        return A5_EXIT_USAGE;
    if ((a->val[F_HORIZON] && a5_cli_whole("--horizon", a->val[F_HORIZON], 1, 400, &x)) ||
        (a->val[F_THREADS] && a5_cli_whole("--threads", a->val[F_THREADS], 1, 1024, &threads)))
        return A5_EXIT_USAGE;
    c.horizon = a->val[F_HORIZON] ? (int)x : 4;
    const char *as = a->val[F_ASSIM];
    if (as && strcmp(as, "origin") && strcmp(as, "every")) {
        fprintf(stderr, "allied5g: --assimilate expects origin or every, got '%s'\n",
                a5_escape(as, 100, (char[512]){0}, 512));
        return A5_EXIT_USAGE;
    }
    c.every = as && !strcmp(as, "every");
    if (a->val[F_STARTS] && (a5_cli_whole("--starts", a->val[F_STARTS], 1, 100, &x) ||
                             !a->given[F_FIT])) {
        if (!a->given[F_FIT])
            fprintf(stderr, "allied5g forecast: --starts is for --fit (nothing is fitted)\n");
        return A5_EXIT_USAGE;
    }
    int orc = a5_calib_read_obs(a->val[F_OBSERVED], s, &d, (a5_obs **)&c.obs, &c.nobs);
    if (!orc) {
        orc = a5_calib_check_cells(a->val[F_OBSERVED], s, c.obs, c.nobs, &d);
        if (!orc && a5_diag_count(&d))
            orc = A5_ESCENARIO;
    }
    c.nfit = a->given[F_FIT];
    c.spec = calloc((size_t)c.nfit + 1, sizeof *c.spec);
    if (!orc && c.spec)
        orc = a5_calib_parse_fits(s, a->list[F_FIT], c.nfit, c.spec, &d);
    a5_diag_print(&d, stderr);
    a5_diag_free(&d);
    c.fits = c.nfit ? open_memstream(&c.fitlog, &c.fitlen) : NULL;
    org = malloc(((size_t)s->steps + (size_t)a->given[F_ORIGIN] + 1) * sizeof *org);
    if (!org || !c.spec || orc == A5_ENOMEM)
        rc = A5_EXIT_RUNTIME;
    int norg = orc || !org || !c.spec ? -1 : origins(a, s, c.obs, c.nobs, c.horizon, org);
    char err[512] = "";
    for (int q = 0; q < norg; q++)
        if (org[q] + c.horizon >= s->steps) {
            char o[16], last[16];
            a5_scenario_date(s, org[q], o, sizeof o);
            a5_scenario_date(s, s->steps - 1, last, sizeof last);
            fprintf(stderr, "allied5g forecast: a forecast from %s over %d steps runs past the "
                    "scenario's last step (%s): give it steps: %d or more (--set steps=%d)\n", o,
                    c.horizon, last, org[q] + c.horizon + 1, org[q] + c.horizon + 1);
            norg = -1;
        }
    /* Every input is read now: an output that is one is refused before any work. */
    int crc = norg > 0 && a->val[F_PREDICTIONS]
                  ? a5_sys_check_output(a->val[F_PREDICTIONS], 1, err, sizeof err)
                  : 0;
    if (crc) {
        fprintf(stderr, "allied5g: %s\n", err);
        norg = -1;
        /* A directory that cannot take it is a run-time failure, as for run and
         * calibrate; an output that is an input is bad usage. */
        rc = crc == A5_EIO ? A5_EXIT_RUNTIME : A5_EXIT_USAGE;
    }
    if (norg > 0) {
        printf("forecast: %s with %s (%zu rows), %ld replicates, horizon %d steps, %d origin%s%s\n",
               a->operand[0], a->val[F_OBSERVED], c.nobs, c.reps, c.horizon, norg,
               norg == 1 ? "" : "s", c.nfit ? ", refitted at each origin" : ", scenario's values");
        if (c.every)
            printf("state replaced at every observed quarter up to each origin\n");
        rc = run_origins(&c, org, norg, threads);
    }
    if (norg > 0 && !rc) {
        size_t scored = 0;
        for (size_t q = 0; q < c.nrows; q++)
            scored += c.rows[q].observed >= 0;
        if (scored)
            print_pooled(&c);
        else
            printf("nothing to score: no forecast row is observed (yet); %zu rows forecast\n",
                   c.nrows);
        if (a->val[F_PREDICTIONS])
            rc = write_predictions(&c, a->val[F_PREDICTIONS], cmdline);
    }
    for (int j = 0; c.spec && j < c.nfit; j++)
        free(c.spec[j].path);
    free(c.spec);
    free(org);
    free(c.rows);
    free((void *)c.obs);
    if (c.fits)
        fclose(c.fits);
    free(c.fitlog);
    return rc;
}

int a5_cli_forecast(int argc, char **argv, int full_argc, char **full_argv)
{
    a5_cli_args a;
    a5_cli_sets sets = {0};
    a5_scenario *s = NULL;
    char *cmdline;
    int rc = a5_cli_parse_recorded(&a5_cli_forecast_cmd, argc, argv, full_argc, full_argv, &a,
                                   &cmdline);
    if (rc || a.help) {
        rc = rc == A5_ENOMEM ? A5_EXIT_RUNTIME : rc ? A5_EXIT_USAGE : 0;
        goto done;
    }
    rc = A5_EXIT_USAGE;
    struct stat st;
    if (!a.val[F_OBSERVED]) {
        fprintf(stderr, "allied5g forecast: needs --observed OBS.csv\n");
    } else if (a.given[F_FORCE] && !a.val[F_PREDICTIONS]) {
        fprintf(stderr, "allied5g forecast: --force replaces the --predictions file; there is "
                        "none\n");
    } else if (a.val[F_PREDICTIONS] && !a.given[F_FORCE] && stat(a.val[F_PREDICTIONS], &st) == 0) {
        fprintf(stderr, "allied5g: %s exists; use --force to replace it\n", a.val[F_PREDICTIONS]);
    } else if ((rc = a5_cli_sets_make(&sets, a.list[F_SET], a.given[F_SET], a.val[F_SEED],
                                      a.val[F_REPS], NULL)) != 0) {
        rc = rc == A5_ENOMEM ? A5_EXIT_RUNTIME : A5_EXIT_USAGE;
    } else if ((rc = a5_cli_load(a.operand[0], &sets, &s)) == 0) {
        rc = forecast(&a, s, cmdline);
    }
done:
    free(cmdline);
    a5_scenario_free(s);
    a5_cli_sets_free(&sets);
    a5_cli_args_free(&a);
    return rc;
}
