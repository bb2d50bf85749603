/*
 * cd-sample: what each thread of a process is doing, by function.
 * Samples stacks with perf_event_open (cpu-clock) or, where that is
 * refused and for --wall, with ptrace snapshots; names frames with
 * libdwfl; writes sample records, the analysis, and a meta record.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "exitcode.h"
#include "msg.h"
#include "record.h"
#include "sample.h"
#include "sigstop.h"
#include "targets.h"

static const char usage[] =
"usage: cd-sample [options] --pid PID [--pid PID ...]\n"
"       cd-sample [options] -- COMMAND [ARG ...]\n"
"       cd-ps ... | cd-sample [options]\n"
"       cd-sample --analyze < capture.jsonl\n"
"\n"
"Sample the stacks of every thread of the target processes and write\n"
"sample records, hot_function / thread_cpu / diagnosis records, and meta.\n"
"\n"
"  -p, --pid PID        sample this process (repeatable)\n"
"  -d, --duration SEC   how long to sample (default 5; with a COMMAND,\n"
"                       until it exits unless given)\n"
"  -F, --freq HZ        samples per second of CPU per thread (default 99)\n"
"      --method M       perf or ptrace (default: perf, ptrace if refused)\n"
"      --wall           every thread, running or blocked (ptrace snapshots)\n"
"      --kernel         require kernel frames; --no-kernel: user frames only\n"
"      --top N          hot functions per process to report (default 20)\n"
"      --no-analysis    sample records and meta only\n"
"      --analyze        read sample records on stdin, add the analysis\n"
"      --progress       progress line on stderr (default: when a terminal)\n"
"      --no-progress    none\n"
"      --debuginfod     let libdw fetch debuginfo from DEBUGINFOD_URLS\n"
"      --jitdump-dir DIR  also look for jitdumps (jit-*-PID.dump) in DIR\n"
"      --no-js-frames   do not name JavaScript frames (JSC, V8) from the stack\n"
"      --js-check       compare each stack-read JS name with the jitdump's\n"
"                       (JSC) or the --perf-basic-prof map's (V8)\n"
"      --learn-jsc-layout  learn a JSC build's layout from its jitdump\n"
"                       (target started with cd-launch) into the cache\n"
"      --strict         stop at the first malformed input line\n"
"      --no-color       (accepted; output is records)\n"
"      --help, --version\n";

enum {
	OPT_METHOD = CLI_OPT_FIRST_TOOL, OPT_WALL, OPT_KERNEL, OPT_NO_KERNEL,
	OPT_TOP, OPT_NO_ANALYSIS, OPT_ANALYZE, OPT_PROGRESS, OPT_NO_PROGRESS,
	OPT_DEBUGINFOD, OPT_JITDUMP_DIR, OPT_NO_JSC, OPT_JSC_CHECK, OPT_JSC_LEARN,
};

static const struct option longopts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ "freq", required_argument, NULL, 'F' },
	{ "method", required_argument, NULL, OPT_METHOD },
	{ "wall", no_argument, NULL, OPT_WALL },
	{ "kernel", no_argument, NULL, OPT_KERNEL },
	{ "no-kernel", no_argument, NULL, OPT_NO_KERNEL },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "no-analysis", no_argument, NULL, OPT_NO_ANALYSIS },
	{ "analyze", no_argument, NULL, OPT_ANALYZE },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "debuginfod", no_argument, NULL, OPT_DEBUGINFOD },
	{ "jitdump-dir", required_argument, NULL, OPT_JITDUMP_DIR },
	{ "no-js-frames", no_argument, NULL, OPT_NO_JSC },
	{ "no-jsc-frames", no_argument, NULL, OPT_NO_JSC },	/* the older name */
	{ "js-check", no_argument, NULL, OPT_JSC_CHECK },
	{ "jsc-check", no_argument, NULL, OPT_JSC_CHECK },	/* the older name */
	{ "learn-jsc-layout", no_argument, NULL, OPT_JSC_LEARN },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static void
setup_signals(void)
{
	sigstop_catch(&stop_requested, SIGSTOP_HUP);	/* sleeps end at once */
	signal(SIGPIPE, SIG_IGN);
}

