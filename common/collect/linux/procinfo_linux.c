#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libproc2/meminfo.h>
#include <libproc2/misc.h>
#include <libproc2/pids.h>

#include "msg.h"
#include "procinfo.h"

/* Phase 1: only what matching needs, for every process. */
static enum pids_item cheap_items[] = {
	PIDS_ID_PID, PIDS_ID_PPID, PIDS_CMD, PIDS_CMDLINE_V, PIDS_TIME_START,
};
enum { C_PID, C_PPID, C_CMD, C_ARGV, C_START };
#define NCHEAP ((int)(sizeof(cheap_items) / sizeof(cheap_items[0])))

/*
 * Phase 2: everything cd-ps reports, for the processes kept. Memory from
 * status (VmRSS, VmSize: the same counters as statm's), which EUID makes
 * libproc2 read anyway: one file fewer a process, a frame of claude-trace
 * -w with 200 sessions.
 */
static enum pids_item full_items[] = {
	PIDS_ID_PID, PIDS_ID_PPID, PIDS_STATE, PIDS_NLWP, PIDS_TICS_ALL,
	PIDS_TIME_ELAPSED, PIDS_VM_RSS, PIDS_VM_SIZE, PIDS_ID_PGRP,
	PIDS_ID_SESSION, PIDS_ID_TPGID, PIDS_NICE, PIDS_TIME_START,
	PIDS_TTY_NAME, PIDS_ID_EUID, PIDS_EXE,
};

/*
 * A process already filled, read again: only what moves, at the same
 * places as in full_items. Memory from statm, not status (the kernel's
 * dearest file here: a third of a frame's time).
 */
static enum pids_item moving_items[] = {
	PIDS_ID_PID, PIDS_ID_PPID, PIDS_STATE, PIDS_NLWP, PIDS_TICS_ALL,
	PIDS_TIME_ELAPSED, PIDS_MEM_RES, PIDS_MEM_VIRT, PIDS_ID_PGRP,
	PIDS_ID_SESSION, PIDS_ID_TPGID, PIDS_NICE, PIDS_TIME_START,
};
enum { F_PID, F_PPID, F_STATE, F_NLWP, F_TICS, F_ELAPSED, F_RES, F_VIRT,
	F_PGRP, F_SID, F_TPGID, F_NICE, F_START, F_TTY, F_EUID, F_EXE };

/*
 * procps_pids_select in chunks: it refuses more than 255 pids at once
 * (libproc2's FILL_ID_MAX), and a box can well run more processes.
 */
#define SELECT_MAX 255

static enum pids_item tick_items[] = { PIDS_ID_PID, PIDS_TICS_ALL };

static char *
readlink_proc(int pid, const char *what)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

static int fds_off;

void
procinfo_no_fds(int off)
{
	fds_off = off;
}

/* Entries of /proc/PID/fd: the open files; -1 when not ours to read. */
static int
count_fds(int pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (fds_off)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
copy_argv(struct procinfo *p, char **v)
{
	size_t n = 0;

	/* libproc2 gives "-" (or "[comm]") for an empty cmdline: keep none. */
	if (v && v[0] && v[1] == NULL &&
	    (strcmp(v[0], "-") == 0 || v[0][0] == '['))
		v = NULL;
	while (v && v[n])
		n++;
	p->argv = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		p->argv[i] = xstrdup(v[i]);
	p->argc = n;
}

void
procinfo_clear(struct procinfo *p)
{
	for (size_t i = 0; i < p->argc; i++)
		free(p->argv[i]);
	free(p->argv);
	free(p->exe);
	free(p->cwd);
	memset(p, 0, sizeof(*p));
}

void
proclist_release(struct proclist *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		procinfo_clear(&pl->v[i]);
	free(pl->v);
	pl->v = NULL;
	pl->n = 0;
}

/* The cheap fields of one libproc2 stack. */
static void
cheap_of(struct procinfo *p, struct pids_stack *s, struct pids_info *info)
{
	(void)info;	/* PIDS_VAL's argument, unused by this libproc2 */
	memset(p, 0, sizeof(*p));
	p->pid = PIDS_VAL(C_PID, s_int, s, info);
	p->ppid = PIDS_VAL(C_PPID, s_int, s, info);
	snprintf(p->comm, sizeof(p->comm), "%s", PIDS_VAL(C_CMD, str, s, info));
	copy_argv(p, PIDS_VAL(C_ARGV, strv, s, info));
	p->start_s = PIDS_VAL(C_START, real, s, info);
}

int
procinfo_scan(struct proclist *out, proc_keep_fn keep, void *arg,
    int want_all_cheap)
{
	struct pids_info *info = NULL;
	struct pids_fetch *f;
	size_t nkept = 0;
	int total;

	memset(out, 0, sizeof(*out));
	if (procps_pids_new(&info, cheap_items, NCHEAP) < 0) {
		msg_warn("cannot read /proc (is it mounted?)");
		return -1;
	}
	f = procps_pids_reap(info, PIDS_FETCH_TASKS_ONLY);
	if (f == NULL) {
		msg_warn("cannot read the process table");
		procps_pids_unref(&info);
		return -1;
	}
	total = f->counts->total;
	out->scanned = (size_t)total;
	out->v = xcalloc((size_t)total + 1, sizeof(*out->v));
	for (int i = 0; i < total; i++) {
		struct procinfo *p = &out->v[out->n];

		cheap_of(p, f->stacks[i], info);
		/* Matching may need exe when argv[0] was rewritten; read it
		 * only for processes whose argv leaves a doubt. */
		p->full = keep ? keep(p, arg) : 1;
		if (!p->full && !want_all_cheap) {
			procinfo_clear(p);
			continue;
		}
		if (p->full)
			nkept++;
		out->n++;
	}
	procps_pids_unref(&info);
	if (nkept == 0)
		return 0;
	return procinfo_fill(out->v, out->n);
}

int
procinfo_cheap(struct proclist *out, const int *pids, size_t n)
{
	struct pids_info *info = NULL;
	struct pids_fetch *f;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return 0;
	if (procps_pids_new(&info, cheap_items, NCHEAP) < 0) {
		msg_warn("cannot read /proc (is it mounted?)");
		return -1;
	}
	out->v = xcalloc(n + 1, sizeof(*out->v));
	for (size_t off = 0; off < n; off += SELECT_MAX) {
		int cnt = (int)(n - off < SELECT_MAX ? n - off : SELECT_MAX);

		/* Gone since they were listed: not in the fetch, no error. */
		f = procps_pids_select(info, (unsigned *)pids + off, cnt,
		    PIDS_SELECT_PID);
		for (int i = 0; f && i < f->counts->total; i++)
			cheap_of(&out->v[out->n++], f->stacks[i], info);
	}
	out->scanned = out->n;
	procps_pids_unref(&info);
	return 0;
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int
procinfo_pids(int **out, size_t *n)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL) {
		msg_warnerr("/proc");
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || pid > INT_MAX)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 512;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		(*out)[(*n)++] = (int)pid;
	}
	closedir(d);
	if (*n > 0)
		qsort(*out, *n, sizeof(**out), cmp_int);
	return 0;
}

