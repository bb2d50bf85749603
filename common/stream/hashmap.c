#include <stdlib.h>
#include <string.h>

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

/* The slot's hash: never 0, which marks an empty slot. */
#define TAG(h) ((h) | 1ULL << 63)

/* The slot of key, or the empty one where it would go. */
static size_t
probe(const struct hmap *m, uint64_t t, const void *key, size_t klen)
{
	size_t mask = m->cap - 1, i = (size_t)t & mask;

	for (; m->hash[i] != 0; i = (i + 1) & mask)
		if (m->hash[i] == t && m->v[i].klen == klen &&
		    memcmp(hmap_ent_key(&m->v[i], NULL), key, klen) == 0)
			break;
	return i;
}

static void
grow(struct hmap *m)
{
	uint64_t *oldh = m->hash;
	struct hmap_ent *old = m->v;
	size_t oldcap = m->cap, mask;

	m->cap = oldcap ? oldcap * 2 : 16;
	mask = m->cap - 1;
	m->hash = xcalloc(m->cap, sizeof(*m->hash));
	m->v = xreallocarray(NULL, m->cap, sizeof(*m->v));
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;

		if (oldh[i] == 0)
			continue;
		for (j = (size_t)oldh[i] & mask; m->hash[j] != 0; j = (j + 1) & mask)
			;
		m->hash[j] = oldh[i];
		m->v[j] = old[i];
	}
	free(oldh);
	free(old);
}

void **
hmap_find(const struct hmap *m, const void *key, size_t klen)
{
	size_t i;

	if (m->n == 0)
		return NULL;
	i = probe(m, TAG(hmap_hash(key, klen, 0)), key, klen);
	return m->hash[i] != 0 ? &m->v[i].val : NULL;
}

static void
set_key(const struct hmap *m, struct hmap_ent *e, const void *key, size_t klen)
{
	void *copy;

	e->klen = klen;
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
	uint64_t t = TAG(hmap_hash(key, klen, 0));
	size_t i = 0;

	if (added != NULL)
		*added = 0;
	if (m->cap > 0) {
		i = probe(m, t, key, klen);
		if (m->hash[i] != 0)
			return &m->v[i].val;
	}
	/* at most 3/4 full: linear probing slows sharply past that */
	if ((m->n + 1) * 4 > m->cap * 3) {
		grow(m);
		i = probe(m, t, key, klen);
	}
	m->hash[i] = t;
	set_key(m, &m->v[i], key, klen);
	m->v[i].val = NULL;
	m->n++;
	if (added != NULL)
		*added = 1;
	return &m->v[i].val;
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

	if (m->n == 0)
		return 0;
	i = probe(m, TAG(hmap_hash(key, klen, 0)), key, klen);
	if (m->hash[i] == 0)
		return 0;
	if (val != NULL)
		*val = m->v[i].val;
	drop_key(m, &m->v[i]);
	/* Shift later members of the run back so no probe stops early. */
	for (j = (i + 1) & mask; m->hash[j] != 0; j = (j + 1) & mask) {
		if (between(i, (size_t)m->hash[j] & mask, j))
			continue;
		m->hash[i] = m->hash[j];
		m->v[i] = m->v[j];
		i = j;
	}
	m->hash[i] = 0;
	m->n--;
	return 1;
}

const struct hmap_ent *
hmap_next(const struct hmap *m, size_t *pos)
{
	for (; *pos < m->cap; (*pos)++)
		if (m->hash[*pos] != 0)
			return &m->v[(*pos)++];
	return NULL;
}

void
hmap_release(struct hmap *m, void (*fn)(void *val))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (m->hash[i] == 0)
			continue;
		if (fn != NULL)
			fn(m->v[i].val);
		drop_key(m, &m->v[i]);
	}
	free(m->hash);
	free(m->v);
	hmap_init(m, m->flags);
}
