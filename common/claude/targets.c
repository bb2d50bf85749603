#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "msg.h"
#include "procinfo.h"
#include "record.h"
#include "targets.h"

static unsigned long seen;

/* When pid started, in seconds since the epoch; -1 if it is gone. */
static double
start_epoch(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* field 22, starttime, is the 20th after the command name */
	for (int i = 0; i < 20 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu", &ticks) != 1)
		return -1;
	return (double)time(NULL) - procinfo_uptime() +
	    (double)ticks / (double)procinfo_hertz();
}

/*
 * A saved record whose pid now names another process: its start_time
 * (RFC 3339, to the second) is not when the live one started.
 */
static int
pid_reused(const cJSON *obj, int pid)
{
	const char *st = rec_get_str(obj, "start_time");
	struct tm tm;
	const char *end;
	double live;

	if (st == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(st, "%Y-%m-%dT%H:%M:%S%z", &tm);
	if (end == NULL || *end != '\0' || (live = start_epoch(pid)) < 0)
		return 0;	/* unknown, or gone: the tool says so later */
	return fabs(live - ((double)timegm(&tm) - (double)tm.tm_gmtoff)) > 2;
}

unsigned long
targets_records_seen(void)
{
	return seen;
}

/* A pid is a whole number in range, not a string, null, -1 or 1.5. */
static int
record_pid(const cJSON *obj)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "pid");

	if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
	    v->valuedouble > 0x3fffffff || v->valuedouble != floor(v->valuedouble))
		return -1;
	return (int)v->valuedouble;
}

long
targets_from_stdin(struct pidlist *pl, int strict, struct rec_writer *pass)
{
	struct rec_reader *r;
	cJSON *obj;
	enum rec_status st;
	long bad, badpid = 0;

	if (isatty(0))
		return 0;
	r = rec_reader_open(0, "stdin");
	rec_reader_strict(r, strict);
	while ((st = rec_next(r, &obj)) == REC_OK) {
		size_t len;
		const char *raw = rec_raw(r, &len);

		seen++;
		if (rec_is(obj, "process")) {
			int pid = record_pid(obj);

			if (pid > 0 && pid_reused(obj, pid)) {
				msg_warn("stdin:%lu: pid %d now names another "
				    "process (started at another time than the "
				    "record's); not a target",
				    (unsigned long)rec_lineno(r), pid);
			} else if (pid > 0) {
				pidlist_add(pl, pid);
			} else {
				msg_warn("stdin:%lu: process record without a valid "
				    "pid; not a target", (unsigned long)rec_lineno(r));
				badpid++;
			}
		}
		if (pass != NULL)
			rec_writer_emit_raw(pass, raw, len);
		cJSON_Delete(obj);
	}
	/* Passed through whatever happens next. */
	if (pass != NULL)
		rec_writer_flush(pass);
	if (st == REC_ERROR)	/* the reader said why */
		msg_die(CD_EXIT_FAIL, "stopped: stdin could not be read");
	bad = (long)rec_bad_lines(r) + badpid;
	rec_reader_close(r);
	if (st == REC_BAD || (strict && badpid > 0))
		return -1;
	return bad;
}
