/*
 * --output pprof: a gzipped profile.proto, the format of go tool pprof,
 * Pyroscope, Parca and Grafana. The message is built with the C that
 * protoc-c generates from profile.proto and packed by libprotobuf-c;
 * zlib writes the gzip wrapper pprof expects.
 *
 * Each distinct frame is one Function and one Location (id = frame id + 1,
 * no mapping: the names are all there is). Each distinct stack, per
 * process and thread when the input said (records), is one Sample, leaf
 * first, with its values by kind of input:
 *   CPU samples      samples/count, and cpu/nanoseconds (count x period)
 *                    when cd-sample's meta gave the frequency
 *   system calls     calls/count, and duration/nanoseconds when the
 *                    records carried durations
 * and with pid, tid (numbers), process and thread (strings) as labels.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "fold.h"
#include "intern.h"
#include "msg.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Function Function;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__ValueType ValueType;

/* The string table: intern ids are dense from 0, as pprof's indices are. */
static int64_t
str_id(struct intern *st, const char *s, size_t n)
{
	return (int64_t)intern_id(st, s, n);
}

static int64_t
str0(struct intern *st, const char *s)
{
	return str_id(st, s, strlen(s));
}

static int64_t
clamp(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* The four labels of a record's "pid\x1ftid\x1fcomm\x1fthread" key. */
struct labels {
	Label l[4];
	Label *p[4];
	size_t n;
};

static void
make_labels(struct labels *out, const char *k, size_t len, struct intern *st)
{
	const char *part[4] = { k, NULL, NULL, NULL };
	size_t plen[4], np = 1;
	static const char *const keys[] = { "pid", "tid", "process", "thread" };

	for (size_t i = 0; i < len && np < 4; i++)
		if (k[i] == '\x1f')
			part[np++] = k + i + 1;
	out->n = 0;
	if (np < 4)
		return;
	for (size_t i = 0; i < 4; i++)
		plen[i] = (i < 3 ? (size_t)(part[i + 1] - part[i]) - 1 :
		    (size_t)(k + len - part[i]));
	for (size_t i = 0; i < 4; i++) {
		Label *l = &out->l[out->n];
		char num[32];

		if (plen[i] == 0)
			continue;
		perftools__profiles__label__init(l);
		l->key = str0(st, keys[i]);
		if (i < 2) {
			snprintf(num, sizeof(num), "%.*s", (int)plen[i], part[i]);
			l->num = strtoll(num, NULL, 10);
			if (l->num < 0)
				continue;	/* the record had none */
		} else {
			l->str = str_id(st, part[i], plen[i]);
		}
		out->p[out->n] = l;
		out->n++;
	}
}

static int
gzip_out(const uint8_t *buf, size_t len, FILE *out)
{
	z_stream z = { 0 };
	unsigned char chunk[1 << 16];
	int r;

	/* 15 + 16: a gzip header and trailer, as pprof reads */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = (Bytef *)(uintptr_t)buf;
	z.avail_in = (uInt)len;		/* < 4 GiB: checked by the caller */
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		r = deflate(&z, Z_FINISH);
		if (r == Z_STREAM_ERROR)
			break;
		if (fwrite(chunk, 1, sizeof(chunk) - z.avail_out, out) !=
		    sizeof(chunk) - z.avail_out)
			break;
	} while (r != Z_STREAM_END);
	deflateEnd(&z);
	return r == Z_STREAM_END && !ferror(out) ? 0 : -1;
}

/* The sample types by kind of input; returns how many values a sample has. */
static size_t
sample_types(const struct fold *f, struct intern *st, ValueType *vt,
    ValueType *period_type, int64_t *period)
{
	int syscalls = f->fmt == FMT_RECORDS && f->rec.samples == 0 &&
	    f->rec.syscalls + f->rec.summaries > 0;

	perftools__profiles__value_type__init(&vt[0]);
	perftools__profiles__value_type__init(&vt[1]);
	perftools__profiles__value_type__init(period_type);
	*period = 0;
	vt[0].type = str0(st, syscalls ? "calls" : "samples");
	vt[0].unit = str0(st, "count");
	if (syscalls) {
		if (f->rec.durations == 0)
			return 1;
		vt[1].type = str0(st, "duration");
		vt[1].unit = str0(st, "nanoseconds");
		return 2;
	}
	if (f->rec.freq_hz <= 0)
		return 1;
	vt[1].type = str0(st, f->rec.wall ? "wall" : "cpu");
	vt[1].unit = str0(st, "nanoseconds");
	period_type->type = vt[1].type;
	period_type->unit = vt[1].unit;
	*period = (int64_t)(1e9 / f->rec.freq_hz + 0.5);
	return 2;
}

