/* CSV reading on libcsv, with positions, BOM, comments and index columns. See
 * a5_csv.h.
 *
 * libcsv reports fields and records through callbacks but not where they are, so
 * the text is fed in pieces that end at a delimiter or a line end: a callback can
 * only fire on the last byte of a piece, which tells the field's end; its start is
 * the byte after the previous field's end. Comment lines are cut out before libcsv
 * sees them, only where no field is open. */
#include "a5_csv.h"

#include "a5_sys.h"

#include "a5_mem.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t off; /* start of the field's text in arena */
    size_t pos; /* where the field starts in the input */
    int quoted;
} field_at;

typedef struct {
    const char *buf, *file;
    size_t len, body; /* body: offset after the byte-order mark */
    const a5_csv_opts *o;
    a5_diag *d;
    int rc;  /* stop: a callback's value, A5_ENOMEM or a parse error */
    int bad; /* a problem was reported; reading goes on */

    size_t end;         /* offset of the byte that ends the current piece */
    size_t field_start; /* offset where the next field's raw text begins */
    int in_record;      /* a field of the current record has ended */

    char *arena; /* the current record's field texts, NUL-separated */
    size_t alen, acap;
    field_at *fields;
    size_t nf, fcap;
    a5_csv_field *out;
    size_t ocap;

    size_t records, width;
    int drop_index;

    /* Position of `scan` (line and line start), advanced monotonically. */
    size_t scan, line_start;
    int line;
} reader;

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Line and column of offset o (>= every offset asked before). */
static void locate(reader *r, size_t o, int *line, int *col)
{
    for (; r->scan < o; r->scan++) {
        char c = r->buf[r->scan];
        if (c == '\n' || (c == '\r' && (r->scan + 1 >= r->len || r->buf[r->scan + 1] != '\n'))) {
            r->line++;
            r->line_start = r->scan + 1;
        }
    }
    *line = r->line;
    *col = (int)(o - r->line_start) + 1;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *q = a5_realloc(*p, n * size);
    if (!q)
        return A5_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static void on_field(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->rc)
        return;
    /* The field's first byte: past blanks, and past blank lines before a record. */
    size_t p = r->field_start;
    while (p < r->end &&
           (is_blank(r->buf[p]) || (!r->in_record && (r->buf[p] == '\n' || r->buf[p] == '\r'))))
        p++;
    if (grow((void **)&r->fields, &r->fcap, r->nf + 1, sizeof *r->fields) ||
        grow((void **)&r->arena, &r->acap, r->alen + len + 1, 1)) {
        r->rc = A5_ENOMEM;
        return;
    }
    r->fields[r->nf++] = (field_at){r->alen, p, p < r->len && r->buf[p] == '"'};
    if (len)
        memcpy(r->arena + r->alen, s, len);
    r->arena[r->alen + len] = 0;
    r->alen += len + 1;
    r->field_start = r->end + 1;
    r->in_record = 1;
}

static void report_ragged(reader *r, int line, size_t n)
{
    if (r->o->ragged)
        r->o->ragged(r->o->ctx, r->d, r->file, line, n, r->width);
    else
        a5_diag_add(r->d, r->file, line, 1, "record has %zu field%s; the header has %zu", n,
                    n == 1 ? "" : "s", r->width);
    r->bad = 1;
}

static void on_record(int term, void *data)
{
    reader *r = data;
    (void)term;
    size_t nf = r->nf;
    r->nf = 0;
    r->alen = 0;
    r->field_start = r->end + 1;
    r->in_record = 0;
    if (r->rc || nf == 0)
        return;
    if (r->records == 0) {
        /* pandas and R name their index column "": drop it, only then. */
        r->drop_index = nf >= 2 && r->arena[r->fields[0].off] == 0;
        r->width = r->o->width ? r->o->width : nf - (size_t)r->drop_index;
    }
    size_t skip = (size_t)r->drop_index;
    if (grow((void **)&r->out, &r->ocap, nf, sizeof *r->out)) {
        r->rc = A5_ENOMEM;
        return;
    }
    size_t n = 0;
    int line, col;
    locate(r, r->fields[0].pos, &line, &col); /* the record's line, index column or not */
    for (size_t i = skip; i < nf; i++) {
        a5_csv_field *f = &r->out[n++];
        f->text = r->arena + r->fields[i].off;
        f->quoted = r->fields[i].quoted;
        locate(r, r->fields[i].pos, &f->line, &f->col);
    }
    size_t rec = r->records++;
    int rc = r->o->record ? r->o->record(r->o->ctx, rec, line, r->out, n) : 0;
    if (rc) {
        r->rc = rc;
        return;
    }
    if (rec > 0 && n != r->width)
        report_ragged(r, line, n);
}

