/* Reading CSV files: every CSV the project reads (design points, observations).
 *
 * Built on libcsv (RFC 4180 quoting). Accepted: a UTF-8 byte-order mark, quoted
 * fields (with commas, doubled quotes and newlines inside), LF, CRLF or CR line
 * ends, a last line with or without its newline, blank lines and comment lines
 * (first non-blank character '#', outside any quoted field), spaces around
 * unquoted fields (trimmed). An unnamed leading index column, as pandas'
 * `to_csv()` and R's `write.csv` write it (an empty first header cell, quoted or
 * not), is dropped from every record; a first column with a named header is kept.
 * Refused with located errors: NUL bytes, malformed quoting, a quoted field never
 * closed, and records with another number of fields than the header. An empty
 * file is not an error here: the caller sees no records and says what it needed.
 *
 * Positions are 1-based. A field's line and column are those of its first byte
 * after leading blanks (its opening quote when quoted); columns count bytes from
 * the start of the line, the byte-order mark excluded; newlines inside quoted
 * fields advance the line. */
#ifndef A5_CSV_H
#define A5_CSV_H

#include "a5_error.h"

#include <stddef.h>

typedef struct {
    const char *text; /* unquoted, trimmed, NUL-terminated; valid during the callback */
    int line, col;
    int quoted;
} a5_csv_field;

typedef struct {
    /* Called for every record, the header first (record 0), after the index column
     * is dropped (so n may be 0); `line` is where the record starts. Return 0 to go
     * on; anything else stops reading and is returned by a5_csv_read (a negative
     * A5_E* code, or A5_ESCENARIO after reporting). */
    int (*record)(void *ctx, size_t record, int line, const a5_csv_field *f, size_t n);
    /* Called after `record` for a data record with n != width fields, to report it
     * in the caller's words; NULL: "record has N fields; the header has M". */
    void (*ragged)(void *ctx, a5_diag *d, const char *file, int line, size_t n, size_t width);
    void *ctx;
    size_t width; /* fields every data record must have; 0: as many as the header */
} a5_csv_opts;

typedef struct {
    size_t records; /* header included */
    int lines;      /* physical lines in the file (0 when empty) */
    int index_dropped;
} a5_csv_info;

/* Read CSV text `len` bytes long; `file` names it in diagnostics. Returns 0,
 * A5_ESCENARIO (problems in d), A5_ENOMEM, or what a callback returned. info may
 * be NULL. */
int a5_csv_parse(const char *text, size_t len, const char *file, const a5_csv_opts *o, a5_diag *d,
                 a5_csv_info *info);
/* The same from a regular file of at most 1 GiB (a5_sys_read_regular: a FIFO, a
 * device or a directory is refused before a byte is read, errno EINVAL; a larger
 * file, errno EFBIG). Returns A5_EIO, with errno set and nothing reported, when it
 * cannot be opened or read: the caller words that message. */
int a5_csv_read(const char *path, const a5_csv_opts *o, a5_diag *d, a5_csv_info *info);

#endif
