/*
 * cd-trace: which system calls a process makes, how often, how slow,
 * failing how, on which files and addresses.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "exitcode.h"
#include "msg.h"
#include "record.h"
#include "syscall_names.h"
#include "targets.h"
#include "trace.h"
#include "units.h"

static const char usage[] =
"usage: cd-trace [options] --pid PID ...\n"
"       cd-trace [options] -- COMMAND [ARG...]\n"
"       cd-ps ... | cd-trace [options]\n"
"Trace system calls: one syscall record per finished call, or per-syscall\n"
"summaries; diagnosis records from the rates; a meta record last.\n"
"\n"
"  -p, --pid PID          trace this process and its threads (repeatable)\n"
"  -d, --duration SEC     stop after SEC seconds (default 5 with --pid;\n"
"                         with a COMMAND, until it exits); 0 = until the\n"
"                         targets exit\n"
"  -m, --method M         auto (default: bpf, else tracepoint, else\n"
"                         ptrace), bpf, tracepoint or ptrace\n"
"  -s, --summary          syscall_summary records (count, errors, total,\n"
"                         avg, max, p50, p99 per pid and syscall), plus io_summary\n"
"                         and net_summary per path and address\n"
"      --top N            only the N syscalls with the most total time\n"
"                         (implies --summary)\n"
"      --io               keep file I/O calls only\n"
"      --network          keep socket calls only\n"
"      --failures         keep failed calls only\n"
"      --errno NAME       keep calls that failed with NAME (ENOENT or 2)\n"
"      --stacks           the user call stack of each call (tracepoint)\n"
"      --no-diagnose      no diagnosis records\n"
"      --spin-rate N      immediate poll returns/s for event_loop_spin (1000)\n"
"      --io-error-rate N  ENOENT/EACCES/EPERM file errors/s (50)\n"
"      --slow-ms N        average latency of a slow syscall (10)\n"
"      --metadata-rate N  stat-family calls/s (5000)\n"
"      --connect-fail-rate N  failed connects/s (5)\n"
"      --dns-rate N       port-53 connects and sends/s (20)\n"
"      --min-calls N      calls a slow_syscalls finding needs (3)\n"
"      --buffer-pages N   ring pages per CPU, a power of two (1024)\n"
"      --strict           stop at the first malformed stdin line\n"
"      --help, --version\n";

enum {
	OPT_IO = CLI_OPT_FIRST_TOOL, OPT_NET, OPT_FAIL, OPT_ERRNO, OPT_TOP,
	OPT_STACKS, OPT_NODIAG, OPT_SPIN, OPT_IOERR, OPT_SLOW, OPT_META,
	OPT_CONNFAIL, OPT_DNS, OPT_MINCALLS, OPT_PAGES,
};

static const struct option longopts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ "method", required_argument, NULL, 'm' },
	{ "summary", no_argument, NULL, 's' },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "io", no_argument, NULL, OPT_IO },
	{ "network", no_argument, NULL, OPT_NET },
	{ "failures", no_argument, NULL, OPT_FAIL },
	{ "errno", required_argument, NULL, OPT_ERRNO },
	{ "stacks", no_argument, NULL, OPT_STACKS },
	{ "no-diagnose", no_argument, NULL, OPT_NODIAG },
	{ "spin-rate", required_argument, NULL, OPT_SPIN },
	{ "io-error-rate", required_argument, NULL, OPT_IOERR },
	{ "slow-ms", required_argument, NULL, OPT_SLOW },
	{ "metadata-rate", required_argument, NULL, OPT_META },
	{ "connect-fail-rate", required_argument, NULL, OPT_CONNFAIL },
	{ "dns-rate", required_argument, NULL, OPT_DNS },
	{ "min-calls", required_argument, NULL, OPT_MINCALLS },
	{ "buffer-pages", required_argument, NULL, OPT_PAGES },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static void
defaults(struct trace_opts *o)
{
	o->duration_s = 5;
	o->diagnose = 1;
	o->method = METHOD_AUTO;
	o->ring_pages = 1024;
	o->spin_rate = 1000;
	o->io_error_rate = 50;
	o->slow_ms = 10;
	o->meta_rate = 5000;
	o->connect_fail_rate = 5;
	o->dns_rate = 20;
	o->min_calls = 3;
}

static void
parse_args(int argc, char **argv, struct trace_opts *o, struct pidlist *pids,
    int *strict)
{
	int c;

	while ((c = getopt_long(argc, argv, "+p:d:m:s", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pidlist_add(pids, cli_pid(optarg));
			break;
		case 'd':
			o->duration_s = cli_double(optarg, 0, 86400 * 365, "--duration");
			o->duration_set = 1;
			break;
		case 'm': {
			static const char *const m[] = { [METHOD_AUTO] = "auto",
				[METHOD_TRACEPOINT] = "tracepoint", [METHOD_PTRACE] = "ptrace",
				[METHOD_BPF] = "bpf" };

			o->method = cli_choice(optarg, "--method", m, 4);
			break;
		}
		case 's': o->summary = 1; break;
		case OPT_TOP:
			o->top = (int)cli_long(optarg, 1, 100000, "--top");
			o->summary = 1;
			break;
		case OPT_IO: o->io = 1; break;
		case OPT_NET: o->network = 1; break;
		case OPT_FAIL: o->failures = 1; break;
		case OPT_ERRNO:
			o->errno_filter = errno_number(optarg);
			if (o->errno_filter <= 0)
				cli_usage("--errno: '%s' is not an errno name", optarg);
			break;
		case OPT_STACKS: o->stacks = 1; break;
		case OPT_NODIAG: o->diagnose = 0; break;
		case OPT_SPIN: o->spin_rate = cli_double(optarg, 0.001, 1e9, "--spin-rate"); break;
		case OPT_IOERR: o->io_error_rate = cli_double(optarg, 0.001, 1e9, "--io-error-rate"); break;
		case OPT_SLOW: o->slow_ms = cli_double(optarg, 1e-9, 1e9, "--slow-ms"); break;
		case OPT_META: o->meta_rate = cli_double(optarg, 0.001, 1e9, "--metadata-rate"); break;
		case OPT_CONNFAIL: o->connect_fail_rate = cli_double(optarg, 0.001, 1e9, "--connect-fail-rate"); break;
		case OPT_DNS: o->dns_rate = cli_double(optarg, 0.001, 1e9, "--dns-rate"); break;
		case OPT_MINCALLS: o->min_calls = cli_double(optarg, 1, 1e12, "--min-calls"); break;
		case OPT_PAGES: {
			long n = cli_long(optarg, 1, 65536, "--buffer-pages");

			if (n & (n - 1))
				cli_usage("--buffer-pages: %ld is not a power of two", n);
			o->ring_pages = (size_t)n;
			break;
		}
		case CLI_OPT_NO_COLOR: break;
		case CLI_OPT_STRICT: *strict = 1; break;
		default: cli_other(c, usage);
		}
	}
}

static const char *
method_name(int m)
{
	return m == METHOD_PTRACE ? "ptrace" : m == METHOD_BPF ? "bpf" : "tracepoint";
}

/* "bpf: why; tracepoint: why", the reasons each method was passed over. */
static const char *
join_why(char *buf, size_t len, const char *why_bpf, const char *why_tp)
{
	if (why_bpf[0] == '\0')
		return why_tp;
	if (why_tp == NULL)
		snprintf(buf, len, "bpf: %s", why_bpf);
	else
		snprintf(buf, len, "bpf: %s; tracepoint: %s", why_bpf, why_tp);
	return buf;
}

