/*
 * JavaScriptCore frame names from the target's stack and heap: see
 * jsc_frames.h for the method; the layouts table is jsc_layouts.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsc_frames.h"
#include "js_util.h"
#include "msg.h"

#define HDR_WORDS 6		/* caller fp, return pc, CodeBlock, callee, argc, this */
#define CELL_TYPE 5		/* JSCell: StructureID (4), indexing type, JSType */
#define CELL_ALIGN 16		/* MarkedBlock atoms */
#define USER_TOP 0x800000000000ull	/* x86-64 user space ends below */
#define STR_HDR 24		/* refcount, length, characters, hash and flags */
#define STR_8BIT (1u << 2)
#define STR_ATOM (1u << 4)
#define STR_SYMBOL (1u << 5)
#define CACHE_SLOTS 4096	/* direct-mapped, by CodeBlock address */
#define ARGC_MAX 65536
#define ANON "(anonymous)"

struct centry {
	uint64_t cb, exec, unlinked;
	const char *name;
};

struct jsc_walker {
	struct jsc_layout l;
	struct js_reader r;
	struct centry *cache;
	struct jsc_stats st;
};

static int
cell_ptr(uint64_t p)
{
	return p != 0 && p % CELL_ALIGN == 0 && p < USER_TOP && p >= 0x10000;
}

