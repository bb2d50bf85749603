/*
 * The overview's findings: thresholds on what cd-ps measured and on the
 * system's memory. Each finding is a diagnosis object, the same shape the
 * stage programs emit, so their findings join these in one list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "msg.h"
#include "record.h"


void
finding_add(struct report *r, const char *severity, const char *code,
    const char *issue, int pid, const char *description, const char *remedy)
{
	cJSON *d = rec_new("diagnosis");

	rec_add_str(d, "severity", severity);
	rec_add_str(d, "issue", issue);
	rec_add_str(d, "code", code);
	rec_add_str(d, "description", description);
	rec_add_str(d, "remedy", remedy);
	if (pid > 0)
		rec_add_num(d, "pid", pid);
	else
		cJSON_AddNullToObject(d, "pid");
	rec_add_str(d, "source", "claude-diagnose");
	cJSON_AddItemToArray(r->findings, d);
}

int
findings_count(const struct report *r, const char *severity)
{
	const cJSON *d;
	int n = 0;

	cJSON_ArrayForEach(d, r->findings) {
		const char *s = rec_get_str(d, "severity");

		if (s && strcmp(s, severity) == 0)
			n++;
	}
	return n;
}

static void
action_add(struct report *r, const char *fmt, int pid)
{
	char buf[256];
	const cJSON *a;

	snprintf(buf, sizeof(buf), fmt, pid);
	cJSON_ArrayForEach(a, r->actions)
		if (cJSON_IsString(a) && strcmp(a->valuestring, buf) == 0)
			return;
	cJSON_AddItemToArray(r->actions, cJSON_CreateString(buf));
}

static void
check_process(struct report *r, const struct dopts *o, const cJSON *p)
{
	int pid = (int)rec_get_num(p, "pid", 0);
	double cpu = rec_get_num(p, "cpu_pct", 0);
	double rss = rec_get_num(p, "rss_kb", 0);
	char desc[256], rem[256];

	if (cpu >= o->cpu_warn) {
		snprintf(desc, sizeof(desc), "PID %d is using %.1f%% CPU", pid, cpu);
		snprintf(rem, sizeof(rem), "Sample it to see which code is hot: "
		    "claude-diagnose --pid %d -s", pid);
		finding_add(r, cpu >= o->cpu_crit ? "critical" : "warning",
		    "high_cpu", "High CPU usage", pid, desc, rem);
		if (!o->sample)
			action_add(r, "claude-diagnose --pid %d -s", pid);
	}
	if (rss / 1024 >= o->rss_warn_mb) {
		snprintf(desc, sizeof(desc), "PID %d has %.0f MB resident", pid,
		    rss / 1024);
		snprintf(rem, sizeof(rem), "Look for leaks: claude-diagnose --pid "
		    "%d -d; watch its growth: claude-trace -w 5 -m 1024", pid);
		finding_add(r, rss / 1024 >= o->rss_crit_mb ? "critical" : "warning",
		    "high_memory", "High memory usage", pid, desc, rem);
		if (!o->deep)
			action_add(r, "claude-diagnose --pid %d -d", pid);
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "orphaned"))) {
		snprintf(desc, sizeof(desc), "PID %d has lost its parent "
		    "(reparented to init); its terminal may be gone", pid);
		snprintf(rem, sizeof(rem), "If no one is using it, end it: kill %d",
		    pid);
		finding_add(r, "warning", "orphaned", "Orphaned process", pid, desc, rem);
	}
}

static void
check_system(struct report *r)
{
	char desc[256];

	if (r->total_cpu > 100) {
		snprintf(desc, sizeof(desc), "Claude processes together use %.1f%% "
		    "CPU, more than one core", r->total_cpu);
		finding_add(r, "critical", "aggregate_cpu", "High aggregate CPU", 0, desc,
		    "Find the busiest process (claude-trace) and sample it");
	}
	if (!r->have_mem || r->mem.total_kb == 0)
		return;
	if ((double)r->mem.available_kb / (double)r->mem.total_kb < 0.10) {
		snprintf(desc, sizeof(desc), "Only %.0f MB of %.0f MB memory is "
		    "available", r->mem.available_kb / 1024.0,
		    r->mem.total_kb / 1024.0);
		finding_add(r, "warning", "low_memory", "Low available memory", 0, desc,
		    "Close idle sessions; check RSS with claude-trace -t");
	}
	if (r->mem.psi_some_avg10 >= 10) {
		snprintf(desc, sizeof(desc), "Tasks stalled on memory %.1f%% of "
		    "the last 10 s (PSI some avg10)", r->mem.psi_some_avg10);
		finding_add(r, r->mem.psi_full_avg10 >= 10 ? "critical" : "warning",
		    "memory_pressure", "Memory pressure", 0, desc,
		    "Free memory: end idle sessions or their MCP servers");
	}
}

/* The stages' own diagnosis records join the overview's findings. */
static void
stage_findings(struct report *r)
{
	for (int c = 0; c < CAP__N; c++) {
		const cJSON *x;

		cJSON_ArrayForEach(x, r->cap[c].recs)
			if (rec_is(x, "diagnosis"))
				cJSON_AddItemToArray(r->findings,
				    cJSON_Duplicate(x, 1));
		if (r->cap[c].wanted && r->cap[c].error &&
		    (cJSON_GetArraySize(r->cap[c].recs) == 0 || r->cap[c].broken)) {
			char desc[512];

			snprintf(desc, sizeof(desc), "%s failed: %s",
			    r->cap[c].label, r->cap[c].error);
			finding_add(r, "warning", "capture_failed", "Capture failed", 0, desc,
			    "See the section of the report for the stage; run the "
			    "stage alone to see its full message");
		}
	}
}

/* Next steps that follow from what the captures found. */
static void
follow_ups(struct report *r, const struct dopts *o)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, r->findings) {
		const char *issue = rec_get_str(d, "code");
		const char *src = rec_get_str(d, "source");
		int pid = (int)rec_get_num(d, "pid", 0);

		if (issue == NULL || pid <= 0 || src == NULL)
			continue;
		if (strcmp(src, "cd-fds") == 0)
			action_add(r, "cd-fds --pid %d --watch 30 --table", pid);
		else if (strcmp(src, "cd-sample") == 0 && !o->flamegraph)
			action_add(r, "claude-diagnose --pid %d -s --flamegraph -o cpu", pid);
		else if (strcmp(src, "cd-sample") == 0 && !o->trace)
			action_add(r, "claude-diagnose --pid %d -D --duration 10", pid);
		else if (strcmp(src, "cd-trace") == 0 && strstr(issue, "io_error"))
			action_add(r, "cd-trace --pid %d --failures --io --duration 10", pid);
		else if (strcmp(src, "cd-trace") == 0 && !o->flamegraph)
			action_add(r, "claude-diagnose --pid %d -D --flamegraph -o syscalls", pid);
	}
}

void
analyze(struct report *r, const struct dopts *o)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, r->procs)
		check_process(r, o, p);
	check_system(r);
	stage_findings(r);
	follow_ups(r, o);
	if (cJSON_GetArraySize(r->procs) > 0)
		cJSON_AddItemToArray(r->actions,
		    cJSON_CreateString("claude-trace -w 5 -k 50"));
}
