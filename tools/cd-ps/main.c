/*
 * cd-ps: find Claude Code processes and describe them as process records.
 */
#include <getopt.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdps.h"
#include "claude_match.h"
#include "color.h"
#include "exitcode.h"
#include "msg.h"
#include "record.h"
#include "redact.h"
#include "sigstop.h"
#include "units.h"

static const char usage[] =
"Usage: cd-ps [OPTIONS]\n"
"Find Claude Code processes and write one \"process\" record each, then meta.\n"
"\n"
"  -a, --all             every process, not only Claude Code\n"
"  -p, --pid PID         this process whatever its name (repeatable)\n"
"  -m, --match REGEX     also match processes whose name or argv[0] matches\n"
"  -i, --interval SECS   measure cpu_pct over SECS, as top does (default 0.5;\n"
"                        0 reports the lifetime average only)\n"
"  -t, --tree            nest each process's descendants (MCP servers, shells)\n"
"  -T, --table           a table for people instead of records\n"
"  -s, --sort KEY        cpu (default), rss or pid\n"
"  -n, --top N           only the first N after sorting\n"
"      --no-redact       show secrets in command lines\n"
"      --no-fds          do not count open files (fds: null), for a caller\n"
"                        that does not show them\n"
"      --stream          stay running: one batch of records, ending with its\n"
"                        meta record, for each line read on stdin (a number\n"
"                        on the line: that batch's --interval), until end of\n"
"                        input; processes already known are not rescanned\n"
"      --no-color        no colour in --table\n"
"      --help, --version\n"
"\n"
"Exit status: 0 ok (also when no Claude process runs), 2 usage,\n"
"3 a --pid that does not exist or /proc unreadable.\n";

enum { OPT_NO_REDACT = CLI_OPT_FIRST_TOOL, OPT_STREAM, OPT_NO_FDS };

