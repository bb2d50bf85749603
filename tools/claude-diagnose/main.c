/*
 * claude-diagnose: the driver. Runs the stage programs (cd-ps, cd-fds,
 * cd-sample, cd-trace, cd-categorize, cd-fold, cd-svg) and turns what they
 * find into one report, for people or (-j) for programs.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "color.h"
#include "diagnose.h"
#include "exitcode.h"
#include "msg.h"
#include "record.h"
#include "stage.h"
#include "units.h"

volatile sig_atomic_t diag_interrupted;

static const char usage[] =
"Usage: claude-diagnose [OPTIONS]\n"
"Explain why a Claude Code process misbehaves. With no options: an overview\n"
"of every Claude Code process, the system's memory, issues and next steps.\n"
"\n"
"  -p, --pid PID            only this process (repeatable)\n"
"  -d, --deep               file descriptors, sockets, watches (cd-fds)\n"
"  -s, --sample             CPU stack sampling (cd-sample); implies -d\n"
"      --sample-duration N  seconds to sample (default 5)\n"
"  -D, --dtrace, --trace    system-call tracing (cd-trace)\n"
"      --duration N         seconds to trace (default 5)\n"
"      --io                 trace file I/O only (implies -D)\n"
"      --network            trace network calls only (implies -D)\n"
"      --flamegraph         write a flame graph of the capture (needs -s or -D)\n"
"  -o, --output FILE        flame graph files: FILE.svg and FILE.folded\n"
"                           (default claude-flamegraph)\n"
"  -j, --json               one JSON document instead of the report\n"
"      --interval SECS      CPU measuring interval of the overview (default 0.5)\n"
"      --cpu-warning PCT, --cpu-critical PCT\n"
"                           per-process CPU thresholds (default 50, 80)\n"
"      --rss-warning MB, --rss-critical MB\n"
"                           per-process RSS thresholds (default 512, 1024)\n"
"      --progress, --no-progress\n"
"                           time left on stderr during captures (default: on a tty)\n"
"      --no-redact          show secrets in command lines\n"
"      --no-color           no colour\n"
"      --help, --version\n"
"\n"
"Exit status: 0 ran and found nothing critical, 1 found critical issues,\n"
"2 usage error, 3 could not run (a --pid that does not exist, cd-ps missing).\n";

enum {
	OPT_INTERVAL = CLI_OPT_FIRST_TOOL, OPT_NO_REDACT, OPT_CPU_WARN,
	OPT_CPU_CRIT, OPT_RSS_WARN, OPT_RSS_CRIT, OPT_SAMPLE_DUR, OPT_DURATION,
	OPT_IO, OPT_NETWORK, OPT_FLAME, OPT_PROGRESS, OPT_NO_PROGRESS,
};

static const struct option longopts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "deep", no_argument, NULL, 'd' },
	{ "sample", no_argument, NULL, 's' },
	{ "sample-duration", required_argument, NULL, OPT_SAMPLE_DUR },
	{ "dtrace", no_argument, NULL, 'D' },
	{ "trace", no_argument, NULL, 'D' },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "io", no_argument, NULL, OPT_IO },
	{ "network", no_argument, NULL, OPT_NETWORK },
	{ "flamegraph", no_argument, NULL, OPT_FLAME },
	{ "output", required_argument, NULL, 'o' },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "no-redact", no_argument, NULL, OPT_NO_REDACT },
	{ "cpu-warning", required_argument, NULL, OPT_CPU_WARN },
	{ "cpu-critical", required_argument, NULL, OPT_CPU_CRIT },
	{ "rss-warning", required_argument, NULL, OPT_RSS_WARN },
	{ "rss-critical", required_argument, NULL, OPT_RSS_CRIT },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static void
on_signal(int sig)
{
	diag_interrupted = sig;	/* which, for the report */
}

static void
defaults(struct dopts *o)
{
	o->redact = 1;
	o->interval_s = 0.5;
	o->cpu_warn = 50;
	o->cpu_crit = 80;
	o->rss_warn_mb = 512;
	o->rss_crit_mb = 1024;
	o->sample_s = o->trace_s = 5;
	o->progress = -1;
}

