/* cd-trace: what the tracing methods, the decoder and the output share. */
#ifndef CD_TRACE_H
#define CD_TRACE_H

#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "cli.h"

#define MAX_STACK 127

struct trace_opts {
	double duration_s;		/* <= 0: until the targets exit */
	int duration_set;
	int summary;
	int io, network, failures;
	int errno_filter;		/* 0: none */
	int top;			/* 0: all */
	int stacks;
	int diagnose;
	int method;			/* METHOD_* */
	size_t ring_pages;
	int ptrace_latency;		/* latencies include ptrace's stops */
	/* diagnosis thresholds */
	double spin_rate;		/* immediate poll returns per second */
	double io_error_rate;		/* ENOENT/EACCES per second */
	double slow_ms;			/* average latency */
	double meta_rate;		/* stat-family calls per second */
	double connect_fail_rate;	/* failed connects per second */
	double dns_rate;		/* port 53 connects/sends per second */
	double min_calls;		/* fewest calls a latency finding needs */
};

enum { METHOD_AUTO, METHOD_TRACEPOINT, METHOD_PTRACE, METHOD_BPF };

/* One system call between its entry and its exit. */
struct call {
	int pid, tid;
	long nr;
	long ret;
	int done;			/* ret is valid */
	uint64_t ts_ns;			/* entry, CLOCK_MONOTONIC */
	uint64_t dur_ns;
	uint64_t args[6];
	char *path;			/* decoded path argument, or NULL */
	int path_unreadable;
	struct sockaddr_storage sa;	/* decoded address, salen 0 if none */
	socklen_t salen;
	uint64_t stack[MAX_STACK];	/* raw callchain, leaf first */
	int nstack;
};

/* A traced thread. */
struct thr {
	int tid, pid;
	char comm[32];			/* thread name */
	struct call cur;
	int in_call;
	struct call early_exit;		/* an exit seen before its entry */
	int have_early_exit;
	int seen_enter;			/* an exit before any entry is no loss */
	/* method-private */
	int pt_stopped;
	int pt_attached;
	int pt_preexec;			/* spawned child before its execve */
};

struct run_stats {
	uint64_t events;		/* raw entry+exit events seen */
	uint64_t calls;			/* finished calls */
	uint64_t lost;			/* events the kernel dropped */
	uint64_t unpaired;		/* exits with no entry, entries with no exit */
	uint64_t unfinished;		/* calls still in progress at the end */
	uint64_t path_unreadable;
	uint64_t threads_seen;
	uint64_t procs_exited;
	uint64_t detach_ns;		/* from the end of tracing to the last detach */
};

struct thr_tables;		/* thread.c */
struct out_tables;		/* output.c */
struct psym;			/* stacks.c */
struct decoder;			/* decode.c */

/*
 * One run of cd-trace: what was asked, what was counted, and the tables
 * every module keeps, passed to each of them (no module keeps state of
 * its own between calls).
 */
struct trace {
	struct trace_opts opt;
	struct run_stats stats;
	int stop_reason;		/* signal number that ended the run, 0 none */
	struct thr_tables *thr;		/* threads, process names, fd names */
	struct out_tables *out;		/* aggregates for summaries and diagnoses */
	struct psym *syms;		/* --stacks: one symbolizer per process */
	struct decoder *dec;		/* what each syscall number takes and means */
};

/* run.c: the signals the loops handle, and the deadline (clock: units.h) */
int signals_block(sigset_t *set);	/* blocked, for a signalfd */
int setup_interrupted(struct trace *tr, uint64_t deadline);	/* 0: deadline 0 is none */
/* Take the signals that came through a signalfd; 1 once one ends the run. */
int signals_take(struct trace *tr, int sfd);
uint64_t run_deadline(const struct trace *tr);	/* now + --duration; 0 none */
int deadline_timeout(uint64_t deadline, int timeout);	/* -1: past it */

/* thread.c: attaching to every thread of a process, however the method attaches */
struct thread_walk {
	const struct pidlist *attached;	/* tids already attached: skipped */
	int (*attach)(void *arg, int pid, int tid);	/* 0, 1 gone, -1 errno */
	void (*before_listing)(void *arg);	/* or NULL */
	void *arg;
};
int attach_threads(struct trace *tr, int pid, uint64_t deadline,
    const struct thread_walk *w);

/* thread.c: the thread table */
struct thr *thr_get(struct trace *tr, int pid, int tid);
struct thr *thr_find(struct trace *tr, int tid);
void thr_forget(struct trace *tr, int tid);
void thr_each(struct trace *tr, void (*fn)(struct trace *, struct thr *));
const char *proc_comm(struct trace *tr, int pid);
void proc_comm_set(struct trace *tr, int pid, const char *comm);
void thr_refresh_comm(struct thr *t);
int proc_is_zombie(int pid);	/* keeps errno */
void warn_gone(int pid);	/* why a target could not be traced: gone */

