#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "lineread.h"
#include "msg.h"
#include "record.h"

#define OUTBUF (64 * 1024)

struct rec_writer {
	int fd;
	int linebuf;
	int err;		/* errno of the first failed write, or 0 */
	size_t len;
	char buf[OUTBUF];
};

/* The writer on stdout the rec_emit family uses. */
static struct rec_writer std_writer = { .fd = 1 };

static int
write_all(struct rec_writer *w, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(w->fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (w->err == 0)
				w->err = errno;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

struct rec_writer *
rec_writer_new(int fd)
{
	struct rec_writer *w = xcalloc(1, sizeof(*w));

	w->fd = fd;
	return w;
}

void
rec_writer_free(struct rec_writer *w)
{
	if (w != &std_writer)
		free(w);
}

struct rec_writer *
rec_stdout(void)
{
	return &std_writer;
}

void
rec_writer_linebuffered(struct rec_writer *w, int on)
{
	w->linebuf = on;
}

int
rec_writer_flush(struct rec_writer *w)
{
	int r = 0;

	if (w->len > 0)
		r = write_all(w, w->buf, w->len);
	w->len = 0;
	/* One failed write fails the run, whatever was written after it. */
	if (w->err != 0) {
		errno = w->err;
		r = -1;
	}
	return r;
}

int
rec_writer_close(struct rec_writer *w)
{
	if (rec_writer_flush(w) == 0)
		return 0;
	msg_warn("cannot write the output: %s", strerror(w->err));
	return -1;
}

int
rec_writer_emit_raw(struct rec_writer *w, const char *line, size_t len)
{
	if (w->len + len + 1 > OUTBUF && rec_writer_flush(w) < 0)
		return -1;
	if (len + 1 > OUTBUF) {
		/* A line larger than the buffer goes out alone, whole. */
		char *tmp = xmalloc(len + 1);
		int r;

		memcpy(tmp, line, len);
		tmp[len] = '\n';
		r = write_all(w, tmp, len + 1);
		free(tmp);
		return r;
	}
	memcpy(w->buf + w->len, line, len);
	w->buf[w->len + len] = '\n';
	w->len += len + 1;
	if (w->linebuf)
		return rec_writer_flush(w);
	return 0;
}

/* ---- the default writer, on stdout ---- */

void
rec_out_init(int fd)
{
	std_writer.fd = fd;
	std_writer.len = 0;
	std_writer.err = 0;	/* a new output starts clean */
}

void
rec_out_linebuffered(int on)
{
	rec_writer_linebuffered(&std_writer, on);
}

int
rec_flush(void)
{
	return rec_writer_flush(&std_writer);
}

int
rec_close(void)
{
	return rec_writer_close(&std_writer);
}

int
rec_emit_raw(const char *line, size_t len)
{
	return rec_writer_emit_raw(&std_writer, line, len);
}

int
rec_emit(const cJSON *obj)
{
	return rec_writer_emit(&std_writer, obj);
}

int
rec_emit_free(cJSON *obj)
{
	int r = rec_emit(obj);

	cJSON_Delete(obj);
	return r;
}

/*
 * Record arena: while on, cJSON takes its memory from blocks that are
 * reset after each record instead of a malloc and a free per field (a
 * fifth of cd-fds's time on 10,000 fd records). cJSON's hooks are global,
 * so only records built, emitted and deleted inside the window may use it.
 */
struct ablock {
	struct ablock *next;
	size_t used, size;
	max_align_t data[];
};

static struct ablock *arena;

static void *
arena_alloc(size_t n)
{
	struct ablock *b = arena;

	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (b == NULL || b->size - b->used < n) {
		size_t size = n > 64 * 1024 ? n : 64 * 1024;

		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		b->size = size;
		b->used = 0;
		b->next = arena;
		arena = b;
	}
	b->used += n;
	return (char *)b->data + b->used - n;
}

static void
arena_free(void *p)
{
	(void)p;	/* all of it goes at the next reset */
}

void
rec_arena_begin(void)
{
	cJSON_Hooks h = { arena_alloc, arena_free };

	cJSON_InitHooks(&h);
}

void
rec_arena_reset(void)
{
	/* Keep one block for the next record. */
	while (arena != NULL && arena->next != NULL) {
		struct ablock *b = arena;

		arena = b->next;
		free(b);
	}
	if (arena != NULL)
		arena->used = 0;
}

void
rec_arena_end(void)
{
	cJSON_InitHooks(NULL);
	rec_arena_reset();
	free(arena);
	arena = NULL;
}

/* Print obj straight into the output buffer; its length, or -1 if it did not fit. */
static long
print_in_place(struct rec_writer *w, const cJSON *obj)
{
	size_t room = OUTBUF - w->len;

	/* cJSON may want a few bytes beyond the text; keep one for the newline. */
	if (room < 64 || !cJSON_PrintPreallocated((cJSON *)obj, w->buf + w->len, (int)room - 1, 0))
		return -1;
	return (long)strlen(w->buf + w->len);
}

int
rec_writer_emit(struct rec_writer *w, const cJSON *obj)
{
	char *s;
	long n;
	int r;

	/*
	 * Most records fit the room left in the buffer: no allocation and no
	 * copy per line, which counts at 10,000 records a run.
	 */
	if ((n = print_in_place(w, obj)) < 0 && w->len > 0) {
		if (rec_writer_flush(w) < 0)
			return -1;
		n = print_in_place(w, obj);
	}
	if (n >= 0) {
		w->buf[w->len + (size_t)n] = '\n';
		w->len += (size_t)n + 1;
		return w->linebuf ? rec_writer_flush(w) : 0;
	}
	if ((s = cJSON_PrintUnformatted(obj)) == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory serialising a record");
	r = rec_writer_emit_raw(w, s, strlen(s));
	cJSON_free(s);
	return r;
}

static cJSON *
must(cJSON *item)
{
	if (item == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory building a record");
	return item;
}

/*
 * Field names are taken as constants (cJSON's "CS" keys): every name is a
 * literal or a static table entry, and not copying it saves an allocation
 * per field.
 */
static cJSON *
add(cJSON *obj, const char *name, cJSON *item)
{
	if (!cJSON_AddItemToObjectCS(obj, name, item)) {
		cJSON_Delete(item);
		msg_die(CD_EXIT_FAIL, "out of memory building a record");
	}
	return item;
}

cJSON *
rec_new(const char *type)
{
	cJSON *o = must(cJSON_CreateObject());

	/* Types are literals, as names are. */
	add(o, "type", must(cJSON_CreateStringReference(type)));
	return o;
}

cJSON *
rec_add_str(cJSON *obj, const char *name, const char *s)
{
	size_t n;
	char *clean;
	cJSON *item;

	if (s == NULL)
		return add(obj, name, must(cJSON_CreateNull()));
	n = strlen(s);
	if (utf8_valid(s, n))
		return add(obj, name, must(cJSON_CreateString(s)));
	clean = utf8_sanitize(s, n);
	item = add(obj, name, must(cJSON_CreateString(clean)));
	free(clean);
	return item;
}

cJSON *
rec_add_str_ref(cJSON *obj, const char *name, const char *s)
{
	/* Invalid UTF-8 needs a sanitised copy after all. */
	if (s == NULL || !utf8_valid(s, strlen(s)))
		return rec_add_str(obj, name, s);
	return add(obj, name, must(cJSON_CreateStringReference(s)));
}

/*
 * Integers go in as raw text: cJSON prints every number with "%1.15g",
 * reads it back with sscanf and may print it again with "%1.17g", which was
 * a tenth of cd-fds's time on a 10,000-fd table. Beyond 2^53 a double is no
 * longer an exact integer, so those (and fractions) stay with cJSON.
 */
cJSON *
rec_add_num(cJSON *obj, const char *name, double v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u;

	if (!(v >= -9007199254740992.0 && v <= 9007199254740992.0) || v != (double)(long long)v)
		return add(obj, name, must(cJSON_CreateNumber(v)));
	u = v < 0 ? (unsigned long long)-(long long)v : (unsigned long long)v;
	*--p = '\0';
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return add(obj, name, must(cJSON_CreateRaw(p)));
}

cJSON *
rec_add_bool(cJSON *obj, const char *name, int v)
{
	return add(obj, name, must(cJSON_CreateBool(v ? 1 : 0)));
}

cJSON *
rec_meta_new(const char *tool)
{
	cJSON *m = rec_new("meta");

	rec_add_str(m, "tool", tool);
	rec_add_str(m, "version", CD_VERSION);
	return m;
}

/* ---- reading ---- */

struct rec_reader {
	struct lineread *lr;
	char *name;
	int strict;
	unsigned long bad;
	const char *line;
	size_t len;
};

struct rec_reader *
rec_reader_open(int fd, const char *name)
{
	struct rec_reader *r = xcalloc(1, sizeof(*r));

	r->lr = lr_open(fd, 16u << 20);
	r->name = xstrdup(name ? name : "stdin");
	return r;
}

void
rec_reader_close(struct rec_reader *r)
{
	if (r == NULL)
		return;
	lr_close(r->lr);
	free(r->name);
	free(r);
}

void
rec_reader_strict(struct rec_reader *r, int strict)
{
	r->strict = strict;
}

void
rec_reader_maxline(struct rec_reader *r, size_t max)
{
	lr_setmax(r->lr, max);
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

static void
bad(struct rec_reader *r, const char *why)
{
	r->bad++;
	msg_warn("%s:%lu: %s; %s", r->name, lr_lineno(r->lr), why,
	    r->strict ? "stopping (--strict)" : "line skipped");
}

/* Parse one line; NULL with *why set when it is not a record. */
static cJSON *
parse(const char *line, size_t len, const char **why)
{
	const char *end = NULL;
	cJSON *obj, *type;

	if (memchr(line, '\0', len)) {
		*why = "binary data (NUL byte) in a record";
		return NULL;
	}
	if (!utf8_valid(line, len)) {
		*why = "invalid UTF-8";
		return NULL;
	}
	obj = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	if (obj == NULL) {
		*why = "malformed JSON";
		return NULL;
	}
	if (!blank(end, len - (size_t)(end - line))) {
		*why = "trailing data after the JSON object";
		cJSON_Delete(obj);
		return NULL;
	}
	if (!cJSON_IsObject(obj)) {
		*why = "not a JSON object";
		cJSON_Delete(obj);
		return NULL;
	}
	type = cJSON_GetObjectItemCaseSensitive(obj, "type");
	if (!cJSON_IsString(type) || type->valuestring[0] == '\0') {
		*why = "record has no \"type\" string";
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

enum rec_status
rec_next(struct rec_reader *r, cJSON **out)
{
	for (;;) {
		char *line;
		size_t len;
		const char *why = NULL;
		enum lr_status st = lr_next(r->lr, &line, &len);
		cJSON *obj;

		switch (st) {
		case LR_EOF:
			return REC_EOF;
		case LR_ERROR:
			msg_warnerr("%s: read error", r->name);
			return REC_ERROR;
		case LR_TOOLONG:
			bad(r, "line longer than the limit");
			if (r->strict)
				return REC_BAD;
			continue;
		case LR_LINE:
		case LR_PARTIAL:
			break;
		}
		if (blank(line, len))
			continue;
		obj = parse(line, len, &why);
		if (obj == NULL) {
			if (st == LR_PARTIAL)
				why = "truncated final line (no newline)";
			bad(r, why);
			if (r->strict)
				return REC_BAD;
			continue;
		}
		r->line = line;
		r->len = len;
		*out = obj;
		return REC_OK;
	}
}

const char *
rec_raw(const struct rec_reader *r, size_t *len)
{
	*len = r->len;
	return r->line;
}

unsigned long
rec_lineno(const struct rec_reader *r)
{
	return lr_lineno(r->lr);
}

unsigned long
rec_bad_lines(const struct rec_reader *r)
{
	return r->bad;
}

const char *
rec_type(const cJSON *obj)
{
	return rec_get_str(obj, "type");
}

int
rec_is(const cJSON *obj, const char *type)
{
	const char *t = rec_type(obj);

	return t != NULL && strcmp(t, type) == 0;
}

const char *
rec_get_str(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

double
rec_get_num(const cJSON *obj, const char *name, double def)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNumber(it) ? it->valuedouble : def;
}
