/*
 * The jitdump reader (jitdump.h). Records are read with pread() at the
 * offset reached so far, and only their fixed part and name: the code
 * bytes that follow a load (most of the file) are never read.
 *
 * Lookups go through a hash of 4 KiB pages to the loads touching each
 * page: JIT code is small (JSC's are mostly under 8 KiB), so a page lists
 * a few loads, more where memory was reused; all are checked for the one
 * loaded last before the sample.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hashmap.h"
#include "jitdump.h"
#include "msg.h"

#define JD_MAGIC 0x4A695444u		/* "JiTD" as the writer's uint32 */
#define JD_MAGIC_SWAPPED 0x4454694Au
#define JD_FLAGS_ARCH_TIMESTAMP 1ull
#define JD_HDR_MIN 40u
#define JD_REC_HDR 16u
#define JD_LOAD_FIXED 40u		/* pid, tid, vma, code_addr, code_size, code_index */
#define JD_MOVE_FIXED 48u
#define JD_NAME_MAX 4096u
#define JD_REC_MAX (256u << 20)	/* no JIT emits a 256 MiB function */
#define JD_CODE_MAX (64ull << 20)
#define PAGE_SHIFT 12

enum { JIT_CODE_LOAD, JIT_CODE_MOVE, JIT_CODE_DEBUG_INFO, JIT_CODE_CLOSE,
	JIT_CODE_UNWINDING_INFO };

/* The loads touching one page, in file order. */
struct page {
	uint32_t *ids, n, cap;
};

struct load_ex {
	struct jd_load l;
	uint64_t index;		/* the writer's code_index, for moves */
};

struct jitdump {
	int fd;			/* -1 for memory */
	const unsigned char *mem;
	size_t memlen;
	uint64_t off;		/* next unread byte */
	int swap, header_done, closed, arch_clock;
	uint32_t pid;
	uint64_t last_ts;	/* the newest load's time read so far */
	char *err;
	struct load_ex *v;
	size_t n, cap;
	struct hmap pages;	/* page number -> struct page */
};

static uint32_t
u32(const struct jitdump *j, const unsigned char *p)
{
	uint32_t x;

	memcpy(&x, p, 4);
	return j->swap ? __builtin_bswap32(x) : x;
}

static uint64_t
u64(const struct jitdump *j, const unsigned char *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return j->swap ? __builtin_bswap64(x) : x;
}

