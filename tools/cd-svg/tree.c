/* The merged call tree: a node per distinct path, counts summed. */
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "folded.h"
#include "intern.h"
#include "msg.h"
#include "record.h"
#include "svg.h"

void
tree_init(struct tree *t)
{
	memset(t, 0, sizeof(*t));
	t->names = intern_new();
	t->cap = 1024;
	t->v = xcalloc(t->cap, sizeof(*t->v));
	t->n = 1;
	t->v[0].name = intern_id(t->names, "all", 3);
	PAIRIDX_INIT(&t->idx, struct node, parent, name);
	t->diff = -1;
}

void
tree_release(struct tree *t)
{
	for (size_t i = 0; i < t->npending; i++)
		free(t->pending[i]);
	free(t->pending);
	free(t->pending_len);
	intern_free(t->names);
	free(t->v);
	pairidx_release(&t->idx);
	free(t->path);
}

static uint32_t
child(struct tree *t, uint32_t parent, uint32_t name)
{
	uint32_t *slot = pairidx_slot(&t->idx, t->v, parent, name), id;

	if (*slot != 0)
		return *slot;
	if (t->n >= UINT32_MAX - 1)
		msg_die(CD_EXIT_FAIL, "too many distinct frames");
	if (t->n == t->cap) {
		t->cap *= 2;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	id = (uint32_t)t->n++;
	t->v[id] = (struct node){ .name = name, .parent = parent,
	    .sibling = t->v[parent].child };
	t->v[parent].child = id;
	*slot = id;
	pairidx_added(&t->idx, t->v);	/* may move the slots: slot is stale after */
	return id;
}

/*
 * Two-column input is told from one-column by its lines, but a frame name
 * may itself end in a number ("Report 2 31": a path with a space): so the
 * first lines are held until one of them has a single count (one-column),
 * or PENDING_LINES of them (or PENDING_BYTES) all had two, or the input
 * ended. Then they are added, and later lines must agree.
 */
#define PENDING_LINES 100
#define PENDING_BYTES (1u << 20)

/* The counts of one line: one, or two when the input is two-column. */
static int
parse_counts(const struct tree *t, const char *line, size_t len, size_t *sl,
    uint64_t *count, uint64_t *other, const char **why)
{
	size_t sl2;
	uint64_t c2;
	const char *why2;

	*other = 0;
	if (folded_parse(line, len, sl, count, why) < 0)
		return -1;
	if (t->diff != 1)
		return 0;
	if (folded_parse(line, *sl, &sl2, &c2, &why2) < 0) {
		*why = "one count in two-column (differential) input";
		return -1;
	}
	*sl = sl2;
	*other = c2;
	return 0;
}

static int add_line(struct tree *t, const char *line, size_t len, int reverse,
    const char **why);

static void
settle(struct tree *t, int diff)
{
	const char *why;

	t->diff = diff;
	for (size_t i = 0; i < t->npending; i++) {
		add_line(t, t->pending[i], t->pending_len[i], t->pending_reverse, &why);
		free(t->pending[i]);
	}
	free(t->pending);
	free(t->pending_len);
	t->pending = NULL;
	t->pending_len = NULL;
	t->npending = t->pending_bytes = 0;
}

void
tree_end(struct tree *t)
{
	if (t->diff < 0)
		settle(t, t->npending > 0);
}

int
tree_add_line(struct tree *t, const char *line, size_t len, int reverse,
    const char **why)
{
	size_t sl, sl2;
	uint64_t c, c2;
	const char *why2;

	if (t->diff >= 0)
		return add_line(t, line, len, reverse, why);
	if (folded_parse(line, len, &sl, &c, why) < 0)
		return *why ? -1 : 1;	/* malformed either way */
	if (folded_parse(line, sl, &sl2, &c2, &why2) < 0) {
		settle(t, 0);
		return add_line(t, line, len, reverse, why);
	}
	if (t->npending == 0) {
		t->pending = xcalloc(PENDING_LINES, sizeof(*t->pending));
		t->pending_len = xcalloc(PENDING_LINES, sizeof(*t->pending_len));
	}
	t->pending[t->npending] = xmalloc(len ? len : 1);
	memcpy(t->pending[t->npending], line, len);
	t->pending_len[t->npending++] = len;
	t->pending_bytes += len;
	t->pending_reverse = reverse;
	if (t->npending == PENDING_LINES || t->pending_bytes >= PENDING_BYTES)
		settle(t, 1);
	return 0;
}

static int
add_line(struct tree *t, const char *line, size_t len, int reverse,
    const char **why)
{
	size_t sl, start = 0, np = 0;
	uint64_t count, other;
	char *clean = NULL;
	const char *s = line;
	uint32_t at = 0;

	if (parse_counts(t, line, len, &sl, &count, &other, why) < 0)
		return *why ? -1 : 1;
	if (count == 0 && other == 0)
		return 0;
	if (!utf8_valid(line, sl)) {
		clean = utf8_sanitize(line, sl);
		s = clean;
		sl = strlen(clean);
	}
	for (;;) {
		const char *semi = memchr(s + start, ';', sl - start);
		size_t e = semi ? (size_t)(semi - s) : sl;

		if (np == t->pathcap) {
			t->pathcap = t->pathcap ? t->pathcap * 2 : 256;
			t->path = xreallocarray(t->path, t->pathcap, sizeof(*t->path));
		}
		t->path[np++] = intern_id(t->names, s + start, e - start);
		if (semi == NULL)
			break;
		start = e + 1;
	}
	free(clean);
	t->saturated |= folded_add(&t->v[0].total, count);
	t->saturated |= folded_add(&t->v[0].other, other);
	for (size_t i = 0; i < np; i++) {
		at = child(t, at, t->path[reverse ? np - 1 - i : i]);
		t->saturated |= folded_add(&t->v[at].total, count);
		t->saturated |= folded_add(&t->v[at].other, other);
	}
	return 0;
}

void
tree_add_buffer(struct tree *t, const char *buf, size_t len, int reverse)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i), *why;
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;

		t->lineno++;
		if (tree_add_line(t, buf + i, n, reverse, &why) < 0)
			t->bad++;
		i += n + 1;
	}
	tree_end(t);
}

static const struct tree *sort_tree;

static int
cmp_name(const void *a, const void *b)
{
	size_t la, lb;
	const char *x = intern_str(sort_tree->names, sort_tree->v[*(const uint32_t *)a].name, &la);
	const char *y = intern_str(sort_tree->names, sort_tree->v[*(const uint32_t *)b].name, &lb);
	int c = memcmp(x, y, la < lb ? la : lb);

	return c ? c : (la > lb) - (la < lb);
}

void
tree_sort(struct tree *t)
{
	uint32_t *kids = NULL;
	size_t cap = 0;

	tree_end(t);
	sort_tree = t;
	for (size_t p = 0; p < t->n; p++) {
		size_t k = 0;

		for (uint32_t c = t->v[p].child; c; c = t->v[c].sibling) {
			if (k == cap) {
				cap = cap ? cap * 2 : 64;
				kids = xreallocarray(kids, cap, sizeof(*kids));
			}
			kids[k++] = c;
		}
		if (k < 2)
			continue;
		qsort(kids, k, sizeof(*kids), cmp_name);
		t->v[p].child = kids[0];
		for (size_t i = 0; i + 1 < k; i++)
			t->v[kids[i]].sibling = kids[i + 1];
		t->v[kids[k - 1]].sibling = 0;
	}
	free(kids);
}