static void
emit_meta(const struct trace *tr, int method, const char *fallback,
    const char *error, struct target_set *ts, double elapsed, char **cmd,
    int tracefs_mounted)
{
	cJSON *m = rec_meta_new("cd-trace");
	cJSON *arr;

	rec_add_str(m, "method", method ? method_name(method) : "none");
	rec_add_str(m, "backend", method ? method_name(method) : "none");
	if (fallback)
		rec_add_str(m, "fallback_reason", fallback);
	if (error)
		rec_add_str(m, "error", error);
	rec_add_str(m, "arch", syscall_arch());
	rec_add_num(m, "duration_s", (double)(long long)(elapsed * 1000) / 1000);
	if (tr->opt.duration_s > 0)
		rec_add_num(m, "requested_duration_s", tr->opt.duration_s);
	rec_add_str(m, "stopped_by", tr->stop_reason == SIGINT ? "SIGINT" :
	    tr->stop_reason == SIGTERM ? "SIGTERM" : tr->stop_reason == SIGHUP ? "SIGHUP" :
	    tr->stop_reason ? "signal" : tr->opt.duration_s > 0 &&
	    elapsed + 0.05 >= tr->opt.duration_s ? "duration" : "targets_exited");
	arr = cJSON_AddArrayToObject(m, "targets");
	for (size_t i = 0; i < ts->pids.n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(ts->pids.v[i]));
	if (ts->child > 0) {
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(ts->child));
		rec_add_str(m, "command", cmd[0]);
		if (ts->child_reaped) {
			int st = ts->child_status;

			rec_add_num(m, "command_exit_status", WIFEXITED(st) ?
			    WEXITSTATUS(st) : 128 + WTERMSIG(st));
		}
	}
	rec_add_num(m, "events", (double)tr->stats.events);
	rec_add_num(m, "calls", (double)tr->stats.calls);
	rec_add_num(m, "lost", (double)tr->stats.lost);
	rec_add_num(m, "dropped", (double)tr->stats.lost);
	rec_add_num(m, "unpaired", (double)tr->stats.unpaired);
	rec_add_num(m, "unfinished", (double)tr->stats.unfinished);
	rec_add_num(m, "path_unreadable", (double)tr->stats.path_unreadable);
	if (method == METHOD_PTRACE)
		rec_add_str(m, "latency_note", "latencies under ptrace include "
		    "the tracer's stops (often 100x a call's own time): counts "
		    "are exact, latencies are not, and no finding is critical "
		    "on them alone");
	rec_add_num(m, "threads", (double)tr->stats.threads_seen);
	rec_add_num(m, "processes_exited", (double)tr->stats.procs_exited);
	rec_add_num(m, "detach_s", (double)(long long)(tr->stats.detach_ns / 1000000) / 1000);
	rec_add_bool(m, "tracefs_mounted", tracefs_mounted);
	rec_emit_free(m);
}

