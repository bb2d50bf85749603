/* The traced threads, process names, and what each traced fd refers to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "trace.h"

#define THR_BUCKETS 1024
#define FD_BUCKETS 4096
#define PROC_BUCKETS 256

static struct thr *thr_tab[THR_BUCKETS];

struct proc {
	int pid;
	char comm[32];
	struct proc *next;
};
static struct proc *proc_tab[PROC_BUCKETS];

struct fdent {
	int pid, fd;
	char *desc;
	struct fdent *next;
};
static struct fdent *fd_tab[FD_BUCKETS];

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
thr_find(int tid)
{
	struct thr *t;

	for (t = thr_tab[(unsigned)tid % THR_BUCKETS]; t; t = t->next)
		if (t->tid == tid)
			return t;
	return NULL;
}

struct thr *
thr_get(int pid, int tid)
{
	struct thr *t = thr_find(tid);
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
		proc_comm(pid);	/* while it can still be read */
		stack_prepare(pid);
	}
	t->next = thr_tab[b];
	thr_tab[b] = t;
	stats.threads_seen++;
	return t;
}

void
thr_forget(int tid)
{
	struct thr **pp = &thr_tab[(unsigned)tid % THR_BUCKETS];

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
thr_each(void (*fn)(struct thr *, void *), void *arg)
{
	for (int b = 0; b < THR_BUCKETS; b++) {
		struct thr *t = thr_tab[b], *next;

		for (; t; t = next) {
			next = t->next;	/* fn may forget t */
			fn(t, arg);
		}
	}
}

const char *
proc_comm(int pid)
{
	unsigned b = (unsigned)pid % PROC_BUCKETS;
	struct proc *p;
	char path[64];

	for (p = proc_tab[b]; p; p = p->next)
		if (p->pid == pid)
			return p->comm;
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	read_comm(path, p->comm, sizeof(p->comm));
	p->next = proc_tab[b];
	proc_tab[b] = p;
	return p->comm;
}

/* After an execve the process has a new name. */
void
proc_comm_set(int pid, const char *comm)
{
	snprintf((char *)proc_comm(pid), 32, "%.31s", comm);
}

static unsigned
fd_hash(int pid, int fd)
{
	return ((unsigned)pid * 2654435761u ^ (unsigned)fd) % FD_BUCKETS;
}

static struct fdent *
fd_lookup(int pid, int fd)
{
	struct fdent *e;

	for (e = fd_tab[fd_hash(pid, fd)]; e; e = e->next)
		if (e->pid == pid && e->fd == fd)
			return e;
	return NULL;
}

void
fd_set_desc(int pid, int fd, const char *desc)
{
	struct fdent *e = fd_lookup(pid, fd);
	unsigned b = fd_hash(pid, fd);

	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->pid = pid;
		e->fd = fd;
		e->next = fd_tab[b];
		fd_tab[b] = e;
	}
	free(e->desc);
	e->desc = xstrdup(desc);
}

/*
 * An fd we have not seen opened: ask /proc once and remember the answer
 * until the fd is closed, so a loop of reads costs one readlink.
 */
const char *
fd_describe(int pid, int fd)
{
	struct fdent *e = fd_lookup(pid, fd);
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
	fd_set_desc(pid, fd, buf);
	return fd_lookup(pid, fd)->desc;
}

void
fd_forget(int pid, int fd)
{
	struct fdent **pp = &fd_tab[fd_hash(pid, fd)];

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
fd_forget_pid(int pid)
{
	for (int b = 0; b < FD_BUCKETS; b++) {
		struct fdent **pp = &fd_tab[b];

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
