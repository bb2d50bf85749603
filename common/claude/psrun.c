#include <stdlib.h>

#include "psrun.h"
#include "stage.h"

int
ps_run(const struct ps_query *q, cJSON *procs, cJSON **meta, char **error)
{
	struct stage_argv a = { 0 };
	struct stage ps;
	int st = -1;

	*meta = NULL;
	*error = NULL;
	stage_arg(&a, "cd-ps");
	stage_arg(&a, "--interval");
	stage_argf(&a, "%.3f", q->interval_s);
	if (q->tree)
		stage_arg(&a, "--tree");
	if (!q->redact)
		stage_arg(&a, "--no-redact");
	for (size_t i = 0; q->pids && i < q->pids->n; i++) {
		stage_arg(&a, "--pid");
		stage_argf(&a, "%.0f", q->pids->v[i]);
	}
	if (stage_start(&ps, a.v, -1) == 0) {
		st = stage_wait(&ps);
		stage_records(&ps, procs, meta);
	}
	if (st != 0)
		*error = stage_error(&ps);
	stage_release(&ps);
	stage_argv_release(&a);
	return st;
}
