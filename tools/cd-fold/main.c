/*
 * cd-fold: stacks and system calls in, folded stacks out.
 *
 *   cd-sample -p PID -d 5 | cd-fold | cd-svg > cpu.svg
 *   perf script | cd-fold --all | cd-svg > perf.svg
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "exitcode.h"
#include "fold.h"
#include "intern.h"
#include "msg.h"

static const char usage[] =
"usage: cd-fold [options] [FILE...]\n"
"Fold stack samples and system calls into folded stacks (frame;frame;leaf COUNT)\n"
"for cd-svg, flamegraph.pl, inferno or speedscope. Reads FILEs or stdin.\n"
"\n"
"Input:\n"
"  -f, --from FMT      records (cd-sample, cd-trace), perf (perf script),\n"
"                      sample (macOS sample), dtrace (ustack aggregation),\n"
"                      folded (merged), cpuprofile (Chrome .cpuprofile JSON\n"
"                      from Node, Bun or DevTools); detected when not given\n"
"Records (sample, syscall, syscall_summary):\n"
"  -r, --root WHAT     root frames: process (default), pid, thread, tid, none\n"
"  -w, --weight WHAT   count (default) or duration (syscall dur_ns/total_ns)\n"
"  -l, --leaf          syscalls: the path or address as an extra leaf\n"
"      --no-category   syscalls: process -> syscall, no category level\n"
"Chrome .cpuprofile:\n"
"  -w, --weight WHAT   count (samples, default) or time (microseconds;\n"
"                      duration is the same)\n"
"      --jit           annotate JavaScript frames with _[j]\n"
"      --drop-idle     drop (idle) samples\n"
"Frames (every format):\n"
"      --kernel        annotate kernel frames with _[k]\n"
"      --jit           annotate JIT frames with _[j]\n"
"      --all           both annotations\n"
"      --drop-kernel   leave kernel frames out\n"
"perf script (as stackcollapse-perf.pl):\n"
"      --pid           process name with pid: comm-PID\n"
"      --tid           process name with pid and tid: comm-PID/TID\n"
"      --addrs         raw addresses where the symbol is unknown\n"
"      --event-filter EVENT  only this event (default: the first seen)\n"
"macOS sample:\n"
"      --drop-idle     drop stacks ending in a blocking wait (__psynch_cvwait...)\n"
"Other:\n"
"  -v, --verbose       what was read, and which record types were ignored\n"
"      --strict        stop at the first malformed line (exit 4, no output)\n"
"      --help, --version\n"
"\n"
"Exit: 0 ok, 2 usage, 3 I/O error, 4 malformed input lines (skipped).\n";

enum {
	OPT_KERNEL = CLI_OPT_FIRST_TOOL, OPT_JIT, OPT_ALL, OPT_DROP_KERNEL,
	OPT_PID, OPT_TID, OPT_ADDRS, OPT_EVENT, OPT_DROP_IDLE, OPT_NO_CAT,
};

static const struct option longopts[] = {
	{ "from", required_argument, NULL, 'f' },
	{ "root", required_argument, NULL, 'r' },
	{ "weight", required_argument, NULL, 'w' },
	{ "leaf", no_argument, NULL, 'l' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "no-category", no_argument, NULL, OPT_NO_CAT },
	{ "kernel", no_argument, NULL, OPT_KERNEL },
	{ "jit", no_argument, NULL, OPT_JIT },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "drop-kernel", no_argument, NULL, OPT_DROP_KERNEL },
	{ "pid", no_argument, NULL, OPT_PID },
	{ "tid", no_argument, NULL, OPT_TID },
	{ "addrs", no_argument, NULL, OPT_ADDRS },
	{ "event-filter", required_argument, NULL, OPT_EVENT },
	{ "drop-idle", no_argument, NULL, OPT_DROP_IDLE },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static int
pick(const char *arg, const char *what, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(arg, names[i]) == 0)
			return i;
	cli_usage("%s: unknown value '%s'", what, arg);
}

static void
parse_args(int argc, char **argv, struct fold_opts *o, int *verbose)
{
	static const char *const fmts[] = { "auto", "records", "perf", "sample",
	    "dtrace", "folded", "cpuprofile" };
	static const char *const roots[] = { "process", "pid", "thread", "tid", "none" };
	static const char *const weights[] = { "count", "duration", "time" };
	int c;

	while ((c = getopt_long(argc, argv, "f:r:w:lv", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->fmt = (enum fold_fmt)pick(optarg, "--from", fmts, 7);
			break;
		case 'r':
			o->root = (enum fold_root)pick(optarg, "--root", roots, 5);
			break;
		case 'w':
			/* "time" is "duration" by the name profiles give it */
			o->weight = pick(optarg, "--weight", weights, 3) ? WEIGHT_DURATION :
			    WEIGHT_COUNT;
			break;
		case 'l':
			o->leaf = 1;
			break;
		case 'v':
			*verbose = 1;
			break;
		case OPT_NO_CAT:
			o->no_category = 1;
			break;
		case OPT_KERNEL:
			o->annotate_kernel = 1;
			break;
		case OPT_JIT:
			o->annotate_jit = 1;
			break;
		case OPT_ALL:
			o->annotate_kernel = o->annotate_jit = 1;
			break;
		case OPT_DROP_KERNEL:
			o->drop_kernel = 1;
			break;
		case OPT_PID:
			o->pid = 1;
			break;
		case OPT_TID:
			o->tid = 1;
			break;
		case OPT_ADDRS:
			o->addrs = 1;
			break;
		case OPT_EVENT:
			o->event_filter = optarg;
			break;
		case OPT_DROP_IDLE:
			o->drop_idle = 1;
			break;
		case CLI_OPT_STRICT:
			o->strict = 1;
			break;
		case CLI_OPT_NO_COLOR:
			break;
		default:
			cli_other(c, usage);
		}
	}
}

