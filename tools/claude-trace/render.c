/* The process table, with colour on terminals. */
#include <string.h>

#include "cli.h"
#include "color.h"
#include "record.h"
#include "trace.h"
#include "units.h"

int
over_cpu(const cJSON *p, const struct topts *o)
{
	return o->cpu_warn >= 0 && rec_get_num(p, "cpu_pct", 0) >= o->cpu_warn;
}

int
over_rss(const cJSON *p, const struct topts *o)
{
	return o->rss_warn_mb >= 0 &&
	    rec_get_num(p, "rss_kb", 0) / 1024 >= o->rss_warn_mb;
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
	const char *state = rec_get_str(p, "state");
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

		fprintf(out, " %7d  %s", (int)rec_get_num(p, "threads", 0),
		    cwd ? cwd : "-");
	}
	if (rec_get_num(p, "orphaned", 0) || cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(p, "orphaned")))
		fprintf(out, "  %s(orphaned)%s", color(C_YELLOW), color(C_RESET));
	if (warn)
		fputs(color(C_RESET), out);
	fputs(color_on() ? "\033[K\n" : "\n", out);
	kids = cJSON_GetObjectItemCaseSensitive(p, "children");
	cJSON_ArrayForEach(k, kids)
		row(out, k, o, depth + 1);
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
		fprintf(out, " %7s  %s", "THREADS", "CWD");
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
}