static uint64_t
word(const unsigned char *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

struct jsc_walker *
jsc_walker_new(const struct jsc_layout *l, js_read_fn rd, void *arg)
{
	struct jsc_walker *w = xcalloc(1, sizeof(*w));

	w->l = *l;
	js_reader_init(&w->r, rd, arg);
	w->cache = xcalloc(CACHE_SLOTS, sizeof(*w->cache));
	return w;
}

void
jsc_walker_free(struct jsc_walker *w)
{
	if (w == NULL)
		return;
	js_reader_release(&w->r);
	free(w->cache);
	free(w);
}

void
jsc_walker_set_code(struct jsc_walker *w, const uint64_t *ranges, size_t n)
{
	js_reader_set_code(&w->r, ranges, n);
}

void
jsc_walker_flush(struct jsc_walker *w)
{
	memset(w->cache, 0, CACHE_SLOTS * sizeof(*w->cache));
}

const struct jsc_stats *
jsc_walker_stats(const struct jsc_walker *w)
{
	return &w->st;
}

static int
in_code(const struct jsc_walker *w, uint64_t a)
{
	return js_in_ranges(w->r.code, w->r.ncode, a);
}

/*
 * The characters of a StringImpl, as UTF-8 into out (JS_NAME_BUF).
 * Returns the length, or -1 when unreadable or not an identifier's.
 */
static long
read_string(js_read_fn rd, void *arg, uint64_t s, char *out)
{
	unsigned char h[STR_HDR];
	unsigned char raw[2 * JS_NAME_MAX];
	uint32_t len, flags;
	uint64_t data;

	if (s % 8 != 0 || s >= USER_TOP || rd(arg, s, h, sizeof(h)) != 0)
		return -1;
	memcpy(&len, h + 4, 4);
	data = word(h, 8);
	memcpy(&flags, h + 16, 4);
	if (!(flags & (STR_ATOM | STR_SYMBOL)) || len > JS_NAME_MAX)
		return -1;
	if (len == 0)
		return 0;
	if (data == 0 || data >= USER_TOP)
		return -1;
	if (data % 2 != 0 && !(flags & STR_8BIT))
		return -1;
	if (rd(arg, data, raw, (flags & STR_8BIT) ? len : 2 * (size_t)len) != 0)
		return -1;
	return js_text_utf8(raw, len, !(flags & STR_8BIT), out);
}

/*
 * The cell at p when its type byte is type: its first need bytes into buf
 * (need <= JSC_OFF_MAX + 8). Returns 0 or -1.
 */
static int
read_cell(const struct jsc_walker *w, uint64_t p, uint8_t type, unsigned char *buf,
    size_t need)
{
	if (!cell_ptr(p) || w->r.rd(w->r.arg, p, buf, need) != 0)
		return -1;
	return buf[CELL_TYPE] == type ? 0 : -1;
}

/* The name of the function whose CodeBlock is cb, or NULL; its executable. */
static const char *
name_of(struct jsc_walker *w, uint64_t cb, uint64_t *execp)
{
	unsigned char b[JSC_OFF_MAX + 8];
	const struct jsc_layout *l = &w->l;
	struct centry *e = &w->cache[(cb / CELL_ALIGN) % CACHE_SLOTS];
	uint64_t exec, unlinked, str;
	char name[JS_NAME_BUF];
	long len;

	if (read_cell(w, cb, l->type_cb, b, (size_t)l->cb_owner + 8) != 0) {
		w->st.not_js++;
		return NULL;
	}
	exec = word(b, l->cb_owner);
	*execp = exec;
	if (read_cell(w, exec, l->type_exec, b, (size_t)l->exec_unlinked + 8) != 0) {
		w->st.not_js++;
		return NULL;
	}
	unlinked = word(b, l->exec_unlinked);
	/*
	 * CodeBlock and executable reread, so a cell freed and reused since
	 * the name was cached is noticed unless both slots were reused
	 * together by one other function.
	 */
	if (e->cb == cb && e->exec == exec && e->unlinked == unlinked && e->name != NULL) {
		w->st.cached++;
		return e->name;
	}
	if (read_cell(w, unlinked, l->type_unlinked, b, (size_t)l->unlinked_name + 8) != 0) {
		w->st.not_js++;
		return NULL;
	}
	str = word(b, l->unlinked_name);
	len = str == 0 ? 0 : read_string(w->r.rd, w->r.arg, str, name);
	if (len < 0) {
		w->st.bad_name++;
		return NULL;
	}
	e->cb = cb;
	e->exec = exec;
	e->unlinked = unlinked;
	e->name = len == 0 ? js_names_keep(w->r.names, ANON, strlen(ANON)) :
	    js_names_keep(w->r.names, name, (size_t)len);
	return e->name;
}

/* The frame header at fp: from the stack copy when it holds it. */
static int
read_header(const struct jsc_walker *w, const struct js_sample *s, uint64_t fp,
    uint64_t *hdr)
{
	size_t need = HDR_WORDS * sizeof(uint64_t);

	if (fp % 8 != 0 || fp >= USER_TOP)
		return -1;
	return js_stack_read(s, w->r.rd, w->r.arg, fp, hdr, need);
}

/* Does the frame's callee run exec? */
static int
callee_runs(const struct jsc_walker *w, uint64_t callee, uint64_t exec)
{
	uint64_t v;

	return w->l.callee_exec != 0 && cell_ptr(callee) &&
	    w->r.rd(w->r.arg, callee + w->l.callee_exec, &v, sizeof(v)) == 0 && v == exec;
}

/*
 * The innermost frame: bp is its own only once its prologue has pushed
 * the caller's and before the epilogue popped it. At entry and after the
 * epilogue [sp] is the return address, right after the push it is the
 * caller's bp: either way bp is still the caller's frame.
 */
static int
leaf_frame_built(const struct jsc_walker *w, const struct js_sample *s)
{
	uint64_t top;

	if (w->r.ncode == 0 || s->stack == NULL || s->stack_len < 8 || s->sp >= s->bp)
		return 0;
	top = word(s->stack, 0);
	return top != s->bp && !in_code(w, top);
}

size_t
jsc_walk(struct jsc_walker *w, const struct js_sample *s, const uint64_t *pcs, size_t n,
    const char **names)
{
	uint64_t fp = s->bp, hdr[HDR_WORDS];
	size_t named = 0;

	for (size_t i = 0; i < n; i++)
		names[i] = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *nm;
		uint64_t exec = 0;
		uint32_t argc;

		w->st.frames++;
		if (read_header(w, s, fp, hdr) != 0 ||
		    (i + 1 < n && hdr[1] != pcs[i + 1])) {
			/* off the sampled chain: what is left was not the sample's */
			w->st.no_header++;
			break;
		}
		argc = (uint32_t)hdr[4];
		if (i == 0 && !leaf_frame_built(w, s)) {
			w->st.leaf_skipped++;
		} else if (argc >= 1 && argc <= ARGC_MAX && (nm = name_of(w, hdr[2], &exec)) != NULL) {
			if (i == 0 && !callee_runs(w, hdr[3], exec)) {
				w->st.leaf_skipped++;
			} else {
				names[i] = nm;
				named++;
				w->st.named++;
			}
		} else if (argc < 1 || argc > ARGC_MAX) {
			w->st.not_js++;
		}
		if (hdr[0] <= fp)
			break;
		fp = hdr[0];
	}
	return named;
}

size_t
jsc_chain(const struct js_sample *s, js_read_fn rd, void *arg, uint64_t *pcs, size_t max)
{
	struct jsc_walker w;
	uint64_t fp = s->bp, hdr[HDR_WORDS];
	size_t n = 0;

	memset(&w, 0, sizeof(w));
	w.r.rd = rd;
	w.r.arg = arg;
	if (max == 0)
		return 0;
	pcs[n++] = s->ip;
	while (n < max && read_header(&w, s, fp, hdr) == 0 && hdr[1] != 0) {
		pcs[n++] = hdr[1];
		if (hdr[0] <= fp)
			break;
		fp = hdr[0];
	}
	return n;
}

