/*
 * Method 0: BPF (common/collect/linux/bpf/systrace.bpf.c). Counts, errors, latencies
 * and log2 histograms per process and syscall are kept by the kernel in
 * per-CPU maps and read once at the end (calls on fds in two maps, one
 * emptied while the other fills); a call costs user space nothing
 * unless a record of it was asked for, the fd table changed, or a
 * diagnosis needs its path or address. Those come through a BPF ring
 * buffer, already filtered.
 *
 * As for cd-fds, the programs are a libbpf light skeleton: the kernel
 * applies the CO-RE relocations itself and no libbpf is needed at run time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/membarrier.h>

#include "hashmap.h"
#include "msg.h"
#include "record.h"
#include "syscall_names.h"
#include "trace.h"
#include "bpf/systrace.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "systrace.lskel.h"
#pragma GCC diagnostic pop


/* The ring buffer as mapped: consumer page, producer page, data twice. */
struct ring {
	int fd;
	unsigned long *cons, *prod;
	unsigned char *data;
	size_t size;
	size_t prod_len;
};

/* ---- fd-table history: which file (pid, fd) meant at a generation ---- */

/* From generation gen on, the fd meant name (NULL: closed, or unnamed). */
struct fdev {
	uint64_t gen;
	uint64_t seq;		/* arrival order: the later of equal gens wins */
	char *name;
};

/* The history of one (pid, fd), sorted by gen when asked. */
struct fdhist {
	int pid, fd;
	struct fdev *v;
	size_t n, cap;
	int sorted;
};

/* One BPF run: the programs, their ring, and what user space keeps beside. */
struct bpf_state {
	struct trace *tr;
	struct systrace *skel;
	uint64_t threads0;		/* threads of the targets at the start */
	int ncpu;			/* possible CPUs: the per-CPU value count */
	struct ring rb;
	struct hmap fdh;		/* (pid, fd) -> struct fdhist */
	uint64_t fdev_seq;
	struct hmap fds;		/* (pid, nr, err, name) -> struct fdsum */
	struct hmap fdp;		/* struct st_fdkey -> struct fdpend */
	int ending;			/* the capture is over: name everything */
	uint64_t fd_base[2];		/* fd_made of each map when last emptied */
	struct st_fdkey *bk;		/* a batch of keys and values out of a map */
	struct st_fdval *bv;
	int no_grace;			/* no membarrier: a map is emptied only at the end */
};

static void bpf_note_names(struct bpf_state *bs, const struct call *c, uint64_t gen);

static struct fdhist *
fdhist_get(struct bpf_state *bs, int pid, int fd, int create)
{
	int key[2] = { pid, fd };
	void **slot = create ? hmap_insert(&bs->fdh, key, sizeof(key), NULL) :
	    hmap_find(&bs->fdh, key, sizeof(key));
	struct fdhist *h;

	if (slot == NULL)
		return NULL;
	if ((h = *slot) == NULL) {
		*slot = h = xcalloc(1, sizeof(*h));
		h->pid = pid;
		h->fd = fd;
	}
	return h;
}

static void
fdev_add(struct bpf_state *bs, int pid, int fd, uint64_t gen, const char *name)
{
	struct fdhist *h = fdhist_get(bs, pid, fd, 1);

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 4;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	h->v[h->n].gen = gen;
	h->v[h->n].seq = bs->fdev_seq++;
	h->v[h->n].name = name ? xstrdup(name) : NULL;
	h->sorted = h->n == 0 || (h->sorted && h->v[h->n - 1].gen <= gen);
	h->n++;
}

static int
fdev_cmp(const void *a, const void *b)
{
	const struct fdev *x = a, *y = b;

	if (x->gen != y->gen)
		return x->gen < y->gen ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * What fd meant at gen: the latest event at or before it; none means it
 * was open before the capture (*before = 1). *later says the fd changed
 * after gen, so today's fd table does not describe it.
 */
static const struct fdev *
fdev_at(struct bpf_state *bs, int pid, int fd, uint64_t gen, int *before, int *later)
{
	struct fdhist *h = fdhist_get(bs, pid, fd, 0);
	size_t lo = 0, hi;

	*before = 1;
	*later = 0;
	if (h == NULL || h->n == 0)
		return NULL;
	if (!h->sorted) {
		qsort(h->v, h->n, sizeof(*h->v), fdev_cmp);
		h->sorted = 1;
	}
	/* The first event after gen; the one before it is the answer. */
	hi = h->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->v[mid].gen <= gen)
			lo = mid + 1;
		else
			hi = mid;
	}
	*later = lo < h->n;
	if (lo == 0)
		return NULL;
	*before = 0;
	return &h->v[lo - 1];
}

