/*
 * --capture-before S: a rolling low-rate CPU sample of the watched Claude
 * Code processes, so a capture also shows what a process did before it
 * crossed. cd-sample runs in chunks of S seconds at PRE_HZ (perf only:
 * ptrace would stop the targets, and collide with a capture's own); the
 * last finished chunk is kept. On a crossing the running chunk is told
 * to stop (SIGINT: it writes what it has), and the crossing process's
 * samples of both chunks, the S to 2S seconds before the crossing, go
 * into the capture's folder: before.folded, before.svg (cd-fold,
 * cd-svg) and before.txt (the top of the call tree), which is added to
 * report.txt when the capture ends. Memory: two chunks of records; disk:
 * three files a capture folder, pruned with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "msg.h"
#include "owner.h"
#include "record.h"
#include "stage.h"
#include "trace.h"
#include "units.h"

#define PRE_HZ 19

static void
chunk_start(struct presample *p, const cJSON *procs)
{
	struct stage_argv a = { 0 };
	const cJSON *r;
	int n = 0;

	stage_arg(&a, "cd-sample");
	stage_arg(&a, "--method");
	stage_arg(&a, "perf");
	stage_arg(&a, "-F");
	stage_argf(&a, "%.0f", PRE_HZ);
	stage_arg(&a, "-d");
	stage_argf(&a, "%g", p->window_s);
	stage_arg(&a, "--no-analysis");
	stage_arg(&a, "--no-progress");
	cJSON_ArrayForEach(r, procs) {
		stage_arg(&a, "--pid");
		stage_argf(&a, "%.0f", rec_get_num(r, "pid", 0));
		n++;
	}
	if (n > 0 && stage_start(&p->cur, a.v, -1) == 0) {
		p->running = 1;
		p->t0 = now_mono_ns();
	} else if (n > 0) {
		p->failed = 1;
		msg_warn("--capture-before: cd-sample could not be started; "
		    "no sample before a crossing");
	}
	stage_argv_free(&a);
}

/* The sample records of pid in text (JSON lines), appended to fd. */
static size_t
write_samples(int fd, const char *text, int pid)
{
	size_t kept = 0;

	for (const char *l = text; l && *l; ) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		cJSON *rec = cJSON_ParseWithLength(l, len);

		if (rec && rec_is(rec, "sample") &&
		    (int)rec_get_num(rec, "pid", 0) == pid) {
			kept += (size_t)rec_get_num(rec, "count", 0);
			if (write(fd, l, len) != (ssize_t)len ||
			    write(fd, "\n", 1) != 1)
				msg_warnerr("--capture-before");
		}
		cJSON_Delete(rec);
		l = nl ? nl + 1 : l + len;
	}
	return kept;
}

/* Run prog on in_fd; its stdout into name in the folder. 0 or -1. */
static int
run_into(char *const argv[], int in_fd, int folder, const char *name,
    struct stage *st)
{
	int fd;
	size_t len;
	char *out;

	if (stage_start(st, argv, in_fd) < 0 || stage_wait(st) != 0)
		return -1;
	out = stage_stdout(st, &len);
	fd = openat(folder, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, out, len) != (ssize_t)len) {
		msg_warnerr("--capture-before: %s", name);
		if (fd >= 0)
			close(fd);
		free(out);
		return -1;
	}
	owner_fix_fd(fd);
	close(fd);
	free(out);
	return 0;
}

static void
dump_files(int in, int folder, size_t nsamples, double span)
{
	char *fold[] = { "cd-fold", NULL };
	char *tree[] = { "cd-fold", "--tree", "--tree-min", "5", NULL };
	char title[96], *svg[] = { "cd-svg", "--title", title, NULL };
	struct stage f = { .out_fd = -1, .err_fd = -1 }, t = f, s = f;
	FILE *txt;
	int fd;

	snprintf(title, sizeof(title), "Before the crossing: %.1f s, %zu "
	    "samples at %d Hz", span, nsamples, PRE_HZ);
	if (run_into(fold, in, folder, "before.folded", &f) < 0 ||
	    run_into(svg, stage_stdout_fd(&f), folder, "before.svg", &s) < 0 ||
	    run_into(tree, in, folder, "before.tree", &t) < 0)
		msg_warn("--capture-before: the sample before the crossing "
		    "was not written in full");
	stage_free(&f);
	stage_free(&s);
	stage_free(&t);
	fd = openat(folder, "before.txt", O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || (txt = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	owner_fix_fd(fd);
	fprintf(txt, "\nBefore the crossing (--capture-before): %zu samples "
	    "at %d Hz over the %.1f s before it, in before.folded and "
	    "before.svg; the top of its call tree is in before.tree.\n",
	    nsamples, PRE_HZ, span);
	if (fclose(txt) == EOF)
		msg_warnerr("--capture-before: before.txt");
}

/* One pending capture's "before" files, from the two chunks. */
static void
dump(struct presample *p, const struct prepend *w, const char *cur)
{
	int in = memfd_create("before", MFD_CLOEXEC);
	size_t n;
	double span = (double)(w->t - p->prev_t0) / 1e9;

	if (in < 0) {
		msg_warnerr("--capture-before: memfd_create");
		return;
	}
	if (p->prev == NULL)
		span = (double)(w->t - p->t0) / 1e9;
	n = write_samples(in, p->prev, w->pid) + write_samples(in, cur, w->pid);
	dump_files(in, w->folder, n, span);
	close(in);
}

/* The running chunk ended: its records, then pending dumps, rotate. */
static void
chunk_done(struct presample *p)
{
	size_t len;
	char *cur = stage_stdout(&p->cur, &len);

	if (p->cur.status != 0 && p->cur.status != 128 + SIGINT &&
	    len == 0) {
		char *e = stage_error(&p->cur);

		msg_warn("--capture-before: cd-sample: %s; no sample before "
		    "a crossing", e);
		free(e);
		p->failed = 1;
	}
	for (size_t i = 0; i < p->npend; i++) {
		dump(p, &p->pend[i], cur);
		close(p->pend[i].folder);
	}
	p->npend = 0;
	free(p->prev);
	p->prev = cur;
	p->prev_t0 = p->t0;
	stage_free(&p->cur);
	p->running = 0;
}

void
presample_frame(struct presample *p, const cJSON *procs)
{
	if (p->window_s <= 0)
		return;
	if (p->running && stage_poll(&p->cur))
		chunk_done(p);
	if (!p->running && !p->failed)
		chunk_start(p, procs);
}

void
presample_crossed(struct presample *p, int pid, int folder)
{
	struct prepend *w;

	if (p->window_s <= 0 || p->failed || !p->running)
		return;
	p->pend = xreallocarray(p->pend, p->npend + 1, sizeof(*p->pend));
	w = &p->pend[p->npend];
	w->folder = fcntl(folder, F_DUPFD_CLOEXEC, 0);
	if (w->folder < 0) {
		msg_warnerr("--capture-before");
		return;
	}
	w->pid = pid;
	w->t = now_mono_ns();
	p->npend++;
	stage_signal(&p->cur, SIGINT);	/* it writes what it has */
}

void
presample_close(struct presample *p)
{
	if (p->running) {
		stage_signal(&p->cur, SIGINT);
		stage_wait(&p->cur);
		chunk_done(p);
	}
	free(p->prev);
	free(p->pend);
	memset(p, 0, sizeof(*p));
}
