/*
 * Frames of --stacks: module+0xOFFSET from the target's memory map, read
 * once per process (the caller names a symbol when it knows one).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "trace.h"

struct map {
	uint64_t start, end, off;
	char *name;
};

struct pmaps {
	int pid;
	struct map *v;
	size_t n;
	struct pmaps *next;
};

static struct pmaps *cache;

static struct pmaps *
load_maps(int pid)
{
	struct pmaps *pm;
	char path[64], line[4096];
	FILE *f;
	size_t cap = 0;

	for (pm = cache; pm; pm = pm->next)
		if (pm->pid == pid)
			return pm;
	pm = xcalloc(1, sizeof(*pm));
	pm->pid = pid;
	pm->next = cache;
	cache = pm;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if ((f = fopen(path, "re")) == NULL)
		return pm;
	while (fgets(line, sizeof(line), f) != NULL) {
		struct map m;
		char perms[8];
		int name_at = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n",
		    &m.start, &m.end, perms, &m.off, &name_at) < 4 || perms[2] != 'x')
			continue;
		line[strcspn(line, "\n")] = '\0';
		m.name = xstrdup(name_at > 0 && line[name_at] ? line + name_at : "[anon]");
		if (pm->n == cap) {
			cap = cap ? cap * 2 : 32;
			pm->v = xreallocarray(pm->v, cap, sizeof(*pm->v));
		}
		pm->v[pm->n++] = m;
	}
	fclose(f);
	return pm;
}

const char *
stack_symbolize(int pid, uint64_t ip, char *buf, size_t len)
{
	struct pmaps *pm = load_maps(pid);

	for (size_t i = 0; i < pm->n; i++) {
		const struct map *m = &pm->v[i];

		if (ip >= m->start && ip < m->end) {
			const char *base = strrchr(m->name, '/');

			snprintf(buf, len, "%s+0x%" PRIx64, base ? base + 1 : m->name,
			    ip - m->start + m->off);
			return buf;
		}
	}
	snprintf(buf, len, "[unknown]+0x%" PRIx64, ip);
	return buf;
}
