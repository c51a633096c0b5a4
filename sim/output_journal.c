/* The checkpoint's journal: a kill at any moment leaves the last checkpoint whole.
 *
 * HDF5 (1.10) rewrites its metadata in place when it flushes (chunk-index nodes,
 * object headers, the superblock), one write at a time. A process killed half-way
 * through a flush left a file that was neither the last checkpoint nor the next:
 * "damaged" on resume. So the results file is opened through a small HDF5 file
 * driver (a pass-through to HDF5's own POSIX driver, sec2) that never lets a write
 * reach the bytes the last checkpoint vouches for (those below its end of
 * allocation, the "guard"): such writes wait in memory (reads see them) until the
 * next checkpoint. A checkpoint then writes the batch's state *and* those waiting
 * bytes into OUT.partial.state in one atomic rename (the commit), and only then
 * copies them into the file. Resuming copies them again before HDF5 opens the file
 * (replay: the same bytes, so doing it twice is harmless). Bytes at or above the
 * guard are new space the checkpoint does not reference: they go straight to the
 * file and are synced before the commit.
 *
 * The driver writes nothing of its own into the file (no driver block in the
 * superblock): a results file is an ordinary HDF5 file. A team of processes (MPI-IO)
 * does not use it: there, a kill during a checkpoint's flush can still damage it.
 *
 * The checkpoint file: the batch's bytes, the journal (u64 count, then per run of
 * bytes u64 address, u64 length, the bytes), then a trailer: u64 batch length,
 * u64 journal length, the 8-byte magic, and the FNV-1a of the journal and the
 * trailer before it (the batch's bytes end in a checksum of their own). */
#define _GNU_SOURCE
#include "output_int.h"

#include "a5_error.h"
#include "a5_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <H5FDpublic.h>

#define TRAILER_MAGIC "A5JRNL01"
#define TRAILER_LEN (2 * sizeof(uint64_t) + 8 + sizeof(uint64_t))

typedef struct {
    haddr_t addr;
    size_t len;
    unsigned char *bytes;
} run;

struct a5_journal {
    char *state;      /* OUT.partial.state */
    H5FD_t *file;     /* the open driver file, or NULL */
    haddr_t guard;    /* bytes below it are the last checkpoint's */
    run *runs;        /* waiting writes below the guard: sorted, disjoint */
    size_t nruns, cap;
    void *batch;      /* the batch's bytes of the last checkpoint (for a commit on close) */
    size_t batch_len;
    int commit_on_close; /* closing commits what waits (a finish); else it is dropped */
    char failed[300];    /* why a commit on close failed ("" if it did not) */
};

typedef struct {
    H5FD_t pub; /* first: HDF5 sees this */
    H5FD_t *in; /* the sec2 file */
    a5_journal *j;
} jfile;

typedef struct {
    a5_journal *j;
} jfapl;

/* --- the waiting bytes ------------------------------------------------------------- */

static void runs_clear(a5_journal *j)
{
    for (size_t i = 0; i < j->nruns; i++)
        free(j->runs[i].bytes);
    j->nruns = 0;
}

