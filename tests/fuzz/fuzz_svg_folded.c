/*
 * libFuzzer harness: cd-svg's folded reader and the whole SVG writer,
 * palettes and escaping included.
 * FUZZ_SOURCES: tools/cd-svg
 */
#include <stdio.h>

#include "svg.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct svg_opts o = {
		.title = "fuzz", .countname = "samples", .width = 1200,
		.minwidth = 0.1, .frame_height = 16, .font_size = 12,
	};
	struct tree t;
	FILE *null = fopen("/dev/null", "w");

	if (null == NULL)
		return 0;
	if (size > 0) {
		o.reverse = data[0] & 1;
		o.inverted = (data[0] >> 1) & 1;
		o.palette = (enum palette)((data[0] >> 2) & 3);
		o.minwidth = (data[0] >> 4) & 1 ? 0 : 0.1;
		o.subtitle = (data[0] >> 5) & 1 ? (const char *)"sub" : NULL;
	}
	tree_init(&t);
	tree_add_buffer(&t, (const char *)data, size, o.reverse);
	tree_sort(&t);
	svg_write(null, &t, &o);
	fclose(null);
	tree_release(&t);
	return 0;
}
