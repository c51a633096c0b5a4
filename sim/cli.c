/* Command-line front end, what every command shares: option parsing, help, --set
 * lists, loading a scenario, the recorded command line, writing a text file. The
 * dispatch and the small commands (validate, info, reference) are in cli_main.c,
 * which calls the commands' files, which call this one. The only code that prints
 * to the terminal; only main's return value ends the process. See a5_cli.h. */
#include "a5_cli.h"

#include "a5_error.h"
#include "a5_output.h"
#include "a5_param.h"
#include "a5_scenario.h"
#include "a5_sys.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --- options -------------------------------------------------------------------------- */

/* A value from the command line as printed in messages: escaped, long ones cut. */
#define SHOW(v) a5_escape((v), 200, (char[1024]){0}, 1024)

static void usage_hint(const a5_cli_cmd *c)
{
    fprintf(stderr, "usage: allied5g %s %s [options]; see: allied5g %s --help\n", c->name,
            c->operands, c->name);
}

/* The index of long option `name` (n bytes) in c, or -1. */
static int find_long(const a5_cli_cmd *c, const char *name, size_t n)
{
    for (int i = 0; i < c->nopts; i++)
        if (strlen(c->opts[i].name) == n && !strncmp(c->opts[i].name, name, n))
            return i;
    return -1;
}

/* Before getopt_long: every long option spelled out in full (getopt_long would
 * take an unambiguous prefix such as --replicate for --replicates), and --help
 * anywhere among the options. Returns 0, 1 for help, or A5_EUSAGE (printed). */
static int prescan(const a5_cli_cmd *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--"))
            return 0;
        if (!strcmp(s, "--help") || !strcmp(s, "-h"))
            return 1;
        if (strncmp(s, "--", 2))
            continue;
        const char *name = s + 2, *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        int k = find_long(c, name, n);
        if (k >= 0) {
            if (c->opts[k].metavar && !eq)
                i++; /* its value */
            continue;
        }
        const char *names[A5_CLI_MAXOPT + 1];
        for (int j = 0; j < c->nopts; j++)
            names[j] = c->opts[j].name;
        names[c->nopts] = "help";
        char word[64];
        snprintf(word, sizeof word, "%.*s", (int)(n < 63 ? n : 63), name);
        const char *near = a5_suggest(word, names, (size_t)c->nopts + 1);
        if (near)
            fprintf(stderr, "allied5g %s: unknown option '--%s' (did you mean --%s?)\n", c->name,
                    SHOW(word), near);
        else
            fprintf(stderr, "allied5g %s: unknown option '--%s'\n", c->name, SHOW(word));
        usage_hint(c);
        return A5_EUSAGE;
    }
    return 0;
}

/* Record option k's value v; refuses a second value of a single-valued option. */
static int take(const a5_cli_cmd *c, a5_cli_args *a, int k, const char *v, int argc)
{
    const a5_cli_opt *o = &c->opts[k];
    if (o->repeat) {
        if (!a->list[k] && !(a->list[k] = calloc((size_t)argc + 1, sizeof *a->list[k])))
            return A5_ENOMEM;
        a->list[k][a->given[k]] = v;
    } else if (a->given[k] && o->metavar) {
        fprintf(stderr, "allied5g %s: --%s given twice ('%s' and '%s'); give it once\n", c->name,
                o->name, SHOW(a->val[k]), SHOW(v));
        return A5_EUSAGE;
    }
    a->given[k]++;
    a->val[k] = v ? v : "";
    return 0;
}

