/* Command-line front end: argument parsing, progress line, run summary. The only
 * module that prints to the terminal; only main's return value ends the process. */
#include "a5_cli.h"

#include "a5_batch.h"
#include "a5_calibrate.h"
#ifdef A5_MPI
#include "a5_mpi.h"
#include <mpi.h>
#endif
#include "a5_error.h"
#include "a5_output.h"
#include "a5_param.h"
#include "a5_scenario.h"

#include <errno.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <libgen.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#ifndef A5_VERSION
#define A5_VERSION "0.0.0"
#endif
#include "a5_gitrev.h" /* generated at build time: A5_GIT_REVISION */

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static const char usage[] =
    "usage: allied5g run SCENARIO.yaml -o OUT.h5 [--seed N] [--replicates N] [--threads N]\n"
    "                    [--set PATH=VALUE]... [--store full|summary] [--force] [--quiet]\n"
    "                    [--resume] [--checkpoint SECONDS] [--on-failure continue|stop] [--live]\n"
    "       allied5g validate SCENARIO.yaml [--set PATH=VALUE]...\n"
    "       allied5g info OUT.h5\n"
    "       allied5g calibrate SCENARIO.yaml --observed OBS.csv --fit PATH[=LO:HI]...\n"
    "                    -o FITTED.yaml [--replicates N] [--starts K] [--holdout CODE,...]\n"
    "                    [--objective loglik|brier] [--threads N] [--set PATH=VALUE]... [--force]\n"
    "       allied5g reference            # print the scenario reference (Markdown)\n"
    "       allied5g --version\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    const char *scenario, *out;
    const char **sets;
    int nsets;
    int threads, force, quiet, resume, stop_on_failure, live;
    double checkpoint;
    char *owned[3]; /* --seed/--replicates/--store turned into --set strings */
} args;

static int parse_whole(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "allied5g: %s expects a whole number in [%ld, %ld], got '%s'\n", opt, lo,
                hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

/* Parse options after the command word. Returns 0 or -1 (message printed). */
static int parse_args(int argc, char **argv, int want_out, args *a)
{
    memset(a, 0, sizeof a[0]);
    a->checkpoint = 2;
    a->sets = calloc((size_t)argc + 3, sizeof *a->sets);
    if (!a->sets)
        return -1;
    const char *seed = NULL, *reps = NULL, *store = NULL;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VAL                                                                                   \
    do {                                                                                           \
        if (!val) {                                                                                \
            fprintf(stderr, "allied5g: %s needs a value\n", s);                                    \
            return -1;                                                                             \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
        if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
            NEED_VAL;
            a->out = val;
        } else if (!strcmp(s, "--set")) {
            NEED_VAL;
            a->sets[a->nsets++] = val;
        } else if (!strncmp(s, "--set=", 6)) {
            a->sets[a->nsets++] = s + 6;
        } else if (!strcmp(s, "--seed")) {
            NEED_VAL;
            seed = val;
        } else if (!strcmp(s, "--replicates")) {
            NEED_VAL;
            reps = val;
        } else if (!strcmp(s, "--store")) {
            NEED_VAL;
            store = val;
        } else if (!strcmp(s, "--threads")) {
            NEED_VAL;
            long t;
            if (parse_whole("--threads", val, 1, 1024, &t))
                return -1;
            a->threads = (int)t;
        } else if (!strcmp(s, "--force")) {
            a->force = 1;
        } else if (!strcmp(s, "--resume")) {
            a->resume = 1;
        } else if (!strcmp(s, "--live")) {
            a->live = 1;
        } else if (!strcmp(s, "--checkpoint")) {
            NEED_VAL;
            long secs;
            if (parse_whole("--checkpoint", val, 0, 86400, &secs))
                return -1;
            a->checkpoint = (double)secs;
        } else if (!strcmp(s, "--on-failure")) {
            NEED_VAL;
            if (strcmp(val, "continue") && strcmp(val, "stop")) {
                fprintf(stderr, "allied5g: --on-failure expects continue or stop, got '%s'\n", val);
                return -1;
            }
            a->stop_on_failure = !strcmp(val, "stop");
        } else if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) {
            a->quiet = 1;
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "allied5g: unknown option '%s'\n%s", s, usage);
            return -1;
        } else if (!a->scenario) {
            a->scenario = s;
        } else {
            fprintf(stderr, "allied5g: unexpected argument '%s'\n%s", s, usage);
            return -1;
        }
    }