static void
report(const struct fold *f)
{
	msg_warn("%s: %s format, %lu lines, %zu distinct stacks, %u distinct frames, %lu malformed",
	    f->name, fold_fmt_name(f->fmt), f->lineno, stacktab_count(f->stacks),
	    intern_count(f->frames), f->bad);
	if (f->fmt == FMT_RECORDS) {
		msg_warn("%s: %lu sample, %lu syscall, %lu syscall_summary records folded",
		    f->name, f->rec.samples, f->rec.syscalls, f->rec.summaries);
		for (size_t i = 0; i < f->rec.ntypes; i++)
			msg_warn("%s: ignored %lu \"%s\" record%s", f->name,
			    f->rec.types[i].n, f->rec.types[i].type,
			    f->rec.types[i].n == 1 ? "" : "s");
	}
	if (f->fmt == FMT_CPUPROFILE)
		msg_warn("%s: %lu profile nodes, %lu samples folded, weighted by %s",
		    f->name, f->cpuprof.nodes, f->cpuprof.samples,
		    f->o.weight == WEIGHT_DURATION ? "time (microseconds)" : "samples");
}

int
main(int argc, char **argv)
{
	struct fold_opts o = { 0 };
	struct fold f;
	int verbose = 0, io_err = 0;
	static char obuf[1 << 16];

	msg_init(argv[0]);
	parse_args(argc, argv, &o, &verbose);
	/* One table for every input file: they fold into one graph. */
	fold_init(&f, &o, "stdin");
	if (optind == argc) {
		io_err |= fold_fd(&f, 0) < 0;
		if (verbose)
			report(&f);
	}
	for (int i = optind; i < argc && !f.stop; i++) {
		int fd = strcmp(argv[i], "-") == 0 ? 0 : open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			msg_warnerr("%s", argv[i]);
			io_err = 1;
			continue;
		}
		/* each file is its own stream: format, line numbers, parser state */
		{
			struct fold next;

			fold_init(&next, &o, argv[i]);
			intern_free(next.frames);
			stacktab_free(next.stacks);
			next.frames = f.frames;
			next.stacks = f.stacks;
			next.bad = f.bad;
			next.overflowed = f.overflowed;
			f.frames = NULL;
			f.stacks = NULL;
			fold_free(&f);
			f = next;
		}
		io_err |= fold_fd(&f, fd) < 0;
		if (fd != 0)
			close(fd);
		if (verbose)
			report(&f);
	}
	if (f.stop) {
		fold_free(&f);
		return CD_EXIT_DATAERR;
	}
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if (fold_write(&f, stdout) < 0 || fflush(stdout) == EOF) {
		if (errno != EPIPE)
			msg_warnerr("write error");
		fold_free(&f);
		return CD_EXIT_FAIL;
	}
	fold_free(&f);
	if (io_err)
		return CD_EXIT_FAIL;
	return f.bad ? CD_EXIT_DATAERR : CD_EXIT_OK;
}
