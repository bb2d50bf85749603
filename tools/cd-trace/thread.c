/* The traced threads, process names, and what each traced fd refers to. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hashmap.h"
#include "msg.h"
#include "sockdiag.h"
#include "trace.h"

/* Keyed by tid, by pid, and by (pid, fd). */
struct thr_tables {
	struct hmap thr_tab;		/* struct thr */
	struct hmap proc_tab;		/* char[COMM_LEN]: the process's name */
	struct hmap fd_tab;		/* char *: what the fd refers to now */
	struct hmap snap_tab;		/* char *: the same as tracing began */
};

#define COMM_LEN 32

struct fdkey {
	int pid, fd;
};

void
thr_init(struct trace *tr)
{
	tr->thr = xcalloc(1, sizeof(*tr->thr));
}

static void
read_comm(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(buf, (int)len, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

void
thr_refresh_comm(struct thr *t)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", t->pid, t->tid);
	read_comm(path, t->comm, sizeof(t->comm));
}

/* A zombie lists its threads in /proc but none can be traced. */
int
proc_is_zombie(int pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;
	int e = errno;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (f == NULL) {
		errno = e;
		return 0;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	errno = e;
	return p != NULL && p[1] == ' ' && p[2] == 'Z';
}

void
warn_gone(int pid)
{
	if (proc_is_zombie(pid))
		msg_warn("pid %d has exited: a zombie its parent has not "
		    "reaped, with nothing left to trace", pid);
	else
		msg_warn("pid %d: no such process", pid);
}

/*
 * Every thread of pid. A thread created meanwhile by one not reached yet
 * would be missed, so list again while threads are new; a target that
 * makes threads all the time always has new ones, so a few times only,
 * and never past the deadline or a signal. 0 with at least one thread
 * attached, else -1 with errno (ESRCH: a zombie, its threads all gone).
 */
int
attach_threads(struct trace *tr, int pid, uint64_t deadline,
    const struct thread_walk *w)
{
	char path[64];
	int added, any = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	for (int pass = 0; pass < 4; pass++) {
		DIR *d = opendir(path);
		struct dirent *de;

		if (d == NULL)
			return any ? 0 : -1;
		if (w->before_listing != NULL)
			w->before_listing(w->arg);
		added = 0;
		while ((de = readdir(d)) != NULL && !setup_interrupted(tr, deadline)) {
			int tid = atoi(de->d_name), r;

			if (tid <= 0 || pidlist_has(w->attached, tid))
				continue;
			if ((r = w->attach(w->arg, pid, tid)) < 0) {
				int e = errno;

				closedir(d);
				errno = e;
				return -1;
			}
			if (r == 0)
				added = any = 1;
		}
		closedir(d);
		if (!added || setup_interrupted(tr, deadline))
			break;
	}
	if (!any)
		errno = ESRCH;
	return any ? 0 : -1;
}

struct thr *
thr_find(struct trace *tr, int tid)
{
	void **slot = hmap_find(&tr->thr->thr_tab, &tid, sizeof(tid));

	return slot ? *slot : NULL;
}

struct thr *
thr_get(struct trace *tr, int pid, int tid)
{
	struct thr *t = thr_find(tr, tid);

	if (t != NULL) {
		if (pid > 0 && t->pid != pid)
			t->pid = pid;	/* execve by a non-leader thread */
		return t;
	}
	t = xcalloc(1, sizeof(*t));
	t->tid = tid;
	t->pid = pid;
	thr_refresh_comm(t);
	if (pid > 0) {
		proc_comm(tr, pid);	/* while it can still be read */
		stack_prepare(tr, pid);
	}
	*hmap_insert(&tr->thr->thr_tab, &tid, sizeof(tid), NULL) = t;
	tr->stats.threads_seen++;
	return t;
}

static void
thr_free(void *v)
{
	struct thr *t = v;

	free(t->cur.path);
	free(t->early_exit.path);
	free(t);
}

void
thr_forget(struct trace *tr, int tid)
{
	void *t;

	if (hmap_delete(&tr->thr->thr_tab, &tid, sizeof(tid), &t))
		thr_free(t);
}

/* fn may forget the thread it is given: it walks a copy of the table. */
void
thr_each(struct trace *tr, void (*fn)(struct trace *, struct thr *))
{
	const struct hmap *m = &tr->thr->thr_tab;
	struct thr **v = xreallocarray(NULL, m->n ? m->n : 1, sizeof(*v));
	const struct hmap_ent *e;
	size_t n = 0, pos = 0;

	while ((e = hmap_next(m, &pos)) != NULL)
		v[n++] = e->val;
	for (size_t i = 0; i < n; i++)
		fn(tr, v[i]);
	free(v);
}

const char *
proc_comm(struct trace *tr, int pid)
{
	int added;
	void **slot = hmap_insert(&tr->thr->proc_tab, &pid, sizeof(pid), &added);
	char path[64];

	if (added) {
		*slot = xcalloc(1, COMM_LEN);
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		read_comm(path, *slot, COMM_LEN);
	}
	return *slot;
}

/* After an execve the process has a new name. */
void
proc_comm_set(struct trace *tr, int pid, const char *comm)
{
	snprintf((char *)proc_comm(tr, pid), COMM_LEN, "%.31s", comm);
}

static char **
fd_slot(struct hmap *tab, int pid, int fd, int create)
{
	struct fdkey k = { pid, fd };

	return (char **)(create ? hmap_insert(tab, &k, sizeof(k), NULL) :
	    hmap_find(tab, &k, sizeof(k)));
}

void
fd_set_desc(struct trace *tr, int pid, int fd, const char *desc)
{
	char **slot = fd_slot(&tr->thr->fd_tab, pid, fd, 1);

	free(*slot);
	*slot = xstrdup(desc);
}

/*
 * "socket:[N]" as its address, from sock_diag (as ss does): the peer of a
 * connection ("127.0.0.1:8089"), the local end of a listening or
 * unconnected socket, a unix socket's path; else left as it is.
 */
static void
socket_name(struct sock_table *t, char *buf, size_t len)
{
	uint64_t ino;
	const struct sock_ent *e;
	const char *addr;
	int port;

	if (sscanf(buf, "socket:[%" SCNu64 "]", &ino) != 1 ||
	    (e = socktab_find(t, ino)) == NULL || !e->found)
		return;
	if (e->proto == SP_UNIX) {
		if (e->path != NULL && e->path[0] != '\0')
			snprintf(buf, len, "%s", e->path);
		return;
	}
	addr = e->remote_port != 0 ? e->remote_addr : e->local_addr;
	port = e->remote_port != 0 ? e->remote_port : e->local_port;
	snprintf(buf, len, e->family == AF_INET6 ? "[%s]:%d" : "%s:%d", addr, port);
}

/*
 * One socket, asked for alone: a table loads each protocol once, and this
 * socket may be newer than a table's dump.
 */
static void
socket_name1(char *buf, size_t len)
{
	uint64_t ino;
	struct sock_table *t;

	if (sscanf(buf, "socket:[%" SCNu64 "]", &ino) != 1)
		return;
	t = socktab_new(NULL, 1);
	if (socktab_want(t, &ino, 1) == 0)
		socket_name(t, buf, len);
	socktab_free(t);
}

static void
fd_put(struct hmap *tab, int pid, int fd, const char *desc)
{
	char **slot = fd_slot(tab, pid, fd, 1);

	free(*slot);
	*slot = xstrdup(desc);
}

/*
 * Every fd of pid as tracing begins, sockets by address (one sock_diag
 * pass for all): what calls on fds opened before the capture act on,
 * even once the process has gone.
 */
void
fd_snapshot(struct trace *tr, int pid)
{
	char path[64], link[4096];
	DIR *d;
	struct dirent *de;
	struct { int fd; char *desc; } *v = NULL;
	size_t n = 0, cap = 0, ns = 0;
	uint64_t *inos = NULL, ino;
	struct sock_table *t;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		ssize_t k;

		if (de->d_name[0] == '.' ||
		    (k = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1)) <= 0)
			continue;
		link[k] = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof(*v));
			inos = xreallocarray(inos, cap, sizeof(*inos));
		}
		v[n].fd = atoi(de->d_name);
		v[n].desc = xstrdup(link);
		if (sscanf(link, "socket:[%" SCNu64 "]", &ino) == 1)
			inos[ns++] = ino;
		n++;
	}
	closedir(d);
	t = ns > 0 ? socktab_new(NULL, 1) : NULL;
	if (t != NULL)
		socktab_want(t, inos, ns);
	for (size_t i = 0; i < n; i++) {
		snprintf(link, sizeof(link), "%s", v[i].desc);
		if (t != NULL)
			socket_name(t, link, sizeof(link));
		fd_put(&tr->thr->snap_tab, pid, v[i].fd, link);
		if (fd_slot(&tr->thr->fd_tab, pid, v[i].fd, 0) == NULL)
			fd_set_desc(tr, pid, v[i].fd, link);
		free(v[i].desc);
	}
	if (t != NULL)
		socktab_free(t);
	free(v);
	free(inos);
}

