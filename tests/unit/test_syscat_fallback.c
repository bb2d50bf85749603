/*
 * cd-fold's fallback syscall categories: the table must stay sorted for
 * bsearch, and name only the categories the palettes know.
 */
#include <stdio.h>
#include <string.h>

#include "../../tools/cd-fold/syscat_fallback.c"

int
main(void)
{
	static const char *const cats[] = { "file", "network", "memory",
	    "process", "event", "time", "ipc", "other" };
	size_t n = sizeof(table) / sizeof(table[0]);
	int fail = 0;

	for (size_t i = 0; i < n; i++) {
		int known = 0;

		if (i > 0 && strcmp(table[i - 1].name, table[i].name) >= 0) {
			fprintf(stderr, "syscat: %s before %s\n", table[i - 1].name, table[i].name);
			fail = 1;
		}
		for (size_t c = 0; c < sizeof(cats) / sizeof(cats[0]); c++)
			known |= strcmp(table[i].cat, cats[c]) == 0;
		if (!known) {
			fprintf(stderr, "syscat: %s has unknown category %s\n", table[i].name, table[i].cat);
			fail = 1;
		}
		if (strcmp(syscat_fallback(table[i].name), table[i].cat) != 0) {
			fprintf(stderr, "syscat: lookup of %s failed\n", table[i].name);
			fail = 1;
		}
	}
	if (strcmp(syscat_fallback("no_such_call"), "other") != 0 ||
	    strcmp(syscat_fallback(NULL), "other") != 0) {
		fprintf(stderr, "syscat: unknown names must be other\n");
		fail = 1;
	}
	return fail;
}
