/*
 * --capture DIR: the flight recorder. When a Claude Code process crosses
 * a threshold during -w, the deep capture (claude-diagnose -d -s -D
 * --flamegraph) runs on it at once, in the background, into a fresh
 * folder under DIR, while the table goes on refreshing.
 *
 * What keeps it from harming the machine it watches: one capture of a
 * process at a time, at most CAP_MAX_RUNNING at all, none of a process
 * within --capture-every of its last, only the last --capture-keep
 * folders kept. Each capture is its own process group, so on any exit
 * the whole of it (driver, cd-sample, cd-trace) can be stopped: SIGINT
 * first (the driver ends its stages, which detach, and writes what it
 * has), SIGKILL after a grace time; PR_SET_PDEATHSIG covers the exits
 * that run no code of ours.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "msg.h"
#include "owner.h"
#include "record.h"
#include "sigstop.h"
#include "stage.h"
#include "trace.h"
#include "units.h"

#define CAP_MAX_RUNNING 2
#define CAP_GRACE_NS (10ULL * 1000000000ULL)

/* Folder names sort by time: 20261201T163000Z-pid1234 (-2 .. -9 on a clash). */
static int
is_capture_name(const char *s)
{
	for (int i = 0; i < 16; i++) {
		char c = s[i];

		if (i == 8 ? c != 'T' : i == 15 ? c != 'Z' : c < '0' || c > '9')
			return 0;
	}
	if (strncmp(s + 16, "-pid", 4) != 0 || s[20] < '0' || s[20] > '9')
		return 0;
	s += 20;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '-' && s[1] >= '2' && s[1] <= '9' && s[2] == '\0')
		return 1;
	return *s == '\0';
}

static void
event(struct recorder *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
event(struct recorder *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return;
	msg_warn("%s", s);
	free(r->events[RECORDER_EVENTS - 1]);
	memmove(r->events + 1, r->events,
	    (RECORDER_EVENTS - 1) * sizeof(r->events[0]));
	r->events[0] = s;
}

void
recorder_open(struct recorder *r, const struct topts *o)
{
	memset(r, 0, sizeof(*r));
	r->dirfd = -1;
	if (o->capture_dir == NULL)
		return;
	r->o = o;
	if (mkdir(o->capture_dir, 0700) == 0)
		owner_fix(o->capture_dir);
	else if (errno != EEXIST)
		msg_dieerr(CD_EXIT_FAIL, "--capture %s", o->capture_dir);
	r->dirfd = open(o->capture_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0)
		msg_dieerr(CD_EXIT_FAIL, "--capture %s", o->capture_dir);
	/* Messages name the folders in full: they are to be opened. */
	r->path = realpath(o->capture_dir, NULL);
	if (r->path == NULL)
		msg_dieerr(CD_EXIT_FAIL, "--capture %s", o->capture_dir);
	r->driver = stage_find("claude-diagnose");
	if (r->driver == NULL)
		msg_die(CD_EXIT_FAIL, "--capture needs claude-diagnose, beside "
		    "claude-trace or on PATH");
	r->pre.window_s = o->capture_before_s;
}

void
recorder_sample(struct recorder *r, const cJSON *procs)
{
	if (r->dirfd >= 0)
		presample_frame(&r->pre, procs);
}

static struct capjob *
job_of(struct recorder *r, int pid)
{
	for (size_t i = 0; i < r->njobs; i++)
		if (r->jobs[i].target == pid && r->jobs[i].child > 0)
			return &r->jobs[i];
	return NULL;
}

/* Seconds since this process's last capture began; -1 never. */
static double
since_last(const struct recorder *r, int pid, uint64_t now)
{
	for (size_t i = 0; i < r->nlast; i++)
		if (r->last[i].pid == pid)
			return (double)(now - r->last[i].t) / 1e9;
	return -1;
}

static void
remember(struct recorder *r, int pid, uint64_t now)
{
	for (size_t i = 0; i < r->nlast; i++)
		if (r->last[i].pid == pid) {
			r->last[i].t = now;
			return;
		}
	r->last = xreallocarray(r->last, r->nlast + 1, sizeof(*r->last));
	r->last[r->nlast].pid = pid;
	r->last[r->nlast++].t = now;
}

/* A fresh folder under DIR; its fd, the name in name. */
static int
make_folder(struct recorder *r, int pid, char *name, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	char ts[32];
	int fd;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	for (int n = 1; n <= 9; n++) {
		if (n == 1)
			snprintf(name, len, "%s-pid%d", ts, pid);
		else
			snprintf(name, len, "%s-pid%d-%d", ts, pid, n);
		if (mkdirat(r->dirfd, name, 0700) == 0)
			break;
		if (errno != EEXIST || n == 9) {
			msg_warnerr("%s/%s", r->path, name);
			return -1;
		}
	}
	fd = openat(r->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		msg_warnerr("%s/%s", r->path, name);
	else
		owner_fix_fd(fd);
	return fd;
}

int
capture_new_file(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);

	if (fd >= 0)
		owner_fix_fd(fd);
	return fd;
}

static void
driver_argv(struct stage_argv *a, const struct recorder *r, int pid)
{
	const struct topts *o = r->o;

	stage_arg(a, r->driver);
	stage_arg(a, "--pid");
	stage_argf(a, "%.0f", pid);
	stage_arg(a, "-d");
	stage_arg(a, "-s");
	stage_arg(a, "-D");
	stage_arg(a, "--sample-duration");
	stage_argf(a, "%g", o->capture_s);
	stage_arg(a, "--duration");
	stage_argf(a, "%g", o->capture_s);
	stage_arg(a, "--flamegraph");
	stage_arg(a, "-o");
	stage_arg(a, "flamegraph");
	stage_arg(a, "--json-file");
	stage_arg(a, "report.json");
	/* The report judges by the thresholds that started it. */
	if (o->cpu_warn > 0) {
		stage_arg(a, "--cpu-warning");
		stage_argf(a, "%g", o->cpu_warn);
	}
	if (o->rss_warn_mb > 0) {
		stage_arg(a, "--rss-warning");
		stage_argf(a, "%g", o->rss_warn_mb);
	}
	stage_arg(a, "--no-progress");
	stage_arg(a, "--no-color");
}

/* In the child: never returns. */
static void
exec_driver(char *const argv[], int folder, int out, int err)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	setpgid(0, 0);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(err, 2) < 0 || fchdir(folder) < 0)
		_exit(CD_EXIT_NOTFOUND);
	signal(SIGPIPE, SIG_DFL);
	execv(argv[0], argv);
	dprintf(2, "claude-trace: %s: %s\n", argv[0], strerror(errno));
	_exit(CD_EXIT_NOTFOUND);
}