static void
fdhist_free(void *v)
{
	struct fdhist *h = v;

	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].name);
	free(h->v);
	free(h);
}

static void
fdevs_release(struct bpf_state *bs)
{
	hmap_release(&bs->fdh, fdhist_free);
	bs->fdev_seq = 0;
}

/* ---- bpf(2) helpers the light skeleton does not have ---- */

static int
map_lookup(int fd, const void *key, void *val)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (unsigned)fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)val;
	return skel_sys_bpf(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a));
}

static int
map_next(int fd, const void *key, void *next)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (unsigned)fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.next_key = (uint64_t)(uintptr_t)next;
	return skel_sys_bpf(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a));
}

/* /sys/devices/system/cpu/possible, "0-3" or "0,2-5": the highest + 1. */
static int
possible_cpus(void)
{
	char buf[256], *p;
	int fd = open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int hi = 0;

	if (fd < 0)
		return (int)sysconf(_SC_NPROCESSORS_CONF);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (int)sysconf(_SC_NPROCESSORS_CONF);
	buf[n] = '\0';
	for (p = buf; *p; ) {
		long v = strtol(p, &p, 10);

		if (v + 1 > hi)
			hi = (int)v + 1;
		if (*p == '\0' || *p == '\n')
			break;
		p++;
	}
	return hi > 0 ? hi : 1;
}

/* ---- setup ---- */

static const char *
refusal(int err)
{
	if (err == EPERM || err == EACCES)
		return " (needs root, or CAP_BPF and CAP_PERFMON)";
	if (err == ENOSYS)
		return " (no bpf() here: kernel or seccomp)";
	if (err == EINVAL || err == ENOENT || err == EOPNOTSUPP || err == E2BIG ||
	    err == 524)
		return " (needs Linux 5.8 or later with BTF)";
	return "";
}

static int
fail(char *why, size_t whylen, const char *what, int err)
{
	snprintf(why, whylen, "%s: %s%s", what, strerror(err), refusal(err));
	return -1;
}

static void
fill_specs(struct bpf_state *bs)
{
	const struct trace_opts *o = &bs->tr->opt;

	for (uint32_t nr = 0; nr < ST_NR_MAX; nr++) {
		struct st_spec sp;
		int l[6];

		memset(&sp, 0, sizeof(sp));
		call_arg_layout(bs->tr, nr, l);
		sp.path = (signed char)l[0];
		sp.fd = (signed char)l[1];
		sp.addr = (signed char)l[2];
		sp.addrlen = (signed char)l[3];
		sp.oaddr = (signed char)l[4];
		sp.oaddrlen = (signed char)l[5];
		if (call_is_io(bs->tr, nr))
			sp.flags |= STF_IO;
		if (call_is_net(bs->tr, nr))
			sp.flags |= STF_NET;
		if (call_is_poll(bs->tr, nr))
			sp.flags |= STF_POLL;
		if (call_changes_fds(bs->tr, nr))
			sp.flags |= STF_NAMES;
		if (syscall_name(nr) && strcmp(syscall_name(nr), "connect") == 0)
			sp.flags |= STF_CONNECT;
		if (syscall_name(nr) && strncmp(syscall_name(nr), "execve", 6) == 0)
			sp.flags |= STF_EXECVE;
		if (!(o->io || o->network) || (o->io && call_is_io(bs->tr, nr)) ||
		    (o->network && call_is_net(bs->tr, nr)))
			sp.flags |= STF_KEEP;
		skel_map_update_elem(bs->skel->maps.specs.map_fd, &nr, &sp, BPF_ANY);
	}
}

