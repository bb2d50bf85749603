/*
 * Finished calls: the filters, the syscall records, and the aggregates
 * behind --summary and the diagnoses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnosis.h"
#include "hashmap.h"
#include "msg.h"
#include "record.h"
#include "syscall_names.h"
#include "trace.h"

#define NERR 4
#define NHIST 32		/* log2 buckets of ns, as the BPF programs keep */
#define NBY 8			/* syscalls told apart per file or address */

/* Per pid and syscall: --summary rows, and the latency finding. */
struct sagg {
	int pid;
	long nr;
	uint64_t count, errors, total_ns, max_ns;
	uint64_t measured, measured_ns;	/* calls that do not block by design */
	int err[NERR];
	uint64_t errn[NERR];
	uint64_t hist[NHIST];		/* latency, log2 buckets of ns */
};

/* Per pid and path or address: the I/O and network activity. */
struct kagg {
	int pid;
	int net;
	char *key;			/* path, or address */
	const char *family;
	int port;
	uint64_t calls, errors, enoent, eacces;
	uint64_t bytes_in, bytes_out;
	uint64_t connects, connect_failed, dns;
	struct { long nr; uint64_t n; } by[NBY];	/* calls by syscall */
};

/* Per pid: what the rate-based diagnoses need, over every call. */
struct pagg {
	int pid;
	uint64_t calls, spin, metadata, io_errors, connect_failed, dns;
};

/* Keyed by (pid, syscall), by (pid, net, path or address) and by pid. */
struct out_tables {
	struct hmap stab;		/* struct sagg: --summary, what the filters keep */
	struct hmap ktab;		/* struct kagg: --summary's io and net rows */
	struct hmap dtab;		/* struct kagg: diagnosis view, every call */
	struct hmap ptab;		/* struct pagg: the rates of the diagnoses */
	struct hmap dstab;		/* struct sagg: diagnosis view of latency */
};

static struct sagg *
sagg_get(struct hmap *tab, int pid, long nr)
{
	struct { long nr; int pid, pad; } key = { nr, pid, 0 };
	void **slot = hmap_insert(tab, &key, sizeof(key), NULL);
	struct sagg *s = *slot;

	if (s == NULL) {
		*slot = s = xcalloc(1, sizeof(*s));
		s->pid = pid;
		s->nr = nr;
	}
	return s;
}

/* Its key: pid, net, then the path or address, NUL and all. */
static struct kagg *
kagg_get(struct hmap *tab, int pid, int net, const char *key)
{
	size_t len = strlen(key) + 1;
	char stack[256], *kb = len + 8 <= sizeof(stack) ? stack : xmalloc(len + 8);
	void **slot;
	struct kagg *k;

	memcpy(kb, &pid, 4);
	memcpy(kb + 4, &net, 4);
	memcpy(kb + 8, key, len);
	slot = hmap_insert(tab, kb, len + 8, NULL);
	if (kb != stack)
		free(kb);
	if ((k = *slot) == NULL) {
		*slot = k = xcalloc(1, sizeof(*k));
		k->pid = pid;
		k->net = net;
		k->key = xstrdup(key);
		k->port = -1;
	}
	return k;
}

static struct pagg *
pagg_get(struct trace *tr, int pid)
{
	void **slot = hmap_insert(&tr->out->ptab, &pid, sizeof(pid), NULL);
	struct pagg *p = *slot;

	if (p == NULL) {
		*slot = p = xcalloc(1, sizeof(*p));
		p->pid = pid;
	}
	return p;
}

static int
call_errno(const struct call *c)
{
	return c->ret < 0 && c->ret >= -4095 ? (int)-c->ret : 0;
}

static int
passes(struct trace *tr, const struct call *c)
{
	int e = call_errno(c);

	if ((tr->opt.io || tr->opt.network) &&
	    !((tr->opt.io && call_is_io(tr, c->nr)) || (tr->opt.network && call_is_net(tr, c->nr))))
		return 0;
	if (tr->opt.failures && e == 0)
		return 0;
	if (tr->opt.errno_filter && e != tr->opt.errno_filter)
		return 0;
	return 1;
}