int
fold_pprof_write(const struct fold *f, FILE *out)
{
	Profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
	ValueType vt[2], ptype, *vtp[2] = { &vt[0], &vt[1] };
	struct intern *st = intern_new();
	uint32_t nframes = intern_count(f->frames);
	uint32_t nlabels = f->labels ? intern_count(f->labels) : 0;
	size_t nst = stacktab_count(f->stacks), nvals, k = 0, packed_len;
	Function *fn = xcalloc(nframes ? nframes : 1, sizeof(*fn));
	Location *loc = xcalloc(nframes ? nframes : 1, sizeof(*loc));
	Line *line = xcalloc(nframes ? nframes : 1, sizeof(*line));
	Line **linep = xcalloc(nframes ? nframes : 1, sizeof(*linep));
	Sample *smp = xcalloc(nst ? nst : 1, sizeof(*smp));
	struct labels *lab = xcalloc((size_t)nlabels + 1, sizeof(*lab));
	int64_t *vals = xcalloc((nst ? nst : 1) * 2, sizeof(*vals));
	uint64_t **locids = xcalloc(nst ? nst : 1, sizeof(*locids));
	char *comment;
	uint8_t *packed;
	int r;

	str0(st, "");		/* index 0 is "" */
	nvals = sample_types(f, st, vt, &ptype, &p.period);
	p.n_sample_type = nvals;
	p.sample_type = vtp;
	if (p.period > 0)
		p.period_type = &ptype;
	p.default_sample_type = vt[0].type;
	p.time_nanos = (int64_t)time(NULL) * 1000000000;
	p.duration_nanos = (int64_t)(f->rec.duration_s * 1e9);

	p.n_function = p.n_location = nframes;
	p.function = xcalloc(nframes ? nframes : 1, sizeof(*p.function));
	p.location = xcalloc(nframes ? nframes : 1, sizeof(*p.location));
	for (uint32_t i = 0; i < nframes; i++) {
		size_t len;
		const char *s = intern_str(f->frames, i, &len);

		perftools__profiles__function__init(&fn[i]);
		fn[i].id = (uint64_t)i + 1;
		fn[i].name = fn[i].system_name = str_id(st, s, len);
		perftools__profiles__line__init(&line[i]);
		line[i].function_id = fn[i].id;
		linep[i] = &line[i];
		perftools__profiles__location__init(&loc[i]);
		loc[i].id = (uint64_t)i + 1;
		loc[i].n_line = 1;
		loc[i].line = &linep[i];
		p.function[i] = &fn[i];
		p.location[i] = &loc[i];
	}
	for (uint32_t i = 0; i < nlabels; i++) {
		size_t len;
		const char *s = intern_str(f->labels, i, &len);

		make_labels(&lab[i + 1], s, len, st);
	}

	p.sample = xcalloc(nst ? nst : 1, sizeof(*p.sample));
	for (size_t i = 0; i < stacktab_slots(f->stacks); i++) {
		const uint32_t *ids;
		size_t n;
		uint64_t count;
		uint32_t label;
		Sample *s = &smp[k];

		if (!stacktab_entry(f->stacks, i, &ids, &n, &count, &label) || count == 0)
			continue;
		perftools__profiles__sample__init(s);
		locids[k] = xcalloc(n ? n : 1, sizeof(**locids));
		for (size_t j = 0; j < n; j++)	/* leaf first */
			locids[k][j] = (uint64_t)ids[n - 1 - j] + 1;
		s->n_location_id = n;
		s->location_id = locids[k];
		s->n_value = nvals;
		s->value = &vals[k * 2];
		s->value[0] = clamp(count);
		if (nvals == 2 && p.period > 0)
			s->value[1] = clamp(count) > INT64_MAX / p.period ? INT64_MAX :
			    clamp(count) * p.period;
		else if (nvals == 2)
			s->value[1] = clamp(stacktab_get_label(f->stacks2, ids, n, label));
		if (label > 0 && label <= nlabels) {
			s->n_label = lab[label].n;
			s->label = lab[label].p;
		}
		p.sample[k++] = s;
	}
	p.n_sample = k;

	comment = xasprintf("cd-fold %s from %s (%s)", CD_VERSION, f->name,
	    fold_fmt_name(f->fmt));
	p.n_comment = 1;
	p.comment = (int64_t[]){ str0(st, comment) };
	free(comment);

	p.n_string_table = intern_count(st);
	p.string_table = xcalloc(p.n_string_table, sizeof(*p.string_table));
	for (size_t i = 0; i < p.n_string_table; i++)
		p.string_table[i] = (char *)intern_str(st, (uint32_t)i, NULL);

	packed_len = perftools__profiles__profile__get_packed_size(&p);
	if (packed_len >= UINT32_MAX)
		msg_die(3, "profile too large for pprof (%zu bytes)", packed_len);
	packed = xmalloc(packed_len ? packed_len : 1);
	perftools__profiles__profile__pack(&p, packed);
	r = gzip_out(packed, packed_len, out);

	free(packed);
	free(p.string_table);
	for (size_t i = 0; i < k; i++)
		free(locids[i]);
	free(locids);
	free(vals);
	free(lab);
	free(p.sample);
	free(smp);
	free(p.function);
	free(p.location);
	free(linep);
	free(line);
	free(loc);
	free(fn);
	intern_free(st);
	return r;
}
