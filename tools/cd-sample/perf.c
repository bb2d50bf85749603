/*
 * The perf_event_open backend: a software cpu-clock event per thread and
 * CPU, inherited by the threads (and processes) each thread creates, all
 * events of a CPU writing into one ring (as perf record does: the kernel
 * refuses to mmap an inherited per-thread event on its own).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "jsc_frames.h"
#include "msg.h"
#include "perf_ring.h"
#include "sample.h"

#define RING_PAGES 64
#define RING_PAGES_STACKS 512	/* 2 MiB a CPU: samples carry 32 KiB of stack */
/* x86-64 perf_regs: the frame pointer, stack pointer and pc */
#define REG_BP 6
#define REG_SP 7
#define REG_IP 8
#define DRAIN_NS 50000000L
#define RESCAN_S 0.25

struct perf_state {
	struct capture *c;
	struct perf_event_attr attr;
	int ncpu;
	struct perf_ring *rings;	/* per CPU; base NULL until the first event */
	int *fds;
	size_t nfds, capfds;
	struct hmap direct;		/* tid -> 1: threads with events of their own */
	struct hmap owner;		/* event id -> tid it was opened on */
	int opened;			/* events opened so far */
};

static void
add_fd(struct perf_state *ps, int fd)
{
	if (ps->nfds == ps->capfds) {
		ps->capfds = ps->capfds ? ps->capfds * 2 : 64;
		ps->fds = xreallocarray(ps->fds, ps->capfds, sizeof(int));
	}
	ps->fds[ps->nfds++] = fd;
}

static int
attach_ring(struct perf_state *ps, int fd, int cpu)
{
	struct perf_ring *r = &ps->rings[cpu];

	if (r->base != NULL)
		return ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, r->fd);
	/* Unprivileged users get perf_event_mlock_kb per CPU: shrink to fit. */
	for (size_t pages = ps->c->jsc_stacks ? RING_PAGES_STACKS : RING_PAGES; pages >= 8;
	    pages /= 2)
		if (perf_ring_map(r, fd, pages) == 0)
			return 0;
	return -1;
}

/*
 * Events on every CPU for one thread. Returns 0 (also when the thread has
 * already gone), or an errno value when the kernel refuses.
 */
