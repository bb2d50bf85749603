#include <unistd.h>

#include "record.h"
#include "targets.h"

long
targets_from_stdin(struct pidlist *pl, int strict)
{
	struct rec_reader *r;
	cJSON *obj;
	enum rec_status st;
	long bad;

	if (isatty(0))
		return 0;
	r = rec_reader_open(0, "stdin");
	rec_reader_strict(r, strict);
	while ((st = rec_next(r, &obj)) == REC_OK) {
		size_t len;
		const char *raw = rec_raw(r, &len);

		if (rec_is(obj, "process")) {
			double pid = rec_get_num(obj, "pid", -1);

			if (pid >= 1 && pid <= 0x3fffffff)
				pidlist_add(pl, (int)pid);
		}
		rec_emit_raw(raw, len);
		cJSON_Delete(obj);
	}
	bad = (long)rec_bad_lines(r);
	rec_reader_close(r);
	if (st == REC_BAD)
		return -1;
	return bad;
}
