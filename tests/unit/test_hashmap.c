/* common/hashmap: insert, lookup, delete, growth, collisions, iteration. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hashmap.h"

static void
test_empty(void)
{
	struct hmap m = { 0 };
	size_t pos = 0;
	uint64_t k = 7;

	CHECK(hmap_find(&m, &k, sizeof(k)) == NULL);
	CHECK(hmap_delete(&m, &k, sizeof(k), NULL) == 0);
	CHECK(hmap_next(&m, &pos) == NULL);
	hmap_release(&m, NULL);
	CHECK(m.n == 0 && m.cap == 0);
}

static void
test_basic(void)
{
	struct hmap m;
	int added;
	void **v, *old;

	hmap_init(&m, 0);
	v = hmap_insert(&m, "alpha", 5, &added);
	CHECK(added == 1 && *v == NULL);
	*v = (void *)1;
	v = hmap_insert(&m, "alpha", 5, &added);
	CHECK(added == 0 && *v == (void *)1);
	CHECK(hmap_find(&m, "alph", 4) == NULL);
	CHECK(hmap_find(&m, "alphab", 6) == NULL);
	*hmap_insert(&m, "a longer key than eight bytes", 29, NULL) = (void *)2;
	CHECK(*hmap_find(&m, "a longer key than eight bytes", 29) == (void *)2);
	CHECK(m.n == 2);
	CHECK(hmap_delete(&m, "alpha", 5, &old) == 1 && old == (void *)1);
	CHECK(hmap_delete(&m, "alpha", 5, NULL) == 0);
	CHECK(hmap_find(&m, "alpha", 5) == NULL);
	CHECK(m.n == 1);
	hmap_release(&m, NULL);
	CHECK(m.n == 0 && hmap_find(&m, "a longer key than eight bytes", 29) == NULL);
	/* usable again after release */
	*hmap_insert(&m, "x", 1, NULL) = (void *)3;
	CHECK(*hmap_find(&m, "x", 1) == (void *)3);
	hmap_release(&m, NULL);
}

/* Keys are bytes: empty, with NULs, at the inline limit and either side. */
static void
test_odd_keys(void)
{
	struct hmap m = { 0 };
	const char nul1[] = { 'a', 0, 'b' }, nul2[] = { 'a', 0, 'c' };
	char big[100000];

	*hmap_insert(&m, "", 0, NULL) = (void *)10;
	*hmap_insert(&m, nul1, 3, NULL) = (void *)11;
	*hmap_insert(&m, nul2, 3, NULL) = (void *)12;
	*hmap_insert(&m, "12345678", 8, NULL) = (void *)13;
	*hmap_insert(&m, "123456789", 9, NULL) = (void *)14;
	*hmap_insert(&m, "1234567", 7, NULL) = (void *)15;
	memset(big, 'z', sizeof(big));
	*hmap_insert(&m, big, sizeof(big), NULL) = (void *)16;
	CHECK(m.n == 7);
	CHECK(*hmap_find(&m, "", 0) == (void *)10);
	CHECK(*hmap_find(&m, nul1, 3) == (void *)11);
	CHECK(*hmap_find(&m, nul2, 3) == (void *)12);
	CHECK(hmap_find(&m, "a", 1) == NULL);	/* a C string would stop here */
	CHECK(*hmap_find(&m, "12345678", 8) == (void *)13);
	CHECK(*hmap_find(&m, "123456789", 9) == (void *)14);
	CHECK(*hmap_find(&m, "1234567", 7) == (void *)15);
	big[sizeof(big) - 1] = 'y';
	CHECK(hmap_find(&m, big, sizeof(big)) == NULL);
	big[sizeof(big) - 1] = 'z';
	CHECK(*hmap_find(&m, big, sizeof(big)) == (void *)16);
	/* the table copied the long key: changing ours changes nothing */
	big[0] = 'q';
	CHECK(hmap_find(&m, big, sizeof(big)) == NULL);
	hmap_release(&m, NULL);
}

/* A borrowing table points to the caller's bytes instead of copying. */
static void
test_borrow(void)
{
	struct hmap m;
	static const char key[] = "a key borrowed from the caller";
	const struct hmap_ent *e;
	size_t pos = 0, kl;

	hmap_init(&m, HMAP_BORROW);
	hmap_insert(&m, key, sizeof(key), NULL);
	e = hmap_next(&m, &pos);
	CHECK(e != NULL && hmap_ent_key(e, &kl) == (const void *)key && kl == sizeof(key));
	CHECK(hmap_next(&m, &pos) == NULL);
	CHECK(hmap_find(&m, "a key borrowed from the caller", sizeof(key)) != NULL);
	hmap_release(&m, NULL);
	CHECK(m.flags == HMAP_BORROW);	/* release keeps the set-up */
}

/*
 * Keys whose hashes share the home slot of a 16-entry table, then
 * deletes from the front, middle and end of the run, wrapping past the
 * array's end: every other key must stay reachable (backward shift).
 */
