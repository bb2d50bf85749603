#include <math.h>
#include <unistd.h>

#include "exitcode.h"
#include "msg.h"
#include "record.h"
#include "targets.h"

static unsigned long seen;

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
targets_from_stdin(struct pidlist *pl, int strict)
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

			if (pid > 0) {
				pidlist_add(pl, pid);
			} else {
				msg_warn("stdin:%lu: process record without a valid "
				    "pid; not a target", (unsigned long)rec_lineno(r));
				badpid++;
			}
		}
		rec_emit_raw(raw, len);
		cJSON_Delete(obj);
	}
	/* Passed through whatever happens next. */
	rec_flush();
	if (st == REC_ERROR)	/* the reader said why */
		msg_die(CD_EXIT_FAIL, "stopped: stdin could not be read");
	bad = (long)rec_bad_lines(r) + badpid;
	rec_reader_close(r);
	if (st == REC_BAD || (strict && badpid > 0))
		return -1;
	return bad;
}