/* The file or address a call acted on, as decoded or from the fd table. */
static const char *
call_target(struct trace *tr, const struct call *c, char **owned, int *is_net, int *port,
    const char **family)
{
	int fdarg = call_fd_arg(tr, c->nr);

	*owned = NULL;
	*is_net = call_is_net(tr, c->nr);
	*port = -1;
	*family = NULL;
	/* fstat is newfstatat(fd, "", AT_EMPTY_PATH): it names its fd */
	if (c->path != NULL && c->path[0] == '\0' && call_path_arg(tr, c->nr) == 1 &&
	    (long)c->args[0] >= 0)
		return fd_describe(tr, c->pid, (int)c->args[0]);
	if (c->path != NULL)
		return c->path;
	if (c->salen > 0) {
		*owned = sockaddr_str(&c->sa, c->salen, port, family);
		return *owned;
	}
	if (fdarg >= 0 && (long)c->args[fdarg] >= 0)
		return fd_describe(tr, c->pid, (int)c->args[fdarg]);
	return NULL;
}

static void
agg_errno_n(struct sagg *s, int e, uint64_t n)
{
	for (int i = 0; i < NERR; i++) {
		if (s->err[i] == e || s->err[i] == 0) {
			s->err[i] = e;
			s->errn[i] += n;
			return;
		}
	}
}

static void
agg_errno(struct sagg *s, int e)
{
	agg_errno_n(s, e, 1);
}

static int
log2_bucket(uint64_t v)
{
	int b = 0;

	while (v > 1 && b < NHIST - 1) {
		v >>= 1;
		b++;
	}
	return b;
}

static void
agg_latency(struct trace *tr, struct sagg *s, const struct call *c, int e)
{
	s->hist[log2_bucket(c->dur_ns)]++;
	s->count++;
	s->total_ns += c->dur_ns;
	if (c->dur_ns > s->max_ns)
		s->max_ns = c->dur_ns;
	if (e) {
		s->errors++;
		agg_errno(s, e);
	}
	if (!call_blocks_by_design(tr, c)) {
		s->measured++;
		s->measured_ns += c->dur_ns;
	}
}

static void
agg_target_n(struct trace *tr, struct hmap *tab, int pid, long nr, const char *target,
    int is_net, int port, const char *family, int e, uint64_t n,
    uint64_t bytes, uint64_t dns)
{
	struct kagg *k = kagg_get(tab, pid, is_net, target);
	int dir = call_bytes_dir(tr, nr);
	const char *name = syscall_name(nr);

	k->calls += n;
	for (int i = 0; i < NBY; i++) {
		if (k->by[i].n == 0 || k->by[i].nr == nr) {
			k->by[i].nr = nr;
			k->by[i].n += n;
			break;
		}
	}
	if (family)
		k->family = family;
	if (port >= 0)
		k->port = port;
	if (e) {
		k->errors += n;
		if (e == ENOENT)
			k->enoent += n;
		if (e == EACCES || e == EPERM)
			k->eacces += n;
	}
	if (dir > 0)
		k->bytes_in += bytes;
	if (dir < 0)
		k->bytes_out += bytes;
	if (name && strcmp(name, "connect") == 0) {
		k->connects += n;
		if (e && e != EINPROGRESS)
			k->connect_failed += n;
	}
	k->dns += dns;
}

static void
agg_target(struct trace *tr, struct hmap *tab, const struct call *c, const char *target,
    int is_net, int port, const char *family, int e)
{
	agg_target_n(tr, tab, c->pid, c->nr, target, is_net, port, family, e, 1,
	    c->ret > 0 ? (uint64_t)c->ret : 0, (uint64_t)call_is_dns(c));
}

/* Every call feeds the diagnoses, whatever the filters keep. */
static void
agg_diagnose(struct trace *tr, const struct call *c, const char *target, int is_net, int port,
    const char *family, int e)
{
	struct pagg *p = pagg_get(tr, c->pid);
	const char *name = syscall_name(c->nr);

	p->calls++;
	/* Returned nothing and did not wait: a poll with a zero timeout. */
	if (call_is_poll(tr, c->nr) && c->ret == 0 && c->dur_ns < 1000000)
		p->spin++;
	if (call_is_metadata(tr, c->nr))
		p->metadata++;
	if (e && call_is_io(tr, c->nr) && (e == ENOENT || e == EACCES || e == EPERM))
		p->io_errors++;
	if (name && strcmp(name, "connect") == 0 && e && e != EINPROGRESS)
		p->connect_failed++;
	if (call_is_dns(c))
		p->dns++;
	agg_latency(tr, sagg_get(&tr->out->dstab, c->pid, c->nr), c, e);
	if (target != NULL)
		agg_target(tr, &tr->out->dtab, c, target, is_net, port, family, e);
}

