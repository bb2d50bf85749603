/*
 * cd-svg: folded stacks in, one self-contained interactive flame graph out.
 *
 *   cd-fold < samples.jsonl | cd-svg --title "node 1234" > cpu.svg
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
#include "lineread.h"
#include "msg.h"
#include "svg.h"

static const char usage[] =
"usage: cd-svg [options] [FILE...]\n"
"Draw folded stacks (frame;frame;leaf COUNT) as one interactive SVG flame\n"
"graph on stdout: hover for counts, click to zoom, search by regex.\n"
"\n"
"  -t, --title TEXT       title (default \"Flame Graph\", \"Icicle Graph\" with -i)\n"
"  -s, --subtitle TEXT    a second line under the title\n"
"  -c, --countname NAME   what a count is: samples (default), calls, ns...\n"
"  -w, --width PX         image width (default 1200)\n"
"  -m, --minwidth PX      leave out frames narrower than this (default 0.1)\n"
"      --height PX        frame height (default 16)\n"
"      --fontsize PX      label font size (default 12)\n"
"  -p, --palette NAME     hot (CPU), category (syscall graphs), hash, or\n"
"                         auto (default: category when the graph has the\n"
"                         file/network/... levels cd-fold writes, else hot)\n"
"  -r, --reverse          reverse each stack (leaf first) before merging\n"
"  -i, --inverted         icicle graph: the root at the top\n"
"      --negate           two-column input is AFTER BEFORE (widths by the\n"
"                         earlier capture): hues switched, as flamegraph.pl\n"
"      --self-delta       colour by the change of a frame's own samples only\n"
"                         (flamegraph.pl), not of its total\n"
"      --strict           stop at the first malformed line (exit 4, no SVG)\n"
"      --help, --version\n"
"\n"
"Two-column input (stack BEFORE AFTER, from cd-fold --diff or difffolded.pl)\n"
"draws a differential graph: widths by AFTER, red where a frame's share of\n"
"the total grew, blue where it shrank, both counts in each tooltip.\n"
"\n"
"Exit: 0 ok, 2 usage, 3 I/O error, 4 malformed lines (skipped; SVG written).\n";

enum { OPT_HEIGHT = CLI_OPT_FIRST_TOOL, OPT_FONTSIZE, OPT_NEGATE, OPT_SELF };

static const struct option longopts[] = {
	{ "title", required_argument, NULL, 't' },
	{ "subtitle", required_argument, NULL, 's' },
	{ "countname", required_argument, NULL, 'c' },
	{ "width", required_argument, NULL, 'w' },
	{ "minwidth", required_argument, NULL, 'm' },
	{ "palette", required_argument, NULL, 'p' },
	{ "colors", required_argument, NULL, 'p' },
	{ "reverse", no_argument, NULL, 'r' },
	{ "inverted", no_argument, NULL, 'i' },
	{ "height", required_argument, NULL, OPT_HEIGHT },
	{ "fontsize", required_argument, NULL, OPT_FONTSIZE },
	{ "negate", no_argument, NULL, OPT_NEGATE },
	{ "self-delta", no_argument, NULL, OPT_SELF },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static enum palette
palette_arg(const char *s)
{
	/* in enum palette's order */
	static const char *const names[] = { "auto", "hot", "category", "hash" };

	return (enum palette)cli_choice(s, "--palette", names, 4);
}

static void
parse_args(int argc, char **argv, struct svg_opts *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "t:s:c:w:m:p:ri", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			o->title = optarg;
			break;
		case 's':
			o->subtitle = optarg;
			break;
		case 'c':
			o->countname = optarg;
			break;
		case 'w':
			o->width = cli_double(optarg, 100, 100000, "--width");
			break;
		case 'm':
			o->minwidth = cli_double(optarg, 0, 1000, "--minwidth");
			break;
		case 'p':
			o->palette = palette_arg(optarg);
			break;
		case 'r':
			o->reverse = 1;
			break;
		case 'i':
			o->inverted = 1;
			break;
		case OPT_HEIGHT:
			o->frame_height = (int)cli_long(optarg, 4, 200, "--height");
			break;
		case OPT_FONTSIZE:
			o->font_size = (int)cli_long(optarg, 4, 100, "--fontsize");
			break;
		case OPT_NEGATE:
			o->negate = 1;
			break;
		case OPT_SELF:
			o->self_delta = 1;
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
	if (o->title == NULL)
		o->title = o->inverted ? "Icicle Graph" : "Flame Graph";
}

/* Returns -1 on a read error, else the number of malformed lines. */
static long
read_input(struct tree *t, int fd, const char *name, const struct svg_opts *o)
{
	struct lineread *lr = lr_open(fd, 16u << 20);
	long bad = 0;
	char *line;
	size_t len;

	for (;;) {
		enum lr_status st = lr_next(lr, &line, &len);
		const char *why = NULL;

		if (st == LR_EOF)
			break;
		if (st == LR_ERROR) {
			msg_warnerr("%s: read error", name);
			lr_close(lr);
			return -1;
		}
		if (st == LR_TOOLONG)
			why = "line longer than 16 MiB";
		else if (tree_add_line(t, line, len, o->reverse, &why) >= 0)
			continue;
		msg_warn("%s:%lu: %s; line skipped", name, lr_lineno(lr), why);
		bad++;
		if (o->strict)
			break;
	}
	lr_close(lr);
	return bad;
}

int
main(int argc, char **argv)
{
	struct svg_opts o = {
		.countname = "samples", .width = 1200, .minwidth = 0.1,
		.frame_height = 16, .font_size = 12, .palette = PAL_AUTO,
	};
	struct tree t;
	long bad = 0;
	int io_err = 0;
	static char obuf[1 << 16];

	msg_init(argv[0]);
	parse_args(argc, argv, &o);
	tree_init(&t);
	if (optind == argc) {
		long r = read_input(&t, 0, "stdin", &o);

		io_err |= r < 0;
		bad += r > 0 ? r : 0;
	}
	for (int i = optind; i < argc && !(o.strict && bad); i++) {
		int fd = strcmp(argv[i], "-") == 0 ? 0 : open(argv[i], O_RDONLY | O_CLOEXEC);
		long r;

		if (fd < 0) {
			msg_warnerr("%s", argv[i]);
			io_err = 1;
			continue;
		}
		r = read_input(&t, fd, argv[i], &o);
		io_err |= r < 0;
		bad += r > 0 ? r : 0;
		if (fd != 0)
			close(fd);
	}
	if (o.strict && bad) {
		tree_release(&t);
		return CD_EXIT_DATAERR;
	}
	tree_end(&t);
	if (t.saturated)
		msg_warn("a count passed 2^64-1 and was capped");
	if (t.v[0].total == 0)
		msg_warn("no stack counts found; the SVG says so");
	tree_sort(&t);
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if (svg_write(stdout, &t, &o) < 0 || fflush(stdout) == EOF) {
		if (errno != EPIPE)
			msg_warnerr("write error");
		tree_release(&t);
		return CD_EXIT_FAIL;
	}
	tree_release(&t);
	if (io_err)
		return CD_EXIT_FAIL;
	return bad ? CD_EXIT_DATAERR : CD_EXIT_OK;
}
