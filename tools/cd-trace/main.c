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

struct opts opt;
static int strict;
struct run_stats stats;
volatile sig_atomic_t stop_reason;

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

uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Blocked from the start, so they arrive through signalfd in the loops. */
int
signals_block(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGCHLD);
	return sigprocmask(SIG_BLOCK, set, NULL);
}

/*
 * Whether setup must give up: the duration is over, or a signal came
 * (taken here, as the loops would, since setup does not read the signalfd).
 */
int
setup_interrupted(uint64_t deadline)
{
	static const struct timespec zero;
	sigset_t set;
	int sig;

	if (stop_reason)
		return 1;
	if (deadline && mono_ns() >= deadline)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sig = sigtimedwait(&set, NULL, &zero);
	if (sig > 0)
		stop_reason = sig;
	return sig > 0;
}

static void
defaults(void)
{
	opt.duration_s = 5;
	opt.diagnose = 1;
	opt.method = METHOD_AUTO;
	opt.ring_pages = 1024;
	opt.spin_rate = 1000;
	opt.io_error_rate = 50;
	opt.slow_ms = 10;
	opt.meta_rate = 5000;
	opt.connect_fail_rate = 5;
	opt.dns_rate = 20;
	opt.min_calls = 3;
}

static void
parse_args(int argc, char **argv, struct pidlist *pids)
{
	int c;

	while ((c = getopt_long(argc, argv, "+p:d:m:s", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pidlist_add(pids, cli_pid(optarg));
			break;
		case 'd':
			opt.duration_s = cli_double(optarg, 0, 86400 * 365, "--duration");
			opt.duration_set = 1;
			break;
		case 'm': {
			static const char *const m[] = { [METHOD_AUTO] = "auto",
				[METHOD_TRACEPOINT] = "tracepoint", [METHOD_PTRACE] = "ptrace",
				[METHOD_BPF] = "bpf" };

			opt.method = cli_choice(optarg, "--method", m, 4);
			break;
		}
		case 's': opt.summary = 1; break;
		case OPT_TOP:
			opt.top = (int)cli_long(optarg, 1, 100000, "--top");
			opt.summary = 1;
			break;
		case OPT_IO: opt.io = 1; break;
		case OPT_NET: opt.network = 1; break;
		case OPT_FAIL: opt.failures = 1; break;
		case OPT_ERRNO:
			opt.errno_filter = errno_number(optarg);
			if (opt.errno_filter <= 0)
				cli_usage("--errno: '%s' is not an errno name", optarg);
			break;
		case OPT_STACKS: opt.stacks = 1; break;
		case OPT_NODIAG: opt.diagnose = 0; break;
		case OPT_SPIN: opt.spin_rate = cli_double(optarg, 0.001, 1e9, "--spin-rate"); break;
		case OPT_IOERR: opt.io_error_rate = cli_double(optarg, 0.001, 1e9, "--io-error-rate"); break;
		case OPT_SLOW: opt.slow_ms = cli_double(optarg, 1e-9, 1e9, "--slow-ms"); break;
		case OPT_META: opt.meta_rate = cli_double(optarg, 0.001, 1e9, "--metadata-rate"); break;
		case OPT_CONNFAIL: opt.connect_fail_rate = cli_double(optarg, 0.001, 1e9, "--connect-fail-rate"); break;
		case OPT_DNS: opt.dns_rate = cli_double(optarg, 0.001, 1e9, "--dns-rate"); break;
		case OPT_MINCALLS: opt.min_calls = cli_double(optarg, 1, 1e12, "--min-calls"); break;
		case OPT_PAGES: {
			long n = cli_long(optarg, 1, 65536, "--buffer-pages");

			if (n & (n - 1))
				cli_usage("--buffer-pages: %ld is not a power of two", n);
			opt.ring_pages = (size_t)n;
			break;
		}
		case CLI_OPT_NO_COLOR: break;
		case CLI_OPT_STRICT: strict = 1; break;
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
emit_meta(int method, const char *fallback, const char *error,
    struct target_set *ts, double elapsed, char **cmd, int tracefs_mounted)
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
	if (opt.duration_s > 0)
		rec_add_num(m, "requested_duration_s", opt.duration_s);
	rec_add_str(m, "stopped_by", stop_reason == SIGINT ? "SIGINT" :
	    stop_reason == SIGTERM ? "SIGTERM" : stop_reason == SIGHUP ? "SIGHUP" :
	    stop_reason ? "signal" : opt.duration_s > 0 &&
	    elapsed + 0.05 >= opt.duration_s ? "duration" : "targets_exited");
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
	rec_add_num(m, "events", (double)stats.events);
	rec_add_num(m, "calls", (double)stats.calls);
	rec_add_num(m, "lost", (double)stats.lost);
	rec_add_num(m, "dropped", (double)stats.lost);
	rec_add_num(m, "unpaired", (double)stats.unpaired);
	rec_add_num(m, "unfinished", (double)stats.unfinished);
	rec_add_num(m, "path_unreadable", (double)stats.path_unreadable);
	if (method == METHOD_PTRACE)
		rec_add_str(m, "latency_note", "latencies under ptrace include "
		    "the tracer's stops (often 100x a call's own time): counts "
		    "are exact, latencies are not, and no finding is critical "
		    "on them alone");
	rec_add_num(m, "threads", (double)stats.threads_seen);
	rec_add_num(m, "processes_exited", (double)stats.procs_exited);
	rec_add_num(m, "detach_s", (double)(long long)(stats.detach_ns / 1000000) / 1000);
	rec_add_bool(m, "tracefs_mounted", tracefs_mounted);
	rec_emit_free(m);
}

int
main(int argc, char **argv)
{
	struct target_set ts;
	char why_bpf[400] = "", why_tp[400] = "", why_pt[512] = "", fbuf[1024];
	const char *fallback = NULL;
	sigset_t set;
	int method = 0, rc = -1, mounted = 0, crit, code = CD_EXIT_OK;
	long bad = 0;
	uint64_t t0;
	double elapsed;
	char **cmd = NULL;

	msg_init(argv[0]);
	rec_out_init(1);
	defaults();
	memset(&ts, 0, sizeof(ts));
	ts.child_gate = -1;
	parse_args(argc, argv, &ts.pids);
	if (optind < argc)
		cmd = argv + optind;
	if (cmd != NULL && !opt.duration_set)
		opt.duration_s = 0;	/* a command runs to its end, as under strace */
	if (opt.stacks && (opt.method == METHOD_PTRACE || opt.method == METHOD_BPF))
		cli_usage("--stacks needs the tracepoint method");
	signal(SIGPIPE, SIG_IGN);
	signals_block(&set);
	decode_init();
	out_init();

	if (cmd == NULL && ts.pids.n == 0) {
		bad = targets_from_stdin(&ts.pids, strict, rec_stdout());
		if (bad < 0)
			msg_die(CD_EXIT_DATAERR, "stopped at a malformed line (--strict)");
		if (ts.pids.n == 0 && targets_records_seen() == 0)
			cli_usage("no target: give --pid PID, a COMMAND after --, "
			    "or process records on stdin");
		/* cd-ps found no Claude: not a usage error, and its records went on */
		if (ts.pids.n == 0)
			msg_die(CD_EXIT_FAIL, "no process records with a pid on "
			    "stdin: nothing to trace");
	}
	if (cmd != NULL) {
		ts.child = spawn_gated(cmd, &ts.child_gate);
		if (ts.child < 0)
			msg_dieerr(CD_EXIT_FAIL, "fork");
	}

	/*
	 * Starved of CPU by the busy threads it traces, a tracer holds them
	 * stopped (ptrace) or loses their events, and ends late: run ahead
	 * of them when allowed (root, CAP_SYS_NICE). The command spawned
	 * above keeps its priority.
	 */
	(void)setpriority(PRIO_PROCESS, 0, -20);

	/* What the fds opened before the capture are, sockets by address. */
	for (size_t i = 0; i < ts.pids.n; i++)
		fd_snapshot(ts.pids.v[i]);
	t0 = mono_ns();
	if (opt.method == METHOD_BPF || (opt.method == METHOD_AUTO && !opt.stacks)) {
		rc = bpf_run(&ts, why_bpf, sizeof(why_bpf));
		if (rc == 0)
			method = METHOD_BPF;
		else if (rc == -1 && opt.method == METHOD_AUTO)
			fallback = join_why(fbuf, sizeof(fbuf), why_bpf, NULL);
	}
	if (rc == -1 && (opt.method == METHOD_AUTO || opt.method == METHOD_TRACEPOINT)) {
		t0 = mono_ns();
		rc = tp_run(&ts, why_tp, sizeof(why_tp), &mounted);
		if (rc == 0)
			method = METHOD_TRACEPOINT;
		else if (rc == -1 && opt.method == METHOD_AUTO)
			fallback = join_why(fbuf, sizeof(fbuf), why_bpf, why_tp);
	}
	if (rc == -1 && (opt.method == METHOD_AUTO || opt.method == METHOD_PTRACE) &&
	    !opt.stacks) {
		t0 = mono_ns();
		rc = pt_run(&ts, why_pt, sizeof(why_pt));
		if (rc == 0)
			method = METHOD_PTRACE;
	} else if (rc == -1 && opt.stacks && opt.method == METHOD_AUTO) {
		snprintf(why_pt, sizeof(why_pt), "--stacks needs the tracepoint "
		    "method: %s", why_tp);
	}
	elapsed = (double)(mono_ns() - t0) / 1e9;
	if (rc != 0) {
		const char *err = why_pt[0] ? why_pt : why_tp[0] ? why_tp : why_bpf;

		spawn_abort(&ts.child_gate);
		if (ts.child > 0)
			waitpid(ts.child, NULL, 0);	/* it exits 127 at the closed gate */
		msg_warn("cannot trace: %s", err);
		if (fallback && err != fallback)
			msg_warn("before that: %s", fallback);
		emit_meta(0, fallback, err, &ts, 0, cmd, mounted);
		rec_flush();
		calls_finish();
		out_free();
		pidlist_free(&ts.pids);
		return CD_EXIT_FAIL;
	}
	if (fallback)
		msg_warn("using %s: %s", method_name(method), fallback);
	opt.ptrace_latency = method == METHOD_PTRACE;
	calls_finish();
	out_summaries(elapsed);
	crit = out_diagnose(elapsed);
	emit_meta(method, fallback, NULL, &ts, elapsed, cmd, mounted);
	if (rec_close() != 0)
		code = CD_EXIT_FAIL;
	else if (bad > 0)
		code = CD_EXIT_DATAERR;
	else if (crit > 0)
		code = CD_EXIT_FOUND;
	out_free();
	fd_tables_free();
	pidlist_free(&ts.pids);
	return code;
}
