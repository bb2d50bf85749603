/* Getting the data: by running cd-ps, not by copying it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "msg.h"
#include "record.h"
#include "psrun.h"

int
collect_processes(struct report *r, const struct diag_opts *o)
{
	struct ps_query q = { .interval_s = o->interval_s, .tree = 1,
		.redact = o->redact, .pids = &o->pids };
	const cJSON *p;
	int st;

	r->procs = cJSON_CreateArray();
	st = ps_run(&q, r->procs, &r->ps_meta, &r->ps_error);

	cJSON_ArrayForEach(p, r->procs) {
		r->total_cpu += rec_get_num(p, "cpu_pct", 0);
		r->total_mem += rec_get_num(p, "mem_pct", 0);
		r->total_rss_kb += rec_get_num(p, "rss_kb", 0);
	}
	return st == 0 ? 0 : -1;
}
