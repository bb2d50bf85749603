#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "syscall_names.h"
#include "syscalls_x86_64.h"
#include "syscalls_aarch64.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct table {
	const char *arch;
	const struct syscall_name *v;
	size_t n;
};

static const struct table tables[] = {
	{ "x86_64", syscalls_x86_64, NELEM(syscalls_x86_64) },
	{ "aarch64", syscalls_aarch64, NELEM(syscalls_aarch64) },
};

#if defined(__x86_64__)
#define NATIVE "x86_64"
#elif defined(__aarch64__)
#define NATIVE "aarch64"
#else
#define NATIVE "unknown"
#endif

const char *
syscall_arch(void)
{
	return NATIVE;
}

static const struct table *
find_table(const char *arch)
{
	for (size_t i = 0; i < NELEM(tables); i++)
		if (strcmp(tables[i].arch, arch) == 0)
			return &tables[i];
	return NULL;
}

const char *
syscall_name_arch(const char *arch, long nr)
{
	const struct table *t = find_table(arch);
	size_t lo = 0, hi;

	if (t == NULL)
		return NULL;
	/* The generator sorts each table by number. */
	hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].nr == nr)
			return t->v[mid].name;
		if (t->v[mid].nr < nr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

long
syscall_number_arch(const char *arch, const char *name)
{
	const struct table *t = find_table(arch);

	if (t == NULL || name == NULL)
		return -1;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return t->v[i].nr;
	return -1;
}

const char *
syscall_name(long nr)
{
	return syscall_name_arch(NATIVE, nr);
}

long
syscall_number(const char *name)
{
	return syscall_number_arch(NATIVE, name);
}

const char *
errno_name(int err)
{
	if (err <= 0)
		return NULL;
	return strerrorname_np(err);	/* glibc >= 2.32 */
}

int
errno_number(const char *name)
{
	char *end;
	long v;

	if (name == NULL || *name == '\0')
		return -1;
	v = strtol(name, &end, 10);
	if (*end == '\0')
		return v > 0 && v < 4096 ? (int)v : -1;
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);

		if (n != NULL && strcasecmp(n, name) == 0)
			return e;
	}
	return -1;
}
