/*
 * String interning: each distinct byte string gets a small dense id, and
 * its bytes are stored once. The folding tools key their stack tables on
 * frame ids, so memory grows with distinct frames and stacks, not with
 * the size of the input.
 */
#ifndef CD_INTERN_H
#define CD_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct intern;

struct intern *intern_new(void);
void intern_free(struct intern *t);
/* The id of s[0..len), adding it when new. Strings may contain NULs. */
uint32_t intern_id(struct intern *t, const char *s, size_t len);
/* The id, or UINT32_MAX when s has never been interned. */
uint32_t intern_find(const struct intern *t, const char *s, size_t len);
/* Bytes of id (NUL-terminated) and their length; they stay put until intern_free. */
const char *intern_str(const struct intern *t, uint32_t id, size_t *len);
uint32_t intern_count(const struct intern *t);

#endif
