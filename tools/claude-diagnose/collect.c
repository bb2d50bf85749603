/* Getting the data: by running cd-ps, not by copying it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "msg.h"
#include "record.h"
#include "stage.h"

int
collect_processes(struct report *r, const struct dopts *o)
{
	char **argv = xcalloc(8 + 2 * o->pids.n, sizeof(char *));
	char **pidstr = xcalloc(o->pids.n + 1, sizeof(char *));
	char ival[32];
	struct stage ps;
	int n = 0, st;
	const cJSON *p;

	snprintf(ival, sizeof(ival), "%.3f", o->interval_s);
	argv[n++] = "cd-ps";
	argv[n++] = "--tree";
	argv[n++] = "--interval";
	argv[n++] = ival;
	if (!o->redact)
		argv[n++] = "--no-redact";
	for (size_t i = 0; i < o->pids.n; i++) {
		argv[n++] = "--pid";
		argv[n++] = pidstr[i] = xasprintf("%d", o->pids.v[i]);
	}
	argv[n] = NULL;
	r->procs = cJSON_CreateArray();
	if (stage_start(&ps, argv, -1) < 0) {
		r->ps_error = xstrdup(ps.missing ?
		    "cd-ps was not found beside claude-diagnose or on PATH" :
		    "cd-ps could not be started");
		st = -1;
	} else {
		st = stage_wait(&ps);
		stage_records(&ps, r->procs, &r->ps_meta);
		if (st != 0) {
			char *e = stage_stderr(&ps);

			r->ps_error = *e ? e : xasprintf("cd-ps exited with status %d", st);
			if (!*e)
				free(e);
		}
	}
	stage_free(&ps);
	for (size_t i = 0; i < o->pids.n; i++)
		free(pidstr[i]);
	free(pidstr);
	free(argv);

	cJSON_ArrayForEach(p, r->procs) {
		r->total_cpu += rec_get_num(p, "cpu_pct", 0);
		r->total_mem += rec_get_num(p, "mem_pct", 0);
		r->total_rss_kb += rec_get_num(p, "rss_kb", 0);
	}
	return st == 0 ? 0 : -1;
}
