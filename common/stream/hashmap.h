/*
 * The one hash table: byte-string keys to pointer values.
 *
 * Open addressing with linear probing, and deletion by backward shift (no
 * tombstones). Probes walk an array of the slots' 64-bit hashes, eight to
 * a cache line, and look at an entry only when its hash matches, so a
 * lookup is one hash and usually one or two cache lines, which matters on
 * the hot paths (every frame name cd-fold reads, a symbol lookup per stack
 * frame, a stack per sample); growth never rehashes a key. (With the
 * hashes inside 32-byte entries cd-fold was 1.5x slower on 400,000
 * distinct frames.)
 * Keys of up to 8 bytes (ids, pids, addresses) live in the entry; longer
 * keys are copied to the heap, or, for a table set up with HMAP_BORROW,
 * only pointed to (the caller keeps those bytes unmoved while the entry
 * lives; common/intern does, to store each string once).
 *
 * A key made of a struct must have its padding zeroed (memset or an
 * initializer), since keys compare as bytes.
 *
 * Lifetime, the convention of every API in common/ (stated in msg.h):
 *   hmap_init     sets up a table held by the caller; an all-zero
 *                 struct hmap is also an empty table that copies keys;
 *   hmap_release  frees what the table holds, calling fn on each value
 *                 first when fn is not NULL; the table is then empty and
 *                 usable again. There is no hmap_free: a table is never
 *                 allocated by this API.
 *
 * A value slot or entry pointer is valid until the next insert or delete
 * on that table (entries move when the array grows or a key is deleted).
 */
#ifndef CD_HASHMAP_H
#define CD_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

#define HMAP_INLINE 8		/* keys up to this length live in the entry */
#define HMAP_BORROW 1u		/* point to the caller's key bytes, no copy */

struct hmap_ent {
	union {
		unsigned char in[HMAP_INLINE];
		const void *p;
	} key;
	void *val;
	size_t klen;
};

struct hmap {
	uint64_t *hash;		/* per slot: the key's hash with bit 63 set; 0 empty */
	struct hmap_ent *v;	/* per slot */
	size_t n, cap;		/* entries in use; cap 0 or a power of two */
	unsigned flags;
};

void hmap_init(struct hmap *m, unsigned flags);
void hmap_release(struct hmap *m, void (*fn)(void *val));

/* The value slot of key, or NULL when key is absent. */
void **hmap_find(const struct hmap *m, const void *key, size_t klen);
/*
 * The value slot of key, added with a NULL value when absent; *added
 * (when not NULL) says which. Exits when out of memory.
 */
void **hmap_insert(struct hmap *m, const void *key, size_t klen, int *added);
/* Remove key; 1 and its value in *val (when not NULL) if it was there. */
int hmap_delete(struct hmap *m, const void *key, size_t klen, void **val);

/*
 * Iteration in no given order: start *pos at 0; NULL at the end. Do not
 * insert or delete while iterating.
 */
const struct hmap_ent *hmap_next(const struct hmap *m, size_t *pos);
/* The key bytes of an entry and, when klen is not NULL, their length. */
const void *hmap_ent_key(const struct hmap_ent *e, size_t *klen);

/* 64-bit hash of a byte string (FNV-1a, 8 bytes a step, final mix). */
uint64_t hmap_hash(const void *p, size_t len, uint64_t seed);

#endif
