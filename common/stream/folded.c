#include <string.h>

#include "folded.h"

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int
folded_add(uint64_t *a, uint64_t b)
{
	if (__builtin_add_overflow(*a, b, a)) {
		*a = UINT64_MAX;
		return 1;
	}
	return 0;
}

int
folded_parse(const char *line, size_t len, size_t *stack_len,
    uint64_t *count, const char **why)
{
	size_t e = len, s;
	uint64_t v = 0;

	while (e > 0 && blank(line[e - 1]))
		e--;
	if (e == 0) {
		*why = NULL;
		return -1;
	}
	s = e;
	while (s > 0 && !blank(line[s - 1]))
		s--;
	if (s == 0) {
		*why = "no count after the stack";
		return -1;
	}
	for (size_t i = s; i < e; i++) {
		unsigned d = (unsigned char)line[i] - '0';

		if (d > 9) {
			*why = "the count is not a whole number";
			return -1;
		}
		if (v > (UINT64_MAX - d) / 10) {
			*why = "the count does not fit in 64 bits";
			return -1;
		}
		v = v * 10 + d;
	}
	while (s > 0 && blank(line[s - 1]))
		s--;
	if (s == 0) {
		*why = "empty stack";
		return -1;
	}
	if (memchr(line, '\0', s) != NULL) {
		*why = "binary data (NUL byte) in the stack";
		return -1;
	}
	*stack_len = s;
	*count = v;
	return 0;
}
