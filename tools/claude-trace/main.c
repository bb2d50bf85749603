/*
 * claude-trace: the quick monitor. A table of Claude Code processes, once
 * or refreshed in place, with warnings when one crosses a threshold. Its
 * data comes from cd-ps.
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "color.h"
#include "exitcode.h"
#include "msg.h"
#include "record.h"
#include "psrun.h"
#include "sigstop.h"
#include "sysinfo.h"
#include "trace.h"
#include "units.h"

static const char usage[] =
"Usage: claude-trace [OPTIONS]\n"
"A table of Claude Code processes: PID, PPID, CPU%, MEM%, RSS, STATE, TIME,\n"
"PROJECT, with totals. CPU is red at 80% and yellow at 50%; RSS red at 1 GB\n"
"and yellow at 512 MB. ORPHANED: the parent died; OUTDATED: an older version\n"
"than the newest installed.\n"
"\n"
"  -w, --watch [N]           refresh every N seconds (default 2) until Ctrl-C\n"
"  -k, --kill-threshold PCT  warn when a process uses PCT% CPU or more (0: off)\n"
"  -m, --mem-threshold MB    warn when a process's RSS reaches MB (0: off)\n"
"  -v, --verbose             add threads, open files and working directory\n"
"  -t, --tree                show child processes (MCP servers, shells)\n"
"  -j, --json                one JSON document (one per refresh with -w)\n"
"  -p, --pid PID             only this process (repeatable)\n"
"  -K, --kill PID            end a Claude Code process (SIGTERM); refuses others\n"
"  -9, --force               with -K: SIGKILL\n"
"      --check-version       running and installed versions against the newest\n"
"                            published on the npm registry (npm's own config)\n"
"      --upgrade             run Claude Code's own updater (claude update)\n"
"  -R, --release-notes       the latest Claude Code release notes (GitHub)\n"
"      --prometheus          the processes as Prometheus metrics (text format)\n"
"      --prometheus-file F   write them to F, replaced atomically (for\n"
"                            node_exporter's textfile collector)\n"
"      --listen [ADDR:]PORT  with -w: serve those metrics at /metrics\n"
"                            (ADDR defaults to 127.0.0.1)\n"
"      --capture DIR         with -w and -k/-m: when a process crosses, capture\n"
"                            it (claude-diagnose -d -s -D --flamegraph) into a\n"
"                            new folder under DIR, in the background\n"
"      --capture-duration S  seconds each capture samples and traces (default 5)\n"
"      --capture-every S     at most one capture of a process per S seconds\n"
"                            (default 300)\n"
"      --capture-keep K      keep the newest K capture folders (default 20)\n"
"      --capture-before S    keep a rolling 19 Hz CPU sample (cd-sample, perf)\n"
"                            of the busy watched processes, so a capture also\n"
"                            holds the S to 2S seconds before the crossing\n"
"                            (before.folded, before.svg)\n"
"      --no-color            no colour\n"
"  -h, --help, and --version\n"
"\n"
"Warnings are highlighted in the table and written to stderr, once each time\n"
"a process crosses a threshold.\n"
"Exit status: 0 ok, 1 a threshold was crossed (--check-version: an update is\n"
"available), 2 usage, 3 cd-ps failed, a network or updater failure, or -K\n"
"refused or failed.\n";

enum { OPT_CHECK = CLI_OPT_FIRST_TOOL, OPT_UPGRADE, OPT_INSTALL, OPT_UNINSTALL_APP,
	OPT_CAPTURE, OPT_CAPTURE_DUR, OPT_CAPTURE_EVERY, OPT_CAPTURE_KEEP,
	OPT_PROM, OPT_PROM_FILE, OPT_LISTEN, OPT_CAPTURE_BEFORE };

static const struct option longopts[] = {
	{ "watch", optional_argument, NULL, 'w' },
	{ "kill-threshold", required_argument, NULL, 'k' },
	{ "cpu", required_argument, NULL, 'k' },
	{ "mem-threshold", required_argument, NULL, 'm' },
	{ "mem", required_argument, NULL, 'm' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "tree", no_argument, NULL, 't' },
	{ "json", no_argument, NULL, 'j' },
	{ "pid", required_argument, NULL, 'p' },
	{ "kill", required_argument, NULL, 'K' },
	{ "force", no_argument, NULL, '9' },
	{ "check-version", no_argument, NULL, OPT_CHECK },
	{ "upgrade", no_argument, NULL, OPT_UPGRADE },
	{ "release-notes", no_argument, NULL, 'R' },
	{ "install", no_argument, NULL, OPT_INSTALL },
	{ "uninstall-app", no_argument, NULL, OPT_UNINSTALL_APP },
	{ "prometheus", no_argument, NULL, OPT_PROM },
	{ "prometheus-file", required_argument, NULL, OPT_PROM_FILE },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "capture", required_argument, NULL, OPT_CAPTURE },
	{ "capture-duration", required_argument, NULL, OPT_CAPTURE_DUR },
	{ "capture-every", required_argument, NULL, OPT_CAPTURE_EVERY },
	{ "capture-keep", required_argument, NULL, OPT_CAPTURE_KEEP },
	{ "capture-before", required_argument, NULL, OPT_CAPTURE_BEFORE },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static volatile sig_atomic_t stop;

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
set_action(struct topts *o, enum action a)
{
	if (o->action != ACT_TABLE && o->action != a)
		cli_usage("-K, --check-version, --upgrade, -R and --prometheus go "
		    "one at a time");
	o->action = a;
}

static void
parse(int argc, char **argv, struct topts *o)
{
	int c, capture_opt = 0;

	o->cpu_warn = o->rss_warn_mb = 0;
	o->capture_s = 5;
	o->capture_every_s = 300;
	o->capture_keep = 20;
	while ((c = getopt_long(argc, argv, "w::k:m:vtjp:K:9Rh", longopts,
	    NULL)) != -1) {
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
		case 'K':
			set_action(o, ACT_KILL);
			o->kill_pid = cli_pid(optarg);
			break;
		case '9':
			o->force = 1;
			break;
		case OPT_CHECK:
			set_action(o, ACT_CHECK_VERSION);
			break;
		case OPT_UPGRADE:
			set_action(o, ACT_UPGRADE);
			break;
		case 'R':
			set_action(o, ACT_RELEASE_NOTES);
			break;
		case OPT_INSTALL:
			cli_usage("--install: on Linux, install with 'make install' "
			    "(PREFIX=/usr/local by default)");
			break;
		case OPT_UNINSTALL_APP:
			cli_usage("--uninstall-app removes the original's macOS menu "
			    "bar app, which has no Linux counterpart");
			break;
		case OPT_PROM:
			set_action(o, ACT_PROMETHEUS);
			break;
		case OPT_PROM_FILE:
			if (*optarg == '\0')
				cli_usage("--prometheus-file: empty file name");
			set_action(o, ACT_PROMETHEUS);
			o->prom_file = optarg;
			break;
		case OPT_LISTEN:
			o->listen = optarg;
			break;
		case OPT_CAPTURE:
			if (*optarg == '\0')
				cli_usage("--capture: empty directory name");
			o->capture_dir = optarg;
			break;
		case OPT_CAPTURE_DUR:
			o->capture_s = cli_double(optarg, 0.5, 3600,
			    "--capture-duration");
			capture_opt = 1;
			break;
		case OPT_CAPTURE_EVERY:
			o->capture_every_s = cli_double(optarg, 0, 1e7,
			    "--capture-every");
			capture_opt = 1;
			break;
		case OPT_CAPTURE_KEEP:
			o->capture_keep = (int)cli_long(optarg, 1, 100000,
			    "--capture-keep");
			capture_opt = 1;
			break;
		case OPT_CAPTURE_BEFORE:
			o->capture_before_s = cli_double(optarg, 1, 600,
			    "--capture-before");
			capture_opt = 1;
			break;
		case 'h':	/* the original's short form */
			cli_help(usage);
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
	if (o->force && o->action != ACT_KILL)
		cli_usage("-9 applies to -K PID");
	if (o->listen && o->watch_s == 0)
		cli_usage("--listen serves metrics while watching: add -w");
	if (capture_opt && o->capture_dir == NULL)
		cli_usage("--capture-duration, --capture-every, --capture-keep "
		    "and --capture-before go with --capture DIR");
	if (o->capture_dir && (o->watch_s == 0 ||
	    (o->cpu_warn <= 0 && o->rss_warn_mb <= 0)))
		cli_usage("--capture captures on a crossing: it needs -w and a "
		    "threshold (-k or -m)");
	if (o->action != ACT_TABLE && o->watch_s > 0)
		cli_usage("-w shows the table; it does not go with -K, "
		    "--check-version, --upgrade, -R or --prometheus");
}

