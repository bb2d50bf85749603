/*
 * Linux fd scanner: /proc/PID/fd (readlink, statx through the magic link)
 * and /proc/PID/fdinfo. Directories are read with getdents64 into one big
 * buffer and every lookup is relative to an open directory fd, because on
 * a process with 10,000 descriptors the syscall count is the cost.
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fdscan.h"
#include "fdscan_impl.h"
#include "prefault.h"
#include "intern.h"
#include "msg.h"

#define DELETED_SUFFIX " (deleted)"

int
fdscan_open_at(int dirfd, const char *path, int flags)
{
	int fd;

	do
		fd = openat(dirfd, path, flags | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	return fd;
}

ssize_t
fdscan_slurp_at(int dirfd, const char *path, char **buf, size_t *cap)
{
	int fd = fdscan_open_at(dirfd, path, O_RDONLY);
	size_t len = 0;

	if (fd < 0)
		return -1;
	if (*cap == 0) {
		*cap = 4096;
		*buf = xmalloc(*cap);
	}
	for (;;) {
		ssize_t r;

		if (len + 1 >= *cap) {
			*cap *= 2;
			*buf = xrealloc(*buf, *cap);
		}
		r = read(fd, *buf + len, *cap - len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		/*
		 * /proc files are seq_files: when the first read comes back
		 * well under a page, that was all of it, and the read that
		 * would say EOF costs a syscall per descriptor. A larger file
		 * (an inotify fd with hundreds of watches) arrives a page or
		 * so per read, short reads and all, so read it to EOF.
		 */
		if (len == (size_t)r && len < 2048)
			break;
	}
	close(fd);
	(*buf)[len] = '\0';
	return (ssize_t)len;
}

/*
 * The numeric entries of an open /proc directory, via getdents64. Returns
 * the count, or -1 with errno.
 */
struct numlist {
	int *v;
	size_t n, cap;
};

static int
list_numeric(int dirfd, struct numlist *nl)
{
	static char buf[64 * 1024];

	nl->n = 0;
	for (;;) {
		long r = syscall(SYS_getdents64, dirfd, buf, sizeof(buf));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		for (long off = 0; off < r;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			const char *s = d->d_name;
			long v = 0;

			off += d->d_reclen;
			if (*s < '0' || *s > '9')
				continue;
			for (; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + (*s - '0');
			if (*s != '\0' || v > 0x7fffffff)
				continue;
			if (nl->n == nl->cap) {
				nl->cap = nl->cap ? nl->cap * 2 : 256;
				nl->v = xreallocarray(nl->v, nl->cap, sizeof(int));
			}
			nl->v[nl->n++] = (int)v;
		}
	}
	return (int)nl->n;
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* TTY majors: the consoles, ptys and serial lines. */
static int
is_tty_major(unsigned major)
{
	return major == 4 || major == 5 || (major >= 136 && major <= 143);
}

void
fdscan_refine(struct fd_info *fi, const struct fd_inode *in)
{
	fi->have_stat = 1;
	if (fi->ino == 0)
		fi->ino = in->ino;
	switch (in->mode & S_IFMT) {
	case S_IFREG:
		fi->size = in->size;
		if (fi->kind == FDK_FILE)
			break;
		return;
	case S_IFDIR:
		fi->kind = FDK_DIR;
		break;
	case S_IFIFO:
		fi->kind = FDK_FIFO;
		break;
	case S_IFCHR:
		fi->rdev_major = in->rdev_major;
		fi->rdev_minor = in->rdev_minor;
		fi->kind = is_tty_major(in->rdev_major) ? FDK_TTY : FDK_CHR;
		break;
	case S_IFBLK:
		fi->rdev_major = in->rdev_major;
		fi->rdev_minor = in->rdev_minor;
		fi->kind = FDK_BLK;
		break;
	case S_IFSOCK:	/* an O_PATH fd on a socket file */
		break;
	}
	/* " (deleted)" in the link alone could be part of a real name. */
	if (fi->deleted && in->nlink != 0)
		fi->deleted = 0;
}

static void
refine_by_stat(int fddir, const char *name, struct fd_info *fi)
{
	struct statx stx;
	struct fd_inode in;

	if (statx(fddir, name, 0, STATX_TYPE | STATX_SIZE | STATX_NLINK | STATX_INO, &stx) < 0)
		return;
	in = (struct fd_inode){ stx.stx_mode, (int64_t)stx.stx_size, stx.stx_nlink,
		stx.stx_rdev_major, stx.stx_rdev_minor, stx.stx_ino };
	fdscan_refine(fi, &in);
}

void
fdscan_fill_link(struct fd_info *fi, int fd, char *link, size_t len, struct intern *links)
{
	memset(fi, 0, sizeof(*fi));
	fi->fd = fd;
	fi->size = -1;
	fi->kind = fdscan_kind_from_link(link, &fi->anon_name, &fi->ino);
	if ((fi->kind == FDK_FILE || fi->kind == FDK_MEMFD) &&
	    len > sizeof(DELETED_SUFFIX) - 1 &&
	    strcmp(link + len - (sizeof(DELETED_SUFFIX) - 1), DELETED_SUFFIX) == 0) {
		len -= sizeof(DELETED_SUFFIX) - 1;
		link[len] = '\0';
		fi->deleted = fi->kind == FDK_FILE;
	}
	if (links == NULL) {
		fi->link = xstrdup(link);
	} else {
		/* A leak is often the same file opened again and again. */
		fi->link_interned = 1;
		fi->link_id = intern_id(links, link, len);
	}
}

void
fdscan_links_final(struct fd_scan *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].link_interned)
			s->v[i].link = (char *)intern_str(s->links, s->v[i].link_id, NULL);
}

