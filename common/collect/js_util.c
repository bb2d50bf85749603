#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intern.h"
#include "js_util.h"
#include "msg.h"

struct js_names {
	struct intern *ids;	/* name -> id; strs[id] stays put */
	char **strs;
	size_t n;
};

/* One UTF-8 sequence for c into out. */
static size_t
put_utf8(unsigned c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

static int
plausible_char(unsigned c)
{
	return c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0);
}

long
js_text_utf8(const unsigned char *raw, size_t len, int wide, char *out)
{
	size_t o = 0;

	if (len > JS_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned c = wide ? (unsigned)raw[2 * i] | (unsigned)raw[2 * i + 1] << 8 : raw[i];

		if (wide && c >= 0xd800 && c < 0xdc00 && i + 1 < len) {
			unsigned d = (unsigned)raw[2 * i + 2] | (unsigned)raw[2 * i + 3] << 8;

			if (d < 0xdc00 || d >= 0xe000)
				return -1;
			c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
			i++;
		} else if (wide && c >= 0xd800 && c < 0xe000) {
			return -1;
		}
		if (!plausible_char(c))
			return -1;
		o += put_utf8(c, out + o);
	}
	out[o] = '\0';
	return (long)o;
}

struct js_names *
js_names_new(void)
{
	struct js_names *t = xcalloc(1, sizeof(*t));

	t->ids = intern_new();
	return t;
}

const char *
js_names_keep(struct js_names *t, const char *s, size_t len)
{
	uint32_t id = intern_id(t->ids, s, len);

	if (id < t->n)
		return t->strs[id];
	t->strs = xreallocarray(t->strs, t->n + 1, sizeof(*t->strs));
	t->strs[t->n] = xmalloc(len + 1);
	memcpy(t->strs[t->n], s, len);
	t->strs[t->n][len] = '\0';
	return t->strs[t->n++];
}

void
js_names_free(struct js_names *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->strs[i]);
	free(t->strs);
	intern_free(t->ids);
	free(t);
}

int
js_in_ranges(const uint64_t *ranges, size_t n, uint64_t a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ranges[2 * mid + 1] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && ranges[2 * lo] <= a;
}

int
js_stack_read(const struct js_sample *s, js_read_fn rd, void *arg, uint64_t addr,
    void *buf, size_t need)
{
	if (s->stack != NULL && addr >= s->sp && addr - s->sp <= s->stack_len &&
	    s->stack_len - (addr - s->sp) >= need) {
		memcpy(buf, s->stack + (addr - s->sp), need);
		return 0;
	}
	return rd(arg, addr, buf, need);
}

void
js_reader_init(struct js_reader *r, js_read_fn rd, void *arg)
{
	memset(r, 0, sizeof(*r));
	r->rd = rd;
	r->arg = arg;
	r->names = js_names_new();
}

void
js_reader_release(struct js_reader *r)
{
	js_names_free(r->names);
	free(r->code);
	memset(r, 0, sizeof(*r));
}

void
js_reader_set_code(struct js_reader *r, const uint64_t *ranges, size_t n)
{
	free(r->code);
	r->code = NULL;
	r->ncode = n;
	if (n == 0)
		return;
	r->code = xreallocarray(NULL, n, 2 * sizeof(*r->code));
	memcpy(r->code, ranges, n * 2 * sizeof(*r->code));
}