/* thread.c: what each (pid, fd) refers to */
const char *fd_describe(struct trace *tr, int pid, int fd);	/* cached; NULL if unknown */
void fd_set_desc(struct trace *tr, int pid, int fd, const char *desc);
void fd_forget(struct trace *tr, int pid, int fd);
void fd_forget_pid(struct trace *tr, int pid);
void fd_snapshot(struct trace *tr, int pid);		/* every fd as tracing begins */
const char *fd_snapshot_name(struct trace *tr, int pid, int fd);
void thr_init(struct trace *tr);
void thr_release(struct trace *tr);	/* threads and fd tables */

/* decode.c */
void decode_init(struct trace *tr);
void decode_release(struct trace *tr);
void decode_enter(struct trace *tr, struct call *c);
void decode_exit(struct trace *tr, struct call *c);
int call_is_io(const struct trace *tr, long nr);
int call_is_net(const struct trace *tr, long nr);
int call_path_arg(const struct trace *tr, long nr);	/* index of a path argument, or -1 */
int call_fd_arg(const struct trace *tr, long nr);	/* index of an fd argument, or -1 */
int call_is_metadata(const struct trace *tr, long nr);
int call_is_poll(const struct trace *tr, long nr);
int call_is_dns(const struct call *c);
int call_blocks_by_design(struct trace *tr, const struct call *c);
int call_bytes_dir(const struct trace *tr, long nr);	/* +1 read/recv, -1 write/send, 0 none */
int call_blocks_always(const struct trace *tr, long nr);	/* waits by design whatever its fd */
int call_is_stream(const struct trace *tr, long nr);	/* waits when its fd is a pipe, socket, tty */
int call_changes_fds(const struct trace *tr, long nr);	/* opens, closes, dups, connects an fd */
void call_arg_layout(const struct trace *tr, long nr, int idx[6]);	/* path, fd, addr, addrlen, oaddr, oaddrlen */
int fd_desc_blocks(const char *desc);	/* a pipe, socket, tty: NULL too */
char *sockaddr_str(const struct sockaddr_storage *sa, socklen_t len,
    int *port, const char **family);
const char *open_flags_str(unsigned long flags, char *buf, size_t len);
int read_user_str(int pid, uint64_t addr, char *buf, size_t len);
int read_user(int pid, uint64_t addr, void *buf, size_t len);

/* calls.c: pairing entries with exits, then out_call */
void call_enter(struct trace *tr, struct thr *t, long nr, const uint64_t args[6], uint64_t ts,
    const uint64_t *stack, int nstack);
void call_exit(struct trace *tr, struct thr *t, long nr, long ret, uint64_t ts);
void calls_finish(struct trace *tr);

/* output.c */
void out_init(struct trace *tr);
void out_call(struct trace *tr, const struct call *c);
void out_summaries(struct trace *tr, double elapsed_s);
int out_diagnose(struct trace *tr, double elapsed_s);	/* number of critical findings */
void out_release(struct trace *tr);
/* output.c, for the BPF method: the kernel counted, user space names */
void out_call_bpf(struct trace *tr, const struct call *c, int keep, int target);
void out_kernel_sum(struct trace *tr, int pid, long nr, int err, uint64_t count, uint64_t total_ns,
    uint64_t max_ns, uint64_t spin, const uint64_t *hist, int nhist);
void out_kernel_fd(struct trace *tr, int pid, long nr, int err, int empty_path, const char *target,
    uint64_t count, uint64_t bytes, uint64_t total_ns);

/* stacks.c: callchains (leaf first, with perf's context markers) to names, root first */
void stack_prepare(struct trace *tr, int pid);
void stack_exec(struct trace *tr, int pid);
int stack_names(struct trace *tr, int pid, const uint64_t *ips, int n, const char **out, int max);
void stack_release(struct trace *tr);

/* methods: 0 ran; -1 could not start (why filled, nothing emitted) */
struct target_set {
	struct pidlist pids;		/* processes to attach to */
	pid_t child;			/* spawned command, or 0 */
	int child_gate;			/* write end of the child's start pipe */
	int child_status;		/* wait status once reaped */
	int child_reaped;
};
int tp_run(struct trace *tr, struct target_set *ts, char *why, size_t whylen, int *tracefs_mounted);
int pt_run(struct trace *tr, struct target_set *ts, char *why, size_t whylen);
int bpf_run(struct trace *tr, struct target_set *ts, char *why, size_t whylen);

/* spawn.c */
pid_t spawn_gated(char **argv, int *gate);
void spawn_go(int *gate);
void spawn_abort(int *gate);
void spawn_reap(struct target_set *ts);
void spawn_reap_exited(struct target_set *ts);	/* waits a second at most */

#endif
