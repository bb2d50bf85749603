/*
 * Method 2: ptrace. Every thread is seized (never stopped by attaching),
 * new threads and children are followed by the kernel's auto-attach, and
 * every exit path detaches every tracee, passing on any signal that was
 * about to be delivered, so the target carries on as if never traced.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "trace.h"
#include "units.h"

#define PT_OPTS (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | \
	PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC)

/* One ptrace run. */
struct pt {
	struct trace *tr;
	struct target_set *ts;
	struct pidlist tracees;		/* tids we are attached to */
};

static void
tracee_del(struct pt *pt, int tid)
{
	for (size_t i = 0; i < pt->tracees.n; i++)
		if (pt->tracees.v[i] == tid) {
			pt->tracees.v[i] = pt->tracees.v[--pt->tracees.n];
			return;
		}
}

static int
tgid_of(int tid)
{
	char path[64], line[128];
	FILE *f;
	int tgid = tid;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (f == NULL)
		return tid;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

static struct thr *
tracee_add(struct pt *pt, int pid, int tid)
{
	struct thr *t = thr_get(pt->tr, pid, tid);

	t->pt_attached = 1;
	pidlist_add(&pt->tracees, tid);
	return t;
}

/* Whose tracer tid has: we may have auto-attached it already. */
static int
tracer_of(int tid)
{
	char path[64], line[128];
	FILE *f;
	int tracer = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

/* A thread that exited is refused with EPERM; by the look, it may be reaped. */
static int
thread_gone(int tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	return access(path, F_OK) != 0 || proc_is_zombie(tid);
}

/* 0 seized, 1 gone or auto-attached already, -1 failed (errno). */
static int
seize_thread(void *arg, int pid, int tid)
{
	struct pt *pt = arg;

	if (ptrace(PTRACE_SEIZE, tid, 0, PT_OPTS) != 0) {
		int e = errno;

		if (e == ESRCH || thread_gone(tid) ||
		    (e == EPERM && tracer_of(tid) == getpid()))
			return 1;
		errno = e;
		return -1;
	}
	tracee_add(pt, pid, tid);
	ptrace(PTRACE_INTERRUPT, tid, 0, 0);
	return 0;
}

/* Threads made by a seized thread are auto-attached by the kernel. */
static int
seize_pid(struct pt *pt, int pid, uint64_t deadline)
{
	const struct thread_walk w = { &pt->tracees, seize_thread, NULL, pt };

	return attach_threads(pt->tr, pid, deadline, &w);
}

static void
resume(struct thr *t, int sig)
{
	t->pt_stopped = 0;
	/* ESRCH: it died meanwhile, and its exit status is on its way. */
	(void)ptrace(PTRACE_SYSCALL, t->tid, 0, sig);
}

static void
on_syscall_stop(struct pt *pt, struct thr *t)
{
	struct __ptrace_syscall_info si;

	memset(&si, 0, sizeof(si));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(si), &si) <= 0)
		return;
	if (t->pt_preexec)
		return;
	if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
		call_enter(pt->tr, t, (long)si.entry.nr, si.entry.args, now_mono_ns(), NULL, 0);
	} else if (si.op == PTRACE_SYSCALL_INFO_EXIT) {
		if (t->in_call)	/* else we attached in the middle of it */
			call_exit(pt->tr, t, t->cur.nr, (long)si.exit.rval, now_mono_ns());
	}
}

static void
on_exit_status(struct pt *pt, int tid, int st)
{
	struct thr *t = thr_find(pt->tr, tid);

	if (t != NULL) {
		if (t->in_call)
			pt->tr->stats.unfinished++;	/* exit_group never returns */
		t->in_call = 0;
		if (t->tid == t->pid)
			pt->tr->stats.procs_exited++;
	}
	tracee_del(pt, tid);
	if (pt->ts->child == tid && !pt->ts->child_reaped) {
		pt->ts->child_status = st;
		pt->ts->child_reaped = 1;
	}
}

static void
on_stop(struct pt *pt, int tid, int st)
{
	struct thr *t = thr_find(pt->tr, tid);
	int sig = WSTOPSIG(st), event = st >> 16;
	unsigned long msg = 0;

	if (t == NULL || !t->pt_attached)	/* auto-attached before its parent's event */
		t = tracee_add(pt, tgid_of(tid), tid);
	t->pt_stopped = 1;
	if (sig == (SIGTRAP | 0x80)) {
		on_syscall_stop(pt, t);
		resume(t, 0);
		return;
	}
	switch (event) {
	case 0:
		resume(t, sig);		/* signal-delivery-stop: deliver it */
		return;
	case PTRACE_EVENT_STOP:
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
		    sig == SIGTTOU) {
			/* A real group stop: stay stopped as asked. */
			t->pt_stopped = 0;
			ptrace(PTRACE_LISTEN, tid, 0, 0);
			return;
		}
		resume(t, 0);
		return;
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0 && msg > 0) {
			int ntid = (int)msg;

			tracee_add(pt, event == PTRACE_EVENT_CLONE ? tgid_of(ntid) :
			    ntid, ntid)->pt_preexec = 0;
		}
		resume(t, 0);
		return;
	case PTRACE_EVENT_EXEC:
		if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0 &&
		    (int)msg != tid) {
			/* A non-leader thread exec'd and took the leader's tid. */
			struct thr *old = thr_find(pt->tr, (int)msg);

			if (old != NULL && old != t) {
				tracee_del(pt, (int)msg);
				thr_forget(pt->tr, (int)msg);
			}
		}
		t->pt_preexec = 0;
		thr_refresh_comm(t);
		proc_comm_set(pt->tr, t->pid, t->comm);
		resume(t, 0);
		return;
	default:
		resume(t, 0);
		return;
	}
}

