/*
 * claude-trace: the quick monitor. A table of Claude Code processes, once
 * or refreshed in place, with warnings when one crosses a threshold. Its
 * data comes from cd-ps.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "color.h"
#include "exitcode.h"
#include "msg.h"
#include "record.h"
#include "psrun.h"
#include "trace.h"
#include "units.h"

static const char usage[] =
"Usage: claude-trace [OPTIONS]\n"
"A table of Claude Code processes: PID, PPID, CPU%, MEM%, RSS, STATE, TIME,\n"
"PROJECT, with totals. CPU is red at 80% and yellow at 50%; RSS red at 1 GB\n"
"and yellow at 512 MB.\n"
"\n"
"  -w, --watch [N]     refresh every N seconds (default 2) until Ctrl-C\n"
"  -k, --cpu PCT       warn when a process uses PCT% CPU or more\n"
"  -m, --mem MB        warn when a process's RSS reaches MB megabytes\n"
"  -v, --verbose       add threads and working directory\n"
"  -t, --tree          show child processes (MCP servers, shells)\n"
"  -j, --json          one JSON document (one per refresh with -w)\n"
"  -p, --pid PID       only this process (repeatable)\n"
"      --no-color      no colour\n"
"      --help, --version\n"
"\n"
"Warnings are highlighted in the table and written to stderr, once each time\n"
"a process crosses a threshold.\n"
"Exit status: 0 ok, 1 a threshold was crossed, 2 usage, 3 cd-ps failed.\n";

static const struct option longopts[] = {
	{ "watch", optional_argument, NULL, 'w' },
	{ "cpu", required_argument, NULL, 'k' },
	{ "mem", required_argument, NULL, 'm' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "tree", no_argument, NULL, 't' },
	{ "json", no_argument, NULL, 'j' },
	{ "pid", required_argument, NULL, 'p' },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static volatile int stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
is_number(const char *s)
{
	char *end;

	if (s == NULL || *s == '\0' || *s == '-')
		return 0;
	(void)strtod(s, &end);
	return *end == '\0';
}

static void
parse(int argc, char **argv, struct topts *o)
{
	int c;

	o->cpu_warn = o->rss_warn_mb = -1;
	while ((c = getopt_long(argc, argv, "w::k:m:vtjp:", longopts, NULL)) != -1) {
		switch (c) {
		case 'w':
			o->watch_s = 2;
			/* "-w 5" as well as "-w5": the documented usage. */
			if (optarg)
				o->watch_s = cli_double(optarg, 0.2, 86400, "-w");
			else if (optind < argc && is_number(argv[optind]))
				o->watch_s = cli_double(argv[optind++], 0.2, 86400, "-w");
			break;
		case 'k':
			o->cpu_warn = cli_double(optarg, 0, 100000, "-k");
			break;
		case 'm':
			o->rss_warn_mb = cli_double(optarg, 0, 1e9, "-m");
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 't':
			o->tree = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'p':
			pidlist_add(o->pids, cli_pid(optarg));
			break;
		case CLI_OPT_NO_COLOR:
			o->nocolor = 1;
			break;
		case CLI_OPT_STRICT:
			break;
		default:
			cli_other(c, usage);
		}
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
}

static void
snapshot_free(struct snapshot *s)
{
	cJSON_Delete(s->procs);
	cJSON_Delete(s->meta);
	free(s->error);
	memset(s, 0, sizeof(*s));
}

static int
take(struct snapshot *s, const struct topts *o, double interval)
{
	struct ps_query q = { .interval_s = interval, .tree = o->tree,
		.redact = 1, .pids = o->pids };
	const cJSON *p;

	memset(s, 0, sizeof(*s));
	s->procs = cJSON_CreateArray();
	ps_run(&q, s->procs, &s->meta, &s->error);
	/* A --pid that is gone while others remain is not a failure here. */
	if (s->error && cJSON_GetArraySize(s->procs) > 0) {
		free(s->error);
		s->error = NULL;
	}
	cJSON_ArrayForEach(p, s->procs) {
		s->count++;
		s->cpu += rec_get_num(p, "cpu_pct", 0);
		s->mem += rec_get_num(p, "mem_pct", 0);
		s->rss_kb += rec_get_num(p, "rss_kb", 0);
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "orphaned")))
			s->orphaned++;
	}
	return s->error ? -1 : 0;
}