static void prune(struct recorder *r);

static void
start(struct recorder *r, int pid, const char *why)
{
	struct stage_argv a = { 0 };
	struct capjob *j;
	char name[64];
	int folder, out = -1, err = -1;
	pid_t child;

	if ((folder = make_folder(r, pid, name, sizeof(name))) < 0)
		return;
	if ((out = capture_new_file(folder, "report.txt")) < 0 ||
	    (err = capture_new_file(folder, "capture.log")) < 0) {
		msg_warnerr("%s/%s", r->path, name);
		goto out;
	}
	driver_argv(&a, r, pid);
	fflush(NULL);
	child = sigstop_fork(SIGINT);
	if (child < 0) {
		msg_warnerr("fork");
		goto out;
	}
	if (child == 0)
		exec_driver(a.v, folder, out, err);
	setpgid(child, child);	/* either side may win the race */
	r->jobs = xreallocarray(r->jobs, r->njobs + 1, sizeof(*r->jobs));
	j = &r->jobs[r->njobs++];
	memset(j, 0, sizeof(*j));
	j->target = pid;
	j->child = child;
	j->t0 = now_mono_ns();
	snprintf(j->name, sizeof(j->name), "%s", name);
	remember(r, pid, j->t0);
	presample_crossed(&r->pre, pid, folder);
	r->started++;
	event(r, "capture of pid %d (%s) started: %s/%s (%g s)", pid, why,
	    r->path, name, r->o->capture_s);
	prune(r);
out:
	stage_argv_release(&a);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	close(folder);
}

void
recorder_crossed(struct recorder *r, int pid, const char *why)
{
	uint64_t now = now_mono_ns();
	double ago;
	size_t running = 0;

	if (r->dirfd < 0)
		return;
	if (job_of(r, pid)) {
		r->skipped++;
		return;		/* never two of one process at once */
	}
	ago = since_last(r, pid, now);
	if (ago >= 0 && ago < r->o->capture_every_s) {
		event(r, "pid %d crossed again (%s); not captured: its last "
		    "capture began %.0f s ago (--capture-every %g)", pid, why,
		    ago, r->o->capture_every_s);
		r->skipped++;
		return;
	}
	for (size_t i = 0; i < r->njobs; i++)
		running += r->jobs[i].child > 0;
	if (running >= CAP_MAX_RUNNING) {
		event(r, "pid %d crossed (%s); not captured: %zu captures "
		    "are already running", pid, why, running);
		r->skipped++;
		return;
	}
	start(r, pid, why);
}

