/* The results-file handle that every output file shares: HDF5's set-up, the reason
 * of an HDF5 error, a new handle (after checking its path is free) and its end.
 * This module owns the two files of a run in the making, PATH.partial and its
 * checkpoint PATH.partial.state, from creation to deletion. */
#include "output_int.h"

#include "a5_sys.h"

#include <errno.h>
#include <hdf5_hl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- errors and HDF5 set-up ---------------------------------------------------------- */

typedef struct {
    char msg[512];
} h5_err;

/* Keep the most telling line of HDF5's error stack: the system error when there is
 * one (e.g. "errno = 28, error message = 'No space left on device'"). */
static herr_t walk_error(unsigned n, const H5E_error2_t *e, void *data)
{
    h5_err *h = data;
    if (e->desc && (strstr(e->desc, "errno") || !h->msg[0]))
        snprintf(h->msg, sizeof h->msg, "%s", e->desc);
    return 0;
}

/* "WHAT PATH.partial: CAUSE" into err, the cause taken from HDF5's error stack (so
 * call it before closing anything, which would clear the stack). */
static void capture_error(const a5_output *o, const char *what, char *err, size_t errlen)
{
    h5_err h = {""};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_error, &h);
    char detail[512];
    snprintf(detail, sizeof detail, "%s", h.msg);
    /* HDF5's system-error line is long; its "error message = '...'" part says it. */
    const char *m = strstr(detail, "error message = '");
    if (m) {
        m += strlen("error message = '");
        const char *e = strchr(m, '\'');
        size_t k = e ? (size_t)(e - m) : strlen(m);
        memmove(detail, m, k);
        detail[k] = 0;
    }
    snprintf(err, errlen, "%s %.200s%s%.280s", what, o->tmp, detail[0] ? ": " : "", detail);
}

const char *a5_output_partial_path(const a5_output *o) { return o->tmp; }

const char *a5_output_state_path(const a5_output *o) { return o->state; }

void a5_out_h5_setup(void)
{
    static int done = 0;
    if (done)
        return;
    /* We report errors ourselves; and after a failed close (a full disk), HDF5
     * 1.10's shutdown handler can crash on the half-closed file. */
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    done = 1;
}

hid_t a5_out_vstr_new(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        t = -1;
    }
    return t;
}

void a5_out_close_all(a5_output *o)
{
    for (int i = 0; i < V_COUNT; i++)
        if (o->var[i] > 0)
            H5Dclose(o->var[i]);
    for (int i = 0; i < D_COUNT; i++)
        if (o->dim[i] > 0)
            H5Dclose(o->dim[i]);
    if (o->file > 0)
        H5Fclose(o->file);
    memset(o->var, 0, sizeof o->var);
    memset(o->dim, 0, sizeof o->dim);
    o->file = 0;
}

void a5_out_free(a5_output *o)
{
    if (o->sxpl > 0)
        H5Pclose(o->sxpl);
    if (o->vlen_str > 0)
        H5Tclose(o->vlen_str);
    if (o->dxpl > 0)
        H5Pclose(o->dxpl);
    if (o->tmpfd >= 0)
        close(o->tmpfd);
    a5_sys_unlock(o->lockfd, o->lock);
    if (o->file <= 0) /* a broken run's file is left open (and its driver with it) */
        a5_journal_free(o->journal);
    free(o->path);
    free(o->tmp);
    free(o->state);
    free(o->lock);
    free(o);
}

/* path + suffix, malloc'd (NULL if out of memory). */
static char *with_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%s%s", path, suffix);
    return t;
}

int a5_out_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int a5_out_new(const char *path, const a5_scenario *s, const a5_output_meta *meta,
               a5_output **out, char *err, size_t errlen)
{
    *out = NULL;
    char *partial = with_suffix(path, ".partial");
    if (!partial)
        return A5_ENOMEM;
    int crc = a5_sys_check_output(path, 1, err, errlen);
    if (!crc)
        crc = a5_sys_check_output(partial, 1, err, errlen);
    free(partial);
    if (crc)
        return crc;
    if (!meta->force && a5_out_exists(path)) {
        snprintf(err, errlen, "%s exists; use --force to replace it", path);
        return A5_EEXIST;
    }
    a5_out_h5_setup();
    a5_output *o = calloc(1, sizeof *o);
    if (!o)
        return A5_ENOMEM;
    o->lockfd = -1;
    o->tmpfd = -1;
    o->s = s;
    o->full = s->store_full;
    o->dxpl = H5P_DEFAULT;
    o->size = 1;
    /* HDF5 allocates and clears a 1 MiB conversion buffer for every write that
     * converts types, such as the name lists' strings: 15 ms of page faults and
     * memset per file here. Those lists are small. */
    o->sxpl = H5Pcreate(H5P_DATASET_XFER);
    o->vlen_str = a5_out_vstr_new();
    o->path = strdup(path);
    o->tmp = with_suffix(path, ".partial");
    o->state = with_suffix(path, ".partial.state");
    o->lock = with_suffix(path, ".partial.lock");
    o->journal = o->state ? a5_journal_new(o->state) : NULL;
    if (!o->journal || o->sxpl < 0 || H5Pset_buffer(o->sxpl, 64 << 10, NULL, NULL) < 0 || o->vlen_str < 0 ||
        !o->path || !o->tmp || !o->state || !o->lock) {
        a5_out_free(o);
        return A5_ENOMEM;
    }
    *out = o;
    return 0;
}

int a5_output_restarted(const a5_output *o) { return o->restarted; }

void a5_out_capture(const a5_output *o, const char *what, char *err, size_t errlen)
{
    capture_error(o, what, err, errlen);
}