#undef NEED_VAL
    if (!a->scenario) {
        fprintf(stderr, "allied5g: no scenario file given\n%s", usage);
        return -1;
    }
    if (want_out && !a->out) {
        fprintf(stderr, "allied5g: run needs -o OUT.h5\n%s", usage);
        return -1;
    }
    long x;
    if (seed && parse_whole("--seed", seed, 0, 9007199254740991L, &x))
        return -1;
    if (reps && parse_whole("--replicates", reps, 1, 1000000000L, &x))
        return -1;
    if (store && strcmp(store, "full") && strcmp(store, "summary")) {
        fprintf(stderr, "allied5g: --store expects full or summary, got '%s'\n", store);
        return -1;
    }
    const char *pairs[3][2] = {{"seed", seed}, {"replicates", reps}, {"output.store", store}};
    for (int k = 0; k < 3; k++)
        if (pairs[k][1]) {
            size_t n = strlen(pairs[k][0]) + strlen(pairs[k][1]) + 2;
            a->owned[k] = malloc(n);
            if (!a->owned[k])
                return -1;
            snprintf(a->owned[k], n, "%s=%s", pairs[k][0], pairs[k][1]);
            a->sets[a->nsets++] = a->owned[k];
        }
    return 0;
}

static void args_free(args *a)
{
    free(a->sets);
    for (int k = 0; k < 3; k++)
        free(a->owned[k]);
}

static int load(const args *a, a5_scenario **s)
{
    a5_diag d = {0};
    int rc = a5_scenario_load(a->scenario, a->sets, a->nsets, &d, s);
    a5_diag_print(&d, stderr);
    if (rc && a5_diag_count(&d))
        fprintf(stderr, "allied5g: %zu error%s in %s; nothing was run\n", a5_diag_count(&d),
                a5_diag_count(&d) == 1 ? "" : "s", a->scenario);
    a5_diag_free(&d);
    if (rc == A5_ENOMEM) {
        fprintf(stderr, "allied5g: out of memory while loading %s\n", a->scenario);
        return EXIT_RUNTIME;
    }
    return rc ? EXIT_USAGE : 0;
}

typedef struct {
    double t0, last;
    int tty;
} progress_state;

static void progress(void *ctx, double done, double total)
{
    progress_state *p = ctx;
    double t = now();
    if (!p->tty || (t - p->last < 0.2 && done < total))
        return;
    p->last = t;
    double rate = done / (t - p->t0 + 1e-9), eta = rate > 0 ? (total - done) / rate : 0;
    fprintf(stderr, "\r%5.1f%%  %.0f/%.0f runs  %.0f runs/s  ETA %d:%02d   ", 100 * done / total,
            done, total, rate, (int)(eta / 60), (int)eta % 60);
    if (done >= total)
        fprintf(stderr, "\n");
    fflush(stderr);
}

static char *join_argv(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) * 4 + 3;
    char *s = malloc(n), *p = s;
    if (!s)
        return NULL;
    for (int i = 0; i < argc; i++) {
        int quote = strpbrk(argv[i], " \t'\"*?$") != NULL;
        if (i)
            *p++ = ' ';
        if (quote)
            *p++ = '\'';
        for (const char *c = argv[i]; *c; c++) {
            if (quote && *c == '\'') {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else
                *p++ = *c;
        }
        if (quote)
            *p++ = '\'';
    }
    *p = 0;
    return s;
}

/* First SIGINT/SIGTERM: finish the current block, checkpoint, stop. The handler is
 * then reset, so a second signal stops at once (the last checkpoint survives). */
static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig)
{
    static const char msg[] = "\nallied5g: stopping after the current block "
                              "(signal again to stop at once)\n";
    stop_signal = sig;
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
}

