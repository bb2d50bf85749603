/* process records. */
#include <stdio.h>
#include <time.h>

#include "cdps.h"
#include "claude_match.h"
#include "procinfo.h"
#include "record.h"
#include "units.h"

static double
round2(double v)
{
	return (double)(long long)(v * 100 + (v >= 0 ? 0.5 : -0.5)) / 100;
}

cJSON *
row_json(const struct row *r)
{
	const struct procinfo *p = r->p;
	cJSON *o = rec_new("process");
	char buf[64];
	time_t started;

	rec_add_num(o, "pid", p->pid);
	rec_add_num(o, "ppid", p->ppid);
	rec_add_str(o, "comm", p->comm);
	rec_add_str(o, "command", r->command);
	rec_add_str(o, "exe", p->exe);
	rec_add_str(o, "kind", claude_kind_name(r->kind));
	rec_add_str(o, "version", r->version);
	snprintf(buf, sizeof(buf), "%c", p->state ? p->state : '?');
	rec_add_str(o, "state", buf);
	rec_add_num(o, "threads", p->threads);
	rec_add_num(o, "cpu_pct", round2(r->cpu_pct));
	rec_add_num(o, "cpu_life_pct", round2(r->cpu_life_pct));
	rec_add_num(o, "mem_pct", round2(r->mem_pct));
	rec_add_num(o, "rss_kb", (double)p->rss_kb);
	rec_add_num(o, "vsz_kb", (double)p->vsz_kb);
	rec_add_num(o, "elapsed_s", round2(p->elapsed_s));
	fmt_elapsed(p->elapsed_s, buf, sizeof(buf));
	rec_add_str(o, "elapsed", buf);
	started = time(NULL) - (time_t)p->elapsed_s;
	iso8601(started, buf, sizeof(buf));
	rec_add_str(o, "start_time", buf);
	rec_add_str(o, "tty", p->tty);
	rec_add_str(o, "cwd", p->cwd);
	rec_add_str(o, "project", r->project);
	rec_add_num(o, "uid", p->uid);
	rec_add_bool(o, "orphaned", r->orphaned);
	if (r->nchildren > 0 || r->children) {
		cJSON *kids = cJSON_AddArrayToObject(o, "children");

		for (size_t i = 0; kids && i < r->nchildren; i++)
			cJSON_AddItemToArray(kids, row_json(r->children[i]));
	}
	return o;
}

void
emit_rows(struct row **rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rec_emit_free(row_json(rows[i]));
}