static const struct option longopts[] = {
	{ "all", no_argument, NULL, 'a' },
	{ "pid", required_argument, NULL, 'p' },
	{ "match", required_argument, NULL, 'm' },
	{ "interval", required_argument, NULL, 'i' },
	{ "tree", no_argument, NULL, 't' },
	{ "table", no_argument, NULL, 'T' },
	{ "sort", required_argument, NULL, 's' },
	{ "top", required_argument, NULL, 'n' },
	{ "no-redact", no_argument, NULL, OPT_NO_REDACT },
	{ "stream", no_argument, NULL, OPT_STREAM },
	{ "no-fds", no_argument, NULL, OPT_NO_FDS },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static volatile sig_atomic_t stop;

static void
parse(int argc, char **argv, struct ps_opts *o, int *nocolor)
{
	int c;

	o->interval_s = 0.5;
	o->redact = 1;
	o->top = -1;
	while ((c = getopt_long(argc, argv, "ap:m:i:tTs:n:", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->all = 1;
			break;
		case 'p':
			pidlist_add(&o->pids, cli_pid(optarg));
			break;
		case 'm': {
			int err;

			o->match = xreallocarray(o->match, o->nmatch + 1,
			    sizeof(*o->match));
			err = regcomp(&o->match[o->nmatch], optarg,
			    REG_EXTENDED | REG_NOSUB);
			if (err) {
				char e[128];

				regerror(err, &o->match[o->nmatch], e, sizeof(e));
				cli_usage("--match: %s", e);
			}
			o->nmatch++;
			break;
		}
		case 'i':
			o->interval_s = cli_double(optarg, 0, 3600, "--interval");
			break;
		case 't':
			o->tree = 1;
			break;
		case 'T':
			o->table = 1;
			break;
		case 's': {
			static const char *const k[] = { [SORT_CPU] = "cpu", [SORT_RSS] = "rss",
				[SORT_PID] = "pid" };

			o->sort = cli_choice(optarg, "--sort", k, 3);
			break;
		}
		case 'n':
			o->top = cli_long(optarg, 1, 1000000, "--top");
			break;
		case OPT_NO_REDACT:
			o->redact = 0;
			break;
		case OPT_STREAM:
			o->stream = 1;
			break;
		case OPT_NO_FDS:
			procinfo_no_fds(1);
			break;
		case CLI_OPT_NO_COLOR:
			*nocolor = 1;
			break;
		case CLI_OPT_STRICT:
			break;
		default:
			cli_other(c, usage);
		}
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
	if (o->stream && o->table)
		cli_usage("--stream writes records, not --table");
}

/*
 * Claude Code 1.x on Node sets process.title to "claude", which blanks the
 * script's path out of argv. The shell that started it left the path it
 * ran in the environment as "_" (.../bin/claude, a link to cli.js).
 */
static char *
version_from_env(int pid)
{
	char path[64], *buf, *v = NULL;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	buf = xmalloc(65537);
	n = fread(buf, 1, 65536, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
		char *real, *at;

		if (strncmp(buf + i, "_=", 2) != 0)
			continue;
		/* A relative path is relative to the process's cwd. */
		at = buf[i + 2] == '/' ? xstrdup(buf + i + 2) :
		    xasprintf("/proc/%d/cwd/%s", pid, buf + i + 2);
		real = realpath(at, NULL);
		free(at);
		if (real)
			v = claude_version(real);
		free(real);
		break;
	}
	free(buf);
	return v;
}

static int
cmp_rows(const void *a, const void *b, void *arg)
{
	const struct row *x = *(struct row *const *)a, *y = *(struct row *const *)b;
	enum sort_key k = *(enum sort_key *)arg;

	if (k == SORT_RSS && x->p->rss_kb != y->p->rss_kb)
		return x->p->rss_kb < y->p->rss_kb ? 1 : -1;
	if (k == SORT_CPU && x->cpu_pct != y->cpu_pct)
		return x->cpu_pct < y->cpu_pct ? 1 : -1;
	return x->p->pid - y->p->pid;
}

/* process.title leaves empty arguments behind: no trailing blanks. */
static char *
trim_end(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == ' ')
		s[--n] = '\0';
	return s;
}

static char *
command_of(const struct procinfo *p, int redact)
{
	if (p->argc == 0)
		return xasprintf("[%s]", p->comm);
	if (redact)
		return trim_end(redact_argv(p->argv, p->argc));
	{
		size_t len = 1;
		char *s;

		for (size_t i = 0; i < p->argc; i++)
			len += strlen(p->argv[i]) + 1;
		s = xcalloc(len, 1);
		for (size_t i = 0; i < p->argc; i++) {
			if (i)
				strcat(s, " ");
			strcat(s, p->argv[i]);
		}
		return trim_end(s);
	}
}

/*
 * Reparented to init, or to a user manager acting as subreaper. A zombie
 * is not: it has ended, only its exit status waits to be collected.
 */
static int
orphaned(const struct proclist *pl, const struct procinfo *p)
{
	if (p->state == 'Z')
		return 0;
	if (p->ppid == 1)
		return 1;
	for (size_t i = 0; i < pl->n; i++)
		if (pl->v[i].pid == p->ppid)
			return strcmp(pl->v[i].comm, "systemd") == 0 ||
			    strcmp(pl->v[i].comm, "init") == 0;
	return 0;
}

/* What a row says of its process beyond the numbers. */
static void
describe_row(const struct ps_opts *o, const struct proclist *pl, struct row *r)
{
	const struct procinfo *p = r->p;

	r->kind = select_kind(p);
	r->orphaned = orphaned(pl, p);
	r->command = command_of(p, o->redact);
	r->version = r->kind ? claude_version(claude_install_path(
	    &(struct match_input){ p->comm, p->exe, p->argv, p->argc },
	    r->kind)) : NULL;
	if (r->version == NULL && r->kind == CLAUDE_NODE)
		r->version = version_from_env(p->pid);
	r->project = claude_project(p->argv, p->argc, p->cwd);
	if (o->redact && r->project != NULL) {
		/* taken from a prompt, which can hold anything */
		char *x = redact_str(r->project);

		free(r->project);
		r->project = x;
	}
}

/* The full fields of each process a row reports; gone ones marked. */
static size_t
fill_rows(const struct ps_opts *o, struct proclist *pl, struct row *rows,
    uint64_t t0, uint64_t t1)
{
	long hz = procinfo_hertz();
	double mem_total = 0;
	struct sysmem sm;
	size_t ngone = 0;
	unsigned long long *first = xcalloc(pl->n + 1, sizeof(*first));

	if (sysmem_read(&sm) == 0)
		mem_total = (double)sm.total_kb;
	for (size_t i = 0; i < pl->n; i++)
		first[i] = pl->v[i].ticks;
	if (o->interval_s > 0)
		procinfo_ticks(pl->v, pl->n);	/* one pass, not one a row */
	for (size_t i = 0; i < pl->n; i++) {
		struct row *r = &rows[i];
		struct procinfo *p = &pl->v[i];
		unsigned long long before = first[i];

		r->p = p;
		if (!p->full)
			continue;
		if (o->interval_s > 0) {
			if (p->state == 'X') {
				r->gone = 1;
				ngone++;
				continue;
			}
			r->cpu_pct = (double)(p->ticks - before) / (double)hz /
			    ((double)(t1 - t0) / 1e9) * 100;
		}
		if (p->elapsed_s > 0)
			r->cpu_life_pct = (double)before / (double)hz /
			    p->elapsed_s * 100;
		if (o->interval_s == 0)
			r->cpu_pct = r->cpu_life_pct;
		/* A counter: a watcher's deltas give CPU% with no second read. */
		r->cpu_time_s = (double)p->ticks / (double)hz;
		if (mem_total > 0)
			r->mem_pct = (double)p->rss_kb / mem_total * 100;
		describe_row(o, pl, r);
	}
	free(first);
	return ngone;
}

/* Build the tree: each descendant under its parent. */
static void
link_tree(struct proclist *pl, struct row *rows, const int *want)
{
	for (size_t i = 0; i < pl->n; i++) {
		if (want[i] != 2 || rows[i].gone || !pl->v[i].full)
			continue;
		for (size_t j = 0; j < pl->n; j++) {
			struct row *par = &rows[j];

			if (!want[j] || par->gone || pl->v[j].pid != pl->v[i].ppid)
				continue;
			par->children = xreallocarray(par->children,
			    par->nchildren + 1, sizeof(*par->children));
			par->children[par->nchildren++] = &rows[i];
			rows[i].is_child = 1;
			break;
		}
	}
}

/*
 * want[i]: 1 a process matched, 2 (--tree) a descendant only, 0 neither.
 * With --tree the descendants' full fields are read here.
 */
static int *
wanted(const struct ps_opts *o, struct proclist *pl)
{
	int *want = xcalloc(pl->n + 1, sizeof(*want));
	int *top_want;

	for (size_t i = 0; i < pl->n; i++)
		want[i] = pl->v[i].full;
	if (!o->tree)
		return want;
	top_want = xcalloc(pl->n + 1, sizeof(*top_want));
	memcpy(top_want, want, pl->n * sizeof(*want));
	select_tree(pl, want);
	for (size_t i = 0; i < pl->n; i++)
		pl->v[i].full = want[i];
	procinfo_fill(pl->v, pl->n);
	for (size_t i = 0; i < pl->n; i++)
		want[i] = top_want[i] ? 1 : (want[i] ? 2 : 0);
	free(top_want);
	return want;
}

static int
check_pids(const struct ps_opts *o, const struct proclist *pl)
{
	int rc = CD_EXIT_OK;

	for (size_t i = 0; i < o->pids.n; i++) {
		int found = 0;

		for (size_t k = 0; k < pl->n; k++)
			if (pl->v[k].pid == o->pids.v[i] && pl->v[k].full)
				found = 1;
		if (!found) {
			msg_warn("no process with pid %d", o->pids.v[i]);
			rc = CD_EXIT_FAIL;
		}
	}
	return rc;
}

/*
 * read_mono_s: when the CPU counters were read (CLOCK_MONOTONIC), so a
 * watcher takes deltas over the time between two reads, not between two
 * arrivals: on a loaded machine those differ, and a 20% process read 0.1 s
 * apart but received 0.5 s apart looked like 290%.
 */
static void
emit_meta(const struct ps_opts *o, const struct proclist *pl,
    const struct row *rows, size_t ntop, size_t ngone, uint64_t tstart,
    uint64_t tread, const struct pscache *c)
{
	cJSON *meta = rec_meta_new("cd-ps"), *gone_arr;

	rec_add_str(meta, "backend", "libproc2");
	rec_add_num(meta, "processes_scanned", (double)pl->scanned);
	rec_add_num(meta, "matched", (double)ntop);
	rec_add_num(meta, "interval_s", o->interval_s);
	rec_add_num(meta, "duration_s", (double)(now_mono_ns() - tstart) / 1e9);
	rec_add_num(meta, "read_mono_s", (double)tread / 1e9);
	rec_add_num(meta, "exited_during_interval", (double)ngone);
	gone_arr = cJSON_AddArrayToObject(meta, "exited_pids");
	for (size_t i = 0; gone_arr && i < pl->n; i++)
		if (rows[i].gone)
			cJSON_AddItemToArray(gone_arr,
			    cJSON_CreateNumber(pl->v[i].pid));
	rec_add_bool(meta, "redacted", o->redact);
	if (c)
		stream_meta(c, meta);
	rec_emit_free(meta);
	if (rec_flush() < 0)
		msg_dieerr(CD_EXIT_FAIL, "write");
}

static void
write_out(const struct ps_opts *o, const struct proclist *pl, struct row *rows,
    size_t ngone, uint64_t tstart, uint64_t tread, const struct pscache *c)
{
	struct row **top = xcalloc(pl->n + 1, sizeof(*top));
	size_t ntop = 0;

	for (size_t i = 0; i < pl->n; i++)
		if (pl->v[i].full && !rows[i].gone && !rows[i].is_child &&
		    (!o->tree || rows[i].want == 1))
			top[ntop++] = &rows[i];
	qsort_r(top, ntop, sizeof(*top), cmp_rows, (void *)&o->sort);
	if (o->top > 0 && (size_t)o->top < ntop)
		ntop = (size_t)o->top;
	if (o->table) {
		if (ntop == 0 && o->pids.n == 0)
			printf("No Claude Code processes found.\n");
		else
			table_print(top, ntop);
		if (fflush(stdout) == EOF || ferror(stdout))
			msg_dieerr(CD_EXIT_FAIL, "cannot write the output");
	} else {
		emit_rows(top, ntop);
		emit_meta(o, pl, rows, ntop, ngone, tstart, tread, c);
	}
	free(top);
}

static int
report_gone(const struct ps_opts *o, const struct proclist *pl,
    const struct row *rows)
{
	int rc = CD_EXIT_OK;

	for (size_t i = 0; i < o->pids.n; i++)
		for (size_t k = 0; k < pl->n; k++)
			if (pl->v[k].pid == o->pids.v[i] && rows[k].gone) {
				msg_warn("pid %d exited during the measurement",
				    o->pids.v[i]);
				rc = CD_EXIT_FAIL;
			}
	return rc;
}

static void
rows_free(struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].command);
		free(rows[i].version);
		free(rows[i].project);
		free(rows[i].children);
	}
	free(rows);
}

