/*
 * claude-diagnose: the driver. Runs the stage programs (cd-ps, cd-fds,
 * cd-sample, cd-trace, cd-categorize, cd-fold, cd-svg) and turns what they
 * find into one report, for people or (-j) for programs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "color.h"
#include "diagnose.h"
#include "exitcode.h"
#include "msg.h"
#include "owner.h"
#include "record.h"
#include "sigstop.h"
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
"  -o, --output FILE        flame graph files: FILE.svg and FILE.folded; a FILE\n"
"                           ending in .svg is the graph itself (x.svg: x.svg,\n"
"                           x.folded, x-syscalls.svg) (default claude-flamegraph)\n"
"      --baseline OLD.folded  compare the CPU graph with an earlier capture's\n"
"                           (needs -s; implies --flamegraph): FILE-diff.svg\n"
"  -j, --json               one JSON document instead of the report\n"
"      --json-file FILE     also write that JSON document to FILE\n"
"      --interval SECS      CPU measuring interval of the overview (default 0.5)\n"
"      --cpu-warning PCT, --cpu-critical PCT\n"
"                           per-process CPU thresholds (default 90, off);\n"
"                           0 is off. Why these: claude-diagnose(1)\n"
"      --rss-warning MB, --rss-critical MB\n"
"                           per-process RSS thresholds (default 4096, 8192)\n"
"      --child-cpu PCT      name a child of Claude Code (a tool's command)\n"
"                           using PCT% CPU or more (default 50)\n"
"      --progress, --no-progress\n"
"                           time left on stderr during captures (default: on a tty)\n"
"      --no-redact          show secrets in command lines\n"
"      --no-color           no colour\n"
"  -h, --help, and -V, --version\n"
"\n"
"Exit status: 0 ran and found nothing critical, 1 found critical issues,\n"
"2 usage error, 3 could not run (a --pid that does not exist, cd-ps missing,\n"
"every capture asked for failed).\n";

enum {
	OPT_INTERVAL = CLI_OPT_FIRST_TOOL, OPT_NO_REDACT, OPT_CPU_WARN,
	OPT_CPU_CRIT, OPT_RSS_WARN, OPT_RSS_CRIT, OPT_SAMPLE_DUR, OPT_DURATION,
	OPT_IO, OPT_NETWORK, OPT_FLAME, OPT_PROGRESS, OPT_NO_PROGRESS,
	OPT_CHILD_CPU, OPT_JSON_FILE,
	OPT_BASELINE,
};

static const struct option longopts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "json-file", required_argument, NULL, OPT_JSON_FILE },
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
	{ "baseline", required_argument, NULL, OPT_BASELINE },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "no-redact", no_argument, NULL, OPT_NO_REDACT },
	{ "cpu-warning", required_argument, NULL, OPT_CPU_WARN },
	{ "cpu-critical", required_argument, NULL, OPT_CPU_CRIT },
	{ "rss-warning", required_argument, NULL, OPT_RSS_WARN },
	{ "rss-critical", required_argument, NULL, OPT_RSS_CRIT },
	{ "child-cpu", required_argument, NULL, OPT_CHILD_CPU },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static void
defaults(struct diag_opts *o)
{
	o->redact = 1;
	o->interval_s = 0.5;
	/* Calibrated on the real Claude Code: the table in claude-diagnose(1). */
	o->cpu_warn = 90;
	o->cpu_crit = 0;
	o->rss_warn_mb = 4096;
	o->rss_crit_mb = 8192;
	o->child_cpu = 50;
	o->sample_s = o->trace_s = 5;
	o->progress = -1;
}

/*
 * The original's documented form is "-o debug.svg": the graph's own name,
 * with debug.folded beside it. A name ending in .svg is taken as that; the
 * base is what comes before the suffix.
 */
static void
output_base(struct diag_opts *o)
{
	size_t n;

	if (o->output == NULL)
		return;
	n = strlen(o->output);
	if (n <= 4 || strcmp(o->output + n - 4, ".svg") != 0 ||
	    o->output[n - 5] == '/')
		return;
	o->output_base = xasprintf("%.*s", (int)(n - 4), o->output);
	o->output = o->output_base;
}

/* Combinations that cannot mean anything get a message, never a guess. */
static void
check(struct diag_opts *o, int sample_dur_set, int dur_set)
{
	if (o->io || o->network)
		o->trace = 1;
	if (o->sample)
		o->deep = 1;
	if (sample_dur_set && !o->sample)
		cli_usage("--sample-duration applies to sampling: add -s");
	if (dur_set && !o->trace)
		cli_usage("--duration applies to tracing: add -D (or --io, --network)");
	if (o->baseline && !o->sample)
		cli_usage("--baseline compares CPU graphs: add -s");
	if (o->baseline && access(o->baseline, R_OK) < 0)
		cli_usage("--baseline %s: %s", o->baseline, strerror(errno));
	if (o->baseline)
		o->flamegraph = 1;
	if (o->flamegraph && !o->sample && !o->trace)
		cli_usage("--flamegraph draws a capture: add -s (CPU) or -D (system calls)");
	if (o->output && !o->flamegraph)
		cli_usage("-o names the flame graph files: add --flamegraph");
	if (o->flamegraph && o->output == NULL)
		o->output = "claude-flamegraph";
	output_base(o);
	if (o->cpu_crit > 0 && o->cpu_warn > o->cpu_crit)
		o->cpu_warn = o->cpu_crit;
	if (o->rss_crit_mb > 0 && o->rss_warn_mb > o->rss_crit_mb)
		o->rss_warn_mb = o->rss_crit_mb;
}