/* Does the line at offset p (a record may start there) hold only a comment? Sets
 * *next to the offset after it. */
static int comment_line(const reader *r, size_t p, size_t *next)
{
    while (p < r->len && is_blank(r->buf[p]))
        p++;
    if (p >= r->len || r->buf[p] != '#')
        return 0;
    while (p < r->len && r->buf[p] != '\n' && r->buf[p] != '\r')
        p++;
    if (p < r->len && r->buf[p] == '\r')
        p++;
    if (p < r->len && r->buf[p] == '\n')
        p++;
    *next = p;
    return 1;
}

/* Bytes fed since the last record ended were all blanks or line ends. */
static int at_record_start(const reader *r, size_t pos)
{
    if (r->in_record)
        return 0;
    for (size_t q = r->field_start; q < pos && q < r->len; q++)
        if (!is_blank(r->buf[q]) && r->buf[q] != '\n' && r->buf[q] != '\r')
            return 0;
    return 1;
}

static int feed(reader *r, struct csv_parser *p)
{
    size_t pos = r->body;
    while (pos < r->len && !r->rc) {
        size_t next;
        int line_start = pos == r->body || r->buf[pos - 1] == '\n' || r->buf[pos - 1] == '\r';
        if (line_start && at_record_start(r, pos) && comment_line(r, pos, &next)) {
            pos = r->field_start = next;
            continue;
        }
        size_t e = pos;
        while (e < r->len && r->buf[e] != ',' && r->buf[e] != '\n' && r->buf[e] != '\r')
            e++;
        size_t piece = (e < r->len ? e + 1 : e) - pos;
        r->end = e;
        size_t done = csv_parse(p, r->buf + pos, piece, on_field, on_record, r);
        if (done != piece) {
            int line, col;
            if (csv_error(p) == CSV_ENOMEM) {
                r->rc = A5_ENOMEM;
                break;
            }
            locate(r, pos + done, &line, &col);
            a5_diag_add(r->d, r->file, line, col,
                        "malformed quoting: a quote inside an unquoted field, or text after a "
                        "closing quote (write a quote inside a quoted field as \"\")");
            r->rc = A5_ESCENARIO;
            break;
        }
        pos += piece;
    }
    if (r->rc)
        return r->rc;
    r->end = r->len;
    r->field_start = r->field_start > r->len ? r->len : r->field_start;
    if (csv_fini(p, on_field, on_record, r) != 0) {
        int line, col;
        if (csv_error(p) == CSV_ENOMEM)
            return A5_ENOMEM;
        size_t q = r->field_start;
        while (q < r->len && r->buf[q] != '"')
            q++;
        locate(r, q < r->len ? q : r->len, &line, &col);
        a5_diag_add(r->d, r->file, line, col, "a quoted field is not closed");
        return A5_ESCENARIO;
    }
    return r->rc ? r->rc : r->bad ? A5_ESCENARIO : 0;
}

static int count_lines(const char *buf, size_t len)
{
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += buf[i] == '\n' || (buf[i] == '\r' && (i + 1 >= len || buf[i + 1] != '\n'));
    return n + (len && buf[len - 1] != '\n' && buf[len - 1] != '\r');
}

int a5_csv_parse(const char *text, size_t len, const char *file, const a5_csv_opts *o, a5_diag *d,
                 a5_csv_info *info)
{
    reader r;
    memset(&r, 0, sizeof r);
    r.buf = text;
    r.len = len;
    r.file = file;
    r.o = o;
    r.d = d;
    r.line = 1;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r.body = 3;
    r.scan = r.line_start = r.field_start = r.body;
    const char *nul = memchr(text, 0, len);
    if (nul) {
        int line, col;
        locate(&r, (size_t)(nul - text), &line, &col);
        a5_diag_add(d, file, line, col, "NUL byte in file: a CSV file must be text");
        return A5_ESCENARIO;
    }
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return A5_ENOMEM;
    csv_set_realloc_func(&p, a5_realloc);
    csv_set_free_func(&p, free);
    int rc = feed(&r, &p);
    csv_free(&p);
    free(r.arena);
    free(r.fields);
    free(r.out);
    if (info) {
        info->records = r.records;
        info->lines = count_lines(text, len);
        info->index_dropped = r.drop_index;
    }
    return rc;
}

int a5_csv_read(const char *path, const a5_csv_opts *o, a5_diag *d, a5_csv_info *info)
{
    char *buf = NULL;
    size_t len = 0;
    /* Never a FIFO (it would block) nor a device (/dev/zero has no end); noted as an
     * input, so that no output replaces it. */
    int rc = a5_sys_read_regular(path, 1u << 30, &buf, &len);
    if (rc)
        return rc;
    rc = a5_csv_parse(buf, len, path, o, d, info);
    free(buf);
    return rc;
}
