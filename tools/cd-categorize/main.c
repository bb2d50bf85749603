/*
 * cd-categorize: add "category" (file, network, memory, process, event,
 * time, ipc, other) to syscall and syscall_summary records; pass every
 * other record through unchanged and in order.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exitcode.h"
#include "msg.h"
#include "record.h"
#include "syscall_category.h"

static const char usage[] =
"usage: cd-categorize [--map FILE] [--only LIST] < records\n"
"Add \"category\" to syscall and syscall_summary records by the syscall\n"
"name; every other record passes through unchanged.\n"
"\n"
"  -m, --map FILE   use FILE's table instead of the built-in one\n"
"                   (lines 'NAME CATEGORY', # comments)\n"
"  -o, --only LIST  keep only syscall and syscall_summary records whose\n"
"                   category is in LIST (comma-separated)\n"
"      --strict     stop at the first malformed input line\n"
"      --help, --version\n"
"Built-in categories: file network memory process event time ipc other\n";

static const struct option longopts[] = {
	{ "map", required_argument, NULL, 'm' },
	{ "only", required_argument, NULL, 'o' },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

struct only {
	char **v;
	size_t n;
};

static void
only_parse(struct only *o, const char *list, int custom_map)
{
	char *copy = xstrdup(list), *save, *tok;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!custom_map && !syscall_category_known(tok))
			cli_usage("--only: '%s' is not a category (file, network, "
			    "memory, process, event, time, ipc, other)", tok);
		o->v = xreallocarray(o->v, o->n + 1, sizeof(*o->v));
		o->v[o->n++] = xstrdup(tok);
	}
	free(copy);
	if (o->n == 0)
		cli_usage("--only: empty list");
}

static int
only_has(const struct only *o, const char *cat)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->v[i], cat) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	const char *map_path = NULL, *only_list = NULL;
	struct sc_map *map = NULL;
	struct only only = { NULL, 0 };
	struct rec_reader *r;
	enum rec_status st;
	cJSON *obj;
	int c, strict = 0, code = CD_EXIT_OK;

	msg_init(argv[0]);
	rec_out_init(1);
	while ((c = getopt_long(argc, argv, "m:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': map_path = optarg; break;
		case 'o': only_list = optarg; break;
		case CLI_OPT_NO_COLOR: break;
		case CLI_OPT_STRICT: strict = 1; break;
		default: cli_other(c, usage);
		}
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
	if (map_path != NULL) {
		unsigned long bad;

		map = sc_map_load(map_path, stderr, &bad);
		if (map == NULL)
			msg_dieerr(CD_EXIT_FAIL, "%s", map_path);
		if (bad > 0) {
			sc_map_free(map);
			msg_die(CD_EXIT_USAGE, "%s: %lu bad line%s", map_path,
			    bad, bad == 1 ? "" : "s");
		}
	}
	if (only_list != NULL)
		only_parse(&only, only_list, map != NULL);

	r = rec_reader_open(0, "stdin");
	rec_reader_strict(r, strict);
	while ((st = rec_next(r, &obj)) == REC_OK) {
		size_t len;
		const char *raw = rec_raw(r, &len);
		const char *name, *cat;

		if (!rec_is(obj, "syscall") && !rec_is(obj, "syscall_summary")) {
			rec_emit_raw(raw, len);
			cJSON_Delete(obj);
			continue;
		}
		name = rec_get_str(obj, "name");
		cat = map ? sc_map_lookup(map, name) : syscall_category(name);
		if (only.n > 0 && !only_has(&only, cat)) {
			cJSON_Delete(obj);
			continue;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "category");
		rec_add_str(obj, "category", cat);
		if (rec_emit_free(obj) != 0)
			break;
	}
	if (st == REC_ERROR) {
		msg_warnerr("reading stdin");
		code = CD_EXIT_FAIL;
	} else if (st == REC_BAD || rec_bad_lines(r) > 0) {
		code = CD_EXIT_DATAERR;
	}
	rec_reader_close(r);
	if (rec_close() != 0)
		code = CD_EXIT_FAIL;
	sc_map_free(map);
	for (size_t i = 0; i < only.n; i++)
		free(only.v[i]);
	free(only.v);
	return code;
}
