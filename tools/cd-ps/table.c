/* --table: the same rows for people. */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cdps.h"
#include "color.h"
#include "units.h"

static int
term_width(void)
{
	struct winsize ws;

	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40)
		return ws.ws_col;
	return 160;
}

static void
print_row(const struct row *r, int depth, int width)
{
	char rss[16], etime[32], indent[32];
	const char *cpu_c = "";
	int used, room;

	fmt_kb((double)r->p->rss_kb, rss, sizeof(rss));
	fmt_elapsed(r->p->elapsed_s, etime, sizeof(etime));
	if (r->cpu_pct >= 80)
		cpu_c = color(C_RED);
	else if (r->cpu_pct >= 50)
		cpu_c = color(C_YELLOW);
	snprintf(indent, sizeof(indent), "%*s", depth * 2, "");
	used = printf("%s%-*d %7d %s%6.1f%s %5.1f %8s %5c %11s %-14.14s ",
	    indent, 7 - depth * 2 > 1 ? 7 - depth * 2 : 1, r->p->pid,
	    r->p->ppid, cpu_c, r->cpu_pct, *cpu_c ? color(C_RESET) : "",
	    r->mem_pct, rss, r->p->state ? r->p->state : '?', etime,
	    r->project ? r->project : "-");
	room = width - (used > 0 ? used : 0);
	if (room < 10)
		room = 10;
	printf("%.*s\n", room, r->command ? r->command : "");
	for (size_t i = 0; i < r->nchildren; i++)
		print_row(r->children[i], depth + 1, width);
}

void
table_print(struct row **rows, size_t n)
{
	int width = isatty(1) ? term_width() : 4096;

	printf("%s%-7s %7s %6s %5s %8s %5s %11s %-14s %s%s\n", color(C_BOLD),
	    "PID", "PPID", "CPU%", "MEM%", "RSS", "STATE", "TIME", "PROJECT",
	    "COMMAND", color(C_RESET));
	for (size_t i = 0; i < n; i++)
		print_row(rows[i], 0, width);
}
