/* Reopening a results file in the making: reading back what a checkpoint vouches
 * for (a5_output_verify), resuming an interrupted run (a5_output_reopen), and (MPI
 * builds) every rank of a team opening the file for collective writes. */
#define _GNU_SOURCE /* F_OFD_SETLK, F_OFD_GETLK: locks of an open file, apart from HDF5's */
#include "output_int.h"

#include "a5_error.h"

#include "a5_sys.h"

#include <hdf5_hl.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef A5_MPI
#include <mpi.h>
#endif

extern char **environ;

int a5_out_open_vars(a5_output *o)
{
    for (int v = 0; v < V_COUNT; v++) {
        if (!a5_out_var_on(o, &a5_out_vars[v]))
            continue;
        if ((o->var[v] = H5Dopen2(o->file, a5_out_vars[v].name, a5_out_chunk_access())) < 0)
            return -1;
    }
    return 0;
}

/* Read variable v back, [point p, replicates r0 .. r1) (A5_OUT_CH_POINT variables: the
 * whole point), chunk by chunk, checking every chunk's checksum. Returns 0, or -1
 * with what is damaged in err. */
static int verify_range(a5_output *o, int v, long p, long r0, long r1, long chunk_reps,
                        void *buf, char *err, size_t errlen)
{
    const char *vname;
    int rank, chunk;
    hid_t mt;
    a5_out_var_layout(v, &vname, &rank, &mt, &chunk);
    hsize_t dims[4], start[4] = {0}, count[4];
    hid_t fs = H5Dget_space(o->var[v]);
    if (fs < 0 || H5Sget_simple_extent_dims(fs, dims, NULL) != rank) {
        if (fs >= 0)
            H5Sclose(fs);
        snprintf(err, errlen, "%.200s is damaged: cannot read %s", o->tmp, vname);
        return -1;
    }
    int rc = 0;
    long step = chunk == A5_OUT_CH_REPLICATE ? chunk_reps : 1;
    if (chunk != A5_OUT_CH_REPLICATE)
        r0 = 0, r1 = 1;
    for (long r = r0; r < r1 && !rc; r += step) {
        for (int i = 0; i < rank; i++)
            start[i] = 0, count[i] = dims[i];
        start[0] = (hsize_t)p;
        count[0] = 1;
        if (chunk == A5_OUT_CH_REPLICATE) {
            start[1] = (hsize_t)r;
            count[1] = (hsize_t)(r + step < r1 ? step : r1 - r);
        }
        hid_t ms = H5Screate_simple(rank, count, NULL);
        if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(o->var[v], mt, ms, fs, H5P_DEFAULT, buf) < 0) {
            if (chunk == A5_OUT_CH_REPLICATE)
                snprintf(err, errlen, "%.200s is damaged at %s, point %ld, replicates %ld-%ld "
                                      "(checksum or structure); start over with --force",
                         o->tmp, vname, p, r, r + (long)count[1] - 1);
            else
                snprintf(err, errlen, "%.200s is damaged at %s, point %ld (checksum or "
                                      "structure); start over with --force", o->tmp, vname, p);
            rc = -1;
        }
        if (ms >= 0)
            H5Sclose(ms);
    }
    H5Sclose(fs);
    return rc;
}

int a5_output_verify(a5_output *o, long point, long rep, char *err, size_t errlen)
{
    const a5_scenario *s = o->s;
    long chunk_reps = 1;
    /* The replicate chunk of the per-replicate variables (store outcomes has no
     * first_ban_step: its outcomes then). */
    hid_t dcpl = H5Dget_create_plist(o->var[V_FIRST_BAN] > 0 ? o->var[V_FIRST_BAN] : o->var[V_OUTCOMES]);
    hsize_t ch[3];
    if (dcpl >= 0 && H5Pget_chunk(dcpl, 3, ch) == 3)
        chunk_reps = (long)ch[1];
    if (dcpl >= 0)
        H5Pclose(dcpl);
    size_t cells = (size_t)s->steps * (size_t)s->n * 3 * sizeof(double);
    size_t per = (size_t)chunk_reps * (size_t)s->steps * (size_t)s->n * sizeof(double);
    void *buf = malloc(per > cells ? per : cells);
    if (!buf)
        return A5_ENOMEM;
    int rc = 0;
    for (int v = 0; v < V_COUNT && !rc; v++) {
        const char *vname;
        int rank, chunk;
        hid_t mt;
        a5_out_var_layout(v, &vname, &rank, &mt, &chunk);
        if (chunk == A5_OUT_CH_NONE || !o->var[v])
            continue;
        for (long p = 0; p <= point && p < s->npoints && !rc; p++) {
            long r1 = p < point ? s->replicates : rep;
            if (chunk == A5_OUT_CH_POINT && p == point)
                break;
            if (r1 > 0 && verify_range(o, v, p, 0, r1, chunk_reps, buf, err, errlen))
                rc = A5_ERESUME;
        }
    }
    free(buf);
    return rc;
}

