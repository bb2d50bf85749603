/*
 * The dumps cd-launch asks for, and their removal.
 *
 * Bun: JavaScriptCore writes DIR/jit-TID-PID.dump into the directory
 * named by BUN_JSC_jitDumpDirectory, which must exist. cd-launch makes a
 * fresh one (mkdtemp: mode 0700, a name nobody can predict), on a tmpfs
 * when it can, and removes it, with whatever the launched tree wrote
 * there, when the command ends.
 *
 * Node: V8 writes /tmp/perf-PID.map for each Node process, and the flag
 * passes to children through NODE_OPTIONS. /tmp is shared, so a map is
 * only removed when it is proven ours: cd-launch watches /tmp with
 * inotify while the command runs, and records a map when the process that
 * opened it is alive and descends from the command (V8 opens its map as it
 * starts, so the process is there to ask). At the end a recorded map is
 * removed once its process is gone (same pid and start time are not both
 * there), it is still the same file (device and inode), and it is ours.
 * Maps of processes still running (daemons the command left) are kept:
 * V8 writes to them until they exit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <signal.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"
#include "msg.h"
#include "units.h"

#define MAP_DIR "/tmp"
#define NODE_FLAG "--perf-basic-prof-only-functions"

/* $XDG_RUNTIME_DIR, when it is an absolute path to a directory only we may use. */
static int
private_dir(const char *x)
{
	struct stat st;

	return x != NULL && x[0] == '/' && lstat(x, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == geteuid() && (st.st_mode & 077) == 0;
}

/* /dev/shm, /tmp: shared, so only with the sticky bit (no one removes our entries). */
static int
sticky_dir(const char *x)
{
	struct stat st;

	return lstat(x, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) &&
	    access(x, W_OK | X_OK) == 0;
}

static int
on_tmpfs(const char *x)
{
	struct statfs sf;

	return statfs(x, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

/*
 * Where the dump directory goes. JavaScriptCore fsyncs its jitdump as it
 * writes it (20 times in `claude --version`), which on a disk costs the
 * start of Claude Code ~2x its time and a tmpfs costs nothing: the first
 * of $XDG_RUNTIME_DIR (private), /dev/shm, /tmp that is a tmpfs, else the
 * first usable.
 */
static const char *
dump_parent(void)
{
	const char *cand[] = { getenv("XDG_RUNTIME_DIR"), "/dev/shm", "/tmp" };
	int ok[3];

	ok[0] = private_dir(cand[0]);
	ok[1] = sticky_dir(cand[1]);
	ok[2] = sticky_dir(cand[2]);
	for (int i = 0; i < 3; i++)
		if (ok[i] && on_tmpfs(cand[i]))
			return cand[i];
	for (int i = 0; i < 3; i++)
		if (ok[i])
			return cand[i];
	return "/tmp";
}

int
dumps_make_dir(struct dumps *d)
{
	char *tmpl = xasprintf("%s/cd-launch-XXXXXX", dump_parent());

	if (mkdtemp(tmpl) == NULL) {
		msg_warnerr("cannot create a directory for the JIT dump (%s)", tmpl);
		free(tmpl);
		return -1;
	}
	d->dir = tmpl;
	return 0;
}

char *
node_options(const char *old)
{
	if (old == NULL || *old == '\0')
		return xstrdup(NODE_FLAG);
	/* --perf-basic-prof already writes the maps, and more */
	if (strstr(old, "--perf-basic-prof") != NULL)
		return xstrdup(old);
	return xasprintf("%s %s", old, NODE_FLAG);
}

void
dumps_watch(struct dumps *d)
{
	d->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->ino_fd < 0) {
		msg_warnerr("inotify: perf maps of child processes will be left in " MAP_DIR);
		return;
	}
	/* IN_OPEN too: V8 truncates a stale map of a reused pid, it does not create it */
	if (inotify_add_watch(d->ino_fd, MAP_DIR, IN_CREATE | IN_OPEN | IN_ONLYDIR) < 0) {
		msg_warnerr("inotify on " MAP_DIR);
		close(d->ino_fd);
		d->ino_fd = -1;
	}
}

/* Parent pid and start time (clock ticks after boot) from /proc/PID/stat. */
static int
proc_stat(pid_t pid, pid_t *ppid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	unsigned long long v[20];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields start after the last ')' */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	 * utime stime cutime cstime priority nice threads itrealvalue starttime */
	if (sscanf(p + 2, "%*c %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
	    "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
	    &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12],
	    &v[13], &v[14], &v[15], &v[16], &v[17], &v[18]) != 19)
		return -1;
	*ppid = (pid_t)v[0];
	*start = v[18];
	return 0;
}

/* Whether pid is the launched command or one of its descendants, now. */
static int
in_tree(const struct dumps *d, pid_t pid, unsigned long long *start)
{
	pid_t p = pid, pp;
	unsigned long long st;

	if (proc_stat(pid, &pp, start) < 0)
		return 0;
	for (int hops = 0; hops < 4096; hops++) {
		if (p == d->root)
			return 1;
		if (p <= 1 || proc_stat(p, &pp, &st) < 0)
			return 0;
		p = pp;
	}
	return 0;
}

static int
map_pid(const char *name, pid_t *pid)
{
	char *end;
	long v;

	if (strncmp(name, "perf-", 5) != 0)
		return 0;
	errno = 0;
	v = strtol(name + 5, &end, 10);
	if (errno || end == name + 5 || strcmp(end, ".map") != 0 || v <= 0 || v > INT_MAX)
		return 0;
	*pid = (pid_t)v;
	return 1;
}

static void
record_map(struct dumps *d, pid_t pid)
{
	struct perfmap m = { .pid = pid };
	char path[64];
	struct stat st;

	for (size_t i = 0; i < d->nmaps; i++)
		if (d->maps[i].pid == pid)
			return;
	snprintf(path, sizeof(path), MAP_DIR "/perf-%d.map", (int)pid);
	if (!in_tree(d, pid, &m.start) || lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid())
		return;
	m.dev = st.st_dev;
	m.ino = st.st_ino;
	if (d->nmaps == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->maps = xreallocarray(d->maps, d->cap, sizeof(*d->maps));
	}
	d->maps[d->nmaps++] = m;
}

void
dumps_events(struct dumps *d)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	if (d->ino_fd < 0)
		return;
	while ((n = read(d->ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			pid_t pid;

			if (ev->len > 0 && map_pid(ev->name, &pid))
				record_map(d, pid);
			p += sizeof(*ev) + ev->len;
		}
	}
}

static void
report(const struct dumps *d, const char *what, unsigned long nfiles,
    unsigned long long bytes, const char *fate)
{
	char sz[32];

	if (!d->verbose)
		return;
	fmt_kb((double)bytes / 1024, sz, sizeof(sz));
	msg_warn("%s: %lu file%s, %llu bytes (%s), %s", what, nfiles,
	    nfiles == 1 ? "" : "s", bytes, sz, fate);
}

/* Remove the private directory and what is in it (files only: it is ours). */
static void
remove_dir(struct dumps *d)
{
	unsigned long nfiles = 0, left = 0;
	unsigned long long bytes = 0;
	struct dirent *de;
	DIR *dir;

	dir = opendir(d->dir);
	if (dir == NULL) {
		msg_warnerr("%s", d->dir);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		nfiles++;
		bytes += (unsigned long long)st.st_size;
		if (unlinkat(dirfd(dir), de->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0) {
			msg_warnerr("cannot remove %s/%s", d->dir, de->d_name);
			left++;
		}
	}
	closedir(dir);
	if (left == 0 && rmdir(d->dir) != 0)
		msg_warnerr("cannot remove %s", d->dir);
	report(d, d->dir, nfiles, bytes, left ? "not all removed" : "removed");
}

static int
still_running(const struct perfmap *m)
{
	unsigned long long start;
	pid_t pp;

	return proc_stat(m->pid, &pp, &start) == 0 && start == m->start;
}

static void
remove_maps(struct dumps *d)
{
	unsigned long removed = 0, kept = 0;
	unsigned long long bytes = 0;
	int dfd = open(MAP_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0) {
		msg_warnerr(MAP_DIR);
		return;
	}
	for (size_t i = 0; i < d->nmaps; i++) {
		const struct perfmap *m = &d->maps[i];
		char name[64];
		struct stat st;

		snprintf(name, sizeof(name), "perf-%d.map", (int)m->pid);
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_dev != m->dev || st.st_ino != m->ino || st.st_uid != geteuid())
			continue;
		if (still_running(m)) {
			kept++;
			if (d->verbose)
				msg_warn(MAP_DIR "/%s: kept, process %d still runs", name, (int)m->pid);
			continue;
		}
		if (unlinkat(dfd, name, 0) != 0) {
			msg_warnerr("cannot remove " MAP_DIR "/%s", name);
			continue;
		}
		removed++;
		bytes += (unsigned long long)st.st_size;
	}
	close(dfd);
	report(d, "perf maps (" MAP_DIR "/perf-PID.map)", removed, bytes, "removed");
	(void)kept;
}

/*
 * The command's own map when no event recorded it (inotify refused, or
 * the event came after it ended): its pid is certain, so the map is
 * removed when it was written since the launch and no process has the pid.
 */
static void
remove_root_map(const struct dumps *d)
{
	char path[64];
	struct stat st;

	for (size_t i = 0; i < d->nmaps; i++)
		if (d->maps[i].pid == d->root)
			return;
	snprintf(path, sizeof(path), MAP_DIR "/perf-%d.map", (int)d->root);
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_ctim.tv_sec < d->t0 || kill(d->root, 0) == 0 || errno != ESRCH)
		return;
	if (unlink(path) != 0)
		msg_warnerr("cannot remove %s", path);
	else
		report(d, path, 1, (unsigned long long)st.st_size, "removed");
}

void
dumps_cleanup(struct dumps *d)
{
	if (d->dir) {
		remove_dir(d);
		free(d->dir);
		d->dir = NULL;
	}
	if (d->rt == RT_NODE) {
		dumps_events(d);
		remove_maps(d);
		remove_root_map(d);
	}
	if (d->ino_fd >= 0)
		close(d->ino_fd);
	d->ino_fd = -1;
	free(d->maps);
	d->maps = NULL;
	d->nmaps = d->cap = 0;
}