static void
test_collisions(void)
{
	uint64_t keys[10];
	size_t nk = 0;
	struct hmap m = { 0 };

	for (uint64_t k = 0; nk < 10; k++)
		if ((hmap_hash(&k, sizeof(k), 0) & 15) == 14)
			keys[nk++] = k;
	for (size_t i = 0; i < nk; i++)
		*hmap_insert(&m, &keys[i], sizeof(keys[i]), NULL) = (void *)(uintptr_t)(i + 1);
	CHECK(m.cap == 16);	/* no growth yet: the run wraps around */
	for (size_t i = 0; i < nk; i++)
		CHECK(*hmap_find(&m, &keys[i], sizeof(keys[i])) == (void *)(uintptr_t)(i + 1));
	CHECK(hmap_delete(&m, &keys[0], 8, NULL) == 1);
	CHECK(hmap_delete(&m, &keys[5], 8, NULL) == 1);
	CHECK(hmap_delete(&m, &keys[9], 8, NULL) == 1);
	for (size_t i = 0; i < nk; i++) {
		void **v = hmap_find(&m, &keys[i], sizeof(keys[i]));

		if (i == 0 || i == 5 || i == 9)
			CHECK(v == NULL);
		else
			CHECK(v != NULL && *v == (void *)(uintptr_t)(i + 1));
	}
	CHECK(m.n == 7);
	hmap_release(&m, NULL);
}

static void
count_free(void *v)
{
	(*(int *)v)++;
}

/* Values handed to release's fn, once each. */
static void
test_release_fn(void)
{
	struct hmap m = { 0 };
	int hits[50] = { 0 };

	for (int i = 0; i < 50; i++)
		*hmap_insert(&m, &i, sizeof(i), NULL) = &hits[i];
	hmap_release(&m, count_free);
	for (int i = 0; i < 50; i++)
		CHECK(hits[i] == 1);
}

/* xorshift: the same sequence every run */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Many keys of mixed lengths against a plain array as the reference:
 * random inserts and deletes through several growths, then iteration
 * must visit exactly the live keys, once each.
 */
#define NREF 20000
static void
test_many(void)
{
	static char present[NREF], seen[NREF];
	struct hmap m = { 0 };
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	size_t live = 0, pos = 0, bad = 0;
	const struct hmap_ent *e;
	char key[64];

	for (int op = 0; op < 200000; op++) {
		unsigned r = (unsigned)(rnd(&s) % NREF);
		size_t kl = (size_t)snprintf(key, sizeof(key), "%u%.*s", r, (int)(r % 40),
		    "----------------------------------------");
		int del = rnd(&s) % 3 == 0, added;

		if (del) {
			void *v = NULL;
			int got = hmap_delete(&m, key, kl, &v);

			bad += got != present[r] || (got && v != (void *)(uintptr_t)(r + 1));
			live -= present[r];
			present[r] = 0;
			continue;
		}
		*hmap_insert(&m, key, kl, &added) = (void *)(uintptr_t)(r + 1);
		bad += added == present[r];
		live += !present[r];
		present[r] = 1;
	}
	CHECK(bad == 0);
	CHECK(m.n == live);
	CHECK(m.cap >= 8192);	/* it grew */
	for (unsigned r = 0; r < NREF; r++) {
		size_t kl = (size_t)snprintf(key, sizeof(key), "%u%.*s", r, (int)(r % 40),
		    "----------------------------------------");
		void **v = hmap_find(&m, key, kl);

		bad += present[r] ? v == NULL || *v != (void *)(uintptr_t)(r + 1) : v != NULL;
	}
	CHECK(bad == 0);
	while ((e = hmap_next(&m, &pos)) != NULL) {
		size_t r = (uintptr_t)e->val - 1;

		bad += r >= NREF || !present[r] || seen[r];
		if (r < NREF)
			seen[r] = 1;
		live--;
	}
	CHECK(bad == 0 && live == 0);
	hmap_release(&m, NULL);
}

/* The hash is part of output (cd-svg colours): pin a few values. */
static void
test_hash(void)
{
	CHECK(hmap_hash("", 0, 0) != hmap_hash("", 0, 1));
	CHECK(hmap_hash("abc", 3, 0) != hmap_hash("abd", 3, 0));
	CHECK(hmap_hash("abcdefgh", 8, 0) != hmap_hash("abcdefgi", 8, 0));
	/* the values intern_hash gave before the move to this file */
	CHECK(hmap_hash("abc", 3, 0) == 0xf120aee01df30dabULL);
	CHECK(hmap_hash("a longer string", 15, 0x9a1e77e) == 0x830e3501dc5be5d1ULL);
}

int
main(void)
{
	test_empty();
	test_basic();
	test_odd_keys();
	test_borrow();
	test_collisions();
	test_release_fn();
	test_many();
	test_hash();
	return CHECK_DONE();
}
