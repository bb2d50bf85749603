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
"       cd-fold --diff [-n] [options] BEFORE AFTER\n"
"Fold stack samples and system calls into folded stacks (frame;frame;leaf COUNT)\n"
"for cd-svg, flamegraph.pl, inferno or speedscope. Reads FILEs or stdin.\n"
"\n"
"Output:\n"
"  -O, --output FMT    folded (default), pprof (gzipped profile.proto, for\n"
"                      go tool pprof, Pyroscope, Parca), speedscope (JSON)\n"
"      --tree          an indented call tree with counts and percentages,\n"
"                      hottest path first\n"
"      --tree-min PCT  leave out frames under PCT% of the total (default 1)\n"
"      --diff          fold BEFORE and AFTER apart and write two-column folded\n"
"                      (stack COUNT_BEFORE COUNT_AFTER) for cd-svg, as difffolded.pl\n"
"  -n, --normalize     --diff: scale BEFORE's counts to AFTER's total\n"
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
	OPT_TREE, OPT_TREE_MIN, OPT_DIFF,
};

/* What main() was asked for beyond the folding options. */
struct run {
	int verbose, diff, normalize;
	double tree_min;
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
	{ "output", required_argument, NULL, 'O' },
	{ "tree", no_argument, NULL, OPT_TREE },
	{ "tree-min", required_argument, NULL, OPT_TREE_MIN },
	{ "diff", no_argument, NULL, OPT_DIFF },
	{ "normalize", no_argument, NULL, 'n' },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static void
parse_args(int argc, char **argv, struct fold_opts *o, struct run *run)
{
	static const char *const outs[] = { "folded", "pprof", "speedscope" };
	static const char *const fmts[] = { "auto", "records", "perf", "sample",
	    "dtrace", "folded", "cpuprofile" };
	static const char *const roots[] = { "process", "pid", "thread", "tid", "none" };
	static const char *const weights[] = { "count", "duration", "time" };
	int c;

	while ((c = getopt_long(argc, argv, "f:r:w:lvO:n", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->fmt = (enum fold_fmt)cli_choice(optarg, "--from", fmts, 7);
			break;
		case 'r':
			o->root = (enum fold_root)cli_choice(optarg, "--root", roots, 5);
			break;
		case 'w':
			/* "time" is "duration" by the name profiles give it */
			o->weight = cli_choice(optarg, "--weight", weights, 3) ? WEIGHT_DURATION :
			    WEIGHT_COUNT;
			break;
		case 'l':
			o->leaf = 1;
			break;
		case 'v':
			run->verbose = 1;
			break;
		case 'O':
			o->out = (enum fold_out)cli_choice(optarg, "--output", outs, 3);
			break;
		case OPT_TREE:
			o->out = OUT_TREE;
			break;
		case OPT_TREE_MIN:
			run->tree_min = cli_double(optarg, 0, 100, "--tree-min");
			break;
		case OPT_DIFF:
			run->diff = 1;
			break;
		case 'n':
			run->normalize = 1;
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
	if (run->normalize && !run->diff)
		cli_usage("-n scales the first input of a --diff: add --diff");
	if (run->diff && o->out != OUT_FOLDED)
		cli_usage("--diff writes two-column folded text only");
	if (run->diff && argc - optind != 2)
		cli_usage("--diff compares two inputs: BEFORE AFTER");
	o->labels = o->out == OUT_PPROF || o->out == OUT_SPEEDSCOPE;
	/* pprof carries calls and durations side by side */
	if (o->out == OUT_PPROF && o->weight == WEIGHT_DURATION)
		cli_usage("-w duration is for folded output: pprof has calls and duration both");
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

/*
 * next takes over prev's tables and what the records said about the whole
 * capture: inputs fold into one graph.
 */
static void
adopt(struct fold *next, struct fold *prev)
{
#define TAKE(field, freefn) do { freefn(next->field); \
	next->field = prev->field; prev->field = NULL; } while (0)
	TAKE(frames, intern_free);
	TAKE(stacks, stacktab_free);
	TAKE(labels, intern_free);
	TAKE(stacks2, stacktab_free);
#undef TAKE
	next->bad = prev->bad;
	next->overflowed = prev->overflowed;
	next->rec.all_samples = prev->rec.all_samples;
	next->rec.all_syscalls = prev->rec.all_syscalls;
	next->rec.durations = prev->rec.durations;
	next->rec.duration_s = prev->rec.duration_s;
	next->rec.freq_hz = prev->rec.freq_hz;
	next->rec.wall = prev->rec.wall;
	fold_release(prev);
}

/*
 * Fold names[0..n) (stdin when n is 0) into *f, already initialised.
 * Returns 1 when an input could not be read.
 */
static int
fold_inputs(struct fold *f, const struct fold_opts *o, char **names, int n,
    int verbose)
{
	int io_err = 0;

	if (n == 0) {
		io_err |= fold_fd(f, 0) < 0;
		if (verbose)
			report(f);
	}
	for (int i = 0; i < n && !f->stop; i++) {
		int fd = strcmp(names[i], "-") == 0 ? 0 : open(names[i], O_RDONLY | O_CLOEXEC);
		struct fold next;

		if (fd < 0) {
			msg_warnerr("%s", names[i]);
			io_err = 1;
			continue;
		}
		/* each file is its own stream: format, line numbers, parser state */
		fold_init(&next, o, names[i]);
		adopt(&next, f);
		*f = next;
		io_err |= fold_fd(f, fd) < 0;
		if (fd != 0)
			close(fd);
		if (verbose)
			report(f);
	}
	return io_err;
}

static int
write_out(struct fold *f, const struct run *run, FILE *out)
{
	switch (f->o.out) {
	case OUT_PPROF:
		return fold_pprof_write(f, out);
	case OUT_SPEEDSCOPE:
		return fold_speedscope_write(f, out);
	case OUT_TREE:
		return fold_tree_write(f, run->tree_min, out);
	case OUT_FOLDED:
		break;
	}
	return fold_write(f, out);
}

/*
 * --diff BEFORE AFTER: each input folded into its own stack table, both
 * over one frame table so the same stack has the same ids in both.
 */
static int
diff(const struct fold_opts *o, char **names, const struct run *run,
    FILE *out, int *io_err)
{
	struct fold a, b;
	struct fold_diff d;
	int r = CD_EXIT_OK;

	fold_init(&a, o, names[0]);
	*io_err |= fold_inputs(&a, o, names, 1, run->verbose);
	fold_init(&b, o, names[1]);
	intern_free(b.frames);
	b.frames = a.frames;	/* shared: the intern struct itself never moves */
	*io_err |= fold_inputs(&b, o, names + 1, 1, run->verbose);
	a.frames = NULL;
	if (a.stop || b.stop) {
		r = CD_EXIT_DATAERR;
	} else if (fold_diff_write(a.stacks, b.stacks, b.frames, run->normalize,
	    out, &d) < 0 || fflush(out) == EOF) {
		if (errno != EPIPE)
			msg_warnerr("write error");
		r = CD_EXIT_FAIL;
	} else {
		if (run->verbose)
			msg_warn("diff: %zu stacks; before %llu, after %llu%s",
			    d.lines, (unsigned long long)d.total_a,
			    (unsigned long long)d.total_b, run->normalize &&
			    d.total_a != d.total_b ? " (before scaled to after)" : "");
		if (*io_err)
			r = CD_EXIT_FAIL;
		else if (a.bad + b.bad)
			r = CD_EXIT_DATAERR;
	}
	fold_release(&a);
	fold_release(&b);
	return r;
}

int
main(int argc, char **argv)
{
	struct fold_opts o = { 0 };
	struct run run = { .tree_min = 1 };
	struct fold f;
	int io_err = 0, r;
	static char obuf[1 << 16];

	msg_init(argv[0]);
	parse_args(argc, argv, &o, &run);
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if (run.diff)
		return diff(&o, argv + optind, &run, stdout, &io_err);
	fold_init(&f, &o, "stdin");
	io_err = fold_inputs(&f, &o, argv + optind, argc - optind, run.verbose);
	if (f.stop) {
		fold_release(&f);
		return CD_EXIT_DATAERR;
	}
	r = write_out(&f, &run, stdout);
	if (r < 0 || fflush(stdout) == EOF) {
		if (errno != EPIPE)
			msg_warnerr("write error");
		fold_release(&f);
		return CD_EXIT_FAIL;
	}
	fold_release(&f);
	if (io_err)
		return CD_EXIT_FAIL;
	return f.bad ? CD_EXIT_DATAERR : CD_EXIT_OK;
}