static void
emit_call(struct trace *tr, const struct call *c, const char *target, int is_net, int port,
    const char *family, int e)
{
	cJSON *r = rec_new("syscall");
	const char *name = syscall_name(c->nr);
	struct thr *t = thr_find(tr, c->tid);
	int fdarg = call_fd_arg(tr, c->nr);
	int dir = call_bytes_dir(tr, c->nr);
	char fbuf[256];

	rec_add_num(r, "pid", c->pid);
	rec_add_num(r, "tid", c->tid);
	rec_add_str(r, "comm", proc_comm(tr, c->pid));
	rec_add_str(r, "thread", t ? t->comm : "");
	if (name)
		rec_add_str(r, "name", name);
	else {
		snprintf(fbuf, sizeof(fbuf), "syscall_%ld", c->nr);
		rec_add_str(r, "name", fbuf);
	}
	rec_add_num(r, "nr", (double)c->nr);
	rec_add_num(r, "ret", (double)c->ret);
	if (e)
		rec_add_str(r, "errno", errno_name(e) ? errno_name(e) : "E?");
	rec_add_num(r, "dur_ns", (double)c->dur_ns);
	rec_add_num(r, "ts_ns", (double)c->ts_ns);
	if (fdarg >= 0)
		rec_add_num(r, "fd", (double)(int)c->args[fdarg]);
	else if (call_path_arg(tr, c->nr) >= 0 && !e && c->ret >= 0 &&
	    (strcmp(name ? name : "", "openat") == 0 ||
	    strcmp(name ? name : "", "open") == 0 ||
	    strcmp(name ? name : "", "creat") == 0 ||
	    strcmp(name ? name : "", "openat2") == 0))
		rec_add_num(r, "fd", (double)c->ret);
	if (is_net) {
		if (family)
			rec_add_str(r, "family", family);
		if (target)
			rec_add_str(r, "addr", target);
		if (port >= 0)
			rec_add_num(r, "port", port);
	} else if (target) {
		rec_add_str(r, "path", target);
	}
	if (c->path_unreadable)
		rec_add_bool(r, "path_unreadable", 1);
	if (name && (strcmp(name, "openat") == 0 || strcmp(name, "open") == 0))
		rec_add_str(r, "flags", open_flags_str(
		    c->args[strcmp(name, "openat") == 0 ? 2 : 1], fbuf, sizeof(fbuf)));
	if (dir != 0 && c->ret >= 0)
		rec_add_num(r, "bytes", (double)c->ret);
	if (name && strcmp(name, "socket") == 0)
		rec_add_str(r, "family", c->args[0] == 2 ? "inet" :
		    c->args[0] == 10 ? "inet6" : c->args[0] == 1 ? "unix" :
		    c->args[0] == 16 ? "netlink" : "other");
	if (c->nstack > 0) {
		const char *names[MAX_STACK];
		int n = stack_names(tr, c->pid, c->stack, c->nstack, names, MAX_STACK);
		cJSON *st = cJSON_AddArrayToObject(r, "stack");

		for (int i = 0; i < n; i++)
			cJSON_AddItemToArray(st, cJSON_CreateString(names[i]));
	}
	rec_emit_free(r);
}

void
out_init(struct trace *tr)
{
	tr->out = xcalloc(1, sizeof(*tr->out));
}

void
out_call(struct trace *tr, const struct call *c)
{
	int e = call_errno(c), is_net, port;
	const char *family;
	char *owned;
	const char *target = call_target(tr, c, &owned, &is_net, &port, &family);

	agg_diagnose(tr, c, target, is_net, port, family, e);
	if (passes(tr, c)) {
		if (tr->opt.summary) {
			agg_latency(tr, sagg_get(&tr->out->stab, c->pid, c->nr), c, e);
			if (target != NULL &&
			    (call_is_io(tr, c->nr) || call_is_net(tr, c->nr)))
				agg_target(tr, &tr->out->ktab, c, target, is_net, port,
				    family, e);
		} else {
			emit_call(tr, c, target, is_net, port, family, e);
		}
	}
	free(owned);
}

/* ---- the BPF method: counts from the kernel, names from user space ---- */

static int
passes_nr(const struct trace *tr, long nr, int e)
{
	if ((tr->opt.io || tr->opt.network) &&
	    !((tr->opt.io && call_is_io(tr, nr)) || (tr->opt.network && call_is_net(tr, nr))))
		return 0;
	if (tr->opt.failures && e == 0)
		return 0;
	if (tr->opt.errno_filter && e != tr->opt.errno_filter)
		return 0;
	return 1;
}

