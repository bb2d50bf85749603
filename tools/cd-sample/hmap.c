#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "msg.h"

static uint64_t
fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct hmap_ent *
find(struct hmap *m, const void *key, size_t klen, uint64_t h)
{
	size_t mask = m->cap - 1, i = (size_t)h & mask;

	while (m->v[i].key != NULL) {
		if (m->v[i].hash == h && m->v[i].klen == klen &&
		    memcmp(m->v[i].key, key, klen) == 0)
			break;
		i = (i + 1) & mask;
	}
	return &m->v[i];
}

static void
grow(struct hmap *m)
{
	struct hmap_ent *old = m->v;
	size_t oldcap = m->cap;

	m->cap = oldcap ? oldcap * 2 : 64;
	m->v = xcalloc(m->cap, sizeof(*m->v));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key != NULL)
			*find(m, old[i].key, old[i].klen, old[i].hash) = old[i];
	free(old);
}

void **
hmap_slot(struct hmap *m, const void *key, size_t klen, int create)
{
	uint64_t h = fnv1a(key, klen);
	struct hmap_ent *e;

	if (m->cap == 0) {
		if (!create)
			return NULL;
		grow(m);
	}
	e = find(m, key, klen, h);
	if (e->key != NULL)
		return &e->val;
	if (!create)
		return NULL;
	if ((m->n + 1) * 4 > m->cap * 3) {
		grow(m);
		e = find(m, key, klen, h);
	}
	e->key = xmalloc(klen ? klen : 1);
	memcpy(e->key, key, klen);
	e->klen = klen;
	e->hash = h;
	e->val = NULL;
	m->n++;
	return &e->val;
}

const void *
hmap_key(struct hmap *m, const void *key, size_t klen)
{
	struct hmap_ent *e;

	if (m->cap == 0)
		return NULL;
	e = find(m, key, klen, fnv1a(key, klen));
	return e->key;
}

void
hmap_free(struct hmap *m, void (*fn)(void *val))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (m->v[i].key == NULL)
			continue;
		if (fn)
			fn(m->v[i].val);
		free(m->v[i].key);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static struct hmap strings;

const char *
intern(const char *s)
{
	size_t len = strlen(s) + 1;

	hmap_slot(&strings, s, len, 1);
	return hmap_key(&strings, s, len);
}

void
strings_free(void)
{
	hmap_free(&strings, NULL);
}
