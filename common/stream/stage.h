/*
 * Running the other claude-diagnose programs as stages: the driver and
 * claude-trace compose cd-ps, cd-fds, ... rather than copying their code.
 * A stage's stdout and stderr go to anonymous memory files (memfd), so
 * stages can run at the same time without pipe deadlocks and without any
 * file name in /tmp.
 */
#ifndef CD_STAGE_H
#define CD_STAGE_H

#include <stddef.h>
#include <sys/types.h>

struct stage {
	char *name;		/* program name, for messages */
	pid_t pid;		/* 0 when not running */
	int out_fd;		/* memfd holding stdout */
	int err_fd;		/* memfd holding stderr */
	int status;		/* exit code; 128+signal; -1 not started or lost */
	int missing;		/* the program was not found */
};

/*
 * Where prog lives: beside the running program, else on PATH. Returns a
 * malloc'd path, or NULL when not found.
 */
char *stage_find(const char *prog);
/*
 * Start argv[0] (a program name, looked up with stage_find) with stdin
 * from in_fd (-1: /dev/null). Returns 0, or -1 with st->missing set or a
 * message printed.
 */
int stage_start(struct stage *st, char *const argv[], int in_fd);
/*
 * stage_start, its stdout a pipe whose read end goes in *out_rd (the
 * caller's to close): for a stage read while it runs.
 */
int stage_start_pipe(struct stage *st, char *const argv[], int in_fd, int *out_rd);
/* Wait for the stage; returns st->status. */
int stage_wait(struct stage *st);
/* Non-blocking: 1 and st->status set when it has ended, 0 while it runs. */
int stage_poll(struct stage *st);
void stage_signal(struct stage *st, int sig);
/* Everything the stage wrote on stdout/stderr, NUL-terminated; caller frees. */
char *stage_stdout(struct stage *st, size_t *len);
char *stage_stderr(struct stage *st);
/* Rewind the stage's stdout memfd and return it for reading (still owned by st). */
int stage_stdout_fd(struct stage *st);
void stage_release(struct stage *st);

/* Why a stage failed: its stderr, else how it ended. Caller frees. */
char *stage_error(struct stage *st);

/* An argv being built for stage_start (always NULL-terminated). */
struct stage_argv {
	char **v;
	size_t n, cap;
};
void stage_arg(struct stage_argv *a, const char *s);
/* One argument from a number: stage_argf(a, "%g", 0.5). */
void stage_argf(struct stage_argv *a, const char *fmt, double v);
void stage_argv_release(struct stage_argv *a);

/*
 * Parse the stage's stdout as records: every record but "meta" appended
 * to arr (a cJSON array), the meta record (if any) in *meta. Returns the
 * number of malformed lines (each reported on stderr).
 */
struct cJSON;
long stage_records(struct stage *st, struct cJSON *arr, struct cJSON **meta);

#endif