static void
dispatch(struct pt *pt, int tid, int st)
{
	if (WIFEXITED(st) || WIFSIGNALED(st))
		on_exit_status(pt, tid, st);
	else if (WIFSTOPPED(st))
		on_stop(pt, tid, st);
}

/*
 * Take what is waiting, but not for ever: busy threads stop faster than
 * one tracer can take them, and the caller must still see the deadline
 * and the signals. 1 when there may be more.
 */
static int
reap_some(struct pt *pt)
{
	uint64_t until = now_mono_ns() + 20000000;
	int st, tid;

	for (int n = 0; (tid = waitpid(-1, &st, __WALL | WNOHANG)) > 0; n++) {
		dispatch(pt, tid, st);
		if ((n & 63) == 63 && now_mono_ns() >= until)
			return 1;
	}
	return 0;
}

/*
 * Detach every tracee: interrupt it, wait for the stop that answers,
 * detach passing on any signal it was about to get. A tracee that
 * appears meanwhile (a clone in flight) is detached the same way.
 * A runnable thread can wait seconds for a CPU among many busy ones; the
 * kernel detaches those as we exit (a signal it was stopped for is kept),
 * so wait half a second, not for ever.
 */
static void
detach_all(struct pt *pt)
{
	uint64_t t0 = now_mono_ns(), give_up = t0 + 500000000ull;

	for (size_t i = 0; i < pt->tracees.n; i++)
		ptrace(PTRACE_INTERRUPT, pt->tracees.v[i], 0, 0);
	while (pt->tracees.n > 0 && now_mono_ns() < give_up) {
		int st, tid = waitpid(-1, &st, __WALL | WNOHANG);
		int sig = 0;

		if (tid < 0 && errno == ECHILD)
			break;
		if (tid <= 0) {
			struct timespec ts = { 0, 2000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			on_exit_status(pt, tid, st);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		if ((st >> 16) == 0 && WSTOPSIG(st) != (SIGTRAP | 0x80))
			sig = WSTOPSIG(st);	/* a signal on its way: keep it */
		/* A clone in flight shows up here too; it is detached alike. */
		ptrace(PTRACE_DETACH, tid, 0, sig);
		tracee_del(pt, tid);
	}
	if (pt->tracees.n > 0)
		msg_warn("%zu threads did not stop to be detached in 0.5 s; "
		    "the kernel detaches them as cd-trace exits", pt->tracees.n);
	pt->tr->stats.detach_ns = now_mono_ns() - t0;
}

int
pt_run(struct trace *tr, struct target_set *ts, char *why, size_t whylen)
{
	struct pt pts, *pt = &pts;
	sigset_t set;
	int sfd;
	uint64_t deadline = 0;

	memset(pt, 0, sizeof(*pt));
	pt->tr = tr;
	pt->ts = ts;
	/* The duration counts from here: a slow setup must not stretch it. */
	deadline = run_deadline(tr);
	if (ts->child > 0) {
		struct thr *t;

		if (ptrace(PTRACE_SEIZE, ts->child, 0, PT_OPTS) != 0) {
			snprintf(why, whylen, "ptrace(PTRACE_SEIZE, %d): %s",
			    ts->child, strerror(errno));
			return -1;
		}
		t = tracee_add(pt, ts->child, ts->child);
		t->pt_preexec = 1;	/* its own calls until execve are ours */
		ptrace(PTRACE_INTERRUPT, ts->child, 0, 0);
	}
	for (size_t i = 0; i < ts->pids.n && !setup_interrupted(tr, deadline); i++) {
		if (seize_pid(pt, ts->pids.v[i], deadline) == 0) {
			proc_comm(tr, ts->pids.v[i]);
			continue;
		}
		if (errno == ENOENT || errno == ESRCH || proc_is_zombie(ts->pids.v[i])) {
			warn_gone(ts->pids.v[i]);
			continue;
		}
		snprintf(why, whylen, "ptrace(PTRACE_SEIZE, %d): %s%s",
		    ts->pids.v[i], strerror(errno), errno == EPERM ?
		    " (not our process, no CAP_SYS_PTRACE, or "
		    "kernel.yama.ptrace_scope)" : "");
		detach_all(pt);
		pidlist_release(&pt->tracees);
		return -1;
	}
	if (pt->tracees.n == 0 && !tr->stop_reason) {
		snprintf(why, whylen, "no target process is running");
		pidlist_release(&pt->tracees);
		return -2;
	}
	signals_block(&set);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		snprintf(why, whylen, "signalfd: %s", strerror(errno));
		detach_all(pt);
		pidlist_release(&pt->tracees);
		return -1;
	}
	if (ts->child > 0)
		spawn_go(&ts->child_gate);

	while (pt->tracees.n > 0 && !tr->stop_reason) {
		struct pollfd pfd = { sfd, POLLIN, 0 };
		int timeout = 100;

		if (reap_some(pt))
			timeout = 0;	/* more waiting: only look at the signals */
		if (pt->tracees.n == 0)
			break;
		if ((timeout = deadline_timeout(deadline, timeout)) < 0)
			break;
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			break;
		signals_take(tr, sfd);
	}
	detach_all(pt);
	close(sfd);
	pidlist_release(&pt->tracees);
	return 0;
}
