/*
 * The body every cd-fold importer harness shares: one input format, given
 * by FOLD_FUZZ_FMT before this header is included, fed arbitrary bytes with
 * the options varied by the first byte, then the output the second byte
 * picks written (folded, pprof, speedscope or the call tree), which walks
 * every stored stack; the folded text is checked against the stream
 * contract: no NUL byte, every line "FRAMES COUNT" (what cd-svg reads).
 */
#ifndef FOLD_FUZZ_FMT
#error define FOLD_FUZZ_FMT before including fold_harness.h
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"

static void
check_folded(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	if (memchr(buf, '\0', len) != NULL)
		abort();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *d;

		if (nl == NULL)
			abort();	/* every line ends */
		for (d = nl; d > p && d[-1] >= '0' && d[-1] <= '9'; d--)
			;
		if (d == nl || d - 1 <= p || d[-1] != ' ')
			abort();	/* "FRAMES COUNT" */
		p = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct fold_opts o = { .fmt = FOLD_FUZZ_FMT, .quiet = 1 };
	struct fold f;
	FILE *null = fopen("/dev/null", "w");

	/* vary the options with the first byte so each path gets input */
	if (size > 0) {
		o.pid = data[0] & 1;
		o.tid = (data[0] >> 1) & 1;
		o.annotate_kernel = o.annotate_jit = (data[0] >> 2) & 1;
		o.addrs = (data[0] >> 3) & 1;
		o.drop_kernel = (data[0] >> 4) & 1;
		o.root = (enum fold_root)((data[0] >> 5) % 5);
		o.leaf = o.weight = (data[0] >> 7) & 1;
	}
	if (size > 1) {
		o.out = (enum fold_out)(data[1] & 3);
		o.labels = o.out == OUT_PPROF || o.out == OUT_SPEEDSCOPE;
		if (o.out == OUT_PPROF)
			o.weight = WEIGHT_COUNT;	/* as cd-fold's option check */
	}
	fold_init(&f, &o, "fuzz");
	fold_buffer(&f, (const char *)data, size);
	{
		char *out = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&out, &len);

		if (mem != NULL) {
			fold_write(&f, mem);
			fclose(mem);
			check_folded(out, len);
			free(out);
		}
	}
	if (null) {
		switch (o.out) {
		case OUT_PPROF:
			fold_pprof_write(&f, null);
			break;
		case OUT_SPEEDSCOPE:
			fold_speedscope_write(&f, null);
			break;
		case OUT_TREE:
			fold_tree_write(&f, (double)(data[1] >> 2) / 8, null);
			break;
		case OUT_FOLDED:
			fold_write(&f, null);
		}
		fclose(null);
	}
	fold_release(&f);
	return 0;
}
