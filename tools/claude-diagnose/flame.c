/*
 * --flamegraph -o FILE: the captured records go through cd-fold into
 * FILE.folded (for external tools) and through cd-svg into FILE.svg. With
 * both -s and -D, the CPU graph is FILE.svg and the syscall graph
 * FILE-syscalls.svg. Files are created fresh (never through a symlink)
 * and, under sudo, given to the invoking user.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
	const cJSON *x;

	if (fd < 0)
		return -1;
	rec_flush();
	rec_out_init(fd);
	cJSON_ArrayForEach(x, r->cap[c].recs)
		for (int i = 0; types[i]; i++)
			if (rec_is(x, types[i]))
				rec_emit(x);
	rec_flush();
	rec_out_init(1);
	return fd;
}

static int
save(struct report *r, struct stage *st, const char *path)
{
	size_t len;
	char *data = stage_stdout(st, &len);
	int fd, ok;

	unlink(path);	/* replace, never write through an existing link */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd < 0) {
		cJSON_AddItemToArray(r->file_errors, cJSON_CreateString(
		    path));
		msg_warnerr("%s", path);
		free(data);
		return -1;
	}
	ok = write(fd, data, len) == (ssize_t)len;
	owner_fix_fd(fd);
	if (close(fd) < 0 || !ok) {
		msg_warnerr("%s: write", path);
		free(data);
		return -1;
	}
	free(data);
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
 * records -> cd-fold -> base.folded -> cd-svg -> base.svg. root: cd-fold's
 * --root (the CPU graph has a thread level: the main JS thread, HeapHelper
 * (GC), JITWorker, Bun Pool N, HTTP Client, fs.watch say what runs).
 */
static void
graph(struct report *r, int c, const char *const *types, const char *base,
    char *title, char *subtitle, char *countname, char *root)
{
	char *fold_argv[] = { "cd-fold", "--from", "records", "--root", root, NULL };
	char *svg_argv[] = { "cd-svg", "--title", title, "--subtitle", subtitle,
		"--countname", countname, NULL };
	struct stage fold, svg;
	int in = records_fd(r, c, types);
	char *path;

	if (in < 0) {
		msg_warnerr("memfd_create");
		return;
	}
	if (stage_start(&fold, fold_argv, in) < 0 || stage_wait(&fold) > 1) {
		stage_failed(r, &fold, "cd-fold");
		stage_free(&fold);
		close(in);
		return;
	}
	close(in);
	path = xasprintf("%s.folded", base);
	save(r, &fold, path);
	free(path);
	if (stage_start(&svg, svg_argv, stage_stdout_fd(&fold)) < 0 ||
	    stage_wait(&svg) > 1) {
		stage_failed(r, &svg, "cd-svg");
	} else {
		path = xasprintf("%s.svg", base);
		save(r, &svg, path);
		free(path);
	}
	stage_free(&svg);
	stage_free(&fold);
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
flame_write(struct report *r, const struct dopts *o)
{
	static const char *const cpu_types[] = { "sample", NULL };
	static const char *const sys_types[] = { "syscall", "syscall_summary", NULL };
	char *pids, *title, *sub;
	char *base;

	if (!o->flamegraph || cJSON_GetArraySize(r->procs) == 0)
		return;
	pids = pids_text(r);
	if (o->sample && r->cap[CAP_SAMPLE].ran) {
		title = xasprintf("CPU: PID %s", pids);
		sub = xasprintf("cd-sample, %g s%s, %s", o->sample_s,
		    r->interrupted ? " (stopped early)" : "", r->timestamp);
		graph(r, CAP_SAMPLE, cpu_types, o->output, title, sub, "samples", "thread");
		free(title);
		free(sub);
	}
	if (o->trace && r->cap[CAP_TRACE].ran) {
		base = o->sample ? xasprintf("%s-syscalls", o->output) :
		    xstrdup(o->output);
		title = xasprintf("System calls: PID %s, %g s", pids, o->trace_s);
		sub = xasprintf("cd-trace%s%s%s, %s", o->io ? " --io" : "",
		    o->network ? " --network" : "",
		    r->interrupted ? " (stopped early)" : "", r->timestamp);
		graph(r, CAP_TRACE, sys_types, base, title, sub, "calls", "process");
		free(base);
		free(title);
		free(sub);
	}
	free(pids);
}