/* The targets: --pid, a command to spawn, or process records on stdin. */
static long
get_targets(struct target_set *ts, char **cmd, int strict)
{
	long bad = 0;

	if (cmd == NULL && ts->pids.n == 0) {
		bad = targets_from_stdin(&ts->pids, strict, rec_stdout());
		if (bad < 0)
			msg_die(CD_EXIT_DATAERR, "stopped at a malformed line (--strict)");
		if (ts->pids.n == 0 && targets_records_seen() == 0)
			cli_usage("no target: give --pid PID, a COMMAND after --, "
			    "or process records on stdin");
		/* cd-ps found no Claude: not a usage error, and its records went on */
		if (ts->pids.n == 0)
			msg_die(CD_EXIT_FAIL, "no process records with a pid on "
			    "stdin: nothing to trace");
	}
	if (cmd != NULL) {
		ts->child = spawn_gated(cmd, &ts->child_gate);
		if (ts->child < 0)
			msg_dieerr(CD_EXIT_FAIL, "fork");
	}
	return bad;
}

/* How the run went: the method that ran and why the others did not. */
struct outcome {
	int method;			/* METHOD_*, 0 when none could start */
	const char *fallback;		/* why the preferred method was passed over */
	const char *error;		/* why none ran */
	int tracefs_mounted;
	double elapsed;
	char why_bpf[400], why_tp[400], why_pt[512], fbuf[1024];
};

/* bpf, else tracepoint, else ptrace, as --method allows. 0 when one ran. */
static int
trace_best(struct trace *tr, struct target_set *ts, struct outcome *oc)
{
	const struct trace_opts *o = &tr->opt;
	int rc = -1, m = o->method;
	uint64_t t0 = now_mono_ns();

	if (m == METHOD_BPF || (m == METHOD_AUTO && !o->stacks)) {
		rc = bpf_run(tr, ts, oc->why_bpf, sizeof(oc->why_bpf));
		if (rc == 0)
			oc->method = METHOD_BPF;
		else if (rc == -1 && m == METHOD_AUTO)
			oc->fallback = join_why(oc->fbuf, sizeof(oc->fbuf), oc->why_bpf, NULL);
	}
	if (rc == -1 && (m == METHOD_AUTO || m == METHOD_TRACEPOINT)) {
		t0 = now_mono_ns();
		rc = tp_run(tr, ts, oc->why_tp, sizeof(oc->why_tp), &oc->tracefs_mounted);
		if (rc == 0)
			oc->method = METHOD_TRACEPOINT;
		else if (rc == -1 && m == METHOD_AUTO)
			oc->fallback = join_why(oc->fbuf, sizeof(oc->fbuf), oc->why_bpf,
			    oc->why_tp);
	}
	if (rc == -1 && (m == METHOD_AUTO || m == METHOD_PTRACE) && !o->stacks) {
		t0 = now_mono_ns();
		rc = pt_run(tr, ts, oc->why_pt, sizeof(oc->why_pt));
		if (rc == 0)
			oc->method = METHOD_PTRACE;
	} else if (rc == -1 && o->stacks && m == METHOD_AUTO) {
		snprintf(oc->why_pt, sizeof(oc->why_pt), "--stacks needs the "
		    "tracepoint method: %s", oc->why_tp);
	}
	oc->elapsed = (double)(now_mono_ns() - t0) / 1e9;
	if (rc != 0)
		oc->error = oc->why_pt[0] ? oc->why_pt : oc->why_tp[0] ?
		    oc->why_tp : oc->why_bpf;
	return rc;
}

