/* Error messages, diagnostic lists and typo suggestions. */
#include "a5_error.h"

#include "a5_mem.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *a5_strerror(int code)
{
    switch (code) {
    case A5_OK: return "success";
    case A5_ENOMEM: return "out of memory";
    case A5_EIO: return "input/output error";
    case A5_ESCENARIO: return "invalid scenario";
    case A5_EUSAGE: return "bad usage";
    case A5_ELIMIT: return "size beyond the supported limits";
    case A5_EHDF5: return "HDF5 library error";
    case A5_EEXIST: return "output file exists (use --force to replace it)";
    case A5_EINTERRUPT: return "interrupted";
    case A5_ERESUME: return "cannot resume from the checkpoint";
    case A5_EFAILED: return "a replicate produced non-finite values";
    case A5_EBUSY: return "another process is writing the same output";
    default: return "unknown error";
    }
}

void a5_diag_add(a5_diag *d, const char *file, int line, int col, const char *fmt, ...)
{
    size_t limit = d->limit ? d->limit : 200;
    if (d->n >= limit) {
        d->dropped++;
        return;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 16;
        a5_diag_entry *v = a5_realloc(d->v, cap * sizeof *v);
        if (!v) {
            d->dropped++;
            return;
        }
        d->v = v;
        d->cap = cap;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    a5_diag_entry *e = &d->v[d->n];
    e->file = a5_strdup(file ? file : "<input>");
    e->msg = a5_strdup(buf);
    e->line = line;
    e->col = col;
    if (!e->file || !e->msg) {
        free(e->file);
        free(e->msg);
        d->dropped++;
        return;
    }
    d->n++;
}

size_t a5_diag_count(const a5_diag *d) { return d->n + d->dropped; }

static int cmp_entry(const void *a, const void *b)
{
    const a5_diag_entry *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return 0;
}

void a5_diag_print(a5_diag *d, FILE *out)
{
    /* Insertion sort: stable (equal positions keep the order found), lists are short. */
    for (size_t i = 1; i < d->n; i++) {
        a5_diag_entry e = d->v[i];
        size_t j = i;
        while (j > 0 && cmp_entry(&d->v[j - 1], &e) > 0) {
            d->v[j] = d->v[j - 1];
            j--;
        }
        d->v[j] = e;
    }
    for (size_t i = 0; i < d->n; i++) {
        const a5_diag_entry *e = &d->v[i];
        if (e->line > 0)
            fprintf(out, "%s:%d:%d: error: %s\n", e->file, e->line, e->col, e->msg);
        else /* a whole file (cannot open it): no position to give */
            fprintf(out, "%s: error: %s\n", e->file, e->msg);
    }
    if (d->dropped)
        fprintf(out, "(%zu more errors not shown)\n", d->dropped);
}

void a5_diag_free(a5_diag *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].msg);
    }
    free(d->v);
    memset(d, 0, sizeof *d);
}

/* Levenshtein distance, case-insensitive, capped at 64 characters per word. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            int ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z')
                ca += 'a' - 'A';
            if (cb >= 'A' && cb <= 'Z')
                cb += 'a' - 'A';
            size_t best = prev + (ca != cb);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

const char *a5_suggest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1;
    size_t lw = strlen(word);
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        size_t dist = edit_distance(word, names[i]);
        if (dist < bestd) {
            bestd = dist;
            best = names[i];
        }
    }
    /* A plausible typo: at most a third of the word wrong, and at least 1 allowed. */
    size_t allow = lw / 3 > 1 ? lw / 3 : 1;
    if (lw >= 4 && allow < 2)
        allow = 2;
    return (best && bestd <= allow && bestd > 0) ? best : (bestd == 0 ? best : NULL);
}