/* First run whose end is above addr. */
static size_t runs_find(const a5_journal *j, haddr_t addr)
{
    size_t lo = 0, hi = j->nruns;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (j->runs[mid].addr + j->runs[mid].len <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Keep [addr, addr+len) = buf waiting, over whatever waited there. Returns 0 or -1. */
static int runs_put(a5_journal *j, haddr_t addr, size_t len, const void *buf)
{
    size_t i = runs_find(j, addr), k = i;
    haddr_t lo = addr, hi = addr + len;
    while (k < j->nruns && j->runs[k].addr < addr + len) { /* overlapping runs i..k-1 */
        if (j->runs[k].addr < lo)
            lo = j->runs[k].addr;
        if (j->runs[k].addr + j->runs[k].len > hi)
            hi = j->runs[k].addr + j->runs[k].len;
        k++;
    }
    unsigned char *b = malloc((size_t)(hi - lo) ? (size_t)(hi - lo) : 1);
    if (!b)
        return -1;
    for (size_t m = i; m < k; m++)
        memcpy(b + (j->runs[m].addr - lo), j->runs[m].bytes, j->runs[m].len);
    memcpy(b + (addr - lo), buf, len);
    if (k == i) { /* a new run at i */
        if (j->nruns == j->cap) {
            size_t cap = j->cap ? 2 * j->cap : 64;
            run *r = realloc(j->runs, cap * sizeof *r);
            if (!r) {
                free(b);
                return -1;
            }
            j->runs = r;
            j->cap = cap;
        }
        memmove(j->runs + i + 1, j->runs + i, (j->nruns - i) * sizeof *j->runs);
        j->nruns++;
    } else { /* runs i..k-1 become one */
        for (size_t m = i; m < k; m++)
            free(j->runs[m].bytes);
        memmove(j->runs + i + 1, j->runs + k, (j->nruns - k) * sizeof *j->runs);
        j->nruns -= k - i - 1;
    }
    j->runs[i] = (run){lo, (size_t)(hi - lo), b};
    return 0;
}

/* Lay the waiting bytes over buf, which holds the file's [addr, addr+len). */
static void runs_overlay(const a5_journal *j, haddr_t addr, size_t len, unsigned char *buf)
{
    for (size_t i = runs_find(j, addr); i < j->nruns && j->runs[i].addr < addr + len; i++) {
        const run *r = &j->runs[i];
        haddr_t a = r->addr > addr ? r->addr : addr;
        haddr_t e = r->addr + r->len < addr + len ? r->addr + r->len : addr + len;
        memcpy(buf + (a - addr), r->bytes + (a - r->addr), (size_t)(e - a));
    }
}

/* --- the driver -------------------------------------------------------------------- */

/* Test hook: A5_TEST_KILL_AT=k kills the process (SIGKILL, as `kill -9` would) in the
 * middle of the k-th metadata write into the results file (1 is the first; HDF5's
 * metadata, and the journal's copies at a commit), after writing half of it. The
 * bytes this write may then take; the caller raises the signal after (killed()). */
static long kill_n, kill_at = -1;

static size_t kill_cut(H5FD_mem_t type, size_t size)
{
    if (kill_at < 0) {
        const char *e = getenv("A5_TEST_KILL_AT");
        kill_at = e ? atol(e) : 0;
    }
    if (kill_at <= 0 || type == H5FD_MEM_DRAW || ++kill_n != kill_at)
        return size;
    return size / 2;
}

static void killed(void)
{
    if (kill_at > 0 && kill_n == kill_at)
        raise(SIGKILL);
}

static hid_t driver_id = -1;

static void *jfapl_get(H5FD_t *f)
{
    jfapl *p = malloc(sizeof *p);
    if (p)
        p->j = ((jfile *)f)->j;
    return p;
}

static void *jfapl_copy(const void *old)
{
    jfapl *p = malloc(sizeof *p);
    if (p)
        *p = *(const jfapl *)old;
    return p;
}

static herr_t jfapl_free(void *p)
{
    free(p);
    return 0;
}

static H5FD_t *j_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr)
{
    const jfapl *fa = H5Pget_driver_info(fapl);
    if (!fa || !fa->j || fa->j->file) /* one open file per journal */
        return NULL;
    jfile *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->in = H5FDopen(name, flags, H5P_DEFAULT, maxaddr);
    if (!f->in) {
        free(f);
        return NULL;
    }
    f->j = fa->j;
    f->j->file = &f->pub;
    runs_clear(f->j);
    /* An existing file is the last checkpoint's, even while HDF5 opens it (a5_journal_protect
     * then lowers the guard to its end of allocation); a new one has nothing to keep. */
    f->j->guard = flags & (H5F_ACC_TRUNC | H5F_ACC_CREAT) ? 0 : H5FDget_eof(f->in, H5FD_MEM_DEFAULT);
    return &f->pub;
}

/* Write n bytes at offset at of fd, short writes retried. Returns 0 or -1 (errno). */
static int pwrite_all(int fd, const unsigned char *b, size_t n, off_t at)
{
    for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(fd, b + done, n - done, at + (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            errno = w < 0 ? errno : EIO;
            return -1;
        }
        done += (size_t)w;
    }
    return 0;
}

/* The POSIX descriptor of the sec2 file, or -1. */
static int file_fd(jfile *f)
{
    void *h = NULL;
    return H5FDget_vfd_handle(f->in, H5P_DEFAULT, &h) >= 0 && h ? *(int *)h : -1;
}

/* Write the waiting bytes at or above `from` into the file (straight to the
 * descriptor: a run may lie past HDF5's present end of allocation, which it would
 * refuse) and forget them. Returns 0 or -1 (errno). */
static int apply_from(jfile *f, haddr_t from)
{
    a5_journal *j = f->j;
    int fd = file_fd(f), rc = fd < 0 ? -1 : 0;
    size_t keep = 0;
    for (size_t i = 0; i < j->nruns; i++) {
        run *r = &j->runs[i];
        haddr_t a = r->addr > from ? r->addr : from;
        if (a < r->addr + r->len && !rc) {
            size_t len = (size_t)(r->addr + r->len - a), n = kill_cut(H5FD_MEM_SUPER, len);
            rc = pwrite_all(fd, r->bytes + (a - r->addr), n, (off_t)a);
            killed();
        }
        if (r->addr < from) { /* its part below `from` still waits */
            r->len = (size_t)((r->addr + r->len < from ? r->addr + r->len : from) - r->addr);
            j->runs[keep++] = *r;
        } else {
            free(r->bytes);
        }
    }
    j->nruns = keep;
    return rc;
}


static herr_t j_close(H5FD_t *file)
{
    jfile *f = (jfile *)file;
    a5_journal *j = f->j;
    int rc = 0;
    if (j->nruns && j->commit_on_close) {
        /* Committed first, so a kill while they are copied is replayed on resume. */
        if (j->batch)
            rc = a5_journal_commit(j, j->failed, sizeof j->failed);
        else if ((rc = apply_from(f, 0)) != 0)
            snprintf(j->failed, sizeof j->failed, "cannot write %s", j->state);
        if (rc == 0 && H5FDtruncate(f->in, H5P_DEFAULT, 1) < 0) {
            snprintf(j->failed, sizeof j->failed, "cannot truncate the results file");
            rc = -1;
        }
    }
    runs_clear(j); /* an abandoned run's: the disk keeps the last checkpoint */
    j->file = NULL;
    j->guard = 0;
    if (H5FDclose(f->in) < 0)
        rc = -1;
    free(f);
    return rc ? -1 : 0;
}

static int j_cmp(const H5FD_t *a, const H5FD_t *b)
{
    return H5FDcmp(((const jfile *)a)->in, ((const jfile *)b)->in);
}

static herr_t j_query(const H5FD_t *f, unsigned long *flags)
{
    (void)f;
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
             H5FD_FEAT_AGGREGATE_SMALLDATA | H5FD_FEAT_POSIX_COMPAT_HANDLE |
             H5FD_FEAT_SUPPORTS_SWMR_IO | H5FD_FEAT_DEFAULT_VFD_COMPATIBLE;
    return 0;
}

static haddr_t j_get_eoa(const H5FD_t *f, H5FD_mem_t type)
{
    return H5FDget_eoa(((const jfile *)f)->in, type);
}

static herr_t j_set_eoa(H5FD_t *f, H5FD_mem_t type, haddr_t addr)
{
    return H5FDset_eoa(((jfile *)f)->in, type, addr);
}

static haddr_t j_get_eof(const H5FD_t *f, H5FD_mem_t type)
{
    return H5FDget_eof(((const jfile *)f)->in, type);
}

static herr_t j_get_handle(H5FD_t *f, hid_t fapl, void **handle)
{
    (void)fapl;
    return H5FDget_vfd_handle(((jfile *)f)->in, H5P_DEFAULT, handle);
}

static herr_t j_read(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size,
                     void *buf)
{
    jfile *f = (jfile *)file;
    if (H5FDread(f->in, type, dxpl, addr, size, buf) < 0)
        return -1;
    runs_overlay(f->j, addr, size, buf);
    return 0;
}

static herr_t j_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size,
                      const void *buf)
{
    jfile *f = (jfile *)file;
    haddr_t g = f->j->guard;
    size_t cut = kill_cut(type, size);
    if (cut < size) { /* the test hook: half of this write, then the kill */
        if (addr < g)
            killed(); /* it would only have waited in memory */
        (void)H5FDwrite(f->in, type, dxpl, addr, cut, buf);
        killed();
    }
    if (addr < g) { /* the part below the guard waits */
        size_t below = addr + size <= g ? size : (size_t)(g - addr);
        if (runs_put(f->j, addr, below, buf) != 0)
            return -1;
        if (below == size)
            return 0;
        addr += below;
        buf = (const unsigned char *)buf + below;
        size -= below;
    }
    return H5FDwrite(f->in, type, dxpl, addr, size, buf);
}

