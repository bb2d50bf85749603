/* The human report. Colour only on terminals. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "color.h"
#include "diagnose.h"
#include "record.h"
#include "units.h"

extern volatile sig_atomic_t diag_interrupted;

static void
heading(const char *title)
{
	printf("\n%s%s%s\n", color(C_BOLD), title, color(C_RESET));
}

static void
findings(const struct report *r, const char *severity, const char *title,
    enum color c)
{
	const cJSON *d;
	int n = findings_count(r, severity);

	if (n == 0)
		return;
	printf("\n%s%s%s (%d)%s\n", color(C_BOLD), color(c), title, n,
	    color(C_RESET));
	cJSON_ArrayForEach(d, r->findings) {
		const char *s = rec_get_str(d, "severity");
		const char *desc = rec_get_str(d, "description");
		const char *rem = rec_get_str(d, "remedy");

		if (s == NULL || strcmp(s, severity) != 0)
			continue;
		printf("  %s%s%s: %s\n", color(c), rec_get_str(d, "issue"),
		    color(C_RESET), desc ? desc : "");
		if (rem)
			printf("    -> %s\n", rem);
	}
}

static void
process_findings(const struct report *r, int pid)
{
	const cJSON *d;
	int n = 0;

	cJSON_ArrayForEach(d, r->findings) {
		const char *sev = rec_get_str(d, "severity");
		const char *rem = rec_get_str(d, "remedy");
		enum color c = C_DIM;

		if ((int)rec_get_num(d, "pid", -1) != pid)
			continue;
		if (n++ == 0)
			printf("  %sDiagnosis%s\n", color(C_BOLD), color(C_RESET));
		if (sev && strcmp(sev, "critical") == 0)
			c = C_RED;
		else if (sev && strcmp(sev, "warning") == 0)
			c = C_YELLOW;
		printf("    %s[%s]%s %s: %s\n", color(c), sev ? sev : "?",
		    color(C_RESET), rec_get_str(d, "issue"),
		    rec_get_str(d, "description") ? rec_get_str(d, "description") : "");
		if (rem)
			printf("      -> %s\n", rem);
	}
}

static void
process_section(const cJSON *p, int depth)
{
	char rss[16];
	const char *v = rec_get_str(p, "version");
	const cJSON *kids, *k;
	int pid = (int)rec_get_num(p, "pid", 0);

	fmt_kb(rec_get_num(p, "rss_kb", 0), rss, sizeof(rss));
	if (depth == 0) {
		printf("\n%sPID %d%s  %s %s, project %s\n", color(C_BOLD), pid,
		    color(C_RESET), rec_get_str(p, "kind"), v ? v : "(version unknown)",
		    rec_get_str(p, "project") ? rec_get_str(p, "project") : "-");
		printf("  Command:  %s\n", rec_get_str(p, "command"));
		printf("  CPU:      %.1f%% now, %.1f%% over its life\n",
		    rec_get_num(p, "cpu_pct", 0), rec_get_num(p, "cpu_life_pct", 0));
		printf("  Memory:   %s RSS (%.1f%%), %d threads, state %s\n", rss,
		    rec_get_num(p, "mem_pct", 0), (int)rec_get_num(p, "threads", 0),
		    rec_get_str(p, "state"));
		printf("  Running:  %s since %s, tty %s\n", rec_get_str(p, "elapsed"),
		    rec_get_str(p, "start_time"), rec_get_str(p, "tty"));
		printf("  Cwd:      %s\n", rec_get_str(p, "cwd") ?
		    rec_get_str(p, "cwd") : "(unreadable)");
	} else {
		printf("  %*s- %d %s (%.1f%% CPU, %s)\n", (depth - 1) * 2, "", pid,
		    rec_get_str(p, "command"), rec_get_num(p, "cpu_pct", 0), rss);
	}
	kids = cJSON_GetObjectItemCaseSensitive(p, "children");
	if (depth == 0 && cJSON_GetArraySize(kids) > 0)
		printf("  Children: %d\n", cJSON_GetArraySize(kids));
	cJSON_ArrayForEach(k, kids)
		process_section(k, depth + 1);
}

static void
files_section(const struct report *r)
{
	const cJSON *f;

	if (cJSON_GetArraySize(r->files) + cJSON_GetArraySize(r->file_errors) == 0)
		return;
	heading("Files written");
	cJSON_ArrayForEach(f, r->files)
		printf("  %s\n", f->valuestring);
	cJSON_ArrayForEach(f, r->file_errors)
		printf("  %snot written: %s%s\n", color(C_RED), f->valuestring,
		    color(C_RESET));
}

void
report_text(const struct report *r, const struct diag_opts *o)
{
	const cJSON *p, *a;
	char rss[16], tot[16], avail[16];
	int n = cJSON_GetArraySize(r->procs);

	(void)o;
	printf("%sClaude Code diagnostics%s  %s on %s (%s %s%s%s)\n",
	    color(C_BOLD), color(C_RESET), r->timestamp, r->id.hostname,
	    r->id.os, r->id.os_version, *r->id.distro ? ", " : "", r->id.distro);
	if (r->ps_error) {
		printf("\n%scd-ps failed:%s %s\n", color(C_RED), color(C_RESET),
		    r->ps_error);
	}
	if (n == 0) {
		if (!r->ps_error)
			printf("\nNo Claude Code processes are running.\n");
		return;
	}
	heading("Summary");
	fmt_kb(r->total_rss_kb, rss, sizeof(rss));
	printf("  Processes: %d   CPU: %.1f%%   Memory: %.1f%%   RSS: %s\n", n,
	    r->total_cpu, r->total_mem, rss);
	if (r->have_mem) {
		fmt_kb((double)r->mem.total_kb, tot, sizeof(tot));
		fmt_kb((double)r->mem.available_kb, avail, sizeof(avail));
		printf("  System memory: %s available of %s", avail, tot);
		if (r->mem.psi_some_avg10 >= 0)
			printf(", pressure %.2f%% (PSI some avg10)",
			    r->mem.psi_some_avg10);
		printf("\n");
	}
	findings(r, "critical", "Critical issues", C_RED);
	findings(r, "warning", "Warnings", C_YELLOW);
	if (findings_count(r, "critical") + findings_count(r, "warning") == 0)
		printf("\n%sNo issues found.%s\n", color(C_GREEN), color(C_RESET));
	if (r->interrupted)
		printf("\n%sThe captures were stopped early (%s); the report "
		    "covers what was captured.%s\n", color(C_YELLOW),
		    diag_interrupted == SIGTERM ? "SIGTERM" :
		    diag_interrupted == SIGHUP ? "SIGHUP" : "Ctrl-C",
		    color(C_RESET));
	heading("Processes");
	cJSON_ArrayForEach(p, r->procs) {
		int pid = (int)rec_get_num(p, "pid", 0);

		process_section(p, 0);
		process_findings(r, pid);
		section_sample(r, pid);
		section_fds(r, pid);
		section_trace(r, pid);
	}
	files_section(r);
	if (cJSON_GetArraySize(r->actions) > 0) {
		heading("Recommended next steps");
		cJSON_ArrayForEach(a, r->actions)
			printf("  %s\n", a->valuestring);
	}
}