static void
snapshot_free(struct snapshot *s)
{
	cJSON_Delete(s->procs);
	cJSON_Delete(s->meta);
	free(s->latest_local);
	free(s->error);
	memset(s, 0, sizeof(*s));
}

/*
 * In watch mode CPU% comes from the cpu_time_s counters of two frames, as
 * top does: cd-ps then runs with --interval 0 and reads each process once,
 * not twice with a sleep between. The first frame has no earlier one.
 */
struct cpuseen {
	int pid;
	double start;		/* boot-clock seconds: a reused pid is another */
	double cpu_s;
};
struct cpuprev {
	struct cpuseen *v;	/* sorted by pid once a frame is read */
	size_t n, cap;
	uint64_t t;		/* when they were read; 0: never */
};

static void
cpuprev_free(struct cpuprev *c)
{
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
}

static void
cpuprev_add(struct cpuprev *c, int pid, double start, double cpu_s)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = xreallocarray(c->v, c->cap, sizeof(*c->v));
	}
	c->v[c->n++] = (struct cpuseen){ .pid = pid, .start = start,
		.cpu_s = cpu_s };
}

static int
cpuseen_cmp(const void *a, const void *b)
{
	int x = ((const struct cpuseen *)a)->pid;
	int y = ((const struct cpuseen *)b)->pid;

	return (x > y) - (x < y);
}

