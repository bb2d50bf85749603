/* process records. */
#include <stdio.h>
#include <string.h>
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

/*
 * ps's STAT: the state, then < (high priority), N (low), s (session
 * leader), l (multi-threaded), + (in the terminal's foreground group).
 */
static void
stat_flags(const struct procinfo *p, char *buf, size_t len)
{
	snprintf(buf, len, "%c%s%s%s%s%s", p->state ? p->state : '?',
	    p->nice < 0 ? "<" : "", p->nice > 0 ? "N" : "",
	    p->sid == p->pid ? "s" : "", p->threads > 1 ? "l" : "",
	    p->tpgid > 0 && p->tpgid == p->pgrp ? "+" : "");
}

/* The value of --session-id in argv, if any. */
static const char *
session_id(const struct procinfo *p)
{
	static const char opt[] = "--session-id";

	for (size_t i = 1; i < p->argc; i++) {
		if (strcmp(p->argv[i], opt) == 0 && i + 1 < p->argc)
			return p->argv[i + 1];
		if (strncmp(p->argv[i], opt, sizeof(opt) - 1) == 0 &&
		    p->argv[i][sizeof(opt) - 1] == '=')
			return p->argv[i] + sizeof(opt);
	}
	return NULL;
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
	stat_flags(p, buf, sizeof(buf));
	rec_add_str(o, "stat", buf);
	rec_add_num(o, "threads", p->threads);
	rec_add_num(o, "cpu_pct", round2(r->cpu_pct));
	rec_add_num(o, "cpu_life_pct", round2(r->cpu_life_pct));
	rec_add_num(o, "cpu_time_s", r->cpu_time_s);
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
	if (p->nfds >= 0)
		rec_add_num(o, "fds", p->nfds);
	else
		cJSON_AddNullToObject(o, "fds");
	rec_add_str(o, "session_id", session_id(p));
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