int
fdscan_wants_fdinfo(const struct fd_info *fi, unsigned opts)
{
	if (opts & FDSCAN_NO_FDINFO)
		return 0;
	if (opts & FDSCAN_FDINFO_SPECIAL)
		return fi->kind == FDK_INOTIFY || fi->kind == FDK_EVENTPOLL ||
		    fi->kind == FDK_FANOTIFY;
	return 1;
}

/*
 * Returns 0 when the fd was read, -1 when it vanished (closed while we
 * looked).
 */
static int
scan_one(int fddir, int infodir, int fd, unsigned opts, struct fd_info *fi,
    char **ibuf, size_t *icap)
{
	char name[16], link[4096];
	ssize_t n;

	snprintf(name, sizeof(name), "%d", fd);
	n = readlinkat(fddir, name, link, sizeof(link) - 1);
	if (n < 0) {
		memset(fi, 0, sizeof(*fi));	/* the caller frees it */
		return -1;
	}
	link[n] = '\0';
	fdscan_fill_link(fi, fd, link, (size_t)n, NULL);
	if (fi->kind == FDK_FILE)
		refine_by_stat(fddir, name, fi);
	if (!fdscan_wants_fdinfo(fi, opts))
		return 0;
	if (fdscan_slurp_at(infodir, name, ibuf, icap) < 0) {
		if (errno == ENOENT)
			return -1;
		return 0;
	}
	fdscan_parse_fdinfo(*ibuf, fi);
	return 0;
}

void
fdscan_info_release(struct fd_info *fi)
{
	if (!fi->link_interned)
		free(fi->link);
	if (fi->kind == FDK_EVENTPOLL)
		free(fi->epoll_fds);
	for (int i = 0; i < fi->nwatches; i++)
		free(fi->watches[i].path);
	free(fi->watches);
	free(fi->anon_name);
}

void
fdscan_release(struct fd_scan *s)
{
	for (size_t i = 0; i < s->n; i++)
		fdscan_info_release(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
	intern_free(s->links);
	s->links = NULL;
}

static uint64_t
netns_of(const char *path)
{
	char buf[64];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	unsigned long long ino;

	if (n < 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "net:[%llu]", &ino) != 1)
		return 0;
	return ino;
}

uint64_t
fdscan_self_netns(void)
{
	return netns_of("/proc/self/ns/net");
}

