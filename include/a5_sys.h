/* System helpers: durable files and the clock.
 *
 * One way to make a file durable (a5_sys_write_atomic: temporary file beside the
 * target, every byte written with short writes retried, fsync, rename, fsync of
 * the directory) and one monotonic clock. Errors are negative A5_E* codes with a
 * message in the caller's buffer; nothing here prints. */
#ifndef A5_SYS_H
#define A5_SYS_H

#include <stddef.h>

/* Seconds on a monotonic clock (for durations and rates, never dates). */
double a5_sys_now(void);

/* Replace `path` with the len bytes at buf, atomically and durably: the bytes go to
 * PATH.tmp, which is synced, renamed over path, and the directory synced. `what`
 * names the file in messages ("checkpoint"; NULL for none). Returns 0, or A5_EIO
 * with "cannot write [what ]PATH.tmp: REASON" (or the rename's) in err; PATH.tmp is
 * removed on failure and path is left as it was. */
int a5_sys_write_atomic(const char *path, const char *what, const void *buf, size_t len,
                        char *err, size_t errlen);

/* Put a finished file in place: fsync `tmp`, rename it to `path`, fsync the
 * directory. Returns 0 or A5_EIO (err says which step failed and why). */
int a5_sys_commit_rename(const char *tmp, const char *path, char *err, size_t errlen);

/* fsync the file at path. Returns 0, or A5_EIO with errno set. */
int a5_sys_fsync_path(const char *path);

/* Read the whole file into a malloc'd buffer (*buf, NUL-terminated, *len bytes
 * before the NUL). Returns 0; A5_EIO with errno set; A5_ENOMEM. */
int a5_sys_read_all(const char *path, char **buf, size_t *len);

/* Remove path if it is there. Returns 0, or A5_EIO (errno set) when it is there
 * and cannot be removed. */
int a5_sys_remove(const char *path);

#endif
