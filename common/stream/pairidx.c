/* The call trees' node index; the hot path is inline in pairidx.h. */
#include <stdlib.h>

#include "msg.h"
#include "pairidx.h"

#define PAIRIDX_FIRST 2048	/* slots to start with */

void
pairidx_init(struct pairidx *x, size_t stride, size_t parent_at, size_t name_at)
{
	*x = (struct pairidx){ .nslots = PAIRIDX_FIRST, .stride = stride,
	    .parent_at = parent_at, .name_at = name_at };
	x->slot = xcalloc(x->nslots, sizeof(*x->slot));
}

void
pairidx_release(struct pairidx *x)
{
	free(x->slot);
	x->slot = NULL;
	x->n = x->nslots = 0;
}

void
pairidx_grow(struct pairidx *x, const void *nodes)
{
	size_t n = x->nslots * 2, mask = n - 1;
	uint32_t *s = xcalloc(n, sizeof(*s));

	for (size_t i = 0; i < x->nslots; i++) {
		uint32_t id = x->slot[i];
		size_t j;

		if (id == 0)
			continue;
		j = pairidx_hash(pairidx_field(x, nodes, id, x->parent_at),
		    pairidx_field(x, nodes, id, x->name_at)) & mask;
		while (s[j] != 0)
			j = (j + 1) & mask;
		s[j] = id;
	}
	free(x->slot);
	x->slot = s;
	x->nslots = n;
}
