/*
 * Fault in heap pages ahead of a burst of allocations. On virtual machines
 * a first touch of a page can cost tens of microseconds (measured here: 44
 * to 61 us a page, against 1 to 2 us a page populated in one madvise), so
 * a tool about to build a 10,000-entry table asks for the pages at once.
 */
#ifndef CD_HEAP_H
#define CD_HEAP_H

#include <stddef.h>

/*
 * Make the next allocations, up to about bytes in all, come from heap
 * pages that are already mapped. Best effort: does nothing where the
 * kernel lacks MADV_POPULATE_WRITE (before Linux 5.14).
 */
void heap_prefault(size_t bytes);
/* Fault in the whole pages of [p, p + len) in one call; best effort. */
void mem_populate(void *p, size_t len);

#endif