static int
ring_map(struct bpf_state *bs, char *why, size_t whylen)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *c, *p;

	bs->rb.fd = bs->skel->maps.ring.map_fd;
	bs->rb.size = ST_RING_SIZE;
	c = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, bs->rb.fd, 0);
	if (c == MAP_FAILED)
		return fail(why, whylen, "mapping the BPF ring buffer", errno);
	bs->rb.prod_len = (size_t)pg + 2 * bs->rb.size;
	p = mmap(NULL, bs->rb.prod_len, PROT_READ, MAP_SHARED, bs->rb.fd, pg);
	if (p == MAP_FAILED) {
		munmap(c, (size_t)pg);
		return fail(why, whylen, "mapping the BPF ring buffer", errno);
	}
	bs->rb.cons = c;
	bs->rb.prod = p;
	bs->rb.data = (unsigned char *)p + pg;
	return 0;
}

static void
ring_unmap(struct bpf_state *bs)
{
	long pg = sysconf(_SC_PAGESIZE);

	if (bs->rb.cons != NULL)
		munmap(bs->rb.cons, (size_t)pg);
	if (bs->rb.prod != NULL)
		munmap(bs->rb.prod, bs->rb.prod_len);
	memset(&bs->rb, 0, sizeof(bs->rb));
	bs->rb.fd = -1;
}

/* Insert pid, armed or (a command not yet exec'd) not. 0 or an errno. */
static int
target_add(struct bpf_state *bs, int pid, int armed)
{
	struct st_target t;
	char path[64];
	FILE *f;

	memset(&t, 0, sizeof(t));
	t.armed = (unsigned)armed;
	t.slot = (unsigned)bs->skel->bss->next_slot++;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if ((f = fopen(path, "re")) == NULL)
		return errno;
	if (fgets(t.comm, sizeof(t.comm), f) != NULL)
		t.comm[strcspn(t.comm, "\n")] = '\0';
	fclose(f);
	if (skel_map_update_elem(bs->skel->maps.targets.map_fd, &pid, &t, BPF_ANY) != 0)
		return errno;
	bs->skel->bss->n_procs++;
	return 0;
}

/* The threads of a target, seen as the tracepoint method sees them. */
static void
count_threads(struct bpf_state *bs, int pid)
{
	char path[64];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (atoi(de->d_name) > 0)
			bs->threads0++;
	closedir(d);
}

/* ---- the ring ---- */

static void
on_rec(struct bpf_state *bs, const struct st_rec *r, size_t len)
{
	struct call c;
	struct thr *t;
	char path[ST_PATH_MAX + 1];

	if (len < sizeof(*r) || r->kind != ST_REC_CALL || r->salen > ST_SA_MAX ||
	    r->path_len > len - sizeof(*r) - r->salen)
		return;
	memset(&c, 0, sizeof(c));
	c.pid = (int)r->pid;
	c.tid = (int)r->tid;
	c.nr = r->nr;
	c.ret = (long)r->ret;
	c.done = 1;
	c.ts_ns = r->ts_ns;
	c.dur_ns = r->dur_ns;
	memcpy(c.args, r->args, sizeof(c.args));
	if (call_path_arg(bs->tr, c.nr) >= 0) {
		if (r->path_err == 0) {
			memcpy(path, (const char *)(r + 1) + r->salen, r->path_len);
			path[r->path_len] = '\0';
			c.path = xstrdup(path);
		} else {
			c.path_unreadable = 1;
			bs->tr->stats.path_unreadable++;
		}
	}
	if (r->salen > 0) {
		c.salen = r->salen > sizeof(c.sa) ? sizeof(c.sa) : r->salen;
		memcpy(&c.sa, r + 1, c.salen);
	}
	t = thr_find(bs->tr, c.tid);
	if (t == NULL) {
		t = thr_get(bs->tr, c.pid, c.tid);
		snprintf(t->comm, sizeof(t->comm), "%.15s", r->comm);
	}
	if (r->flags & STR_NAMES)
		bpf_note_names(bs, &c, r->gen);
	decode_exit(bs->tr, &c);
	out_call_bpf(bs->tr, &c, (r->flags & STR_KEEP) != 0, (r->flags & STR_TARGET) != 0);
	free(c.path);
}

/*
 * The records written before position end, as far as the ring holds
 * them. Returns whether any was read.
 */
