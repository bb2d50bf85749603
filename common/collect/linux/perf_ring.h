/*
 * perf_event_open(2) and its mmap'd ring buffer: the kernel interface that
 * cd-sample (cpu-clock) and cd-trace (raw_syscalls tracepoints) share.
 */
#ifndef CD_PERF_RING_H
#define CD_PERF_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/perf_event.h>

struct perf_ring {
	int fd;
	void *base;			/* metadata page + data pages */
	size_t map_len;
	size_t data_size;		/* power of two */
	char *scratch;			/* a record that wraps is copied here */
	size_t scratch_cap;
};

/* The raw syscall; -1 with errno set on failure. */
int perf_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
    unsigned long flags);

/*
 * Map a ring of 2^n data pages over fd (data_pages must be a power of two).
 * Returns 0, or -1 with errno set.
 */
int perf_ring_map(struct perf_ring *r, int fd, size_t data_pages);
void perf_ring_unmap(struct perf_ring *r);

/*
 * Hand every complete record in the ring to cb, in order, then release the
 * space to the kernel. A record that wraps the end of the ring is passed
 * contiguously. cb returning non-zero stops early (the rest stays queued).
 * Returns the number of records consumed.
 */
typedef int (*perf_ring_cb)(const struct perf_event_header *h, void *arg);
long perf_ring_drain(struct perf_ring *r, perf_ring_cb cb, void *arg);

/* Why perf_event_open is likely refused here, for meta and reports; NULL if nothing is known. */
const char *perf_refusal_reason(int err);

/* /proc/sys/kernel/perf_event_paranoid, or -100 when unreadable. */
int perf_paranoid(void);

#endif
