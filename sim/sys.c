/* System helpers: durable files and the clock. See a5_sys.h. */
#include "a5_sys.h"

#include "a5_error.h"
#include "a5_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

double a5_sys_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t a5_sys_fnv1a(const void *buf, size_t n)
{
    const unsigned char *p = buf;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Write all of buf, retrying short writes (a nearly full disk takes part of a
 * write and fails the next part with ENOSPC). Returns 0, or -1 with errno set. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = ENOSPC;
            return -1;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

static int fsync_open(const char *path, int flags)
{
    int fd = open(path, flags);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int a5_sys_fsync_path(const char *path) { return fsync_open(path, O_RDONLY) ? A5_EIO : 0; }

/* fsync the directory holding path (makes a rename in it durable). */
static int fsync_dir_of(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return A5_ENOMEM;
    int rc = fsync_open(dirname(d), O_RDONLY | O_DIRECTORY);
    free(d);
    return rc ? A5_EIO : 0;
}

int a5_sys_commit_rename(const char *tmp, const char *path, char *err, size_t errlen)
{
    if (fsync_open(tmp, O_RDONLY) != 0) {
        snprintf(err, errlen, "cannot sync %s: %s", tmp, strerror(errno));
        return A5_EIO;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        return A5_EIO;
    }
    /* The data is safe; a directory that cannot be synced only risks the name. */
    (void)fsync_dir_of(path);
    return 0;
}

/* Open PATH.tmp for a5_sys_write_atomic: a regular file of one name, never through a
 * link (another thing there is removed: unlinking a name harms no other), locked
 * against another process writing the same path, and emptied. A temporary file
 * left by a killed process is taken over. Returns the descriptor or -1 (errno). */
static int open_tmp(const char *tmp)
{
    for (int tries = 0; tries < 100; tries++) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno == ELOOP && unlink(tmp) == 0)
            continue;
        if (fd < 0)
            return -1;
        struct stat a, b;
        if (flock(fd, LOCK_EX) != 0 || fstat(fd, &a) != 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        /* Still the file at that name (the writer before us renamed it away)? */
        int same = lstat(tmp, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
        if (same && S_ISREG(a.st_mode) && a.st_nlink == 1 && ftruncate(fd, 0) == 0)
            return fd;
        if (same)
            (void)unlink(tmp); /* another name of some file, or not a regular one */
        close(fd);
    }
    errno = EAGAIN;
    return -1;
}

int a5_sys_write_atomic(const char *path, const char *what, const void *buf, size_t len,
                        char *err, size_t errlen)
{
    size_t n = strlen(path) + 5;
    char *tmp = malloc(n);
    if (!tmp) {
        snprintf(err, errlen, "out of memory");
        return A5_ENOMEM;
    }
    snprintf(tmp, n, "%s.tmp", path);
    const char *sp = what ? " " : "";
    what = what ? what : "";
    int rc = 0;
    int fd = open_tmp(tmp);
    if (fd < 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write %s%s%s: %s", what, sp, tmp, strerror(errno));
        rc = A5_EIO;
    }
    /* Renamed while locked: a writer waiting for the lock then finds the name gone. */
    if (!rc && rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s%s%s to %s: %s", what, sp, tmp, path,
                 strerror(errno));
        rc = A5_EIO;
    }
    if (rc && fd >= 0)
        unlink(tmp);
    if (fd >= 0 && close(fd) != 0 && !rc) {
        snprintf(err, errlen, "cannot write %s%s%s: %s", what, sp, path, strerror(errno));
        rc = A5_EIO;
    }
    if (!rc)
        (void)fsync_dir_of(path);
    free(tmp);
    return rc;
}

int a5_sys_remove_tmp(const char *path)
{
    size_t n = strlen(path) + 5;
    char *tmp = malloc(n);
    if (!tmp)
        return A5_ENOMEM;
    snprintf(tmp, n, "%s.tmp", path);
    int rc = a5_sys_remove(tmp);
    free(tmp);
    return rc;
}

int a5_sys_read_all(const char *path, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return A5_EIO;
    char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 1 >= cap) {
            cap = cap ? 2 * cap : 1 << 16;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                fclose(f);
                return A5_ENOMEM;
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        errno = EIO;
        return A5_EIO;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

int a5_sys_remove(const char *path)
{
    if (unlink(path) == 0 || errno == ENOENT)
        return 0;
    return A5_EIO;
}

/* --- inputs ------------------------------------------------------------------------- */

/* The files this process has read as inputs (device and inode), so that no output
 * replaces one. A run reads a handful (a scenario, up to 4 bases, a design file). */
static struct {
    dev_t dev;
    ino_t ino;
} inputs[64];
static int ninputs;

void a5_sys_note_input(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || ninputs == (int)(sizeof inputs / sizeof *inputs))
        return;
    for (int i = 0; i < ninputs; i++)
        if (inputs[i].dev == st.st_dev && inputs[i].ino == st.st_ino)
            return;
    inputs[ninputs].dev = st.st_dev;
    inputs[ninputs].ino = st.st_ino;
    ninputs++;
}

int a5_sys_is_input(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    for (int i = 0; i < ninputs; i++)
        if (inputs[i].dev == st.st_dev && inputs[i].ino == st.st_ino)
            return 1;
    return 0;
}

/* path as messages show it: control bytes escaped, cut when long. */
#define SHOWN(path) a5_escape((path), 300, (char[1024]){0}, 1024)

int a5_sys_output_name(const char *path, char *err, size_t errlen)
{
    size_t n = strlen(path);
    const char *last = strrchr(path, '/');
    last = last ? last + 1 : path;
    if (n == 0) {
        snprintf(err, errlen, "an output file needs a name (got an empty one)");
        return A5_EUSAGE;
    }
    if (path[n - 1] == '/' || !strcmp(last, ".") || !strcmp(last, "..")) {
        snprintf(err, errlen, "'%s' names a directory; name the output file itself",
                 SHOWN(path));
        return A5_EUSAGE;
    }
    return 0;
}

int a5_sys_check_output(const char *path, int force, char *err, size_t errlen)
{
    int rc = a5_sys_output_name(path, err, errlen);
    struct stat st;
    if (rc)
        return rc;
    char *d = strdup(path);
    int dir_ok = !d || (stat(dirname(d), &st) == 0 && S_ISDIR(st.st_mode));
    free(d);
    if (!dir_ok) {
        snprintf(err, errlen, "cannot create %s: its directory does not exist (or is not a "
                              "directory)", SHOWN(path));
        return A5_EIO;
    }
    if (lstat(path, &st) != 0)
        return 0;
    if (S_ISLNK(st.st_mode) && stat(path, &st) != 0) {
        snprintf(err, errlen, "%s is a symbolic link to a missing file; remove it or choose "
                              "another output", SHOWN(path));
        return A5_EEXIST;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is %s, not a regular file; choose another output", SHOWN(path),
                 a5_sys_kind((unsigned)st.st_mode));
        return A5_EEXIST;
    }
    if (a5_sys_is_input(path)) {
        snprintf(err, errlen, "%s is an input of this run (the scenario, a base, a design "
                              "or an observations file); choose another output", SHOWN(path));
        return A5_EEXIST;
    }
    if (!force) {
        snprintf(err, errlen, "%s exists; use --force to replace it", SHOWN(path));
        return A5_EEXIST;
    }
    return 0;
}