/* A ring record: its own record, and the paths and addresses it names. */
void
out_call_bpf(struct trace *tr, const struct call *c, int keep, int targeted)
{
	int e = call_errno(c), is_net, port;
	const char *family;
	char *owned;
	const char *target = call_target(tr, c, &owned, &is_net, &port, &family);

	if (call_is_dns(c))
		pagg_get(tr, c->pid)->dns++;
	if (targeted && target != NULL)
		agg_target(tr, &tr->out->dtab, c, target, is_net, port, family, e);
	if (tr->opt.summary) {
		if (targeted && target != NULL && passes(tr, c) &&
		    (call_is_io(tr, c->nr) || call_is_net(tr, c->nr)))
			agg_target(tr, &tr->out->ktab, c, target, is_net, port, family, e);
	} else if (keep && passes(tr, c)) {
		emit_call(tr, c, target, is_net, port, family, e);
	}
	free(owned);
}

static void
sagg_add(struct sagg *s, int e, uint64_t count, uint64_t total_ns,
    uint64_t max_ns, uint64_t measured, const uint64_t *hist, int nhist)
{
	s->count += count;
	s->total_ns += total_ns;
	if (max_ns > s->max_ns)
		s->max_ns = max_ns;
	if (e) {
		s->errors += count;
		agg_errno_n(s, e, count);
	}
	if (measured) {
		s->measured += count;
		s->measured_ns += total_ns;
	}
	for (int b = 0; b < nhist && b < NHIST; b++)
		s->hist[b] += hist[b];
}

/* One (pid, syscall, errno) counter of the kernel's. */
void
out_kernel_sum(struct trace *tr, int pid, long nr, int e, uint64_t count, uint64_t total_ns,
    uint64_t max_ns, uint64_t spin, const uint64_t *hist, int nhist)
{
	struct pagg *p = pagg_get(tr, pid);
	const char *name = syscall_name(nr);
	int measured = !call_blocks_always(tr, nr);

	sagg_add(sagg_get(&tr->out->dstab, pid, nr), e, count, total_ns, max_ns, measured,
	    hist, nhist);
	if (tr->opt.summary && passes_nr(tr, nr, e))
		sagg_add(sagg_get(&tr->out->stab, pid, nr), e, count, total_ns, max_ns,
		    measured, hist, nhist);
	p->calls += count;
	p->spin += spin;
	if (call_is_metadata(tr, nr))
		p->metadata += count;
	if (e && call_is_io(tr, nr) && (e == ENOENT || e == EACCES || e == EPERM))
		p->io_errors += count;
	if (name && strcmp(name, "connect") == 0 && e && e != EINPROGRESS)
		p->connect_failed += count;
}

/*
 * One (pid, syscall, fd, errno) counter of the kernel's, for calls that
 * name their file by fd only; target is what the fd was then, or NULL.
 * Calls on a pipe, socket or terminal wait by design: out of the latency
 * finding, as the other methods do per call.
 */
void
out_kernel_fd(struct trace *tr, int pid, long nr, int e, int empty_path, const char *target,
    uint64_t count, uint64_t bytes, uint64_t total_ns)
{
	int is_net = call_is_net(tr, nr), l[6];

	call_arg_layout(tr, nr, l);
	if (empty_path)
		l[0] = l[2] = l[4] = -1;	/* named by its fd after all */
	if (call_is_stream(tr, nr) && fd_desc_blocks(target)) {
		struct sagg *s = sagg_get(&tr->out->dstab, pid, nr);

		s->measured -= count <= s->measured ? count : s->measured;
		s->measured_ns -= total_ns <= s->measured_ns ? total_ns : s->measured_ns;
	}
	/* A call with a path or address came through the ring, named by it. */
	if (target == NULL || l[0] >= 0 || l[2] >= 0 || l[4] >= 0)
		return;
	agg_target_n(tr, &tr->out->dtab, pid, nr, target, is_net, -1, NULL, e, count, bytes, 0);
	if (tr->opt.summary && passes_nr(tr, nr, e) && (call_is_io(tr, nr) || is_net))
		agg_target_n(tr, &tr->out->ktab, pid, nr, target, is_net, -1, NULL, e, count,
		    bytes, 0);
}

static int
sagg_cmp(const void *a, const void *b)
{
	const struct sagg *x = *(struct sagg *const *)a;
	const struct sagg *y = *(struct sagg *const *)b;

	if (x->total_ns != y->total_ns)
		return x->total_ns < y->total_ns ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->pid != y->pid ? (x->pid > y->pid) - (x->pid < y->pid) :
	    (x->nr > y->nr) - (x->nr < y->nr);
}

