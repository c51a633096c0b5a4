/* Memory: one allocation hook for the library, and large zeroed buffers in
 * transparent huge pages.
 *
 * Every allocation of scenario parsing and model set-up goes through a5_malloc and
 * its siblings (free with plain free()). A test arms a5_mem_fail_at(k) to make the
 * k-th allocation from then on fail, and checks that the caller reports A5_ENOMEM,
 * crashes nowhere and leaks nothing (the sanitizer build checks leaks).
 *
 * Big arrays reached all over (histogram bins, blocks of records read across
 * replicates) miss the TLB far less in 2 MiB pages, and are faulted in a few
 * large pages at a time. Where the system does not give huge pages (THP off, not
 * Linux) they are ordinary zeroed pages: only speed differs. */
#ifndef A5_MEM_H
#define A5_MEM_H

#include <stddef.h>

/* malloc, calloc, realloc, strdup and aligned_alloc (size rounded up to a multiple
 * of align), each failing when the hook says so. Free the result with free(). */
void *a5_malloc(size_t bytes);
void *a5_calloc(size_t n, size_t size);
void *a5_realloc(void *p, size_t bytes);
char *a5_strdup(const char *s);
void *a5_aligned_alloc(size_t align, size_t bytes);

/* Test hook: the k-th call of the functions above from now on (1 = the next one)
 * and every later call fail until a5_mem_fail_at(0) disarms it. Returns how many
 * calls were made since the previous a5_mem_fail_at (so a test first counts the
 * allocations of an operation, then fails each in turn). */
long a5_mem_fail_at(long k);

typedef struct {
    void *map;  /* the whole mapping */
    size_t len; /* its length */
} a5_huge;

/* A zeroed buffer of `bytes`, starting on a huge-page boundary, or NULL. */
void *a5_huge_alloc(a5_huge *h, size_t bytes);
/* Release it (accepts a zeroed or already released a5_huge). */
void a5_huge_free(a5_huge *h);

#endif