size_t
jsc_headers(const struct js_sample *s, js_read_fn rd, void *arg, const uint64_t *pcs,
    size_t n, uint64_t *cbs, uint64_t *callees)
{
	struct jsc_walker w;
	uint64_t fp = s->bp, hdr[HDR_WORDS];
	size_t i;

	memset(&w, 0, sizeof(w));
	w.r.rd = rd;
	w.r.arg = arg;
	for (i = 0; i < n; i++) {
		if (read_header(&w, s, fp, hdr) != 0 || (i + 1 < n && hdr[1] != pcs[i + 1]))
			break;
		cbs[i] = hdr[2];
		callees[i] = hdr[3];
		if (hdr[0] <= fp) {
			i++;
			break;
		}
		fp = hdr[0];
	}
	return i;
}

void
jsc_plain_name(const char *jd_name, char *buf, size_t len)
{
	const char *p = strstr(jd_name, ": ");
	const char *h;
	size_t l;

	if (len == 0)
		return;
	if (strncmp(jd_name, "JSC-", 4) == 0 && p != NULL)
		jd_name = p + 2;
	h = strrchr(jd_name, '#');
	l = h != NULL ? (size_t)(h - jd_name) : strlen(jd_name);
	if (l >= len)
		l = len - 1;
	memcpy(buf, jd_name, l);
	buf[l] = '\0';
}

/* ---- learning ---- */

#define LEARN_OFFS (JSC_OFF_MAX / 8)
#define LEARN_NV ((size_t)LEARN_OFFS * LEARN_OFFS * LEARN_OFFS)
#define LEARN_SEARCH 64		/* named pairs searched before checking */
#define LEARN_CANDS 8

struct cand {
	struct jsc_layout l;
	struct jsc_walker *w;
	unsigned long votes, agree, differ, unnamed;
	unsigned long callee[LEARN_OFFS];
};

struct jsc_learner {
	js_read_fn rd;
	void *arg;
	uint32_t *votes;	/* by path: (o1, o2, o3) / 8 */
	uint8_t *types;		/* by path: the cells' type bytes when it last hit */
	unsigned long searched;
	struct cand cands[LEARN_CANDS];
	size_t ncands;
	int frozen;
};

/* Does the StringImpl at s hold exactly want? */
static int
string_is(js_read_fn rd, void *arg, uint64_t s, const char *want)
{
	char got[JS_NAME_BUF];

	return read_string(rd, arg, s, got) >= 0 && strcmp(got, want) == 0;
}

/*
 * Votes for every (o1, o2, o3) leading from cb to a StringImpl holding
 * name: cb+o1 -> p1, p1+o2 -> p2, p2+o3 -> the string.
 */
static void
search_pair(struct jsc_learner *le, uint64_t cb, const char *name)
{
	unsigned char b1[JSC_OFF_MAX], b2[JSC_OFF_MAX], b3[JSC_OFF_MAX];
	js_read_fn rd = le->rd;
	void *arg = le->arg;

	if (!cell_ptr(cb) || rd(arg, cb, b1, sizeof(b1)) != 0)
		return;
	for (size_t o1 = 8; o1 < JSC_OFF_MAX; o1 += 8) {
		uint64_t p1 = word(b1, o1);

		if (!cell_ptr(p1) || rd(arg, p1, b2, sizeof(b2)) != 0)
			continue;
		for (size_t o2 = 8; o2 < JSC_OFF_MAX; o2 += 8) {
			uint64_t p2 = word(b2, o2);

			if (!cell_ptr(p2) || rd(arg, p2, b3, sizeof(b3)) != 0)
				continue;
			for (size_t o3 = 8; o3 < JSC_OFF_MAX; o3 += 8) {
				uint64_t p3 = word(b3, o3);
				size_t v = ((o1 / 8) * LEARN_OFFS + o2 / 8) * LEARN_OFFS + o3 / 8;

				if (p3 == 0 || p3 % 8 != 0 || !string_is(rd, arg, p3, name))
					continue;
				le->votes[v]++;
				le->types[3 * v] = b1[CELL_TYPE];
				le->types[3 * v + 1] = b2[CELL_TYPE];
				le->types[3 * v + 2] = b3[CELL_TYPE];
			}
		}
	}
}

struct jsc_learner *
jsc_learner_new(js_read_fn rd, void *arg)
{
	struct jsc_learner *le = xcalloc(1, sizeof(*le));

	le->rd = rd;
	le->arg = arg;
	le->votes = xcalloc(LEARN_NV, sizeof(*le->votes));
	le->types = xcalloc(LEARN_NV, 3);
	return le;
}