/* The "before" sample's lines (if written by now) at the report's end. */
static void
append_before(const struct recorder *r, const struct capjob *j)
{
	static const char *const parts[] = { "before.txt", "before.tree" };
	int folder = openat(r->dirfd, j->name, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC), out;
	char buf[8192];
	ssize_t n;

	if (folder < 0)
		return;
	out = openat(folder, "report.txt", O_WRONLY | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC);
	for (size_t i = 0; out >= 0 && i < 2; i++) {
		int in = openat(folder, parts[i], O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC);

		while (in >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				msg_warnerr("%s/%s/report.txt", r->path, j->name);
		if (in >= 0)
			close(in);
	}
	if (out >= 0)
		close(out);
	close(folder);
}

static void
finished(struct recorder *r, struct capjob *j, int ws)
{
	double took = (double)(now_mono_ns() - j->t0) / 1e9;
	int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);

	j->child = 0;
	if (r->pre.window_s > 0)
		append_before(r, j);
	/* 1 is "critical findings": the capture worked. */
	if (j->stopping && code == 128 + SIGINT)
		event(r, "capture of pid %d stopped before it began: nothing "
		    "captured in %s/%s", j->target, r->path, j->name);
	else if (code <= 1)
		event(r, "capture of pid %d %s in %.1f s: %s/%s (report.txt, "
		    "report.json, flamegraph.folded, flamegraph.svg%s)",
		    j->target, j->stopping ? "stopped early, written" : "done",
		    took, r->path, j->name, r->pre.window_s > 0 ?
		    ", before.*" : "");
	else
		event(r, "capture of pid %d failed (exit %d) after %.1f s: see "
		    "%s/%s/capture.log", j->target, code, took,
		    r->path, j->name);
}

/* Collect the captures that ended, and forget them. */
void
recorder_poll(struct recorder *r)
{
	size_t k = 0;

	for (size_t i = 0; i < r->njobs; i++) {
		struct capjob *j = &r->jobs[i];
		int ws;

		if (j->child > 0 && waitpid(j->child, &ws, WNOHANG) == j->child)
			finished(r, j, ws);
		if (j->child > 0)
			r->jobs[k++] = *j;
	}
	r->njobs = k;
}

static int
running_name(const struct recorder *r, const char *name)
{
	for (size_t i = 0; i < r->njobs; i++)
		if (r->jobs[i].child > 0 && strcmp(r->jobs[i].name, name) == 0)
			return 1;
	return 0;
}

/* Remove one capture folder: its plain files, then itself. */
static void
remove_folder(struct recorder *r, const char *name)
{
	int fd = openat(r->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* Ours hold files only; anything else stays, and so does
		 * the folder (rmdir fails below). */
		if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != EISDIR)
			msg_warnerr("%s/%s/%s", r->path, name, e->d_name);
	}
	closedir(d);
	if (unlinkat(r->dirfd, name, AT_REMOVEDIR) < 0)
		msg_warnerr("%s/%s: not removed", r->path, name);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --capture-keep K: only the newest K capture folders stay. */
static void
prune(struct recorder *r)
{
	int fd = openat(r->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (!is_capture_name(e->d_name))
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (n - i > (size_t)r->o->capture_keep &&
		    !running_name(r, names[i])) {
			remove_folder(r, names[i]);
			r->removed++;
		}
		free(names[i]);
	}
	free(names);
}

/* The top lines of a frame: what was captured, and where. */
void
recorder_lines(FILE *out, const struct recorder *r, const char *eol)
{
	size_t running = 0;

	if (r->dirfd < 0)
		return;
	for (size_t i = 0; i < r->njobs; i++)
		running += r->jobs[i].child > 0;
	fprintf(out, "captures in %s: %d started, %zu running, %d skipped%s",
	    r->path, r->started, running, r->skipped, eol);
	for (int i = RECORDER_EVENTS - 1; i >= 0; i--)
		if (r->events[i])
			fprintf(out, "  %s%s", r->events[i], eol);
	fputs(eol, out);
}

/*
 * Every exit path: ask each capture to stop (the driver ends its stages,
 * which detach from the target, and writes its report), then make sure.
 */
void
recorder_close(struct recorder *r)
{
	uint64_t end;
	size_t left;

	presample_close(&r->pre);	/* pending "before" files written */
	for (size_t i = 0; i < r->njobs; i++)
		if (r->jobs[i].child > 0) {
			kill(r->jobs[i].child, SIGINT);
			r->jobs[i].stopping = 1;
		}
	end = now_mono_ns() + CAP_GRACE_NS;
	do {
		left = 0;
		recorder_poll(r);
		for (size_t i = 0; i < r->njobs; i++)
			left += r->jobs[i].child > 0;
		if (left > 0)
			usleep(50000);
	} while (left > 0 && now_mono_ns() < end);
	/* Past the grace time: the driver and the stages it started are
	 * one process group. */
	for (size_t i = 0; i < r->njobs; i++) {
		if (r->jobs[i].child <= 0)
			continue;
		kill(-r->jobs[i].child, SIGKILL);
		waitpid(r->jobs[i].child, NULL, 0);
		r->jobs[i].child = 0;
	}
	free(r->jobs);
	free(r->last);
	free(r->driver);
	free(r->path);
	for (int i = 0; i < RECORDER_EVENTS; i++)
		free(r->events[i]);
	if (r->dirfd >= 0)
		close(r->dirfd);
	memset(r, 0, sizeof(*r));
	r->dirfd = -1;
}
