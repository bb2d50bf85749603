/*
 * The ptrace backend, for when perf_event_open is refused and for --wall:
 * snapshots of every thread's stack, unwound by libdwfl from the stopped
 * thread's registers and memory, as eu-stack does. libdwfl attaches each
 * thread for the time of its unwind and detaches it afterwards, so a
 * thread is stopped only for that long, and nothing stays attached
 * between snapshots or after an interrupted run.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>

#include "msg.h"
#include "sample.h"
#include "units.h"

#define PTRACE_MAX_HZ 20.0	/* a snapshot stops every thread: keep it rare */

struct pt_target {
	pid_t pid;
	Dwfl *dwfl;
	int attach_errno;
	unsigned long ok, failed;
};

struct unwind {
	uint64_t ips[MAX_FRAMES];
	size_t n;
};

static char *debuginfo_path;
static const Dwfl_Callbacks pt_cbs = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static int
frame_cb(Dwfl_Frame *f, void *arg)
{
	struct unwind *u = arg;
	Dwarf_Addr pc;
	bool act;

	if (!dwfl_frame_pc(f, &pc, &act))
		return DWARF_CB_ABORT;
	/* A return address points after the call: look up the call itself. */
	u->ips[u->n++] = act ? pc : pc - 1;
	return u->n < MAX_FRAMES ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static int
pt_open(struct pt_target *t)
{
	int rc;

	t->dwfl = dwfl_begin(&pt_cbs);
	if (t->dwfl == NULL)
		return ENOMEM;
	dwfl_report_begin(t->dwfl);
	rc = dwfl_linux_proc_report(t->dwfl, t->pid);
	dwfl_report_end(t->dwfl, NULL, NULL);
	if (rc == 0)
		rc = dwfl_linux_proc_attach(t->dwfl, t->pid, false);
	if (rc != 0) {
		dwfl_end(t->dwfl);
		t->dwfl = NULL;
		return rc > 0 ? rc : EIO;
	}
	return 0;
}

/*
 * The thread's state letter (R: on a CPU or waiting for one; anything
 * else is blocked or stopped) and its name, both from one read of stat.
 */
static int
thread_state(pid_t pid, pid_t tid, char *name, size_t namelen)
{
	char path[96], buf[512], *s, *o;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	s = strrchr(buf, ')');
	o = strchr(buf, '(');
	if (s == NULL || o == NULL || o > s || s[1] != ' ')
		return 0;
	snprintf(name, namelen, "%.*s", (int)(s - o - 1), o + 1);
	return s[2];
}

static void
snapshot(struct capture *c, struct pt_target *t)
{
	char path[64];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)t->pid);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((d = readdir(dir)) != NULL && !stop_requested) {
		pid_t tid = (pid_t)atoi(d->d_name);
		struct unwind u;
		char name[64];
		int st;

		if (tid <= 0)
			continue;
		st = thread_state(t->pid, tid, name, sizeof(name));
		if (st == 0 || st == 'Z' || st == 'X' || (!c->o->wall && st != 'R'))
			continue;
		cap_thread_name(c, t->pid, tid, name);	/* names change (exec, prctl) */
		u.n = 0;
		/* An unwind that stops early (no CFI further up) still counts. */
		if (dwfl_getthread_frames(t->dwfl, tid, frame_cb, &u) != 0 && u.n == 0) {
			t->failed++;
			if (t->attach_errno == 0)
				t->attach_errno = errno ? errno : EIO;
			continue;
		}
		t->ok++;
		cap_add_raw(c, t->pid, tid, 0, u.ips, u.n, now_mono_ns(), NULL);
	}
	closedir(dir);
}

int
ptrace_capture(struct capture *c, double deadline)
{
	struct proc *p;
	struct pt_target *t = NULL;
	size_t n = 0, ok = 0;
	double hz = (double)c->o->freq, next, t_refresh;
	int err = 0;

	c->method = "ptrace";
	c->kernel_frames = 0;
	c->kernel_reason = "ptrace snapshots unwind user space only";
	cap_release_cmd(c);
	cap_wait_exec(c);
	for (size_t i = 0; (p = cap_next_proc(c, &i)) != NULL;) {
		if (!p->target || p->exited)
			continue;
		t = xreallocarray(t, n + 1, sizeof(*t));
		memset(&t[n], 0, sizeof(t[n]));
		t[n].pid = p->pid;
		if ((t[n].attach_errno = pt_open(&t[n])) != 0) {
			err = t[n].attach_errno;
			msg_warn("pid %d: cannot attach: %s", (int)p->pid, strerror(err));
		} else {
			ok++;
		}
		n++;
	}
	/* Ctrl-C in a slow attach interrupts libdw's waitpid: no refusal. */
	if (err == EINTR && stop_requested)
		err = 0;
	if (ok == 0) {
		free(t);
		if (err == 0 && stop_requested) {
			c->t_start = c->t_end = now_s();
			return 0;	/* an empty capture, ended by the signal */
		}
		return err ? err : ESRCH;
	}
	if (hz > PTRACE_MAX_HZ)
		hz = PTRACE_MAX_HZ;
	c->t_start = now_s();
	next = t_refresh = c->t_start;
	while (!stop_requested && now_s() < deadline) {
		double wait = next - now_s();

		if (wait > 0) {
			struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };

			nanosleep(&ts, NULL);
			continue;
		}
		next += 1.0 / hz;
		if (next < now_s())
			next = now_s();	/* fell behind: do not burst */
		for (size_t i = 0; i < n; i++)
			if (t[i].dwfl != NULL)
				snapshot(c, &t[i]);
		c->snapshots++;
		if (now_s() >= t_refresh) {
			t_refresh = now_s() + 0.25;
			if (cap_targets_alive(c) == 0)
				break;
			cap_refresh_procs(c, 0);
		}
		cap_progress(c, deadline, 0);
	}
	c->t_end = now_s();
	if (c->t_end > c->t_start)
		c->effective_hz = (double)c->snapshots / (c->t_end - c->t_start);
	err = 0;
	for (size_t i = 0; i < n; i++) {
		if (t[i].ok == 0 && t[i].failed > 0 && err == 0)
			err = t[i].attach_errno;
		if (t[i].dwfl != NULL)
			dwfl_end(t[i].dwfl);	/* detaches anything still attached */
	}
	free(t);
	if (err == EINTR && stop_requested)
		err = 0;
	/* Every unwind refused (Yama, another tracer): say so, not "0 samples". */
	return c->samples == 0 && err ? err : 0;
}
