/* The traced threads, process names, and what each traced fd refers to. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msg.h"
#include "sockdiag.h"
#include "trace.h"

#define THR_BUCKETS 1024
#define FD_BUCKETS 4096
#define PROC_BUCKETS 256

struct proc {
	int pid;
	char comm[32];
	struct proc *next;
};

struct fdent {
	int pid, fd;
	char *desc;
	struct fdent *next;
};

struct thr_tables {
	struct thr *thr_tab[THR_BUCKETS];
	struct proc *proc_tab[PROC_BUCKETS];
	struct fdent *fd_tab[FD_BUCKETS];
	struct fdent *snap_tab[FD_BUCKETS];	/* the fd tables as tracing began */
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

struct thr *
thr_find(struct trace *tr, int tid)
{
	struct thr *t;

	for (t = tr->thr->thr_tab[(unsigned)tid % THR_BUCKETS]; t; t = t->next)
		if (t->tid == tid)
			return t;
	return NULL;
}

struct thr *
thr_get(struct trace *tr, int pid, int tid)
{
	struct thr *t = thr_find(tr, tid);
	unsigned b = (unsigned)tid % THR_BUCKETS;

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
	t->next = tr->thr->thr_tab[b];
	tr->thr->thr_tab[b] = t;
	tr->stats.threads_seen++;
	return t;
}

void
thr_forget(struct trace *tr, int tid)
{
	struct thr **pp = &tr->thr->thr_tab[(unsigned)tid % THR_BUCKETS];

	for (; *pp; pp = &(*pp)->next) {
		struct thr *t = *pp;

		if (t->tid == tid) {
			*pp = t->next;
			free(t->cur.path);
			free(t->early_exit.path);
			free(t);
			return;
		}
	}
}

void
thr_each(struct trace *tr, void (*fn)(struct trace *, struct thr *))
{
	for (int b = 0; b < THR_BUCKETS; b++) {
		struct thr *t = tr->thr->thr_tab[b], *next;

		for (; t; t = next) {
			next = t->next;	/* fn may forget t */
			fn(tr, t);
		}
	}
}

const char *
proc_comm(struct trace *tr, int pid)
{
	unsigned b = (unsigned)pid % PROC_BUCKETS;
	struct proc *p;
	char path[64];

	for (p = tr->thr->proc_tab[b]; p; p = p->next)
		if (p->pid == pid)
			return p->comm;
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	read_comm(path, p->comm, sizeof(p->comm));
	p->next = tr->thr->proc_tab[b];
	tr->thr->proc_tab[b] = p;
	return p->comm;
}

/* After an execve the process has a new name. */
void
proc_comm_set(struct trace *tr, int pid, const char *comm)
{
	snprintf((char *)proc_comm(tr, pid), 32, "%.31s", comm);
}

static unsigned
fd_hash(int pid, int fd)
{
	return ((unsigned)pid * 2654435761u ^ (unsigned)fd) % FD_BUCKETS;
}

static struct fdent *
fd_lookup(struct trace *tr, int pid, int fd)
{
	struct fdent *e;

	for (e = tr->thr->fd_tab[fd_hash(pid, fd)]; e; e = e->next)
		if (e->pid == pid && e->fd == fd)
			return e;
	return NULL;
}

void
fd_set_desc(struct trace *tr, int pid, int fd, const char *desc)
{
	struct fdent *e = fd_lookup(tr, pid, fd);
	unsigned b = fd_hash(pid, fd);

	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->pid = pid;
		e->fd = fd;
		e->next = tr->thr->fd_tab[b];
		tr->thr->fd_tab[b] = e;
	}
	free(e->desc);
	e->desc = xstrdup(desc);
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
fd_put(struct fdent **tab, int pid, int fd, const char *desc)
{
	struct fdent *e = xcalloc(1, sizeof(*e));
	unsigned b = ((unsigned)pid * 2654435761u ^ (unsigned)fd) % FD_BUCKETS;

	e->pid = pid;
	e->fd = fd;
	e->desc = xstrdup(desc);
	e->next = tab[b];
	tab[b] = e;
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
		fd_put(tr->thr->snap_tab, pid, v[i].fd, link);
		if (fd_lookup(tr, pid, v[i].fd) == NULL)
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
	unsigned b = ((unsigned)pid * 2654435761u ^ (unsigned)fd) % FD_BUCKETS;

	for (struct fdent *e = tr->thr->snap_tab[b]; e; e = e->next)
		if (e->pid == pid && e->fd == fd)
			return e->desc;
	return NULL;
}

void
thr_free(struct trace *tr)
{
	for (int b = 0; b < FD_BUCKETS; b++) {
		struct fdent *e, *next;

		for (e = tr->thr->snap_tab[b]; e; e = next) {
			next = e->next;
			free(e->desc);
			free(e);
		}
		for (e = tr->thr->fd_tab[b]; e; e = next) {
			next = e->next;
			free(e->desc);
			free(e);
		}
	}
	for (int b = 0; b < PROC_BUCKETS; b++) {
		struct proc *p, *next;

		for (p = tr->thr->proc_tab[b]; p; p = next) {
			next = p->next;
			free(p);
		}
	}
	for (int b = 0; b < THR_BUCKETS; b++)
		while (tr->thr->thr_tab[b] != NULL)
			thr_forget(tr, tr->thr->thr_tab[b]->tid);
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
	struct fdent *e = fd_lookup(tr, pid, fd);
	char path[64], buf[4096];
	ssize_t n;

	if (e != NULL)
		return e->desc;
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
	return fd_lookup(tr, pid, fd)->desc;
}

void
fd_forget(struct trace *tr, int pid, int fd)
{
	struct fdent **pp = &tr->thr->fd_tab[fd_hash(pid, fd)];

	for (; *pp; pp = &(*pp)->next) {
		struct fdent *e = *pp;

		if (e->pid == pid && e->fd == fd) {
			*pp = e->next;
			free(e->desc);
			free(e);
			return;
		}
	}
}

void
fd_forget_pid(struct trace *tr, int pid)
{
	for (int b = 0; b < FD_BUCKETS; b++) {
		struct fdent **pp = &tr->thr->fd_tab[b];

		while (*pp) {
			struct fdent *e = *pp;

			if (e->pid == pid) {
				*pp = e->next;
				free(e->desc);
				free(e);
			} else {
				pp = &e->next;
			}
		}
	}
}