/* Warn once per crossing: remember who was over last time. */
static int
warn_crossings(const struct snapshot *s, const struct topts *o,
    struct pidlist *was_over)
{
	struct pidlist now = { 0 };
	const cJSON *p;
	int crossed = 0;

	cJSON_ArrayForEach(p, s->procs) {
		int pid = (int)rec_get_num(p, "pid", 0);
		int oc = over_cpu(p, o), om = over_rss(p, o);

		if (!oc && !om)
			continue;
		pidlist_add(&now, pid);
		crossed = 1;
		if (pidlist_has(was_over, pid))
			continue;
		if (oc)
			msg_warn("warning: pid %d uses %.1f%% CPU (threshold %g%%)",
			    pid, rec_get_num(p, "cpu_pct", 0), o->cpu_warn);
		if (om)
			msg_warn("warning: pid %d RSS is %.0f MB (threshold %g MB)",
			    pid, rec_get_num(p, "rss_kb", 0) / 1024, o->rss_warn_mb);
	}
	pidlist_free(was_over);
	*was_over = now;
	return crossed;
}

static void
out_flush(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		msg_dieerr(CD_EXIT_FAIL, "cannot write the output");
}

static void
show(const struct snapshot *s, const struct topts *o, int frame)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	if (o->json) {
		cJSON *doc = snapshot_json(s);
		char *txt = o->watch_s > 0 ? cJSON_PrintUnformatted(doc) :
		    cJSON_Print(doc);

		if (txt)
			printf("%s\n", txt);
		cJSON_free(txt);
		cJSON_Delete(doc);
		out_flush();
		return;
	}
	/* Compose the whole frame, then write it at once: no flicker. */
	mem = open_memstream(&buf, &len);
	if (mem == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	if (o->watch_s > 0) {
		char ts[40];

		iso8601(time(NULL), ts, sizeof(ts));
		if (color_on())
			fputs("\033[H", mem);
		else if (frame > 0)
			fputs("\n", mem);
		fprintf(mem, "%sclaude-trace: every %gs, %s (Ctrl-C to stop)%s%s",
		    color(C_DIM), o->watch_s, ts, color(C_RESET),
		    color_on() ? "\033[K\n" : "\n");
	}
	render_table(mem, s, o);
	if (o->watch_s > 0 && color_on())
		fputs("\033[J", mem);
	fclose(mem);
	fwrite(buf, 1, len, stdout);
	free(buf);
	out_flush();
}

int
main(int argc, char **argv)
{
	struct pidlist pids = { 0 }, was_over = { 0 };
	struct topts o = { .pids = &pids };
	struct snapshot s;
	int rc = CD_EXIT_OK, frame = 0;

	msg_init(argv[0]);
	parse(argc, argv, &o);
	color_init(1, o.nocolor || o.json);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_DFL);

	if (o.watch_s > 0 && color_on())
		fputs("\033[?25l\033[2J", stdout);	/* hide cursor, clear */
	do {
		uint64_t t0 = now_mono_ns();
		double interval = o.watch_s > 0 && o.watch_s < 0.5 ? o.watch_s : 0.5;

		if (take(&s, &o, interval) < 0 && o.watch_s == 0) {
			/* An error is for stderr; -j keeps its document. */
			if (o.json)
				show(&s, &o, frame);
			msg_warn("cd-ps failed: %s", s.error ? s.error : "?");
			snapshot_free(&s);
			rc = CD_EXIT_FAIL;
			break;
		}
		if (stop && frame > 0) {
			snapshot_free(&s);
			break;
		}
		show(&s, &o, frame++);
		if (warn_crossings(&s, &o, &was_over))
			rc = CD_EXIT_FOUND;
		snapshot_free(&s);
		if (o.watch_s > 0) {
			uint64_t spent = now_mono_ns() - t0;
			uint64_t period = (uint64_t)(o.watch_s * 1e9);

			if (!stop && spent < period)
				sleep_ns(period - spent, &stop);
		}
	} while (o.watch_s > 0 && !stop);
	if (o.watch_s > 0 && color_on())
		fputs("\033[?25h", stdout);	/* cursor back */
	out_flush();
	pidlist_free(&pids);
	pidlist_free(&was_over);
	return rc;
}
