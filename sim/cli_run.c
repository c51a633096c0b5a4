/* `allied5g run`: a scenario's batch into a results file, with a progress line,
 * signals that checkpoint and stop, and a summary of the results. See a5_cli.h. */
#include "a5_cli.h"

#include "a5_batch.h"
#ifdef A5_MPI
#include "a5_mpi.h"
#include <mpi.h>
#endif
#include "a5_error.h"
#include "a5_output.h"
#include "a5_scenario.h"
#include "a5_sys.h"

#include <fcntl.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { O_OUT, O_SEED, O_REPS, O_THREADS, O_SET, O_STORE, O_FORCE, O_QUIET, O_RESUME,
       O_CHECKPOINT, O_ONFAIL, O_LIVE, O_SPACE, O_CRN, O_NOPT };

static const a5_cli_opt run_opts[O_NOPT] = {
    [O_OUT] = {"output", 'o', "OUT.h5", 0, "required", "results file to write"},
    [O_SEED] = {"seed", 0, "N", 0, "the scenario's seed", "master seed"},
    [O_REPS] = {"replicates", 0, "N", 0, "the scenario's replicates", "replicates per design point"},
    [O_THREADS] = {"threads", 0, "N", 0, "all cores", "worker threads"},
    [O_SET] = {"set", 0, "PATH=VALUE", 1, NULL, "override one scenario value, as in the file"},
    [O_STORE] = {"store", 0, "full|summary|outcomes", 0, "the scenario's output.store (full)",
                 "summary leaves out the per-replicate step arrays; outcomes keeps only the "
                 "scenario's outcomes"},
    [O_FORCE] = {"force", 0, NULL, 0, NULL, "replace OUT.h5, or an interrupted run of it"},
    [O_QUIET] = {"quiet", 'q', NULL, 0, NULL, "no progress line and no summary"},
    [O_RESUME] = {"resume", 0, NULL, 0, NULL, "continue the interrupted run in OUT.h5.partial"},
    [O_CHECKPOINT] = {"checkpoint", 0, "SECONDS", 0, "2",
                      "least time between checkpoints (0: after every block)"},
    [O_ONFAIL] = {"on-failure", 0, "continue|stop", 0, "continue; with --resume, the run's",
                  "what a replicate with non-finite values does"},
    [O_LIVE] = {"live", 0, NULL, 0, NULL,
                "write in HDF5 SWMR mode: readable while running (allied5g.load_live)"},
    [O_SPACE] = {"ignore-space", 0, NULL, 0, NULL,
                 "run even if the results may need more than the free disk space"},
    [O_CRN] = {"crn", 0, NULL, 0, NULL,
               "common random numbers: every design point's replicate r draws the same "
               "stream, so differences between points are paired (as --set seed.common=true)"},
};

const a5_cli_cmd a5_cli_run_cmd = {
    "run", "SCENARIO.yaml", 1,
    "Run every design point and replicate of a scenario and write the results file\n"
    "(a temporary OUT.h5.partial, renamed into place when complete).",
    run_opts, O_NOPT,
    "allied5g run scenarios/minimal.yaml -o out.h5 --replicates=1000 --set us.escalation=0.05"};

typedef struct {
    double t0, last;
    int tty;
} progress_state;

