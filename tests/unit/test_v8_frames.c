/*
 * The V8 frame walker on synthetic memory laid out as node 20 lays it out
 * (its v8dbg_* values): names as a String, in a ScopeInfo (few and many
 * locals, no own name but an inferred one, none at all), thin and cons
 * strings, two-byte characters; typed frames, a leaf mid-prologue, a
 * chain that does not match, an object whose map is not a function's, a
 * name cached then moved. And the perf-map name parser, and the layout
 * read from this machine's node binary when it has one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "v8_frames.h"

#define BASE 0x7f0000000000ull
#define SIZE 65536
#define T(off) (BASE + (off) + 1)	/* a tagged pointer into the image */

static unsigned char img[SIZE];
static size_t brk = 0x1000;		/* the next free heap byte */

static const struct v8_layout node20 = {
	.fp_function = -16, .fp_context = -8, .map = 0, .map_type = 12,
	.fn_shared = 24, .sfi_name = 16, .str_len = 12, .seq1_chars = 16,
	.seq2_chars = 16, .cons_first = 16, .cons_second = 24, .thin_actual = 16,
	.si_nlocals = 24, .si_vars = 32, .t_fn_lo = 2066, .t_fn_hi = 2097,
	.t_sfi = 262, .t_scope_info = 261, .t_first_nonstring = 128,
	.enc_mask = 8, .one_byte = 8, .repr_mask = 7, .seq = 0, .cons = 1, .thin = 5,
};

static int
rd(void *arg, uint64_t a, void *buf, size_t n)
{
	(void)arg;
	if (a < BASE || a - BASE > SIZE || SIZE - (a - BASE) < n)
		return -1;
	memcpy(buf, img + (a - BASE), n);
	return 0;
}

static void
put(size_t off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}

static size_t
alloc(size_t n)
{
	size_t o = brk;

	brk += (n + 15) & ~(size_t)15;
	return o;
}

/* A map of instance type t: its offset. */
static size_t
map_of(uint16_t t)
{
	size_t m = alloc(16);

	memcpy(img + m + 12, &t, 2);
	return m;
}

static size_t
seq_string(const char *s)
{
	size_t n = strlen(s), o = alloc(16 + n);
	int32_t len = (int32_t)n;

	put(o, T(map_of(8)));	/* one-byte, sequential */
	memcpy(img + o + 12, &len, 4);
	memcpy(img + o + 16, s, n);
	return o;
}

static size_t
two_byte_string(const unsigned short *u, int32_t n)
{
	size_t o = alloc(16 + 2 * (size_t)n);

	put(o, T(map_of(0)));	/* two-byte, sequential */
	memcpy(img + o + 12, &n, 4);
	memcpy(img + o + 16, u, 2 * (size_t)n);
	return o;
}

static size_t
thin_string(size_t actual)
{
	size_t o = alloc(24);
	int32_t len = 0;

	put(o, T(map_of(8 | 5)));
	memcpy(img + o + 12, &len, 4);
	put(o + 16, T(actual));
	return o;
}

static size_t
cons_string(size_t a, size_t b)
{
	size_t o = alloc(32);
	int32_t len = 0;

	put(o, T(map_of(8 | 1)));
	memcpy(img + o + 12, &len, 4);
	put(o + 16, T(a));
	put(o + 24, T(b));
	return o;
}

/*
 * A ScopeInfo with nlocals locals, their names a String each or (hashed)
 * one hash table, then the given slots (tagged values).
 */
static size_t
scope_info_h(long nlocals, int hashed, const uint64_t *slots, size_t nslots)
{
	size_t skip = hashed ? 1 + (size_t)nlocals : 2 * (size_t)nlocals;
	size_t o = alloc(32 + 8 * (skip + nslots));

	put(o, T(map_of(261)));
	put(o + 24, (uint64_t)nlocals << 32);	/* a Smi */
	size_t table = alloc(16);

	put(table, T(map_of(200)));	/* a hash table: no string's type */
	for (size_t i = 0; i < skip; i++)
		put(o + 32 + 8 * i, i < (hashed ? 1 : (size_t)nlocals) ?
		    T(hashed ? table : seq_string("local")) : (uint64_t)i << 32);
	for (size_t i = 0; i < nslots; i++)
		put(o + 32 + 8 * (skip + i), slots[i]);
	return o;
}

static size_t
scope_info(long nlocals, const uint64_t *slots, size_t nslots)
{
	return scope_info_h(nlocals, 0, slots, nslots);
}

/* A JSFunction whose SharedFunctionInfo's name_or_scope_info is nosi. */
static size_t
function(uint64_t nosi)
{
	size_t f = alloc(32), sfi = alloc(24);

	put(f, T(map_of(2066)));
	put(f + 24, T(sfi));
	put(sfi, T(map_of(262)));
	put(sfi + 16, nosi);
	return f;
}

