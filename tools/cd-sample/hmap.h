/* A hash map from byte strings to pointers; keys are copied. */
#ifndef CDS_HMAP_H
#define CDS_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_ent {
	void *key;
	size_t klen;
	uint64_t hash;
	void *val;
};

struct hmap {
	struct hmap_ent *v;
	size_t n, cap;
};

/*
 * The value slot for key, created (NULL) when absent if create is set;
 * NULL when absent and not create. The slot moves when the map grows.
 */
void **hmap_slot(struct hmap *m, const void *key, size_t klen, int create);
/* The stored copy of key (for interning), or NULL. */
const void *hmap_key(struct hmap *m, const void *key, size_t klen);
/* Call fn on every value, then free the map (not the values). */
void hmap_free(struct hmap *m, void (*fn)(void *val));

/* One copy of each string, valid until strings_free(). */
const char *intern(const char *s);
void strings_free(void);

#endif