static int
ring_drain_to(struct bpf_state *bs, unsigned long end)
{
	unsigned long cons = __atomic_load_n(bs->rb.cons, __ATOMIC_ACQUIRE);
	unsigned long prod = __atomic_load_n(bs->rb.prod, __ATOMIC_ACQUIRE);
	unsigned long start = cons;

	if (end < prod)
		prod = end;
	if (cons >= prod)
		return 0;
	/* A record's cJSON objects live until it is written: from an arena. */
	rec_arena_begin();
	while (cons < prod) {
		const unsigned char *h = bs->rb.data + (cons & (bs->rb.size - 1));
		uint32_t hl = __atomic_load_n((const uint32_t *)h, __ATOMIC_ACQUIRE);
		uint32_t len = hl & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		if (hl & BPF_RINGBUF_BUSY_BIT)
			break;
		if (!(hl & BPF_RINGBUF_DISCARD_BIT)) {
			on_rec(bs, (const struct st_rec *)(h + BPF_RINGBUF_HDR_SZ), len);
			rec_arena_reset();
		}
		cons += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
		__atomic_store_n(bs->rb.cons, cons, __ATOMIC_RELEASE);
	}
	rec_arena_end();
	return cons != start;
}

/*
 * A megabyte at most of what the ring holds: a target that writes
 * records as fast as they are read kept the capture loop here, deaf to
 * signals, the deadline and the fd maps (seen under ASan), and a full
 * ring takes a slow reader 100 ms or more.
 */
static int
ring_drain(struct bpf_state *bs)
{
	return ring_drain_to(bs, __atomic_load_n(bs->rb.cons, __ATOMIC_ACQUIRE) + (1ul << 20));
}

/* Everything written until now, and no more. */
static void
ring_drain_all(struct bpf_state *bs)
{
	unsigned long end = __atomic_load_n(bs->rb.prod, __ATOMIC_ACQUIRE);

	while (ring_drain_to(bs, end))
		;
}

/* ---- the fd table's news, for the fd-keyed counters ---- */

/* One ring record that opened, closed, duplicated or connected an fd. */
static void
bpf_note_names(struct bpf_state *bs, const struct call *c, uint64_t gen)
{
	const char *name = syscall_name(c->nr);
	char *addr;

	if (name == NULL)
		return;
	if (strcmp(name, "close") == 0) {
		fdev_add(bs, c->pid, (int)c->args[0], gen + 1, NULL);
	} else if (strcmp(name, "connect") == 0 || strncmp(name, "accept", 6) == 0) {
		int fd = name[0] == 'c' ? (int)c->args[0] : (int)c->ret;

		addr = c->salen ? sockaddr_str(&c->sa, c->salen, NULL, NULL) : NULL;
		fdev_add(bs, c->pid, fd, gen + 1, addr);
		free(addr);
	} else if (strncmp(name, "dup", 3) == 0) {
		int before, later;
		const struct fdev *e = fdev_at(bs, c->pid, (int)c->args[0], gen,
		    &before, &later);

		fdev_add(bs, c->pid, (int)c->ret, gen + 1, e ? e->name :
		    before ? fd_describe(bs->tr, c->pid, (int)c->args[0]) : NULL);
	} else if (c->path != NULL) {
		fdev_add(bs, c->pid, (int)c->ret, gen + 1, c->path);
	} else {
		fdev_add(bs, c->pid, (int)c->ret, gen + 1, NULL);
	}
}

/* ---- the end: the kernel's counters into the summaries ---- */

/* What is left in the per-CPU slots: more of the same counts. */
static void
read_scache(struct bpf_state *bs)
{
	struct st_scache *c = xcalloc((size_t)bs->ncpu, sizeof(*c));
	uint64_t hist[ST_HIST];

	for (uint32_t i = 0; i < ST_CACHE; i++) {
		if (map_lookup(bs->skel->maps.scache.map_fd, &i, c) != 0)
			continue;
		for (int cpu = 0; cpu < bs->ncpu; cpu++) {
			const struct st_scache *x = &c[cpu];

			if (!x->used || x->v.count == 0)
				continue;
			for (int b = 0; b < ST_HIST; b++)
				hist[b] = x->v.hist[b];
			bs->tr->stats.calls += x->v.count;
			out_kernel_sum(bs->tr, (int)x->k.pid, x->k.nr, x->k.err, x->v.count,
			    x->v.total_ns, x->v.max_ns, x->v.spin, hist, ST_HIST);
		}
	}
	free(c);
}

