/*
 * cd-fds: the open file descriptors, sockets and file watches of
 * processes, classified, summarised and diagnosed. What lsof -p and ss -p
 * would say, read with a BPF task_file iterator (or /proc) and sock_diag.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdfds.h"
#include "color.h"
#include "exitcode.h"
#include "msg.h"
#include "procinfo.h"
#include "record.h"
#include "sigstop.h"
#include "targets.h"
#include "units.h"

static const char usage[] =
"Usage: cd-fds [OPTIONS] [--pid PID]...\n"
"Describe the open file descriptors of processes: one \"fd\" record each, one\n"
"\"fd_summary\" per process, \"diagnosis\" records, then \"meta\". With no --pid\n"
"and a pipe on stdin, act on the pids of its \"process\" records (cd-ps | cd-fds).\n"
"\n"
"  -p, --pid PID            a target process (repeatable)\n"
"  -T, --table              a report for people instead of records\n"
"  -s, --summary            no fd records: summaries and diagnoses only\n"
"  -w, --watch SECS         sample for SECS and report growth per kind\n"
"  -i, --interval SECS      time between --watch samples (default 1)\n"
"  -n, --paths N            watched paths and connections listed (default 10,\n"
"                           0 all)\n"
"  -m, --method M           read fd tables with auto (default: the BPF\n"
"                           iterator, else /proc), bpf or procfs\n"
"      --procfs-sockets     read /proc/net instead of sock_diag netlink\n"
"Diagnosis thresholds:\n"
"      --max-fds N          warn above N open fds (default 1000)\n"
"      --limit-pct P        critical at P%% of RLIMIT_NOFILE (default 80)\n"
"      --max-watches N      warn above N inotify watches (default 8192)\n"
"      --user-watches-pct P critical when the user's watches reach P%% of\n"
"                           fs.inotify.max_user_watches (default 80)\n"
"      --max-close-wait N   warn at N CLOSE_WAIT sockets (default 10)\n"
"      --min-deleted N      report N or more fds on deleted files (default 1)\n"
"      --max-growth RATE    warn when --watch sees fds grow >= RATE/s (default 1)\n"
"      --no-color, --strict, --help, --version\n"
"\n"
"Exit status: 0 ok, 1 a critical diagnosis, 2 usage, 3 no target could be read\n"
"(no such process, permission denied; --method bpf that cannot load), 4\n"
"malformed input lines.\n";

enum {
	OPT_PROCFS = CLI_OPT_FIRST_TOOL, OPT_MAX_FDS, OPT_LIMIT_PCT, OPT_MAX_WATCHES,
	OPT_USER_PCT, OPT_MAX_CW, OPT_MIN_DEL, OPT_MAX_GROWTH,
};

static const struct option longopts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "table", no_argument, NULL, 'T' },
	{ "summary", no_argument, NULL, 's' },
	{ "watch", required_argument, NULL, 'w' },
	{ "interval", required_argument, NULL, 'i' },
	{ "paths", required_argument, NULL, 'n' },
	{ "method", required_argument, NULL, 'm' },
	{ "procfs-sockets", no_argument, NULL, OPT_PROCFS },
	{ "max-fds", required_argument, NULL, OPT_MAX_FDS },
	{ "limit-pct", required_argument, NULL, OPT_LIMIT_PCT },
	{ "max-watches", required_argument, NULL, OPT_MAX_WATCHES },
	{ "user-watches-pct", required_argument, NULL, OPT_USER_PCT },
	{ "max-close-wait", required_argument, NULL, OPT_MAX_CW },
	{ "min-deleted", required_argument, NULL, OPT_MIN_DEL },
	{ "max-growth", required_argument, NULL, OPT_MAX_GROWTH },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static volatile sig_atomic_t stop;

static void
parse(int argc, char **argv, struct fds_opts *o, int *nocolor)
{
	int c;

	o->netlink = 1;
	o->paths = 10;
	o->interval_s = 1;
	o->max_fds = 1000;
	o->limit_pct = 80;
	o->max_watches = 8192;
	o->user_watches_pct = 80;
	o->max_close_wait = 10;
	o->min_deleted = 1;
	o->max_growth = 1;
	while ((c = getopt_long(argc, argv, "p:Tsw:i:n:m:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pidlist_add(&o->pids, cli_pid(optarg));
			break;
		case 'T':
			o->table = 1;
			break;
		case 's':
			o->no_fds = 1;
			break;
		case 'w':
			o->watch_s = cli_double(optarg, 0.001, 86400, "--watch");
			break;
		case 'i':
			o->interval_s = cli_double(optarg, 0.01, 3600, "--interval");
			break;
		case 'n':
			o->paths = cli_long(optarg, 0, 1000000, "--paths");
			break;
		case 'm': {
			static const char *const m[] = { [FDSCAN_AUTO] = "auto",
				[FDSCAN_BPF] = "bpf", [FDSCAN_PROCFS] = "procfs" };

			o->method = cli_choice(optarg, "--method", m, 3);
			break;
		}
		case OPT_PROCFS:
			o->netlink = 0;
			break;
		case OPT_MAX_FDS:
			o->max_fds = cli_long(optarg, 0, 1L << 30, "--max-fds");
			break;
		case OPT_LIMIT_PCT:
			o->limit_pct = cli_double(optarg, 0, 100, "--limit-pct");
			break;
		case OPT_MAX_WATCHES:
			o->max_watches = cli_long(optarg, 0, 1L << 30, "--max-watches");
			break;
		case OPT_USER_PCT:
			o->user_watches_pct = cli_double(optarg, 0, 100, "--user-watches-pct");
			break;
		case OPT_MAX_CW:
			o->max_close_wait = cli_long(optarg, 1, 1L << 30, "--max-close-wait");
			break;
		case OPT_MIN_DEL:
			o->min_deleted = cli_long(optarg, 1, 1L << 30, "--min-deleted");
			break;
		case OPT_MAX_GROWTH:
			o->max_growth = cli_double(optarg, 0.000001, 1e9, "--max-growth");
			break;
		case CLI_OPT_NO_COLOR:
			*nocolor = 1;
			break;
		case CLI_OPT_STRICT:
			o->strict = 1;
			break;
		default:
			cli_other(c, usage);
		}
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
}

/* Failures per pid, for meta and the exit status. */
struct failures {
	cJSON *errors;		/* [{pid, error}] */
	cJSON *exited;		/* pids that exited while we looked */
	long n;
};

