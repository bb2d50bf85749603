/*
 * The overview's findings: thresholds on what cd-ps measured and on the
 * system's memory. Each finding is a diagnosis object, the same shape the
 * stage programs emit, so their findings join these in one list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "diagnosis.h"
#include "msg.h"
#include "record.h"


void
finding_add(struct report *r, const char *severity, const char *code,
    const char *issue, int pid, const char *description, const char *remedy)
{
	struct diagnosis d = {
		.source = "claude-diagnose", .severity = severity, .code = code,
		.issue = issue, .description = description, .remedy = remedy,
		.pid = pid,
	};

	cJSON_AddItemToArray(r->findings, diagnosis_new(&d));
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

/*
 * The JavaScript runtime: the native build (2.x) is Bun; 1.x runs on
 * Node.js. Remedies differ: V8's heap flags mean nothing to Bun.
 */
static int
is_node(const cJSON *p)
{
	const char *kind = rec_get_str(p, "kind");
	const char *exe = rec_get_str(p, "exe");
	const char *b = exe ? strrchr(exe, '/') : NULL;

	b = b ? b + 1 : exe;
	if (b && (strcmp(b, "bun") == 0))
		return 0;
	return (kind && strcmp(kind, "node") == 0) ||
	    (b && (strcmp(b, "node") == 0 || strcmp(b, "nodejs") == 0));
}

static void
check_cpu(struct report *r, const struct diag_opts *o, const cJSON *p, int pid)
{
	double cpu = rec_get_num(p, "cpu_pct", 0);
	int crit = o->cpu_crit > 0 && cpu >= o->cpu_crit;
	char desc[256], rem[256];

	if (o->cpu_warn <= 0 || cpu < o->cpu_warn)
		if (!crit)
			return;
	snprintf(desc, sizeof(desc), "PID %d is using %.1f%% CPU (%.1f%% "
	    "over its life); a turn in progress uses a core too", pid, cpu,
	    rec_get_num(p, "cpu_life_pct", 0));
	snprintf(rem, sizeof(rem), "If no turn is running, sample it to see "
	    "which code is hot: claude-diagnose --pid %d -s", pid);
	finding_add(r, crit ? "critical" : "warning", "high_cpu",
	    "High CPU usage", pid, desc, rem);
	if (!o->sample)
		action_add(r, "claude-diagnose --pid %d -s", pid);
}

static void
check_memory(struct report *r, const struct diag_opts *o, const cJSON *p, int pid)
{
	double mb = rec_get_num(p, "rss_kb", 0) / 1024;
	int crit = o->rss_crit_mb > 0 && mb >= o->rss_crit_mb;
	char desc[256], rem[384];

	if (o->rss_warn_mb <= 0 || mb < o->rss_warn_mb)
		if (!crit)
			return;
	snprintf(desc, sizeof(desc), "PID %d has %.0f MB resident", pid, mb);
	if (is_node(p))
		snprintf(rem, sizeof(rem), "Watch its growth: claude-trace -w 5 "
		    "-m %.0f. If it keeps growing, /compact or restart the "
		    "session; Node's heap can be capped for the next start "
		    "(NODE_OPTIONS=--max-old-space-size=MB)", o->rss_warn_mb);
	else
		snprintf(rem, sizeof(rem), "Watch its growth: claude-trace -w 5 "
		    "-m %.0f. If it keeps growing, /compact or restart the "
		    "session (Bun has no heap-size flag to cap it)",
		    o->rss_warn_mb);
	finding_add(r, crit ? "critical" : "warning", "high_memory",
	    "High memory usage", pid, desc, rem);
	if (!o->deep)
		action_add(r, "claude-diagnose --pid %d -d", pid);
}

/*
 * The Bash tool wraps the user's command: "bash -c source SNAPSHOT ... &&
 * eval 'COMMAND' < /dev/null && pwd -P >| FILE". The command is what to
 * show; NULL when the line is not that wrapper. Caller frees.
 */
static char *
bash_tool_command(const char *cmd)
{
	const char *a, *b;

	if (cmd == NULL || strstr(cmd, "shell-snapshots/") == NULL ||
	    (a = strstr(cmd, "eval '")) == NULL)
		return NULL;
	a += strlen("eval '");
	b = strstr(a, "' < /dev/null");
	if (b == NULL)
		b = strrchr(a, '\'');
	if (b == NULL || b <= a)
		return NULL;
	return xasprintf("%.*s", (int)(b - a), a);
}

/*
 * A tool's command runs as a child of Claude Code (the Bash tool's shell,
 * an MCP server): when one of them burns the CPU, it is the consumer to
 * name, with its pid and command line.
 */
