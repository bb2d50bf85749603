/*
 * cd-launch: run a Claude Code (or any Bun or Node program) so that
 * cd-sample can name its JavaScript.
 *
 *   cd-launch claude
 *   cd-launch -v -- claude --resume
 *   eval "$(cd-launch --print-env claude)"
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
#include "launch.h"
#include "msg.h"

static const char usage[] =
"usage: cd-launch [options] [--] COMMAND [ARGS...]\n"
"Run COMMAND in this terminal with what makes its JavaScript nameable by\n"
"cd-sample, and nothing else changed:\n"
"  Bun (Claude Code 2.x)  BUN_JSC_useJITDump=1, BUN_JSC_jitDumpDirectory=DIR\n"
"                         (DIR private, mode 0700, removed at the end)\n"
"  Node (Claude Code 1.x) NODE_OPTIONS += --perf-basic-prof-only-functions\n"
"                         (its /tmp/perf-PID.map files removed at the end)\n"
"The runtime is read from the executable (ELF sections, #! line).\n"
"\n"
"  -r, --runtime WHAT  auto (default), bun, node or none\n"
"  -e, --print-env     print the settings for `eval` in sh instead of running;\n"
"                      a Bun directory is created and left to you to remove\n"
"  -v, --verbose       the runtime and why, where the dumps go, and their\n"
"                      sizes when they are removed\n"
"      --help, --version\n"
"\n"
"Exit: COMMAND's status (a signal that ended it ends cd-launch the same way);\n"
"2 usage, 3 setup failed, 126 COMMAND not executable, 127 not found.\n";

static const struct option longopts[] = {
	{ "runtime", required_argument, NULL, 'r' },
	{ "print-env", no_argument, NULL, 'e' },
	{ "verbose", no_argument, NULL, 'v' },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

enum { RT_AUTO = -1 };

struct launch_opts {
	int runtime;		/* enum runtime or RT_AUTO */
	int print_env, verbose;
};

static void
parse_args(int argc, char **argv, struct launch_opts *o)
{
	static const char *const rts[] = { "auto", "none", "bun", "node" };
	int c;

	/* '+': options end at COMMAND, whose own options are its own */
	while ((c = getopt_long(argc, argv, "+r:ev", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->runtime = cli_choice(optarg, "--runtime", rts, 4) - 1;
			break;
		case 'e':
			o->print_env = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case CLI_OPT_NO_COLOR:
		case CLI_OPT_STRICT:
			break;
		default:
			cli_other(c, usage);
		}
	}
	if (optind == argc && !(o->print_env && o->runtime > RT_NONE))
		cli_usage("no COMMAND given");
}

/* 'value' for sh: single quotes, each ' as '\'' */
static void
print_export(const char *name, const char *value)
{
	printf("export %s='", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	}
	puts("'");
}

static int
print_env(const struct dumps *d)
{
	if (d->rt == RT_BUN) {
		print_export("BUN_JSC_useJITDump", "1");
		print_export("BUN_JSC_jitDumpDirectory", d->dir);
		printf("# remove it when done: rm -r '%s'\n", d->dir);
	} else if (d->rt == RT_NODE) {
		char *v = node_options(getenv("NODE_OPTIONS"));

		print_export("NODE_OPTIONS", v);
		free(v);
		puts("# Node leaves /tmp/perf-PID.map behind each process");
	} else {
		puts("# not a Bun or Node program: nothing to set");
	}
	return fflush(stdout) == EOF ? CD_EXIT_FAIL : CD_EXIT_OK;
}

/* The settings into cd-launch's own environment, which the command inherits. */
static int
set_env(struct dumps *d)
{
	if (d->rt == RT_BUN) {
		if (setenv("BUN_JSC_useJITDump", "1", 1) != 0 ||
		    setenv("BUN_JSC_jitDumpDirectory", d->dir, 1) != 0)
			return -1;
	} else if (d->rt == RT_NODE) {
		char *v = node_options(getenv("NODE_OPTIONS"));
		int r = setenv("NODE_OPTIONS", v, 1);

		free(v);
		return r;
	}
	return 0;
}

static enum runtime
pick_runtime(const struct launch_opts *o, const char *cmd, int *code)
{
	char why[512];
	char *path;
	enum runtime rt;

	*code = 0;
	if (cmd == NULL)
		return (enum runtime)o->runtime;
	path = resolve_command(cmd);
	if (path == NULL) {
		*code = errno == EACCES ? CD_EXIT_NOEXEC : CD_EXIT_NOTFOUND;
		msg_warnerr("%s", cmd);
		return RT_NONE;
	}
	if (o->runtime != RT_AUTO) {
		free(path);
		return (enum runtime)o->runtime;
	}
	rt = detect_runtime(path, why, sizeof(why));
	if (o->verbose)
		msg_warn("runtime %s: %s", runtime_name(rt), why);
	else if (rt == RT_NONE && !o->print_env)
		msg_warn("%s: not a Bun or Node program (%s); running it unchanged",
		    cmd, why);
	free(path);
	return rt;
}

/* Die the way the command died; a core dump of cd-launch would be noise. */
static void __attribute__((noreturn))
die_like(int sig)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t one;

	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
	exit(128 + sig);
}

int
main(int argc, char **argv)
{
	struct launch_opts o = { .runtime = RT_AUTO };
	struct dumps d = { .ino_fd = -1 };
	int code, status;

	msg_init(argv[0]);
	parse_args(argc, argv, &o);
	d.verbose = o.verbose;
	d.rt = pick_runtime(&o, optind < argc ? argv[optind] : NULL, &code);
	if (code != 0)
		return code;
	if (d.rt == RT_BUN && dumps_make_dir(&d) < 0)
		return CD_EXIT_FAIL;
	if (o.print_env) {
		code = print_env(&d);
		free(d.dir);	/* the directory itself is the user's now */
		return code;
	}
	if (set_env(&d) != 0) {
		msg_warnerr("setenv");
		dumps_cleanup(&d);
		return CD_EXIT_FAIL;
	}
	if (d.verbose && d.dir)
		msg_warn("JIT dump directory %s", d.dir);
	if (d.rt == RT_NODE)
		dumps_watch(&d);
	d.t0 = time(NULL);
	status = run_command(argv + optind, &d);
	if (status == RUN_SETUP_FAILED) {
		dumps_cleanup(&d);
		return CD_EXIT_FAIL;
	}
	if (status == RUN_EXEC_FAILED) {
		code = errno == ENOENT ? CD_EXIT_NOTFOUND : CD_EXIT_NOEXEC;
		msg_warnerr("%s", argv[optind]);
		dumps_cleanup(&d);
		return code;
	}
	dumps_cleanup(&d);
	if (WIFSIGNALED(status))
		die_like(WTERMSIG(status));
	return WEXITSTATUS(status);
}