/* One set of records (or one table) from processes already scanned. */
static int
report(const struct ps_opts *o, struct proclist *pl, uint64_t tstart,
    const struct pscache *c)
{
	int *want = wanted(o, pl);
	int rc = check_pids(o, pl), rc2;
	struct row *rows = xcalloc(pl->n + 1, sizeof(*rows));
	uint64_t t0, t1;
	size_t ngone;

	t0 = now_mono_ns();
	if (o->interval_s > 0)
		sleep_ns((uint64_t)(o->interval_s * 1e9), &stop);
	t1 = now_mono_ns();
	ngone = fill_rows(o, pl, rows, t0, t1);
	for (size_t i = 0; i < pl->n; i++)
		rows[i].want = want[i];
	if (o->tree)
		link_tree(pl, rows, want);
	/* the counters were read by the scan, or again after the interval */
	write_out(o, pl, rows, ngone, tstart, o->interval_s > 0 ? t1 : t0, c);
	rc2 = report_gone(o, pl, rows);
	rows_free(rows, pl->n);
	free(want);
	return rc != CD_EXIT_OK ? rc : rc2;
}

/*
 * One scan and its report: the whole run, or one --stream batch. Returns
 * the exit status, or -1 when the processes could not be scanned.
 */
int
ps_batch(struct ps_opts *o, struct pscache *c)
{
	struct proclist pl;
	uint64_t tstart = now_mono_ns();
	int rc;

	if ((c ? stream_gather(c, o, &pl) :
	    procinfo_scan(&pl, select_keep, o, o->tree)) < 0)
		return -1;
	rc = report(o, &pl, tstart, c);
	proclist_release(&pl);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ps_opts o = { 0 };
	int nocolor = 0, rc;

	msg_init(argv[0]);
	parse(argc, argv, &o, &nocolor);
	color_init(1, nocolor);
	/* No SA_RESTART: Ctrl-C must end --stream's wait for a request. */
	sigstop_catch(&stop, 0);
	rc = o.stream ? stream_run(&o, &stop) : ps_batch(&o, NULL);
	if (rc < 0)
		rc = CD_EXIT_FAIL;
	for (size_t i = 0; i < o.nmatch; i++)
		regfree(&o.match[i]);
	free(o.match);
	pidlist_release(&o.pids);
	return rc;
}