/* --- resuming ---------------------------------------------------------------------- */

/* A live (SWMR) file killed mid-run keeps an "in use" flag that stops HDF5 from
 * opening it again; HDF5's own h5clear tool (Debian hdf5-tools) clears it, and
 * --increment moves the end-of-file mark past anything half-written. Returns 0 if
 * h5clear ran and succeeded. */
static int clear_in_use_flag(const char *path)
{
    char *argv[] = {"h5clear", "-s", "--increment", (char *)path, NULL};
    pid_t pid;
    int status;
    if (posix_spawnp(&pid, "h5clear", NULL, NULL, argv, environ) != 0)
        return -1;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Before HDF5 opens the partial file: copy in the last checkpoint's journal (the
 * metadata it committed and may not have finished copying when the run was
 * killed). A checkpoint that is not one is left for the batch to refuse. Returns 0
 * or A5_EIO (err says why). */
static int replay(a5_output *o, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0, blen, jlen;
    const char *jbuf;
    int rc = 0;
    if (a5_sys_read_all(o->state, &buf, &len) != 0) {
        free(buf);
        return 0; /* the batch says why */
    }
    uint64_t sum;
    if (a5_journal_split(buf, len, &blen, &jbuf, &jlen) != 0) {
        /* A checkpoint of an earlier version (no journal), or not one: the batch checks. */
        rc = a5_journal_set_batch(o->journal, buf, len);
    } else if (blen >= sizeof sum && (memcpy(&sum, buf + blen - sizeof sum, sizeof sum),
                                      sum == a5_sys_fnv1a(buf, blen - sizeof sum))) {
        /* Only a whole checkpoint's journal is written into the file. */
        if (a5_journal_replay(o->tmp, jbuf, jlen) != 0) {
            snprintf(err, errlen, "cannot write %s (the last checkpoint's metadata): %s", o->tmp,
                     strerror(errno ? errno : EIO));
            rc = A5_EIO;
        } else if (a5_journal_set_batch(o->journal, buf, blen) != 0) {
            snprintf(err, errlen, "out of memory reading the checkpoint");
            rc = A5_ENOMEM;
        }
    }
    free(buf);
    return rc;
}

/* Open the partial file through the journal, protecting what is on disk (the last
 * checkpoint). Returns the file or -1. */
static hid_t open_journaled(a5_output *o, unsigned flags)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1;
    if (fapl >= 0 && a5_journal_fapl(o->journal, fapl) >= 0)
        f = H5Fopen(o->tmp, flags, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (f >= 0)
        a5_journal_protect(o->journal);
    return f;
}

/* The string attribute `name` of obj into buf ("" when absent or unreadable). */
static void read_str_attr(const a5_output *o, hid_t obj, const char *name, char **out)
{
    *out = NULL;
    if (H5Aexists(obj, name) <= 0)
        return;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a >= 0 && H5Aread(a, o->vlen_str, out) < 0)
        *out = NULL;
    if (a >= 0)
        H5Aclose(a);
}

/* "resolved scenario line N: was 'A', now 'B'" for the first line where the
 * resolved scenarios a (the file's) and b (this run's) differ, into buf. */
static void first_difference(const char *a, const char *b, char *buf, size_t len)
{
    int line = 1;
    const char *la = a, *lb = b;
    for (; *a && *a == *b; a++, b++)
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
    char wa[256], wb[256], ea[300], eb[300];
    size_t na = strcspn(la, "\n"), nb = strcspn(lb, "\n");
    snprintf(wa, sizeof wa, "%.*s", (int)(na < 255 ? na : 255), la);
    snprintf(wb, sizeof wb, "%.*s", (int)(nb < 255 ? nb : 255), lb);
    a5_escape(wa, 120, ea, sizeof ea);
    a5_escape(wb, 120, eb, sizeof eb);
    snprintf(buf, len, "resolved scenario line %d: was %s%s%s, now %s%s%s", line,
             *la ? "'" : "", *la ? ea : "nothing (it ended)", *la ? "'" : "", *lb ? "'" : "",
             *lb ? eb : "nothing (it ends)", *lb ? "'" : "");
}