/* Two events per thread and CPU: ask for every descriptor allowed. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Fork the command, held before exec until the sampler is ready. Its exec
 * error, if any, comes back on a close-on-exec pipe.
 */
static pid_t
start_command(char **argv, int *go_fd, int *err_fd)
{
	int go[2], er[2];
	pid_t pid;
	char c;

	if (pipe2(go, O_CLOEXEC) != 0 || pipe2(er, O_CLOEXEC) != 0)
		msg_dieerr(CD_EXIT_FAIL, "pipe");
	if ((pid = sigstop_fork(0)) < 0)
		msg_dieerr(CD_EXIT_FAIL, "fork");
	if (pid == 0) {
		int e;

		close(go[1]);
		close(er[0]);
		signal(SIGPIPE, SIG_DFL);
		if (read(go[0], &c, 1) != 1)
			_exit(CD_EXIT_NOTFOUND);
		execvp(argv[0], argv);
		e = errno;
		if (write(er[1], &e, sizeof(e)) < 0)
			_exit(CD_EXIT_NOTFOUND);
		_exit(CD_EXIT_NOTFOUND);
	}
	close(go[0]);
	close(er[1]);
	*go_fd = go[1];
	*err_fd = er[0];
	return pid;
}

/* The command's exec error, if it failed to start. */
static int
command_exec_error(int err_fd)
{
	int e = 0;

	if (read(err_fd, &e, sizeof(e)) != (ssize_t)sizeof(e))
		e = 0;
	close(err_fd);
	return e;
}

/* The capture is over: a command still running is ended, as timeout(1) would. */
static void
end_command(struct capture *c)
{
	if (c->cmd_pid <= 0 || c->cmd_status >= 0)
		return;
	kill(c->cmd_pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 10000000L };

		if (waitpid(c->cmd_pid, &c->cmd_status, WNOHANG) == c->cmd_pid)
			return;
		nanosleep(&ts, NULL);
	}
	kill(c->cmd_pid, SIGKILL);
	waitpid(c->cmd_pid, &c->cmd_status, 0);
}

