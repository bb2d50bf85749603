/*
 * Distinct stacks and their counts. A stack is stored once as an array of
 * frame ids; input size only costs time.
 */
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "fold.h"
#include "folded.h"
#include "hashmap.h"
#include "intern.h"
#include "msg.h"

struct entry {
	uint64_t hash, count;
	size_t off;		/* into ids */
	uint32_t n;
	uint32_t label;		/* thread/process label id, 0 none (pprof) */
	uint32_t used;
};

struct stacktab {
	struct entry *e;
	size_t nslots, n;
	uint32_t *ids;
	size_t nids, capids;
};

struct stacktab *
stacktab_new(void)
{
	struct stacktab *t = xcalloc(1, sizeof(*t));

	t->nslots = 1024;
	t->e = xcalloc(t->nslots, sizeof(*t->e));
	return t;
}

void
stacktab_free(struct stacktab *t)
{
	if (t == NULL)
		return;
	free(t->e);
	free(t->ids);
	free(t);
}

size_t
stacktab_count(const struct stacktab *t)
{
	return t->n;
}

static void
grow(struct stacktab *t)
{
	size_t n = t->nslots * 2, mask = n - 1;
	struct entry *e = xcalloc(n, sizeof(*e));

	for (size_t i = 0; i < t->nslots; i++) {
		size_t j;

		if (!t->e[i].used)
			continue;
		for (j = t->e[i].hash & mask; e[j].used; j = (j + 1) & mask)
			;
		e[j] = t->e[i];
	}
	free(t->e);
	t->e = e;
	t->nslots = n;
}

static size_t
slot_of(const struct stacktab *t, const uint32_t *ids, size_t n,
    uint32_t label, uint64_t h)
{
	size_t mask = t->nslots - 1, j;

	for (j = h & mask; t->e[j].used; j = (j + 1) & mask) {
		const struct entry *e = &t->e[j];

		if (e->hash == h && e->n == n && e->label == label &&
		    memcmp(t->ids + e->off, ids, n * sizeof(*ids)) == 0)
			break;
	}
	return j;
}

static uint64_t
hash_of(const uint32_t *ids, size_t n, uint32_t label)
{
	return hmap_hash(ids, n * sizeof(*ids), 0x5eed + label);
}

uint64_t
stacktab_get_label(const struct stacktab *t, const uint32_t *ids, size_t n,
    uint32_t label)
{
	size_t j = slot_of(t, ids, n, label, hash_of(ids, n, label));

	return t->e[j].used ? t->e[j].count : 0;
}

uint64_t
stacktab_get(const struct stacktab *t, const uint32_t *ids, size_t n)
{
	return stacktab_get_label(t, ids, n, 0);
}

int
stacktab_entry(const struct stacktab *t, size_t slot, const uint32_t **ids,
    size_t *n, uint64_t *count, uint32_t *label)
{
	const struct entry *e;

	if (slot >= t->nslots || !t->e[slot].used)
		return 0;
	e = &t->e[slot];
	*ids = t->ids + e->off;
	*n = e->n;
	*count = e->count;
	*label = e->label;
	return 1;
}

size_t
stacktab_slots(const struct stacktab *t)
{
	return t->nslots;
}

int
stacktab_add(struct stacktab *t, const uint32_t *ids, size_t n, uint64_t count)
{
	return stacktab_add_label(t, ids, n, 0, count);
}

int
stacktab_add_label(struct stacktab *t, const uint32_t *ids, size_t n,
    uint32_t label, uint64_t count)
{
	uint64_t h = hash_of(ids, n, label);
	size_t j = slot_of(t, ids, n, label, h);

	if (t->e[j].used)
		return folded_add(&t->e[j].count, count);
	if (n >= UINT32_MAX)
		msg_die(CD_EXIT_FAIL, "stack too deep");
	while (t->nids + n > t->capids) {
		t->capids = t->capids ? t->capids * 2 : 4096;
		t->ids = xreallocarray(t->ids, t->capids, sizeof(*t->ids));
	}
	memcpy(t->ids + t->nids, ids, n * sizeof(*ids));
	t->e[j] = (struct entry){ .hash = h, .count = count, .off = t->nids,
	    .n = (uint32_t)n, .label = label, .used = 1 };
	t->nids += n;
	if (++t->n * 4 > t->nslots * 3)
		grow(t);
	return 0;
}

static int
cmp_line(const void *a, const void *b)
{
	const struct fold_line *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);

	if (c != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/*
 * Every stack as its joined text, sorted by bytes as stackcollapse's
 * `sort { $a cmp $b }`, so the output is stable and diffable. The texts
 * live in one block, *text, freed by the caller with the array.
 */
struct fold_line *
stacktab_lines(const struct stacktab *t, const struct intern *frames,
    size_t *nlines, char **text)
{
	struct fold_line *lines = xcalloc(t->n ? t->n : 1, sizeof(*lines));
	size_t total = 0, k = 0, used = 0;

	for (size_t i = 0; i < t->nslots; i++) {
		const struct entry *e = &t->e[i];

		if (!e->used)
			continue;
		for (uint32_t f = 0; f < e->n; f++) {
			size_t len;

			intern_str(frames, t->ids[e->off + f], &len);
			total += len + 1;
		}
	}
	*text = xmalloc(total + 1);
	for (size_t i = 0; i < t->nslots; i++) {
		const struct entry *e = &t->e[i];
		size_t start = used;

		if (!e->used)
			continue;
		for (uint32_t f = 0; f < e->n; f++) {
			size_t len;
			const char *s = intern_str(frames, t->ids[e->off + f], &len);

			if (f > 0)
				(*text)[used++] = ';';
			memcpy(*text + used, s, len);
			used += len;
		}
		lines[k++] = (struct fold_line){ *text + start, used - start,
		    e->count, t->ids + e->off, e->n };
	}
	qsort(lines, k, sizeof(*lines), cmp_line);
	*nlines = k;
	return lines;
}

int
stacktab_write(const struct stacktab *t, const struct intern *frames, FILE *out)
{
	size_t k;
	char *text;
	struct fold_line *lines = stacktab_lines(t, frames, &k, &text);

	for (size_t i = 0; i < k; i++) {
		fwrite(lines[i].s, 1, lines[i].len, out);
		fprintf(out, " %llu\n", (unsigned long long)lines[i].count);
	}
	free(text);
	free(lines);
	return ferror(out) ? -1 : 0;
}
