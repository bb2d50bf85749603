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

/* Reads len bytes at addr of the target into buf: 0 when all were read. */
typedef int (*jsc_read_fn)(void *arg, uint64_t addr, void *buf, size_t len);

/* The registers and stack copy of one sample (PERF_SAMPLE_REGS_USER/STACK_USER). */
struct jsc_sample {
	uint64_t ip, sp, bp;
	const unsigned char *stack;	/* copy of [sp, sp + stack_len) */
	size_t stack_len;
};

/*
 * need bytes at addr of the sampled stack into buf: from the sample's
 * copy when it holds them all, else through rd. 0, or -1.
 */
int js_stack_read(const struct jsc_sample *s, jsc_read_fn rd, void *arg, uint64_t addr,
    void *buf, size_t need);

/* A malloc'd copy of n [lo, hi) pairs; NULL when n is 0. */
uint64_t *js_ranges_copy(const uint64_t *ranges, size_t n);

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
struct js_names;

struct js_names *js_names_new(void);
const char *js_names_keep(struct js_names *t, const char *s, size_t len);
void js_names_free(struct js_names *t);

/* Is a in one of the n sorted [lo, hi) pairs of ranges? */
int js_in_ranges(const uint64_t *ranges, size_t n, uint64_t a);

#endif
