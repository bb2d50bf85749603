/*
 * tracefs: where the kernel's tracepoints are described (ids, formats).
 * Mounted at /sys/kernel/tracing, or under debugfs on older systems; we
 * mount it ourselves when it is missing and we are allowed to.
 */
#ifndef CD_TRACEFS_H
#define CD_TRACEFS_H

#include <stddef.h>

/*
 * The tracefs root, mounting it at /sys/kernel/tracing if needed.
 * *mounted is set when this call did the mount. NULL on failure, with a
 * reason (for meta and messages) in why.
 */
const char *tracefs_root(int *mounted, char *why, size_t whylen);

/* The perf id of events/SYSTEM/EVENT/id, or -1 with errno set. */
long tracefs_event_id(const char *root, const char *sys, const char *event);

/* One field of an event's format file. */
struct tracefs_field {
	int offset;
	int size;
	int is_signed;
};

/*
 * Offset and size of field NAME (e.g. "id", "args", "ret") in the raw
 * record of SYSTEM/EVENT. 0, or -1 (errno set: ENOENT when the field is
 * not in the format).
 */
int tracefs_event_field(const char *root, const char *sys, const char *event,
    const char *name, struct tracefs_field *out);

#endif