static void
fail(struct failures *f, int pid, int err)
{
	const char *why = err == ESRCH ? "no such process" :
	    err == EACCES || err == EPERM ? "permission denied (run as its owner or root)" :
	    strerror(err);
	cJSON *o = cJSON_CreateObject();

	msg_warn("pid %d: %s", pid, why);
	if (o == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	rec_add_num(o, "pid", pid);
	rec_add_str(o, "error", why);
	cJSON_AddItemToArray(f->errors, o);
	f->n++;
}

static void
report(struct ctx *c, struct proc_fds *p)
{
	if (c->o->table) {
		table_print(c, p);
		diagnose(c, p);
		printf("\n");
		return;
	}
	if (!c->o->no_fds)
		emit_fds(c, p);
	emit_summary(c, p);
	diagnose(c, p);
}

/* What was used of two ways: "a", "b", "a+b", or "none". */
static const char *
used(int a, int b, const char *an, const char *bn, const char *both)
{
	return a && b ? both : a ? an : b ? bn : "none";
}

static void
emit_meta(struct ctx *c, const struct fds_opts *o, struct failures *f, long scanned,
    long bad, double secs)
{
	cJSON *m = rec_meta_new("cd-fds");
	rec_add_str(m, "fd_method", used(c->used_bpf, c->used_procfs_fds, "bpf_iter", "procfs",
	    "bpf_iter+procfs"));
	rec_add_str(m, "fd_method_fallback", fdscan_fallback_reason());
	rec_add_str(m, "backend", used(c->used_netlink, c->used_procfs, "sock_diag", "procfs",
	    "sock_diag+procfs"));
	if (c->nreasons == 0) {
		rec_add_str(m, "fallback_reason", NULL);
	} else {
		size_t len = 1;

		for (size_t i = 0; i < c->nreasons; i++)
			len += strlen(c->reasons[i]) + 2;
		char *all = xcalloc(1, len);

		for (size_t i = 0; i < c->nreasons; i++) {
			if (i)
				strcat(all, "; ");
			strcat(all, c->reasons[i]);
		}
		rec_add_str(m, "fallback_reason", all);
		free(all);
	}
	rec_add_num(m, "duration_s", secs);
	rec_add_num(m, "pids", (double)o->pids.n);
	rec_add_num(m, "pids_scanned", scanned);
	cJSON_AddItemToObject(m, "errors", f->errors);
	cJSON_AddItemToObject(m, "exited", f->exited);
	f->errors = f->exited = NULL;
	rec_add_num(m, "fds_vanished", (double)c->fds_vanished);
	rec_add_num(m, "fdinfo_unreadable", (double)c->fdinfo_unreadable);
	rec_add_num(m, "sockets_unresolved", (double)c->sockets_unresolved);
	rec_add_num(m, "watches_resolved", (double)c->watches_resolved);
	rec_add_num(m, "watches_unresolved", (double)c->watches_unresolved);
	rec_add_num(m, "input_bad_lines", bad);
	if (o->watch_s > 0) {
		rec_add_num(m, "watch_s", o->watch_s);
		rec_add_num(m, "interval_s", o->interval_s);
	}
	rec_add_num(m, "criticals", c->criticals);
	rec_add_num(m, "warnings", c->warnings);
	rec_emit_free(m);
}

int
main(int argc, char **argv)
{
	struct fds_opts o = { 0 };
	struct ctx c = { .o = &o };
	struct failures f = { 0 };
	struct series *ser = NULL;
	uint64_t t0 = now_mono_ns();
	long bad = 0, scanned = 0;
	int nocolor = 0, rc;

	msg_init(argv[0]);
	parse(argc, argv, &o, &nocolor);
	color_init(1, nocolor);
	rec_out_init(1);
	if (o.pids.n == 0) {
		if (isatty(0))
			cli_usage("no target: give --pid PID, or pipe process records (cd-ps | cd-fds)");
		/* A report for people has no place for passed-through records. */
		bad = targets_from_stdin(&o.pids, o.strict, o.table ? NULL : rec_stdout());
		if (bad < 0) {
			msg_warn("stopped at a malformed input line (--strict)");
			rec_flush();
			return CD_EXIT_DATAERR;
		}
	}
	sigstop_catch(&stop, 0);
	if (o.pids.n > 0) {
		const char *why = NULL;

		if (fdscan_set_method(o.method, &why) != 0) {
			rec_flush();
			msg_die(CD_EXIT_FAIL, "--method bpf: %s", why);
		}
	}
	fdscan_inotify_limits(&c.ilim);
	c.self_netns = fdscan_self_netns();
	if ((f.errors = cJSON_CreateArray()) == NULL || (f.exited = cJSON_CreateArray()) == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");

	if (o.watch_s > 0 && o.pids.n > 0) {
		ser = xcalloc(o.pids.n, sizeof(*ser));
		for (size_t i = 0; i < o.pids.n; i++)
			ser[i].pid = o.pids.v[i];
		watch_run(&c, ser, o.pids.n, &stop);
	}
	for (size_t i = 0; i < o.pids.n; i++) {
		struct proc_fds p;
		int pid = o.pids.v[i], err;

		err = collect(&c, pid, 1, &p);
		if (err == 0 && ser != NULL && ser[i].have_last && procinfo_exiting(pid)) {
			proc_fds_release(&p);	/* read mid-exit: maybe half closed */
			err = ESRCH;
		}
		if (err != 0 && ser != NULL && ser[i].have_last) {
			/* Exited during --watch: report the last sample and the trend. */
			p = ser[i].last;
			ser[i].have_last = 0;
			p.exited = 1;
			cJSON_AddItemToArray(f.exited, cJSON_CreateNumber(pid));
			msg_warn("pid %d exited during the watch; reporting its last sample", pid);
			err = 0;
		}
		if (err != 0) {
			fail(&f, pid, err);
			continue;
		}
		if (ser != NULL)
			watch_slopes(&ser[i], &p);
		report(&c, &p);
		proc_fds_release(&p);
		scanned++;
	}
	if (!o.table)
		emit_meta(&c, &o, &f, scanned, bad, (double)(now_mono_ns() - t0) / 1e9);
	cJSON_Delete(f.errors);
	cJSON_Delete(f.exited);
	if (ser != NULL) {
		for (size_t i = 0; i < o.pids.n; i++)
			series_release(&ser[i]);
		free(ser);
	}
	if (rec_flush() < 0)
		msg_dieerr(CD_EXIT_FAIL, "writing output");
	fflush(stdout);
	if (o.pids.n > 0 && scanned == 0)
		rc = CD_EXIT_FAIL;
	else if (bad > 0)
		rc = CD_EXIT_DATAERR;
	else if (c.criticals > 0)
		rc = CD_EXIT_FOUND;
	else
		rc = CD_EXIT_OK;
	ctx_release(&c);
	pidlist_release(&o.pids);
	return rc;
}
