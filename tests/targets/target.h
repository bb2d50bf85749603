/*
 * What several test targets share: telling the test they are up, a
 * monotonic clock, a sleep. Each target is one .c file that includes this;
 * the functions are static and marked unused, so a target takes only
 * those it needs.
 */
#ifndef CD_TARGET_H
#define CD_TARGET_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* Our pid in path, the file a test waits for; no path (NULL or ""), nothing. */
__attribute__((unused)) static void
ready_write(const char *path)
{
	FILE *f;

	if (path == NULL || path[0] == '\0' || (f = fopen(path, "w")) == NULL)
		return;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
}

__attribute__((unused)) static void
msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

__attribute__((unused)) static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((unused)) static double
mono_s(void)
{
	return (double)mono_ns() / 1e9;
}

#endif
