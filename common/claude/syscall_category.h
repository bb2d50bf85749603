/*
 * System call categories (file, network, memory, process, event, time,
 * ipc, other): the original tool's table, extended to Linux's names.
 * Shared by cd-categorize and cd-fold.
 */
#ifndef CD_SYSCALL_CATEGORY_H
#define CD_SYSCALL_CATEGORY_H

#include <stdio.h>

struct sc_map;

/* The built-in table. Unknown names are "other". */
const char *syscall_category(const char *name);

/*
 * A user's table replacing the built-in one. Format, one entry a line:
 *   NAME CATEGORY        # comment
 * NAME is a syscall name ([a-z0-9_]), CATEGORY a word ([a-z0-9_-]);
 * blank lines and lines starting with # are ignored; a later entry for
 * the same name wins. Each bad line gets one message on err naming
 * path:line; *bad counts them. Returns NULL (errno set) when the file
 * cannot be read.
 */
struct sc_map *sc_map_load(const char *path, FILE *err, unsigned long *bad);
/* The user's category for name, "other" when the map lacks it. */
const char *sc_map_lookup(const struct sc_map *m, const char *name);
void sc_map_free(struct sc_map *m);

/* Is cat one of the built-in category names? */
int syscall_category_known(const char *cat);

#endif
