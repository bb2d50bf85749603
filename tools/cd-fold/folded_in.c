/* Folded stacks in, merged: duplicate stacks have their counts summed. */
#include <string.h>

#include "fold.h"
#include "folded.h"
#include "intern.h"

static int
kernel_frame(const char *s, size_t n)
{
	return n >= 4 && memcmp(s + n - 4, "_[k]", 4) == 0;
}

void
folded_line(struct fold *f, const char *l, size_t n)
{
	size_t sl, start = 0;
	uint64_t count;
	const char *why;

	if (folded_parse(l, n, &sl, &count, &why) < 0) {
		if (why)
			fold_bad(f, "%s; line skipped", why);
		return;
	}
	f->n = 0;
	for (;;) {
		const char *semi = memchr(l + start, ';', sl - start);
		size_t e = semi ? (size_t)(semi - l) : sl;

		if (!(f->o.drop_kernel && kernel_frame(l + start, e - start)))
			fold_push(f, l + start, e - start);
		if (semi == NULL)
			break;
		start = e + 1;
	}
	if (f->n > 0)
		fold_commit(f, count);
}