/*
 * The same process: its pid, and a start time within 2 s (now - elapsed
 * moves a little between frames; start_time, whole seconds of wall time
 * made the same way, can tick over between two frames).
 */
static const struct cpuseen *
cpuprev_find(const struct cpuprev *c, int pid, double start)
{
	size_t lo = 0, hi = c->n;

	/* the first with this pid; a pid can be there twice, reused */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->v[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < c->n && c->v[lo].pid == pid; lo++)
		if (fabs(c->v[lo].start - start) < 2)
			return &c->v[lo];
	return NULL;
}

static double
boot_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
cpu_from_deltas(cJSON *procs, const struct cpuprev *old, struct cpuprev *now,
    double dt)
{
	cJSON *p;

	double boot = boot_s();

	cJSON_ArrayForEach(p, procs) {
		double start = boot - rec_get_num(p, "elapsed_s", 0);
		double cpu = rec_get_num(p, "cpu_time_s", -1);
		int pid = (int)rec_get_num(p, "pid", 0);
		const struct cpuseen *was;

		cpu_from_deltas(cJSON_GetObjectItemCaseSensitive(p, "children"),
		    old, now, dt);
		if (cpu < 0)
			continue;
		cpuprev_add(now, pid, start, cpu);
		/* New since the last frame: its life so far is the interval. */
		if (dt <= 0 || (was = cpuprev_find(old, pid, start)) == NULL)
			continue;
		cJSON_ReplaceItemInObjectCaseSensitive(p, "cpu_pct",
		    cJSON_CreateNumber(round((cpu - was->cpu_s) / dt * 10000) /
		    100));
	}
}

static int
take(struct snapshot *s, const struct topts *o, double interval,
    struct cpuprev *prev, struct psstream *ps)
{
	struct ps_query q = { .interval_s = interval, .tree = o->tree,
		.redact = 1, .pids = o->pids };
	const cJSON *p;

	memset(s, 0, sizeof(*s));
	s->procs = cJSON_CreateArray();
	if (ps)
		psstream_take(ps, &q, s->procs, &s->meta, &s->error);
	else
		ps_run(&q, s->procs, &s->meta, &s->error);
	if (prev) {
		/* when cd-ps read the counters; their arrival is later, unevenly */
		double rd = rec_get_num(s->meta, "read_mono_s", -1);
		struct cpuprev now = { .t = rd > 0 ? (uint64_t)(rd * 1e9) : now_mono_ns() };

		cpu_from_deltas(s->procs, prev, &now, prev->t ?
		    (double)(now.t - prev->t) / 1e9 : 0);
		if (now.n > 1)
			qsort(now.v, now.n, sizeof(*now.v), cpuseen_cmp);
		cpuprev_free(prev);
		*prev = now;
	}
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
	s->latest_local = versions_newest_local(s->procs);
	s->outdated = versions_mark_outdated(s->procs, s->latest_local);
	return s->error ? -1 : 0;
}

static void
why(const cJSON *p, int oc, const struct topts *o, char *buf, size_t len)
{
	if (oc)
		snprintf(buf, len, "CPU %.1f%% >= %g%%", rec_get_num(p, "cpu_pct",
		    0), o->cpu_warn);
	else
		snprintf(buf, len, "RSS %.0f MB >= %g MB", rec_get_num(p,
		    "rss_kb", 0) / 1024, o->rss_warn_mb);
}

/* Warn once per crossing: remember who was over last time. */
static int
warn_crossings(const struct snapshot *s, const struct topts *o,
    struct pidlist *was_over, struct recorder *rec)
{
	struct pidlist now = { 0 };
	const cJSON *p;
	int crossed = 0;
	char whybuf[96];

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
		why(p, oc, o, whybuf, sizeof(whybuf));
		recorder_crossed(rec, pid, whybuf);
	}
	pidlist_release(was_over);
	*was_over = now;
	return crossed;
}

