/* Time and units. */
#ifndef CD_UNITS_H
#define CD_UNITS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

uint64_t now_mono_ns(void);
/* ISO 8601 local time with offset, e.g. 2026-11-25T20:33:53+00:00. */
void iso8601(time_t t, char *buf, size_t len);
/* ps(1) etime style: [[DD-]hh:]mm:ss */
void fmt_elapsed(double secs, char *buf, size_t len);
/* 512K, 12.3M, 1.1G from kilobytes. */
void fmt_kb(double kb, char *buf, size_t len);
/* Sleep for ns, resuming after signals unless *stop becomes non-zero. */
void sleep_ns(uint64_t ns, volatile int *stop);

#endif