int a5_cli_parse(const a5_cli_cmd *c, int argc, char **argv, a5_cli_args *a)
{
    memset(a, 0, sizeof *a);
    int pre = prescan(c, argc, argv);
    if (pre == 1) {
        a5_cli_help(c, stdout);
        a->help = 1;
        return 0;
    }
    if (pre)
        return pre;
    struct option lo[A5_CLI_MAXOPT + 1];
    char so[2 * A5_CLI_MAXOPT + 2] = ":"; /* ':' first: a missing value returns ':' */
    size_t sn = 1;
    for (int i = 0; i < c->nopts; i++) {
        const a5_cli_opt *o = &c->opts[i];
        lo[i] = (struct option){o->name, o->metavar ? required_argument : no_argument, NULL, 256 + i};
        if (o->short_name) {
            so[sn++] = o->short_name;
            if (o->metavar)
                so[sn++] = ':';
        }
    }
    lo[c->nopts] = (struct option){NULL, 0, NULL, 0};
    so[sn] = 0;
    opterr = 0;
    optind = 0; /* start afresh, at argv[1] */
    int ch, rc = 0;
    while (!rc && (ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
        int k = -1;
        if (ch >= 256)
            k = ch - 256;
        else
            for (int i = 0; i < c->nopts; i++)
                if (c->opts[i].short_name && c->opts[i].short_name == ch)
                    k = i;
        if (k >= 0) {
            rc = take(c, a, k, c->opts[k].metavar ? optarg : NULL, argc);
            continue;
        }
        const char *what = argv[optind - 1];
        if (ch == ':' && optopt >= 256)
            fprintf(stderr, "allied5g %s: --%s needs a value\n", c->name, c->opts[optopt - 256].name);
        else if (ch == ':')
            fprintf(stderr, "allied5g %s: -%c needs a value\n", c->name, optopt);
        else if (optopt >= 256)
            fprintf(stderr, "allied5g %s: --%s takes no value\n", c->name, c->opts[optopt - 256].name);
        else
            fprintf(stderr, "allied5g %s: unknown option '%s'\n", c->name,
                    optopt ? (char[]){'-', (char)optopt, 0} : SHOW(what));
        usage_hint(c);
        rc = A5_EUSAGE;
    }
    for (int i = optind; !rc && i < argc; i++) {
        if (a->noperands >= c->noperands) {
            fprintf(stderr, "allied5g %s: unexpected argument '%s'\n", c->name, SHOW(argv[i]));
            usage_hint(c);
            rc = A5_EUSAGE;
        } else
            a->operand[a->noperands++] = argv[i];
    }
    if (!rc && a->noperands < c->noperands) {
        fprintf(stderr, "allied5g %s: no %s given\n", c->name, c->operands);
        usage_hint(c);
        rc = A5_EUSAGE;
    }
    if (rc == A5_ENOMEM)
        fprintf(stderr, "allied5g: out of memory\n");
    return rc;
}

void a5_cli_args_free(a5_cli_args *a)
{
    for (int i = 0; i < A5_CLI_MAXOPT; i++)
        free(a->list[i]);
    memset(a, 0, sizeof *a);
}

void a5_cli_help(const a5_cli_cmd *c, FILE *out)
{
    fprintf(out, "usage: allied5g %s%s%s [options]\n\n%s\n\noptions:\n", c->name,
            c->operands[0] ? " " : "", c->operands, c->summary);
    for (int i = 0; i <= c->nopts; i++) {
        static const a5_cli_opt help = {"help", 'h', NULL, 0, NULL, "print this help and exit"};
        const a5_cli_opt *o = i < c->nopts ? &c->opts[i] : &help;
        char head[64];
        snprintf(head, sizeof head, "%c%c%s --%s%s%s", o->short_name ? '-' : ' ',
                 o->short_name ? o->short_name : ' ', o->short_name ? "," : " ", o->name,
                 o->metavar ? "=" : "", o->metavar ? o->metavar : "");
        fprintf(out, "  %-30s %s", head, o->help);
        if (o->def && !strcmp(o->def, "required"))
            fprintf(out, " (required)");
        else if (o != &help)
            fprintf(out, " (default: %s)", o->def ? o->def : o->metavar ? "none" : "off");
        fprintf(out, "%s\n", o->repeat ? "; may be repeated" : "");
    }
    fprintf(out, "\nexample:\n  %s\n", c->example);
}

int a5_cli_whole(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "allied5g: %s expects a whole number in [%ld, %ld], got '%s'\n", opt, lo,
                hi, SHOW(v));
        return A5_EUSAGE;
    }
    *out = x;
    return 0;
}

