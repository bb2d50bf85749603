/*
 * --flamegraph -o FILE: the captured records go through cd-fold into
 * FILE.folded (for external tools) and through cd-svg into FILE.svg. With
 * both -s and -D, the CPU graph is FILE.svg and the syscall graph
 * FILE-syscalls.svg. With --baseline OLD.folded, the CPU graph is also
 * compared with that earlier one: FILE-diff.folded and FILE-diff.svg
 * (cd-fold --diff, cd-svg's differential colours). Files are created
 * fresh (never through a symlink) and, under sudo, given to the invoking
 * user.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diagnose.h"
#include "msg.h"
#include "owner.h"
#include "record.h"
#include "stage.h"

/* The capture's records of the given types, as a stream in a memfd. */
static int
records_fd(const struct report *r, int c, const char *const *types)
{
	int fd = memfd_create("records", MFD_CLOEXEC);
	struct rec_writer *w;
	const cJSON *x;

	if (fd < 0)
		return -1;
	w = rec_writer_new(fd);
	cJSON_ArrayForEach(x, r->cap[c].recs)
		for (int i = 0; types[i]; i++)
			if (rec_is(x, types[i]))
				rec_writer_emit(w, x);
	rec_writer_flush(w);
	rec_writer_free(w);
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
save_failed(struct report *r, const char *path, int e)
{
	msg_warn("%s: %s", path, strerror(e));
	cJSON_AddItemToArray(r->file_errors, cJSON_CreateString(path));
}

/*
 * A stage's output to path: written to a new file beside it, then renamed
 * over it, so a full disk leaves the old file or none, never half a graph,
 * and a symlink at path is replaced, never written through.
 */
static int
save(struct report *r, struct stage *st, const char *path)
{
	size_t len;
	char *data = stage_stdout(st, &len);
	char *tmp;
	const char *slash = strrchr(path, '/');
	mode_t mask = umask(0);
	int fd, e = 0;

	umask(mask);
	tmp = slash ? xasprintf("%.*s/.%s.XXXXXX", (int)(slash - path), path,
	    slash + 1) : xasprintf(".%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		save_failed(r, path, errno);
		free(tmp);
		free(data);
		return -1;
	}
	if (write_all(fd, data, len) != 0 || fchmod(fd, 0644 & ~mask) != 0)
		e = errno ? errno : EIO;
	owner_fix_fd(fd);
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e == 0 && rename(tmp, path) != 0)
		e = errno;
	free(data);
	if (e != 0) {
		unlink(tmp);
		free(tmp);
		save_failed(r, path, e);
		return -1;
	}
	free(tmp);
	cJSON_AddItemToArray(r->files, cJSON_CreateString(path));
	return 0;
}

static void
stage_failed(struct report *r, struct stage *st, const char *what)
{
	char *e = stage_stderr(st);

	msg_warn("%s: %s", what, *e ? e : st->missing ? "program not found" :
	    "failed");
	cJSON_AddItemToArray(r->file_errors, cJSON_CreateString(what));
	free(e);
}

/*
 * The second half of every graph: fold's output, already run, is saved as
 * base+suffix.folded and drawn by svg_argv into base+suffix.svg.
 */
static void
save_and_draw(struct report *r, struct stage *fold, char **svg_argv,
    const char *base, const char *suffix)
{
	struct stage svg;
	char *path = xasprintf("%s%s.folded", base, suffix);

	save(r, fold, path);
	free(path);
	if (stage_start(&svg, svg_argv, stage_stdout_fd(fold)) < 0 ||
	    stage_wait(&svg) > 1) {
		stage_failed(r, &svg, "cd-svg");
	} else {
		path = xasprintf("%s%s.svg", base, suffix);
		save(r, &svg, path);
		free(path);
	}
	stage_release(&svg);
}

/*
 * records -> cd-fold -> base.folded -> cd-svg -> base.svg. root: cd-fold's
 * --root (the CPU graph has a thread level: the main JS thread, HeapHelper
 * (GC), JITWorker, Bun Pool N, HTTP Client, fs.watch say what runs); leaf:
 * each syscall split by the file or address it acted on, one level more.
 */
static void
graph(struct report *r, int c, const char *const *types, const char *base,
    char *title, char *subtitle, char *countname, char *root, int leaf)
{
	char *fold_argv[] = { "cd-fold", "--from", "records", "--root", root,
		leaf ? "--leaf" : NULL, NULL };
	char *svg_argv[] = { "cd-svg", "--title", title, "--subtitle", subtitle,
		"--countname", countname, NULL };
	struct stage fold;
	int in = records_fd(r, c, types);

	if (in < 0) {
		msg_warnerr("memfd_create");
		return;
	}
	if (stage_start(&fold, fold_argv, in) < 0 || stage_wait(&fold) > 1) {
		stage_failed(r, &fold, "cd-fold");
		stage_release(&fold);
		close(in);
		return;
	}
	close(in);
	save_and_draw(r, &fold, svg_argv, base, "");
	stage_release(&fold);
}