static herr_t j_flush(H5FD_t *f, hid_t dxpl, hbool_t closing)
{
    return H5FDflush(((jfile *)f)->in, dxpl, closing);
}

static herr_t j_truncate(H5FD_t *file, hid_t dxpl, hbool_t closing)
{
    jfile *f = (jfile *)file;
    /* Never cut into the last checkpoint's bytes; a commit truncates later. */
    if (H5FDget_eoa(f->in, H5FD_MEM_DEFAULT) < f->j->guard)
        return 0;
    return H5FDtruncate(f->in, dxpl, closing);
}

static herr_t j_lock(H5FD_t *f, hbool_t rw)
{
    return H5FDlock(((jfile *)f)->in, rw);
}

static herr_t j_unlock(H5FD_t *f)
{
    return H5FDunlock(((jfile *)f)->in);
}

static const H5FD_class_t journal_class = {
    .name = "allied5g-journal",
    .maxaddr = (haddr_t)INT64_MAX,
    .fc_degree = H5F_CLOSE_WEAK,
    .fapl_size = sizeof(jfapl),
    .fapl_get = jfapl_get,
    .fapl_copy = jfapl_copy,
    .fapl_free = jfapl_free,
    .open = j_open,
    .close = j_close,
    .cmp = j_cmp,
    .query = j_query,
    .get_eoa = j_get_eoa,
    .set_eoa = j_set_eoa,
    .get_eof = j_get_eof,
    .get_handle = j_get_handle,
    .read = j_read,
    .write = j_write,
    .flush = j_flush,
    .truncate = j_truncate,
    .lock = j_lock,
    .unlock = j_unlock,
    .fl_map = H5FD_FLMAP_DICHOTOMY,
};

