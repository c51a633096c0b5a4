/* System helpers: durable files and the clock. See a5_sys.h. */
#include "a5_sys.h"

#include "a5_error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double a5_sys_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write %s%s%s: %s", what, sp, tmp, strerror(errno));
        rc = A5_EIO;
    }
    if (fd >= 0 && close(fd) != 0 && !rc) {
        snprintf(err, errlen, "cannot write %s%s%s: %s", what, sp, tmp, strerror(errno));
        rc = A5_EIO;
    }
    if (!rc && rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s%s%s to %s: %s", what, sp, tmp, path,
                 strerror(errno));
        rc = A5_EIO;
    }
    if (rc)
        unlink(tmp);
    else
        (void)fsync_dir_of(path);
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