/*
 * --baseline: the baseline (on stdin, opened before this run's files were
 * written: it may be the very FILE.folded this run replaced) vs
 * base.folded -> base-diff.folded -> base-diff.svg
 */
static void
diff_graph(struct report *r, int baseline_fd, const char *baseline,
    const char *base, char *title)
{
	char *now = xasprintf("%s.folded", base);
	char *fold_argv[] = { "cd-fold", "--diff", "-", now, NULL };
	char *svg_argv[] = { "cd-svg", "--title", title, "--subtitle",
		(char *)baseline, NULL };
	struct stage fold;

	if (stage_start(&fold, fold_argv, baseline_fd) < 0 || stage_wait(&fold) > 1) {
		stage_failed(r, &fold, "cd-fold --diff");
		stage_release(&fold);
		free(now);
		return;
	}
	save_and_draw(r, &fold, svg_argv, base, "-diff");
	stage_release(&fold);
	free(now);
}

char *
flame_tree(const struct report *r, int pid, int max_lines)
{
	char *argv[] = { "cd-fold", "--from", "records", "--tree", "--tree-min",
		"2", NULL };
	cJSON *recs = capture_select(r, CAP_SAMPLE, "sample", pid);
	int fd = memfd_create("samples", MFD_CLOEXEC);
	struct rec_writer *w;
	const cJSON *x;
	struct stage st;
	char *text = NULL, *p;
	size_t len;

	if (fd < 0 || cJSON_GetArraySize(recs) == 0) {
		if (fd >= 0)
			close(fd);
		cJSON_Delete(recs);
		return NULL;
	}
	w = rec_writer_new(fd);
	cJSON_ArrayForEach(x, recs)
		rec_writer_emit(w, x);
	rec_writer_flush(w);
	rec_writer_free(w);
	cJSON_Delete(recs);
	if (stage_start(&st, argv, fd) == 0 && stage_wait(&st) == 0)
		text = stage_stdout(&st, &len);
	close(fd);
	stage_release(&st);
	/* the first lines are the hottest path: cut after max_lines */
	for (p = text; p && *p && max_lines > 0; max_lines--) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (p)
		*p = '\0';
	return text;
}

static char *
pids_text(const struct report *r)
{
	const cJSON *p;
	char *s = xstrdup("");

	cJSON_ArrayForEach(p, r->procs) {
		char *n = xasprintf("%s%s%.0f", s, *s ? ", " : "",
		    rec_get_num(p, "pid", 0));

		free(s);
		s = n;
	}
	return s;
}

void
flame_write(struct report *r, const struct diag_opts *o)
{
	static const char *const cpu_types[] = { "sample", NULL };
	static const char *const sys_types[] = { "syscall", "syscall_summary", NULL };
	/* --io, --network: which files and peers, from the per-target summaries */
	static const char *const target_types[] = { "io_summary", "net_summary", NULL };
	int leaf = o->io || o->network;
	char *pids, *title, *sub;
	char *base;
	int baseline_fd = -1;

	if (!o->flamegraph || cJSON_GetArraySize(r->procs) == 0)
		return;
	/* before FILE.folded is replaced: --baseline may name it */
	if (o->baseline) {
		baseline_fd = open(o->baseline, O_RDONLY | O_CLOEXEC);
		if (baseline_fd < 0) {
			msg_warnerr("%s", o->baseline);
			cJSON_AddItemToArray(r->file_errors, cJSON_CreateString(o->baseline));
		}
	}
	pids = pids_text(r);
	if (o->sample && r->cap[CAP_SAMPLE].ran) {
		title = xasprintf("CPU: PID %s", pids);
		sub = xasprintf("cd-sample, %g s%s, %s", o->sample_s,
		    r->interrupted ? " (stopped early)" : "", r->timestamp);
		graph(r, CAP_SAMPLE, cpu_types, o->output, title, sub, "samples", "thread", 0);
		free(title);
		free(sub);
		if (baseline_fd >= 0) {
			title = xasprintf("CPU change: PID %s, since the baseline", pids);
			diff_graph(r, baseline_fd, o->baseline, o->output, title);
			free(title);
		}
	}
	if (o->trace && r->cap[CAP_TRACE].ran) {
		base = o->sample ? xasprintf("%s-syscalls", o->output) :
		    xstrdup(o->output);
		title = xasprintf("System calls: PID %s, %g s", pids, o->trace_s);
		sub = xasprintf("cd-trace%s%s%s, %s", o->io ? " --io" : "",
		    o->network ? " --network" : "",
		    r->interrupted ? " (stopped early)" : "", r->timestamp);
		graph(r, CAP_TRACE, leaf ? target_types : sys_types, base, title,
		    sub, "calls", "process", leaf);
		free(base);
		free(title);
		free(sub);
	}
	if (baseline_fd >= 0)
		close(baseline_fd);
	free(pids);
}