static int
open_thread(struct perf_state *ps, pid_t tid)
{
	int n = 0, err = 0;

	for (int cpu = 0; cpu < ps->ncpu; cpu++) {
		int fd = perf_open(&ps->attr, tid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		uint64_t id;

		if (fd < 0) {
			if (errno == ESRCH)
				return 0;
			if (errno == ENODEV || errno == EINVAL)
				continue;	/* offline CPU */
			err = errno;
			continue;
		}
		if (attach_ring(ps, fd, cpu) != 0) {
			err = errno;
			close(fd);
			continue;
		}
		if (ioctl(fd, PERF_EVENT_IOC_ID, &id) == 0)
			*hmap_insert(&ps->owner, &id, sizeof(id), NULL) = (void *)(intptr_t)tid;
		add_fd(ps, fd);
		n++;
	}
	if (n == 0)
		return err ? err : ENODEV;
	*hmap_insert(&ps->direct, &tid, sizeof(tid), NULL) = (void *)1;
	ps->opened += n;
	return 0;
}

/*
 * Events for every thread of pid not yet followed. Threads born later
 * from followed threads inherit; this catches the rest (born in the
 * window before their parent was followed).
 */
static int
scan_threads(struct perf_state *ps, pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : errno;
	while ((d = readdir(dir)) != NULL && !stop_requested) {
		pid_t tid = (pid_t)atoi(d->d_name);
		int e;

		if (tid <= 0 || hmap_find(&ps->direct, &tid, sizeof(tid)))
			continue;
		cap_thread_lookup(ps->c, pid, tid);
		if ((e = open_thread(ps, tid)) != 0 && err == 0)
			err = e;
	}
	closedir(dir);
	return err;
}

/*
 * PERF_SAMPLE_REGS_USER and STACK_USER after the callchain at q: abi,
 * bp, sp, ip, then the copy's size, bytes and the part filled. Returns
 * s, or NULL when the sample has none (a kernel thread, no user regs).
 */
static const struct js_sample *
user_stack(const uint64_t *q, const uint64_t *end, struct js_sample *s)
{
	uint64_t size, dyn;

	if (q + 5 > end || q[0] != PERF_SAMPLE_REGS_ABI_64)
		return NULL;
	s->bp = q[1];
	s->sp = q[2];
	s->ip = q[3];
	size = q[4];
	if (size == 0 || size % 8 != 0 || size / 8 > (uint64_t)(end - (q + 5)) || q + 5 + size / 8 >= end)
		return NULL;
	dyn = q[5 + size / 8];
	s->stack = (const unsigned char *)(q + 5);
	s->stack_len = dyn < size ? dyn : size;
	return s;
}

/* Records are u64-aligned; the sample_id trailer is not needed here. */
static void
on_sample(struct perf_state *ps, const struct perf_event_header *h)
{
	const uint64_t *p = (const uint64_t *)(h + 1);
	const uint64_t *end = (const uint64_t *)((const char *)h + h->size);
	const struct js_sample *js = NULL;
	struct js_sample jss;
	uint64_t id, nr;
	uint32_t pid, tid;
	void **own;

	if (p + 5 > end)
		return;
	id = p[0];
	/* p[1] is the ip, also the callchain's first user or kernel entry */
	pid = (uint32_t)p[2];
	tid = (uint32_t)(p[2] >> 32);
	nr = p[4];
	if (p + 5 + nr > end)
		return;
	/* A thread followed directly and by inheritance counts once. */
	if (hmap_find(&ps->direct, &tid, sizeof(tid)) &&
	    (own = hmap_find(&ps->owner, &id, sizeof(id))) != NULL &&
	    (pid_t)(intptr_t)*own != (pid_t)tid) {
		ps->c->dup_dropped++;
		return;
	}
	cap_proc(ps->c, (pid_t)pid, 1);
	if (ps->c->jsc_stacks)
		js = user_stack(p + 5 + nr, end, &jss);
	/* p[3]: the time, on CLOCK_MONOTONIC like the jitdump's (setup_attr) */
	cap_add_raw(ps->c, (pid_t)pid, (pid_t)tid, 1, p + 5, (size_t)nr, p[3], js);
}

static int
on_record(const struct perf_event_header *h, void *arg)
{
	struct perf_state *ps = arg;
	const uint32_t *u = (const uint32_t *)(h + 1);

	switch (h->type) {
	case PERF_RECORD_SAMPLE:
		on_sample(ps, h);
		break;
	case PERF_RECORD_LOST:
		if (h->size >= sizeof(*h) + 16)
			ps->c->lost += ((const uint64_t *)(h + 1))[1];
		break;
	case PERF_RECORD_COMM:
		/* pid, tid, then the name, NUL-terminated and padded */
		if (h->size > sizeof(*h) + 8) {
			char name[17];
			size_t max = h->size - sizeof(*h) - 8;

			snprintf(name, sizeof(name), "%.*s", (int)(max < 16 ? max : 16),
			    (const char *)(u + 2));
			cap_thread_name(ps->c, (pid_t)u[0], (pid_t)u[1], name);
			if (u[0] == u[1]) {
				struct proc *pr = cap_proc(ps->c, (pid_t)u[0], 1);

				pr->comm = intern(name);
			}
		}
		break;
	case PERF_RECORD_FORK:
		/* pid, ppid, tid, ptid: a new process when pid != ppid */
		if (h->size >= sizeof(*h) + 16 && u[0] != u[1] && u[0] == u[2])
			cap_proc(ps->c, (pid_t)u[0], 1);
		break;
	case PERF_RECORD_EXIT:
		if (h->size >= sizeof(*h) + 16 && u[0] == u[2]) {
			struct proc *pr = cap_proc(ps->c, (pid_t)u[0], 0);

			if (pr != NULL && !pr->target)
				pr->exited = 1;
		}
		break;
	default:
		break;
	}
	return 0;
}

static void
drain_all(struct perf_state *ps)
{
	for (int cpu = 0; cpu < ps->ncpu; cpu++)
		if (ps->rings[cpu].base != NULL)
			perf_ring_drain(&ps->rings[cpu], on_record, ps);
}

static void
setup_attr(struct perf_state *ps, int exclude_kernel)
{
	struct perf_event_attr *a = &ps->attr;
	const struct sample_opts *o = ps->c->o;

	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = PERF_TYPE_SOFTWARE;
	a->config = PERF_COUNT_SW_CPU_CLOCK;
	a->sample_period = (uint64_t)(1e9 / (double)o->freq);	/* ns of CPU */
	a->sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID |
	    PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN;
	if (ps->c->jsc_stacks) {
		/* JSC's call frame headers: read from the stack as sampled */
		a->sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
		a->sample_regs_user = 1u << REG_BP | 1u << REG_SP | 1u << REG_IP;
		a->sample_stack_user = JSC_STACK_BYTES;
	}
	a->inherit = 1;
	a->comm = 1;
	a->comm_exec = 1;
	a->task = 1;
	a->sample_id_all = 1;
	/* JIT memory is reused: a sample is named by the load before its time */
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	a->exclude_hv = 1;
	a->exclude_kernel = exclude_kernel;
	a->exclude_callchain_kernel = exclude_kernel;
	/* A command held before its exec starts counting at the exec. */
	a->disabled = ps->c->cmd_pid > 0;
	a->enable_on_exec = ps->c->cmd_pid > 0;
}

/* The targets' pids, for the loops below. */
static size_t
targets(struct capture *c, pid_t *out, size_t max)
{
	struct proc *p;
	size_t n = 0;

	for (size_t i = 0; n < max && (p = cap_next_proc(c, &i)) != NULL;) {
		if (p->target && !p->exited)
			out[n++] = p->pid;
	}
	return n;
}

static void
teardown(struct perf_state *ps)
{
	for (size_t i = 0; i < ps->nfds; i++)
		ioctl(ps->fds[i], PERF_EVENT_IOC_DISABLE, 0);
	drain_all(ps);
	for (int cpu = 0; cpu < ps->ncpu; cpu++)
		perf_ring_unmap(&ps->rings[cpu]);
	for (size_t i = 0; i < ps->nfds; i++)
		close(ps->fds[i]);
	free(ps->fds);
	free(ps->rings);
	hmap_release(&ps->direct, NULL);
	hmap_release(&ps->owner, NULL);
}

/* Open the first events, learning whether kernel frames are allowed. */
static int
first_open(struct perf_state *ps, pid_t *pids, size_t n)
{
	struct capture *c = ps->c;
	int want_kernel = c->o->kernel != 0, err = 0;

	setup_attr(ps, !want_kernel);
	for (size_t i = 0; i < n; i++) {
		/* The command has one thread yet; what it starts inherits. */
		err = c->cmd_pid > 0 ? open_thread(ps, pids[i]) : scan_threads(ps, pids[i]);
		if (err == 0)
			continue;
		if ((err == EACCES || err == EPERM) && want_kernel && c->o->kernel < 0 &&
		    ps->opened == 0) {
			/* perf_event_paranoid allows user-space only: try that. */
			setup_attr(ps, 1);
			want_kernel = 0;
			c->kernel_reason = xasprintf("kernel frames not permitted "
			    "(kernel.perf_event_paranoid=%d, no CAP_PERFMON)", perf_paranoid());
			i--;
			continue;
		}
		if (ps->opened == 0)
			return err;
	}
	c->kernel_frames = want_kernel;
	if (!want_kernel && c->kernel_reason == NULL)
		c->kernel_reason = "not requested (--no-kernel)";
	/* Ctrl-C before the first thread was opened: an empty capture, not a refusal */
	if (ps->opened == 0 && stop_requested)
		return 0;
	return ps->opened ? 0 : (err ? err : ESRCH);
}

int
perf_capture(struct capture *c, double deadline, const char **why, int *errp)
{
	struct perf_state ps;
	pid_t pids[1024];
	size_t n;
	double next_scan;
	struct timespec tick = { 0, DRAIN_NS };
	int err;

	memset(&ps, 0, sizeof(ps));
	ps.c = c;
	ps.ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (ps.ncpu < 1)
		ps.ncpu = 1;
	ps.rings = xcalloc((size_t)ps.ncpu, sizeof(*ps.rings));
	c->method = "perf";
	n = targets(c, pids, 1024);
	for (size_t i = 0; i < n; i++)
		if (jsc_attach(c, cap_proc(c, pids[i], 0)))
			c->jsc_stacks = 1;
	if ((err = first_open(&ps, pids, n)) != 0) {
		*errp = err;
		*why = perf_refusal_reason(err);
		if (*why == NULL)
			*why = xasprintf("perf_event_open failed: %s", strerror(err));
		teardown(&ps);
		return -1;
	}
	cap_release_cmd(c);
	c->effective_hz = (double)c->o->freq;
	c->t_start = now_s();
	next_scan = c->t_start + RESCAN_S;
	while (!stop_requested && now_s() < deadline) {
		nanosleep(&tick, NULL);
		drain_all(&ps);
		if (now_s() >= next_scan) {
			next_scan = now_s() + RESCAN_S;
			if (cap_targets_alive(c) == 0)
				break;
			if (c->cmd_pid <= 0) {
				n = targets(c, pids, 1024);
				for (size_t i = 0; i < n; i++)
					scan_threads(&ps, pids[i]);
			}
			cap_refresh_procs(c, 0);
		}
		cap_progress(c, deadline, 0);
	}
	c->t_end = now_s();
	teardown(&ps);
	return 0;
}