static void install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = (int)SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int cmd_run(int argc, char **argv, int full_argc, char **full_argv)
{
    args a;
    if (parse_args(argc, argv, 1, &a)) {
        args_free(&a);
        return EXIT_USAGE;
    }
    a5_batch_team *team = NULL;
#ifdef A5_MPI
    int nranks = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (nranks > 1) {
        team = a5_mpi_team_alloc();
        if (!team) {
            args_free(&a);
            return EXIT_RUNTIME;
        }
        /* Rank 0 speaks for the team; every rank reaches the same exit status. */
        if (team->rank != 0) {
            a.quiet = 1;
            if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
                a.quiet = 1;
        }
    }
#endif
    const int root = !team || team->rank == 0;
    a5_scenario *s = NULL;
    int rc = load(&a, &s);
    if (rc) {
        args_free(&a);
#ifdef A5_MPI
        a5_mpi_team_free(team);
#endif
        return rc;
    }
    char err[1024] = "";
    char *cmdline = join_argv(full_argc, full_argv);
    char *state = NULL; /* the checkpoint file, named by the output module */
    int threads = a.threads > 0 ? a.threads : omp_get_max_threads();
    a5_output_meta meta = {cmdline, threads, a5_batch_chunk_reps(s), a.force, a.live};
    a5_output *out = NULL;
    float *fs = malloc((size_t)s->n * 3 * sizeof *fs), *fm = malloc((size_t)s->n * sizeof *fm);
    int orc = A5_ENOMEM;
    if (fs && fm) {
#ifdef A5_MPI
        if (team)
            orc = a5_output_open_team(a.out, s, &meta, a.resume, a5_mpi_team_comm(team), &out, err,
                                      sizeof err);
        else
#endif
            if (a.resume)
            orc = a5_output_reopen(a.out, s, &meta, &out, err, sizeof err);
        else
            orc = a5_output_create(a.out, s, &meta, &out, err, sizeof err);
        if (!orc && !(state = strdup(a5_output_state_path(out)))) {
            a5_output_abort(out, a.resume);
            orc = A5_ENOMEM;
        }
        if (!orc && !a.resume && root)
            unlink(state); /* a stale checkpoint of a discarded partial run */
    }
    if (orc) {
        fprintf(stderr, "allied5g: %s\n", err[0] ? err : a5_strerror(orc));
        rc = orc == A5_EEXIST || orc == A5_ERESUME ? EXIT_USAGE : EXIT_RUNTIME;
        goto done;
    }
    {
        /* A warning, not an error: compression usually makes the file smaller. */
        char *dir = strdup(a.out);
        struct statvfs fsb;
        double need = a5_scenario_output_bytes(s);
        if (dir && statvfs(dirname(dir), &fsb) == 0) {
            double avail = (double)fsb.f_bavail * (double)fsb.f_frsize;
            if (need > avail)
                fprintf(stderr, "allied5g: warning: the results may need up to %.0f MiB; "
                                "%.0f MiB are free beside %s\n", need / 1048576, avail / 1048576, a.out);
        }
        free(dir);
    }
    install_handlers();
    const char *inject = getenv("A5_INJECT_FAILURE"); /* test hook: fail this replicate */
    progress_state ps = {now(), 0, !a.quiet && isatty(2)};
    a5_batch_opts bo = {threads, progress, &ps, &stop_signal, state, a.resume, a.checkpoint,
                        a.stop_on_failure, inject ? atol(inject) : -1, team};
    a5_batch_stats st = {0};
    st.final_share = fs;
    st.final_mean = fm;
    double t0 = now();
    int brc = a5_batch_run(s, out, &bo, &st, err, sizeof err);
    double secs = now() - t0;
    double total = (double)s->npoints * (double)s->replicates;
    if (brc) {
        const char *partial = a5_output_partial_path(out);
        if (brc == A5_ERESUME) {
            fprintf(stderr, "allied5g: cannot resume: %s\n", err);
            a5_output_abort(out, 1);
            rc = EXIT_USAGE;
            goto done;
        }
        if (brc == A5_EINTERRUPT || brc == A5_EFAILED) {
            if (brc == A5_EFAILED)
                fprintf(stderr, "allied5g: a replicate produced non-finite values and "
                                "--on-failure stop is set\n");
            else
                fprintf(stderr, "allied5g: interrupted\n");
            fprintf(stderr, "allied5g: %.0f of %.0f runs are saved in %s; continue with:\n  %s%s\n",
                    st.committed, total, partial, cmdline, a.resume ? "" : " --resume");
            a5_output_abort(out, 1);
        } else {
            const char *why = err[0] ? err : a5_output_error(out);
            fprintf(stderr, "allied5g: run failed: %s\n", why[0] ? why : a5_strerror(brc));
            if (st.committed > 0) {
                fprintf(stderr, "allied5g: %.0f of %.0f runs are saved in %s (last checkpoint); "
                                "fix the cause, then continue with:\n  %s%s\n",
                        st.committed, total, partial, cmdline, a.resume ? "" : " --resume");
                a5_output_abort(out, 1);
            } else {
                fprintf(stderr, "allied5g: no results written\n");
                a5_output_abort(out, 0);
                if (root)
                    unlink(state);
            }
        }
        rc = EXIT_RUNTIME;
        goto done;
    }
    orc = a5_output_finish(out, st.quantile_error, st.failed, secs, err, sizeof err);
    if (orc) {
        fprintf(stderr, "allied5g: %s; no results written\n", err);
        if (root)
            unlink(state);
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (root)
        unlink(state);
    if (st.failed > 0)
        fprintf(stderr, "allied5g: warning: %.0f replicate%s produced non-finite values; they are "
                        "fill values in %s and left out of the aggregates (failed_replicates)\n",
                st.failed, st.failed == 1 ? "" : "s", a.out);
    if (!a.quiet) {
        char last[16];
        a5_scenario_date(s, s->steps - 1, last, sizeof last);
        double ran = st.runs - st.resumed;
        double ns = ran > 0 ? secs * 1e9 / (ran * s->steps * s->n) : 0;
        printf("wrote %s: %ld point%s x %ld replicates x %d steps x %d nations in %.2f s "
               "(%.1f ns per nation-step, %d thread%s%s)\n",
               a.out, s->npoints, s->npoints == 1 ? "" : "s", s->replicates, s->steps, s->n, secs,
               ns, threads, threads == 1 ? "" : "s", st.resumed > 0 ? ", resumed" : "");
        printf("policy shares at the end of %s%s (share of replicates):\n", last,
               s->npoints > 1 ? ", design point 0" : "");
        printf("  %-8s %-22s %6s %9s %6s  %s\n", "nation", "name", "open", "restrict", "ban",
               "mean high-risk share");
        for (int i = 0; i < s->n && i < 60; i++)
            printf("  %-8s %-22.22s %6.2f %9.2f %6.2f  %.3f\n", s->codes[i], s->names[i],
                   fs[3 * i], fs[3 * i + 1], fs[3 * i + 2], fm[i]);
        if (s->n > 60)
            printf("  ... %d more nations\n", s->n - 60);
        printf("details: allied5g info %s; in Python: xarray.open_dataset(\"%s\")\n", a.out, a.out);
    }
done:
    free(fs);
    free(fm);
    free(state);
    free(cmdline);
    a5_scenario_free(s);
    args_free(&a);
#ifdef A5_MPI
    a5_mpi_team_free(team);
#endif
    return rc;
}

typedef struct {
    int quiet;
} calib_ctx;

static void calib_report(void *ctx, const char *line)
{
    calib_ctx *c = ctx;
    if (!c->quiet)
        fprintf(stderr, "calibrate: %s\n", line);
}

/* Write text to path atomically (temporary file, fsync, rename). */
static int write_atomic(const char *path, const char *text)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (!tmp)
        return -1;
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int ok = f && fputs(text, f) >= 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok)
        unlink(tmp);
    free(tmp);
    return ok ? 0 : -1;
}

