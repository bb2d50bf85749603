/*
 * The body every cd-fold importer harness shares: one input format, given
 * by FOLD_FUZZ_FMT before this header is included, fed arbitrary bytes with
 * the options varied by the first byte, then the sorted output written,
 * which walks every stored stack, and checked against the stream
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
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

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
	fold_init(&f, &o, "fuzz");
	fold_buffer(&f, (const char *)data, size);
	if (out) {
		fold_write(&f, out);
		fclose(out);
		check_folded(buf, len);
		free(buf);
	}
	fold_free(&f);
	return 0;
}