/* What fd was when tracing began (fd_snapshot), or NULL. */
const char *
fd_snapshot_name(struct trace *tr, int pid, int fd)
{
	char **slot = fd_slot(&tr->thr->snap_tab, pid, fd, 0);

	return slot ? *slot : NULL;
}

void
thr_release(struct trace *tr)
{
	hmap_release(&tr->thr->snap_tab, free);
	hmap_release(&tr->thr->fd_tab, free);
	hmap_release(&tr->thr->proc_tab, free);
	hmap_release(&tr->thr->thr_tab, thr_free);
	free(tr->thr);
	tr->thr = NULL;
}

/*
 * An fd we have not seen opened: ask /proc once and remember the answer
 * until the fd is closed, so a loop of reads costs one readlink.
 */
const char *
fd_describe(struct trace *tr, int pid, int fd)
{
	char **slot = fd_slot(&tr->thr->fd_tab, pid, fd, 0);
	char path[64], buf[4096];
	ssize_t n;

	if (slot != NULL)
		return *slot;
	if (fd < 0)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	if (strncmp(buf, "socket:[", 8) == 0)
		socket_name1(buf, sizeof(buf));
	fd_set_desc(tr, pid, fd, buf);
	return *fd_slot(&tr->thr->fd_tab, pid, fd, 0);
}

void
fd_forget(struct trace *tr, int pid, int fd)
{
	struct fdkey k = { pid, fd };
	void *desc;

	if (hmap_delete(&tr->thr->fd_tab, &k, sizeof(k), &desc))
		free(desc);
}

/* The keys first: the table must not change while it is walked. */
void
fd_forget_pid(struct trace *tr, int pid)
{
	const struct hmap *m = &tr->thr->fd_tab;
	struct fdkey *v = xreallocarray(NULL, m->n ? m->n : 1, sizeof(*v));
	const struct hmap_ent *e;
	size_t n = 0, pos = 0;

	while ((e = hmap_next(m, &pos)) != NULL) {
		const struct fdkey *k = hmap_ent_key(e, NULL);

		if (k->pid == pid)
			memcpy(&v[n++], k, sizeof(*k));
	}
	for (size_t i = 0; i < n; i++)
		fd_forget(tr, v[i].pid, v[i].fd);
	free(v);
}