static void
read_stats(struct bpf_state *bs)
{
	struct st_key k, next, *kp = NULL;
	struct st_val *v = xcalloc((size_t)bs->ncpu, sizeof(*v));
	uint64_t enters = 0, *ev = xcalloc((size_t)bs->ncpu, sizeof(*ev));
	struct run_stats *st = &bs->tr->stats;
	uint32_t zero = 0;

	while (map_next(bs->skel->maps.stats.map_fd, kp, &next) == 0) {
		struct st_val sum;
		uint64_t hist[ST_HIST];

		k = next;
		kp = &k;
		if (map_lookup(bs->skel->maps.stats.map_fd, &k, v) != 0)
			continue;
		memset(&sum, 0, sizeof(sum));
		for (int c = 0; c < bs->ncpu; c++) {
			sum.count += v[c].count;
			sum.total_ns += v[c].total_ns;
			sum.spin += v[c].spin;
			if (v[c].max_ns > sum.max_ns)
				sum.max_ns = v[c].max_ns;
			for (int b = 0; b < ST_HIST; b++)
				sum.hist[b] += v[c].hist[b];
		}
		if (sum.count == 0)
			continue;
		for (int b = 0; b < ST_HIST; b++)
			hist[b] = sum.hist[b];
		st->calls += sum.count;
		out_kernel_sum(bs->tr, (int)k.pid, k.nr, k.err, sum.count, sum.total_ns,
		    sum.max_ns, sum.spin, hist, ST_HIST);
	}
	read_scache(bs);
	if (map_lookup(bs->skel->maps.enters.map_fd, &zero, ev) == 0)
		for (int c = 0; c < bs->ncpu; c++)
			enters += ev[c];
	st->unfinished = enters > st->calls ? enters - st->calls : 0;
	st->events = st->calls * 2 + st->unfinished;
	free(v);
	free(ev);
}

/*
 * What (pid, fd) was at gen, by the history, else by today's fd table.
 * During the capture the fd may change after the ring was read, so an
 * answer only today's table can give waits for the end (*defer).
 */
static const char *
fd_name(struct bpf_state *bs, int pid, int fd, uint64_t gen, int *defer)
{
	int before, later;
	const struct fdev *e = fdev_at(bs, pid, fd, gen, &before, &later);

	*defer = 0;
	if (e != NULL && e->name != NULL)
		return e->name;
	if (before && fd_snapshot_name(bs->tr, pid, fd) != NULL)
		return fd_snapshot_name(bs->tr, pid, fd);
	if ((before || e != NULL) && !later) {
		if (bs->ending)
			return fd_describe(bs->tr, pid, fd);
		*defer = 1;
	}
	return NULL;
}

/*
 * fd-keyed counters taken out of the kernel's maps, named as they come
 * out and summed by name, so a loop of a million opens and closes costs
 * one entry per file, not one per fd-table generation. A map is emptied
 * during the capture while the programs count into the other, so the
 * calls of a long capture never wait for the end to be named.
 */
struct fdsum {
	int pid, nr, err, empty_path;
	char *name;			/* NULL: unnamed */
	uint64_t count, bytes, total_ns;
};

static void
fdsum_free(void *v)
{
	struct fdsum *f = v;

	free(f->name);
	free(f);
}

/* Counters of a key to be named at the end. */
struct fdpend {
	struct st_fdkey k;
	uint64_t count, bytes, total_ns;
};

static void
fdpend_add(struct bpf_state *bs, const struct st_fdkey *k, uint64_t count,
    uint64_t bytes, uint64_t total)
{
	void **slot = hmap_insert(&bs->fdp, k, sizeof(*k), NULL);
	struct fdpend *p = *slot;

	if (p == NULL) {
		*slot = p = xcalloc(1, sizeof(*p));
		p->k = *k;
	}
	p->count += count;
	p->bytes += bytes;
	p->total_ns += total;
}

