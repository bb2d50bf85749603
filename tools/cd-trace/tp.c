/*
 * Method 1: the raw_syscalls:sys_enter/sys_exit tracepoints through
 * perf_event_open. One event pair per target thread per CPU, with inherit,
 * so threads and children created later are traced by the kernel itself;
 * all of a CPU's events write into one mmap'd ring (PERF_EVENT_IOC_SET_OUTPUT).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "perf_ring.h"
#include "tracefs.h"
#include "trace.h"
#include "units.h"

struct tp {
	struct trace *tr;
	int ncpu;
	struct perf_ring *rings;	/* per CPU; fd -1 when offline */
	int *fds;			/* every event fd */
	size_t nfds, capfds;
	struct tracefs_field f_enter_id, f_args, f_exit_id, f_ret;
	long id_enter, id_exit;
	struct pidlist live;		/* processes still running */
	struct pidlist opened;		/* tids with events */
	int setting_up;
};

static void
add_fd(struct tp *tp, int fd)
{
	if (tp->nfds == tp->capfds) {
		tp->capfds = tp->capfds ? tp->capfds * 2 : 64;
		tp->fds = xreallocarray(tp->fds, tp->capfds, sizeof(*tp->fds));
	}
	tp->fds[tp->nfds++] = fd;
}

static void
attr_init(const struct tp *tp, struct perf_event_attr *a, long id, int enter, int spawn)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = PERF_TYPE_TRACEPOINT;
	a->config = (uint64_t)id;
	a->sample_period = 1;
	a->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW;
	/* Both events alike, so one parser reads the shared ring. */
	if (tp->tr->opt.stacks) {
		a->sample_type |= PERF_SAMPLE_CALLCHAIN;
		a->exclude_callchain_kernel = 1;
	}
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	a->inherit = 1;
	/* Wake us when a good part of the ring is full, not per event. */
	a->watermark = 1;
	a->wakeup_watermark = (uint32_t)(tp->tr->opt.ring_pages * 4096 / 8);
	/*
	 * Paths are read from the target's memory when we see the entry, so
	 * see it soon: a short-lived process takes its strings with it.
	 */
	if (a->wakeup_watermark > 16384)
		a->wakeup_watermark = 16384;
	if (enter) {
		a->task = 1;	/* fork and exit records: who is still alive */
		a->comm = 1;
	}
	if (spawn) {
		a->disabled = 1;
		a->enable_on_exec = 1;
	}
}

/* Events for one thread on every CPU. 0, or -1 with errno. */
static int
open_tid(struct tp *tp, int tid, int spawn)
{
	struct perf_event_attr a;

	for (int cpu = 0; cpu < tp->ncpu; cpu++) {
		for (int enter = 1; enter >= 0; enter--) {
			struct perf_ring *r = &tp->rings[cpu];
			int fd;

			attr_init(tp, &a, enter ? tp->id_enter : tp->id_exit, enter, spawn);
			fd = perf_open(&a, tid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
			if (fd < 0) {
				if (errno == ENODEV)
					continue;	/* CPU offline */
				return -1;
			}
			add_fd(tp, fd);
			if (r->base == NULL) {
				if (perf_ring_map(r, fd, tp->tr->opt.ring_pages) != 0)
					return -1;
			} else if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, r->fd) != 0) {
				return -1;
			}
		}
	}
	pidlist_add(&tp->opened, tid);
	return 0;
}

static void drain_all(struct tp *tp);

/* 0 opened, 1 gone meanwhile, -1 failed (errno). */
static int
open_thread(void *arg, int pid, int tid)
{
	struct tp *tp = arg;

	if (open_tid(tp, tid, 0) != 0)
		return errno == ESRCH ? 1 : -1;
	thr_get(tp->tr, pid, tid);
	return 0;
}

/*
 * Threads created by one we had reached inherit its events and come back
 * as fork records, which the drain before each listing marks opened.
 */
static void
before_listing(void *arg)
{
	drain_all(arg);
}

static int
open_pid(struct tp *tp, int pid, uint64_t deadline)
{
	const struct thread_walk w = { &tp->opened, open_thread, before_listing, tp };

	return attach_threads(tp->tr, pid, deadline, &w);
}

static uint64_t
field_u64(const unsigned char *raw, uint32_t rawlen, const struct tracefs_field *f,
    int idx)
{
	uint64_t v = 0;
	size_t off = (size_t)f->offset + (size_t)idx * 8;

	if (off + 8 <= rawlen)
		memcpy(&v, raw + off, 8);
	return v;
}

