/*
 * claude-diagnose: the driver. Runs the stage programs (cd-ps, cd-fds,
 * cd-sample, cd-trace, cd-fold, cd-svg) and turns what they find into one
 * report, for people or (-j) for programs.
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

static const char usage[] =
"Usage: claude-diagnose [OPTIONS]\n"
"Explain why a Claude Code process misbehaves. With no options: an overview\n"
"of every Claude Code process, the system's memory, issues and next steps.\n"
"\n"
"  -p, --pid PID        only this process (repeatable)\n"
"  -j, --json           one JSON document instead of the report\n"
"      --interval SECS  CPU measuring interval (default 0.5)\n"
"      --cpu-warning PCT, --cpu-critical PCT\n"
"                       per-process CPU thresholds (default 50, 80)\n"
"      --rss-warning MB, --rss-critical MB\n"
"                       per-process RSS thresholds (default 512, 1024)\n"
"      --no-redact      show secrets in command lines\n"
"      --no-color       no colour\n"
"      --help, --version\n"
"\n"
"Exit status: 0 ran and found nothing critical, 1 found critical issues,\n"
"2 usage error, 3 could not run (a --pid that does not exist, cd-ps missing).\n";

enum { OPT_INTERVAL = CLI_OPT_FIRST_TOOL, OPT_NO_REDACT, OPT_CPU_WARN,
	OPT_CPU_CRIT, OPT_RSS_WARN, OPT_RSS_CRIT };

static const struct option longopts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "no-redact", no_argument, NULL, OPT_NO_REDACT },
	{ "cpu-warning", required_argument, NULL, OPT_CPU_WARN },
	{ "cpu-critical", required_argument, NULL, OPT_CPU_CRIT },
	{ "rss-warning", required_argument, NULL, OPT_RSS_WARN },
	{ "rss-critical", required_argument, NULL, OPT_RSS_CRIT },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static void
parse(int argc, char **argv, struct dopts *o)
{
	int c;

	o->redact = 1;
	o->interval_s = 0.5;
	o->cpu_warn = 50;
	o->cpu_crit = 80;
	o->rss_warn_mb = 512;
	o->rss_crit_mb = 1024;
	while ((c = getopt_long(argc, argv, "p:j", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pidlist_add(&o->pids, cli_pid(optarg));
			break;
		case 'j':
			o->json = 1;
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
		case CLI_OPT_HELP:
			cli_help(usage);
		case CLI_OPT_VERSION:
			cli_version();
		default:
			cli_usage("unknown option");
		}
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
	if (o->cpu_warn > o->cpu_crit)
		o->cpu_warn = o->cpu_crit;
	if (o->rss_warn_mb > o->rss_crit_mb)
		o->rss_warn_mb = o->rss_crit_mb;
}

int
main(int argc, char **argv)
{
	struct dopts o = { 0 };
	struct report r = { 0 };
	int rc;

	msg_init(argv[0]);
	parse(argc, argv, &o);
	color_init(1, o.nocolor);
	signal(SIGPIPE, SIG_DFL);

	iso8601(time(NULL), r.timestamp, sizeof(r.timestamp));
	sysinfo_read(&r.id);
	r.have_mem = sysmem_read(&r.mem) == 0;
	r.ncpu = procinfo_ncpu();
	r.findings = cJSON_CreateArray();
	r.actions = cJSON_CreateArray();

	rc = collect_processes(&r, &o);
	analyze(&r, &o);
	if (o.json)
		report_json(&r, &o);
	else
		report_text(&r, &o);
	fflush(stdout);

	if (rc < 0 && r.ps_error)
		msg_warn("%s", r.ps_error);
	if (rc < 0)
		rc = CD_EXIT_FAIL;
	else
		rc = findings_count(&r, "critical") > 0 ? CD_EXIT_FOUND : CD_EXIT_OK;
	cJSON_Delete(r.procs);
	cJSON_Delete(r.ps_meta);
	cJSON_Delete(r.findings);
	cJSON_Delete(r.actions);
	free(r.ps_error);
	pidlist_free(&o.pids);
	return rc;
}
