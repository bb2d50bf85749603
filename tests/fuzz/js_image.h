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

/*
 * The sample the image holds: registers from its first words, pointing
 * into it wherever the bytes say; the stack copy is its first half (the
 * rest is heap, read remotely). size >= 32.
 */
static void
img_sample(const uint8_t *data, size_t size, struct js_sample *s)
{
	memcpy(&s->ip, data, 8);
	memcpy(&s->bp, data + 8, 8);
	s->bp = BASE + s->bp % size;
	s->sp = BASE + 16;
	s->stack = data + 16;
	s->stack_len = (size - 16) / 2;
}

/* Every name of a walk checked. */
static void
check_names(const char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL)
			check_name(names[i]);
}

#endif
