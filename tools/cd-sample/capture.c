/* What a capture keeps: processes, thread names, raw stacks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jsc_frames.h"
#include "msg.h"
#include "sample.h"
#include "units.h"

volatile sig_atomic_t stop_requested;

double
now_s(void)
{
	return (double)now_mono_ns() / 1e9;
}

void
cap_init(struct capture *c, const struct sample_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->cmd_pid = -1;
	c->cmd_status = -1;
	c->cmd_go_fd = -1;
}

/* The command waits on a pipe until its events are open. */
void
cap_release_cmd(struct capture *c)
{
	if (c->cmd_go_fd < 0)
		return;
	if (write(c->cmd_go_fd, "g", 1) != 1)
		msg_warnerr("cannot start the command");
	close(c->cmd_go_fd);
	c->cmd_go_fd = -1;
}

/* A short /proc text file, without its trailing newline. */
static int
read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

struct proc *
cap_proc(struct capture *c, pid_t pid, int create)
{
	void **slot = create ? hmap_insert(&c->procs, &pid, sizeof(pid), NULL) :
	    hmap_find(&c->procs, &pid, sizeof(pid));
	struct proc *p;
	char path[64], buf[64];

	if (slot == NULL)
		return NULL;
	if (*slot != NULL)
		return *slot;
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	p->comm = intern(read_small(path, buf, sizeof(buf)) == 0 ? buf : "?");
	p->sym = sym_open(pid);
	if (p->sym == NULL)
		p->sym_errno = errno;
	*slot = p;
	return p;
}

struct proc *
cap_next_proc(const struct capture *c, size_t *pos)
{
	const struct hmap_ent *e = hmap_next(&c->procs, pos);

	return e == NULL ? NULL : e->val;
}

void
cap_thread_name(struct capture *c, pid_t pid, pid_t tid, const char *name)
{
	void **slot = hmap_insert(&c->tnames, &tid, sizeof(tid), NULL);

	*slot = (void *)intern(name);
	(void)pid;
}

const char *
cap_thread_lookup(struct capture *c, pid_t pid, pid_t tid)
{
	void **slot = hmap_find(&c->tnames, &tid, sizeof(tid));
	char path[96], buf[64];

	if (slot != NULL)
		return *slot;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	if (read_small(path, buf, sizeof(buf)) != 0)
		snprintf(buf, sizeof(buf), "?");
	cap_thread_name(c, pid, tid, buf);
	return cap_thread_lookup(c, pid, tid);
}

/*
 * Stacks are kept by address until the end, but a JIT address is bound
 * now to the jitdump load that held it (sym_stamp): by the end the JIT
 * may have put another function there.
 */
void
cap_add_raw(struct capture *c, pid_t pid, pid_t tid, int perfchain,
    const uint64_t *ips, size_t n, uint64_t ns, const struct js_sample *js)
{
	struct rawkey k;
	_Alignas(uint64_t) char key[sizeof(k) + MAX_FRAMES * 2 * sizeof(uint64_t)];
	uint64_t *kips = (uint64_t *)(void *)(key + sizeof(k));
	struct proc *p = cap_proc(c, pid, 0);
	void **slot;

	if (n > MAX_FRAMES * 2)
		n = MAX_FRAMES * 2;
	memset(&k, 0, sizeof(k));
	k.pid = pid;
	k.tid = tid;
	k.thread = cap_thread_lookup(c, pid, tid);
	k.perfchain = perfchain;
	k.n = (int32_t)n;
	memcpy(key, &k, sizeof(k));
	memcpy(kips, ips, n * sizeof(uint64_t));
	if (p != NULL && p->sym != NULL)
		sym_stamp(p->sym, kips, n, perfchain, ns);
	if (js != NULL && p != NULL && p->jsc != NULL && perfchain && p->jsc->v8 != NULL) {
		/* a caller the chain skipped may be put in: the key grows */
		n = v8_sample(c, p, js, ips, kips, n, MAX_FRAMES * 2);
		k.n = (int32_t)n;
		memcpy(key, &k, sizeof(k));
	} else if (js != NULL && p != NULL && p->jsc != NULL && perfchain) {
		jsc_sample(c, p, js, ips, kips, n, ns);
	}
	slot = hmap_insert(&c->raw, key, sizeof(k) + n * sizeof(uint64_t), NULL);
	*slot = (void *)((uintptr_t)*slot + 1);
	hmap_insert(&c->threads_seen, &tid, sizeof(tid), NULL);
	c->samples++;
}

/* New modules (dlopen) and JIT code since the last look. */
void
cap_refresh_procs(struct capture *c, int final)
{
	struct proc *p;
	for (size_t i = 0; (p = cap_next_proc(c, &i)) != NULL;) {
		char path[64], buf[64];

		if (p->exited)
			continue;
		/* exec renames the process */
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)p->pid);
		if (read_small(path, buf, sizeof(buf)) == 0)
			p->comm = intern(buf);
		if (p->sym == NULL) {
			if ((p->sym = sym_open(p->pid)) == NULL)
				p->sym_errno = errno;
			continue;
		}
		if ((final ? sym_refresh(p->sym) : sym_refresh_budget(p->sym)) != 0 &&
		    (errno == ESRCH || errno == ENOENT))
			p->exited = 1;
	}
}

