/*
 * Frames of --stacks: callchains named through common/collect/symbols.h (libdwfl),
 * one symbolizer per process, opened when the process is first seen so
 * that a process that exits before we print still has its modules known.
 */
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "symbols.h"
#include "trace.h"
#include "units.h"

struct psym {
	int pid;
	uint64_t refreshed_ns;
	struct symbolizer *s;	/* NULL when its maps could not be read */
	struct psym *next;
};

static struct psym *
psym_get(struct trace *tr, int pid)
{
	struct psym *p;

	for (p = tr->syms; p; p = p->next)
		if (p->pid == pid)
			return p;
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->s = sym_open(pid);
	p->next = tr->syms;
	tr->syms = p;
	return p;
}

void
stack_prepare(struct trace *tr, int pid)
{
	if (tr->opt.stacks)
		psym_get(tr, pid);
}

/* After an execve the old maps say nothing about the new program. */
void
stack_exec(struct trace *tr, int pid)
{
	struct psym *p;

	if (!tr->opt.stacks)
		return;
	p = psym_get(tr, pid);
	if (p->s)
		sym_close(p->s);
	p->s = sym_open(pid);
}

int
stack_names(struct trace *tr, int pid, const uint64_t *ips, int n, const char **out, int max)
{
	struct psym *p = psym_get(tr, pid);
	int m, unknown = 0;

	if (p->s == NULL)
		p->s = sym_open(pid);
	if (p->s == NULL || n <= 0)
		return 0;
	m = (int)sym_callchain(p->s, ips, (size_t)n, out, (size_t)max);
	for (int i = 0; i < m; i++)
		if (strcmp(out[i], "[unknown]") == 0)
			unknown = 1;
	/* A module loaded since we read the maps: read them again, once a second at most. */
	if (unknown && now_mono_ns() - p->refreshed_ns > 1000000000ull) {
		p->refreshed_ns = now_mono_ns();
		if (sym_refresh(p->s) == 0)
			m = (int)sym_callchain(p->s, ips, (size_t)n, out, (size_t)max);
	}
	return m;
}

void
stack_release(struct trace *tr)
{
	struct psym *p, *next;

	for (p = tr->syms; p; p = next) {
		next = p->next;
		if (p->s)
			sym_close(p->s);
		free(p);
	}
	tr->syms = NULL;
}
