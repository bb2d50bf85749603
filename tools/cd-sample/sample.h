/* cd-sample: shared state between capture, symbolization and analysis. */
#ifndef CD_SAMPLE_H
#define CD_SAMPLE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "hashmap.h"
#include "symbols.h"

#define MAX_FRAMES 256

enum method { METHOD_AUTO, METHOD_PERF, METHOD_PTRACE };

struct sample_opts {
	double duration_s;
	int duration_set;
	long freq;
	enum method method;
	int wall;
	int kernel;		/* -1 auto, 0 no, 1 required */
	const char *jitdump_dir;	/* also look for jitdumps here */
	int jsc_frames;		/* name JS frames from the stack (default 1) */
	int jsc_check;		/* --js-check: compare with the jitdump or perf map */
	int jsc_learn;		/* --learn-jsc-layout */
	int progress;
	long top;
	int no_analysis;
	int strict;
	char **cmd;		/* the command to start, or NULL */
};

struct jsc_walker;
struct jsc_learner;
struct v8_walker;

/*
 * A JavaScript engine's target, frames named from its stack: a
 * JavaScriptCore one (jsc.c) or a V8 one (v8.c, v8 set).
 */
struct jscproc {
	pid_t pid;			/* the memory reader's argument */
	char build_id[65];
	const char *layout_from;	/* where its layout came from, or NULL */
	struct jsc_walker *w;		/* NULL: layout unknown */
	struct v8_walker *v8;		/* a V8 target's walker */
	unsigned long map_js;		/* --js-check, V8: frames the perf map names as JS */
	struct jsc_learner *learner;	/* --learn-jsc-layout */
	unsigned long samples, with_stack, named, both, pairs, native_skipped;
	unsigned long compared, agree, differ;	/* --jsc-check */
	unsigned long leaf_compared, leaf_differ;	/* of which the innermost frame */
	struct jitdump *jd;		/* --jsc-check: its own reader */
	uint64_t jd_ns;			/* read up to a sample this late */
	char *examples[10];
	size_t nexamples;
};

/* A process being sampled: its symbols and name. */
struct proc {
	pid_t pid;
	const char *comm;		/* interned */
	struct symbolizer *sym;	/* NULL when its maps could not be read */
	int target;			/* named by the user (or the command) */
	int exited;
	int sym_errno;
	struct jscproc *jsc;		/* NULL: not a JSC target */
};

/*
 * Everything a capture learns. Raw stacks are aggregated by pid, tid,
 * thread name and addresses; names come only at the end.
 */
struct capture {
	const struct sample_opts *o;
	struct hmap procs;		/* pid -> struct proc */
	struct hmap tnames;		/* tid -> interned thread name */
	struct hmap raw;		/* struct rawkey+ips -> count (uintptr_t) */
	struct hmap threads_seen;	/* tid -> (void*)1 */
	unsigned long samples, lost, dup_dropped, snapshots;
	double t_start, t_end;		/* CLOCK_MONOTONIC seconds */
	double t_sym;			/* seconds spent naming frames */
	unsigned long frames_by_kind[SYM_NKINDS];	/* weighted by count */
	double effective_hz;
	int kernel_frames;
	const char *kernel_reason;	/* why not, or NULL */
	const char *method;		/* "perf" or "ptrace" */
	const char *fallback_reason;
	int ended_by_signal;
	int cmd_pid, cmd_status;	/* -1 when none / still running */
	int cmd_go_fd;			/* writing here lets the command exec */
	int jsc_stacks;			/* samples carry registers and stack */
};

/* The part of a raw stack's key before its addresses. */
struct rawkey {
	int32_t pid, tid;
	const char *thread;	/* interned: pointer identity is the key */
	int32_t perfchain;	/* addresses are a perf callchain with markers */
	int32_t n;
};

/* A symbolized, aggregated stack: what a sample record is. */
struct sample {
	int pid, tid;
	const char *comm, *thread;	/* interned */
	size_t n;
	const char **frames;		/* interned, root first */
	unsigned long count;
};