static int
proc_alive(pid_t pid)
{
	char path[64], buf[512], *s;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) != 0)
		return 0;
	s = strrchr(buf, ')');
	return s == NULL || (s[1] == ' ' && s[2] != 'Z' && s[2] != 'X');
}

/* How many named targets still run; reaps the command when it ends. */
int
cap_targets_alive(struct capture *c)
{
	struct proc *p;
	int alive = 0;

	if (c->cmd_pid > 0 && c->cmd_status < 0) {
		int st;

		if (waitpid(c->cmd_pid, &st, WNOHANG) == c->cmd_pid)
			c->cmd_status = st;
	}
	for (size_t i = 0; (p = cap_next_proc(c, &i)) != NULL;) {
		if (!p->target || p->exited)
			continue;
		if ((p->pid == c->cmd_pid && c->cmd_status >= 0) || !proc_alive(p->pid))
			p->exited = 1;
		else
			alive++;
	}
	return alive;
}

static void
proc_free(void *v)
{
	struct proc *p = v;

	sym_close(p->sym);
	jsc_free(p->jsc);
	free(p);
}

void
cap_release(struct capture *c)
{
	hmap_release(&c->procs, proc_free);
	hmap_release(&c->tnames, NULL);
	hmap_release(&c->raw, NULL);
	hmap_release(&c->threads_seen, NULL);
}

/*
 * One line on stderr, rewritten in place on a terminal; whole lines once
 * a second otherwise (--progress into a log).
 */
void
cap_progress(struct capture *c, double deadline, int final)
{
	static double last;
	double t = now_s(), left = deadline - t;
	int tty = isatty(2);

	if (!c->o->progress)
		return;
	if (!final && t - last < (tty ? 0.2 : 1.0))
		return;
	last = t;
	if (left < 0)
		left = 0;
	if (final) {
		if (tty)
			fprintf(stderr, "\r\033[K");
		else
			fprintf(stderr, "%s: done: %lu samples in %.1fs\n", msg_prog(),
			    c->samples, t - c->t_start);
		return;
	}
	if (isinf(deadline))	/* a command: until it exits */
		fprintf(stderr, "%s%s: sampling (%s): %lu samples, %lu threads, %.0fs so far%s",
		    tty ? "\r\033[K" : "", msg_prog(), c->method, c->samples,
		    (unsigned long)c->threads_seen.n, t - c->t_start, tty ? "" : "\n");
	else
		fprintf(stderr, "%s%s: sampling (%s): %lu samples, %lu threads, %.0fs left%s",
		    tty ? "\r\033[K" : "", msg_prog(), c->method, c->samples,
		    (unsigned long)c->threads_seen.n, left + 0.49, tty ? "" : "\n");
}

/* Name every raw stack of the capture and aggregate by names. */
void
samples_from_capture(struct samples *s, struct capture *c)
{
	const char *frames[MAX_FRAMES];
	enum sym_kind kinds[MAX_FRAMES];

	const struct hmap_ent *e;

	for (size_t i = 0; (e = hmap_next(&c->raw, &i)) != NULL;) {
		const char *key = hmap_ent_key(e, NULL);
		struct rawkey k;
		const uint64_t *ips;
		struct proc *p;
		size_t n = 0;

		memcpy(&k, key, sizeof(k));
		ips = (const uint64_t *)(key + sizeof(k));
		p = cap_proc(c, k.pid, 0);
		if (p != NULL && p->sym != NULL && k.perfchain) {
			n = sym_callchain_kinds(p->sym, ips, (size_t)k.n, frames, kinds, MAX_FRAMES);
		} else if (p != NULL && p->sym != NULL) {
			/* ptrace: leaf first, return addresses already adjusted */
			n = (size_t)k.n < MAX_FRAMES ? (size_t)k.n : MAX_FRAMES;
			for (size_t j = 0; j < n; j++)
				frames[n - 1 - j] = sym_frame(p->sym, ips[j], 0, &kinds[n - 1 - j]);
		} else {
			frames[0] = "[unknown]";
			kinds[0] = SYM_UNKNOWN;
			n = 1;
		}
		for (size_t j = 0; j < n; j++)
			c->frames_by_kind[kinds[j]] += (unsigned long)(uintptr_t)e->val;
		for (size_t j = 0; j < n; j++)
			frames[j] = intern(frames[j]);
		samples_add(s, k.pid, k.tid, p ? p->comm : intern("?"), k.thread,
		    frames, n, (unsigned long)(uintptr_t)e->val);
	}
}

/* After exec the process is a different image: wait for it. */
void
cap_wait_exec(struct capture *c)
{
	char self[PATH_MAX], path[64], exe[PATH_MAX];
	ssize_t ls, le;

	if (c->cmd_pid <= 0)
		return;
	ls = readlink("/proc/self/exe", self, sizeof(self) - 1);
	snprintf(path, sizeof(path), "/proc/%d/exe", c->cmd_pid);
	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 5000000L };

		le = readlink(path, exe, sizeof(exe) - 1);
		if (le < 0 || ls < 0 || le != ls || memcmp(self, exe, (size_t)le) != 0)
			break;
		nanosleep(&ts, NULL);
	}
	cap_refresh_procs(c, 1);
}