/* The file at path (exists: 1), or else its directory and last name (0). */
static int file_id(const char *path, struct stat *st, const char **name)
{
    *name = NULL;
    if (stat(path, st) == 0)
        return 1;
    char *d = strdup(path);
    const char *slash = strrchr(path, '/');
    *name = slash ? slash + 1 : path;
    if (!d || stat(dirname(d), st) != 0)
        memset(st, 0, sizeof *st);
    free(d);
    return 0;
}

int a5_sys_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    const char *na, *nb;
    int ea = file_id(a, &sa, &na), eb = file_id(b, &sb, &nb);
    if (ea != eb || sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino)
        return 0;
    return ea || (sa.st_ino != 0 && !strcmp(na, nb));
}

const char *a5_sys_kind(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
    default: return "not a regular file";
    }
}

int a5_sys_read_regular(const char *path, size_t max, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return A5_EIO;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = A5_EIO;
    else if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        rc = A5_EIO;
    } else if ((unsigned long long)st.st_size > (unsigned long long)max) {
        errno = EFBIG;
        rc = A5_EIO;
    }
    size_t cap = rc ? 0 : (size_t)st.st_size + 1, n = 0;
    char *b = rc ? NULL : a5_malloc(cap);
    if (!rc && !b)
        rc = A5_ENOMEM;
    /* Read what is there now, up to max: a file that grows meanwhile is cut at max
     * + 1 bytes, which the caller's own limit then reports. */
    while (!rc) {
        if (n + 1 == cap) {
            if (cap > max + 1)
                break;
            char *nb = a5_realloc(b, cap * 2);
            if (!nb) {
                rc = A5_ENOMEM;
                break;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t k = read(fd, b + n, cap - n - 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            rc = A5_EIO;
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    int e = errno;
    close(fd);
    errno = e;
    if (rc) {
        free(b);
        return rc;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    a5_sys_note_input(path);
    return 0;
}

/* --- locks and space ---------------------------------------------------------------- */

int a5_sys_lock(const char *path, long *holder)
{
    *holder = 0;
    for (int tries = 0; tries < 100; tries++) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
            return A5_EIO;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            if (e == EWOULDBLOCK) {
                char pid[32] = "";
                ssize_t k = pread(fd, pid, sizeof pid - 1, 0);
                if (k > 0)
                    pid[k] = 0;
                *holder = atol(pid);
            }
            close(fd);
            errno = e;
            return e == EWOULDBLOCK ? A5_EBUSY : A5_EIO;
        }
        /* The holder before us removes the file as it lets go: make sure the lock
         * is on the file that is still there, or try again. */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino) {
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
                int e = errno;
                close(fd);
                errno = e;
                return A5_EIO;
            }
            return fd;
        }
        close(fd);
    }
    errno = EAGAIN;
    return A5_EIO;
}

void a5_sys_unlock(int fd, const char *path)
{
    if (fd < 0)
        return;
    /* Only our own lock file: another process may have made a new one. */
    struct stat a, b;
    if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        (void)unlink(path);
    close(fd);
}

double a5_sys_free_bytes(const char *path)
{
    char *d = strdup(path);
    struct statvfs fs;
    double free_b = -1;
    if (d && statvfs(dirname(d), &fs) == 0)
        free_b = (double)fs.f_bavail * (double)fs.f_frsize;
    free(d);
    return free_b;
}
