/*
 * --prometheus: the Claude Code processes as Prometheus metrics, in the
 * text exposition format (version 0.0.4), for node_exporter's textfile
 * collector (--prometheus-file, replaced atomically) or a scraper
 * (--listen). Process data from cd-ps, open fds and inotify watches from
 * cd-fds --summary: nothing is read twice by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "msg.h"
#include "owner.h"
#include "psrun.h"
#include "record.h"
#include "stage.h"
#include "trace.h"

/* Label values: backslash, double quote and newline escaped. */
static void
label(FILE *out, const char *name, const char *v, int first)
{
	fprintf(out, "%s%s=\"", first ? "" : ",", name);
	for (; v && *v; v++) {
		if (*v == '\\')
			fputs("\\\\", out);
		else if (*v == '"')
			fputs("\\\"", out);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
	fputc('"', out);
}

static void
labels(FILE *out, const cJSON *p)
{
	char pid[24];

	snprintf(pid, sizeof(pid), "%.0f", rec_get_num(p, "pid", 0));
	fputc('{', out);
	label(out, "pid", pid, 1);
	label(out, "version", rec_get_str(p, "version"), 0);
	label(out, "project", rec_get_str(p, "project"), 0);
	label(out, "kind", rec_get_str(p, "kind"), 0);
	fputc('}', out);
}

/* The fd_summary cd-fds wrote for pid, or NULL. */
static const cJSON *
summary_of(const cJSON *sums, int pid)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, sums)
		if (rec_is(s, "fd_summary") && (int)rec_get_num(s, "pid", -1) == pid)
			return s;
	return NULL;
}

/* cd-fds --summary on every process; failures leave the array short. */
cJSON *
prom_fd_summaries(const cJSON *procs)
{
	struct stage_argv a = { 0 };
	struct stage st;
	cJSON *sums = cJSON_CreateArray(), *meta = NULL;
	const cJSON *p;

	if (cJSON_GetArraySize(procs) == 0)
		return sums;
	stage_arg(&a, "cd-fds");
	stage_arg(&a, "--summary");
	stage_arg(&a, "--paths");
	stage_arg(&a, "1");
	cJSON_ArrayForEach(p, procs) {
		stage_arg(&a, "--pid");
		stage_argf(&a, "%.0f", rec_get_num(p, "pid", 0));
	}
	if (stage_start(&st, a.v, -1) == 0) {
		stage_wait(&st);
		stage_records(&st, sums, &meta);
	}
	stage_release(&st);
	stage_argv_release(&a);
	cJSON_Delete(meta);
	return sums;
}

enum { M_CPU, M_RSS, M_VSZ, M_FDS, M_WATCHES, M_THREADS, M_ORPHAN, M__N };

static const struct metric {
	const char *name, *type, *help;
} metrics[M__N] = {
	[M_CPU] = { "claude_code_cpu_seconds_total", "counter",
	    "User and system CPU time the Claude Code process has used, in seconds." },
	[M_RSS] = { "claude_code_resident_memory_bytes", "gauge",
	    "Resident memory size of the Claude Code process, in bytes." },
	[M_VSZ] = { "claude_code_virtual_memory_bytes", "gauge",
	    "Virtual memory size of the Claude Code process, in bytes." },
	[M_FDS] = { "claude_code_open_fds", "gauge",
	    "Open file descriptors of the Claude Code process." },
	[M_WATCHES] = { "claude_code_inotify_watches", "gauge",
	    "inotify watches the Claude Code process holds." },
	[M_THREADS] = { "claude_code_threads", "gauge",
	    "Threads of the Claude Code process." },
	[M_ORPHAN] = { "claude_code_orphaned", "gauge",
	    "1 when the Claude Code process's parent has died." },
};

/* The value of metric m for process p; 0 when it has none. */
static int
value(int m, const cJSON *p, const cJSON *sum, double *v)
{
	switch (m) {
	case M_CPU:
		*v = rec_get_num(p, "cpu_time_s", -1);
		return *v >= 0;
	case M_RSS:
		*v = rec_get_num(p, "rss_kb", -1) * 1024;
		return *v >= 0;
	case M_VSZ:
		*v = rec_get_num(p, "vsz_kb", -1) * 1024;
		return *v >= 0;
	case M_FDS:
		*v = sum ? rec_get_num(sum, "total", -1) : rec_get_num(p, "fds", -1);
		return *v >= 0;
	case M_WATCHES:
		*v = sum ? rec_get_num(sum, "inotify_watches", -1) : -1;
		return *v >= 0;
	case M_THREADS:
		*v = rec_get_num(p, "threads", -1);
		return *v >= 0;
	case M_ORPHAN:
		*v = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "orphaned"));
		return 1;
	}
	return 0;
}

void
prom_write(FILE *out, const cJSON *procs, const cJSON *sums)
{
	const cJSON *p;

	fprintf(out, "# HELP claude_code_processes Claude Code processes running.\n"
	    "# TYPE claude_code_processes gauge\nclaude_code_processes %d\n",
	    cJSON_GetArraySize(procs));
	for (int m = 0; m < M__N; m++) {
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", metrics[m].name,
		    metrics[m].help, metrics[m].name, metrics[m].type);
		cJSON_ArrayForEach(p, procs) {
			const cJSON *sum = summary_of(sums,
			    (int)rec_get_num(p, "pid", 0));
			double v;

			if (!value(m, p, sum, &v))
				continue;
			fputs(metrics[m].name, out);
			labels(out, p);
			fprintf(out, " %.15g\n", v);
		}
	}
}

/*
 * Replace path atomically: a fresh file beside it (mkstemp: no name to
 * guess), written, then renamed over it, so a collector never reads half.
 */
static int
write_atomic(const char *path, const char *data, size_t len)
{
	char *d = xstrdup(path), *b = xstrdup(path), *tmp;
	int fd, ok;

	/* A dot name: the textfile collector reads only *.prom. */
	tmp = xasprintf("%s/.%s.XXXXXX", dirname(d), basename(b));
	free(d);
	free(b);
	if ((fd = mkstemp(tmp)) < 0) {
		msg_warnerr("%s", path);
		free(tmp);
		return -1;
	}
	/* The collector runs as another user: readable, as a .prom is. */
	ok = fchmod(fd, 0644) == 0 && write(fd, data, len) == (ssize_t)len;
	owner_fix_fd(fd);
	if (close(fd) < 0 || !ok || rename(tmp, path) < 0) {
		msg_warnerr("%s", path);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int
do_prometheus(const struct topts *o)
{
	struct ps_query q = { .interval_s = 0, .redact = 1, .pids = o->pids };
	cJSON *procs = cJSON_CreateArray(), *meta = NULL, *sums;
	char *error = NULL, *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int rc = CD_EXIT_OK;

	ps_run(&q, procs, &meta, &error);
	cJSON_Delete(meta);
	if (error && cJSON_GetArraySize(procs) == 0) {
		msg_warn("%s", error);
		free(error);
		cJSON_Delete(procs);
		return CD_EXIT_FAIL;
	}
	free(error);
	sums = prom_fd_summaries(procs);
	if ((mem = open_memstream(&buf, &len)) == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	prom_write(mem, procs, sums);
	if (fclose(mem) != 0)
		msg_die(CD_EXIT_FAIL, "out of memory");
	if (o->prom_file)
		rc = write_atomic(o->prom_file, buf, len) < 0 ? CD_EXIT_FAIL :
		    CD_EXIT_OK;
	else if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
		rc = CD_EXIT_FAIL;
	free(buf);
	cJSON_Delete(sums);
	cJSON_Delete(procs);
	return rc;
}
