/* Error codes and located diagnostics shared by every module.
 *
 * Functions return 0 on success or a negative A5_E* code; a5_strerror gives its
 * message. Scenario problems are collected, not fatal at first sight: every check
 * adds an a5_diag entry (FILE:LINE:COL: message) and carries on, so a user sees all
 * mistakes in one go. Library code never prints: the caller decides where
 * diagnostics go (a5_diag_print). */
#ifndef A5_ERROR_H
#define A5_ERROR_H

#include <stddef.h>
#include <stdio.h>

enum {
    A5_OK = 0,
    A5_ENOMEM = -1,    /* allocation failed */
    A5_EIO = -2,       /* reading or writing a file failed */
    A5_ESCENARIO = -3, /* the scenario is invalid; details in the diagnostics */
    A5_EUSAGE = -4,    /* bad command-line usage */
    A5_ELIMIT = -5,    /* a size beyond what memory or indices can hold */
    A5_EHDF5 = -6,     /* the HDF5 library reported an error */
    A5_EEXIST = -7,    /* output exists and --force was not given */
    A5_EINTERRUPT = -8, /* stopped by a signal */
    A5_ERESUME = -9,    /* a checkpoint does not match the scenario or is damaged */
    A5_EFAILED = -10,   /* a replicate produced non-finite values */
    A5_EBUSY = -11      /* another process is writing the same output */
};

/* Message for an A5_E* code; never NULL. */
const char *a5_strerror(int code);

/* One located message. line and col are 1-based; 0 means unknown. */
typedef struct {
    char *file;
    int line, col;
    char *msg;
} a5_diag_entry;

/* A growing list of diagnostics. Zero-initialise, then a5_diag_free. */
typedef struct {
    a5_diag_entry *v;
    size_t n, cap;
    size_t limit; /* stop recording after this many (0: 200) */
    size_t dropped;
} a5_diag;

/* Record a message at file:line:col (printf format). Allocation failure drops the
 * message but still counts it, so a5_diag_count never under-reports. */
void a5_diag_add(a5_diag *d, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
size_t a5_diag_count(const a5_diag *d);
/* Print every entry as "FILE:LINE:COL: error: MSG", ordered by file position. */
void a5_diag_print(a5_diag *d, FILE *out);
void a5_diag_free(a5_diag *d);

/* Text from a file or the command line made safe to print on one line: control
 * bytes (and the C1 controls, DEL, bytes that are not UTF-8) become \xNN, newline
 * and tab \n and \t, a backslash \\; text longer than `keep` bytes keeps its
 * start and end around "[...N bytes...]". Writes at most outlen bytes (NUL
 * included) and returns out. */
char *a5_escape(const char *in, size_t keep, char *out, size_t outlen);

/* The name among `names` (n of them, NULL entries skipped) closest to `word` by edit
 * distance, or NULL when none is close enough to be a plausible typo. */
const char *a5_suggest(const char *word, const char *const *names, size_t n);

#endif