static void
fdsum_add(struct bpf_state *bs, const struct st_fdkey *k, uint64_t count,
    uint64_t bytes, uint64_t total)
{
	int defer;
	const char *name = fd_name(bs, (int)k->pid, k->fd, k->gen, &defer);
	size_t len = name ? strlen(name) + 1 : 0;
	char stack[320], *kb;
	int hdr[3] = { (int)k->pid, k->nr, k->err };
	struct fdsum *f;
	void **slot;

	if (defer) {
		fdpend_add(bs, k, count, bytes, total);
		return;
	}
	kb = 13 + len <= sizeof(stack) ? stack : xmalloc(13 + len);
	memcpy(kb, hdr, sizeof(hdr));
	kb[12] = (char)((k->flags & STK_EMPTY_PATH ? 1 : 0) | (name ? 2 : 0));
	if (name)
		memcpy(kb + 13, name, len);
	slot = hmap_insert(&bs->fds, kb, 13 + len, NULL);
	if (kb != stack)
		free(kb);
	if ((f = *slot) == NULL) {
		*slot = f = xcalloc(1, sizeof(*f));
		f->pid = (int)k->pid;
		f->nr = k->nr;
		f->err = k->err;
		f->empty_path = (k->flags & STK_EMPTY_PATH) != 0;
		f->name = name ? xstrdup(name) : NULL;
	}
	f->count += count;
	f->bytes += bytes;
	f->total_ns += total;
}

#define FD_BATCH 4096

/* What is left in a map, read in place: the end, and a kernel refused the batch. */
static void
fd_read_each(struct bpf_state *bs, int fd)
{
	struct st_fdkey k, next, *kp = NULL;
	struct st_fdval v;

	while (map_next(fd, kp, &next) == 0) {
		k = next;
		kp = &k;
		if (map_lookup(fd, &k, &v) == 0)
			fdsum_add(bs, &k, v.count, v.bytes, v.total_ns);
	}
}

/*
 * Every key of an fd map no program writes to, taken out in batches.
 * -1: the kernel refused (the keys not taken stay; at the end they are
 * read in place).
 */
static int
fd_drain(struct bpf_state *bs, int side)
{
	int fd = side ? bs->skel->maps.fdstats1.map_fd : bs->skel->maps.fdstats0.map_fd;
	uint64_t token = 0;
	int first = 1, rc, e;

	if (bs->bk == NULL) {
		bs->bk = xcalloc(FD_BATCH, sizeof(*bs->bk));
		bs->bv = xcalloc(FD_BATCH, sizeof(*bs->bv));
	}
	do {
		union bpf_attr a;

		memset(&a, 0, sizeof(a));
		a.batch.in_batch = first ? 0 : (uint64_t)(uintptr_t)&token;
		a.batch.out_batch = (uint64_t)(uintptr_t)&token;
		a.batch.keys = (uint64_t)(uintptr_t)bs->bk;
		a.batch.values = (uint64_t)(uintptr_t)bs->bv;
		a.batch.count = FD_BATCH;
		a.batch.map_fd = (unsigned)fd;
		rc = skel_sys_bpf(BPF_MAP_LOOKUP_AND_DELETE_BATCH, &a, sizeof(a));
		e = errno;
		/* A refusal before the walk leaves count as it was sent. */
		if (rc != 0 && e != ENOENT && e != ENOSPC)
			a.batch.count = 0;
		for (uint32_t i = 0; i < a.batch.count && i < FD_BATCH; i++)
			fdsum_add(bs, &bs->bk[i], bs->bv[i].count, bs->bv[i].bytes,
			    bs->bv[i].total_ns);
		first = 0;
	} while (rc == 0);
	if (e == ENOENT)
		return 0;
	if (bs->ending)
		fd_read_each(bs, fd);
	return -1;
}

/* Can membarrier(2) wait out an RCU grace period here? */
static int
has_grace(void)
{
	long m = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	return m > 0 && (m & MEMBARRIER_CMD_GLOBAL) != 0;
}

/*
 * No more emptying before the end (no grace period to wait on, or a
 * kernel that will not give a map's keys): the programs fill the first
 * map and put what it has no room for in the second (fd_spill).
 */
static void
fd_keep(struct bpf_state *bs)
{
	bs->no_grace = 1;
	__atomic_store_n(&bs->skel->bss->fd_side, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&bs->skel->bss->fd_spill, 1, __ATOMIC_SEQ_CST);
}

/*
 * The grace period: membarrier(2)'s synchronize_rcu(), after which every
 * program that started before it has returned. Not there under nohz_full
 * or a seccomp profile that leaves membarrier out.
 */
