/*
 * --analyze: read a capture's records (sample and meta) and add the
 * analysis. Every record read is passed on unchanged, in order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "msg.h"
#include "record.h"
#include "sample.h"

/* A sample record to an aggregated stack; 0, or -1 when it is not one. */
static int
take_sample(struct samples *s, const cJSON *o)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "stack");
	const char *frames[MAX_FRAMES];
	const char *comm = rec_get_str(o, "comm"), *thread = rec_get_str(o, "thread");
	double pid = rec_get_num(o, "pid", -1), tid = rec_get_num(o, "tid", -1);
	double count = rec_get_num(o, "count", -1);
	size_t n = 0, len;
	const cJSON *f;

	/* Ids an int cannot hold are malformed, not a cast to make. */
	if (!cJSON_IsArray(st) || !(pid >= 0 && pid <= 0x7fffffff) ||
	    !(tid <= 0x7fffffff) || count < 1 || count > 1e15 ||
	    count != floor(count) || pid != floor(pid) || tid != floor(tid))
		return -1;	/* 1.5 samples is not a count to truncate */
	len = (size_t)cJSON_GetArraySize(st);
	cJSON_ArrayForEach(f, st) {
		if (!cJSON_IsString(f))
			return -1;
		/* Too deep: keep the leaf side, where self time is. */
		if (len - n > MAX_FRAMES) {
			len--;
			continue;
		}
		frames[n++] = intern(f->valuestring);
	}
	samples_add(s, (int)pid, tid < 0 ? (int)pid : (int)tid, intern(comm ? comm : "?"),
	    intern(thread ? thread : "?"), frames, n, (unsigned long)count);
	return 0;
}

int
analyze_stdin(const struct sample_opts *o)
{
	struct rec_reader *r = rec_reader_open(0, "stdin");
	struct samples s = { 0 };
	struct analysis_ctx a = { .top = o->top, .freq_hz = -1, .duration_s = -1 };
	enum rec_status st;
	unsigned long invalid = 0, nsamples = 0;
	cJSON *obj, *m;
	int crit;

	rec_reader_strict(r, o->strict);
	while ((st = rec_next(r, &obj)) == REC_OK) {
		size_t len;
		const char *raw = rec_raw(r, &len);

		if (rec_is(obj, "sample")) {
			if (take_sample(&s, obj) != 0) {
				msg_warn("stdin:%lu: sample record without pid, count "
				    "or a stack of strings; skipped", rec_lineno(r));
				invalid++;
			} else {
				nsamples++;
			}
		} else if (rec_is(obj, "meta") && rec_get_str(obj, "tool") &&
		    strcmp(rec_get_str(obj, "tool"), "cd-sample") == 0) {
			/* The capture's rate and length give CPU percentages. */
			const char *mode = rec_get_str(obj, "mode");

			a.freq_hz = rec_get_num(obj, "effective_hz", a.freq_hz);
			a.duration_s = rec_get_num(obj, "duration_s", a.duration_s);
			a.wall = mode && strcmp(mode, "wall") == 0;
		}
		rec_emit_raw(raw, len);
		cJSON_Delete(obj);
	}
	samples_sort(&s);
	crit = analyze_emit(&s, &a);
	m = rec_meta_new("cd-sample");
	rec_add_str(m, "mode", "analyze");
	rec_add_num(m, "samples_read", (double)nsamples);
	rec_add_num(m, "bad_lines", (double)(rec_bad_lines(r) + invalid));
	rec_emit_free(m);
	samples_release(&s);
	if (rec_close() != 0) {
		rec_reader_close(r);
		return CD_EXIT_FAIL;
	}
	if (st == REC_ERROR)
		msg_die(CD_EXIT_FAIL, "read error on stdin");
	if (st == REC_BAD || rec_bad_lines(r) + invalid > 0) {
		rec_reader_close(r);
		return CD_EXIT_DATAERR;
	}
	rec_reader_close(r);
	return crit ? CD_EXIT_FOUND : CD_EXIT_OK;
}
