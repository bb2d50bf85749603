/*
 * --capture-before S: a rolling low-rate CPU sample of the watched Claude
 * Code processes, so a capture also shows what a process did before it
 * crossed. cd-sample runs in chunks of up to S seconds at PRE_HZ (perf
 * only: ptrace would stop the targets, and collide with a capture's own)
 * on the processes that used CPU in the last frame: an idle one has
 * nothing to sample, and each process sampled costs cd-sample about 3 ms
 * a chunk (200 idle ones: 11% of a core). A process that becomes busy
 * cuts the chunk short so the next one includes it. Finished chunks are
 * kept while they end within the last S seconds. On a crossing the
 * running chunk is told to stop (SIGINT: it writes what it has) and the
 * crossing process's samples of the kept chunks go into the capture's
 * folder: before.folded, before.svg (cd-fold, cd-svg), before.tree (the
 * top of its call tree) and before.txt, added to report.txt when the
 * capture ends. Memory: at most PRE_RING chunks of records; disk: four
 * files a capture folder, pruned with it.
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
#include "record.h"
#include "stage.h"
#include "trace.h"
#include "units.h"

#define PRE_HZ 19
#define PRE_FAILS 3		/* chunks failing in a row before giving up */
#define PRE_BUSY_PCT 0.5	/* CPU% in the last frame that gets sampled */
#define PRE_MIN_CHUNK_NS 1000000000ULL	/* no shorter cut for a newcomer */

/*
 * The processes busy now or within the last S seconds: what a chunk
 * samples. Remembering them keeps one that flickers around the floor in
 * the next chunks, rather than cutting a chunk each time it comes back.
 */
static void
busy_pids(struct presample *p, const cJSON *procs, struct pidlist *out)
{
	uint64_t now = now_mono_ns(), win = (uint64_t)(p->window_s * 1e9);
	const cJSON *r;
	size_t k = 0;

	cJSON_ArrayForEach(r, procs) {
		int pid = (int)rec_get_num(r, "pid", 0);
		size_t i;

		if (rec_get_num(r, "cpu_pct", 0) < PRE_BUSY_PCT)
			continue;
		for (i = 0; i < p->nrecent && p->recent[i].pid != pid; i++)
			;
		if (i == p->nrecent) {
			p->recent = xreallocarray(p->recent, ++p->nrecent,
			    sizeof(*p->recent));
			p->recent[i].pid = pid;
		}
		p->recent[i].t = now;
	}
	for (size_t i = 0; i < p->nrecent; i++)
		if (p->recent[i].t + win >= now) {
			p->recent[k++] = p->recent[i];
			pidlist_add(out, p->recent[i].pid);
		}
	p->nrecent = k;
}

