/*
 * cd-ps --stream: one batch of records per request line, for a watcher
 * (claude-trace -w) that would otherwise start cd-ps, and rescan all of
 * /proc, every frame. A batch lists /proc (one readdir) and reads only:
 * the processes it reports (what changes of them, once their full fields
 * are known), pids it has not seen, and pids seen once before (a fork is
 * still its parent's program until it execs). Every RESCAN_S it reads
 * everything again, as a one-shot run does, which catches a process that
 * exec'd into Claude Code later.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdps.h"
#include "exitcode.h"
#include "msg.h"
#include "record.h"
#include "units.h"

#define RESCAN_S 10

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
copy_proc(struct procinfo *dst, const struct procinfo *src)
{
	*dst = *src;
	dst->exe = dup_or_null(src->exe);
	dst->cwd = dup_or_null(src->cwd);
	dst->argv = xcalloc(src->argc + 1, sizeof(char *));
	for (size_t i = 0; i < src->argc; i++)
		dst->argv[i] = xstrdup(src->argv[i]);
}

static void
cache_clear(struct pscache *c)
{
	for (size_t i = 0; i < c->n; i++)
		procinfo_clear(&c->p[i]);
	free(c->p);
	free(c->k);
	c->p = NULL;
	c->k = NULL;
	c->n = 0;
}

static long
cache_find(const struct pscache *c, int pid)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->p[mid].pid == pid)
			return (long)mid;
		if (c->p[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int
cmp_pid(const void *a, const void *b)
{
	int x = ((const struct procinfo *)a)->pid;
	int y = ((const struct procinfo *)b)->pid;

	return (x > y) - (x < y);
}

/* Keep only the processes a one-shot run would report (no --tree). */
static void
only_kept(struct proclist *pl)
{
	size_t kept = 0;

	for (size_t i = 0; i < pl->n; i++) {
		if (pl->v[i].full)
			pl->v[kept++] = pl->v[i];
		else
			procinfo_clear(&pl->v[i]);
	}
	pl->n = kept;
}

/* A full scan: the one-shot's, remembered whole. */
static int
full_scan(struct pscache *c, const struct ps_opts *o, struct proclist *pl)
{
	if (procinfo_scan(pl, select_keep, (void *)o, 1) < 0)
		return -1;
	qsort(pl->v, pl->n, sizeof(*pl->v), cmp_pid);	/* for cache_find */
	cache_clear(c);
	c->p = xcalloc(pl->n + 1, sizeof(*c->p));
	c->k = xcalloc(pl->n + 1, sizeof(*c->k));
	for (size_t i = 0; i < pl->n; i++) {
		copy_proc(&c->p[i], &pl->v[i]);
		c->k[i].keep = c->k[i].filled = pl->v[i].full;
	}
	c->n = pl->n;
	if (!o->tree)
		only_kept(pl);
	c->full = 1;
	c->fresh = pl->scanned;
	c->full_t = now_mono_ns();
	return 0;
}

/*
 * The cache made to hold exactly the pids now in /proc: known ones kept,
 * gone ones dropped, new ones added with recheck set. Returns the pids to
 * read (new, or still to recheck); caller frees.
 */
static int *
cache_merge(struct pscache *c, const int *pids, size_t n, size_t *nread)
{
	struct procinfo *p = xcalloc(n + 1, sizeof(*p));
	struct known *k = xcalloc(n + 1, sizeof(*k));
	int *read = xcalloc(n + 1, sizeof(*read));
	size_t j = 0;

	*nread = 0;
	for (size_t i = 0; i < n; i++) {
		while (j < c->n && c->p[j].pid < pids[i])
			procinfo_clear(&c->p[j++]);
		if (j < c->n && c->p[j].pid == pids[i]) {
			p[i] = c->p[j];
			k[i] = c->k[j++];
		} else {
			p[i].pid = pids[i];
			k[i].recheck = 2;
		}
		if (k[i].recheck > 0) {
			k[i].recheck--;
			read[(*nread)++] = pids[i];
		}
	}
	while (j < c->n)
		procinfo_clear(&c->p[j++]);
	free(c->p);
	free(c->k);
	c->p = p;
	c->k = k;
	c->n = n;
	return read;
}

