/* System helpers: durable files and the clock.
 *
 * One way to make a file durable (a5_sys_write_atomic: temporary file beside the
 * target, every byte written with short writes retried, fsync, rename, fsync of
 * the directory) and one monotonic clock. Errors are negative A5_E* codes with a
 * message in the caller's buffer; nothing here prints. */
#ifndef A5_SYS_H
#define A5_SYS_H

#include <stddef.h>
#include <stdint.h>

/* Seconds on a monotonic clock (for durations and rates, never dates). */
double a5_sys_now(void);

/* The 64-bit FNV-1a hash of n bytes (a checksum, not a cryptographic digest). */
uint64_t a5_sys_fnv1a(const void *buf, size_t n);

/* Replace `path` with the len bytes at buf, atomically and durably: the bytes go to
 * PATH.tmp (a regular file of its own, never written through a link, locked against
 * another process writing the same path), which is synced, renamed over path, and
 * the directory synced. `what` names the file in messages ("checkpoint"; NULL for
 * none). Returns 0, or A5_EIO with "cannot write [what ]PATH.tmp: REASON" (or the
 * rename's) in err; PATH.tmp is removed on failure and path is left as it was. */
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

/* Read the regular file at path, at most `max` bytes, into a malloc'd buffer (as
 * a5_sys_read_all). Anything else (a FIFO, a device such as /dev/zero, a
 * directory) is refused before a byte is read, as is a file larger than max.
 * Returns 0; A5_EIO (errno set: the open's error, or EINVAL for a file that is not
 * regular, EFBIG for one over max); A5_ENOMEM. The file is noted as an input of
 * this process (a5_sys_note_input). */
int a5_sys_read_regular(const char *path, size_t max, char **buf, size_t *len);

/* Remember that the file at path is one of this process's inputs (a scenario, a
 * base, a design or observations file), so that no output replaces it. */
void a5_sys_note_input(const char *path);

/* 1 if path names (after symbolic links) a file noted by a5_sys_note_input. */
int a5_sys_is_input(const char *path);

/* Whether `path` can name an output file at all: not empty, and not a directory's
 * name (one that ends in '/', or whose last part is "." or ".."). Returns 0, or
 * A5_EUSAGE with the reason in err. Check it before anything runs. */
int a5_sys_output_name(const char *path, char *err, size_t errlen);

/* Whether the file at `path` may be written as an output: a5_sys_output_name, a
 * directory that exists (else A5_EIO: a run-time failure, as a failed create), then
 * what is there: nothing, or a regular file (a symbolic link must lead to one) that
 * is none of this process's inputs (a5_sys_is_input: by device and inode, so any
 * other name of an input counts too); without `force`, nothing at all. Returns 0,
 * A5_EUSAGE (a bad name), A5_EIO or A5_EEXIST; err says why. */
int a5_sys_check_output(const char *path, int force, char *err, size_t errlen);

/* 1 when names a and b lead to one file: the same device and inode when both
 * exist; when neither does, the same last name in the same directory. */
int a5_sys_same_file(const char *a, const char *b);

/* "a FIFO", "a directory", "a character device" ... for the file type in st_mode. */
const char *a5_sys_kind(unsigned mode);

/* Take an exclusive lock for the process on the lock file at path (created if
 * need be, our process id written in it), without waiting. Returns the lock's
 * descriptor (>= 0); A5_EBUSY with *holder the process id found in the file when
 * another process holds it; A5_EIO (errno set). */
int a5_sys_lock(const char *path, long *holder);

/* Release a lock from a5_sys_lock: remove its file (if it is still the one locked),
 * then close it. Accepts fd < 0. */
void a5_sys_unlock(int fd, const char *path);

/* Bytes free to an unprivileged user on the file system that would hold path
 * (its directory), or -1 when unknown. */
double a5_sys_free_bytes(const char *path);

/* Remove path if it is there. Returns 0, or A5_EIO (errno set) when it is there
 * and cannot be removed. */
int a5_sys_remove(const char *path);

/* Remove PATH.tmp, the temporary file of a5_sys_write_atomic(PATH), left when a
 * process was killed while writing it. Returns as a5_sys_remove (A5_ENOMEM too). */
int a5_sys_remove_tmp(const char *path);

#endif
