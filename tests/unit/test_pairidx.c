/* common/pairidx: lookup, adding, growth over a node array that moves. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "msg.h"
#include "pairidx.h"

/* Fields in another order than the index's arguments, as a caller's may be. */
struct tnode {
	uint64_t weight;
	uint32_t name, other, parent;
};

struct tree {
	struct tnode *v;
	size_t n, cap;
	struct pairidx idx;
};

static uint32_t
child(struct tree *t, uint32_t parent, uint32_t name, int *added)
{
	uint32_t *slot = pairidx_slot(&t->idx, t->v, parent, name), id;

	*added = *slot == 0;
	if (*slot != 0)
		return *slot;
	if (t->n == t->cap) {
		t->cap *= 2;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	id = (uint32_t)t->n++;
	t->v[id] = (struct tnode){ .name = name, .parent = parent, .other = ~name };
	*slot = id;
	pairidx_added(&t->idx, t->v);
	return id;
}

static void
test_tree(void)
{
	struct tree t = { .n = 1, .cap = 4 };
	uint32_t first, again, ids[300];
	int added, ok = 1;

	t.v = xcalloc(t.cap, sizeof(*t.v));
	PAIRIDX_INIT(&t.idx, struct tnode, parent, name);
	CHECK(*pairidx_slot(&t.idx, t.v, 0, 7) == 0);
	first = child(&t, 0, 7, &added);
	CHECK(first == 1 && added == 1);
	again = child(&t, 0, 7, &added);
	CHECK(again == first && added == 0);
	/* the same name under another parent, and the pair turned round */
	CHECK(child(&t, first, 7, &added) == 2 && added == 1);
	CHECK(child(&t, 7, 0, &added) == 3 && added == 1);

	/* A deep chain and a wide fan: many times the first 2048 slots. */
	for (uint32_t i = 0, at = 0; i < 300; i++)
		at = ids[i] = child(&t, at, i % 5, &added);
	for (uint32_t p = 1; p <= 50; p++)
		for (uint32_t nm = 0; nm < 200; nm++)
			child(&t, p, 1000 + nm, &added);
	CHECK(t.idx.nslots > 2048 && t.idx.n == t.n - 1);
	for (uint32_t i = 0, at = 0; i < 300; i++) {
		ok &= child(&t, at, i % 5, &added) == ids[i] && !added;
		at = ids[i];
	}
	CHECK(ok);
	for (uint32_t p = 1; p <= 50; p++)
		for (uint32_t nm = 0; nm < 200; nm++) {
			uint32_t id = *pairidx_slot(&t.idx, t.v, p, 1000 + nm);

			ok &= id != 0 && t.v[id].parent == p && t.v[id].name == 1000 + nm;
		}
	CHECK(ok);
	CHECK(*pairidx_slot(&t.idx, t.v, 51, 1000) == 0);
	pairidx_release(&t.idx);
	CHECK(t.idx.slot == NULL && t.idx.n == 0);
	free(t.v);
}

int
main(void)
{
	test_tree();
	return CHECK_DONE();
}