static int cmd_calibrate(int argc, char **argv, int full_argc, char **full_argv)
{
    /* Split calibrate's own options from the shared ones (--set, --threads, ...). */
    const char *obs_path = NULL, *objective = "loglik";
    char *holdout_arg = NULL;
    long starts = 3;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    const char **fits = calloc((size_t)argc + 1, sizeof *fits);
    int nrest = 0, nfits = 0, rc = EXIT_USAGE;
    args a;
    memset(&a, 0, sizeof a);
    a5_scenario *s = NULL;
    a5_obs *obs = NULL;
    a5_fit_spec *spec = NULL;
    const char **holdout = NULL;
    char *text = NULL;
    a5_calib_result res;
    memset(&res, 0, sizeof res);
    if (!rest || !fits)
        goto out;
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--observed") && v)
            obs_path = argv[++i];
        else if (!strcmp(argv[i], "--fit") && v)
            fits[nfits++] = argv[++i];
        else if (!strcmp(argv[i], "--starts") && v) {
            if (parse_whole("--starts", argv[++i], 1, 100, &starts))
                goto out;
        } else if (!strcmp(argv[i], "--holdout") && v)
            holdout_arg = strdup(argv[++i]);
        else if (!strcmp(argv[i], "--objective") && v) {
            objective = argv[++i];
            if (strcmp(objective, "loglik") && strcmp(objective, "brier")) {
                fprintf(stderr, "allied5g: --objective expects loglik or brier, got '%s'\n", objective);
                goto out;
            }
        } else
            rest[nrest++] = argv[i];
    }
    if (parse_args(nrest, rest, 1, &a))
        goto out;
    if (!obs_path || nfits == 0) {
        fprintf(stderr, "allied5g: calibrate needs --observed OBS.csv and at least one --fit PATH\n%s",
                usage);
        goto out;
    }
    struct stat st;
    if (!a.force && stat(a.out, &st) == 0) {
        fprintf(stderr, "allied5g: %s exists; use --force to replace it\n", a.out);
        goto out;
    }
    if ((rc = load(&a, &s)) != 0)
        goto out;
    rc = EXIT_USAGE;
    a5_diag d = {0};
    size_t nobs = 0;
    int orc = a5_calib_read_obs(obs_path, s, &d, &obs, &nobs);
    a5_diag_print(&d, stderr);
    a5_diag_free(&d);
    if (orc) {
        rc = orc == A5_ESCENARIO || orc == A5_EIO ? EXIT_USAGE : EXIT_RUNTIME;
        goto out;
    }
    /* --fit PATH[=LO:HI]: bounds default to the parameter's range when it is finite
     * and modest (a share, a rate); weights need explicit bounds. */
    spec = calloc((size_t)nfits, sizeof *spec);
    if (!spec)
        goto out;
    for (int j = 0; j < nfits; j++) {
        const char *eq = strchr(fits[j], '=');
        spec[j].path = strndup(fits[j], eq ? (size_t)(eq - fits[j]) : strlen(fits[j]));
        a5_target t;
        char err[256];
        if (!spec[j].path || a5_scenario_resolve(s, spec[j].path, &t, err, sizeof err)) {
            fprintf(stderr, "--fit:%d:1: error: %s\n", j + 1, err);
            goto out;
        }
        spec[j].lo = t.param->lo;
        spec[j].hi = t.param->hi;
        a5_scenario_target_free(&t);
        if (eq) {
            char *end;
            spec[j].lo = strtod(eq + 1, &end);
            if (*end != ':' || (spec[j].hi = strtod(end + 1, &end), *end)) {
                fprintf(stderr, "--fit:%d:%d: error: bounds must be LO:HI, got '%s'\n", j + 1,
                        (int)(eq - fits[j]) + 2, eq + 1);
                goto out;
            }
        } else if (spec[j].hi - spec[j].lo > 100) {
            fprintf(stderr, "--fit:%d:1: error: '%s' ranges over [%g, %g]: give bounds, e.g. "
                            "--fit %s=0:3\n", j + 1, spec[j].path, spec[j].lo, spec[j].hi,
                    spec[j].path);
            goto out;
        }
    }
    size_t nh = 0;
    if (holdout_arg) {
        holdout = calloc(strlen(holdout_arg) + 2, sizeof *holdout);
        if (!holdout)
            goto out;
        for (char *tok = strtok(holdout_arg, ","); tok; tok = strtok(NULL, ","))
            holdout[nh++] = tok;
        for (size_t q = 0; q < nh; q++) {
            int found = 0;
            for (int i = 0; i < s->n; i++)
                found |= !strcmp(s->codes[i], holdout[q]);
            if (!found) {
                fprintf(stderr, "--holdout:1:1: error: unknown nation code '%s'\n", holdout[q]);
                goto out;
            }
        }
    }
    calib_ctx cc = {a.quiet};
    long reps = s->replicates < 100 ? 100 : s->replicates;
    for (int k = 0; k < a.nsets; k++)
        if (!strncmp(a.sets[k], "replicates=", 11))
            reps = s->replicates; /* --replicates given: use it as is */
    a5_calib_opts co = {.replicates = reps, .starts = (int)starts, .max_iter = 150,
                        .brier = !strcmp(objective, "brier"), .threads = a.threads,
                        .holdout = holdout, .report = calib_report, .ctx = &cc};
    char err[512] = "";
    int frc = a5_calib_fit(s, obs, nobs, spec, (size_t)nfits, &co, &res, err, sizeof err);
    if (frc) {
        fprintf(stderr, "allied5g: calibrate: %s\n", err[0] ? err : a5_strerror(frc));
        rc = frc == A5_ESCENARIO ? EXIT_USAGE : EXIT_RUNTIME;
        goto out;
    }
    /* The input scenario with the fitted values set, as --set would. */
    const char **sets = calloc((size_t)(a.nsets + nfits), sizeof *sets);
    char **owned = calloc((size_t)nfits, sizeof *owned);
    a5_scenario *fitted = NULL;
    int lrc = A5_ENOMEM;
    if (sets && owned) {
        for (int k = 0; k < a.nsets; k++)
            sets[k] = a.sets[k];
        for (int j = 0; j < nfits; j++) {
            size_t n = strlen(spec[j].path) + 40;
            if ((owned[j] = malloc(n)))
                snprintf(owned[j], n, "%s=%.6g", spec[j].path, res.value[j]);
            sets[a.nsets + j] = owned[j];
        }
        a5_diag d2 = {0};
        lrc = a5_scenario_load(a.scenario, sets, a.nsets + nfits, &d2, &fitted);
        a5_diag_print(&d2, stderr);
        a5_diag_free(&d2);
    }
    char *cmd = join_argv(full_argc, full_argv);
    size_t cap = (fitted ? strlen(fitted->text) : 0) + 4096 + (size_t)nfits * 256;
    text = malloc(cap);
    if (!lrc && text && cmd) {
        size_t off = (size_t)snprintf(text, cap,
            "# Calibrated by: %s\n# Observations: %s (%zu fitted, %zu held out); %ld replicates "
            "per evaluation, %d evaluations\n# Objective (%s, minimised): %.4f at the scenario's "
            "values -> %.4f at the fit\n# path: start -> fitted (approximate standard error)\n",
            cmd, obs_path, res.nfit, res.nheld, reps, res.evaluations,
            co.brier ? "Brier score" : "-log-likelihood", res.obj_start, res.obj_end);
        for (int j = 0; j < nfits; j++)
            off += (size_t)snprintf(text + off, cap - off, "#   %s: %.4g -> %.4g (se %.3g)\n",
                                    spec[j].path, res.start[j], res.value[j], res.se[j]);
        snprintf(text + off, cap - off, "%s", fitted->text);
    }
    int wrc = !lrc && text && cmd ? write_atomic(a.out, text) : -1;
    for (int j = 0; owned && j < nfits; j++)
        free(owned[j]);
    free(owned);
    free(sets);
    free(cmd);
    a5_scenario_free(fitted);
    if (wrc) {
        fprintf(stderr, "allied5g: cannot write %s: %s\n", a.out, strerror(errno));
        rc = EXIT_RUNTIME;
        goto out;
    }
    printf("fitted %d parameter%s to %zu observations (%ld replicates per evaluation, %d evaluations)\n",
           nfits, nfits == 1 ? "" : "s", res.nfit, reps, res.evaluations);
    printf("  %-32s %10s %10s %10s\n", "path", "start", "fitted", "std.err");
    for (int j = 0; j < nfits; j++)
        printf("  %-32s %10.4g %10.4g %10.3g\n", spec[j].path, res.start[j], res.value[j], res.se[j]);
    printf("objective (%s): %.4f at the scenario's values -> %.4f\n",
           co.brier ? "Brier score" : "-log-likelihood", res.obj_start, res.obj_end);
    printf("fitted observations: log-likelihood %.3f, Brier %.4f, accuracy %.3f\n", res.loglik,
           res.brier, res.accuracy);
    if (res.nheld)
        printf("held out (%zu observations):     log-likelihood  Brier  accuracy\n"
               "  model at the fit              %14.3f %6.4f %9.3f\n"
               "  baseline: keep initial policy %14.3f %6.4f %9.3f\n"
               "  baseline: bloc majority       %14.3f %6.4f %9.3f\n",
               res.nheld, res.held_loglik, res.held_brier, res.held_accuracy, res.base_keep_loglik,
               res.base_keep_brier, res.base_keep_accuracy, res.base_bloc_loglik,
               res.base_bloc_brier, res.base_bloc_accuracy);
    printf("wrote %s\n", a.out);
    rc = 0;