/*
 * A stack at 0x100 (sp) of nf frames, frame i at fp 0x140 + 0x40 i
 * holding fns[i] (0: a typed frame's marker instead of a context);
 * pcs[i] the chain a kernel would give.
 */
static void
stack(struct js_sample *s, const size_t *fns, size_t nf, uint64_t *pcs)
{
	memset(img, 0, 0x1000);
	s->sp = BASE + 0x100;
	s->bp = BASE + 0x140;
	s->ip = 0x500000;
	s->stack = img + 0x100;
	s->stack_len = 0xe00;
	put(0x100, 0x1234);	/* [sp]: the leaf's frame is built */
	pcs[0] = s->ip;
	for (size_t i = 0; i < nf; i++) {
		size_t fp = 0x140 + 0x40 * i;

		put(fp - 16, fns[i] ? T(fns[i]) : 0);
		put(fp - 8, fns[i] ? T(0x800) : 2 * 5);	/* a context, or a marker */
		put(fp, i + 1 < nf ? BASE + fp + 0x40 : 0);
		put(fp + 8, 0x500100 + i);
		if (i + 1 < nf)
			pcs[i + 1] = 0x500100 + i;
	}
}

static const char *
walk1(size_t fn)
{
	static const char *names[4];
	struct js_sample s;
	uint64_t pcs[4], code[2] = { 0x500000, 0x600000 };
	struct v8_walker *w = v8_walker_new(&node20, rd, NULL);

	v8_walker_set_code(w, code, 1);
	stack(&s, &fn, 1, pcs);
	v8_walk(w, &s, pcs, 1, names);
	/* names live in the walker: copy before freeing it */
	static char keep[256];
	snprintf(keep, sizeof(keep), "%s", names[0] ? names[0] : "(null)");
	v8_walker_free(w);
	return keep;
}

static void
test_names(void)
{
	static const unsigned short ru[] = { 0x0444, 0x0443, 0x043d, 'X' };
	uint64_t none[2] = { 0, 0 };

	CHECK_STR(walk1(function(T(seq_string("fibRecurse")))), "fibRecurse");
	CHECK_STR(walk1(function(T(two_byte_string(ru, 4)))), "\xd1\x84\xd1\x83\xd0\xbd" "X");
	CHECK_STR(walk1(function(T(thin_string(seq_string("thinName"))))), "thinName");
	CHECK_STR(walk1(function(T(cons_string(seq_string("get "), seq_string("width"))))),
	    "get width");
	/* a ScopeInfo: the function variable's name after 3 locals */
	uint64_t fv[3] = { T(seq_string("renderFrame")), 5ull << 32, 0 };
	CHECK_STR(walk1(function(T(scope_info(3, fv, 3)))), "renderFrame");
	/* no own name (Smi zero) but an inferred one, after a saved class slot */
	uint64_t inf[4] = { 7ull << 32, 0, 0, T(seq_string("handlers.onToken")) };
	CHECK_STR(walk1(function(T(scope_info(1, inf, 4)))), "handlers.onToken");
	/* an empty name then the inferred one */
	uint64_t emp[3] = { T(seq_string("")), 0, T(seq_string("obj.method")) };
	CHECK_STR(walk1(function(T(scope_info(0, emp, 3)))), "obj.method");
	/* 80 locals: their names one hash table, or 80 Strings */
	uint64_t many[2] = { T(seq_string("manyLocals")), 0 };
	CHECK_STR(walk1(function(T(scope_info_h(80, 1, many, 2)))), "manyLocals");
	CHECK_STR(walk1(function(T(scope_info_h(80, 0, many, 2)))), "manyLocals");
	/* no name anywhere; the sentinel Smi */
	CHECK_STR(walk1(function(T(scope_info(2, none, 2)))), "(anonymous)");
	CHECK_STR(walk1(function(0)), "(anonymous)");
}

static void
test_rejects(void)
{
	size_t f = function(T(seq_string("x")));
	size_t sfi_map = map_of(300);

	/* an object whose map says it is not a function */
	put(f, T(map_of(1000)));
	CHECK_STR(walk1(f), "(null)");
	/* a function whose shared info is not one */
	f = function(T(seq_string("y")));
	put(f, T(map_of(2070)));	/* a JSFunction subclass: accepted */
	CHECK_STR(walk1(f), "y");
	{
		uint64_t sfi;

		memcpy(&sfi, img + f + 24, 8);
		put(sfi - 1 - BASE, T(sfi_map));
	}
	CHECK_STR(walk1(f), "(null)");
	/* a name with a control character: torn, not a name */
	CHECK_STR(walk1(function(T(seq_string("a\tb")))), "(null)");
	/* a pointer outside the image */
	CHECK_STR(walk1(function(0x10000000001ull)), "(null)");
	/* an untagged "function" */
	f = function(T(seq_string("z")));
	CHECK_STR(walk1(f), "z");
}