/* --- the journal ------------------------------------------------------------------- */

a5_journal *a5_journal_new(const char *state)
{
    a5_journal *j = calloc(1, sizeof *j);
    if (j && !(j->state = strdup(state))) {
        free(j);
        j = NULL;
    }
    return j;
}

void a5_journal_free(a5_journal *j)
{
    if (!j)
        return;
    runs_clear(j);
    free(j->runs);
    free(j->batch);
    free(j->state);
    free(j);
}

hid_t a5_journal_fapl(a5_journal *j, hid_t fapl)
{
    if (driver_id < 0 || H5Iis_valid(driver_id) <= 0)
        driver_id = H5FDregister(&journal_class);
    jfapl fa = {j};
    if (driver_id < 0 || H5Pset_driver(fapl, driver_id, &fa) < 0)
        return -1;
    return fapl;
}

void a5_journal_protect(a5_journal *j)
{
    if (!j || !j->file)
        return;
    j->guard = H5FDget_eoa(((jfile *)j->file)->in, H5FD_MEM_DEFAULT);
    /* What waited above the new guard is not the checkpoint's: it goes to the file
     * now, so that later writes there, which go straight to the file, are not
     * shadowed by it. */
    (void)apply_from((jfile *)j->file, j->guard);
}

void a5_journal_on_close(a5_journal *j, int commit)
{
    if (j)
        j->commit_on_close = commit;
}

const char *a5_journal_close_failed(const a5_journal *j)
{
    return j && j->failed[0] ? j->failed : NULL;
}

int a5_journal_set_batch(a5_journal *j, const void *buf, size_t len)
{
    void *b = malloc(len ? len : 1);
    if (!b)
        return A5_ENOMEM;
    memcpy(b, buf, len);
    free(j->batch);
    j->batch = b;
    j->batch_len = len;
    return 0;
}

/* The checkpoint file's bytes: batch, journal (j may be NULL: none), trailer. The
 * batch's bytes carry their own checksum; the trailer's covers the journal. */
