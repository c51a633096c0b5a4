/* Large zeroed buffers in transparent huge pages.
 *
 * Big arrays reached all over (histogram bins, blocks of records read across
 * replicates) miss the TLB far less in 2 MiB pages, and are faulted in a few
 * large pages at a time. Where the system does not give huge pages (THP off, not
 * Linux) they are ordinary zeroed pages: only speed differs. */
#ifndef A5_MEM_H
#define A5_MEM_H

#include <stddef.h>

typedef struct {
    void *map;  /* the whole mapping */
    size_t len; /* its length */
} a5_huge;

/* A zeroed buffer of `bytes`, starting on a huge-page boundary, or NULL. */
void *a5_huge_alloc(a5_huge *h, size_t bytes);
/* Release it (accepts a zeroed or already released a5_huge). */
void a5_huge_free(a5_huge *h);

#endif