/* Whether the checkpoint was saved by a run of another resolved scenario (err
 * says how they differ), read from its bytes before the partial file is touched:
 * a refused resume writes nothing. 0 when they are the same, or cannot be read
 * here (the later checks say why). */
static int other_scenario(const a5_output *o, const a5_scenario *s,
                          const a5_output_meta *meta, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0, blen, jlen;
    const char *jbuf;
    if (!meta->state_text || a5_sys_read_all(o->state, &buf, &len) != 0) {
        free(buf);
        return 0;
    }
    if (a5_journal_split(buf, len, &blen, &jbuf, &jlen) != 0)
        blen = len; /* a checkpoint of an earlier version, without a journal */
    uint64_t tl = 0;
    const char *t = meta->state_text(buf, blen, &tl);
    const int other = t && (tl != strlen(s->text) || memcmp(t, s->text, (size_t)tl) != 0);
    char *text = other ? strndup(t, (size_t)tl) : NULL; /* to a NUL it may hold: the diff */
    if (other && text) {
        char diff[700];
        first_difference(text, s->text, diff, sizeof diff);
        snprintf(err, errlen, "%s was written for another scenario or other --set options "
                              "(%s); run with the same ones, or start over with --force",
                 o->tmp, diff);
    }
    if (other && !text)
        snprintf(err, errlen, "%s was written for another scenario or other --set options; run "
                              "with the same ones, or start over with --force", o->tmp);
    free(text);
    free(buf);
    return other;
}

int a5_output_reopen(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                     a5_output **out, char *err, size_t errlen)
{
    a5_output *o;
    int nrc = a5_out_new(path, s, meta, &o, err, errlen);
    if (nrc)
        return nrc;
    if ((nrc = a5_out_lock(o, err, errlen)) != 0) {
        a5_out_free(o);
        return nrc;
    }
    struct stat st;
    if (stat(o->tmp, &st) != 0) {
        snprintf(err, errlen, "nothing to resume: %s does not exist", o->tmp);
        a5_out_free(o);
        return A5_ERESUME;
    }
    if (stat(o->state, &st) != 0) {
        /* Stopped before its first checkpoint: nothing was saved, so a resume is a
         * fresh start (a5_output_restarted says so). */
        if ((nrc = a5_out_start(o, meta, err, errlen)) != 0) {
            a5_out_free(o);
            return nrc;
        }
        o->restarted = 1;
        *out = o;
        return 0;
    }
    if (other_scenario(o, s, meta, err, errlen)) {
        a5_out_free(o);
        return A5_ERESUME;
    }
    if ((nrc = replay(o, err, errlen)) != 0) {
        a5_out_free(o);
        return nrc;
    }
    o->file = open_journaled(o, H5F_ACC_RDWR);
    if (o->file < 0 && clear_in_use_flag(o->tmp) == 0)
        o->file = open_journaled(o, H5F_ACC_RDWR);
    if (o->file < 0) {
        snprintf(err, errlen, "%s is damaged (HDF5 cannot open it); start over with --force",
                 o->tmp);
        a5_out_free(o);
        return A5_ERESUME;
    }
    char *text = NULL, *lv = NULL;
    read_str_attr(o, o->file, "scenario", &text);
    int ok = text != NULL, same = ok && strcmp(text, s->text) == 0;
    char diff[700] = "";
    if (ok && !same)
        first_difference(text, s->text, diff, sizeof diff);
    if (text)
        H5free_memory(text);
    /* A partial of an earlier allied5g (no first_restrict_step, time not yet the
     * dimension) is refused: resuming it would mix two layouts. */
    const int older = (H5Aexists(o->file, "Conventions") == 0 ||
                       H5Lexists(o->file, a5_out_vars[V_FIRST_RESTRICT].name, H5P_DEFAULT) == 0) &&
                      H5Lexists(o->file, a5_out_vars[V_FIRST_BAN].name, H5P_DEFAULT) > 0;
    ok = ok && (!same || (!older && a5_out_open_vars(o) == 0));
    if (!ok || !same) {
        if (ok)
            snprintf(err, errlen, "%s was written for another scenario or other --set options "
                                  "(%s); run with the same ones, or start over with --force",
                     o->tmp, diff);
        else if (older)
            snprintf(err, errlen, "%s was written by an earlier allied5g (an older layout of the "
                                  "results file); start over with --force", o->tmp);
        else
            snprintf(err, errlen, "%s is damaged or incomplete; start over with --force", o->tmp);
        a5_out_close_all(o);
        a5_out_free(o);
        return A5_ERESUME;
    }
    read_str_attr(o, o->file, "live", &lv);
    int live = lv && strcmp(lv, "yes") == 0;
    if (lv)
        H5free_memory(lv);
    if (live) {
        /* Continue in SWMR mode, as the run began. */
        a5_out_close_all(o);
        o->file = open_journaled(o, H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE);
        o->live = 1;
        if (o->file < 0 || a5_out_open_vars(o) != 0) {
            snprintf(err, errlen, "%s cannot be reopened for writing (after a crash, "
                                  "'h5clear -s --increment %s' clears its in-use flag)",
                     o->tmp, o->tmp);
            a5_out_close_all(o);
            a5_out_free(o);
            return A5_ERESUME;
        }
    }
    if ((nrc = a5_out_hold(o, err, errlen)) != 0) {
        a5_out_close_all(o);
        a5_out_free(o);
        return nrc;
    }
    *out = o;
    return 0;
}

