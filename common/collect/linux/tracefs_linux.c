#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "tracefs.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

static int
is_tracefs(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) != 0)
		return 0;
	return (unsigned long)sf.f_type == (unsigned long)TRACEFS_MAGIC;
}

const char *
tracefs_root(int *mounted, char *why, size_t whylen)
{
	static const char primary[] = "/sys/kernel/tracing";
	static const char legacy[] = "/sys/kernel/debug/tracing";

	*mounted = 0;
	if (is_tracefs(primary))
		return primary;
	if (is_tracefs(legacy))
		return legacy;
	if (mount("nodev", primary, "tracefs", 0, NULL) == 0) {
		*mounted = 1;
		return primary;
	}
	snprintf(why, whylen, "tracefs is not mounted and mounting it at %s "
	    "failed: %s", primary, strerror(errno));
	return NULL;
}

long
tracefs_event_id(const char *root, const char *sys, const char *event)
{
	char path[512];
	FILE *f;
	long id;

	snprintf(path, sizeof(path), "%s/events/%s/%s/id", root, sys, event);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &id) != 1) {
		fclose(f);
		errno = EINVAL;
		return -1;
	}
	fclose(f);
	return id;
}

/*
 * A format line looks like:
 *	field:unsigned long args[6];	offset:16;	size:48;	signed:0;
 * The field name is the last identifier of the declaration, before any [.
 */
static int
parse_field(const char *line, const char *name, struct tracefs_field *out)
{
	const char *decl = strstr(line, "field:");
	const char *semi, *p, *end, *start;
	size_t nlen = strlen(name);

	if (decl == NULL)
		return 0;
	decl += 6;
	semi = strchr(decl, ';');
	if (semi == NULL)
		return 0;
	end = semi;
	for (p = decl; p < semi; p++)
		if (*p == '[') {
			end = p;
			break;
		}
	start = end;
	while (start > decl && (start[-1] == '_' ||
	    (start[-1] >= 'a' && start[-1] <= 'z') ||
	    (start[-1] >= 'A' && start[-1] <= 'Z') ||
	    (start[-1] >= '0' && start[-1] <= '9')))
		start--;
	if ((size_t)(end - start) != nlen || strncmp(start, name, nlen) != 0)
		return 0;
	if (sscanf(semi + 1, " offset:%d; size:%d; signed:%d;", &out->offset,
	    &out->size, &out->is_signed) != 3)
		return 0;
	return 1;
}

int
tracefs_event_field(const char *root, const char *sys, const char *event,
    const char *name, struct tracefs_field *out)
{
	char path[512], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/events/%s/%s/format", root, sys, event);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (parse_field(line, name, out)) {
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	errno = ENOENT;
	return -1;
}