void
jsc_learner_free(struct jsc_learner *le)
{
	if (le == NULL)
		return;
	for (size_t i = 0; i < le->ncands; i++)
		jsc_walker_free(le->cands[i].w);
	free(le->votes);
	free(le->types);
	free(le);
}

/*
 * The paths that tie or nearly tie in votes (JSC keeps a function's name
 * in two fields that usually agree) become candidates, told apart by the
 * pairs that come after.
 */
static void
freeze(struct jsc_learner *le)
{
	size_t top = 0;

	le->frozen = 1;
	for (size_t i = 1; i < LEARN_NV; i++)
		if (le->votes[i] > le->votes[top])
			top = i;
	for (size_t i = 0; le->votes[top] > 0 && i < LEARN_NV && le->ncands < LEARN_CANDS; i++) {
		struct cand *c = &le->cands[le->ncands];

		if (le->votes[i] * 2 < le->votes[top])
			continue;
		memset(c, 0, sizeof(*c));
		c->l.cb_owner = (uint16_t)(i / (LEARN_OFFS * LEARN_OFFS) * 8);
		c->l.exec_unlinked = (uint16_t)(i / LEARN_OFFS % LEARN_OFFS * 8);
		c->l.unlinked_name = (uint16_t)(i % LEARN_OFFS * 8);
		c->l.type_cb = le->types[3 * i];
		c->l.type_exec = le->types[3 * i + 1];
		c->l.type_unlinked = le->types[3 * i + 2];
		c->votes = le->votes[i];
		c->w = jsc_walker_new(&c->l, le->rd, le->arg);
		le->ncands++;
	}
}

/* A pair checked against every candidate, now, while its cells live. */
static void
check_pair(struct jsc_learner *le, const struct jsc_pair *p)
{
	const char *want = p->name[0] ? p->name : ANON;
	unsigned char b[JSC_OFF_MAX];
	int have_callee = cell_ptr(p->callee) &&
	    le->rd(le->arg, p->callee, b, sizeof(b)) == 0;

	for (size_t i = 0; i < le->ncands; i++) {
		struct cand *c = &le->cands[i];
		uint64_t exec = 0;
		const char *got = name_of(c->w, p->cb, &exec);

		if (got == NULL) {
			c->unnamed++;
			continue;
		}
		if (strcmp(got, want) != 0) {
			c->differ++;
			continue;
		}
		c->agree++;
		for (unsigned o = 1; have_callee && o < LEARN_OFFS; o++)
			if (word(b, 8 * o) == exec)
				c->callee[o]++;
	}
}

void
jsc_learner_add(struct jsc_learner *le, const struct jsc_pair *p)
{
	if (!le->frozen && le->searched < LEARN_SEARCH) {
		/* Anonymous functions say nothing about where names are. */
		if (p->name[0] != '\0') {
			search_pair(le, p->cb, p->name);
			le->searched++;
		}
		return;
	}
	if (!le->frozen)
		freeze(le);
	check_pair(le, p);
}

void
jsc_learner_freeze(struct jsc_learner *le)
{
	if (!le->frozen)
		freeze(le);
}

int
jsc_learner_result(struct jsc_learner *le, unsigned long min_agree, struct jsc_learned *out)
{
	const struct cand *best = NULL;

	memset(out, 0, sizeof(*out));
	out->tried = le->searched;
	if (!le->frozen)
		freeze(le);
	/* The fewest wrong names, then the most right ones. */
	for (size_t i = 0; i < le->ncands; i++) {
		const struct cand *c = &le->cands[i];

		if (c->agree < min_agree)
			continue;
		if (best == NULL || c->differ * (best->agree + 1) < best->differ * (c->agree + 1) ||
		    (c->differ * (best->agree + 1) == best->differ * (c->agree + 1) &&
		    c->agree > best->agree))
			best = c;
	}
	if (best == NULL && le->ncands > 0)
		best = &le->cands[0];
	if (best == NULL)
		return -1;
	out->l = best->l;
	out->votes = best->votes;
	out->agree = best->agree;
	out->differ = best->differ;
	out->unnamed = best->unnamed;
	for (unsigned o = 1; o < LEARN_OFFS; o++)
		if (best->callee[o] > best->callee[out->l.callee_exec / 8])
			out->l.callee_exec = (uint16_t)(8 * o);
	if (best->callee[out->l.callee_exec / 8] * 2 < best->agree)
		out->l.callee_exec = 0;	/* too few agree: the leaf stays unnamed */
	/* A wrong name in 200 is read after its cell was freed, not a layout. */
	return out->agree >= min_agree && out->differ * 200 <= out->agree ? 0 : -1;
}