struct worker {
	int fddir, infodir;
	unsigned opts;
	const int *fds;
	struct fd_info *v;	/* slot per fd; fd -1 marks one that vanished */
	size_t n;
	unsigned long vanished;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	char *ibuf = NULL;
	size_t icap = 0;

	for (size_t i = 0; i < w->n; i++) {
		if (scan_one(w->fddir, w->infodir, w->fds[i], w->opts, &w->v[i], &ibuf, &icap) < 0) {
			fdscan_info_release(&w->v[i]);
			w->v[i].fd = -1;
			w->vanished++;
		}
	}
	free(ibuf);
	return NULL;
}

#define MAX_WORKERS 4
#define FDS_PER_WORKER 1024

/*
 * Each descriptor costs four or five syscalls into procfs and nothing
 * else, so a process with thousands of them is read by up to one thread
 * per CPU, each over its own slice.
 */
static void
scan_all(int fddir, int infodir, const struct numlist *nl, unsigned opts, struct fd_scan *out)
{
	struct worker w[MAX_WORKERS];
	pthread_t tid[MAX_WORKERS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nw = nl->n / FDS_PER_WORKER, per, k = 0;

	if (nw > (size_t)ncpu)
		nw = ncpu > 0 ? (size_t)ncpu : 1;
	if (nw > MAX_WORKERS)
		nw = MAX_WORKERS;
	if (nw == 0)
		nw = 1;
	out->cap = nl->n ? nl->n : 1;
	out->v = xcalloc(out->cap, sizeof(*out->v));
	if (out->cap > 1024)
		mem_populate(out->v, out->cap * sizeof(*out->v));
	per = (nl->n + nw - 1) / nw;
	for (size_t i = 0; i < nw; i++) {
		size_t lo = i * per < nl->n ? i * per : nl->n;
		size_t hi = lo + per < nl->n ? lo + per : nl->n;

		w[i] = (struct worker){ fddir, infodir, opts, nl->v + lo, out->v + lo, hi - lo, 0 };
	}
	for (size_t i = 1; i < nw; i++)
		if (pthread_create(&tid[i], NULL, work, &w[i]) != 0)
			w[i].opts |= 1U << 31;	/* not started: run below */
	work(&w[0]);
	for (size_t i = 1; i < nw; i++) {
		if (w[i].opts & (1U << 31)) {
			w[i].opts &= ~(1U << 31);
			work(&w[i]);
		} else {
			pthread_join(tid[i], NULL);
		}
	}
	for (size_t i = 0; i < nw; i++)
		out->st.fds_vanished += w[i].vanished;
	/* Close the gaps the vanished left, keeping fd order. */
	for (size_t i = 0; i < nl->n; i++) {
		if (out->v[i].fd < 0)
			continue;
		if (!(opts & (FDSCAN_NO_FDINFO | FDSCAN_FDINFO_SPECIAL)) &&
		    !out->v[i].have_fdinfo)
			out->st.fdinfo_unreadable++;
		out->v[k++] = out->v[i];
	}
	out->n = k;
}

static int
errno_to_scan_err(int e)
{
	if (e == ENOENT || e == ESRCH)
		return ESRCH;
	return e;
}

static enum fdscan_method method = FDSCAN_AUTO;
static char fallback_reason[256];

int
fdscan_set_method(enum fdscan_method m, const char **why)
{
	struct fd_scan probe;
	int err;

	method = m;
	if (m != FDSCAN_BPF)
		return 0;
	/* Fail now, not per target: load it against ourselves. */
	memset(&probe, 0, sizeof(probe));
	err = fdscan_bpf_table(getpid(), -1, -1, FDSCAN_NO_FDINFO, &probe, why);
	fdscan_release(&probe);
	return err;
}

const char *
fdscan_fallback_reason(void)
{
	return fallback_reason[0] != '\0' ? fallback_reason : NULL;
}

/* Read pid's table through procfs into out; 0 or an errno. */
static int
procfs_table(int fddir, int infodir, unsigned opts, struct fd_scan *out)
{
	struct numlist nl = { 0 };

	if (list_numeric(fddir, &nl) < 0) {
		int e = errno;

		free(nl.v);
		return e;
	}
	qsort(nl.v, nl.n, sizeof(int), cmp_int);
	scan_all(fddir, infodir, &nl, opts, out);
	free(nl.v);
	out->method = "procfs";
	return 0;
}

/*
 * Memory for the table about to be built, faulted in at once: an fd_info
 * per open descriptor (the size Linux 6.2+ gives /proc/PID/fd in stat),
 * else per slot of the fd table (FDSize in status, a power of two above
 * the highest fd). Small tables are left alone. (Link texts are interned,
 * so few; faulting in heap for them measured no better.)
 */
static void
prefault_for(int piddir, int fddir, struct fd_scan *out)
{
	char *buf = NULL, *p;
	size_t cap = 0;
	struct stat st;
	long slots = 0;

	if (fstat(fddir, &st) == 0 && st.st_size > 0)
		slots = (long)st.st_size + 64;	/* room for a few opened meanwhile */
	else if (fdscan_slurp_at(piddir, "status", &buf, &cap) > 0 &&
	    (p = strstr(buf, "\nFDSize:")) != NULL)
		slots = strtol(p + 8, NULL, 10);
	free(buf);
	if (slots <= 1024 || slots > 1L << 20)
		return;
	out->cap = (size_t)slots;
	out->v = xreallocarray(NULL, out->cap, sizeof(*out->v));
	mem_populate(out->v, out->cap * sizeof(*out->v));
}

int
fdscan_pid(int pid, unsigned opts, struct fd_scan *out)
{
	char path[64];
	struct stat st;
	int piddir, fddir, infodir = -1, err = 0;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if ((piddir = fdscan_open_at(AT_FDCWD, path, O_RDONLY | O_DIRECTORY)) < 0)
		return errno_to_scan_err(errno);
	if (fstat(piddir, &st) == 0)
		out->uid = st.st_uid;
	{
		char *cbuf = NULL;
		size_t ccap = 0;

		if (fdscan_slurp_at(piddir, "comm", &cbuf, &ccap) > 0) {
			cbuf[strcspn(cbuf, "\n")] = '\0';
			snprintf(out->comm, sizeof(out->comm), "%s", cbuf);
		}
		free(cbuf);
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	out->netns = netns_of(path);
	/*
	 * Opened whichever collector reads the table: it is the permission
	 * check (the BPF iterator could read any process), and the fallback.
	 */
	if ((fddir = fdscan_open_at(piddir, "fd", O_RDONLY | O_DIRECTORY)) < 0) {
		err = errno_to_scan_err(errno);
		close(piddir);
		return err;
	}
	if (!(opts & FDSCAN_NO_FDINFO) &&
	    (infodir = fdscan_open_at(piddir, "fdinfo", O_RDONLY | O_DIRECTORY)) < 0) {
		err = errno_to_scan_err(errno);
		goto out;
	}
	err = -1;
	if (method != FDSCAN_PROCFS) {
		const char *why = NULL;

		prefault_for(piddir, fddir, out);
		if ((err = fdscan_bpf_table(pid, fddir, infodir, opts, out, &why)) == 0) {
			out->method = "bpf_iter";
		} else if (method == FDSCAN_BPF) {
			msg_warn("pid %d: %s", pid, why);
			goto out;
		} else {
			snprintf(fallback_reason, sizeof(fallback_reason), "%s", why);
			fdscan_release(out);
		}
	}
	/* A process that exits while we list leaves an empty or dead dir. */
	if (err != 0 && (err = procfs_table(fddir, infodir, opts, out)) != 0) {
		err = errno_to_scan_err(err);
		goto out;
	}
	/*
	 * Nothing listed, or everything vanished: the process itself is
	 * probably gone. Say so rather than report an empty table.
	 */
	if (out->n == 0 && faccessat(piddir, "stat", F_OK, 0) < 0)
		err = ESRCH;
out:
	if (infodir >= 0)
		close(infodir);
	close(fddir);
	close(piddir);
	if (err != 0)
		fdscan_release(out);
	return err;
}

int
fdscan_nofile_limit(int pid, int64_t *soft, int64_t *hard)
{
	struct rlimit rl;
	char path[64], *buf = NULL, *p;
	size_t cap = 0;
	int rc = 0;

	if (prlimit(pid, RLIMIT_NOFILE, NULL, &rl) == 0) {
		*soft = rl.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_cur;
		*hard = rl.rlim_max == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_max;
		return 0;
	}
	/* prlimit needs the same credentials; /proc/PID/limits is world-readable. */
	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	if (fdscan_slurp_at(AT_FDCWD, path, &buf, &cap) < 0) {
		rc = errno;
		free(buf);
		return rc;
	}
	rc = ENOENT;
	if ((p = strstr(buf, "Max open files")) != NULL) {
		char s[32], h[32];

		if (sscanf(p + 14, " %31s %31s", s, h) == 2) {
			*soft = strcmp(s, "unlimited") == 0 ? -1 : strtoll(s, NULL, 10);
			*hard = strcmp(h, "unlimited") == 0 ? -1 : strtoll(h, NULL, 10);
			rc = 0;
		}
	}
	free(buf);
	return rc;
}

static int64_t
read_sysctl(const char *path)
{
	char *buf = NULL;
	size_t cap = 0;
	int64_t v = -1;

	if (fdscan_slurp_at(AT_FDCWD, path, &buf, &cap) > 0)
		v = strtoll(buf, NULL, 10);
	free(buf);
	return v;
}

void
fdscan_inotify_limits(struct inotify_limits *l)
{
	l->max_user_watches = read_sysctl("/proc/sys/fs/inotify/max_user_watches");
	l->max_user_instances = read_sysctl("/proc/sys/fs/inotify/max_user_instances");
}

/* Count inotify instances and watches of one process; -1 if unreadable. */
static int
proc_inotify(int piddir, struct inotify_usage *u, char **buf, size_t *cap)
{
	struct numlist nl = { 0 };
	int fddir, infodir, found = 0;

	if ((fddir = fdscan_open_at(piddir, "fd", O_RDONLY | O_DIRECTORY)) < 0)
		return errno == ENOENT ? 0 : -1;
	if ((infodir = fdscan_open_at(piddir, "fdinfo", O_RDONLY | O_DIRECTORY)) < 0) {
		close(fddir);
		return errno == ENOENT ? 0 : -1;
	}
	if (list_numeric(fddir, &nl) >= 0) {
		for (size_t i = 0; i < nl.n; i++) {
			char name[16], link[32];
			ssize_t n;

			snprintf(name, sizeof(name), "%d", nl.v[i]);
			n = readlinkat(fddir, name, link, sizeof(link) - 1);
			if (n < 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, "anon_inode:inotify") != 0)
				continue;
			if (fdscan_slurp_at(infodir, name, buf, cap) < 0)
				continue;
			u->instances++;
			found = 1;
			for (const char *p = *buf; (p = strstr(p, "inotify wd:")) != NULL; p += 11)
				u->watches++;
		}
	}
	u->processes += found;
	free(nl.v);
	close(infodir);
	close(fddir);
	return 0;
}

int
fdscan_user_inotify(uint32_t uid, struct inotify_usage *u)
{
	struct numlist nl = { 0 };
	char *buf = NULL;
	size_t cap = 0;
	int proc;

	memset(u, 0, sizeof(*u));
	if ((proc = fdscan_open_at(AT_FDCWD, "/proc", O_RDONLY | O_DIRECTORY)) < 0)
		return errno;
	if (list_numeric(proc, &nl) < 0) {
		int e = errno;

		close(proc);
		return e;
	}
	for (size_t i = 0; i < nl.n; i++) {
		char name[16];
		struct stat st;
		int piddir;

		snprintf(name, sizeof(name), "%d", nl.v[i]);
		if ((piddir = fdscan_open_at(proc, name, O_RDONLY | O_DIRECTORY)) < 0)
			continue;
		if (fstat(piddir, &st) == 0 && st.st_uid == uid &&
		    proc_inotify(piddir, u, &buf, &cap) < 0)
			u->unreadable++;
		close(piddir);
	}
	free(buf);
	free(nl.v);
	close(proc);
	return 0;
}
