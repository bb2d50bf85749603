/*
 * The one syscall category table (common/claude/syscall_category.c), read from
 * inside: bsearch needs it sorted, and every category must be one the
 * palettes and cd-categorize --strict know.
 */
#include <stdio.h>
#include <string.h>

#include "../../common/claude/syscall_category.c"

int
main(void)
{
	size_t n = sizeof(builtin) / sizeof(builtin[0]);
	int fail = 0;

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(builtin[i - 1].name, builtin[i].name) >= 0) {
			fprintf(stderr, "syscat: %s before %s\n", builtin[i - 1].name, builtin[i].name);
			fail = 1;
		}
		if (!syscall_category_known(builtin[i].cat)) {
			fprintf(stderr, "syscat: %s has unknown category %s\n", builtin[i].name, builtin[i].cat);
			fail = 1;
		}
		if (strcmp(syscall_category(builtin[i].name), builtin[i].cat) != 0) {
			fprintf(stderr, "syscat: bsearch misses %s\n", builtin[i].name);
			fail = 1;
		}
	}
	if (!fail)
		printf("test_syscat: %zu entries sorted and known\n", n);
	return fail;
}