static void
test_chain(void)
{
	const char *names[4];
	struct js_sample s;
	uint64_t pcs[4], code[2] = { 0x500000, 0x600000 };
	size_t fns[3] = { function(T(seq_string("leaf"))), 0, function(T(seq_string("outer"))) };
	struct v8_walker *w = v8_walker_new(&node20, rd, NULL);

	v8_walker_set_code(w, code, 1);
	stack(&s, fns, 3, pcs);
	CHECK(v8_walk(w, &s, pcs, 3, names) == 2);
	CHECK_STR(names[0], "leaf");
	CHECK(names[1] == NULL);	/* a typed frame */
	CHECK_STR(names[2], "outer");
	CHECK(v8_walker_stats(w)->not_js == 1);
	/* again, from the cache */
	CHECK(v8_walk(w, &s, pcs, 3, names) == 2);
	CHECK(v8_walker_stats(w)->cached == 2);
	/* a built leaf: no caller was skipped */
	CHECK(v8_skipped_caller(w, &s, pcs, 3) == NULL);
	/*
	 * The leaf mid-prologue: [sp] is the caller's fp, then a code
	 * address. bp's frame is then a caller the chain skipped: named
	 * by v8_skipped_caller, not given to the leaf.
	 */
	put(0x100, s.bp);
	put(0x108, 0x500020);	/* the return address above the pushed fp */
	CHECK(v8_walk(w, &s, pcs, 3, names) == 1 && names[0] == NULL);
	CHECK_STR(v8_skipped_caller(w, &s, pcs, 3), "leaf");
	/* bp the leaf's own half-built frame (pushed context on top): none */
	put(0x108, 0x77);
	CHECK(v8_skipped_caller(w, &s, pcs, 3) == NULL);
	put(0x100, 0x500010);
	CHECK(v8_walk(w, &s, pcs, 3, names) == 1 && names[0] == NULL);
	CHECK_STR(v8_skipped_caller(w, &s, pcs, 3), "leaf");
	/* not tied to the chain: nothing added */
	pcs[1] = 0x999;
	CHECK(v8_skipped_caller(w, &s, pcs, 3) == NULL);
	pcs[1] = 0x500100;
	CHECK(v8_walker_stats(w)->callers_added == 2);
	put(0x100, 0x1234);
	/* a chain that is not this stack's: bp was not the sample's frame */
	pcs[1] = 0x999;
	CHECK(v8_walk(w, &s, pcs, 3, names) == 0 && names[0] == NULL && names[2] == NULL);
	pcs[1] = 0x500100;
	/* a name moved: the SharedFunctionInfo now points elsewhere */
	{
		uint64_t sfi;

		memcpy(&sfi, img + fns[2] + 24, 8);
		put(sfi - 1 - BASE + 16, T(seq_string("renamed")));
	}
	CHECK(v8_walk(w, &s, pcs, 3, names) == 2);
	CHECK_STR(names[2], "renamed");
	v8_walker_free(w);
}

static void
test_map_names(void)
{
	char b[64];

	CHECK(v8_plain_name("JS:*fib /app/x.js:3:13", b, sizeof(b)) && strcmp(b, "fib") == 0);
	CHECK(v8_plain_name("JS:~processImmediate node:internal/timers:438:28", b, sizeof(b)) &&
	    strcmp(b, "processImmediate") == 0);
	CHECK(v8_plain_name("JS:*get totalWidth /a.js:26:17", b, sizeof(b)) &&
	    strcmp(b, "get totalWidth") == 0);
	CHECK(v8_plain_name("JS:^ /a.js:1:1", b, sizeof(b)) && strcmp(b, "(anonymous)") == 0);
	CHECK(v8_plain_name("LazyCompile:*run /a.js:2", b, sizeof(b)) && strcmp(b, "run") == 0);
	CHECK(v8_plain_name("JS:*bare", b, sizeof(b)) && strcmp(b, "bare") == 0);
	CHECK(!v8_plain_name("Builtin:ArrayMap", b, sizeof(b)));
	CHECK(!v8_plain_name("RegExp:^a+", b, sizeof(b)));
}

/* This machine's node, when it has one: its exported layout is node20's shape. */
static void
test_binary(void)
{
	struct v8_layout l;

	CHECK(v8_binary("/nonexistent", &l) == -1);
	CHECK(v8_binary("/bin/sh", &l) == 0);
	if (v8_binary("/usr/bin/node", &l) != 1) {
		fprintf(stderr, "test_v8_frames: /usr/bin/node exports no layout, not checked\n");
		return;
	}
	CHECK(l.fp_function == -16 && l.fp_context == -8);
	CHECK(l.t_fn_lo < l.t_fn_hi && l.t_sfi != 0 && l.t_scope_info != 0);
	CHECK(l.si_vars > l.si_nlocals);
	CHECK(strlen(l.build_id) == 40);
}

int
main(void)
{
	test_names();
	test_rejects();
	test_chain();
	test_map_names();
	test_binary();
	return CHECK_DONE();
}