static int
kagg_cmp(const void *a, const void *b)
{
	const struct kagg *x = *(struct kagg *const *)a;
	const struct kagg *y = *(struct kagg *const *)b;
	uint64_t bx = x->bytes_in + x->bytes_out, by = y->bytes_in + y->bytes_out;

	if (x->calls != y->calls)
		return x->calls < y->calls ? 1 : -1;
	if (bx != by)
		return bx < by ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* The values of a table, in no given order; *n of them. */
static void **
collect(const struct hmap *tab, size_t *n)
{
	void **v = xreallocarray(NULL, tab->n ? tab->n : 1, sizeof(*v));
	const struct hmap_ent *e;
	size_t pos = 0;

	*n = 0;
	while ((e = hmap_next(tab, &pos)) != NULL)
		v[(*n)++] = e->val;
	return v;
}

static void
add_top_errno(cJSON *r, const struct sagg *s)
{
	int best = -1;

	for (int i = 0; i < NERR; i++)
		if (s->err[i] && (best < 0 || s->errn[i] > s->errn[best]))
			best = i;
	if (best >= 0 && errno_name(s->err[best]))
		rec_add_str(r, "top_errno", errno_name(s->err[best]));
}

/*
 * The latency below which a fraction q of the calls finished, from the
 * log2 histogram: the top of the bucket it falls in (a bound, within a
 * factor of two), never above the largest call seen.
 */
static uint64_t
percentile(const struct sagg *s, double q)
{
	uint64_t want = (uint64_t)((double)s->count * q + 0.999999), seen = 0;

	if (want == 0)
		want = 1;
	for (int b = 0; b < NHIST; b++) {
		seen += s->hist[b];
		if (seen >= want) {
			uint64_t top = b == NHIST - 1 ? s->max_ns : (2ull << b) - 1;

			return top < s->max_ns ? top : s->max_ns;
		}
	}
	return s->max_ns;
}

/* "syscalls": {"read": 10, "openat": 2}, what a flame graph of files splits by */
static void
add_by_syscall(cJSON *r, const struct kagg *k)
{
	cJSON *o = cJSON_AddObjectToObject(r, "syscalls");
	char nb[32];

	for (int i = 0; i < NBY && k->by[i].n > 0; i++) {
		const char *name = syscall_name(k->by[i].nr);

		snprintf(nb, sizeof(nb), "syscall_%ld", k->by[i].nr);
		rec_add_num(o, name ? name : nb, (double)k->by[i].n);
	}
}

void
out_summaries(struct trace *tr, double elapsed_s)
{
	size_t n;
	struct sagg **sv;
	struct kagg **kv;

	if (!tr->opt.summary)
		return;
	sv = (struct sagg **)collect(&tr->out->stab, &n);
	if (n > 0)
		qsort(sv, n, sizeof(*sv), sagg_cmp);
	for (size_t i = 0; i < n && (tr->opt.top == 0 || i < (size_t)tr->opt.top); i++) {
		struct sagg *s = sv[i];
		cJSON *r = rec_new("syscall_summary");
		const char *name = syscall_name(s->nr);
		char nb[32];

		snprintf(nb, sizeof(nb), "syscall_%ld", s->nr);
		rec_add_num(r, "pid", s->pid);
		rec_add_str(r, "comm", proc_comm(tr, s->pid));
		rec_add_str(r, "name", name ? name : nb);
		rec_add_num(r, "nr", (double)s->nr);
		rec_add_num(r, "count", (double)s->count);
		rec_add_num(r, "errors", (double)s->errors);
		rec_add_num(r, "total_ns", (double)s->total_ns);
		rec_add_num(r, "avg_ns", s->count ? (double)(s->total_ns / s->count) : 0);
		rec_add_num(r, "max_ns", (double)s->max_ns);
		rec_add_num(r, "p50_ns", (double)percentile(s, 0.50));
		rec_add_num(r, "p99_ns", (double)percentile(s, 0.99));
		rec_add_num(r, "rate_per_s", elapsed_s > 0 ?
		    (double)(uint64_t)((double)s->count / elapsed_s * 10) / 10 : 0);
		add_top_errno(r, s);
		rec_emit_free(r);
	}
	free(sv);

	kv = (struct kagg **)collect(&tr->out->ktab, &n);
	if (n > 0)
		qsort(kv, n, sizeof(*kv), kagg_cmp);
	for (size_t i = 0; i < n; i++) {
		struct kagg *k = kv[i];
		cJSON *r = rec_new(k->net ? "net_summary" : "io_summary");

		rec_add_num(r, "pid", k->pid);
		rec_add_str(r, "comm", proc_comm(tr, k->pid));
		if (k->net) {
			rec_add_str(r, "addr", k->key);
			if (k->family)
				rec_add_str(r, "family", k->family);
			if (k->port >= 0)
				rec_add_num(r, "port", k->port);
			rec_add_num(r, "calls", (double)k->calls);
			rec_add_num(r, "errors", (double)k->errors);
			rec_add_num(r, "connects", (double)k->connects);
			rec_add_num(r, "connect_failed", (double)k->connect_failed);
			rec_add_num(r, "bytes_sent", (double)k->bytes_out);
			rec_add_num(r, "bytes_received", (double)k->bytes_in);
		} else {
			rec_add_str(r, "path", k->key);
			rec_add_num(r, "calls", (double)k->calls);
			rec_add_num(r, "errors", (double)k->errors);
			rec_add_num(r, "enoent", (double)k->enoent);
			rec_add_num(r, "eacces", (double)k->eacces);
			rec_add_num(r, "bytes_read", (double)k->bytes_in);
			rec_add_num(r, "bytes_written", (double)k->bytes_out);
		}
		add_by_syscall(r, k);
		rec_emit_free(r);
	}
	free(kv);
}

static void
kagg_free(void *v)
{
	struct kagg *k = v;

	free(k->key);
	free(k);
}

static void
free_tabs(struct trace *tr)
{
	hmap_release(&tr->out->stab, free);
	hmap_release(&tr->out->dstab, free);
	hmap_release(&tr->out->ktab, kagg_free);
	hmap_release(&tr->out->dtab, kagg_free);
	hmap_release(&tr->out->ptab, free);
}

void
out_release(struct trace *tr)
{
	if (tr->out != NULL)
		free_tabs(tr);
	free(tr->out);
	tr->out = NULL;
	stack_release(tr);
}

/* ---- diagnoses ---- */

static uint64_t get_ioerr(const struct kagg *k) { return k->enoent + k->eacces; }
static uint64_t get_connfail(const struct kagg *k) { return k->connect_failed; }
static uint64_t get_dns(const struct kagg *k) { return k->dns; }

/* One per-process counter a rate rule compares with its threshold. */
struct rate_signal {
	size_t count_off;		/* offsetof(struct pagg, ...): the events */
	size_t threshold_off;		/* offsetof(struct trace_opts, ...): events/s that fire */
	const char *count_field;	/* evidence: the events */
	const char *rate_field;		/* evidence: the events per second */
	const char *threshold_field;	/* evidence: the threshold, or NULL */
	uint64_t (*target_count)(const struct kagg *);	/* its share of a path or address */
};

/*
 * A finding on a per-process rate: it fires when any of its signals
 * reaches its threshold, and is critical at ten times it. One row per
 * finding; add a row to teach cd-trace a new one.
 */
struct rate_rule {
	const char *code;		/* the record's "code" */
	const char *issue;		/* its title: the record's "issue" */
	struct rate_signal signal[2];	/* the second unused when count_field is NULL */
	/* printf format: rate, count, seconds; with two signals, the two rates */
	const char *description;
	const char *remedy;
	const char *targets_field;	/* evidence: the top paths or addresses, or NULL */
	int targets_net;		/* those are addresses */
};

static const struct rate_rule rate_rules[] = {
	{
		.code = "event_loop_spin",
		.issue = "Event loop spinning",
		.signal = { { offsetof(struct pagg, spin), offsetof(struct trace_opts, spin_rate),
		    "immediate_polls", "rate_per_s", "threshold_per_s", NULL } },
		.description = "%.0f poll/epoll calls per second return at once "
		    "with nothing ready (%llu in %.1f s): the event loop is spinning",
		.remedy = "find the timer or watcher that re-arms with a zero "
		    "timeout (cd-trace --stacks shows the caller); avoid "
		    "setImmediate/poll loops with timeout 0",
	},
	{
		.code = "io_error_storm",
		.issue = "High I/O error rate",
		.signal = { { offsetof(struct pagg, io_errors), offsetof(struct trace_opts, io_error_rate),
		    "errors", "rate_per_s", "threshold_per_s", get_ioerr } },
		.description = "%.0f file calls per second fail with "
		    "ENOENT/EACCES/EPERM (%llu in %.1f s)",
		.remedy = "the process keeps probing paths that do not exist or "
		    "it may not read: cache the negative result, fix the search "
		    "path or the permissions of the paths below",
		.targets_field = "top_paths",
	},
	{
		.code = "metadata_storm",
		.issue = "Excessive metadata operations",
		.signal = { { offsetof(struct pagg, metadata), offsetof(struct trace_opts, meta_rate),
		    "calls", "rate_per_s", "threshold_per_s", NULL } },
		.description = "%.0f metadata calls per second (stat family, "
		    "access, readlink, getdents; %llu in %.1f s)",
		.remedy = "a file watcher or module resolver is polling the file "
		    "system: use inotify-based watching, narrow the watched "
		    "tree, cache stat results",
	},
	{
		.code = "network_retry_storm",
		.issue = "Network retry storm",
		.signal = {
			{ offsetof(struct pagg, connect_failed), offsetof(struct trace_opts, connect_fail_rate),
			    "connect_failed", "connect_failed_per_s", NULL, get_connfail },
			{ offsetof(struct pagg, dns), offsetof(struct trace_opts, dns_rate),
			    "dns_queries", "dns_per_s", NULL, get_dns },
		},
		.description = "%.1f failed connects and %.1f DNS queries per "
		    "second: the process is retrying a network peer",
		.remedy = "check that the peer is up and reachable (proxy, VPN, "
		    "firewall); retries need backoff; repeated DNS queries mean "
		    "the resolver result is not cached",
		.targets_field = "top_addrs",
		.targets_net = 1,
	},
};

static const char slow_issue[] = "Slow system calls";

static cJSON *
diag_new(struct trace *tr, const char *severity, const char *code, const char *issue, int pid,
    const char *desc, const char *remedy)
{
	struct diagnosis d = {
		.source = "cd-trace", .severity = severity, .code = code,
		.issue = issue, .description = desc, .remedy = remedy,
		.pid = pid, .comm = proc_comm(tr, pid),
	};

	return diagnosis_new(&d);
}

static const char *
severity(double rate, double threshold, int *critical)
{
	if (rate >= threshold * 10) {
		(*critical)++;
		return "critical";
	}
	return "warning";
}

static double
round1(double v)
{
	return (double)(long long)(v * 10 + 0.5) / 10;
}

/* The paths (or addresses) of pid with the most of a counter, as evidence. */
static void
add_top_keys(struct trace *tr, cJSON *ev, const char *field, int pid, int net,
    uint64_t (*get)(const struct kagg *))
{
	size_t n, m = 0;
	struct kagg **kv = (struct kagg **)collect(&tr->out->dtab, &n);
	cJSON *arr = cJSON_AddArrayToObject(ev, field);

	for (size_t i = 0; i < n; i++)
		if (kv[i]->pid == pid && kv[i]->net == net && get(kv[i]) > 0)
			kv[m++] = kv[i];
	/* Selection of the top five by the counter. */
	for (size_t i = 0; i < m && i < 5; i++) {
		size_t best = i;
		struct kagg *tmp;
		cJSON *o;

		for (size_t j = i + 1; j < m; j++)
			if (get(kv[j]) > get(kv[best]))
				best = j;
		tmp = kv[i];
		kv[i] = kv[best];
		kv[best] = tmp;
		o = cJSON_CreateObject();
		rec_add_str(o, net ? "addr" : "path", kv[i]->key);
		rec_add_num(o, "count", (double)get(kv[i]));
		cJSON_AddItemToArray(arr, o);
	}
	free(kv);
}

static uint64_t
signal_count(const struct rate_signal *s, const struct pagg *p)
{
	return *(const uint64_t *)((const char *)p + s->count_off);
}

static double
signal_threshold(const struct rate_signal *s, const struct trace_opts *o)
{
	return *(const double *)((const char *)o + s->threshold_off);
}

/* One rule over one process: the record, or nothing below every threshold. */
static void
diag_rate(struct trace *tr, const struct rate_rule *rr, const struct pagg *p, double secs, int *crit)
{
	int nsig = rr->signal[1].count_field ? 2 : 1, fired = -1, top = -1;
	uint64_t count[2] = { 0, 0 };
	double rate[2] = { 0, 0 };
	char desc[512];
	cJSON *d, *ev;

	for (int i = 0; i < nsig; i++) {
		count[i] = signal_count(&rr->signal[i], p);
		rate[i] = (double)count[i] / secs;
		if (fired < 0 && rate[i] >= signal_threshold(&rr->signal[i], &tr->opt))
			fired = i;
		if (top < 0 && count[i] > 0)
			top = i;
	}
	if (fired < 0)
		return;
	if (nsig == 2)
		snprintf(desc, sizeof(desc), rr->description, rate[0], rate[1]);
	else
		snprintf(desc, sizeof(desc), rr->description, rate[0],
		    (unsigned long long)count[0], secs);
	d = diag_new(tr, severity(rate[fired], signal_threshold(&rr->signal[fired], &tr->opt), crit),
	    rr->code, rr->issue, p->pid, desc, rr->remedy);
	ev = diagnosis_evidence(d);
	for (int i = 0; i < nsig; i++) {
		const struct rate_signal *s = &rr->signal[i];

		rec_add_num(ev, s->count_field, (double)count[i]);
		rec_add_num(ev, s->rate_field, round1(rate[i]));
		if (s->threshold_field)
			rec_add_num(ev, s->threshold_field, signal_threshold(s, &tr->opt));
	}
	/* By the first signal that counted anything: the one to look into. */
	if (rr->targets_field)
		add_top_keys(tr, ev, rr->targets_field, p->pid, rr->targets_net,
		    rr->signal[top < 0 ? 0 : top].target_count);
	rec_emit_free(d);
}

static void
diag_pid(struct trace *tr, const struct pagg *p, double secs, int *crit)
{
	for (size_t i = 0; i < sizeof(rate_rules) / sizeof(rate_rules[0]); i++)
		diag_rate(tr, &rate_rules[i], p, secs, crit);
}

static void
diag_slow(struct trace *tr, const struct sagg *s, int *crit)
{
	double avg_ms;
	char desc[512];
	const char *name = syscall_name(s->nr);
	cJSON *d, *ev;

	if (s->measured < (uint64_t)tr->opt.min_calls || s->measured == 0)
		return;
	avg_ms = (double)s->measured_ns / (double)s->measured / 1e6;
	if (avg_ms < tr->opt.slow_ms)
		return;
	snprintf(desc, sizeof(desc), "%s takes %.1f ms on average over %llu "
	    "calls%s", name ? name : "syscall", avg_ms,
	    (unsigned long long)s->measured, tr->opt.ptrace_latency ?
	    " (measured under ptrace, whose stops are inside every call's "
	    "time: a hint, not a finding)" : "");
	/* ptrace's stops can make any call look slow: never critical on that alone */
	d = diag_new(tr, tr->opt.ptrace_latency ? "warning" :
	    severity(avg_ms, tr->opt.slow_ms, crit), "slow_syscalls", slow_issue,
	    s->pid, desc, "slow file calls point at a slow or network file "
	    "system, a full disk or heavy swapping: check the paths it uses "
	    "(cd-trace --io) and the device");
	ev = diagnosis_evidence(d);
	rec_add_str(ev, "syscall", name ? name : "?");
	rec_add_num(ev, "count", (double)s->measured);
	rec_add_num(ev, "avg_ms", round1(avg_ms));
	rec_add_num(ev, "max_ms", round1((double)s->max_ns / 1e6));
	rec_add_num(ev, "threshold_ms", tr->opt.slow_ms);
	if (tr->opt.ptrace_latency)
		rec_add_bool(ev, "includes_tracer_stops", 1);
	rec_emit_free(d);
}

/* Findings in the order of pid, then syscall: the same from run to run. */
static int
pagg_cmp(const void *a, const void *b)
{
	const struct pagg *x = *(struct pagg *const *)a, *y = *(struct pagg *const *)b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int
sagg_key_cmp(const void *a, const void *b)
{
	const struct sagg *x = *(struct sagg *const *)a, *y = *(struct sagg *const *)b;

	if (x->pid != y->pid)
		return (x->pid > y->pid) - (x->pid < y->pid);
	return (x->nr > y->nr) - (x->nr < y->nr);
}

int
out_diagnose(struct trace *tr, double elapsed_s)
{
	size_t n;
	void **v;
	int crit = 0;

	if (!tr->opt.diagnose || elapsed_s <= 0)
		return 0;
	/*
	 * A rate is per second of capture; a capture shorter than a second
	 * counts as one, so a start-up burst of a short command is not
	 * called a storm.
	 */
	if (elapsed_s < 1)
		elapsed_s = 1;
	v = collect(&tr->out->ptab, &n);
	qsort(v, n, sizeof(*v), pagg_cmp);
	for (size_t i = 0; i < n; i++)
		diag_pid(tr, v[i], elapsed_s, &crit);
	free(v);
	v = collect(&tr->out->dstab, &n);
	qsort(v, n, sizeof(*v), sagg_key_cmp);
	for (size_t i = 0; i < n; i++)
		diag_slow(tr, v[i], &crit);
	free(v);
	return crit;
}
