#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "hashmap.h"
#include "intern.h"
#include "msg.h"

#define BLOCK (64 * 1024)

/* Strings are stored in blocks that never move, so the table can borrow them. */
struct block {
	struct block *next;
	char data[];
};

struct intern {
	struct hmap idx;	/* bytes (borrowed from the blocks) -> id */
	const char **str;	/* id -> bytes */
	uint32_t *len;		/* id -> length */
	uint32_t n, cap;
	struct block *blocks;
	char *cur;		/* free space in the newest block */
	size_t left;
};

struct intern *
intern_new(void)
{
	struct intern *t = xcalloc(1, sizeof(*t));

	hmap_init(&t->idx, HMAP_BORROW);
	return t;
}

void
intern_free(struct intern *t)
{
	if (t == NULL)
		return;
	hmap_release(&t->idx, NULL);
	while (t->blocks != NULL) {
		struct block *b = t->blocks;

		t->blocks = b->next;
		free(b);
	}
	free(t->str);
	free(t->len);
	free(t);
}

/* A copy of s[0..len) and a NUL, at an address that stays put. */
static char *
store(struct intern *t, const char *s, size_t len)
{
	char *p;

	if (len + 1 > t->left) {
		size_t sz = len + 1 > BLOCK ? len + 1 : BLOCK;
		struct block *b = xmalloc(sizeof(*b) + sz);

		b->next = t->blocks;
		t->blocks = b;
		t->cur = b->data;
		t->left = sz;
	}
	p = t->cur;
	memcpy(p, s, len);
	p[len] = '\0';
	t->cur += len + 1;
	t->left -= len + 1;
	return p;
}

uint32_t
intern_find(const struct intern *t, const char *s, size_t len)
{
	void **v = hmap_find(&t->idx, s, len);

	return v == NULL ? UINT32_MAX : (uint32_t)(uintptr_t)*v;
}

uint32_t
intern_id(struct intern *t, const char *s, size_t len)
{
	uint32_t id = intern_find(t, s, len);
	char *p;

	if (id != UINT32_MAX)
		return id;
	if (len >= UINT32_MAX || t->n >= UINT32_MAX - 1)
		msg_die(CD_EXIT_FAIL, "too many or too long frame names");
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->str = xreallocarray(t->str, t->cap, sizeof(*t->str));
		t->len = xreallocarray(t->len, t->cap, sizeof(*t->len));
	}
	p = store(t, s, len);
	id = t->n++;
	t->str[id] = p;
	t->len[id] = (uint32_t)len;
	*hmap_insert(&t->idx, p, len, NULL) = (void *)(uintptr_t)id;
	return id;
}

const char *
intern_str(const struct intern *t, uint32_t id, size_t *len)
{
	if (len)
		*len = t->len[id];
	return t->str[id];
}

uint32_t
intern_count(const struct intern *t)
{
	return t->n;
}