/* Read the cheap fields of these pids again and decide on each anew. */
static int
recheck(struct pscache *c, const struct ps_opts *o, const int *pids, size_t n)
{
	struct proclist got;

	for (size_t i = 0; i < n; i++) {
		long at = cache_find(c, pids[i]);

		/* Unread until it answers: gone ones stay out. */
		if (at >= 0)
			c->k[at].keep = c->k[at].filled = 0;
	}
	if (procinfo_cheap(&got, pids, n) < 0)
		return -1;
	for (size_t i = 0; i < got.n; i++) {
		long at = cache_find(c, got.v[i].pid);

		if (at < 0)
			continue;
		procinfo_clear(&c->p[at]);
		c->p[at] = got.v[i];
		memset(&got.v[i], 0, sizeof(got.v[i]));
		c->k[at].keep = select_keep(&c->p[at], (void *)o);
	}
	proclist_release(&got);
	return 0;
}

/*
 * The full fields of the kept: what moves of those read before, all of
 * the others. Those gone (or whose pid was reused) are no longer kept.
 */
static void
read_kept(struct pscache *c)
{
	int *ok = xcalloc(c->n + 1, sizeof(*ok));

	for (size_t i = 0; i < c->n; i++)
		c->p[i].full = c->k[i].keep && c->k[i].filled;
	procinfo_refresh(c->p, c->n);
	for (size_t i = 0; i < c->n; i++) {
		ok[i] = c->p[i].full;
		c->p[i].full = c->k[i].keep && !c->k[i].filled;
	}
	procinfo_fill(c->p, c->n);
	for (size_t i = 0; i < c->n; i++) {
		c->p[i].full = ok[i] || c->p[i].full;
		c->k[i].filled = c->p[i].full;
		/* A replaced pid: find out what it is next batch. */
		if (c->k[i].keep && !c->p[i].full)
			c->k[i].recheck = 1;
	}
	free(ok);
}

/* What a batch reports: the kept (all with --tree), as procinfo_scan. */
static void
from_cache(const struct pscache *c, const struct ps_opts *o, struct proclist *pl,
    size_t scanned)
{
	memset(pl, 0, sizeof(*pl));
	pl->v = xcalloc(c->n + 1, sizeof(*pl->v));
	pl->scanned = scanned;
	for (size_t i = 0; i < c->n; i++) {
		if (!c->p[i].full && !o->tree)
			continue;
		copy_proc(&pl->v[pl->n++], &c->p[i]);
	}
}

int
stream_gather(struct pscache *c, const struct ps_opts *o, struct proclist *pl)
{
	int *pids, *toread;
	size_t n, nread;
	int rc;

	c->batches++;
	c->full = 0;
	if (c->full_t == 0 ||
	    now_mono_ns() - c->full_t >= RESCAN_S * 1000000000ULL)
		return full_scan(c, o, pl);
	if (procinfo_pids(&pids, &n) < 0)
		return -1;
	toread = cache_merge(c, pids, n, &nread);
	free(pids);
	c->fresh = nread;
	rc = recheck(c, o, toread, nread);
	free(toread);
	if (rc < 0)
		return -1;
	read_kept(c);
	from_cache(c, o, pl, n);
	return 0;
}

void
stream_meta(const struct pscache *c, cJSON *meta)
{
	rec_add_num(meta, "batch", (double)c->batches);
	rec_add_bool(meta, "full_scan", c->full);
	rec_add_num(meta, "processes_read", (double)c->fresh);
}

/* A request line: empty for --interval, or this batch's interval. */
static int
request_interval(const char *line, double dflt, double *out)
{
	char *end;
	double v;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\n' || *line == '\0') {
		*out = dflt;
		return 0;
	}
	errno = 0;
	v = strtod(line, &end);
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	if (errno || *end != '\0' || !(v >= 0 && v <= 3600))
		return -1;
	*out = v;
	return 0;
}

int
stream_run(struct ps_opts *o, volatile int *stop)
{
	struct pscache c = { 0 };
	double dflt = o->interval_s;
	char *line = NULL;
	size_t cap = 0;
	int rc = CD_EXIT_OK;

	while (!*stop && getline(&line, &cap, stdin) >= 0) {
		if (request_interval(line, dflt, &o->interval_s) < 0) {
			msg_warn("--stream: a request is an empty line or an "
			    "interval from 0 to 3600 seconds");
			continue;
		}
		/* A missing --pid is this batch's warning, not the end;
		 * without /proc there is no batch to write: end. */
		if (ps_batch(o, &c) < 0) {
			rc = CD_EXIT_FAIL;
			break;
		}
	}
	if (ferror(stdin) && !*stop) {
		msg_warnerr("stdin");
		rc = CD_EXIT_FAIL;
	}
	free(line);
	cache_clear(&c);
	return rc;
}
