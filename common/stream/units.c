#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "units.h"

uint64_t
now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
iso8601(time_t t, char *buf, size_t len)
{
	struct tm tm;
	char z[8];

	if (localtime_r(&t, &tm) == NULL || len < 26) {
		if (len)
			buf[0] = '\0';
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(z, sizeof(z), "%z", &tm);
	/* +0000 -> +00:00, as RFC 3339 wants */
	snprintf(buf + 19, len - 19, "%c%c%c:%c%c", z[0], z[1], z[2], z[3], z[4]);
}

void
fmt_elapsed(double secs, char *buf, size_t len)
{
	unsigned long s = secs > 0 ? (unsigned long)secs : 0;
	unsigned long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	s %= 60;
	if (d)
		snprintf(buf, len, "%lu-%02lu:%02lu:%02lu", d, h, m, s);
	else if (h)
		snprintf(buf, len, "%02lu:%02lu:%02lu", h, m, s);
	else
		snprintf(buf, len, "%02lu:%02lu", m, s);
}

void
fmt_kb(double kb, char *buf, size_t len)
{
	if (kb < 1024)
		snprintf(buf, len, "%.0fK", kb);
	else if (kb < 1024 * 1024)
		snprintf(buf, len, "%.1fM", kb / 1024);
	else
		snprintf(buf, len, "%.2fG", kb / (1024 * 1024));
}

void
sleep_ns(uint64_t ns, volatile int *stop)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		if (stop && *stop)
			return;
}