static void progress(void *ctx, double done, double total)
{
    progress_state *p = ctx;
    double t = a5_sys_now();
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

/* First SIGINT/SIGTERM: finish the current block, checkpoint, stop. A second
 * signal stops at once: the last checkpoint survives; before the first one there
 * is nothing to resume, so the partial file and its lock go too. */
static volatile sig_atomic_t stop_signal = 0;
static char sig_partial[4096], sig_state[4096], sig_state_tmp[4096], sig_lock[4096];

/* Whether the output's lock file names this process (so the partial file is ours
 * to remove). Async-signal-safe. */
static int own_lock(void)
{
    char buf[32], want[32];
    int fd = open(sig_lock, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    /* getpid in decimal, by hand (no printf in a handler). */
    long pid = (long)getpid();
    int n = 0;
    char rev[32];
    do {
        rev[n++] = (char)('0' + pid % 10);
        pid /= 10;
    } while (pid > 0 && n < 30);
    for (int i = 0; i < n; i++)
        want[i] = rev[n - 1 - i];
    return k > n && memcmp(buf, want, (size_t)n) == 0 && buf[n] == '\n';
}

static void on_signal(int sig)
{
    static const char msg[] = "\nallied5g: stopping after the current block "
                              "(signal again to stop at once)\n";
    if (stop_signal) {
        if (sig_partial[0] && access(sig_state, F_OK) != 0 && own_lock()) {
            unlink(sig_partial);
            unlink(sig_state_tmp); /* the first checkpoint, if it was being written */
            unlink(sig_lock);
        }
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_signal = sig;
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
}

/* Before the output file exists: a signal while it is being created counts. */
static void install_handlers(const char *out)
{
    if (strlen(out) + 20 < sizeof sig_partial) {
        snprintf(sig_partial, sizeof sig_partial, "%s.partial", out);
        snprintf(sig_state, sizeof sig_state, "%s.partial.state", out);
        snprintf(sig_state_tmp, sizeof sig_state_tmp, "%s.partial.state.tmp", out);
        snprintf(sig_lock, sizeof sig_lock, "%s.partial.lock", out);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Refuse a run whose results may not fit: the estimate (an upper bound before
 * compression) against the free space beside OUT. Returns 0 or A5_EUSAGE
 * (printed). */
static int check_space(const a5_scenario *s, const char *out, int ignore)
{
    double need = a5_scenario_output_bytes(s), avail = a5_sys_free_bytes(out);
    if (avail < 0 || need <= avail)
        return 0;
    if (ignore) {
        fprintf(stderr, "allied5g: warning: the results may need up to %.0f MiB; %.0f MiB are "
                        "free beside %s (--ignore-space)\n", need / 1048576, avail / 1048576, out);
        return 0;
    }
    fprintf(stderr, "allied5g: the results may need up to %.0f MiB, but only %.0f MiB are free "
                    "beside %s; free space, choose fewer replicates or steps, --store summary, "
                    "or run anyway with --ignore-space\n", need / 1048576, avail / 1048576, out);
    return A5_EUSAGE;
}

/* The run's settings, from the command line. */
typedef struct {
    const char *out;
    int threads, force, quiet, resume, stop_on_failure, live, ignore_space;
    double checkpoint;
} run_args;

static int run_args_get(const a5_cli_args *a, run_args *r)
{
    memset(r, 0, sizeof *r);
    r->out = a->val[O_OUT];
    r->force = a->given[O_FORCE] > 0;
    r->quiet = a->given[O_QUIET] > 0;
    r->resume = a->given[O_RESUME] > 0;
    r->live = a->given[O_LIVE] > 0;
    r->ignore_space = a->given[O_SPACE] > 0;
    r->checkpoint = 2;
    long x;
    if (!r->out) {
        fprintf(stderr, "allied5g run: needs -o OUT.h5\n");
        return A5_EUSAGE;
    }
    char why[512];
    if (a5_sys_output_name(r->out, why, sizeof why)) {
        fprintf(stderr, "allied5g: -o: %s\n", why);
        return A5_EUSAGE;
    }
    if (a->val[O_THREADS]) {
        if (a5_cli_whole("--threads", a->val[O_THREADS], 1, 1024, &x))
            return A5_EUSAGE;
        r->threads = (int)x;
    }
    if (a->val[O_CHECKPOINT]) {
        if (a5_cli_whole("--checkpoint", a->val[O_CHECKPOINT], 0, 86400, &x))
            return A5_EUSAGE;
        r->checkpoint = (double)x;
    }
    const char *f = a->val[O_ONFAIL];
    if (f && strcmp(f, "continue") && strcmp(f, "stop")) {
        fprintf(stderr, "allied5g: --on-failure expects continue or stop, got '%s'\n",
                a5_escape(f, 200, (char[1024]){0}, 1024));
        return A5_EUSAGE;
    }
    r->stop_on_failure = !f ? -1 : !strcmp(f, "stop");
    return 0;
}

/* store outcomes: where the outcomes are, and how to read them. */
static void print_outcomes(const a5_scenario *s, const char *out)
{
    printf("kept the outcomes only (store outcomes):");
    for (size_t k = 0; k < s->noutcomes; k++)
        printf("%s %s", k ? "," : "", s->outcomes[k].name);
    printf("\n");
    char *info = a5_cli_join_argv(3, (char *[]){(char *)a5_cli_self(), "info", (char *)out});
    printf("details: %s; in Python: allied5g.load(\"%s\").outcomes\n",
           info ? info : "allied5g info", out);
    free(info);
}

/* The summary printed after a successful run. */
static void print_summary(const a5_scenario *s, const run_args *r, const a5_batch_stats *st,
                          double secs, int threads)
{
    char last[16];
    a5_scenario_date(s, s->steps - 1, last, sizeof last);
    double ran = st->runs - st->resumed;
    double ns = ran > 0 ? secs * 1e9 / (ran * s->steps * s->n) : 0;
    printf("wrote %s: %ld point%s x %ld replicates x %d steps x %d nations in %.2f s "
           "(%.1f ns per nation-step, %d thread%s%s)\n",
           r->out, s->npoints, s->npoints == 1 ? "" : "s", s->replicates, s->steps, s->n, secs, ns,
           threads, threads == 1 ? "" : "s", st->resumed > 0 ? ", resumed" : "");
    if (s->store_outcomes) { /* no shares kept: the outcomes' means at point 0 */
        print_outcomes(s, r->out);
        return;
    }
    printf("policy shares at the end of %s%s (share of replicates):\n", last,
           s->npoints > 1 ? ", design point 0" : "");
    printf("  %-8s %-22s %6s %9s %6s  %s\n", "nation", "name", "open", "restrict", "ban",
           "mean high-risk share");
    const float *fs = st->final_share, *fm = st->final_mean;
    for (int i = 0; i < s->n && i < 60; i++)
        printf("  %-8s %-22.22s %6.2f %9.2f %6.2f  %.3f\n", s->codes[i], s->names[i], fs[3 * i],
               fs[3 * i + 1], fs[3 * i + 2], fm[i]);
    if (s->n > 60)
        printf("  ... %d more nations\n", s->n - 60);
    char *info = a5_cli_join_argv(3, (char *[]){(char *)a5_cli_self(), "info", (char *)r->out});
    printf("details: %s; in Python: xarray.open_dataset(\"%s\")\n", info ? info : "allied5g info",
           r->out);
    free(info);
}

/* After a failed batch: say what is saved and how to continue, and keep or drop
 * the partial run accordingly. Returns the exit status. */
static int batch_failed(a5_output *out, int brc, const char *err, const a5_batch_stats *st,
                        double total, const run_args *r, const char *cmdline)
{
    const char *partial = a5_output_partial_path(out);
    const char *again = r->resume ? "" : " --resume";
    if (brc == A5_EBUSY) { /* another process's files now: not ours to keep or remove */
        fprintf(stderr, "allied5g: %s\n", err);
        a5_output_abort(out, 1);
        return A5_EXIT_RUNTIME;
    }
    if (brc == A5_ERESUME) {
        fprintf(stderr, "allied5g: cannot resume: %s\n", err);
        a5_output_abort(out, 1);
        return A5_EXIT_USAGE;
    }
    if (brc == A5_EFAILED && st->resumed > 0 && st->runs == st->resumed) {
        /* Stopped again at once: the failure was before the interruption. */
        fprintf(stderr, "allied5g: %s\n", err);
        fprintf(stderr, "allied5g: %.0f of %.0f runs are saved in %s; to keep the failed "
                        "replicates as fill values and go on, resume with --on-failure continue; "
                        "or start over with --force\n", st->committed, total, partial);
        a5_output_abort(out, 1);
        return A5_EXIT_RUNTIME;
    }
    if (brc == A5_EINTERRUPT || brc == A5_EFAILED) {
        if (brc == A5_EFAILED)
            fprintf(stderr, "allied5g: a replicate produced non-finite values and "
                            "--on-failure stop is set\n");
        else
            fprintf(stderr, "allied5g: interrupted\n");
        fprintf(stderr, "allied5g: %.0f of %.0f runs are saved in %s; continue with:\n  %s%s\n",
                st->committed, total, partial, cmdline, again);
        a5_output_abort(out, 1);
        return A5_EXIT_RUNTIME;
    }
    fprintf(stderr, "allied5g: run failed: %s\n", err[0] ? err : a5_strerror(brc));
    if (st->committed > 0) {
        fprintf(stderr, "allied5g: %.0f of %.0f runs are saved in %s (last checkpoint); "
                        "fix the cause, then continue with:\n  %s%s\n",
                st->committed, total, partial, cmdline, again);
        a5_output_abort(out, 1);
    } else {
        fprintf(stderr, "allied5g: no results written\n");
        a5_output_abort(out, 0);
    }
    return A5_EXIT_RUNTIME;
}

/* Open the results file: create it, or reopen it to resume; a team opens it
 * together. */
static int open_output(const run_args *r, const a5_scenario *s, const a5_output_meta *meta,
                       a5_batch_team *team, a5_output **out, char *err, size_t errlen)
{
#ifdef A5_MPI
    if (team)
        return a5_output_open_team(r->out, s, meta, r->resume, a5_mpi_team_comm(team), out, err,
                                   errlen);
#endif
    (void)team;
    return r->resume ? a5_output_reopen(r->out, s, meta, out, err, errlen)
                     : a5_output_create(r->out, s, meta, out, err, errlen);
}

/* Everything after the scenario is loaded. */
static int run_loaded(const a5_scenario *s, const run_args *r, a5_batch_team *team,
                      const char *cmdline)
{
    char err[1024] = "";
    int threads = r->threads > 0 ? r->threads : omp_get_max_threads();
    a5_output_meta meta = {cmdline, threads, a5_batch_chunk_reps(s), r->force, r->live,
                           a5_batch_state_text};
    a5_output *out = NULL;
    float *fs = malloc((size_t)s->n * 3 * sizeof *fs), *fm = malloc((size_t)s->n * sizeof *fm);
    int rc = A5_EXIT_RUNTIME;
    int orc = fs && fm ? 0 : A5_ENOMEM;
    if (!orc && !r->resume && (!team || team->rank == 0) &&
        check_space(s, r->out, r->ignore_space)) {
        rc = A5_EXIT_USAGE;
        goto done;
    }
    install_handlers(r->out);
    if (!orc)
        orc = open_output(r, s, &meta, team, &out, err, sizeof err);
    if (!orc && stop_signal) {
        fprintf(stderr, "allied5g: interrupted before the first block; nothing written\n");
        a5_output_abort(out, 0);
        goto done;
    }
    int resume = r->resume;
    if (!orc && resume && a5_output_restarted(out)) {
        fprintf(stderr, "allied5g: %s has no checkpoint (the run stopped before its first): "
                        "starting from the beginning\n", a5_output_partial_path(out));
        resume = 0;
    }
    if (orc) {
        fprintf(stderr, "allied5g: %s\n", err[0] ? err : a5_strerror(orc));
        rc = orc == A5_EEXIST || orc == A5_ERESUME || orc == A5_EBUSY || orc == A5_EUSAGE
                 ? A5_EXIT_USAGE
                 : A5_EXIT_RUNTIME;
        goto done;
    }
    const char *inject = getenv("A5_INJECT_FAILURE"); /* test hook: fail this replicate */
    progress_state ps = {a5_sys_now(), 0, !r->quiet && isatty(2)};
    a5_batch_opts bo = {.threads = threads, .progress = progress, .ctx = &ps,
                        .stop = &stop_signal, .checkpoint = 1, .resume = resume,
                        .commit_seconds = r->checkpoint, .stop_on_failure = r->stop_on_failure,
                        .inject_failure = inject ? atol(inject) : -1, .team = team};
    a5_batch_stats st = {0};
    st.final_share = fs;
    st.final_mean = fm;
    double t0 = a5_sys_now();
    int brc = a5_batch_run(s, out, &bo, &st, err, sizeof err);
    double secs = a5_sys_now() - t0;
    if (brc) {
        rc = batch_failed(out, brc, err, &st, (double)s->npoints * (double)s->replicates, r,
                          cmdline);
        goto done;
    }
    if (a5_output_finish(out, st.quantile_error, st.failed, secs, err, sizeof err)) {
        char state[4200];
        snprintf(state, sizeof state, "%s.partial.state", r->out);
        if (access(state, F_OK) == 0)
            fprintf(stderr, "allied5g: %s; %.0f runs are saved (last checkpoint); fix the "
                            "cause, then continue with:\n  %s%s\n", err, st.committed, cmdline,
                    r->resume ? "" : " --resume");
        else
            fprintf(stderr, "allied5g: %s; no results written\n", err);
        goto done;
    }
    if (st.failed > 0)
        fprintf(stderr, "allied5g: warning: %.0f replicate%s produced non-finite values; they are "
                        "fill values in %s and left out of the aggregates (failed_replicates)\n",
                st.failed, st.failed == 1 ? "" : "s", r->out);
    if (!r->quiet)
        print_summary(s, r, &st, secs, threads);
    rc = 0;
done:
    free(fs);
    free(fm);
    return rc;
}

static int run_main(int argc, char **argv, int full_argc, char **full_argv, a5_batch_team *team)
{
    a5_cli_args a;
    a5_cli_sets sets = {0};
    run_args r;
    a5_scenario *s = NULL;
    char *cmdline;
    int rc = a5_cli_parse_recorded(&a5_cli_run_cmd, argc, argv, full_argc, full_argv, &a, &cmdline);
    /* --crn is the last --set: seed.common=true. */
    const char **setv = rc ? NULL : calloc((size_t)a.given[O_SET] + 1, sizeof *setv);
    if (!rc && !setv)
        rc = A5_ENOMEM;
    if (!rc && !a.help) {
        for (int k = 0; k < a.given[O_SET]; k++)
            setv[k] = a.list[O_SET][k];
        if (a.given[O_CRN])
            setv[a.given[O_SET]] = "seed.common=true";
    }
    if (!rc && !a.help && !(rc = run_args_get(&a, &r)))
        rc = a5_cli_sets_make(&sets, (const char *const *)setv, a.given[O_SET] + (a.given[O_CRN] > 0), a.val[O_SEED],
                              a.val[O_REPS], a.val[O_STORE]);
    if (rc || a.help) {
        rc = rc == A5_ENOMEM ? A5_EXIT_RUNTIME : rc ? A5_EXIT_USAGE : 0;
        goto done;
    }
    if (team && team->rank != 0) {
        /* Rank 0 speaks for the team; every rank reaches the same exit status. */
        r.quiet = 1;
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            r.quiet = 1;
    }
    if ((rc = a5_cli_load(a.operand[0], &sets, &s)) == 0)
        rc = run_loaded(s, &r, team, cmdline);
done:
    free(cmdline);
    a5_scenario_free(s);
    a5_cli_sets_free(&sets);
    free(setv);
    a5_cli_args_free(&a);
    return rc;
}

int a5_cli_run(int argc, char **argv, int full_argc, char **full_argv)
{
#ifdef A5_MPI
    int provided, nranks = 1;
    /* OpenMP threads never call MPI: only the main thread does. */
    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    a5_batch_team *team = NULL;
    if (nranks > 1 && !(team = a5_mpi_team_alloc())) {
        fprintf(stderr, "allied5g: out of memory\n");
        fflush(NULL);
        _exit(A5_EXIT_RUNTIME);
    }
    int rc = run_main(argc, argv, full_argc, full_argv, team);
    a5_mpi_team_free(team);
    if (rc == A5_EXIT_RUNTIME) {
        /* Parallel HDF5 shuts itself down inside MPI_Finalize, and after a failed
         * close (a full disk) that shutdown crashes in HDF5 1.10: leave at once. */
        fflush(NULL);
        _exit(rc);
    }
    MPI_Finalize();
    return rc;
#else
    return run_main(argc, argv, full_argc, full_argv, NULL);
#endif
}
