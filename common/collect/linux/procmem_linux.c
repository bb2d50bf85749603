/* Remote reads through process_vm_readv; maps from /proc/PID/maps. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "msg.h"
#include "procmem.h"

int
procmem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (len == 0)
		return 0;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		errno = EFAULT;	/* a page beyond the first was not mapped */
	return -1;
}

int
procmem_read_cb(void *arg, uint64_t addr, void *buf, size_t len)
{
	return procmem_read(*(const pid_t *)arg, addr, buf, len);
}

long
procmem_code_ranges(pid_t pid, uint64_t **ranges)
{
	char path[64], line[4096];
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		uint64_t lo, hi;
		char perm[5];

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s", &lo, &hi, perm) != 3 ||
		    perm[2] != 'x')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, 2 * sizeof(*v));
		}
		v[2 * n] = lo;
		v[2 * n + 1] = hi;
		n++;
	}
	fclose(f);
	*ranges = v;
	return (long)n;
}
