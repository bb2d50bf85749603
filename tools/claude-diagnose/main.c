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
"      --no-redact      show secrets in command lines\n"
"      --no-color       no colour\n"
"      --help, --version\n"
"\n"
"Exit status: 0 ran and found nothing critical, 1 found critical issues,\n"
"2 usage error, 3 could not run (a --pid that does not exist, cd-ps missing).\n";

enum { OPT_INTERVAL = CLI_OPT_FIRST_TOOL, OPT_NO_REDACT };

static const struct option longopts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "no-redact", no_argument, NULL, OPT_NO_REDACT },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static void
parse(int argc, char **argv, struct dopts *o)
{
	int c;

	o->redact = 1;
	o->interval_s = 0.5;
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