static void
check_children(struct report *r, const struct diag_opts *o, const cJSON *kids,
    int claude_pid)
{
	const cJSON *k;

	cJSON_ArrayForEach(k, kids) {
		int pid = (int)rec_get_num(k, "pid", 0);
		double cpu = rec_get_num(k, "cpu_pct", 0);
		const char *comm = rec_get_str(k, "comm");
		const char *cmd = rec_get_str(k, "command");
		int shell = comm && (strcmp(comm, "bash") == 0 ||
		    strcmp(comm, "sh") == 0 || strcmp(comm, "zsh") == 0 ||
		    strcmp(comm, "dash") == 0);
		char desc[768], rem[256], *tool;
		cJSON *d;

		check_children(r, o, cJSON_GetObjectItemCaseSensitive(k,
		    "children"), claude_pid);
		if (o->child_cpu <= 0 || cpu < o->child_cpu)
			continue;
		tool = shell ? bash_tool_command(cmd) : NULL;
		snprintf(desc, sizeof(desc), "PID %d (%s), a child of Claude Code "
		    "PID %d, is using %.1f%% CPU: %.400s", pid, tool ?
		    "the Bash tool running a command" : shell ? "a shell" :
		    "a tool or MCP server", claude_pid, cpu, tool ? tool :
		    cmd ? cmd : "?");
		snprintf(rem, sizeof(rem), "If the command should not run this "
		    "long, interrupt the tool (Esc in the session) or end it: "
		    "kill %d", pid);
		finding_add(r, "warning", "busy_child", "Busy child process",
		    claude_pid, desc, rem);
		d = cJSON_GetArrayItem(r->findings,
		    cJSON_GetArraySize(r->findings) - 1);
		cJSON_AddNumberToObject(d, "child_pid", pid);
		rec_add_str(d, "child_command", cmd);
		cJSON_AddNumberToObject(d, "child_cpu_pct", cpu);
		if (tool)
			rec_add_str(d, "tool", "Bash");
		rec_add_str(d, "tool_command", tool);
		free(tool);
	}
}

static void
check_process(struct report *r, const struct diag_opts *o, const cJSON *p)
{
	int pid = (int)rec_get_num(p, "pid", 0);
	char desc[256], rem[256];

	check_cpu(r, o, p, pid);
	check_memory(r, o, p, pid);
	check_children(r, o, cJSON_GetObjectItemCaseSensitive(p, "children"),
	    pid);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "orphaned"))) {
		snprintf(desc, sizeof(desc), "PID %d has lost its parent "
		    "(reparented to init); its terminal may be gone", pid);
		snprintf(rem, sizeof(rem), "If no one is using it, end it: "
		    "claude-trace -K %d", pid);
		finding_add(r, "warning", "orphaned", "Orphaned process", pid, desc, rem);
	}
}

static void
check_system(struct report *r)
{
	char desc[256];

	/* For one process, high_cpu already says it. */
	if (cJSON_GetArraySize(r->procs) > 1 && r->total_cpu > 100) {
		snprintf(desc, sizeof(desc), "%d Claude processes together use "
		    "%.1f%% CPU, more than one core", cJSON_GetArraySize(r->procs),
		    r->total_cpu);
		finding_add(r, "warning", "aggregate_cpu", "High aggregate CPU", 0,
		    desc, "Find the busiest process (claude-trace) and, if it "
		    "is not in a turn, sample it");
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

/*
 * GC's share of a process's samples is a share of what it ran: 25% of a
 * process at 27% CPU is 7% of a core, ordinary collection during a turn
 * (measured on the real Claude Code 2.1.197: 11-25% of 27-32%). Pressure
 * is GC taking a real part of a core; below GC_MIN_CORE_PCT the finding
 * stays, as info.
 */
#define GC_MIN_CORE_PCT 15.0

static void
calibrate(cJSON *d)
{
	const char *code = rec_get_str(d, "code");
	double share = rec_get_num(d, "share_pct", -1);
	double cpu = rec_get_num(d, "cpu_pct", -1);
	char *desc;

	if (code == NULL || strcmp(code, "gc_pressure") != 0 || share < 0 ||
	    cpu < 0 || share * cpu / 100 >= GC_MIN_CORE_PCT)
		return;
	desc = xasprintf("%s, %.1f%% of a core: ordinary collection, not "
	    "pressure (under %.0f%%)", rec_get_str(d, "description") ?
	    rec_get_str(d, "description") : "GC", share * cpu / 100,
	    GC_MIN_CORE_PCT);
	cJSON_ReplaceItemInObjectCaseSensitive(d, "severity",
	    cJSON_CreateString("info"));
	cJSON_ReplaceItemInObjectCaseSensitive(d, "description",
	    cJSON_CreateString(desc));
	free(desc);
}

/* The stages' own diagnosis records join the overview's findings. */
static void
stage_findings(struct report *r)
{
	for (int c = 0; c < CAP__N; c++) {
		const cJSON *x;

		cJSON_ArrayForEach(x, r->cap[c].recs) {
			cJSON *d;

			if (!rec_is(x, "diagnosis"))
				continue;
			d = cJSON_Duplicate(x, 1);
			calibrate(d);
			cJSON_AddItemToArray(r->findings, d);
		}
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
follow_ups(struct report *r, const struct diag_opts *o)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, r->findings) {
		const char *issue = rec_get_str(d, "code");
		const char *src = rec_get_str(d, "source");
		const char *sev = rec_get_str(d, "severity");
		int pid = (int)rec_get_num(d, "pid", 0);

		if (issue == NULL || pid <= 0 || src == NULL ||
		    (sev && strcmp(sev, "info") == 0))
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
analyze(struct report *r, const struct diag_opts *o)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, r->procs)
		check_process(r, o, p);
	check_system(r);
	stage_findings(r);
	follow_ups(r, o);
	if (cJSON_GetArraySize(r->procs) > 0)
		cJSON_AddItemToArray(r->actions,
		    cJSON_CreateString("claude-trace -w 5 -k 90 -m 4096"));
}
