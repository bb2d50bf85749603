/* cd-fds internals: options, one process's collected view, the passes. */
#ifndef CD_FDS_H
#define CD_FDS_H

#include <stdint.h>

#include "cli.h"
#include "fdscan.h"
#include "record.h"
#include "sockdiag.h"

struct fds_opts {
	struct pidlist pids;
	int table;
	int no_fds;		/* summary and diagnoses only */
	int netlink;		/* 0 with --procfs-sockets */
	enum fdscan_method method;
	long paths;		/* watched paths / connections listed, 0 = all */
	double watch_s;		/* 0: one snapshot */
	double interval_s;
	int strict;
	/* diagnosis thresholds */
	long max_fds;
	double limit_pct;
	long max_watches;
	double user_watches_pct;
	long max_close_wait;
	long min_deleted;
	double max_growth;
};

/* Socket states we count; the rest go to "other". */
enum { ST_COUNT = 13 };

/* One process, collected. */
struct proc_fds {
	int pid;
	struct fd_scan scan;
	const struct sock_ent **sock;	/* per fd, NULL when not a resolved socket */
	long by_kind[FDK__COUNT];
	long conn_by_state[ST_COUNT];	/* tcp only, kernel numbering */
	long tcp_total, udp_total, unix_total;
	long inotify_watches;
	long epoll_watched;
	long deleted;
	int64_t deleted_bytes;
	long sockets_unresolved;
	int64_t nofile_soft, nofile_hard;	/* -1 unlimited, -2 unknown */
	int have_user;
	struct inotify_usage user;
	struct sock_table *tab;
	/* --watch */
	int exited;		/* during the watch: this is its last sample */
	int samples;
	double span_s;
	double slope_total;
	double slope_kind[FDK__COUNT];
	long first_total;
};

struct ctx {
	const struct fds_opts *o;
	struct inotify_limits ilim;
	uint64_t self_netns;
	int used_netlink, used_procfs;
	int used_bpf, used_procfs_fds;	/* how fd tables were read */
	char **reasons;			/* distinct socket fallback reasons */
	size_t nreasons;
	/* user inotify usage, cached per uid */
	uint32_t *user_uid;
	struct inotify_usage *user_usage;
	size_t nusers;
	/* meta */
	unsigned long fds_vanished, watches_resolved, watches_unresolved,
	    sockets_unresolved, fdinfo_unreadable;
	long criticals, warnings;
};

/* collect.c */
int collect(struct ctx *c, int pid, int full, struct proc_fds *p);
void proc_fds_release(struct proc_fds *p);
void ctx_release(struct ctx *c);

/* emit.c */
void emit_fds(const struct ctx *c, const struct proc_fds *p);
void emit_summary(const struct ctx *c, const struct proc_fds *p);
const char *fd_describe(const struct proc_fds *p, size_t i, char *buf, size_t len);

/* diagnose.c */
void diagnose(struct ctx *c, const struct proc_fds *p);

/* watch.c: counts over time, one series per target */
struct series {
	int pid;
	int n, cap;
	double *t;			/* seconds since the first sample */
	long *total;
	long (*kind)[FDK__COUNT];
	int err;			/* why sampling stopped early (ESRCH: exited) */
	struct proc_fds last;		/* the last good sample */
	int have_last;
};
void watch_run(struct ctx *c, struct series *s, size_t n, volatile int *stop);
void watch_slopes(const struct series *s, struct proc_fds *p);
void series_release(struct series *s);
/* Least-squares slope of y over x; 0 with fewer than two points. */
double slope(const double *x, const double *y, int n);

/* table.c */
void table_print(const struct ctx *c, const struct proc_fds *p);
void table_diagnosis(const cJSON *d);

#endif
