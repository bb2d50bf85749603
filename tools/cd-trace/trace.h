/* cd-trace: what the tracing methods, the decoder and the output share. */
#ifndef CD_TRACE_H
#define CD_TRACE_H

#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "cli.h"

#define MAX_STACK 127

struct opts {
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
	struct thr *next;
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

extern struct opts opt;
extern struct run_stats stats;
extern volatile sig_atomic_t stop_reason;	/* signal number that ended the run */

/* thread.c: the thread table */
struct thr *thr_get(int pid, int tid);
struct thr *thr_find(int tid);
void thr_forget(int tid);
void thr_each(void (*fn)(struct thr *, void *), void *arg);
const char *proc_comm(int pid);
void proc_comm_set(int pid, const char *comm);
void thr_refresh_comm(struct thr *t);
int proc_is_zombie(int pid);	/* keeps errno */
void warn_gone(int pid);	/* why a target could not be traced: gone */

/* thread.c: what each (pid, fd) refers to */
const char *fd_describe(int pid, int fd);	/* cached; NULL if unknown */
void fd_set_desc(int pid, int fd, const char *desc);
void fd_forget(int pid, int fd);
void fd_forget_pid(int pid);
void fd_snapshot(int pid);		/* every fd as tracing begins */
const char *fd_snapshot_name(int pid, int fd);
void fd_tables_free(void);

/* decode.c */
void decode_init(void);
void decode_enter(struct call *c);
void decode_exit(struct call *c);
int call_is_io(long nr);
int call_is_net(long nr);
int call_path_arg(long nr);	/* index of a path argument, or -1 */
int call_fd_arg(long nr);	/* index of an fd argument, or -1 */
int call_is_metadata(long nr);
int call_is_poll(long nr);
int call_is_dns(const struct call *c);
int call_blocks_by_design(const struct call *c);
int call_bytes_dir(long nr);	/* +1 read/recv, -1 write/send, 0 none */
int call_blocks_always(long nr);	/* waits by design whatever its fd */
int call_is_stream(long nr);	/* waits when its fd is a pipe, socket, tty */
int call_changes_fds(long nr);	/* opens, closes, dups, connects an fd */
void call_arg_layout(long nr, int idx[6]);	/* path, fd, addr, addrlen, oaddr, oaddrlen */
int fd_desc_blocks(const char *desc);	/* a pipe, socket, tty: NULL too */
char *sockaddr_str(const struct sockaddr_storage *sa, socklen_t len,
    int *port, const char **family);
const char *open_flags_str(unsigned long flags, char *buf, size_t len);
int read_user_str(int pid, uint64_t addr, char *buf, size_t len);
int read_user(int pid, uint64_t addr, void *buf, size_t len);

/* calls.c: pairing entries with exits, then out_call */
void call_enter(struct thr *t, long nr, const uint64_t args[6], uint64_t ts,
    const uint64_t *stack, int nstack);
void call_exit(struct thr *t, long nr, long ret, uint64_t ts);
void calls_finish(void);

/* output.c */
void out_init(void);
void out_call(const struct call *c);
void out_summaries(double elapsed_s);
int out_diagnose(double elapsed_s);	/* number of critical findings */
void out_free(void);
/* output.c, for the BPF method: the kernel counted, user space names */
void out_call_bpf(const struct call *c, int keep, int target);
void out_kernel_sum(int pid, long nr, int err, uint64_t count, uint64_t total_ns,
    uint64_t max_ns, uint64_t spin, const uint64_t *hist, int nhist);
void out_kernel_fd(int pid, long nr, int err, int empty_path, const char *target,
    uint64_t count, uint64_t bytes, uint64_t total_ns);

/* stacks.c: callchains (leaf first, with perf's context markers) to names, root first */
void stack_prepare(int pid);
void stack_exec(int pid);
int stack_names(int pid, const uint64_t *ips, int n, const char **out, int max);
void stack_free(void);

/* methods: 0 ran; -1 could not start (why filled, nothing emitted) */
struct target_set {
	struct pidlist pids;		/* processes to attach to */
	pid_t child;			/* spawned command, or 0 */
	int child_gate;			/* write end of the child's start pipe */
	int child_status;		/* wait status once reaped */
	int child_reaped;
};
int tp_run(struct target_set *ts, char *why, size_t whylen, int *tracefs_mounted);
int pt_run(struct target_set *ts, char *why, size_t whylen);
int bpf_run(struct target_set *ts, char *why, size_t whylen);
void bpf_note_names(const struct call *c, uint64_t gen);

/* spawn.c */
pid_t spawn_gated(char **argv, int *gate);
void spawn_release(int *gate);
void spawn_abort(int *gate);

uint64_t mono_ns(void);
int signals_block(sigset_t *set);	/* the signals the loops handle */
int setup_interrupted(uint64_t deadline);	/* 0: deadline 0 is none */

#endif
