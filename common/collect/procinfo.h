/*
 * Process data, behind an interface so another platform can be added
 * without touching the tools. The Linux implementation (procinfo_linux.c)
 * uses procps-ng's libproc2.
 */
#ifndef CD_PROCINFO_H
#define CD_PROCINFO_H

#include <stddef.h>

struct procinfo {
	int pid, ppid;
	char comm[64];
	char *exe;		/* NULL when unreadable */
	char **argv;		/* argc strings, NULL-terminated */
	size_t argc;
	double start_s;		/* seconds since boot */
	/* Filled only for processes the caller keeps: */
	int full;
	char state;
	int threads;
	unsigned long long ticks;	/* utime + stime, clock ticks */
	double elapsed_s;
	unsigned long rss_kb, vsz_kb;
	char tty[32];		/* "pts/3", or "?" */
	char *cwd;		/* NULL when unreadable */
	unsigned uid;
	int pgrp, sid, tpgid, nice;	/* for ps's STAT flags (+, s, <, N) */
	int nfds;		/* open fds; -1 when unreadable */
};

struct proclist {
	struct procinfo *v;
	size_t n;
	size_t scanned;		/* processes looked at, kept or not */
};

/*
 * Decide, from pid, ppid, comm, exe and argv only, which processes to
 * describe in full. Non-zero keeps.
 */
typedef int (*proc_keep_fn)(const struct procinfo *p, void *arg);

/*
 * Scan every process: cheap fields for all, full fields for those keep()
 * selects. With want_all_cheap zero, unkept processes are not returned.
 * Returns 0, or -1 with a message already printed.
 */
int procinfo_scan(struct proclist *out, proc_keep_fn keep, void *arg,
    int want_all_cheap);
/*
 * The cheap fields (those procinfo_scan reads of every process, and
 * start_s) of the listed pids, for a caller that keeps what it learnt of
 * the others; pids gone meanwhile are left out. Returns 0, or -1.
 */
int procinfo_cheap(struct proclist *out, const int *pids, size_t n);
/* The pids now in /proc, ascending (caller frees). Returns 0, or -1. */
int procinfo_pids(int **out, size_t *n);
/* Fill the full fields of the listed pids; gone processes are marked !full. */
int procinfo_fill(struct procinfo *v, size_t n);
/*
 * procinfo_fill again for processes it filled before, reading only what
 * changes (not exe, tty, uid, start): gone or replaced (another start
 * time) ones are marked !full.
 */
int procinfo_refresh(struct procinfo *v, size_t n);
/*
 * Re-read the CPU ticks of the processes marked full, all in one pass;
 * gone ones get ticks=0, state 'X'.
 */
int procinfo_ticks(struct procinfo *v, size_t n);
/*
 * Non-zero when pid is gone, a zombie, or tearing itself down (the
 * kernel's PF_EXITING): what was read of it just before may be half
 * closed, so a sampler keeps its previous reading instead.
 */
int procinfo_exiting(int pid);
void proclist_release(struct proclist *pl);
/* Non-zero: the fills leave nfds -1 (a caller that shows no fd count). */
void procinfo_no_fds(int off);
void procinfo_clear(struct procinfo *p);

long procinfo_hertz(void);
/* Seconds since boot. */
double procinfo_uptime(void);
long procinfo_ncpu(void);

struct sysmem {
	unsigned long total_kb, available_kb, used_kb, swap_total_kb, swap_free_kb;
	/* /proc/pressure/memory; -1 when the kernel has no PSI. */
	double psi_some_avg10, psi_full_avg10, psi_some_avg60;
};
int sysmem_read(struct sysmem *m);

#endif