static void
release_all(struct trace *tr, struct target_set *ts)
{
	out_release(tr);
	thr_release(tr);
	decode_release(tr);
	pidlist_release(&ts->pids);
}

int
main(int argc, char **argv)
{
	struct trace tr;
	struct target_set ts;
	struct outcome oc;
	sigset_t set;
	int crit, code = CD_EXIT_OK, strict = 0;
	long bad;
	char **cmd = NULL;

	msg_init(argv[0]);
	rec_out_init(1);
	memset(&tr, 0, sizeof(tr));
	memset(&oc, 0, sizeof(oc));
	defaults(&tr.opt);
	memset(&ts, 0, sizeof(ts));
	ts.child_gate = -1;
	parse_args(argc, argv, &tr.opt, &ts.pids, &strict);
	if (optind < argc)
		cmd = argv + optind;
	if (cmd != NULL && !tr.opt.duration_set)
		tr.opt.duration_s = 0;	/* a command runs to its end, as under strace */
	if (tr.opt.stacks && (tr.opt.method == METHOD_PTRACE || tr.opt.method == METHOD_BPF))
		cli_usage("--stacks needs the tracepoint method");
	signal(SIGPIPE, SIG_IGN);
	signals_block(&set);
	decode_init(&tr);
	thr_init(&tr);
	out_init(&tr);
	bad = get_targets(&ts, cmd, strict);

	/*
	 * Starved of CPU by the busy threads it traces, a tracer holds them
	 * stopped (ptrace) or loses their events, and ends late: run ahead
	 * of them when allowed (root, CAP_SYS_NICE). The command spawned
	 * above keeps its priority.
	 */
	(void)setpriority(PRIO_PROCESS, 0, -20);

	/* What the fds opened before the capture are, sockets by address. */
	for (size_t i = 0; i < ts.pids.n; i++)
		fd_snapshot(&tr, ts.pids.v[i]);
	if (trace_best(&tr, &ts, &oc) != 0) {
		spawn_abort(&ts.child_gate);
		if (ts.child > 0)
			waitpid(ts.child, NULL, 0);	/* it exits 127 at the closed gate */
		msg_warn("cannot trace: %s", oc.error);
		if (oc.fallback && oc.error != oc.fallback)
			msg_warn("before that: %s", oc.fallback);
		emit_meta(&tr, 0, oc.fallback, oc.error, &ts, 0, cmd, oc.tracefs_mounted);
		rec_flush();
		calls_finish(&tr);
		release_all(&tr, &ts);
		return CD_EXIT_FAIL;
	}
	if (oc.fallback)
		msg_warn("using %s: %s", method_name(oc.method), oc.fallback);
	tr.opt.ptrace_latency = oc.method == METHOD_PTRACE;
	calls_finish(&tr);
	out_summaries(&tr, oc.elapsed);
	crit = out_diagnose(&tr, oc.elapsed);
	emit_meta(&tr, oc.method, oc.fallback, NULL, &ts, oc.elapsed, cmd,
	    oc.tracefs_mounted);
	if (rec_close() != 0)
		code = CD_EXIT_FAIL;
	else if (bad > 0)
		code = CD_EXIT_DATAERR;
	else if (crit > 0)
		code = CD_EXIT_FOUND;
	release_all(&tr, &ts);
	return code;
}