#ifdef A5_MPI
int a5_output_open_team(const char *path, const a5_scenario *s, const a5_output_meta *meta,
                        int resume, void *comm_ptr, a5_output **out, char *err, size_t errlen)
{
    MPI_Comm comm = *(MPI_Comm *)comm_ptr;
    int rank, size, rc = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    *out = NULL;
    err[0] = 0;
    if (meta->live) {
        snprintf(err, errlen, "--live is not available with MPI (SWMR needs a single writer)");
        return A5_EUSAGE;
    }
    /* Rank 0 creates the file (or checks the one to resume) with the serial driver:
     * variable-length strings cannot be written through MPI-IO. */
    int lockfd = -1, tmpfd = -1; /* rank 0 keeps the locks for the team */
    if (rank == 0) {
        a5_output *o0 = NULL;
        rc = resume ? a5_output_reopen(path, s, meta, &o0, err, errlen)
                    : a5_output_create(path, s, meta, &o0, err, errlen);
        if (!rc) {
            lockfd = o0->lockfd;
            tmpfd = o0->tmpfd;
            o0->lockfd = o0->tmpfd = -1;
            a5_out_close_all(o0);
            a5_out_free(o0);
        }
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    MPI_Bcast(err, (int)errlen, MPI_CHAR, 0, comm);
    if (rc)
        return rc;
    a5_output_meta again = *meta;
    again.force = 1; /* rank 0 has checked PATH already */
    a5_output *o = NULL;
    int ok = a5_out_new(path, s, &again, &o, err, errlen) == 0;
    if (ok) {
        o->rank = rank;
        o->size = size;
        o->lockfd = lockfd;
        o->tmpfd = tmpfd;
        lockfd = tmpfd = -1;
    }
    if (lockfd >= 0)
        close(lockfd);
    if (tmpfd >= 0)
        close(tmpfd);
    hid_t fapl = ok ? H5Pcreate(H5P_FILE_ACCESS) : -1;
    ok = ok && fapl >= 0 && H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) >= 0;
    if (ok)
        o->file = H5Fopen(o->tmp, H5F_ACC_RDWR, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    ok = ok && o->file >= 0;
    if (ok) {
        o->dxpl = H5Pcreate(H5P_DATASET_XFER);
        ok = o->dxpl >= 0 && H5Pset_dxpl_mpio(o->dxpl, H5FD_MPIO_COLLECTIVE) >= 0;
    }
    ok = ok && a5_out_open_vars(o) == 0;
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, comm);
    if (!all) {
        snprintf(err, errlen, "cannot open %s for parallel writing", o ? o->tmp : path);
        if (o) {
            a5_out_close_all(o);
            a5_out_free(o);
        }
        return A5_EHDF5;
    }
    *out = o;
    return 0;
}
#endif
