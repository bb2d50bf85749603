/*
 * --diff A B: the two-column folded format of FlameGraph's difffolded.pl,
 * "stack COUNT_A COUNT_B", one line per stack seen in either input (0 where
 * the other never had it), sorted like the one-column output. With
 * normalize, A's counts are scaled to B's total first (difffolded.pl -n:
 * int(a * total_b / total_a)), so that a capture twice as long does not
 * paint every frame red.
 */
#include <stdlib.h>
#include <string.h>

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

static int
cmp_text(const struct fold_line *x, const struct fold_line *y)
{
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void
put(FILE *out, const char *s, size_t len, uint64_t ca, uint64_t cb,
    struct fold_diff *d)
{
	fwrite(s, 1, len, out);
	fprintf(out, " %llu %llu\n", (unsigned long long)ca, (unsigned long long)cb);
	folded_add(&d->out_a, ca);
	folded_add(&d->out_b, cb);
	d->lines++;
}

/*
 * Both tables' lines are sorted by the same bytes, so one merge pass pairs
 * them: no lookups, and the output comes out sorted.
 */
int
fold_diff_write(const struct stacktab *a, const struct stacktab *b,
    const struct intern *frames, int normalize, FILE *out, struct fold_diff *d)
{
	size_t na, nb, i = 0, j = 0;
	char *ta, *tb;
	struct fold_line *la = stacktab_lines(a, frames, &na, &ta);
	struct fold_line *lb = stacktab_lines(b, frames, &nb, &tb);
	int scale;

	*d = (struct fold_diff){ .total_a = total_of(a), .total_b = total_of(b) };
	scale = normalize && d->total_a != d->total_b && d->total_a > 0;
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : cmp_text(&la[i], &lb[j]);
		uint64_t ca = c <= 0 ? la[i].count : 0, cb = c >= 0 ? lb[j].count : 0;

		if (scale)
			ca = (uint64_t)((u128)ca * d->total_b / d->total_a);
		if (c <= 0)
			put(out, la[i].s, la[i].len, ca, cb, d);
		else
			put(out, lb[j].s, lb[j].len, ca, cb, d);
		i += c <= 0;
		j += c >= 0;
	}
	free(ta);
	free(tb);
	free(la);
	free(lb);
	return ferror(out) ? -1 : 0;
}
