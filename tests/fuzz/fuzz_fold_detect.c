/*
 * libFuzzer harness: format detection, then whichever importer it picks.
 * FUZZ_SOURCES: tools/cd-fold
 */
#include <stdio.h>

#include "fold.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct fold_opts o = { .fmt = FMT_AUTO, .quiet = 1 };
	struct fold f;

	fold_init(&f, &o, "fuzz");
	fold_buffer(&f, (const char *)data, size);
	fold_release(&f);
	return 0;
}