struct samples {
	struct sample *v;
	size_t n, cap;
	struct hmap idx;		/* key -> index + 1 */
	unsigned long frames_total, frames_resolved;	/* weighted by count */
};

extern volatile sig_atomic_t stop_requested;

/* Monotonic seconds (now_mono_ns in units.h for nanoseconds). */
double now_s(void);

/* capture bookkeeping (capture.c) */
void cap_init(struct capture *c, const struct sample_opts *o);
struct proc *cap_proc(struct capture *c, pid_t pid, int create);
/* The processes in no given order: start *pos at 0; NULL at the end. */
struct proc *cap_next_proc(const struct capture *c, size_t *pos);
void cap_thread_name(struct capture *c, pid_t pid, pid_t tid, const char *name);
const char *cap_thread_lookup(struct capture *c, pid_t pid, pid_t tid);
struct js_sample;
/*
 * ns: when it was taken, CLOCK_MONOTONIC (JIT addresses are named by it);
 * js: its registers and stack copy, or NULL.
 */
void cap_add_raw(struct capture *c, pid_t pid, pid_t tid, int perfchain,
    const uint64_t *ips, size_t n, uint64_t ns, const struct js_sample *js);
void cap_refresh_procs(struct capture *c, int final);
int cap_targets_alive(struct capture *c);
void cap_release(struct capture *c);
void cap_release_cmd(struct capture *c);
/* Wait (up to 1 s) until the released command has exec'd. */
void cap_wait_exec(struct capture *c);
void cap_progress(struct capture *c, double deadline, int final);

/* backends: 0 on success, else an errno-ish code and *why set */
int perf_capture(struct capture *c, double deadline, const char **why, int *err);
int ptrace_capture(struct capture *c, double deadline);

/* jsc.c */
#define JSC_STACK_BYTES 32768	/* stack copied per sample when naming JSC frames */
int jsc_attach(struct capture *c, struct proc *p);
/* Did the stack name JS frames of p? */
int jsc_named_any(const struct proc *p);
void jsc_sample(struct capture *c, struct proc *p, const struct js_sample *s,
    const uint64_t *chain, uint64_t *kips, size_t nr, uint64_t ns);
struct cJSON;
int jsc_meta(struct cJSON *m, struct capture *c);
void jsc_free(struct jscproc *j);
/* --js-check: one frame's truth (want) against the stack's name (got). */
void jsc_compare(struct jscproc *j, const char *want, const char *got, size_t depth);
/*
 * The user part of a perf callchain (after PERF_CONTEXT_USER) into pcs
 * (MAX_FRAMES), its index in chain into *first: how many frames.
 */
size_t js_user_chain(const uint64_t *chain, size_t nr, size_t *first, uint64_t *pcs);

/* v8.c */
int v8_attach(struct capture *c, struct proc *p);
size_t v8_sample(struct capture *c, struct proc *p, const struct js_sample *s,
    const uint64_t *chain, uint64_t *kips, size_t nr, size_t cap);
void v8_meta(struct cJSON *o, const struct jscproc *j, int check);

/* stacks.c */
/* One copy of each string (pointers identify them), until strings_free(). */
const char *intern(const char *s);
void strings_free(void);
void samples_add(struct samples *s, int pid, int tid, const char *comm,
    const char *thread, const char **frames, size_t n, unsigned long count);
int frame_resolved(const char *frame);
void samples_sort(struct samples *s);
void samples_from_capture(struct samples *s, struct capture *c);
void samples_release(struct samples *s);
int samples_emit(const struct samples *s);

/* analyze.c */
struct analysis_ctx {
	double freq_hz;		/* samples per CPU-second; 0 if unknown */
	double duration_s;
	int wall;
	long top;
};
/* Emits hot_function, thread_cpu and diagnosis records; returns how many diagnoses were critical. */
int analyze_emit(const struct samples *s, const struct analysis_ctx *a);
/* --analyze over the records on stdin; returns the exit code. */
int analyze_stdin(const struct sample_opts *o);

#endif
