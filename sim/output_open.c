/* Reopening a results file in the making: resuming an interrupted run, and (MPI
 * builds) every rank of a team opening the file for collective writes. */
#include "output_int.h"

#include "a5_error.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef A5_MPI
#include <mpi.h>
#endif

extern char **environ;

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
    o->file = H5Fopen(o->tmp, H5F_ACC_RDWR, H5P_DEFAULT);
    if (o->file < 0 && clear_in_use_flag(o->tmp) == 0)
        o->file = H5Fopen(o->tmp, H5F_ACC_RDWR, H5P_DEFAULT);
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
    ok = ok && (!same || a5_out_open_vars(o) == 0);
    if (!ok || !same) {
        if (ok)
            snprintf(err, errlen, "%s was written for another scenario or other --set options "
                                  "(%s); run with the same ones, or start over with --force",
                     o->tmp, diff);
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
        o->file = H5Fopen(o->tmp, H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE, H5P_DEFAULT);
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
    int lockfd = -1; /* rank 0 keeps the lock for the team */
    if (rank == 0) {
        a5_output *o0 = NULL;
        rc = resume ? a5_output_reopen(path, s, meta, &o0, err, errlen)
                    : a5_output_create(path, s, meta, &o0, err, errlen);
        if (!rc) {
            lockfd = o0->lockfd;
            o0->lockfd = -1;
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
        lockfd = -1;
    }
    if (lockfd >= 0)
        close(lockfd);
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
