/*
 * cd-fold: turn stack samples and system calls, ours or another tool's,
 * into folded stacks. Every importer is fed one line at a time (no
 * newline, not NUL-terminated) so that fold_buffer() can drive it from a
 * memory buffer, which is how the fuzz harnesses in tests/fuzz/ call it.
 */
#ifndef CD_FOLD_H
#define CD_FOLD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct intern;
struct stacktab;

enum fold_fmt {
	FMT_AUTO,
	FMT_RECORDS,
	FMT_PERF,
	FMT_SAMPLE,
	FMT_DTRACE,
	FMT_FOLDED,
	FMT_CPUPROFILE,
};

/* What cd-fold writes: folded text (default), or the other views of it. */
enum fold_out { OUT_FOLDED, OUT_PPROF, OUT_SPEEDSCOPE, OUT_TREE };

enum fold_root { ROOT_PROCESS, ROOT_PID, ROOT_THREAD, ROOT_TID, ROOT_NONE };
enum fold_weight { WEIGHT_COUNT, WEIGHT_DURATION };

struct fold_opts {
	enum fold_fmt fmt;
	enum fold_out out;
	/* perf script, as stackcollapse-perf.pl */
	int pid, tid, addrs;
	const char *event_filter;
	/* every format: _[k] and _[j] annotations kept, or frames dropped */
	int annotate_kernel, annotate_jit, drop_kernel;
	/* records */
	enum fold_root root;
	enum fold_weight weight;
	int leaf;		/* syscall path or address as an extra leaf */
	int no_category;	/* syscalls: process -> syscall, no category level */
	/* macOS sample */
	int drop_idle;
	int quiet;		/* no messages (fuzzing) */
	int labels;		/* records: pid/tid/comm/thread per stack (pprof, speedscope) */
	int strict;		/* stop at the first malformed line */
};

/* Per-format parser state lives here so one struct carries a whole run. */
struct perf_state {
	char *pname;
	size_t pname_len, pname_cap;
	int have_pname;
	int java;
	uint64_t period;
	char *event;		/* the event filter, given or defaulted */
	int event_defaulted, event_warned;
	/*
	 * Frame lines repeat (the same pc, symbol and module in many
	 * samples): each distinct line text is parsed once and its frame ids
	 * remembered, by Java-ness of the process (it changes the tidying).
	 */
	struct intern *cache[2];
	struct { uint32_t off, n; } *centry[2];
	size_t ccap[2];
	uint32_t *cparts;
	size_t ncparts, capcparts;
};

struct sample_frame {
	uint32_t id;
	uint64_t count, children;
};

struct sample_state {
	int phase;		/* 0 before "Call graph:", 1 inside, 2 after */
	int seen_graph;
	struct sample_frame *st;
	size_t n, cap;
	unsigned long graph_line;
};

struct dtrace_state {
	size_t pending;		/* frames since the last count line */
	unsigned long first;	/* line of the first pending frame */
};

struct type_count {
	char *type;
	unsigned long n;
};

struct records_state {
	struct type_count *types;
	size_t ntypes;
	unsigned long samples, syscalls, summaries;	/* this input */
	unsigned long all_samples, all_syscalls;	/* every input so far */
	double freq_hz;		/* cd-sample's meta: sampling frequency, 0 unknown */
	double duration_s;	/* the meta's capture duration, 0 unknown */
	unsigned long durations;	/* syscalls with a duration (stacks2) */
	int wall;		/* cd-sample's meta: wall-clock mode */
};

/* A .cpuprofile is one JSON document: gathered, then folded at the end. */
/* cJSON's tree is ~10x the text; past this a profile is refused, not swapped. */
#define CPUPROF_MAX_BYTES (256u << 20)
struct cpuprof_state {
	char *buf;
	size_t len, cap;
	int too_big;
	unsigned long nodes, samples;	/* folded, for -v */
};

struct fold {
	struct fold_opts o;
	enum fold_fmt fmt;	/* resolved */
	const char *name;	/* input name for messages */
	struct intern *frames;
	struct stacktab *stacks;
	unsigned long lineno, bad, ignored;
	int stop;		/* strict mode saw a bad line */
	int overflowed;
	/* the stack being built, as frame ids */
	uint32_t *v;
	size_t n, cap;
	/*
	 * With o.labels, "pid\x1ftid\x1fcomm\x1fthread" of each record,
	 * interned; label is the current record's id + 1 (0: none).
	 */
	struct intern *labels;
	uint32_t label;
	/*
	 * pprof: a second value per stack where the input has one, the
	 * syscall durations in ns beside the call counts in stacks.
	 */
	struct stacktab *stacks2;
	char *scratch;
	size_t scratch_cap;
	struct perf_state perf;
	struct sample_state sample;
	struct dtrace_state dtrace;
	struct records_state rec;
	struct cpuprof_state cpuprof;
};

