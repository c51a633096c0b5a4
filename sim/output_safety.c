/* What keeps a results file in the making safe: one writer at a time
 * (a5_out_lock, a5_out_hold, a5_out_still_ours), room reserved before every flush
 * (a5_out_reserve), removing only its own files (a5_output_abort), and the
 * A5_TEST_FULL_AT and A5_TEST_LOCK_WAIT test hooks. What may be written where is
 * a5_sys_check_output. */
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
#include <time.h>
#include <unistd.h>
#ifdef A5_MPI
#include <mpi.h>
#endif

extern char **environ;

/* --- safety ------------------------------------------------------------------------ */
/* Is the file at path read-locked by another process's a5_out_hold? */
static int held_elsewhere(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    return held;
}

/* A run whose lock file was removed still holds its partial file. */
static int held_message(const a5_output *o, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s is being written by another process (%s is held, though "
                          "its lock file %s was removed); wait for it to finish, or stop it",
             o->path, o->tmp, o->lock);
    return A5_EBUSY;
}

/* Test hook: A5_TEST_LOCK_WAIT=F makes a run that found no lock file create F.wait,
 * then wait (60 s at most) until F exists before it looks at the partial file: a
 * test starts another run in between (the race of two runs started at once). */
static void test_lock_hook(void)
{
    const char *f = getenv("A5_TEST_LOCK_WAIT");
    if (!f || !*f)
        return;
    char w[4096];
    snprintf(w, sizeof w, "%s.wait", f);
    int fd = open(w, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
    struct stat st;
    const struct timespec tick = {0, 10000000};
    for (int i = 0; i < 6000 && stat(f, &st) != 0; i++)
        nanosleep(&tick, NULL);
}

int a5_out_lock(a5_output *o, char *err, size_t errlen)
{
    long holder = 0;
    /* With no lock file, before making one: a run writing the partial file, its lock
     * file removed, would see a new one as another run's and stop (a5_out_still_ours).
     * With one, a5_sys_lock only opens it, and says whose it is when it is held. */
    struct stat st;
    if (lstat(o->lock, &st) != 0) {
        test_lock_hook();
        /* A run may have made its lock file, then its partial file, since we
         * looked: only a partial file held with still no lock file is a run whose
         * lock file was removed; else a5_sys_lock says whose the lock is. */
        if (held_elsewhere(o->tmp) && lstat(o->lock, &st) != 0)
            return held_message(o, err, errlen);
    }
    int fd = a5_sys_lock(o->lock, &holder);
    if (fd == A5_EBUSY) {
        snprintf(err, errlen, "%s is being written by process %ld (lock %s); wait for it to "
                              "finish, or stop it", o->path, holder, o->lock);
        return A5_EBUSY;
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: its lock file %s: %s", o->path, o->lock,
                 strerror(errno));
        return A5_EIO;
    }
    /* The lock file may have been removed under a run that still writes: the
     * partial file it holds says so. */
    if (held_elsewhere(o->tmp)) { /* a run that began in between */
        a5_sys_unlock(fd, o->lock);
        return held_message(o, err, errlen);
    }
    o->lockfd = fd;
    return 0;
}

int a5_out_hold(a5_output *o, char *err, size_t errlen)
{
    if (o->tmpfd >= 0)
        close(o->tmpfd);
    o->tmpfd = open(o->tmp, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
    if (o->tmpfd < 0 || fcntl(o->tmpfd, F_OFD_SETLK, &fl) != 0) {
        snprintf(err, errlen, "cannot lock %s: %s", o->tmp, strerror(errno));
        if (o->tmpfd >= 0)
            close(o->tmpfd);
        o->tmpfd = -1;
        return A5_EIO;
    }
    return 0;
}

/* Does path still lead to the file open at fd? */
static int same_as_fd(const char *path, int fd)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int a5_out_still_ours(const a5_output *o, char *err, size_t errlen)
{
    struct stat st;
    /* The partial file must be ours; the lock file may be gone (the partial's own
     * lock still holds), but not replaced by another's. */
    const char *gone = o->tmpfd >= 0 && !same_as_fd(o->tmp, o->tmpfd) ? o->tmp
                       : o->lockfd >= 0 && lstat(o->lock, &st) == 0 &&
                               !same_as_fd(o->lock, o->lockfd)
                           ? o->lock
                           : NULL;
    if (!gone)
        return 0;
    snprintf(err, errlen, "%s was removed or replaced while this run wrote %s: another "
                          "process may be writing it; this run's results were not put in place "
                          "and its checkpoint is lost", gone, o->path);
    return A5_EBUSY;
}

void a5_output_abort(a5_output *o, int keep)
{
    if (!o)
        return;
    /* After a failed write HDF5's cache holds a state that never reached the disk
     * whole: closing would write it over the last checkpoint's. Leave the file as
     * a crash would (HDF5 does nothing at exit: a5_out_h5_setup). */
    if (!o->broken)
        a5_out_close_all(o);
    char why[16];
    if (!keep && o->rank == 0 && !a5_out_still_ours(o, why, sizeof why)) {
        unlink(o->tmp);
        unlink(o->state);
        (void)a5_sys_remove_tmp(o->state);
    }
    a5_out_free(o);
}

/* Test hook: A5_TEST_FULL_AT=k makes the disk "full" from the k-th write of the
 * results file on (write_slab and commit count; 1 is the first): the file may not
 * grow past its size then (RLIMIT_FSIZE; SIGXFSZ ignored, so a write fails with
 * EFBIG as one fails with ENOSPC on a full disk). */
void a5_out_test_full_hook(a5_output *o)
{
    static long k = -1, n = 0;
    if (k < 0) {
        const char *e = getenv("A5_TEST_FULL_AT");
        k = e ? atol(e) : 0;
    }
    if (k <= 0 || ++n != k)
        return;
    struct stat st;
    if (stat(o->tmp, &st) == 0) {
        struct rlimit rl = {(rlim_t)st.st_size, (rlim_t)st.st_size};
        signal(SIGXFSZ, SIG_IGN);
        (void)setrlimit(RLIMIT_FSIZE, &rl);
    }
}

/* Before HDF5 writes its metadata (a flush), make sure the file system has room
 * for all of it: allocate the file up to HDF5's end of allocation plus a margin.
 * A full disk then fails here, before anything of the last checkpoint's state is
 * overwritten, instead of half-way through the metadata (which left chunk indices
 * pointing past the end of the file). Returns 0 or -1 with errno set. */
int a5_out_reserve(a5_output *o)
{
    hsize_t size = 0;
    if (o->size > 1 || H5Fget_filesize(o->file, &size) < 0)
        return 0; /* a team's file (MPI-IO) or no size: nothing to do */
    /* The file we hold, not whatever has its name now. */
    int fd = o->tmpfd >= 0 ? o->tmpfd : open(o->tmp, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int e = posix_fallocate(fd, 0, (off_t)size + (64 << 10));
    if (fd != o->tmpfd)
        close(fd);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}
