/*
 * --tree: the folded stacks as an indented call tree, the counterpart of
 * macOS sample's "Call graph" and perf report --stdio: each frame with its
 * total count (itself and below), its share of all counts and its self
 * count; siblings hottest first, so the first lines follow the hottest
 * path. Frames under min_pct of the total are left out and summed in one
 * line per parent, so the tree stays readable on a capture of thousands of
 * distinct stacks.
 */
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "fold.h"
#include "folded.h"
#include "intern.h"
#include "msg.h"
#include "pairidx.h"

#define MAX_INDENT 48		/* deeper frames say their depth instead */

struct tnode {
	uint32_t frame, parent;
	uint64_t total, self;
	uint32_t kids, nkids;	/* range in the sorted order */
};

struct ttree {
	struct tnode *v;
	size_t n, cap;
	struct pairidx idx;
	const struct intern *frames;
};

static uint32_t
child(struct ttree *t, uint32_t parent, uint32_t frame)
{
	uint32_t *slot = pairidx_slot(&t->idx, t->v, parent, frame), id;

	if (*slot != 0)
		return *slot;
	if (t->n >= UINT32_MAX - 1)
		msg_die(CD_EXIT_FAIL, "too many call tree nodes");
	if (t->n == t->cap) {
		t->cap *= 2;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	id = (uint32_t)t->n++;
	t->v[id] = (struct tnode){ .frame = frame, .parent = parent };
	*slot = id;
	pairidx_added(&t->idx, t->v);	/* may move the slots: slot is stale after */
	return id;
}

static void
build(struct ttree *t, const struct stacktab *st)
{
	const uint32_t *ids;
	size_t n;
	uint64_t count;
	uint32_t label;

	for (size_t i = 0; i < stacktab_slots(st); i++) {
		uint32_t at = 0;

		if (!stacktab_entry(st, i, &ids, &n, &count, &label) || count == 0)
			continue;
		folded_add(&t->v[0].total, count);
		for (size_t k = 0; k < n; k++) {
			at = child(t, at, ids[k]);
			folded_add(&t->v[at].total, count);
		}
		folded_add(&t->v[at].self, count);
	}
}

static const struct ttree *sort_t;

/* By parent, then hottest first, then by name: siblings end up together. */
static int
cmp_node(const void *a, const void *b)
{
	const struct tnode *x = &sort_t->v[*(const uint32_t *)a];
	const struct tnode *y = &sort_t->v[*(const uint32_t *)b];
	const char *sx, *sy;
	size_t lx, ly;
	int c;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	sx = intern_str(sort_t->frames, x->frame, &lx);
	sy = intern_str(sort_t->frames, y->frame, &ly);
	c = memcmp(sx, sy, lx < ly ? lx : ly);
	return c ? c : (lx > ly) - (lx < ly);
}

/* Frame names go to a terminal: no control characters. */
static void
put_name(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		putc(c < 0x20 || c == 0x7f ? '?' : c, out);
	}
}

/* self UINT64_MAX: a summary line, no self count */
static void
line(FILE *out, int w, double pct, uint64_t total, uint64_t self, size_t depth)
{
	fprintf(out, "%6.1f%% %*llu ", pct, w, (unsigned long long)total);
	if (self == UINT64_MAX)
		fprintf(out, "%*s  ", w, "");
	else
		fprintf(out, "%*llu  ", w, (unsigned long long)self);
	if (depth > MAX_INDENT)
		fprintf(out, "%*s[%zu] ", MAX_INDENT * 2, "", depth);
	else
		fprintf(out, "%*s", (int)depth * 2, "");
}

struct item {
	uint32_t node;		/* UINT32_MAX: the "more under" line */
	uint32_t nhidden;
	size_t depth;
	uint64_t hidden;
};

static void
push(struct item **st, size_t *n, size_t *cap, struct item it)
{
	if (*n == *cap) {
		*cap *= 2;
		*st = xreallocarray(*st, *cap, sizeof(**st));
	}
	(*st)[(*n)++] = it;
}

/* Count columns as wide as the total (at least 9, as the tests expect). */
static int
count_width(uint64_t total)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)total);

	return n > 9 ? n : 9;
}

static int
emit(const struct ttree *t, const uint32_t *order, double min_pct, FILE *out)
{
	int w = count_width(t->v[0].total);
	size_t n = 0, cap = 256;
	struct item *st = xmalloc(cap * sizeof(*st));
	double all = (double)t->v[0].total;

	push(&st, &n, &cap, (struct item){ .node = 0 });
	while (n > 0) {
		struct item it = st[--n];
		const struct tnode *nd;
		size_t kd = it.node ? it.depth + 1 : 0;
		struct item sum = { .node = UINT32_MAX, .depth = kd };
		uint32_t shown = 0;

		if (it.node == UINT32_MAX) {
			line(out, w, 100.0 * (double)it.hidden / all, it.hidden,
			    UINT64_MAX, it.depth);
			fprintf(out, "(%u more under %g%%)\n", it.nhidden, min_pct);
			continue;
		}
		nd = &t->v[it.node];
		if (it.node != 0) {
			size_t len;
			const char *s = intern_str(t->frames, nd->frame, &len);

			line(out, w, 100.0 * (double)nd->total / all, nd->total,
			    nd->self, it.depth);
			put_name(out, s, len);
			putc('\n', out);
		}
		/* siblings are hottest first: the shown ones are a prefix */
		for (uint32_t k = 0; k < nd->nkids; k++) {
			const struct tnode *c = &t->v[order[nd->kids + k]];

			if (100.0 * (double)c->total / all >= min_pct) {
				shown++;
				continue;
			}
			folded_add(&sum.hidden, c->total);
			sum.nhidden++;
		}
		if (sum.nhidden > 0)
			push(&st, &n, &cap, sum);
		for (uint32_t k = shown; k > 0; k--)
			push(&st, &n, &cap, (struct item){ .node = order[nd->kids + k - 1],
			    .depth = kd });
	}
	free(st);
	return ferror(out) ? -1 : 0;
}

int
fold_tree_write(const struct fold *f, double min_pct, FILE *out)
{
	struct ttree t = { .cap = 1024, .n = 1, .frames = f->frames };
	uint32_t *order;
	int r;

	t.v = xcalloc(t.cap, sizeof(*t.v));
	PAIRIDX_INIT(&t.idx, struct tnode, parent, frame);
	build(&t, f->stacks);
	fprintf(out, "# call tree: %llu %s in %zu distinct stack%s; frames under %g%% left out\n",
	    (unsigned long long)t.v[0].total, fold_unit(f),
	    stacktab_count(f->stacks), stacktab_count(f->stacks) == 1 ? "" : "s",
	    min_pct);
	fprintf(out, "%7s %*s %*s  %s\n", "TOTAL", count_width(t.v[0].total), "COUNT",
	    count_width(t.v[0].total), "SELF", "STACK");
	if (t.v[0].total == 0) {
		free(t.v);
		pairidx_release(&t.idx);
		return ferror(out) ? -1 : 0;
	}
	order = xmalloc(t.n * sizeof(*order));
	for (size_t i = 1; i < t.n; i++)
		order[i - 1] = (uint32_t)i;
	sort_t = &t;
	qsort(order, t.n - 1, sizeof(*order), cmp_node);
	for (size_t i = 0; i < t.n - 1; i++) {
		struct tnode *p = &t.v[t.v[order[i]].parent];

		if (p->nkids++ == 0)
			p->kids = (uint32_t)i;
	}
	r = emit(&t, order, min_pct, out);
	free(order);
	free(t.v);
	pairidx_release(&t.idx);
	return r;
}