out:
    a5_calib_result_free(&res);
    for (int j = 0; spec && j < nfits; j++)
        free(spec[j].path);
    free(spec);
    free(holdout);
    free(holdout_arg);
    free(obs);
    free(text);
    a5_scenario_free(s);
    if (a.sets)
        args_free(&a);
    free(rest);
    free(fits);
    return rc;
}

static int cmd_validate(int argc, char **argv)
{
    args a;
    if (parse_args(argc, argv, 0, &a)) {
        args_free(&a);
        return EXIT_USAGE;
    }
    a5_scenario *s = NULL;
    int rc = load(&a, &s);
    if (!rc) {
        a5_scenario_summary(s, stdout);
        printf("ok: %s is valid\n", a.scenario);
    }
    a5_scenario_free(s);
    args_free(&a);
    return rc;
}

static int cmd_info(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "allied5g: info takes one results file\n%s", usage);
        return EXIT_USAGE;
    }
    char err[512];
    if (a5_output_info(argv[0], stdout, err, sizeof err)) {
        fprintf(stderr, "allied5g: %s\n", err);
        return EXIT_RUNTIME;
    }
    return 0;
}

int a5_cli_main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
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
#ifdef A5_MPI
    if (!strcmp(cmd, "run")) {
        int provided, rc;
        /* OpenMP threads never call MPI: only the main thread does. */
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
        rc = cmd_run(argc - 2, argv + 2, argc, argv);
        if (rc == EXIT_RUNTIME) {
            /* Parallel HDF5 shuts itself down inside MPI_Finalize, and after a failed
             * close (a full disk) that shutdown crashes in HDF5 1.10: leave at once. */
            fflush(NULL);
            _exit(rc);
        }
        MPI_Finalize();
        return rc;
    }
#endif
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 2, argv + 2, argc, argv);
    if (!strcmp(cmd, "validate"))
        return cmd_validate(argc - 2, argv + 2);
    if (!strcmp(cmd, "info"))
        return cmd_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "calibrate"))
        return cmd_calibrate(argc - 2, argv + 2, argc, argv);
    if (!strcmp(cmd, "reference"))
        return a5_param_write_reference(stdout) ? EXIT_RUNTIME : 0;
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("allied5g %s (%s)\n", A5_VERSION, A5_GIT_REVISION);
        return 0;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    fprintf(stderr, "allied5g: unknown command '%s'\n%s", cmd, usage);
    return EXIT_USAGE;
}
