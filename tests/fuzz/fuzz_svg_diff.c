/*
 * libFuzzer harness: cd-svg's two-column (differential) reader and writer.
 * Every input is read as two-column ("stack BEFORE AFTER") from its first
 * line; the root's counts must equal the sums of the lines that were
 * accepted, and the SVG (colours by delta, both counts in each tooltip)
 * is written in full.
 * FUZZ_SOURCES: tools/cd-svg
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"
#include "svg.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct svg_opts o = {
		.title = "fuzz", .countname = "samples", .width = 1200,
		.minwidth = 0.1, .frame_height = 16, .font_size = 12,
	};
	const char *buf = (const char *)data;
	uint64_t sum_a = 0, sum_b = 0;
	int sat = 0;
	struct tree t;
	size_t i = 0;
	FILE *null = fopen("/dev/null", "w");

	if (null == NULL)
		return 0;
	if (size > 0) {
		o.negate = data[0] & 1;
		o.reverse = (data[0] >> 1) & 1;
		o.minwidth = (data[0] >> 2) & 1 ? 0 : 0.1;
		o.self_delta = (data[0] >> 3) & 1;
	}
	tree_init(&t);
	t.diff = 1;
	while (i < size) {
		const char *nl = memchr(buf + i, '\n', size - i), *why;
		size_t n = nl ? (size_t)(nl - (buf + i)) : size - i, sl, sl2;
		uint64_t a, b;

		if (tree_add_line(&t, buf + i, n, o.reverse, &why) == 0 &&
		    folded_parse(buf + i, n, &sl, &b, &why) == 0 &&
		    folded_parse(buf + i, sl, &sl2, &a, &why) == 0) {
			sat |= folded_add(&sum_a, a);
			sat |= folded_add(&sum_b, b);
		}
		i += n + 1;
	}
	if (!sat && !t.saturated && (t.v[0].other != sum_a || t.v[0].total != sum_b))
		abort();
	tree_sort(&t);
	svg_write(null, &t, &o);
	fclose(null);
	tree_release(&t);
	return 0;
}
