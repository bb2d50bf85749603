/*
 * Pairing each thread's syscall entry with its exit. The tracepoint method
 * reads per-CPU rings, so a thread that migrated may show its exit before
 * its entry; one exit is held until the entry it belongs to arrives.
 */
#include <stdlib.h>
#include <string.h>

#include "trace.h"

static void
finish(struct trace *tr, struct thr *t, long ret, uint64_t ts)
{
	struct call *c = &t->cur;

	c->ret = ret;
	c->done = 1;
	c->dur_ns = ts >= c->ts_ns ? ts - c->ts_ns : 0;
	decode_exit(tr, c);
	tr->stats.calls++;
	out_call(tr, c);
	free(c->path);
	c->path = NULL;
	t->in_call = 0;
}

void
call_enter(struct trace *tr, struct thr *t, long nr, const uint64_t args[6], uint64_t ts,
    const uint64_t *stack, int nstack)
{
	struct call *c = &t->cur;
	int first = !t->seen_enter;

	tr->stats.events++;
	if (t->in_call) {		/* its exit was lost */
		tr->stats.unpaired++;
		free(c->path);
		c->path = NULL;
	}
	c->pid = t->pid;
	c->tid = t->tid;
	c->nr = nr;
	c->ts_ns = ts;
	c->done = 0;
	memcpy(c->args, args, sizeof(c->args));
	c->nstack = nstack > MAX_STACK ? MAX_STACK : nstack;
	if (c->nstack > 0)
		memcpy(c->stack, stack, (size_t)c->nstack * sizeof(*stack));
	decode_enter(tr, c);
	t->in_call = 1;
	t->seen_enter = 1;
	if (t->have_early_exit) {
		struct call *e = &t->early_exit;

		t->have_early_exit = 0;
		if (e->nr == nr && e->ts_ns >= ts) {
			finish(tr, t, e->ret, e->ts_ns);
			return;
		}
		/* An exit from before we attached is not a loss. */
		if (!first)
			tr->stats.unpaired++;
	}
}

void
call_exit(struct trace *tr, struct thr *t, long nr, long ret, uint64_t ts)
{
	tr->stats.events++;
	if (t->in_call && t->cur.nr == nr && ts >= t->cur.ts_ns) {
		finish(tr, t, ret, ts);
		return;
	}
	if (t->have_early_exit && t->seen_enter)
		tr->stats.unpaired++;
	t->early_exit.nr = nr;
	t->early_exit.ret = ret;
	t->early_exit.ts_ns = ts;
	t->have_early_exit = 1;
}

static void
count_unfinished(struct trace *tr, struct thr *t)
{
	if (t->in_call)
		tr->stats.unfinished++;
	thr_forget(tr, t->tid);
}

/* Calls still in progress (a thread blocked in poll, exit_group) are counted, not guessed. */
void
calls_finish(struct trace *tr)
{
	thr_each(tr, count_unfinished);
}
