/*
 * --diff A B: the two-column folded format of FlameGraph's difffolded.pl,
 * "stack COUNT_A COUNT_B", one line per stack seen in either input (0 where
 * the other never had it), sorted like the one-column output. With
 * normalize, A's counts are scaled to B's total first (difffolded.pl -n:
 * int(a * total_b / total_a)), so that a capture twice as long does not
 * paint every frame red.
 */
#include <stdlib.h>

#include "fold.h"
#include "folded.h"

__extension__ typedef unsigned __int128 u128;

static uint64_t
total_of(const struct stacktab *t)
{
	uint64_t sum = 0, count;
	const uint32_t *ids;
	size_t n;
	uint32_t label;

	for (size_t i = 0; i < stacktab_slots(t); i++)
		if (stacktab_entry(t, i, &ids, &n, &count, &label))
			folded_add(&sum, count);
	return sum;
}

static void
add_all(struct stacktab *u, const struct stacktab *t)
{
	uint64_t count;
	const uint32_t *ids;
	size_t n;
	uint32_t label;

	for (size_t i = 0; i < stacktab_slots(t); i++)
		if (stacktab_entry(t, i, &ids, &n, &count, &label))
			stacktab_add(u, ids, n, 0);
}

int
fold_diff_write(const struct stacktab *a, const struct stacktab *b,
    const struct intern *frames, int normalize, FILE *out, struct fold_diff *d)
{
	struct stacktab *u = stacktab_new();
	struct fold_line *lines;
	size_t k;
	char *text;

	*d = (struct fold_diff){ .total_a = total_of(a), .total_b = total_of(b) };
	add_all(u, a);
	add_all(u, b);
	lines = stacktab_lines(u, frames, &k, &text);
	for (size_t i = 0; i < k; i++) {
		uint64_t ca = stacktab_get(a, lines[i].ids, lines[i].n);
		uint64_t cb = stacktab_get(b, lines[i].ids, lines[i].n);

		if (normalize && d->total_a != d->total_b && d->total_a > 0)
			ca = (uint64_t)((u128)ca * d->total_b / d->total_a);
		fwrite(lines[i].s, 1, lines[i].len, out);
		fprintf(out, " %llu %llu\n", (unsigned long long)ca,
		    (unsigned long long)cb);
		folded_add(&d->out_a, ca);
		folded_add(&d->out_b, cb);
	}
	d->lines = k;
	free(text);
	free(lines);
	stacktab_free(u);
	return ferror(out) ? -1 : 0;
}