/* Fill one process from its stack; 0 refuses it (another process). */
typedef int (*fill_fn)(struct procinfo *p, struct pids_stack *s,
    struct pids_info *info);

static void
select_apply(struct pids_info *info, unsigned *pids, size_t np,
    struct procinfo *v, size_t n, fill_fn fn)
{
	for (size_t off = 0; off < np; off += SELECT_MAX) {
		int cnt = (int)(np - off < SELECT_MAX ? np - off : SELECT_MAX);
		struct pids_fetch *f = procps_pids_select(info, pids + off, cnt,
		    PIDS_SELECT_PID);

		for (int k = 0; f && k < f->counts->total; k++) {
			struct pids_stack *s = f->stacks[k];
			int pid = PIDS_VAL(0, s_int, s, info);

			for (size_t i = 0; i < n; i++)
				if (v[i].pid == pid && !v[i].full) {
					v[i].full = fn(&v[i], s, info);
					break;
				}
		}
	}
}

/* Read items of the processes marked full; those not read are unmarked. */
static int
select_full(enum pids_item *items, int nitems, struct procinfo *v, size_t n,
    fill_fn fn)
{
	struct pids_info *info = NULL;
	unsigned *pids = xcalloc(n + 1, sizeof(*pids));
	size_t np = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].full)
			pids[np++] = (unsigned)v[i].pid;
	if (np == 0) {
		free(pids);
		return 0;
	}
	if (procps_pids_new(&info, items, nitems) < 0) {
		free(pids);
		msg_warn("cannot read /proc");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		v[i].full = 0;
	select_apply(info, pids, np, v, n, fn);
	free(pids);
	procps_pids_unref(&info);
	return 0;
}

/* What moves, at the places both item lists share. */
static void
moving_fields(struct procinfo *p, struct pids_stack *s, struct pids_info *info)
{
	(void)info;
	p->ppid = PIDS_VAL(F_PPID, s_int, s, info);
	p->state = PIDS_VAL(F_STATE, s_ch, s, info);
	p->threads = PIDS_VAL(F_NLWP, s_int, s, info);
	p->ticks = PIDS_VAL(F_TICS, ull_int, s, info);
	p->elapsed_s = PIDS_VAL(F_ELAPSED, real, s, info);
	p->rss_kb = PIDS_VAL(F_RES, ul_int, s, info);
	p->vsz_kb = PIDS_VAL(F_VIRT, ul_int, s, info);
	p->pgrp = PIDS_VAL(F_PGRP, s_int, s, info);
	p->sid = PIDS_VAL(F_SID, s_int, s, info);
	p->tpgid = PIDS_VAL(F_TPGID, s_int, s, info);
	p->nice = PIDS_VAL(F_NICE, s_int, s, info);
	p->nfds = count_fds(p->pid);
}

