/*
 * The node index of a call tree: (parent id, name id) to the child's node
 * id, for cd-fold --tree and cd-svg, which look a child up for every frame
 * of every stack they read.
 *
 * Open addressing with linear probing over the node ids alone (0 empty:
 * node 0 is the root, never a child); a probe compares the parent and
 * name fields of the caller's own node array, whose layout the index is
 * given once (PAIRIDX_INIT) and whose base each call passes, since it
 * moves as it grows. So the index costs 4 bytes a slot. The probe is
 * static inline: it runs once per frame read, and the general table
 * (hashmap.h, a byte-string hash and a call per lookup) made these trees
 * 1.45-2.35x slower.
 *
 * Lifetime (msg.h's convention): pairidx_init sets up an index held by the
 * caller, pairidx_release frees what it holds.
 */
#ifndef CD_PAIRIDX_H
#define CD_PAIRIDX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pairidx {
	uint32_t *slot;		/* node ids; 0 empty */
	size_t n, nslots;	/* nslots a power of two */
	size_t stride, parent_at, name_at;	/* the caller's node layout */
};

/* An index over an array of struct TYPE with uint32_t PARENT and NAME fields. */
#define PAIRIDX_INIT(x, type, parent, name) \
	pairidx_init((x), sizeof(type), offsetof(type, parent), offsetof(type, name))

void pairidx_init(struct pairidx *x, size_t stride, size_t parent_at, size_t name_at);
void pairidx_release(struct pairidx *x);
/* Doubles the slots; called by pairidx_added past 3/4 full. */
void pairidx_grow(struct pairidx *x, const void *nodes);

static inline size_t
pairidx_hash(uint32_t parent, uint32_t name)
{
	uint64_t k = ((uint64_t)parent << 32 | name) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(k ^ (k >> 31));
}

static inline uint32_t
pairidx_field(const struct pairidx *x, const void *nodes, uint32_t id, size_t at)
{
	uint32_t v;

	memcpy(&v, (const char *)nodes + id * x->stride + at, sizeof(v));
	return v;
}

/*
 * The slot of (parent, name) in the index over nodes: holding its node id,
 * or 0 when absent. To add it, store the new node's id there (the node
 * filled in) and call pairidx_added before the next lookup.
 */
static inline uint32_t *
pairidx_slot(struct pairidx *x, const void *nodes, uint32_t parent, uint32_t name)
{
	size_t mask = x->nslots - 1, j;

	for (j = pairidx_hash(parent, name) & mask; x->slot[j] != 0; j = (j + 1) & mask) {
		uint32_t id = x->slot[j];

		if (pairidx_field(x, nodes, id, x->parent_at) == parent &&
		    pairidx_field(x, nodes, id, x->name_at) == name)
			break;
	}
	return &x->slot[j];
}

static inline void
pairidx_added(struct pairidx *x, const void *nodes)
{
	if (++x->n * 4 > x->nslots * 3)
		pairidx_grow(x, nodes);
}

#endif
