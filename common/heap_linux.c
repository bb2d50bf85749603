#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "heap.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define HEAP_PREFAULT_MAX ((size_t)256 << 20)

void
mem_populate(void *p, size_t len)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), lo, hi;

	lo = ((uintptr_t)p + pg - 1) & ~(pg - 1);
	hi = ((uintptr_t)p + len) & ~(pg - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
}

void
heap_prefault(size_t bytes)
{
	static int tuned;
	char *p;

	if (!tuned) {
		/*
		 * Large arrays from the heap too (not fresh mmaps that fault
		 * again), and no trimming of what we faulted in.
		 */
		mallopt(M_MMAP_THRESHOLD, 32 << 20);
		mallopt(M_TRIM_THRESHOLD, 512 << 20);
		tuned = 1;
	}
	if (bytes > HEAP_PREFAULT_MAX)
		bytes = HEAP_PREFAULT_MAX;
	if ((p = malloc(bytes)) == NULL)
		return;
	mem_populate(p, bytes);
	free(p);
}
