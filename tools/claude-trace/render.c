/* The process table, with colour on terminals. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "color.h"
#include "record.h"
#include "trace.h"
#include "units.h"

/* -k 0 and -m 0 are off, as in the original. */
int
over_cpu(const cJSON *p, const struct topts *o)
{
	return o->cpu_warn > 0 && rec_get_num(p, "cpu_pct", 0) >= o->cpu_warn;
}

int
over_rss(const cJSON *p, const struct topts *o)
{
	return o->rss_warn_mb > 0 &&
	    rec_get_num(p, "rss_kb", 0) / 1024 >= o->rss_warn_mb;
}

void
human_kb(double kb, char *buf, size_t len)
{
	/* One decimal, cut rather than rounded (the original used bc). */
	if (kb >= 1024 * 1024)
		snprintf(buf, len, "%.1fG", floor(kb / 1024 / 1024 * 10) / 10);
	else if (kb >= 1024)
		snprintf(buf, len, "%.1fM", floor(kb / 1024 * 10) / 10);
	else
		snprintf(buf, len, "%.0fK", kb);
}

static int
is_true(const cJSON *p, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, name));
}

static const char *
cpu_color(double cpu)
{
	if (cpu >= 80)
		return color(C_RED);
	if (cpu >= 50)
		return color(C_YELLOW);
	return "";
}

static const char *
rss_color(double kb)
{
	if (kb >= 1024 * 1024)
		return color(C_RED);
	if (kb >= 512 * 1024)
		return color(C_YELLOW);
	return "";
}

static void
row(FILE *out, const cJSON *p, const struct topts *o, int depth)
{
	double cpu = rec_get_num(p, "cpu_pct", 0);
	double rss = rec_get_num(p, "rss_kb", 0);
	const char *state = rec_get_str(p, "stat") ? rec_get_str(p, "stat") :
	    rec_get_str(p, "state");
	const char *et = rec_get_str(p, "elapsed");
	const char *proj = rec_get_str(p, "project");
	const char *cc = cpu_color(cpu), *rc = rss_color(rss);
	int warn = over_cpu(p, o) || over_rss(p, o);
	char rssbuf[16];
	const cJSON *kids, *k;

	fmt_kb(rss, rssbuf, sizeof(rssbuf));
	fprintf(out, "%s%*s%-*d %7d %s%6.1f%s %5.1f %s%8s%s %-5s %11s %-16.16s",
	    warn ? color(C_REVERSE) : "", depth * 2, "",
	    8 - depth * 2 > 1 ? 8 - depth * 2 : 1,
	    (int)rec_get_num(p, "pid", 0), (int)rec_get_num(p, "ppid", 0),
	    cc, cpu, *cc ? color(C_RESET) : "", rec_get_num(p, "mem_pct", 0),
	    rc, rssbuf, *rc ? color(C_RESET) : "", state ? state : "?",
	    et ? et : "-", proj ? proj : "-");
	if (warn && *cc == '\0' && *rc == '\0')
		fputs(color(C_RESET), out);
	if (o->verbose) {
		const char *cwd = rec_get_str(p, "cwd");
		double fds = rec_get_num(p, "fds", -1);

		fprintf(out, " %7d ", (int)rec_get_num(p, "threads", 0));
		if (fds >= 0)
			fprintf(out, "%5.0f", fds);
		else
			fprintf(out, "%5s", "-");
		fprintf(out, "  %s", cwd ? cwd : "-");
	}
	if (is_true(p, "orphaned"))
		fprintf(out, "  %sORPHANED%s", color(C_YELLOW), color(C_RESET));
	if (is_true(p, "is_outdated"))
		fprintf(out, "  %sOUTDATED%s", color(C_YELLOW), color(C_RESET));
	if (warn)
		fputs(color(C_RESET), out);
	fputs(color_on() ? "\033[K\n" : "\n", out);
	kids = cJSON_GetObjectItemCaseSensitive(p, "children");
	cJSON_ArrayForEach(k, kids)
		row(out, k, o, depth + 1);
}

/*
 * Under the totals, the original's warnings. The aggregate ones need two
 * processes or more: for one, its own row already shows it.
 */
static void
warnings(FILE *out, const struct snapshot *s, const char *eol)
{
	char h[16];

	if (s->count > 1 && s->cpu >= AGG_CPU_PCT)
		fprintf(out, "%s%sWARNING: High aggregate CPU usage (%.1f%%)%s%s"
		    "%s  Consider: claude-trace -v, then claude-diagnose --pid "
		    "PID -s on the busiest%s%s", eol, color(C_RED), s->cpu,
		    color(C_RESET), eol, color(C_DIM), color(C_RESET), eol);
	if (s->count > 1 && s->rss_kb >= AGG_RSS_KB) {
		human_kb(s->rss_kb, h, sizeof(h));
		fprintf(out, "%s%sWARNING: High aggregate memory usage (%s)%s%s"
		    "%s  Consider: closing unused Claude sessions or restarting "
		    "high-memory processes%s%s", eol, color(C_RED), h,
		    color(C_RESET), eol, color(C_DIM), color(C_RESET), eol);
	}
	if (s->orphaned > 0)
		fprintf(out, "%s%sORPHANED: %d process%s whose parent died%s%s"
		    "%s  They may be stale. End one with: claude-trace -K PID%s%s",
		    eol, color(C_YELLOW), s->orphaned, s->orphaned == 1 ? "" :
		    "es", color(C_RESET), eol, color(C_DIM), color(C_RESET), eol);
	if (s->outdated > 0)
		fprintf(out, "%s%sOUTDATED: %d process%s running an older Claude "
		    "Code than the newest installed (%s)%s%s%s  Restart these "
		    "sessions to use it%s%s", eol, color(C_YELLOW), s->outdated,
		    s->outdated == 1 ? "" : "es", s->latest_local, color(C_RESET),
		    eol, color(C_DIM), color(C_RESET), eol);
}

void
render_table(FILE *out, const struct snapshot *s, const struct topts *o)
{
	const cJSON *p;
	char rss[16];
	const char *eol = color_on() ? "\033[K\n" : "\n";

	if (s->error) {
		fprintf(out, "cd-ps failed: %s%s", s->error, eol);
		return;
	}
	if (s->count == 0) {
		fprintf(out, "No Claude Code processes found.%s", eol);
		return;
	}
	fprintf(out, "%s%-8s %7s %6s %5s %8s %-5s %11s %-16s", color(C_BOLD),
	    "PID", "PPID", "CPU%", "MEM%", "RSS", "STATE", "TIME", "PROJECT");
	if (o->verbose)
		fprintf(out, " %7s %5s  %s", "THREADS", "FILES", "CWD");
	fprintf(out, "%s%s", color(C_RESET), eol);
	cJSON_ArrayForEach(p, s->procs)
		row(out, p, o, 0);
	fmt_kb(s->rss_kb, rss, sizeof(rss));
	fprintf(out, "%s%-8s %7s %s%6.1f%s %5.1f %s%8s%s  %d process%s",
	    color(C_BOLD), "TOTAL", "", cpu_color(s->cpu), s->cpu,
	    color(C_RESET), s->mem, rss_color(s->rss_kb), rss, color(C_RESET),
	    s->count, s->count == 1 ? "" : "es");
	if (s->orphaned)
		fprintf(out, ", %d orphaned", s->orphaned);
	fprintf(out, "%s%s", color(C_RESET), eol);
	warnings(out, s, eol);
}