/* Up to len bytes at off; fewer at the end of what is written so far. */
static ssize_t
read_at(struct jitdump *j, void *buf, size_t len, uint64_t off)
{
	if (j->fd < 0) {
		if (off >= j->memlen)
			return 0;
		if (len > j->memlen - off)
			len = j->memlen - (size_t)off;
		memcpy(buf, j->mem + off, len);
		return (ssize_t)len;
	}
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(j->fd, (char *)buf + got, len - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static struct jitdump *
jd_new(void)
{
	struct jitdump *j = xcalloc(1, sizeof(*j));

	j->fd = -1;
	return j;
}

struct jitdump *
jd_open_fd(int fd)
{
	struct jitdump *j = jd_new();

	j->fd = fd;
	return j;
}

struct jitdump *
jd_open_mem(const void *buf, size_t len)
{
	struct jitdump *j = jd_new();

	j->mem = buf;
	j->memlen = len;
	return j;
}

static long fail(struct jitdump *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The first error sticks: the reader stops there. */
static long
fail(struct jitdump *j, const char *fmt, ...)
{
	va_list ap;

	if (j->err != NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&j->err, fmt, ap) < 0)
		j->err = NULL;
	va_end(ap);
	if (j->err == NULL)
		j->err = xstrdup("malformed jitdump");
	return -1;
}

/* ---- the page index ---- */

static void
page_add(struct jitdump *j, uint64_t pg, uint32_t id)
{
	int added;
	void **slot = hmap_insert(&j->pages, &pg, sizeof(pg), &added);
	struct page *p;

	if (added)
		*slot = xcalloc(1, sizeof(*p));
	p = *slot;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 4;
		p->ids = xreallocarray(p->ids, p->cap, sizeof(*p->ids));
	}
	p->ids[p->n++] = id;
}

static void
page_free(void *v)
{
	struct page *p = v;

	free(p->ids);
	free(p);
}

static void
add_load(struct jitdump *j, uint64_t addr, uint64_t size, uint64_t ts, uint32_t tid,
    uint64_t index, const char *name)
{
	struct load_ex *e;

	if (size == 0 || size > JD_CODE_MAX || addr + size < addr)
		return;		/* nothing to find there */
	if (j->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 1024;
		j->v = xreallocarray(j->v, j->cap, sizeof(*j->v));
	}
	e = &j->v[j->n];
	e->l.addr = addr;
	e->l.size = size;
	e->l.ts = ts;
	if (ts > j->last_ts)
		j->last_ts = ts;
	e->l.tid = tid;
	e->l.name = xstrdup(name);
	e->index = index;
	for (uint64_t pg = addr >> PAGE_SHIFT; pg <= (addr + size - 1) >> PAGE_SHIFT; pg++)
		page_add(j, pg, (uint32_t)j->n);
	j->n++;
}

/* ---- records ---- */

static long
read_header(struct jitdump *j)
{
	unsigned char h[JD_HDR_MIN];
	ssize_t r = read_at(j, h, sizeof(h), 0);
	uint32_t magic, total;

	if (r < 0)
		return fail(j, "read error at offset 0");
	if ((size_t)r < sizeof(h))
		return 0;	/* not written yet */
	memcpy(&magic, h, 4);
	if (magic == JD_MAGIC_SWAPPED)
		j->swap = 1;
	else if (magic != JD_MAGIC)
		return fail(j, "not a jitdump (magic 0x%08x)", (unsigned)magic);
	if (u32(j, h + 4) < 1)
		return fail(j, "unsupported jitdump version %u", (unsigned)u32(j, h + 4));
	total = u32(j, h + 8);
	if (total < JD_HDR_MIN || total > 4096)
		return fail(j, "jitdump header size %u is invalid", (unsigned)total);
	j->pid = u32(j, h + 20);
	j->arch_clock = (u64(j, h + 32) & JD_FLAGS_ARCH_TIMESTAMP) != 0;
	j->off = total;
	j->header_done = 1;
	return 0;
}

/* The name after a record's fixed part: NUL-terminated within avail bytes. */
static int
read_name(struct jitdump *j, uint64_t at, uint64_t avail, char *name)
{
	size_t want = avail < JD_NAME_MAX ? (size_t)avail : JD_NAME_MAX;
	ssize_t r = read_at(j, name, want, at);

	if (r < 0 || (size_t)r < want)
		return -1;
	if (memchr(name, '\0', want) == NULL) {
		if (want < JD_NAME_MAX)
			return -1;	/* no terminator inside the record */
		name[JD_NAME_MAX - 1] = '\0';	/* absurdly long: cut */
	}
	return 0;
}

static long
on_load(struct jitdump *j, const unsigned char *rh, uint32_t size)
{
	unsigned char f[JD_LOAD_FIXED];
	char name[JD_NAME_MAX];
	uint64_t addr, csize;

	if (size < JD_REC_HDR + JD_LOAD_FIXED + 1)
		return fail(j, "code load at offset %" PRIu64 ": size %u too small", j->off, (unsigned)size);
	if (read_at(j, f, sizeof(f), j->off + JD_REC_HDR) != (ssize_t)sizeof(f))
		return fail(j, "read error at offset %" PRIu64, j->off);
	addr = u64(j, f + 16);
	csize = u64(j, f + 24);
	if (csize > JD_CODE_MAX || csize > size - JD_REC_HDR - JD_LOAD_FIXED - 1)
		return fail(j, "code load at offset %" PRIu64 ": code size %" PRIu64 " does not fit", j->off, csize);
	if (read_name(j, j->off + JD_REC_HDR + JD_LOAD_FIXED,
	    size - JD_REC_HDR - JD_LOAD_FIXED - csize, name) != 0)
		return fail(j, "code load at offset %" PRIu64 ": name not terminated", j->off);
	add_load(j, addr, csize, u64(j, rh + 8), u32(j, f + 4), u64(j, f + 32), name);
	return 1;
}

/* A move: the code of code_index now lives at new_code_addr. */
static long
on_move(struct jitdump *j, const unsigned char *rh, uint32_t size)
{
	unsigned char f[JD_MOVE_FIXED];
	uint64_t index;

	if (size < JD_REC_HDR + JD_MOVE_FIXED)
		return fail(j, "code move at offset %" PRIu64 ": size %u too small", j->off, (unsigned)size);
	if (read_at(j, f, sizeof(f), j->off + JD_REC_HDR) != (ssize_t)sizeof(f))
		return fail(j, "read error at offset %" PRIu64, j->off);
	index = u64(j, f + 40);
	for (size_t i = j->n; i-- > 0;) {
		if (j->v[i].index != index)
			continue;
		/* add_load may move j->v: copy the name first */
		char *name = xstrdup(j->v[i].l.name);
		uint64_t csize = u64(j, f + 32);

		/* the code moved is no larger than the code loaded (which the file held) */
		if (csize > j->v[i].l.size)
			csize = j->v[i].l.size;
		add_load(j, u64(j, f + 24), csize, u64(j, rh + 8), u32(j, f + 4), index, name);
		free(name);
		return 1;
	}
	return 0;	/* a move of code we never saw loaded */
}

long
jd_update(struct jitdump *j)
{
	long added = 0;

	if (j->err != NULL)
		return -1;
	if (!j->header_done && (read_header(j) < 0 || !j->header_done))
		return j->err ? -1 : 0;
	while (!j->closed) {
		unsigned char rh[JD_REC_HDR], last;
		ssize_t r = read_at(j, rh, sizeof(rh), j->off);
		uint32_t id, size;
		long got = 0;

		if (r < 0)
			return fail(j, "read error at offset %" PRIu64, j->off);
		if ((size_t)r < sizeof(rh))
			break;		/* the writer is mid-record */
		id = u32(j, rh);
		size = u32(j, rh + 4);
		if (size < JD_REC_HDR || size > JD_REC_MAX)
			return fail(j, "record at offset %" PRIu64 ": size %u is invalid", j->off, (unsigned)size);
		/* The whole record must be there before any of it is used. */
		r = read_at(j, &last, 1, j->off + size - 1);
		if (r < 0)
			return fail(j, "read error at offset %" PRIu64, j->off);
		if (r == 0)
			break;
		switch (id) {
		case JIT_CODE_LOAD:
			got = on_load(j, rh, size);
			break;
		case JIT_CODE_MOVE:
			got = on_move(j, rh, size);
			break;
		case JIT_CODE_CLOSE:
			j->closed = 1;
			break;
		default:	/* debug and unwinding info, and ids from later versions */
			break;
		}
		if (got < 0)
			return -1;
		added += got;
		j->off += size;
	}
	return added;
}

long
jd_find(const struct jitdump *j, uint64_t addr, uint64_t ts)
{
	const struct jd_load *best = NULL;
	uint64_t pg = addr >> PAGE_SHIFT;
	void **slot = hmap_find(&j->pages, &pg, sizeof(pg));
	const struct page *p;
	long at = -1;

	if (slot == NULL)
		return -1;
	p = *slot;
	/* ids ascend in file order: a later record wins a tie */
	for (uint32_t i = 0; i < p->n; i++) {
		const struct jd_load *l = &j->v[p->ids[i]].l;

		if (addr - l->addr >= l->size || l->ts > ts)
			continue;
		if (best == NULL || l->ts >= best->ts) {
			best = l;
			at = (long)p->ids[i];
		}
	}
	return at;
}

const struct jd_load *
jd_lookup(const struct jitdump *j, uint64_t addr, uint64_t ts)
{
	long i = jd_find(j, addr, ts);

	return i < 0 ? NULL : &j->v[i].l;
}

size_t
jd_count(const struct jitdump *j)
{
	return j->n;
}

const struct jd_load *
jd_get(const struct jitdump *j, size_t i)
{
	return i < j->n ? &j->v[i].l : NULL;
}

uint32_t
jd_pid(const struct jitdump *j)
{
	return j->pid;
}

int
jd_arch_clock(const struct jitdump *j)
{
	return j->arch_clock;
}

const char *
jd_error(const struct jitdump *j)
{
	return j->err;
}

uint64_t
jd_last_ts(const struct jitdump *j)
{
	return j->last_ts;
}

uint64_t
jd_offset(const struct jitdump *j)
{
	return j->off;
}

void
jd_close(struct jitdump *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	for (size_t i = 0; i < j->n; i++)
		free((char *)j->v[i].l.name);
	hmap_release(&j->pages, page_free);
	free(j->v);
	free(j->err);
	free(j);
}

int
jd_frame_name(const char *name, char *buf, size_t len)
{
	static const char *const tiers[] = { "JSC-Baseline: ", "JSC-DFG: ", "JSC-FTL: " };

	for (size_t i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++) {
		size_t l = strlen(tiers[i]);

		if (strncmp(name, tiers[i], l) == 0 && name[l] != '\0') {
			snprintf(buf, len, "%s", name + l);
			return 1;
		}
	}
	snprintf(buf, len, "%s", name);
	return 0;
}
