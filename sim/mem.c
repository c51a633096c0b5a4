/* Large zeroed buffers in transparent huge pages. See a5_mem.h. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, madvise */
#include "a5_mem.h"

#include <stdint.h>
#include <sys/mman.h>

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