static void
on_sample(struct tp *tp, const struct perf_event_header *h)
{
	const unsigned char *p = (const void *)(h + 1);
	const unsigned char *end = (const unsigned char *)h + h->size;
	uint64_t first, ts, args[6], ips[MAX_STACK];
	uint32_t pid, tid, rawlen;
	int nips = 0;
	struct thr *t;

	/* PERF_SAMPLE_TID, TIME, [CALLCHAIN], RAW: in the kernel's order. */
	if (p + 16 > end)
		return;
	memcpy(&pid, p, 4);
	memcpy(&tid, p + 4, 4);
	memcpy(&ts, p + 8, 8);
	p += 16;
	if (tp->tr->opt.stacks) {
		uint64_t nr;

		if (p + 8 > end)
			return;
		memcpy(&nr, p, 8);
		if (nr > (uint64_t)(end - p - 8) / 8)
			return;
		/* Raw, markers and all: the symbolizer reads them. */
		nips = nr > MAX_STACK ? MAX_STACK : (int)nr;
		memcpy(ips, p + 8, (size_t)nips * 8);
		p += 8 + nr * 8;
	}
	if (p + 4 > end)
		return;
	memcpy(&rawlen, p, 4);
	p += 4;
	if (rawlen > (uint32_t)(end - p) || rawlen < 16)
		return;
	first = 0;
	memcpy(&first, p, 2);	/* common_type: the tracepoint id */
	t = thr_get(tp->tr, (int)pid, (int)tid);
	if ((long)first == tp->id_enter) {
		for (int i = 0; i < 6; i++)
			args[i] = field_u64(p, rawlen, &tp->f_args, i);
		call_enter(tp->tr, t, (long)field_u64(p, rawlen, &tp->f_enter_id, 0),
		    args, ts, ips, nips);
	} else if ((long)first == tp->id_exit) {
		call_exit(tp->tr, t, (long)field_u64(p, rawlen, &tp->f_exit_id, 0),
		    (long)field_u64(p, rawlen, &tp->f_ret, 0), ts);
	}
}

static int
on_record(const struct perf_event_header *h, void *arg)
{
	struct tp *tp = arg;
	const unsigned char *p = (const void *)(h + 1);
	uint32_t v[4];

	switch (h->type) {
	case PERF_RECORD_SAMPLE:
		on_sample(tp, h);
		break;
	case PERF_RECORD_LOST: {
		uint64_t lost;

		if (h->size >= sizeof(*h) + 16) {
			memcpy(&lost, p + 8, 8);
			tp->tr->stats.lost += lost;
		}
		break;
	}
	case PERF_RECORD_FORK:
		if (h->size >= sizeof(*h) + 16) {
			memcpy(v, p, 16);	/* pid, ppid, tid, ptid */
			if (v[0] == v[2])
				pidlist_add(&tp->live, (int)v[0]);
			thr_get(tp->tr, (int)v[0], (int)v[2]);
			if (tp->setting_up)	/* inherited: not to open again */
				pidlist_add(&tp->opened, (int)v[2]);
			proc_comm(tp->tr, (int)v[0]);
		}
		break;
	case PERF_RECORD_EXIT:
		if (h->size >= sizeof(*h) + 16) {
			memcpy(v, p, 16);
			if (v[0] == v[2] && pidlist_has(&tp->live, (int)v[0])) {
				/* remove from live */
				for (size_t i = 0; i < tp->live.n; i++)
					if (tp->live.v[i] == (int)v[0]) {
						tp->live.v[i] = tp->live.v[--tp->live.n];
						break;
					}
				tp->tr->stats.procs_exited++;
			}
		}
		break;
	case PERF_RECORD_COMM:
		if (h->size >= sizeof(*h) + 8) {
			struct thr *t;

			memcpy(v, p, 8);
			t = thr_find(tp->tr, (int)v[1]);
			if (t != NULL)
				snprintf(t->comm, sizeof(t->comm), "%.15s",
				    (const char *)(p + 8));
			if (v[0] == v[1] || (h->misc & PERF_RECORD_MISC_COMM_EXEC))
				proc_comm_set(tp->tr, (int)v[0], (const char *)(p + 8));
			if (h->misc & PERF_RECORD_MISC_COMM_EXEC)
				stack_exec(tp->tr, (int)v[0]);
		}
		break;
	default:
		break;
	}
	return 0;
}

static void
drain_all(struct tp *tp)
{
	for (int cpu = 0; cpu < tp->ncpu; cpu++)
		if (tp->rings[cpu].base != NULL)
			perf_ring_drain(&tp->rings[cpu], on_record, tp);
}

static int
setup_fields(struct tp *tp, const char *root, char *why, size_t whylen)
{
	tp->id_enter = tracefs_event_id(root, "raw_syscalls", "sys_enter");
	tp->id_exit = tracefs_event_id(root, "raw_syscalls", "sys_exit");
	if (tp->id_enter < 0 || tp->id_exit < 0) {
		snprintf(why, whylen, "raw_syscalls tracepoints not found under "
		    "%s/events: %s", root, strerror(errno));
		return -1;
	}
	if (tracefs_event_field(root, "raw_syscalls", "sys_enter", "id", &tp->f_enter_id) ||
	    tracefs_event_field(root, "raw_syscalls", "sys_enter", "args", &tp->f_args) ||
	    tracefs_event_field(root, "raw_syscalls", "sys_exit", "id", &tp->f_exit_id) ||
	    tracefs_event_field(root, "raw_syscalls", "sys_exit", "ret", &tp->f_ret)) {
		snprintf(why, whylen, "cannot read the raw_syscalls formats "
		    "under %s: %s", root, strerror(errno));
		return -1;
	}
	return 0;
}