static void
parse(int argc, char **argv, struct sample_opts *o, struct pidlist *pids, int *analyze)
{
	int ch;

	o->duration_s = 5;
	o->freq = 99;
	o->kernel = -1;
	o->progress = isatty(2);
	o->top = 20;
	o->jsc_frames = 1;
	while ((ch = getopt_long(argc, argv, "+p:d:F:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			pidlist_add(pids, cli_pid(optarg));
			break;
		case 'd':
			o->duration_s = cli_double(optarg, 0.01, 86400, "--duration");
			o->duration_set = 1;
			break;
		case 'F':
			o->freq = cli_long(optarg, 1, 10000, "--freq");
			break;
		case OPT_METHOD: {
			/* auto is the default, not a value to ask for. */
			static const char *const m[] = { [METHOD_PERF] = "perf",
				[METHOD_PTRACE] = "ptrace" };

			o->method = cli_choice(optarg, "--method", m, 3);
			break;
		}
		case OPT_WALL: o->wall = 1; break;
		case OPT_KERNEL: o->kernel = 1; break;
		case OPT_NO_KERNEL: o->kernel = 0; break;
		case OPT_TOP: o->top = cli_long(optarg, 1, 100000, "--top"); break;
		case OPT_NO_ANALYSIS: o->no_analysis = 1; break;
		case OPT_ANALYZE: *analyze = 1; break;
		case OPT_PROGRESS: o->progress = 1; break;
		case OPT_NO_PROGRESS: o->progress = 0; break;
		case OPT_DEBUGINFOD: setenv("CD_SAMPLE_DEBUGINFOD", "1", 1); break;
		case OPT_JITDUMP_DIR: o->jitdump_dir = optarg; break;
		case OPT_NO_JSC: o->jsc_frames = 0; break;
		case OPT_JSC_CHECK: o->jsc_check = 1; break;
		case OPT_JSC_LEARN: o->jsc_learn = 1; break;
		case CLI_OPT_NO_COLOR: break;
		case CLI_OPT_STRICT: o->strict = 1; break;
		default: cli_other(ch, usage);
		}
	}
	if (optind < argc)
		o->cmd = argv + optind;
	if (o->cmd && pids->n)
		cli_usage("give either --pid or a COMMAND, not both");
	if (o->wall && o->method == METHOD_PERF)
		cli_usage("--wall samples blocked threads too, which only ptrace "
		    "snapshots see: it cannot be combined with --method perf");
	if (o->wall && o->kernel == 1)
		cli_usage("--kernel needs perf; --wall uses ptrace snapshots");
	if ((o->jsc_check || o->jsc_learn) && !o->jsc_frames)
		cli_usage("--js-check and --learn-jsc-layout read JS frames: "
		    "not with --no-js-frames");
	if ((o->jsc_check || o->jsc_learn) && (o->cmd || o->wall || o->method == METHOD_PTRACE))
		cli_usage("--js-check and --learn-jsc-layout sample a running --pid "
		    "with perf");
	if (*analyze && (o->cmd || pids->n))
		cli_usage("--analyze reads records on stdin; it takes no target");
}

static double
pct1(unsigned long part, unsigned long whole)
{
	return whole ? (double)(long long)(1000.0 * (double)part / (double)whole + 0.5) / 10 : 0;
}

/* Which naming sources named what share of the frames (weighted by samples). */
static void
meta_naming(cJSON *m, const struct capture *c, const struct samples *s)
{
	cJSON *n = cJSON_AddObjectToObject(m, "naming_pct");

	for (int k = 0; k < SYM_NKINDS; k++)
		rec_add_num(n, sym_kind_name((enum sym_kind)k),
		    pct1(c->frames_by_kind[k], s->frames_total));
	rec_add_num(m, "frames_unknown", (double)c->frames_by_kind[SYM_UNKNOWN]);
	rec_add_num(m, "frames_unknown_pct", pct1(c->frames_by_kind[SYM_UNKNOWN], s->frames_total));
}

/*
 * Per process with a jitdump: what was read. A JavaScriptCore process
 * (Bun: the native Claude Code) without one gets named in
 * jsc_without_jitdump, and the hint says how to start it next time.
 */
static void
meta_jitdumps(cJSON *m, const struct capture *c)
{
	struct proc *p;
	cJSON *dumps = cJSON_AddArrayToObject(m, "jitdumps");
	cJSON *none = cJSON_AddArrayToObject(m, "jsc_without_jitdump");

	for (size_t i = 0; (p = cap_next_proc(c, &i)) != NULL;) {
		struct sym_stats st;
		cJSON *d;

		if (p->sym == NULL)
			continue;
		sym_get_stats(p->sym, &st);
		if (st.jitdump == NULL) {
			/* named from its stack instead: jsc_frames says so */
			if (st.jsc && !jsc_named_any(p))
				cJSON_AddItemToArray(none, cJSON_CreateNumber(p->pid));
			continue;
		}
		d = cJSON_CreateObject();
		rec_add_num(d, "pid", p->pid);
		rec_add_str(d, "path", st.jitdump);
		rec_add_num(d, "loads", (double)st.jitdump_loads);
		rec_add_num(d, "bytes", (double)st.jitdump_bytes);
		rec_add_num(d, "addresses_bound", (double)st.stamped);
		rec_add_num(d, "addresses_unbound", (double)st.stamp_missed);
		if (st.jitdump_error)
			rec_add_str(d, "error", st.jitdump_error);
		cJSON_AddItemToArray(dumps, d);
	}
	if (cJSON_GetArraySize(none) > 0)
		rec_add_str(m, "jit_names_hint", "a JavaScriptCore (Bun) process without a "
		    "jitdump: its JavaScript shows as [JS interpreter] and [JIT]; start it "
		    "with `cd-launch claude` (or with BUN_JSC_useJITDump=1 "
		    "BUN_JSC_jitDumpDirectory=DIR, DIR existing) to name its functions");
}

/* Returns -1 when --learn-jsc-layout learned nothing. */
static int
emit_meta(struct capture *c, const struct samples *s, const struct sample_opts *o,
    double requested)
{
	struct proc *p;
	int learn_rc;
	cJSON *m = rec_meta_new("cd-sample"), *ex, *errs;
	unsigned long jit = 0, nproc = 0;

	rec_add_str(m, "method", c->method);
	rec_add_str(m, "backend", c->method);
	rec_add_str(m, "mode", o->wall ? "wall" : "cpu");
	if (c->fallback_reason)
		rec_add_str(m, "fallback_reason", c->fallback_reason);
	else
		cJSON_AddNullToObject(m, "fallback_reason");
	rec_add_num(m, "freq_hz", (double)o->freq);
	rec_add_num(m, "effective_hz", (double)(long long)(c->effective_hz * 100 + 0.5) / 100);
	rec_add_num(m, "duration_s", (double)(long long)((c->t_end - c->t_start) * 1000 + 0.5) / 1000);
	if (isfinite(requested))
		rec_add_num(m, "requested_duration_s", requested);
	rec_add_num(m, "samples", (double)c->samples);
	rec_add_num(m, "lost", (double)c->lost);
	rec_add_num(m, "duplicates_dropped", (double)c->dup_dropped);
	if (strcmp(c->method, "ptrace") == 0)
		rec_add_num(m, "snapshots", (double)c->snapshots);
	rec_add_num(m, "threads_seen", (double)c->threads_seen.n);
	rec_add_num(m, "stacks", (double)s->n);
	rec_add_num(m, "frames", (double)s->frames_total);
	rec_add_num(m, "symbolize_s", (double)(long long)(c->t_sym * 1000 + 0.5) / 1000);
	rec_add_num(m, "frames_resolved_pct", s->frames_total ?
	    (double)(long long)(1000.0 * (double)s->frames_resolved / (double)s->frames_total + 0.5) / 10 : 0);
	rec_add_bool(m, "kernel_frames", c->kernel_frames);
	if (c->kernel_reason)
		rec_add_str(m, "kernel_frames_reason", c->kernel_reason);
	ex = cJSON_AddArrayToObject(m, "targets_exited");
	errs = cJSON_AddArrayToObject(m, "errors");
	for (size_t i = 0; (p = cap_next_proc(c, &i)) != NULL;) {
		struct sym_stats st;

		nproc++;
		if (p->target && p->exited)
			cJSON_AddItemToArray(ex, cJSON_CreateNumber(p->pid));
		if (p->sym) {
			sym_get_stats(p->sym, &st);
			jit += st.jit_map;
		} else if (p->target) {
			char *e = xasprintf("pid %d: symbols unavailable: %s", (int)p->pid,
			    strerror(p->sym_errno));
			cJSON_AddItemToArray(errs, cJSON_CreateString(e));
			free(e);
		}
	}
	rec_add_num(m, "processes", (double)nproc);
	rec_add_num(m, "jit_maps", (double)jit);
	meta_naming(m, c, s);
	meta_jitdumps(m, c);
	learn_rc = jsc_meta(m, c);
	rec_add_bool(m, "ended_early", c->ended_by_signal);
	if (c->cmd_pid > 0 && c->cmd_status >= 0) {
		if (WIFEXITED(c->cmd_status))
			rec_add_num(m, "command_exit_status", WEXITSTATUS(c->cmd_status));
		else if (WIFSIGNALED(c->cmd_status))
			rec_add_num(m, "command_signal", WTERMSIG(c->cmd_status));
	}
	rec_emit_free(m);
	return learn_rc;
}

/* Every target must exist and be ours to read: say which is not. */
static int
check_targets(struct capture *c, const struct pidlist *pids)
{
	int ok = 0;

	for (size_t i = 0; i < pids->n; i++) {
		char path[64];
		struct stat st;
		struct proc *p;

		snprintf(path, sizeof(path), "/proc/%d", pids->v[i]);
		if (stat(path, &st) != 0) {
			msg_warn("pid %d: no such process", pids->v[i]);
			continue;
		}
		p = cap_proc(c, pids->v[i], 1);
		p->target = 1;
		if (p->sym == NULL && (p->sym_errno == EACCES || p->sym_errno == EPERM)) {
			msg_warn("pid %d: no permission to sample it (owned by uid %u; "
			    "run as that user or as root)", pids->v[i], (unsigned)st.st_uid);
			p->exited = 1;
			continue;
		}
		ok++;
	}
	return ok;
}

int
main(int argc, char **argv)
{
	struct sample_opts o;
	struct pidlist pids = { 0 };
	struct capture c;
	struct samples s = { 0 };
	double deadline, requested;
	int analyze = 0, err_fd = -1, crit = 0, learn_failed = 0, rc;

	msg_init(argv[0]);
	memset(&o, 0, sizeof(o));
	parse(argc, argv, &o, &pids, &analyze);
	rec_out_init(1);
	/* A debuginfod lookup can take minutes: only when asked for. */
	if (getenv("CD_SAMPLE_DEBUGINFOD") == NULL)
		unsetenv("DEBUGINFOD_URLS");
	if (analyze)
		return analyze_stdin(&o);
	if (!o.cmd && pids.n == 0 && !isatty(0)) {
		if (targets_from_stdin(&pids, o.strict, rec_stdout()) < 0)
			msg_die(CD_EXIT_DATAERR, "malformed input (--strict)");
		/* cd-ps found no Claude: not a usage error, and its records went on */
		if (pids.n == 0 && targets_records_seen() > 0)
			msg_die(CD_EXIT_FAIL, "no process records with a pid on stdin: "
			    "nothing to sample");
	}
	if (!o.cmd && pids.n == 0)
		cli_usage("no target: give --pid, a COMMAND after --, or pipe process records");
	setup_signals();
	raise_nofile();
	if (o.jitdump_dir)
		sym_jitdump_dir(o.jitdump_dir);
	cap_init(&c, &o);
	if (o.cmd) {
		c.cmd_pid = start_command(o.cmd, &c.cmd_go_fd, &err_fd);
		pidlist_add(&pids, c.cmd_pid);
	}
	if (check_targets(&c, &pids) == 0) {
		rec_flush();
		msg_die(CD_EXIT_FAIL, "nothing to sample");
	}
	/*
	 * Starved by the busy threads it samples, setup alone can outlast
	 * the duration: run ahead of them when allowed (root, CAP_SYS_NICE).
	 * The command started above keeps its priority.
	 */
	(void)setpriority(PRIO_PROCESS, 0, -20);
	requested = o.cmd && !o.duration_set ? INFINITY : o.duration_s;
	deadline = now_s() + requested;
	rc = -1;
	if (!o.wall && o.method != METHOD_PTRACE) {
		const char *why = NULL;
		int err = 0;

		rc = perf_capture(&c, deadline, &why, &err);
		if (rc != 0 && (o.method == METHOD_PERF || o.kernel == 1)) {
			end_command(&c);
			rec_flush();
			msg_die(CD_EXIT_FAIL, "%s", why);
		}
		if (rc != 0) {
			msg_warn("%s; falling back to ptrace snapshots", why);
			c.fallback_reason = why;
		}
	}
	if (rc != 0 && (rc = ptrace_capture(&c, deadline)) != 0) {
		end_command(&c);
		rec_flush();
		msg_die(CD_EXIT_FAIL, "cannot sample: ptrace refused (%s)%s%s",
		    strerror(rc), c.fallback_reason ? "; " : "",
		    c.fallback_reason ? c.fallback_reason : "");
	}
	c.ended_by_signal = stop_requested != 0;
	cap_progress(&c, deadline, 1);
	if (err_fd >= 0) {
		int e = command_exec_error(err_fd);

		if (e != 0) {
			end_command(&c);
			rec_flush();
			msg_die(CD_EXIT_FAIL, "cannot run %s: %s", o.cmd[0], strerror(e));
		}
	}
	end_command(&c);
	cap_targets_alive(&c);
	cap_refresh_procs(&c, 1);
	c.t_sym = now_s();
	samples_from_capture(&s, &c);
	c.t_sym = now_s() - c.t_sym;
	samples_sort(&s);
	samples_emit(&s);	/* a write error sticks: rec_close reports it */
	if (!o.no_analysis) {
		struct analysis_ctx a = {
			.freq_hz = c.effective_hz, .duration_s = c.t_end - c.t_start,
			.wall = o.wall, .top = o.top,
		};

		crit = analyze_emit(&s, &a);
	}
	learn_failed = emit_meta(&c, &s, &o, requested) != 0;
	rc = rec_close() != 0 ? CD_EXIT_FAIL : crit ? CD_EXIT_FOUND : CD_EXIT_OK;
	samples_release(&s);
	cap_release(&c);
	pidlist_release(&pids);
	strings_free();
	if (learn_failed && rc != CD_EXIT_FAIL)
		rc = CD_EXIT_FAIL;
	return rc;
}
