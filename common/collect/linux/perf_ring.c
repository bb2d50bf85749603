#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "msg.h"
#include "perf_ring.h"

int
perf_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
    unsigned long flags)
{
	return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
}

int
perf_ring_map(struct perf_ring *r, int fd, size_t data_pages)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (data_pages == 0 || (data_pages & (data_pages - 1))) {
		errno = EINVAL;
		return -1;
	}
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->data_size = data_pages * pg;
	r->map_len = r->data_size + pg;
	r->base = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->base == MAP_FAILED) {
		r->base = NULL;
		return -1;
	}
	return 0;
}

void
perf_ring_unmap(struct perf_ring *r)
{
	if (r->base)
		munmap(r->base, r->map_len);
	free(r->scratch);
	r->base = NULL;
	r->scratch = NULL;
	r->scratch_cap = 0;
}

long
perf_ring_drain(struct perf_ring *r, perf_ring_cb cb, void *arg)
{
	struct perf_event_mmap_page *meta = r->base;
	char *data;
	uint64_t head, tail;
	long n = 0;

	if (meta == NULL)
		return 0;
	data = (char *)r->base + (r->map_len - r->data_size);
	head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	tail = meta->data_tail;
	while (tail < head) {
		size_t off = (size_t)(tail & (r->data_size - 1));
		const struct perf_event_header *h = (const void *)(data + off);
		struct perf_event_header hdr;
		int stop;

		/* The header itself may straddle the end of the ring. */
		if (off + sizeof(hdr) > r->data_size) {
			size_t first = r->data_size - off;

			memcpy(&hdr, data + off, first);
			memcpy((char *)&hdr + first, data, sizeof(hdr) - first);
		} else {
			memcpy(&hdr, h, sizeof(hdr));
		}
		if (hdr.size < sizeof(hdr) || tail + hdr.size > head)
			break;	/* corrupt or incomplete: leave it */
		if (off + hdr.size > r->data_size) {
			size_t first = r->data_size - off;

			if (r->scratch_cap < hdr.size) {
				r->scratch = xrealloc(r->scratch, hdr.size);
				r->scratch_cap = hdr.size;
			}
			memcpy(r->scratch, data + off, first);
			memcpy(r->scratch + first, data, hdr.size - first);
			h = (const void *)r->scratch;
		}
		stop = cb(h, arg);
		tail += hdr.size;
		n++;
		if (stop)
			break;
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	return n;
}

int
perf_paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	int v = -100;

	if (f == NULL)
		return v;
	if (fscanf(f, "%d", &v) != 1)
		v = -100;
	fclose(f);
	return v;
}

const char *
perf_refusal_reason(int err)
{
	static char buf[160];
	int p = perf_paranoid();

	switch (err) {
	case EACCES:
	case EPERM:
		if (p >= 2)
			snprintf(buf, sizeof(buf), "perf_event_open refused: "
			    "kernel.perf_event_paranoid=%d and no CAP_PERFMON", p);
		else
			snprintf(buf, sizeof(buf), "perf_event_open refused (%s): "
			    "missing CAP_PERFMON/CAP_SYS_ADMIN or a seccomp filter",
			    strerror(err));
		return buf;
	case ENOSYS:
		return "perf_event_open not available (ENOSYS: kernel built "
		    "without perf events, or blocked by a container's seccomp)";
	case ENOENT:
	case ENODEV:
	case EOPNOTSUPP:
		snprintf(buf, sizeof(buf), "perf event not supported here (%s)",
		    strerror(err));
		return buf;
	case EMFILE:
		return "perf_event_open: out of file descriptors (raise ulimit -n)";
	default:
		return NULL;
	}
}