static int compose(const a5_journal *j, const void *batch, size_t blen, char **out, size_t *olen)
{
    uint64_t n = j ? j->nruns : 0, h[2];
    size_t jlen = sizeof n;
    for (uint64_t i = 0; i < n; i++)
        jlen += sizeof h + j->runs[i].len;
    size_t len = blen + jlen + TRAILER_LEN;
    char *buf = malloc(len), *p = buf;
    if (!buf)
        return A5_ENOMEM;
    memcpy(p, batch, blen);
    p += blen;
    memcpy(p, &n, sizeof n);
    p += sizeof n;
    for (uint64_t i = 0; i < n; i++) {
        h[0] = j->runs[i].addr;
        h[1] = j->runs[i].len;
        memcpy(p, h, sizeof h);
        memcpy(p + sizeof h, j->runs[i].bytes, j->runs[i].len);
        p += sizeof h + j->runs[i].len;
    }
    uint64_t t[2] = {blen, jlen};
    memcpy(p, t, sizeof t);
    memcpy(p + sizeof t, TRAILER_MAGIC, 8);
    uint64_t sum = a5_sys_fnv1a(buf + blen, jlen + sizeof t + 8);
    memcpy(p + sizeof t + 8, &sum, sizeof sum);
    *out = buf;
    *olen = len;
    return 0;
}

int a5_journal_write_state(a5_journal *j, const char *path, const void *batch, size_t blen,
                           char *err, size_t errlen)
{
    char *buf;
    size_t len;
    int rc = compose(j, batch, blen, &buf, &len);
    if (rc) {
        snprintf(err, errlen, "out of memory writing the checkpoint");
        return rc;
    }
    rc = a5_sys_write_atomic(path, "checkpoint", buf, len, err, errlen);
    free(buf);
    return rc;
}

int a5_journal_commit(a5_journal *j, char *err, size_t errlen)
{
    /* What went straight to the file (above the guard) is on disk before the
     * checkpoint that references it. */
    int fd = j->file ? file_fd((jfile *)j->file) : -1;
    if (j->file && (fd < 0 || fsync(fd) != 0)) {
        snprintf(err, errlen, "cannot sync the results file: %s", strerror(errno ? errno : EIO));
        return A5_EIO;
    }
    int rc = a5_journal_write_state(j, j->state, j->batch, j->batch_len, err, errlen);
    if (rc)
        return rc;
    if (j->file && apply_from((jfile *)j->file, 0) != 0) {
        snprintf(err, errlen, "cannot write the checkpointed metadata of %s: %s", j->state,
                 strerror(errno ? errno : EIO));
        return A5_EIO;
    }
    a5_journal_protect(j);
    return 0;
}

int a5_journal_split(char *buf, size_t len, size_t *blen, const char **jbuf, size_t *jlen)
{
    const size_t tl = TRAILER_LEN;
    uint64_t t[2], sum;
    if (len < tl || memcmp(buf + len - 16, TRAILER_MAGIC, 8) != 0)
        return -1;
    memcpy(t, buf + len - tl, sizeof t);
    memcpy(&sum, buf + len - 8, sizeof sum);
    if (t[0] > len - tl || t[1] != len - tl - t[0] || sum != a5_sys_fnv1a(buf + t[0], len - 8 - t[0]))
        return -1;
    *blen = (size_t)t[0];
    *jbuf = buf + t[0];
    *jlen = (size_t)t[1];
    return 0;
}

int a5_journal_replay(const char *path, const char *jbuf, size_t jlen)
{
    uint64_t n;
    if (jlen < sizeof n)
        return -1;
    memcpy(&n, jbuf, sizeof n);
    if (n == 0)
        return 0;
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    size_t at = sizeof n;
    int rc = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        uint64_t h[2];
        if (jlen - at < sizeof h) {
            rc = -1;
            break;
        }
        memcpy(h, jbuf + at, sizeof h);
        at += sizeof h;
        if (h[1] > jlen - at) {
            rc = -1;
            break;
        }
        rc = pwrite_all(fd, (const unsigned char *)jbuf + at, (size_t)h[1], (off_t)h[0]);
        at += (size_t)h[1];
    }
    if (!rc && fsync(fd) != 0)
        rc = -1;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}