void fold_init(struct fold *f, const struct fold_opts *o, const char *name);
void fold_release(struct fold *f);
/* Choose the format from the first bytes of the input. */
enum fold_fmt fold_detect(const char *buf, size_t len);
const char *fold_fmt_name(enum fold_fmt fmt);
/* Feed one line; fold_end() after the last. */
void fold_line(struct fold *f, const char *line, size_t len);
void fold_end(struct fold *f);
/* Split buf into lines and feed them all, then fold_end(). */
void fold_buffer(struct fold *f, const char *buf, size_t len);
/* Read fd to its end (detecting the format if needed) and fold it. */
int fold_fd(struct fold *f, int fd);
/* The folded result, sorted, to out. Returns 0 or -1 on a write error. */
int fold_write(struct fold *f, FILE *out);

/* Helpers the importers share. */
void fold_bad(struct fold *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for an input malformed as a whole (no line to name). */
void fold_bad_input(struct fold *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fold_push(struct fold *f, const char *s, size_t len);
void fold_push_id(struct fold *f, uint32_t id);
void fold_commit(struct fold *f, uint64_t count);
char *fold_scratch(struct fold *f, size_t need);

void perf_line(struct fold *f, const char *line, size_t len);
void perf_end(struct fold *f);
void perf_release(struct fold *f);
void sample_line(struct fold *f, const char *line, size_t len);
void sample_end(struct fold *f);
void dtrace_line(struct fold *f, const char *line, size_t len);
void dtrace_end(struct fold *f);
void folded_line(struct fold *f, const char *line, size_t len);
void records_line(struct fold *f, const char *line, size_t len);
void records_end(struct fold *f);
void cpuprofile_line(struct fold *f, const char *line, size_t len);
void cpuprofile_end(struct fold *f);
void cpuprofile_release(struct fold *f);
/* Fold a whole .cpuprofile document (fold_fd reads one in at once). */
void cpuprofile_fold(struct fold *f, const char *buf, size_t len);
/* Whether buf starts like a .cpuprofile: an object whose first key is one of its. */
int cpuprofile_like(const char *buf, size_t len);

/* stacktab.c: distinct stacks of frame ids with their summed counts. */
struct stacktab *stacktab_new(void);
void stacktab_free(struct stacktab *t);
/* Returns 1 when the count saturated at 2^64-1. */
int stacktab_add(struct stacktab *t, const uint32_t *ids, size_t n, uint64_t count);
size_t stacktab_count(const struct stacktab *t);
int stacktab_add_label(struct stacktab *t, const uint32_t *ids, size_t n,
    uint32_t label, uint64_t count);
/* The count of an unlabelled stack, 0 when absent. */
uint64_t stacktab_get(const struct stacktab *t, const uint32_t *ids, size_t n);
uint64_t stacktab_get_label(const struct stacktab *t, const uint32_t *ids,
    size_t n, uint32_t label);
/* Walk the table: slot 0 .. stacktab_slots()-1; 1 when slot holds a stack. */
size_t stacktab_slots(const struct stacktab *t);
int stacktab_entry(const struct stacktab *t, size_t slot, const uint32_t **ids,
    size_t *n, uint64_t *count, uint32_t *label);
int stacktab_write(const struct stacktab *t, const struct intern *frames, FILE *out);

struct fold_line {
	const char *s;		/* frames joined by ';' */
	size_t len;
	uint64_t count;
	const uint32_t *ids;
	uint32_t n;
};
/* Every stack's text, sorted by bytes; free *text and the array. */
struct fold_line *stacktab_lines(const struct stacktab *t,
    const struct intern *frames, size_t *nlines, char **text);

/* diff.c: two folds of one frame table into "stack COUNT_A COUNT_B". */
struct fold_diff {
	uint64_t total_a, total_b;	/* as read, before any scaling */
	uint64_t out_a, out_b;		/* sums of the columns written */
	size_t lines;
};
int fold_diff_write(const struct stacktab *a, const struct stacktab *b,
    const struct intern *frames, int normalize, FILE *out, struct fold_diff *d);

/*
 * What a count is: "samples", or for inputs of syscall records only,
 * "calls" or "ns" (durations).
 */
const char *fold_unit(const struct fold *f);
/* tree.c: the stacks as an indented call tree, hottest path first. */
int fold_tree_write(const struct fold *f, double min_pct, FILE *out);
/* pprof.c: a gzipped profile.proto; speedscope.c: speedscope JSON. */
int fold_pprof_write(const struct fold *f, FILE *out);
int fold_speedscope_write(const struct fold *f, FILE *out);

#endif