/* --- scenarios ------------------------------------------------------------------------ */

/* Length of the path of a --set PATH=VALUE (spaces around it left out). */
static size_t set_path_len(const char *arg)
{
    const char *p = arg + strspn(arg, " \t"), *eq = strchr(p, '=');
    size_t n = eq ? (size_t)(eq - p) : strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return n;
}

int a5_cli_sets_make(a5_cli_sets *out, const char *const *sets, int n, const char *seed,
                     const char *replicates, const char *store)
{
    memset(out, 0, sizeof *out);
    long x;
    if (seed && a5_cli_whole("--seed", seed, 0, 9007199254740991L, &x))
        return A5_EUSAGE;
    if (replicates && a5_cli_whole("--replicates", replicates, 1, 1000000000L, &x))
        return A5_EUSAGE;
    if (store && strcmp(store, "full") && strcmp(store, "summary") && strcmp(store, "outcomes")) {
        fprintf(stderr, "allied5g: --store expects full, summary or outcomes, got '%s'\n",
                SHOW(store));
        return A5_EUSAGE;
    }
    /* One value per path: a second --set of it, or --set of what --seed, --replicates
     * or --store also sets, contradicts the first. */
    const char *opts[3][2] = {{"seed", seed}, {"replicates", replicates}, {"output.store", store}};
    for (int k = 0; k < n; k++) {
        size_t lk = set_path_len(sets[k]);
        const char *pk = sets[k] + strspn(sets[k], " \t");
        for (int j = 0; j < k; j++) {
            const char *pj = sets[j] + strspn(sets[j], " \t");
            if (set_path_len(sets[j]) == lk && !strncmp(pj, pk, lk)) {
                fprintf(stderr, "--set:%d:1: error: '%.*s' is set twice (also --set number %d); "
                                "give each path once\n", k + 1, (int)lk, SHOW(pk), j + 1);
                return A5_EUSAGE;
            }
        }
        for (int q = 0; q < 3; q++)
            if (opts[q][1] && strlen(opts[q][0]) == lk && !strncmp(pk, opts[q][0], lk)) {
                fprintf(stderr, "--set:%d:1: error: '%s' is set here and by --%s %s; give it "
                                "once\n", k + 1, opts[q][0], q == 2 ? "store" : opts[q][0],
                        SHOW(opts[q][1]));
                return A5_EUSAGE;
            }
    }
    if (!(out->v = calloc((size_t)n + 3, sizeof *out->v)) ||
        !(out->from = calloc((size_t)n + 3, sizeof *out->from)))
        return A5_ENOMEM;
    for (int k = 0; k < n; k++)
        out->v[out->n++] = sets[k];
    static const char *const option[3] = {"--seed", "--replicates", "--store"};
    for (int k = 0; k < 3; k++)
        if (opts[k][1]) {
            size_t len = strlen(opts[k][0]) + strlen(opts[k][1]) + 2;
            if (!(out->owned[k] = malloc(len)))
                return A5_ENOMEM;
            snprintf(out->owned[k], len, "%s=%s", opts[k][0], opts[k][1]);
            out->from[out->n] = option[k];
            out->v[out->n++] = out->owned[k];
        }
    return 0;
}

void a5_cli_sets_free(a5_cli_sets *s)
{
    free(s->v);
    free(s->from);
    for (int k = 0; k < 3; k++)
        free(s->owned[k]);
    memset(s, 0, sizeof *s);
}

/* The .yaml file beside `path` whose name is nearest to path's, as the user would
 * type it (with path's directory), into buf; 0 when one is close enough. */
