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

/* Length of the UTF-8 sequence at p (at most n bytes) if it is a valid one of a
 * printable character (not a C1 control), else 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t k = p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
    if (p[0] >= 0xF5 || k == 0 || k > n)
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if (k == 2 && p[0] == 0xC2 && p[1] < 0xA0)
        return 0; /* U+0080 .. U+009F: C1 controls */
    return k;
}

/* Escape in[0..n) into out (room for cap bytes, NUL included); returns the length. */
static size_t escape_span(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)in;
    for (size_t i = 0; i < n && o + 5 < cap;) {
        size_t k = p[i] >= 0x80 ? utf8_len(p + i, n - i) : 0;
        if (k) {
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
            continue;
        }
        unsigned c = p[i++];
        if (c == '\n' || c == '\t' || c == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\%c", c == '\n' ? 'n' : c == '\t' ? 't' : '\\');
        else if (c < 0x20 || c >= 0x7F)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02X", c);
        else
            out[o++] = (char)c;
    }
    out[o] = 0;
    return o;
}

char *a5_escape(const char *in, size_t keep, char *out, size_t outlen)
{
    size_t n = strlen(in);
    if (outlen == 0)
        return out;
    if (n <= keep || keep < 16) {
        escape_span(in, n, out, outlen);
        return out;
    }
    /* Start and end (the end often says what was expected), the middle cut; cuts
     * land on character boundaries. */
    size_t head = keep * 3 / 4, tail = keep - head;
    while (head > 0 && ((unsigned char)in[head] & 0xC0) == 0x80)
        head--;
    size_t from = n - tail;
    while (from < n && ((unsigned char)in[from] & 0xC0) == 0x80)
        from++;
    size_t o = escape_span(in, head, out, outlen);
    if (o + 1 < outlen)
        o += (size_t)snprintf(out + o, outlen - o, "[...%zu bytes...]", from - head);
    if (o + 1 < outlen)
        escape_span(in + from, n - from, out + o, outlen - o);
    return out;
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
    char raw[4096], buf[1024], fbuf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* Messages echo the user's text: never a terminal escape, never 100 KB of it. */
    a5_escape(raw, 400, buf, sizeof buf);
    a5_diag_entry *e = &d->v[d->n];
    e->file = a5_strdup(a5_escape(file ? file : "<input>", 240, fbuf, sizeof fbuf));
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