static int
full_of(struct procinfo *p, struct pids_stack *s, struct pids_info *info)
{
	const char *exe;

	(void)info;
	p->start_s = PIDS_VAL(F_START, real, s, info);
	moving_fields(p, s, info);
	snprintf(p->tty, sizeof(p->tty), "%s", PIDS_VAL(F_TTY, str, s, info));
	p->uid = PIDS_VAL(F_EUID, u_int, s, info);
	exe = PIDS_VAL(F_EXE, str, s, info);
	if (p->exe == NULL && exe && exe[0] == '/')
		p->exe = xstrdup(exe);
	if (p->cwd == NULL)
		p->cwd = readlink_proc(p->pid, "cwd");
	return 1;
}

int
procinfo_fill(struct procinfo *v, size_t n)
{
	return select_full(full_items,
	    (int)(sizeof(full_items) / sizeof(full_items[0])), v, n, full_of);
}

static int
moving_of(struct procinfo *p, struct pids_stack *s, struct pids_info *info)
{
	(void)info;
	/* Another process under a reused pid: not this one. */
	if (p->start_s != PIDS_VAL(F_START, real, s, info))
		return 0;
	moving_fields(p, s, info);
	free(p->cwd);
	p->cwd = readlink_proc(p->pid, "cwd");
	return 1;
}

int
procinfo_refresh(struct procinfo *v, size_t n)
{
	return select_full(moving_items,
	    (int)(sizeof(moving_items) / sizeof(moving_items[0])), v, n,
	    moving_of);
}

static int
ticks_of(struct procinfo *p, struct pids_stack *s, struct pids_info *info)
{
	(void)info;
	p->ticks = PIDS_VAL(1, ull_int, s, info);
	return 1;
}

int
procinfo_ticks(struct procinfo *v, size_t n)
{
	int *was = xcalloc(n + 1, sizeof(*was));
	int rc;

	for (size_t i = 0; i < n; i++)
		was[i] = v[i].full;
	rc = select_full(tick_items, 2, v, n, ticks_of);
	for (size_t i = 0; i < n; i++)
		if (was[i] && !v[i].full) {
			v[i].full = 1;
			v[i].ticks = 0;
			v[i].state = 'X';
		}
	free(was);
	return rc;
}

/* include/linux/sched.h: set by do_exit() before the fd table is closed. */
#define KERNEL_PF_EXITING 0x00000004UL

int
procinfo_exiting(int pid)
{
	static enum pids_item items[] = { PIDS_ID_PID, PIDS_STATE, PIDS_FLAGS };
	struct pids_info *info = NULL;
	struct pids_fetch *f;
	unsigned one = (unsigned)pid;
	int exiting = 1;

	if (procps_pids_new(&info, items, 3) < 0)
		return 0;	/* cannot tell: keep the reading */
	f = procps_pids_select(info, &one, 1, PIDS_SELECT_PID);
	if (f != NULL && f->counts->total == 1) {
		struct pids_stack *s = f->stacks[0];
		char st = PIDS_VAL(1, s_ch, s, info);

		exiting = st == 'Z' || st == 'X' ||
		    (PIDS_VAL(2, ul_int, s, info) & KERNEL_PF_EXITING) != 0;
	}
	procps_pids_unref(&info);
	return exiting;
}

long
procinfo_hertz(void)
{
	long h = procps_hertz_get();

	return h > 0 ? h : 100;
}

double
procinfo_uptime(void)
{
	double up = 0, idle = 0;

	if (procps_uptime(&up, &idle) < 0)
		return 0;
	return up;
}

long
procinfo_ncpu(void)
{
	long n = procps_cpu_count();

	return n > 0 ? n : 1;
}

static void
read_psi(struct sysmem *m)
{
	FILE *f = fopen("/proc/pressure/memory", "re");
	char line[256];

	m->psi_some_avg10 = m->psi_full_avg10 = m->psi_some_avg60 = -1;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		double a10, a60;

		if (sscanf(line, "some avg10=%lf avg60=%lf", &a10, &a60) == 2) {
			m->psi_some_avg10 = a10;
			m->psi_some_avg60 = a60;
		} else if (sscanf(line, "full avg10=%lf", &a10) == 1) {
			m->psi_full_avg10 = a10;
		}
	}
	fclose(f);
}

int
sysmem_read(struct sysmem *m)
{
	struct meminfo_info *info = NULL;

	memset(m, 0, sizeof(*m));
	read_psi(m);
	if (procps_meminfo_new(&info) < 0)
		return -1;
	m->total_kb = MEMINFO_GET(info, MEMINFO_MEM_TOTAL, ul_int);
	m->available_kb = MEMINFO_GET(info, MEMINFO_MEM_AVAILABLE, ul_int);
	m->used_kb = MEMINFO_GET(info, MEMINFO_MEM_USED, ul_int);
	m->swap_total_kb = MEMINFO_GET(info, MEMINFO_SWAP_TOTAL, ul_int);
	m->swap_free_kb = MEMINFO_GET(info, MEMINFO_SWAP_FREE, ul_int);
	procps_meminfo_unref(&info);
	return 0;
}