static int nearest_yaml(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", dl ? (int)dl : 1, dl ? path : ".");
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if ((l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) ||
            (l > 4 && !strcmp(e->d_name + l - 4, ".yml"))) {
            if (n == cap) {
                char **nn = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names);
                if (!nn)
                    break;
                names = nn;
            }
            if (!(names[n] = strdup(e->d_name)))
                break;
            n++;
        }
    }
    closedir(d);
    const char *near = n ? a5_suggest(base, (const char *const *)names, n) : NULL;
    if (near) {
        snprintf(buf, len, "%.*s%s", (int)dl, path, near);
        rc = 0;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int a5_cli_load(const char *path, const a5_cli_sets *sets, a5_scenario **s)
{
    /* stat, not open: opening a FIFO would wait for a writer (the loader refuses it). */
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        char near[4096];
        if (e == ENOENT && nearest_yaml(path, near, sizeof near) == 0)
            fprintf(stderr, "%s: error: cannot open: %s (did you mean '%s'?)\n", SHOW(path), strerror(e),
                    near);
        else
            fprintf(stderr, "%s: error: cannot open: %s\n", SHOW(path), strerror(e));
        return A5_EXIT_USAGE;
    }
    a5_diag d = {0};
    int rc = a5_scenario_load_from(path, sets->v, sets->from, sets->n, &d, s);
    a5_diag_print(&d, stderr);
    for (size_t i = 0; !rc && i < (*s)->warnings.n; i++) {
        const a5_diag_entry *e = &(*s)->warnings.v[i];
        fprintf(stderr, "%s:%d:%d: warning: %s\n", e->file, e->line, e->col, e->msg);
    }
    if (rc && a5_diag_count(&d))
        fprintf(stderr, "allied5g: %zu error%s in %s; nothing was run\n", a5_diag_count(&d),
                a5_diag_count(&d) == 1 ? "" : "s", path);
    a5_diag_free(&d);
    if (rc == A5_ENOMEM) {
        fprintf(stderr, "allied5g: out of memory while loading %s\n", path);
        return A5_EXIT_RUNTIME;
    }
    return rc ? A5_EXIT_USAGE : 0;
}

char *a5_cli_join_argv(int argc, char **argv)
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

int a5_cli_parse_recorded(const a5_cli_cmd *c, int argc, char **argv, int full_argc,
                          char **full_argv, a5_cli_args *a, char **cmdline)
{
    *cmdline = a5_cli_join_argv(full_argc, full_argv);
    int rc = a5_cli_parse(c, argc, argv, a);
    if (!rc && !*cmdline) {
        fprintf(stderr, "allied5g: out of memory\n");
        rc = A5_ENOMEM;
    }
    return rc;
}

/* --- messages and files ----------------------------------------------------------- */

static const char *self = "allied5g";

void a5_cli_set_self(const char *argv0)
{
    if (argv0 && strchr(argv0, '/'))
        self = argv0;
}

const char *a5_cli_self(void)
{
    return self;
}

int a5_cli_write_text(const char *path, const char *text, size_t len)
{
    char err[512] = "";
    int rc = a5_sys_write_atomic(path, NULL, text, len, err, sizeof err);
    if (rc) {
        fprintf(stderr, "allied5g: cannot write %s: %s\n", path, err[0] ? err : a5_strerror(rc));
        return A5_EXIT_RUNTIME;
    }
    printf("wrote %s\n", path);
    return 0;
}

int a5_cli_one_scenario(const a5_scenario *s, const char *command, const char *verb,
                        const char *fix)
{
    if (!s->vary_file)
        return 0;
    a5_diag d = {0};
    a5_diag_add(&d, s->vary_file, s->vary_line, s->vary_col,
                "%s %s one scenario, and this one varies %zu path%s over %ld points (sweep or "
                "design); remove it, or %s",
                command, verb, s->nvaried, s->nvaried == 1 ? "" : "s", s->npoints, fix);
    a5_diag_print(&d, stderr);
    a5_diag_free(&d);
    return A5_EXIT_USAGE;
}