static void
chunk_start(struct presample *p, const struct pidlist *busy)
{
	struct stage_argv a = { 0 };

	stage_arg(&a, "cd-sample");
	stage_arg(&a, "--method");
	stage_arg(&a, "perf");
	stage_arg(&a, "-F");
	stage_argf(&a, "%.0f", PRE_HZ);
	stage_arg(&a, "-d");
	stage_argf(&a, "%g", p->window_s);
	stage_arg(&a, "--no-analysis");
	stage_arg(&a, "--no-progress");
	pidlist_release(&p->set);
	for (size_t i = 0; i < busy->n; i++) {
		stage_arg(&a, "--pid");
		stage_argf(&a, "%.0f", busy->v[i]);
		pidlist_add(&p->set, busy->v[i]);
	}
	if (stage_start(&p->cur, a.v, -1) == 0) {
		p->running = 1;
		p->cutting = 0;
		p->t0 = now_mono_ns();
	} else {
		p->failed = 1;
		msg_warn("--capture-before: cd-sample could not be started; "
		    "no sample before a crossing");
	}
	stage_argv_release(&a);
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

static int
new_file(int folder, const char *name)
{
	int fd = capture_new_file(folder, name);

	if (fd < 0)
		msg_warnerr("--capture-before: %s", name);
	return fd;
}

/* Run prog on in_fd; its stdout into name in the folder. 0 or -1. */
static int
run_into(char *const argv[], int in_fd, int folder, const char *name,
    struct stage *st)
{
	int fd, rc = 0;
	size_t len;
	char *out;

	if (stage_start(st, argv, in_fd) < 0 || stage_wait(st) != 0)
		return -1;
	out = stage_stdout(st, &len);
	if ((fd = new_file(folder, name)) < 0)
		rc = -1;
	else if (write(fd, out, len) != (ssize_t)len) {
		msg_warnerr("--capture-before: %s", name);
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	free(out);
	return rc;
}

static void
graphs(int in, int folder, size_t nsamples, double span)
{
	char *fold[] = { "cd-fold", NULL };
	char *tree[] = { "cd-fold", "--tree", "--tree-min", "5", NULL };
	char title[96], *svg[] = { "cd-svg", "--title", title, NULL };
	struct stage f = { .out_fd = -1, .err_fd = -1 }, t = f, s = f;

	snprintf(title, sizeof(title), "Before the crossing: %.1f s, %zu "
	    "samples at %d Hz", span, nsamples, PRE_HZ);
	if (run_into(fold, in, folder, "before.folded", &f) < 0 ||
	    run_into(svg, stage_stdout_fd(&f), folder, "before.svg", &s) < 0 ||
	    run_into(tree, stage_stdout_fd(&f), folder, "before.tree", &t) < 0)
		msg_warn("--capture-before: the sample before the crossing "
		    "was not written in full");
	stage_release(&f);
	stage_release(&s);
	stage_release(&t);
}

static void
statement(int folder, size_t nsamples, double span, int off)
{
	int fd = new_file(folder, "before.txt");
	FILE *txt;

	if (fd < 0)
		return;
	if ((txt = fdopen(fd, "w")) == NULL) {
		close(fd);
		return;
	}
	if (off)
		fprintf(txt, "\nBefore the crossing (--capture-before): no "
		    "sample: cd-sample could not sample (see claude-trace's "
		    "messages).\n");
	else if (nsamples > 0)
		fprintf(txt, "\nBefore the crossing (--capture-before): %zu "
		    "samples at %d Hz over the %.1f s before it, in "
		    "before.folded and before.svg; the top of its call tree is "
		    "in before.tree.\n", nsamples, PRE_HZ, span);
	else
		fprintf(txt, "\nBefore the crossing (--capture-before): no "
		    "sample: the process used under %g%% CPU in the frames "
		    "before it, or was not seen before.\n", PRE_BUSY_PCT);
	if (fclose(txt) == EOF)
		msg_warnerr("--capture-before: before.txt");
}

/* One crossing's "before" files, from the chunks ending within S. */
static void
dump(const struct presample *p, const struct prepend *w)
{
	uint64_t from = w->t, win = (uint64_t)(p->window_s * 1e9);
	int in = memfd_create("before", MFD_CLOEXEC);
	size_t n = 0;

	if (in < 0) {
		msg_warnerr("--capture-before: memfd_create");
		return;
	}
	for (size_t i = 0; i < p->nring; i++) {
		const struct prechunk *c = &p->ring[i];

		if (c->t1 + win < w->t || c->t0 > w->t)
			continue;
		n += write_samples(in, c->text, w->pid);
		if (c->t0 < from)
			from = c->t0;
	}
	if (n > 0)
		graphs(in, w->folder, n, (double)(w->t - from) / 1e9);
	statement(w->folder, n, (double)(w->t - from) / 1e9, p->failed);
	close(in);
}

/* Keep the chunk; forget those that ended more than S ago. */
static void
ring_push(struct presample *p, char *text, uint64_t t0, uint64_t t1)
{
	uint64_t win = (uint64_t)(p->window_s * 1e9);
	size_t k = 0;

	if (p->nring == PRE_RING) {
		free(p->ring[0].text);
		memmove(p->ring, p->ring + 1, --p->nring * sizeof(p->ring[0]));
	}
	p->ring[p->nring++] = (struct prechunk){ text, t0, t1 };
	for (size_t i = 0; i < p->nring; i++) {
		if (p->ring[i].t1 + win < t1)
			free(p->ring[i].text);
		else
			p->ring[k++] = p->ring[i];
	}
	p->nring = k;
}

static void
dump_pending(struct presample *p)
{
	for (size_t i = 0; i < p->npend; i++) {
		dump(p, &p->pend[i]);
		close(p->pend[i].folder);
	}
	p->npend = 0;
}

/* The running chunk ended: keep its records, write pending dumps. */
static void
chunk_done(struct presample *p)
{
	size_t len;
	char *text = stage_stdout(&p->cur, &len);

	/* Our SIGINT can end a chunk just started before it catches it:
	 * stopped as asked, not a failure. */
	if (!(p->cutting && p->cur.status == 128 + SIGINT))
		p->fails = p->cur.status == 0 ? 0 : p->fails + 1;
	/* Refused (no perf_event_open), or gone wrong: not every frame. */
	if (p->fails >= PRE_FAILS) {
		char *e = stage_error(&p->cur);

		msg_warn("--capture-before: cd-sample: %s; no sample before "
		    "a crossing from now on", e);
		free(e);
		p->failed = 1;
	}
	ring_push(p, text, p->t0, now_mono_ns());
	dump_pending(p);
	stage_release(&p->cur);
	p->running = 0;
}

/* A busy process the running chunk does not sample: cut it short. */
static void
maybe_cut(struct presample *p, const struct pidlist *busy)
{
	if (p->cutting || now_mono_ns() - p->t0 < PRE_MIN_CHUNK_NS)
		return;
	for (size_t i = 0; i < busy->n; i++)
		if (!pidlist_has(&p->set, busy->v[i])) {
			stage_signal(&p->cur, SIGINT);	/* it writes what it has */
			p->cutting = 1;
			return;
		}
}

void
presample_frame(struct presample *p, const cJSON *procs)
{
	struct pidlist busy = { 0 };

	if (p->window_s <= 0)
		return;
	if (p->running && stage_poll(&p->cur))
		chunk_done(p);
	busy_pids(p, procs, &busy);
	if (p->running)
		maybe_cut(p, &busy);
	else if (!p->failed && busy.n > 0)
		chunk_start(p, &busy);
	pidlist_release(&busy);
}

void
presample_crossed(struct presample *p, int pid, int folder)
{
	struct prepend *w;

	if (p->window_s <= 0)
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
	if (!p->running) {
		dump_pending(p);	/* what the kept chunks have */
		return;
	}
	stage_signal(&p->cur, SIGINT);	/* it writes what it has */
	p->cutting = 1;
}

void
presample_close(struct presample *p)
{
	if (p->running) {
		stage_signal(&p->cur, SIGINT);
		p->cutting = 1;
		stage_wait(&p->cur);
		chunk_done(p);
	}
	dump_pending(p);
	for (size_t i = 0; i < p->nring; i++)
		free(p->ring[i].text);
	pidlist_release(&p->set);
	free(p->recent);
	free(p->pend);
	memset(p, 0, sizeof(*p));
}
