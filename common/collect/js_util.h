/*
 * What the JavaScript frame readers (jsc_frames.h, v8_frames.h) share:
 * turning a runtime's string characters into a UTF-8 name that an
 * identifier could have, keeping names at stable addresses, and knowing
 * whether an address is in the target's code.
 */
#ifndef CD_JS_UTIL_H
#define CD_JS_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct js_names;

/* Reads len bytes at addr of the target into buf: 0 when all were read. */
typedef int (*js_read_fn)(void *arg, uint64_t addr, void *buf, size_t len);

/* The registers and stack copy of one sample (PERF_SAMPLE_REGS_USER/STACK_USER). */
struct js_sample {
	uint64_t ip, sp, bp;
	const unsigned char *stack;	/* copy of [sp, sp + stack_len) */
	size_t stack_len;
};

/*
 * need bytes at addr of the sampled stack into buf: from the sample's
 * copy when it holds them all, else through rd. 0, or -1.
 */
int js_stack_read(const struct js_sample *s, js_read_fn rd, void *arg, uint64_t addr,
    void *buf, size_t need);

/* What both walkers hold: the reader, the names, the target's code. */
struct js_reader {
	js_read_fn rd;
	void *arg;
	struct js_names *names;
	uint64_t *code;		/* executable [lo, hi) pairs, sorted */
	size_t ncode;
};

void js_reader_init(struct js_reader *r, js_read_fn rd, void *arg);
/* Frees what r holds, not r. */
void js_reader_release(struct js_reader *r);
/* Keep a copy of n [lo, hi) pairs as r's code. */
void js_reader_set_code(struct js_reader *r, const uint64_t *ranges, size_t n);

#define JS_NAME_MAX 512		/* longest name read, in characters */
#define JS_NAME_BUF (4 * JS_NAME_MAX + 1)	/* its UTF-8, NUL included */

/*
 * len Latin-1 (wide == 0) or UTF-16LE (wide == 1) characters at raw as
 * UTF-8 into out (JS_NAME_BUF bytes). Returns the length, or -1 when a
 * character is one no identifier has (a control, a lone surrogate): a
 * torn or misread string, not a name.
 */
long js_text_utf8(const unsigned char *raw, size_t len, int wide, char *out);

/* Names interned at stable addresses: valid until js_names_free. */

struct js_names *js_names_new(void);
const char *js_names_keep(struct js_names *t, const char *s, size_t len);
void js_names_free(struct js_names *t);

/* Is a in one of the n sorted [lo, hi) pairs of ranges? */
int js_in_ranges(const uint64_t *ranges, size_t n, uint64_t a);

#endif
