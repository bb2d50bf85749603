/*
 * Findings from one process's counts. Every threshold is an option with a
 * documented default (cd-fds(1)); every finding carries the numbers it
 * rests on in "evidence".
 */
#include <stdio.h>
#include <string.h>

#include "cdfds.h"
#include "diagnosis.h"
#include "exitcode.h"
#include "msg.h"
#include "record.h"

static cJSON *
finding(struct ctx *c, const struct proc_fds *p, const char *severity,
    const char *code, const char *issue, const char *desc, const char *remedy)
{
	struct diagnosis d = {
		.source = "cd-fds", .severity = severity, .code = code,
		.issue = issue, .description = desc, .remedy = remedy,
		.pid = p->pid,
	};

	if (diagnosis_is_critical(severity))
		c->criticals++;
	else if (strcmp(severity, "warning") == 0)
		c->warnings++;
	return diagnosis_new(&d);
}

static void
out(struct ctx *c, cJSON *o)
{
	if (c->o->table)
		table_diagnosis(o);
	else
		rec_emit(o);
	cJSON_Delete(o);
}

static void
fd_count(struct ctx *c, const struct proc_fds *p)
{
	const struct fds_opts *o = c->o;
	double total = (double)p->scan.n, pct;
	char d[256];
	cJSON *r, *e;

	pct = p->nofile_soft > 0 ? 100.0 * total / (double)p->nofile_soft : 0;
	if (p->nofile_soft > 0 && pct >= o->limit_pct) {
		snprintf(d, sizeof(d), "%.0f open file descriptors, %.0f%% of the soft limit of %lld; "
		    "at the limit open(), socket() and accept() fail with EMFILE",
		    total, pct, (long long)p->nofile_soft);
		r = finding(c, p, "critical", "fd_limit", "File descriptors near the limit", d,
		    "Look for a descriptor leak (cd-fds --watch 30 shows which kind grows); "
		    "raise the limit (ulimit -n, LimitNOFILE=) only once the count is explained.");
	} else if ((long)total > o->max_fds) {
		snprintf(d, sizeof(d), "%.0f open file descriptors (threshold %ld)", total, o->max_fds);
		r = finding(c, p, "warning", "many_fds", "Many open file descriptors", d,
		    "Check by_kind for the kind that dominates and cd-fds --watch for growth; "
		    "a count that keeps rising is a leak.");
	} else {
		return;
	}
	e = diagnosis_evidence(r);
	rec_add_num(e, "total", total);
	if (p->nofile_soft != -2) {
		rec_add_num(e, "nofile_soft", (double)p->nofile_soft);
		rec_add_num(e, "nofile_hard", (double)p->nofile_hard);
	}
	rec_add_num(e, "threshold_fds", (double)o->max_fds);
	rec_add_num(e, "threshold_limit_pct", o->limit_pct);
	out(c, r);
}

static void
inotify(struct ctx *c, const struct proc_fds *p)
{
	const struct fds_opts *o = c->o;
	double max = (double)c->ilim.max_user_watches;
	double upct = p->have_user && max > 0 ? 100.0 * (double)p->user.watches / max : 0;
	char d[384];
	cJSON *r, *e;

	if (p->by_kind[FDK_INOTIFY] == 0)
		return;
	if (p->have_user && max > 0 && upct >= o->user_watches_pct) {
		snprintf(d, sizeof(d), "the user's processes hold %ld inotify watches, %.0f%% of "
		    "fs.inotify.max_user_watches (%.0f); this process holds %ld. New watches fail "
		    "with ENOSPC and file changes go unnoticed", p->user.watches, upct, max,
		    p->inotify_watches);
		r = finding(c, p, "critical", "inotify_limit", "Excessive file watching", d,
		    "Exclude large trees (node_modules, build output, .git) from watching, or raise "
		    "fs.inotify.max_user_watches (sysctl -w fs.inotify.max_user_watches=524288).");
	} else if (p->inotify_watches > o->max_watches) {
		snprintf(d, sizeof(d), "%ld inotify watches in %ld instances (threshold %ld): "
		    "every file change under them wakes the process", p->inotify_watches,
		    p->by_kind[FDK_INOTIFY], o->max_watches);
		r = finding(c, p, "warning", "inotify_watches", "Excessive file watching", d,
		    "Watch fewer directories: exclude node_modules, build output and .git from "
		    "the project's watcher; see watched_paths in the fd_summary record.");
	} else {
		return;
	}
	e = diagnosis_evidence(r);
	rec_add_num(e, "inotify_watches", p->inotify_watches);
	rec_add_num(e, "inotify_instances", p->by_kind[FDK_INOTIFY]);
	if (p->have_user)
		rec_add_num(e, "user_inotify_watches", p->user.watches);
	if (max > 0)
		rec_add_num(e, "max_user_watches", max);
	rec_add_num(e, "threshold_watches", (double)o->max_watches);
	rec_add_num(e, "threshold_user_watches_pct", o->user_watches_pct);
	out(c, r);
}