static int
grace(struct bpf_state *bs)
{
	if (bs->no_grace)
		return -1;
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return 0;
	fd_keep(bs);
	return -1;
}

/*
 * Once an eighth of a map's keys were made, the programs are turned to
 * the other map (empty: emptied when last left) and, after a grace
 * period, the first is emptied. The rest of the other's room covers the
 * wait: a loop of opens and closes made up to 110,000 keys while one
 * grace period (5-60 ms) and one emptying (20-80 ms) ran.
 */
static void
fd_swap(struct bpf_state *bs)
{
	unsigned side = bs->skel->bss->fd_side & 1;

	if (bs->no_grace ||
	    bs->skel->bss->fd_made[side] - bs->fd_base[side] < ST_FD_KEYS / 8)
		return;
	__atomic_store_n(&bs->skel->bss->fd_side, !side, __ATOMIC_SEQ_CST);
	if (grace(bs) != 0)
		return;
	/* The events that name the old map's keys are all in the ring now. */
	ring_drain_all(bs);
	if (fd_drain(bs, (int)side) != 0) {
		fd_keep(bs);
		return;
	}
	bs->fd_base[side] = bs->skel->bss->fd_made[side];
}

static void
read_fcache(struct bpf_state *bs)
{
	struct st_fcache *c = xcalloc((size_t)bs->ncpu, sizeof(*c));

	for (uint32_t i = 0; i < ST_CACHE; i++) {
		if (map_lookup(bs->skel->maps.fcache.map_fd, &i, c) != 0)
			continue;
		for (int cpu = 0; cpu < bs->ncpu; cpu++)
			if (c[cpu].used && c[cpu].v.count > 0)
				fdsum_add(bs, &c[cpu].k, c[cpu].v.count, c[cpu].v.bytes,
				    c[cpu].v.total_ns);
	}
	free(c);
}

static void
read_fdstats(struct bpf_state *bs)
{
	const struct hmap_ent *e;
	size_t pos = 0;

	bs->ending = 1;
	fd_drain(bs, 0);
	fd_drain(bs, 1);
	read_fcache(bs);
	while ((e = hmap_next(&bs->fdp, &pos)) != NULL) {
		const struct fdpend *p = e->val;

		fdsum_add(bs, &p->k, p->count, p->bytes, p->total_ns);
	}
	hmap_release(&bs->fdp, free);
	pos = 0;
	while ((e = hmap_next(&bs->fds, &pos)) != NULL) {
		const struct fdsum *f = e->val;

		if (f->count > 0)
			out_kernel_fd(bs->tr, f->pid, f->nr, f->err, f->empty_path,
			    f->name, f->count, f->bytes, f->total_ns);
	}
	hmap_release(&bs->fds, fdsum_free);
}

/* Names of the processes, as the kernel last saw them (exec included). */
static void
read_targets(struct bpf_state *bs)
{
	uint32_t k, next, *kp = NULL;
	struct st_target t;

	while (map_next(bs->skel->maps.targets.map_fd, kp, &next) == 0) {
		k = next;
		kp = &k;
		if (map_lookup(bs->skel->maps.targets.map_fd, &k, &t) == 0 && t.comm[0])
			proc_comm_set(bs->tr, (int)k, t.comm);
	}
}

static void
cleanup(struct bpf_state *bs)
{
	ring_unmap(bs);
	if (bs->skel != NULL)
		systrace__destroy(bs->skel);
	bs->skel = NULL;
	fdevs_release(bs);
	hmap_release(&bs->fds, fdsum_free);
	hmap_release(&bs->fdp, free);
	free(bs->bk);
	free(bs->bv);
	bs->bk = NULL;
	bs->bv = NULL;
}

static int
load(struct bpf_state *bs, char *why, size_t whylen)
{
	int rc;

	bs->ncpu = possible_cpus();
	bs->no_grace = !has_grace();
	errno = 0;
	if ((bs->skel = systrace__open()) == NULL)
		return fail(why, whylen, "BPF programs", errno ? errno : ENOMEM);
	bs->skel->rodata->cfg.failures = bs->tr->opt.failures;
	bs->skel->rodata->cfg.errno_filter = bs->tr->opt.errno_filter;
	bs->skel->rodata->cfg.summary = bs->tr->opt.summary;
	bs->skel->rodata->cfg.diagnose = bs->tr->opt.diagnose;
	if ((rc = systrace__load(bs->skel)) < 0) {
		int e = -rc;

		systrace__destroy(bs->skel);
		bs->skel = NULL;
		return fail(why, whylen, "loading the BPF syscall programs", e);
	}
	if (bs->no_grace)
		fd_keep(bs);
	fill_specs(bs);
	return ring_map(bs, why, whylen);
}

