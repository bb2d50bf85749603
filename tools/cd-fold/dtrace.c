/*
 * DTrace ustack()/stack() aggregations, folded as FlameGraph's
 * stackcollapse.pl does: three header lines skipped, frames leaf first,
 * each stack closed by its count line, offsets and C++ arguments removed.
 */
#include <string.h>

#include "fold.h"
#include "intern.h"

#define HEADER_LINES 3

static int
sp(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* /^\s*(\d+)+$/ */
static int
count_line(const char *l, size_t n, uint64_t *count, int *overflow)
{
	size_t i = 0;
	uint64_t v = 0;

	*overflow = 0;
	while (i < n && sp(l[i]))
		i++;
	if (i == n)
		return 0;
	for (size_t j = i; j < n; j++)
		if (l[j] < '0' || l[j] > '9')
			return 0;
	for (; i < n; i++) {
		unsigned d = (unsigned)(l[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			*overflow = 1;
		else
			v = v * 10 + d;
	}
	*count = v;
	return 1;
}

static void
push_frame(struct fold *f, const char *l, size_t n)
{
	const char *plus, *colons;
	uint32_t parts[64];
	size_t np = 0, nf = 0, start = 0, keep = 0;
	struct { const char *s; size_t n; } fields[64];

	while (n > 0 && sp(*l)) {
		l++;
		n--;
	}
	/* perl s/\+[^+]*$//: from the last '+' on */
	plus = memrchr(l, '+', n);
	if (plus)
		n = (size_t)(plus - l);
	/* perl s/(::.*)[(<].* ... : from the last "(" or "<" after the first "::" */
	colons = memmem(l, n, "::", 2);
	if (colons) {
		for (size_t i = n; i > (size_t)(colons - l) + 2; i--) {
			if (l[i - 1] == '(' || l[i - 1] == '<') {
				n = i - 1;
				break;
			}
		}
	}
	if (n == 0) {
		l = "-";
		n = 1;
	}
	/* split /->/, trailing empty fields dropped as perl's split does */
	for (;;) {
		const char *a = n - start >= 2 ? memmem(l + start, n - start, "->", 2) : NULL;

		if (a == NULL || nf == 63) {
			fields[nf].s = l + start;
			fields[nf++].n = n - start;
			break;
		}
		fields[nf].s = l + start;
		fields[nf++].n = (size_t)(a - (l + start));
		start = (size_t)(a - l) + 2;
	}
	for (size_t i = 0; i < nf; i++)
		if (fields[i].n > 0)
			keep = i + 1;
	for (size_t i = 0; i < keep; i++) {
		char *b = fold_scratch(f, fields[i].n + 8);
		size_t o = fields[i].n, skip = 0;

		memcpy(b, fields[i].s, o);
		for (size_t j = 0; j < o; j++)
			if (b[j] == ';')
				b[j] = ':';
		if (o > 0 && b[0] == 'L')
			skip = 1;
		if (np > 0) {
			memcpy(b + o, "_[i]", 4);
			o += 4;
		}
		parts[np++] = intern_id(f->frames, b + skip, o - skip);
	}
	/* unshift @stack, @inline */
	while (np > 0)
		fold_push_id(f, parts[--np]);
}

void
dtrace_line(struct fold *f, const char *l, size_t n)
{
	uint64_t count;
	int overflow;

	if (f->lineno <= HEADER_LINES)
		return;
	if (count_line(l, n, &count, &overflow)) {
		if (f->n == 0) {
			fold_bad(f, "a count with no stack before it; skipped");
			return;
		}
		if (overflow) {
			fold_bad(f, "count does not fit in 64 bits; stack skipped");
			f->n = 0;
			f->dtrace.pending = 0;
			return;
		}
		for (size_t i = 0, j = f->n - 1; i < j; i++, j--) {
			uint32_t t = f->v[i];

			f->v[i] = f->v[j];
			f->v[j] = t;
		}
		fold_commit(f, count);
		f->dtrace.pending = 0;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!sp(l[i]))
			goto frame;
	return;
frame:
	if (f->dtrace.pending++ == 0)
		f->dtrace.first = f->lineno;
	push_frame(f, l, n);
}

void
dtrace_end(struct fold *f)
{
	if (f->dtrace.pending > 0) {
		unsigned long last = f->lineno;

		f->lineno = f->dtrace.first;
		fold_bad(f, "stack (to line %lu) ends without a count line; dropped", last);
		f->lineno = last;
	}
	f->n = 0;
}