/* Combinations that cannot mean anything get a message, never a guess. */
static void
check(struct dopts *o, int sample_dur_set, int dur_set)
{
	if (o->io || o->network)
		o->trace = 1;
	if (o->sample)
		o->deep = 1;
	if (sample_dur_set && !o->sample)
		cli_usage("--sample-duration applies to sampling: add -s");
	if (dur_set && !o->trace)
		cli_usage("--duration applies to tracing: add -D (or --io, --network)");
	if (o->flamegraph && !o->sample && !o->trace)
		cli_usage("--flamegraph draws a capture: add -s (CPU) or -D (system calls)");
	if (o->output && !o->flamegraph)
		cli_usage("-o names the flame graph files: add --flamegraph");
	if (o->flamegraph && o->output == NULL)
		o->output = "claude-flamegraph";
	if (o->cpu_warn > o->cpu_crit)
		o->cpu_warn = o->cpu_crit;
	if (o->rss_warn_mb > o->rss_crit_mb)
		o->rss_warn_mb = o->rss_crit_mb;
}

static void
parse(int argc, char **argv, struct dopts *o)
{
	int c, sdur = 0, dur = 0;

	defaults(o);
	while ((c = getopt_long(argc, argv, "p:jdsDo:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pidlist_add(&o->pids, cli_pid(optarg));
			break;
		case 'j':
			o->json = 1;
			break;
		case 'd':
			o->deep = 1;
			break;
		case 's':
			o->sample = 1;
			break;
		case 'D':
			o->trace = 1;
			break;
		case 'o':
			if (*optarg == '\0')
				cli_usage("-o: empty file name");
			o->output = optarg;
			break;
		case OPT_SAMPLE_DUR:
			o->sample_s = cli_double(optarg, 0.1, 3600, "--sample-duration");
			sdur = 1;
			break;
		case OPT_DURATION:
			o->trace_s = cli_double(optarg, 0.1, 3600, "--duration");
			dur = 1;
			break;
		case OPT_IO:
			o->io = 1;
			break;
		case OPT_NETWORK:
			o->network = 1;
			break;
		case OPT_FLAME:
			o->flamegraph = 1;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
		case OPT_NO_PROGRESS:
			o->progress = 0;
			break;
		case OPT_INTERVAL:
			o->interval_s = cli_double(optarg, 0.05, 60, "--interval");
			break;
		case OPT_CPU_WARN:
			o->cpu_warn = cli_double(optarg, 0, 1e6, "--cpu-warning");
			break;
		case OPT_CPU_CRIT:
			o->cpu_crit = cli_double(optarg, 0, 1e6, "--cpu-critical");
			break;
		case OPT_RSS_WARN:
			o->rss_warn_mb = cli_double(optarg, 0, 1e9, "--rss-warning");
			break;
		case OPT_RSS_CRIT:
			o->rss_crit_mb = cli_double(optarg, 0, 1e9, "--rss-critical");
			break;
		case OPT_NO_REDACT:
			o->redact = 0;
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
	check(o, sdur, dur);
}

int
main(int argc, char **argv)
{
	struct dopts o = { 0 };
	struct report r = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	int rc;

	msg_init(argv[0]);
	parse(argc, argv, &o);
	color_init(1, o.nocolor);
	signal(SIGPIPE, SIG_DFL);
	/* No SA_RESTART: Ctrl-C must wake the capture loop. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	iso8601(time(NULL), r.timestamp, sizeof(r.timestamp));
	sysinfo_read(&r.id);
	r.have_mem = sysmem_read(&r.mem) == 0;
	r.ncpu = procinfo_ncpu();
	r.findings = cJSON_CreateArray();
	r.actions = cJSON_CreateArray();
	r.files = cJSON_CreateArray();
	r.file_errors = cJSON_CreateArray();

	rc = collect_processes(&r, &o);
	capture_run(&r, &o);
	flame_write(&r, &o);
	analyze(&r, &o);
	if (o.json)
		report_json(&r, &o);
	else
		report_text(&r, &o);
	if (rc < 0 && r.ps_error)
		msg_warn("%s", r.ps_error);
	if (rc < 0)
		rc = CD_EXIT_FAIL;
	else
		rc = findings_count(&r, "critical") > 0 ? CD_EXIT_FOUND : CD_EXIT_OK;
	/* Files asked for and not written, a stage that broke, or no report: the run failed. */
	if (cJSON_GetArraySize(r.file_errors) > 0)
		rc = CD_EXIT_FAIL;
	for (int c = 0; c < CAP__N; c++)
		if (r.cap[c].wanted && r.cap[c].broken)
			rc = CD_EXIT_FAIL;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		msg_warnerr("cannot write the report");
		rc = CD_EXIT_FAIL;
	}
	capture_free(&r);
	cJSON_Delete(r.procs);
	cJSON_Delete(r.ps_meta);
	cJSON_Delete(r.findings);
	cJSON_Delete(r.actions);
	cJSON_Delete(r.files);
	cJSON_Delete(r.file_errors);
	free(r.ps_error);
	pidlist_free(&o.pids);
	return rc;
}