static int
add_targets(struct bpf_state *bs, struct target_set *ts, char *why, size_t whylen)
{
	int e;

	if (ts->child > 0 && (e = target_add(bs, ts->child, 0)) != 0)
		return fail(why, whylen, "adding the command to the BPF target set", e);
	if (ts->child > 0)
		bs->threads0++;
	for (size_t i = 0; i < ts->pids.n; i++) {
		int pid = ts->pids.v[i];

		/* A zombie's pid is still in /proc, but nothing of it can run. */
		if (proc_is_zombie(pid) ||
		    (e = target_add(bs, pid, 1)) == ENOENT || e == ESRCH) {
			warn_gone(pid);
			continue;
		}
		if (e != 0)
			return fail(why, whylen, "adding a pid to the BPF target set", e);
		proc_comm(bs->tr, pid);
		count_threads(bs, pid);
	}
	if (bs->skel->bss->n_procs == 0) {
		snprintf(why, whylen, "no target process is running");
		return -2;
	}
	return 0;
}

static void
capture(struct bpf_state *bs, struct target_set *ts, int sfd)
{
	uint64_t deadline = 0;

	deadline = run_deadline(bs->tr);
	for (;;) {
		struct pollfd pfd[2] = { { sfd, POLLIN, 0 }, { bs->rb.fd, POLLIN, 0 } };
		int timeout = 20;

		if ((timeout = deadline_timeout(deadline, timeout)) < 0)
			break;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		ring_drain(bs);
		fd_swap(bs);
		spawn_reap(ts);
		if (signals_take(bs->tr, sfd))
			break;
		if (bs->skel->bss->n_exited >= bs->skel->bss->n_procs)
			break;
	}
}

static int
run(struct bpf_state *bs, struct target_set *ts, char *why, size_t whylen)
{
	sigset_t set;
	int sfd, rc;

	if (load(bs, why, whylen) != 0 || (rc = add_targets(bs, ts, why, whylen)) == -1) {
		cleanup(bs);
		return -1;
	}
	if (rc == -2) {
		cleanup(bs);
		return -2;
	}
	if ((rc = systrace__attach(bs->skel)) != 0) {
		fail(why, whylen, "attaching the BPF syscall programs", -rc);
		cleanup(bs);
		return -1;
	}
	signals_block(&set);
	if ((sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		fail(why, whylen, "signalfd", errno);
		cleanup(bs);
		return -1;
	}
	if (ts->child > 0)
		spawn_go(&ts->child_gate);
	capture(bs, ts, sfd);
	/* Stop the programs, then take what they left. */
	systrace__detach(bs->skel);
	/*
	 * Detaching does not wait for a program already running: one of a
	 * target still running may yet add to a map or the ring.
	 */
	if (bs->skel->bss->n_exited < bs->skel->bss->n_procs)
		grace(bs);
	ring_drain_all(bs);
	close(sfd);
	if (ts->child > 0 && bs->skel->bss->n_exited >= bs->skel->bss->n_procs)
		spawn_reap_exited(ts);
	bs->tr->stats.threads_seen = bs->threads0 + bs->skel->bss->n_threads;
	bs->tr->stats.procs_exited = bs->skel->bss->n_exited;
	bs->tr->stats.lost = bs->skel->bss->lost + bs->skel->bss->overflow;
	read_targets(bs);
	read_stats(bs);
	read_fdstats(bs);
	cleanup(bs);
	return 0;
}

int
bpf_run(struct trace *tr, struct target_set *ts, char *why, size_t whylen)
{
	struct bpf_state *bs = xcalloc(1, sizeof(*bs));
	int rc;

	bs->tr = tr;
	bs->rb.fd = -1;
	rc = run(bs, ts, why, whylen);
	free(bs);
	return rc;
}