static void
tp_close(struct tp *tp)
{
	for (size_t i = 0; i < tp->nfds; i++)
		close(tp->fds[i]);
	for (int cpu = 0; cpu < tp->ncpu; cpu++)
		perf_ring_unmap(&tp->rings[cpu]);
	free(tp->fds);
	free(tp->rings);
	pidlist_release(&tp->live);
	pidlist_release(&tp->opened);
	memset(tp, 0, sizeof(*tp));
}

static int
fail(struct tp *tp, char *why, size_t whylen, const char *what)
{
	const char *r = perf_refusal_reason(errno);

	if (r != NULL)
		snprintf(why, whylen, "%s", r);
	else
		snprintf(why, whylen, "%s: %s", what, strerror(errno));
	tp_close(tp);
	return -1;
}

/* Events on the command and on every thread of the targets. 0, -1 or -2 (none left). */
static int
tp_open(struct tp *tp, struct target_set *ts, uint64_t deadline, char *why,
    size_t whylen)
{
	struct trace *tr = tp->tr;

	if (ts->child > 0) {
		if (open_tid(tp, ts->child, 1) != 0)
			return fail(tp, why, whylen, "perf_event_open");
		thr_get(tr, ts->child, ts->child);
		pidlist_add(&tp->live, ts->child);
	}
	tp->setting_up = 1;
	for (size_t i = 0; i < ts->pids.n && !setup_interrupted(tr, deadline); i++) {
		if (open_pid(tp, ts->pids.v[i], deadline) != 0) {
			if (errno == ENOENT || errno == ESRCH) {
				warn_gone(ts->pids.v[i]);
				continue;
			}
			return fail(tp, why, whylen, "perf_event_open");
		}
		pidlist_add(&tp->live, ts->pids.v[i]);
		proc_comm(tr, ts->pids.v[i]);
	}
	tp->setting_up = 0;
	if (tp->live.n == 0 && !tr->stop_reason) {
		snprintf(why, whylen, "no target process is running");
		tp_close(tp);
		errno = ESRCH;
		return -2;
	}
	return 0;
}

/* Until the deadline, a signal, or the last target's exit. */
static void
tp_capture(struct tp *tp, struct target_set *ts, int sfd, uint64_t deadline)
{
	struct trace *tr = tp->tr;

	while (!tr->stop_reason) {
		struct pollfd pfd[1 + 512];
		int n = 0, timeout = 20;

		pfd[n].fd = sfd;
		pfd[n++].events = POLLIN;
		for (int cpu = 0; cpu < tp->ncpu && n < 513; cpu++)
			if (tp->rings[cpu].base != NULL) {
				pfd[n].fd = tp->rings[cpu].fd;
				pfd[n++].events = POLLIN;
			}
		if ((timeout = deadline_timeout(deadline, timeout)) < 0)
			break;
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		drain_all(tp);
		signals_take(tr, sfd);
		spawn_reap(ts);
		if (tr->stop_reason || tp->live.n == 0)
			break;
		/* Without fork/exit records (lost), fall back on /proc. */
		for (size_t i = 0; i < tp->live.n; i++) {
			if (kill(tp->live.v[i], 0) != 0 && errno == ESRCH) {
				tp->live.v[i] = tp->live.v[--tp->live.n];
				tr->stats.procs_exited++;
				i--;
			}
		}
		if (tp->live.n == 0)
			break;
	}
}

int
tp_run(struct trace *tr, struct target_set *ts, char *why, size_t whylen,
    int *tracefs_mounted)
{
	struct tp tps, *tp = &tps;
	const char *root;
	sigset_t set;
	int sfd, rc;
	uint64_t deadline, t_end;

	memset(tp, 0, sizeof(*tp));
	tp->tr = tr;
	/* The duration counts from here: a slow setup must not stretch it. */
	deadline = run_deadline(tr);
	root = tracefs_root(tracefs_mounted, why, whylen);
	if (root == NULL)
		return -1;
	if (setup_fields(tp, root, why, whylen) != 0)
		return -1;
	tp->ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (tp->ncpu < 1)
		tp->ncpu = 1;
	tp->rings = xcalloc((size_t)tp->ncpu, sizeof(*tp->rings));
	for (int i = 0; i < tp->ncpu; i++)
		tp->rings[i].fd = -1;
	if ((rc = tp_open(tp, ts, deadline, why, whylen)) != 0)
		return rc;
	signals_block(&set);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return fail(tp, why, whylen, "signalfd");
	if (ts->child > 0)
		spawn_go(&ts->child_gate);
	tp_capture(tp, ts, sfd, deadline);
	/* Stop the kernel writing, then take what is left. */
	t_end = now_mono_ns();
	for (size_t i = 0; i < tp->nfds; i++)
		ioctl(tp->fds[i], PERF_EVENT_IOC_DISABLE, 0);
	drain_all(tp);
	close(sfd);
	if (ts->child > 0 && !pidlist_has(&tp->live, ts->child))
		spawn_reap_exited(ts);
	tp_close(tp);
	tr->stats.detach_ns = now_mono_ns() - t_end;
	return 0;
}
