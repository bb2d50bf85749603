/*
 * libFuzzer harness: cd-fold --diff on arbitrary bytes. The input is cut
 * in two (where the second byte says) and each half folded in the format
 * the first byte picks, over one frame table; the two-column output must
 * read back with two counts on every line, and its columns must add up to
 * the inputs' totals (with -n: the first column at most the second's total).
 * FUZZ_SOURCES: tools/cd-fold
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "folded.h"
#include "intern.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void
check(const char *out, size_t len, const struct fold_diff *d, int normalize)
{
	uint64_t sa = 0, sb = 0;
	size_t i = 0, lines = 0;

	while (i < len) {
		const char *nl = memchr(out + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (out + i)) : len - i, sl, sl2;
		uint64_t b, a;
		const char *why;
		/* frames may hold NULs (perf input); folded_parse refuses them */
		char *l = malloc(n + 1);

		if (l == NULL)
			abort();
		for (size_t k = 0; k < n; k++)
			l[k] = out[i + k] ? out[i + k] : '?';
		if (folded_parse(l, n, &sl, &b, &why) < 0 ||
		    folded_parse(l, sl, &sl2, &a, &why) < 0)
			abort();
		free(l);
		folded_add(&sa, a);
		folded_add(&sb, b);
		lines++;
		i += n + 1;
	}
	if (lines != d->lines || sa != d->out_a || sb != d->out_b)
		abort();
	if (d->total_a == UINT64_MAX || d->total_b == UINT64_MAX)
		return;		/* saturated: the sums are capped too */
	if (sb != d->total_b)
		abort();
	if (normalize ? (d->total_a > 0 && sa > d->total_b) : sa != d->total_a)
		abort();
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const enum fold_fmt fmts[] = { FMT_FOLDED, FMT_RECORDS, FMT_PERF,
	    FMT_SAMPLE, FMT_DTRACE, FMT_FOLDED, FMT_FOLDED, FMT_FOLDED };
	struct fold_opts o = { .quiet = 1 };
	struct fold a, b;
	struct fold_diff d;
	size_t cut, len = 0;
	char *out = NULL;
	FILE *mem;
	int normalize;

	if (size < 2)
		return 0;
	o.fmt = fmts[data[0] & 7];
	o.drop_kernel = (data[0] >> 3) & 1;
	normalize = (data[0] >> 4) & 1;
	cut = (size - 2) * data[1] / 255;
	data += 2;
	size -= 2;
	fold_init(&a, &o, "a");
	fold_buffer(&a, (const char *)data, cut);
	fold_init(&b, &o, "b");
	intern_free(b.frames);
	b.frames = a.frames;
	fold_buffer(&b, (const char *)data + cut, size - cut);
	a.frames = NULL;
	mem = open_memstream(&out, &len);
	if (mem && fold_diff_write(a.stacks, b.stacks, b.frames, normalize, mem, &d) == 0 &&
	    fclose(mem) == 0)
		check(out, len, &d, normalize);
	free(out);
	fold_release(&a);
	fold_release(&b);
	return 0;
}