/* The one-shot title, as the original's: name, then date, host, system. */
static void
title(FILE *out)
{
	struct sysinfo_id id;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	sysinfo_read(&id);
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(out, "%sClaude Code CLI Process Monitor%s\n", color(C_BOLD),
	    color(C_RESET));
	fprintf(out, "%s%s | %s | %s %s%s\n\n", color(C_DIM), ts, id.hostname,
	    id.os, id.os_version, color(C_RESET));
}

static void
out_flush(void)
{
	cli_flush_stdout();
}

static void
show(const struct snapshot *s, const struct topts *o, int frame,
    const struct recorder *rec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	if (o->json) {
		cJSON *doc = snapshot_json(s, o);
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
		recorder_lines(mem, rec, color_on() ? "\033[K\n" : "\n");
	} else {
		title(mem);
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
	struct recorder rec;
	struct cpuprev prev = { 0 };
	struct psstream ps = { 0 };
	int rc = CD_EXIT_OK, frame = 0, lfd;

	msg_init(argv[0]);
	parse(argc, argv, &o);
	color_init(1, o.nocolor || o.json);
	if (o.action != ACT_TABLE) {
		rc = o.action == ACT_KILL ? do_kill(&o) :
		    o.action == ACT_CHECK_VERSION ? do_check_version(&o) :
		    o.action == ACT_UPGRADE ? do_upgrade(&o) :
		    o.action == ACT_PROMETHEUS ? do_prometheus(&o) :
		    do_release_notes(&o);
		pidlist_release(&pids);
		out_flush();
		return rc;
	}
	/* A closed terminal too: running captures are stopped and written,
	 * and pending --capture-before files, as on Ctrl-C. */
	sigstop_catch(&stop, SIGSTOP_RESTART | SIGSTOP_HUP);
	signal(SIGPIPE, SIG_DFL);
	recorder_open(&rec, &o);
	lfd = o.listen ? listen_open(o.listen) : -1;
	/* fds show in -v's FILES, -j -v's open_files and --listen's metrics. */
	psstream_no_fds(&ps, !o.verbose && !o.json && !o.listen);

	if (o.watch_s > 0 && color_on())
		fputs("\033[?25l\033[2J", stdout);	/* hide cursor, clear */
	do {
		uint64_t t0 = now_mono_ns();
		double interval = o.watch_s > 0 && o.watch_s < 0.5 ? o.watch_s : 0.5;

		if (o.watch_s > 0 && prev.t != 0)
			interval = 0;
		if (take(&s, &o, interval, o.watch_s > 0 ? &prev : NULL,
		    o.watch_s > 0 ? &ps : NULL) < 0 &&
		    o.watch_s == 0) {
			/* An error is for stderr; -j keeps its document. */
			if (o.json)
				show(&s, &o, frame, &rec);
			msg_warn("cd-ps failed: %s", s.error ? s.error : "?");
			snapshot_free(&s);
			rc = CD_EXIT_FAIL;
			break;
		}
		if (stop && frame > 0) {
			snapshot_free(&s);
			break;
		}
		recorder_poll(&rec);
		if (warn_crossings(&s, &o, &was_over, &rec))
			rc = CD_EXIT_FOUND;
		recorder_sample(&rec, s.procs);
		show(&s, &o, frame++, &rec);
		if (o.watch_s > 0) {
			/*
			 * A period from when the counters were read: the first
			 * frame's read ends its 0.5 s interval, and the next
			 * right after it would divide a tick or two of CPU by
			 * a few ms (0% calm, 245.9% seen under ASan).
			 */
			uint64_t from = prev.t > t0 ? prev.t : t0;
			uint64_t spent = now_mono_ns() - from;
			uint64_t period = (uint64_t)(o.watch_s * 1e9);

			if (!stop && spent < period && lfd >= 0)
				listen_wait(lfd, period - spent, &stop, s.procs);
			else if (!stop && spent < period)
				sleep_ns(period - spent, &stop);
		}
		snapshot_free(&s);
	} while (o.watch_s > 0 && !stop);
	recorder_close(&rec);
	psstream_close(&ps);
	if (lfd >= 0)
		close(lfd);
	cpuprev_free(&prev);
	if (o.watch_s > 0 && color_on())
		fputs("\033[?25h", stdout);	/* cursor back */
	out_flush();
	pidlist_release(&pids);
	pidlist_release(&was_over);
	return rc;
}
