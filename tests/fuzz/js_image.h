/*
 * What the JavaScript frame harnesses share: the input as the target's
 * memory at BASE, read as process_vm_readv would (all or nothing), and
 * the check every name handed out must pass.
 */
#ifndef FUZZ_JS_IMAGE_H
#define FUZZ_JS_IMAGE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "js_util.h"

#define BASE 0x7f0000000000ull

struct image {
	const uint8_t *p;
	size_t n;
};

static int
img_read(void *arg, uint64_t a, void *buf, size_t n)
{
	const struct image *im = arg;

	if (a < BASE || a - BASE > im->n || im->n - (a - BASE) < n)
		return -1;
	memcpy(buf, im->p + (a - BASE), n);
	return 0;
}

/* Non-empty, bounded, no control characters: else abort (a finding). */
static void
check_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > JS_NAME_BUF + 16)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			abort();
}

#endif