static void
parse(int argc, char **argv, struct diag_opts *o)
{
	int c, sdur = 0, dur = 0;

	defaults(o);
	while ((c = getopt_long(argc, argv, "p:jdsDo:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pidlist_add(&o->pids, cli_pid(optarg));
			break;
		case 'j':
			o->json = 1;
			break;
		case OPT_JSON_FILE:
			if (*optarg == '\0')
				cli_usage("--json-file: empty file name");
			o->json_file = optarg;
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
		case OPT_BASELINE:
			o->baseline = optarg;
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
		case OPT_CHILD_CPU:
			o->child_cpu = cli_double(optarg, 0, 1e6, "--child-cpu");
			break;
		case OPT_NO_REDACT:
			o->redact = 0;
			break;
		case 'h':	/* the original's short forms (clap's) */
			cli_help(usage);
			break;
		case 'V':
			cli_version();
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

/*
 * Captures were asked for and none gave anything (not permitted, not
 * found): the report could not do its job, whatever else it says.
 */
static int
all_captures_failed(const struct report *r)
{
	int wanted = 0;

	for (int c = 0; c < CAP__N; c++) {
		if (!r->cap[c].wanted)
			continue;
		wanted++;
		if (r->cap[c].error == NULL || cJSON_GetArraySize(r->cap[c].recs) > 0)
			return 0;
	}
	return wanted > 0 && cJSON_GetArraySize(r->procs) > 0;
}

/*
 * --json-file: the document -j prints, in a file beside the text report
 * (claude-trace --capture keeps both). Created fresh, never through a
 * link, and the invoking user's under sudo, as the flame graph files.
 */
static void
json_file(struct report *r, const struct diag_opts *o)
{
	FILE *f;
	int fd, ok;

	if (o->json_file == NULL)
		return;
	unlink(o->json_file);
	fd = open(o->json_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		msg_warnerr("%s", o->json_file);
		if (fd >= 0)
			close(fd);
		cJSON_AddItemToArray(r->file_errors,
		    cJSON_CreateString(o->json_file));
		return;
	}
	owner_fix_fd(fd);
	cJSON_AddItemToArray(r->files, cJSON_CreateString(o->json_file));
	report_json(r, o, f);
	ok = !ferror(f);
	if (fclose(f) != 0 || !ok)
		msg_warnerr("%s: write", o->json_file);
}

int
main(int argc, char **argv)
{
	struct diag_opts o = { 0 };
	struct report r = { 0 };
	int rc;

	msg_init(argv[0]);
	parse(argc, argv, &o);
	color_init(1, o.nocolor);
	signal(SIGPIPE, SIG_DFL);
	/* No SA_RESTART: Ctrl-C must wake the capture loop. A closed
	 * terminal stops it too: the report's files are still written. */
	sigstop_catch(&diag_interrupted, SIGSTOP_HUP);

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
	json_file(&r, &o);
	if (o.json)
		report_json(&r, &o, stdout);
	else
		report_text(&r, &o);
	if (rc < 0 && r.ps_error)
		msg_warn("%s", r.ps_error);
	if (rc < 0 || all_captures_failed(&r))
		rc = CD_EXIT_FAIL;
	else
		rc = findings_count(&r, "critical") > 0 ? CD_EXIT_FOUND : CD_EXIT_OK;
	/*
	 * Files asked for and not written, a stage that broke, or no report:
	 * the run failed. A stage that failed cleanly beside others that
	 * worked (not found, not permitted) leaves a partial report.
	 */
	if (cJSON_GetArraySize(r.file_errors) > 0)
		rc = CD_EXIT_FAIL;
	for (int c = 0; c < CAP__N; c++)
		if (r.cap[c].wanted && r.cap[c].broken)
			rc = CD_EXIT_FAIL;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		msg_warnerr("cannot write the report");
		rc = CD_EXIT_FAIL;
	}
	capture_release(&r);
	cJSON_Delete(r.procs);
	cJSON_Delete(r.ps_meta);
	cJSON_Delete(r.findings);
	cJSON_Delete(r.actions);
	cJSON_Delete(r.files);
	cJSON_Delete(r.file_errors);
	free(r.ps_error);
	pidlist_release(&o.pids);
	free(o.output_base);
	return rc;
}
