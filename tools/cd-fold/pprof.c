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

#include "exitcode.h"
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
	int syscalls = strcmp(fold_unit(f), "samples") != 0;

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

/* Everything the message points at, owned here, freed at once. */
struct build {
	struct intern *st;		/* the string table */
	Function *fn;
	Location *loc;
	Line *line, **linep;
	Sample *smp;
	struct labels *lab;
	int64_t *vals;
	uint64_t **locids;
	size_t nsmp;
};

/* One function and one location per distinct frame: id = frame id + 1. */
static void
add_frames(Profile *p, struct build *b, const struct fold *f)
{
	uint32_t n = intern_count(f->frames);

	b->fn = xcalloc(n ? n : 1, sizeof(*b->fn));
	b->loc = xcalloc(n ? n : 1, sizeof(*b->loc));
	b->line = xcalloc(n ? n : 1, sizeof(*b->line));
	b->linep = xcalloc(n ? n : 1, sizeof(*b->linep));
	p->n_function = p->n_location = n;
	p->function = xcalloc(n ? n : 1, sizeof(*p->function));
	p->location = xcalloc(n ? n : 1, sizeof(*p->location));
	for (uint32_t i = 0; i < n; i++) {
		size_t len;
		const char *s = intern_str(f->frames, i, &len);

		perftools__profiles__function__init(&b->fn[i]);
		b->fn[i].id = (uint64_t)i + 1;
		b->fn[i].name = b->fn[i].system_name = str_id(b->st, s, len);
		perftools__profiles__line__init(&b->line[i]);
		b->line[i].function_id = b->fn[i].id;
		b->linep[i] = &b->line[i];
		perftools__profiles__location__init(&b->loc[i]);
		b->loc[i].id = (uint64_t)i + 1;
		b->loc[i].n_line = 1;
		b->loc[i].line = &b->linep[i];
		p->function[i] = &b->fn[i];
		p->location[i] = &b->loc[i];
	}
}

/* One sample per distinct stack (and thread), leaf first, with its values. */
static void
add_samples(Profile *p, struct build *b, const struct fold *f, size_t nvals)
{
	uint32_t nlabels = f->labels ? intern_count(f->labels) : 0;
	size_t nst = stacktab_count(f->stacks), k = 0;

	b->lab = xcalloc((size_t)nlabels + 1, sizeof(*b->lab));
	for (uint32_t i = 0; i < nlabels; i++) {
		size_t len;
		const char *s = intern_str(f->labels, i, &len);

		make_labels(&b->lab[i + 1], s, len, b->st);
	}
	b->smp = xcalloc(nst ? nst : 1, sizeof(*b->smp));
	b->vals = xcalloc((nst ? nst : 1) * 2, sizeof(*b->vals));
	b->locids = xcalloc(nst ? nst : 1, sizeof(*b->locids));
	p->sample = xcalloc(nst ? nst : 1, sizeof(*p->sample));
	for (size_t i = 0; i < stacktab_slots(f->stacks); i++) {
		const uint32_t *ids;
		size_t n;
		uint64_t count;
		uint32_t label;
		Sample *s = &b->smp[k];

		if (!stacktab_entry(f->stacks, i, &ids, &n, &count, &label) || count == 0)
			continue;
		perftools__profiles__sample__init(s);
		b->locids[k] = xcalloc(n ? n : 1, sizeof(**b->locids));
		for (size_t j = 0; j < n; j++)
			b->locids[k][j] = (uint64_t)ids[n - 1 - j] + 1;
		s->n_location_id = n;
		s->location_id = b->locids[k];
		s->n_value = nvals;
		s->value = &b->vals[k * 2];
		s->value[0] = clamp(count);
		if (nvals == 2 && p->period > 0)
			s->value[1] = s->value[0] > INT64_MAX / p->period ? INT64_MAX :
			    s->value[0] * p->period;
		else if (nvals == 2)
			s->value[1] = clamp(stacktab_get_label(f->stacks2, ids, n, label));
		if (label > 0 && label <= nlabels) {
			s->n_label = b->lab[label].n;
			s->label = b->lab[label].p;
		}
		p->sample[k++] = s;
	}
	p->n_sample = b->nsmp = k;
}

static void
build_free(Profile *p, struct build *b)
{
	for (size_t i = 0; i < b->nsmp; i++)
		free(b->locids[i]);
	free(b->locids);
	free(b->vals);
	free(b->lab);
	free(b->smp);
	free(p->sample);
	free(p->function);
	free(p->location);
	free(p->string_table);
	free(b->linep);
	free(b->line);
	free(b->loc);
	free(b->fn);
	intern_free(b->st);
}

/* Packed by libprotobuf-c, then gzipped. */
static int
pack_out(const Profile *p, FILE *out)
{
	size_t len = perftools__profiles__profile__get_packed_size(p);
	uint8_t *packed;
	int r;

	if (len >= UINT32_MAX)
		msg_die(CD_EXIT_FAIL, "profile too large for pprof (%zu bytes)", len);
	packed = xmalloc(len ? len : 1);
	perftools__profiles__profile__pack(p, packed);
	r = gzip_out(packed, len, out);
	free(packed);
	return r;
}

int
fold_pprof_write(const struct fold *f, FILE *out)
{
	Profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
	ValueType vt[2], ptype, *vtp[2] = { &vt[0], &vt[1] };
	struct build b = { .st = intern_new() };
	int64_t comment;
	char *text;
	size_t nvals;
	int r;

	str0(b.st, "");		/* index 0 is "" */
	nvals = sample_types(f, b.st, vt, &ptype, &p.period);
	p.n_sample_type = nvals;
	p.sample_type = vtp;
	if (p.period > 0)
		p.period_type = &ptype;
	p.default_sample_type = vt[0].type;
	p.time_nanos = (int64_t)time(NULL) * 1000000000;
	p.duration_nanos = (int64_t)(f->rec.duration_s * 1e9);
	add_frames(&p, &b, f);
	add_samples(&p, &b, f, nvals);
	text = xasprintf("cd-fold %s from %s (%s)", CD_VERSION, f->name,
	    fold_fmt_name(f->fmt));
	comment = str0(b.st, text);
	free(text);
	p.n_comment = 1;
	p.comment = &comment;
	/* last: every string is in by now */
	p.n_string_table = intern_count(b.st);
	p.string_table = xcalloc(p.n_string_table, sizeof(*p.string_table));
	for (size_t i = 0; i < p.n_string_table; i++)
		p.string_table[i] = (char *)intern_str(b.st, (uint32_t)i, NULL);
	r = pack_out(&p, out);
	build_free(&p, &b);
	return r;
}
