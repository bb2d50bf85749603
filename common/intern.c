#include <stdlib.h>
#include <string.h>

#include "intern.h"
#include "msg.h"

struct slot {
	uint64_t hash;
	uint32_t id;		/* UINT32_MAX when empty */
};

struct intern {
	struct slot *slots;
	size_t nslots;		/* power of two */
	size_t *off;		/* id -> offset in arena */
	uint32_t *len;		/* id -> length */
	uint32_t n, cap;
	char *arena;
	size_t used, size;
};

uint64_t
intern_hash(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i = 0;

	/* Eight bytes per step: frames are short but there are many. */
	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

struct intern *
intern_new(void)
{
	struct intern *t = xcalloc(1, sizeof(*t));

	t->nslots = 1024;
	t->slots = xmalloc(t->nslots * sizeof(*t->slots));
	memset(t->slots, 0xff, t->nslots * sizeof(*t->slots));
	t->size = 64 * 1024;
	t->arena = xmalloc(t->size);
	return t;
}

void
intern_free(struct intern *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t->off);
	free(t->len);
	free(t->arena);
	free(t);
}

static void
grow_slots(struct intern *t)
{
	size_t n = t->nslots * 2, mask = n - 1;
	struct slot *s = xmalloc(n * sizeof(*s));

	memset(s, 0xff, n * sizeof(*s));
	for (size_t i = 0; i < t->nslots; i++) {
		size_t j;

		if (t->slots[i].id == UINT32_MAX)
			continue;
		for (j = t->slots[i].hash & mask; s[j].id != UINT32_MAX; j = (j + 1) & mask)
			;
		s[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = s;
	t->nslots = n;
}

static int
same(const struct intern *t, uint32_t id, const char *s, size_t len)
{
	return t->len[id] == len && memcmp(t->arena + t->off[id], s, len) == 0;
}

uint32_t
intern_find(const struct intern *t, const char *s, size_t len)
{
	uint64_t h = intern_hash(s, len, 0);
	size_t mask = t->nslots - 1;

	for (size_t j = h & mask; t->slots[j].id != UINT32_MAX; j = (j + 1) & mask)
		if (t->slots[j].hash == h && same(t, t->slots[j].id, s, len))
			return t->slots[j].id;
	return UINT32_MAX;
}

uint32_t
intern_id(struct intern *t, const char *s, size_t len)
{
	uint64_t h = intern_hash(s, len, 0);
	size_t mask = t->nslots - 1, j;
	uint32_t id;

	for (j = h & mask; t->slots[j].id != UINT32_MAX; j = (j + 1) & mask)
		if (t->slots[j].hash == h && same(t, t->slots[j].id, s, len))
			return t->slots[j].id;
	if (len >= UINT32_MAX || t->n >= UINT32_MAX - 1)
		msg_die(3, "too many or too long frame names");
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->off = xreallocarray(t->off, t->cap, sizeof(*t->off));
		t->len = xreallocarray(t->len, t->cap, sizeof(*t->len));
	}
	while (t->used + len + 1 > t->size) {
		t->size *= 2;
		t->arena = xrealloc(t->arena, t->size);
	}
	id = t->n++;
	t->off[id] = t->used;
	t->len[id] = (uint32_t)len;
	memcpy(t->arena + t->used, s, len);
	t->arena[t->used + len] = '\0';
	t->used += len + 1;
	t->slots[j].hash = h;
	t->slots[j].id = id;
	if ((size_t)t->n * 4 > t->nslots * 3)
		grow_slots(t);
	return id;
}

const char *
intern_str(const struct intern *t, uint32_t id, size_t *len)
{
	if (len)
		*len = t->len[id];
	return t->arena + t->off[id];
}

uint32_t
intern_count(const struct intern *t)
{
	return t->n;
}
