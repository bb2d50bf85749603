/*
 * libFuzzer harness for the jitdump reader: any bytes, read whole and in
 * two growing steps, never crash, and every load handed out covers the
 * address it is found at.
 */
#include <stdint.h>
#include <stdlib.h>

#include "jitdump.h"

static void
check(struct jitdump *j)
{
	for (size_t i = 0; i < jd_count(j); i++) {
		const struct jd_load *l = jd_get(j, i), *f;
		char buf[128];

		f = jd_lookup(j, l->addr + l->size / 2, UINT64_MAX);
		if (f == NULL || l->addr + l->size / 2 - f->addr >= f->size)
			abort();
		jd_frame_name(l->name, buf, sizeof(buf));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jitdump *j = jd_open_mem(data, size);

	jd_update(j);
	check(j);
	jd_close(j);
	/* the same bytes arriving in two parts, as from a growing file */
	j = jd_open_mem(data, size / 2);
	jd_update(j);
	jd_close(j);
	return 0;
}