static void
close_wait(struct ctx *c, const struct proc_fds *p)
{
	long n = p->conn_by_state[8];	/* TCP_CLOSE_WAIT */
	char d[256];
	cJSON *r, *e;

	if (n < c->o->max_close_wait)
		return;
	snprintf(d, sizeof(d), "%ld TCP sockets in CLOSE_WAIT: the peer closed and this "
	    "process never did (threshold %ld)", n, c->o->max_close_wait);
	r = finding(c, p, "warning", "close_wait", "Sockets piling up in CLOSE_WAIT", d,
	    "The code reading these connections misses end-of-stream or an error path "
	    "skips close(); connection_list names the peers.");
	e = diagnosis_evidence(r);
	rec_add_num(e, "close_wait", n);
	rec_add_num(e, "tcp", p->tcp_total);
	rec_add_num(e, "threshold_close_wait", c->o->max_close_wait);
	out(c, r);
}

static void
deleted(struct ctx *c, const struct proc_fds *p)
{
	char d[256];
	cJSON *r, *e, *paths;
	long shown = 0;

	if (p->deleted == 0 || p->deleted < c->o->min_deleted)
		return;
	snprintf(d, sizeof(d), "%ld descriptors hold files that were deleted (%lld bytes the "
	    "disk cannot reclaim until they are closed)", p->deleted, (long long)p->deleted_bytes);
	r = finding(c, p, "info", "deleted_files", "Open descriptors on deleted files", d,
	    "Usually rotated logs or replaced caches kept open; the space returns when the "
	    "process closes them or exits.");
	e = diagnosis_evidence(r);
	rec_add_num(e, "deleted", p->deleted);
	rec_add_num(e, "deleted_bytes", (double)p->deleted_bytes);
	if ((paths = cJSON_AddArrayToObject(e, "paths")) == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < p->scan.n && shown < 10; i++) {
		if (!p->scan.v[i].deleted)
			continue;
		cJSON_AddItemToArray(paths, cJSON_CreateString(p->scan.v[i].link));
		shown++;
	}
	out(c, r);
}

static void
growth(struct ctx *c, const struct proc_fds *p)
{
	char d[256];
	cJSON *r, *e, *k;
	int top = -1;

	if (p->samples < 2 || p->slope_total < c->o->max_growth)
		return;
	for (int i = 0; i < FDK__COUNT; i++)
		if (top < 0 || p->slope_kind[i] > p->slope_kind[top])
			top = i;
	snprintf(d, sizeof(d), "open descriptors grew at %.1f/s over %.1f s (%ld to %zu), "
	    "mostly %s (%.1f/s)", p->slope_total, p->span_s, p->first_total, p->scan.n,
	    fd_kind_name((enum fd_kind)top), p->slope_kind[top]);
	r = finding(c, p, "warning", "fd_growth", "File descriptor leak", d,
	    "Something opens descriptors of this kind and never closes them; at this rate "
	    "the soft limit is reached in the time shown in evidence.");
	e = diagnosis_evidence(r);
	rec_add_num(e, "growth_per_s", p->slope_total);
	rec_add_num(e, "watch_s", p->span_s);
	rec_add_num(e, "first_total", p->first_total);
	rec_add_num(e, "last_total", (double)p->scan.n);
	if (p->nofile_soft > 0 && (double)p->scan.n < (double)p->nofile_soft)
		rec_add_num(e, "seconds_to_limit",
		    ((double)p->nofile_soft - (double)p->scan.n) / p->slope_total);
	if ((k = cJSON_AddObjectToObject(e, "by_kind_per_s")) == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	for (int i = 0; i < FDK__COUNT; i++)
		if (p->slope_kind[i] != 0)
			rec_add_num(k, fd_kind_name((enum fd_kind)i), p->slope_kind[i]);
	rec_add_num(e, "threshold_growth_per_s", c->o->max_growth);
	out(c, r);
}

void
diagnose(struct ctx *c, const struct proc_fds *p)
{
	fd_count(c, p);
	inotify(c, p);
	close_wait(c, p);
	deleted(c, p);
	growth(c, p);
}
