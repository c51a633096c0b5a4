/* The allocation hook and huge-page buffers. See a5_mem.h. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, madvise */
#include "a5_mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Calls counted since the last a5_mem_fail_at, and the call that starts failing
 * (0: none). Atomic: worker threads allocate their scratch space concurrently. */
static long calls, fail_from;

static int refuse(void)
{
    long c = __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
    long f = __atomic_load_n(&fail_from, __ATOMIC_RELAXED);
    return f > 0 && c >= f;
}

long a5_mem_fail_at(long k)
{
    long c = __atomic_exchange_n(&calls, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&fail_from, k > 0 ? k : 0, __ATOMIC_RELAXED);
    return c;
}

void *a5_malloc(size_t bytes) { return refuse() ? NULL : malloc(bytes ? bytes : 1); }

void *a5_calloc(size_t n, size_t size) { return refuse() ? NULL : calloc(n ? n : 1, size ? size : 1); }

void *a5_realloc(void *p, size_t bytes) { return refuse() ? NULL : realloc(p, bytes ? bytes : 1); }

char *a5_strdup(const char *s) { return refuse() ? NULL : strdup(s); }

void *a5_aligned_alloc(size_t align, size_t bytes)
{
    if (refuse())
        return NULL;
    size_t whole = (bytes + align - 1) / align * align;
    return aligned_alloc(align, whole ? whole : align);
}

void *a5_huge_alloc(a5_huge *h, size_t bytes)
{
    const size_t huge = 2 << 20;
    const size_t whole = (bytes + huge - 1) / huge * huge; /* whole huge pages */
    h->len = whole + huge;                                  /* room to align the start */
    h->map = mmap(NULL, h->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h->map == MAP_FAILED) {
        h->map = NULL;
        return NULL;
    }
    void *start = (void *)(((uintptr_t)h->map + huge - 1) / huge * huge);
#ifdef MADV_HUGEPAGE
    (void)madvise(start, whole, MADV_HUGEPAGE); /* advice: ordinary pages work too */
#endif
    return start;
}

void a5_huge_free(a5_huge *h)
{
    if (h->map)
        munmap(h->map, h->len);
    h->map = NULL;
    h->len = 0;
}
