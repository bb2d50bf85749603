#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "hashmap.h"
#include "msg.h"

uint64_t
hmap_hash(const void *p, size_t len, uint64_t seed)
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

void
hmap_init(struct hmap *m, unsigned flags)
{
	memset(m, 0, sizeof(*m));
	m->flags = flags;
}

const void *
hmap_ent_key(const struct hmap_ent *e, size_t *klen)
{
	if (klen != NULL)
		*klen = e->klen;
	return e->klen <= HMAP_INLINE ? e->key.in : e->key.p;
}

static int
same(const struct hmap_ent *e, uint64_t h, const void *key, size_t klen)
{
	return e->hash == h && e->klen == klen &&
	    memcmp(hmap_ent_key(e, NULL), key, klen) == 0;
}

/* The entry of key, or the empty one where it would go. */
static struct hmap_ent *
probe(const struct hmap *m, uint64_t h, const void *key, size_t klen)
{
	size_t mask = m->cap - 1, i = (size_t)h & mask;

	while (m->v[i].used && !same(&m->v[i], h, key, klen))
		i = (i + 1) & mask;
	return &m->v[i];
}

static void
grow(struct hmap *m)
{
	struct hmap_ent *old = m->v;
	size_t oldcap = m->cap, mask;

	m->cap = oldcap ? oldcap * 2 : 16;
	mask = m->cap - 1;
	m->v = xcalloc(m->cap, sizeof(*m->v));
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;

		if (!old[i].used)
			continue;
		for (j = (size_t)old[i].hash & mask; m->v[j].used; j = (j + 1) & mask)
			;
		m->v[j] = old[i];
	}
	free(old);
}

void **
hmap_find(const struct hmap *m, const void *key, size_t klen)
{
	struct hmap_ent *e;

	if (m->n == 0)
		return NULL;
	e = probe(m, hmap_hash(key, klen, 0), key, klen);
	return e->used ? &e->val : NULL;
}

static void
set_key(const struct hmap *m, struct hmap_ent *e, const void *key, size_t klen)
{
	void *copy;

	if (klen <= HMAP_INLINE) {
		if (klen > 0)
			memcpy(e->key.in, key, klen);
		return;
	}
	if (m->flags & HMAP_BORROW) {
		e->key.p = key;
		return;
	}
	copy = xmalloc(klen);
	memcpy(copy, key, klen);
	e->key.p = copy;
}

void **
hmap_insert(struct hmap *m, const void *key, size_t klen, int *added)
{
	uint64_t h = hmap_hash(key, klen, 0);
	struct hmap_ent *e;

	if (added != NULL)
		*added = 0;
	if (m->cap > 0) {
		e = probe(m, h, key, klen);
		if (e->used)
			return &e->val;
	}
	if (klen > UINT32_MAX)
		msg_die(CD_EXIT_FAIL, "hash key of %zu bytes", klen);
	/* at most 3/4 full: linear probing slows sharply past that */
	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	e = probe(m, h, key, klen);
	set_key(m, e, key, klen);
	e->hash = h;
	e->klen = (uint32_t)klen;
	e->val = NULL;
	e->used = 1;
	m->n++;
	if (added != NULL)
		*added = 1;
	return &e->val;
}

static void
drop_key(const struct hmap *m, struct hmap_ent *e)
{
	if (e->klen > HMAP_INLINE && !(m->flags & HMAP_BORROW))
		free((void *)e->key.p);
}

/* Does home position k lie cyclically in (i, j]? Then j may not move to i. */
static int
between(size_t i, size_t k, size_t j)
{
	return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

int
hmap_delete(struct hmap *m, const void *key, size_t klen, void **val)
{
	size_t mask = m->cap - 1, i, j;
	struct hmap_ent *e;

	if (m->n == 0)
		return 0;
	e = probe(m, hmap_hash(key, klen, 0), key, klen);
	if (!e->used)
		return 0;
	if (val != NULL)
		*val = e->val;
	drop_key(m, e);
	/* Shift later members of the run back so no probe stops early. */
	i = (size_t)(e - m->v);
	for (j = (i + 1) & mask; m->v[j].used; j = (j + 1) & mask) {
		if (between(i, (size_t)m->v[j].hash & mask, j))
			continue;
		m->v[i] = m->v[j];
		i = j;
	}
	memset(&m->v[i], 0, sizeof(m->v[i]));
	m->n--;
	return 1;
}

const struct hmap_ent *
hmap_next(const struct hmap *m, size_t *pos)
{
	for (; *pos < m->cap; (*pos)++)
		if (m->v[*pos].used)
			return &m->v[(*pos)++];
	return NULL;
}

void
hmap_release(struct hmap *m, void (*fn)(void *val))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->v[i].used)
			continue;
		if (fn != NULL)
			fn(m->v[i].val);
		drop_key(m, &m->v[i]);
	}
	free(m->v);
	hmap_init(m, m->flags);
}
