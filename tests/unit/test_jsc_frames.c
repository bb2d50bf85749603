/*
 * The JavaScriptCore frame walker and layout learner on a real capture
 * (tests/fixtures/jsc-frames-claude-2.1.197.txt: samples of Claude Code
 * 2.1.197 with the memory they reference, and the jitdump's names as the
 * truth), on damaged copies of it, and the layouts file format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "jsc_frames.h"

#define MAXS 64
#define MAXF 256

struct chunk {
	uint64_t a;
	size_t n;
	unsigned char *b;
};

struct fsample {
	struct js_sample s;
	unsigned char *stack;
	uint64_t pcs[MAXF];
	size_t n;
	char *want[MAXF];
};

static struct jsc_layout layout;
static uint64_t code[64];
static size_t ncode;
static struct fsample smp[MAXS];
static size_t nsmp;
static struct chunk mem[4096];
static size_t nmem;
static struct jsc_pair pairs[256];
static size_t npairs;
static unsigned long reads;
static int corrupt;		/* flip bytes of every read */

static int
unhex(const char *h, unsigned char *out, size_t max)
{
	size_t n = strlen(h);

	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return (int)(n / 2);
}

static int
fixture_read(void *arg, uint64_t a, void *buf, size_t n)
{
	(void)arg;
	reads++;
	for (size_t i = 0; i < nmem; i++) {
		if (a >= mem[i].a && a - mem[i].a <= mem[i].n && mem[i].n - (a - mem[i].a) >= n) {
			memcpy(buf, mem[i].b + (a - mem[i].a), n);
			if (corrupt)
				for (size_t k = 0; k < n; k++)
					((unsigned char *)buf)[k] ^= (unsigned char)(k * 37 + corrupt);
			return 0;
		}
	}
	errno = EFAULT;
	return -1;
}

static void
load(const char *path)
{
	static char line[1 << 20];
	FILE *f = fopen(path, "r");
	struct fsample *cur = NULL;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = strchr(line, '\n'), hexbuf[1 << 20];
		unsigned long a, b, c, d;

		if (p)
			*p = '\0';
		if (strncmp(line, "layout ", 7) == 0) {
			CHECK(jsc_layout_parse(line + 7, &layout) == 0);
		} else if (sscanf(line, "code %lx %lx", &a, &b) == 2 && ncode < 32) {
			code[2 * ncode] = a;
			code[2 * ncode + 1] = b;
			ncode++;
		} else if (sscanf(line, "sample %lx %lx %lx %lu", &a, &b, &c, &d) == 4 && nsmp < MAXS) {
			cur = &smp[nsmp++];
			cur->s.ip = a;
			cur->s.sp = b;
			cur->s.bp = c;
			cur->s.stack_len = d;
			cur->stack = calloc(1, d + 64);
			cur->s.stack = cur->stack;
		} else if (cur && sscanf(line, "stack %lu %s", &a, hexbuf) == 2) {
			if (a < cur->s.stack_len)
				unhex(hexbuf, cur->stack + a, cur->s.stack_len - a);
		} else if (cur && strncmp(line, "pcs", 3) == 0) {
			char *t = line + 3;
			int used;

			while (cur->n < MAXF && sscanf(t, " %lx%n", &a, &used) == 1) {
				cur->pcs[cur->n++] = a;
				t += used;
			}
		} else if (cur && sscanf(line, "want %lu %n", &a, (int *)&c) >= 1 && a < MAXF) {
			int off = 0;

			sscanf(line, "want %*u %n", &off);
			cur->want[a] = strdup(line + off);
		} else if (strncmp(line, "end", 3) == 0) {
			cur = NULL;
		} else if (sscanf(line, "pair %lx %lx %n", &a, &b, (int *)&c) >= 2 && npairs < 256) {
			int off = 0;

			sscanf(line, "pair %*x %*x %n", &off);
			pairs[npairs].cb = a;
			pairs[npairs].callee = b;
			pairs[npairs].name = strdup(line + off);
			npairs++;
		} else if (sscanf(line, "mem %lx %s", &a, hexbuf) == 2 && nmem < 4096) {
			size_t n = strlen(hexbuf) / 2;

			mem[nmem].a = a;
			mem[nmem].b = malloc(n);
			mem[nmem].n = (size_t)unhex(hexbuf, mem[nmem].b, n);
			nmem++;
		}
	}
	fclose(f);
}

/* Every name the walker gives a frame the jitdump names is the jitdump's. */
static void
test_names(void)
{
	struct jsc_walker *w = jsc_walker_new(&layout, fixture_read, NULL);
	unsigned long wanted = 0, named = 0, agree = 0, extra = 0;

	jsc_walker_set_code(w, code, ncode);
	for (size_t i = 0; i < nsmp; i++) {
		const char *names[MAXF];

		jsc_walk(w, &smp[i].s, smp[i].pcs, smp[i].n, names);
		for (size_t k = 0; k < smp[i].n; k++) {
			if (smp[i].want[k] != NULL) {
				wanted++;
				if (names[k] != NULL) {
					named++;
					agree += strcmp(names[k], smp[i].want[k]) == 0;
					if (strcmp(names[k], smp[i].want[k]) != 0)
						fprintf(stderr, "sample %zu frame %zu: %s, jitdump %s\n",
						    i, k, names[k], smp[i].want[k]);
				}
			} else if (names[k] != NULL) {
				extra++;	/* the interpreter's: no jitdump name */
			}
		}
	}
	fprintf(stderr, "fixture: %zu samples, %lu jitdump-named frames, %lu named, "
	    "%lu agree; %lu more named (interpreter)\n", nsmp, wanted, named, agree, extra);
	CHECK(nsmp >= 5);
	CHECK(wanted >= 40);
	CHECK(named == agree);
	/*
	 * Not named: the level where JIT code called a host (C++) function,
	 * whose frame header is the host call's (no CodeBlock); the same
	 * function is named one level out.
	 */
	CHECK(named * 4 >= wanted * 3);
	CHECK(extra > 0);
	jsc_walker_free(w);
}

/* Without the code ranges the innermost frame is never named. */
static void
test_leaf_needs_code(void)
{
	struct jsc_walker *w = jsc_walker_new(&layout, fixture_read, NULL);

	for (size_t i = 0; i < nsmp; i++) {
		const char *names[MAXF];

		jsc_walk(w, &smp[i].s, smp[i].pcs, smp[i].n, names);
		CHECK(names[0] == NULL);
	}
	jsc_walker_free(w);
}

/* A wrong layout, corrupt memory, a broken chain: no name, never a wrong one. */
static void
test_damage(void)
{
	struct jsc_layout bad = layout;
	struct jsc_walker *w;
	unsigned long named = 0, wrong = 0;

	bad.unlinked_name = 88;		/* some other field */
	bad.type_unlinked = layout.type_unlinked;
	w = jsc_walker_new(&bad, fixture_read, NULL);
	jsc_walker_set_code(w, code, ncode);
	for (size_t i = 0; i < nsmp; i++) {
		const char *names[MAXF];

		named += jsc_walk(w, &smp[i].s, smp[i].pcs, smp[i].n, names);
	}
	CHECK(named == 0);
	jsc_walker_free(w);

	corrupt = 1;
	w = jsc_walker_new(&layout, fixture_read, NULL);
	jsc_walker_set_code(w, code, ncode);
	for (size_t i = 0; i < nsmp; i++) {
		const char *names[MAXF];

		jsc_walk(w, &smp[i].s, smp[i].pcs, smp[i].n, names);
		for (size_t k = 0; k < smp[i].n; k++)
			wrong += names[k] != NULL && smp[i].want[k] != NULL &&
			    strcmp(names[k], smp[i].want[k]) != 0;
	}
	CHECK(wrong == 0);
	corrupt = 0;
	jsc_walker_free(w);

	/* the chain the kernel gave differs from the stack: stop there */
	w = jsc_walker_new(&layout, fixture_read, NULL);
	for (size_t i = 0; i < nsmp; i++) {
		const char *names[MAXF];
		uint64_t pcs[MAXF];

		memcpy(pcs, smp[i].pcs, sizeof(pcs));
		if (smp[i].n < 4)
			continue;
		pcs[2] ^= 0x40;
		jsc_walk(w, &smp[i].s, pcs, smp[i].n, names);
		for (size_t k = 2; k < smp[i].n; k++)
			CHECK(names[k] == NULL);
	}
	jsc_walker_free(w);
}

/* The chain the walker builds from a stack copy is the kernel's. */
static void
test_chain(void)
{
	for (size_t i = 0; i < nsmp; i++) {
		uint64_t pcs[MAXF];
		size_t n = jsc_chain(&smp[i].s, fixture_read, NULL, pcs, MAXF);
		size_t same = 0;

		while (same < n && same < smp[i].n && pcs[same] == smp[i].pcs[same])
			same++;
		CHECK(same >= 5);
	}
}

/* The learner finds the layout from the pairs alone. */
static void
test_learn(void)
{
	struct jsc_learner *le = jsc_learner_new(fixture_read, NULL);
	struct jsc_learned r;

	CHECK(npairs >= 10);
	for (size_t i = 0; i < npairs; i++)
		jsc_learner_add(le, &pairs[i]);
	jsc_learner_freeze(le);
	for (size_t i = 0; i < npairs; i++)
		jsc_learner_add(le, &pairs[i]);
	CHECK(jsc_learner_result(le, npairs / 2, &r) == 0);
	CHECK(r.l.cb_owner == layout.cb_owner);
	CHECK(r.l.exec_unlinked == layout.exec_unlinked);
	CHECK(r.l.unlinked_name == layout.unlinked_name);
	CHECK(r.l.callee_exec == layout.callee_exec);
	CHECK(r.l.type_cb == layout.type_cb && r.l.type_exec == layout.type_exec &&
	    r.l.type_unlinked == layout.type_unlinked);
	CHECK(r.differ == 0);
	jsc_learner_free(le);

	/* nothing to learn from */
	le = jsc_learner_new(fixture_read, NULL);
	CHECK(jsc_learner_result(le, 1, &r) == -1);
	jsc_learner_free(le);
}

static void
test_layout_lines(void)
{
	struct jsc_layout l;
	char buf[256], dir[] = "/tmp/test-jsc-XXXXXX", *path;

	CHECK(jsc_layout_parse("abcdef0123456789 owner=64 unlinked=88 name=80 callee=24 "
	    "types=18,12,13 # note", &l) == 0);
	CHECK(l.cb_owner == 64 && l.exec_unlinked == 88 && l.unlinked_name == 80 &&
	    l.callee_exec == 24 && l.type_cb == 18 && l.type_exec == 12 && l.type_unlinked == 13);
	jsc_layout_format(&l, buf, sizeof(buf));
	CHECK_STR(buf, "abcdef0123456789 owner=64 unlinked=88 name=80 callee=24 types=18,12,13");
	CHECK(jsc_layout_parse("# comment", &l) == -1);
	CHECK(jsc_layout_parse("", &l) == -1);
	CHECK(jsc_layout_parse("XYZ owner=64 unlinked=88 name=80 callee=24 types=18,12,13", &l) == -1);
	CHECK(jsc_layout_parse("abcdef0123456789 owner=63 unlinked=88 name=80 callee=24 "
	    "types=18,12,13", &l) == -1);
	CHECK(jsc_layout_parse("abcdef0123456789 owner=64 unlinked=88 name=80 callee=24 "
	    "types=18,12,300", &l) == -1);
	CHECK(jsc_layout_parse("abcdef0123456789 owner=64 unlinked=88 name=80 callee=24 "
	    "types=18,12,13 junk", &l) == -1);
	CHECK(jsc_layout_parse("abcdef0123456789 owner=64 unlinked=88", &l) == -1);
	/* the table knows Claude Code 2.1.197 */
	CHECK(jsc_layout_find("2ba9a4dca997a53147167d7f967fdc840325054c", NULL, &l) == 0);
	CHECK(jsc_layout_find("00", NULL, &l) == -1);
	/* the cache: saved, found before the table, replaced not duplicated */
	CHECK(mkdtemp(dir) != NULL);
	if (asprintf(&path, "%s/sub/jsc-layouts", dir) < 0)
		return;
	jsc_layout_parse("2ba9a4dca997a53147167d7f967fdc840325054c owner=64 unlinked=88 "
	    "name=72 callee=0 types=18,12,13", &l);
	CHECK(jsc_layout_save(path, &l) == 0);
	CHECK(jsc_layout_save(path, &l) == 0);
	CHECK(jsc_layout_find(l.build_id, path, &l) == 0 && l.unlinked_name == 72);
	{
		FILE *f = fopen(path, "r");
		int lines = 0, ch;

		while (f != NULL && (ch = fgetc(f)) != EOF)
			lines += ch == '\n';
		if (f)
			fclose(f);
		CHECK(lines == 1);
	}
	unlink(path);
	path[strlen(path) - strlen("/jsc-layouts")] = '\0';
	rmdir(path);
	rmdir(dir);
	free(path);
}

static void
test_plain_name(void)
{
	char b[64];

	jsc_plain_name("JSC-DFG: processTicksAndRejections#ANHpxE", b, sizeof(b));
	CHECK_STR(b, "processTicksAndRejections");
	jsc_plain_name("#pull#CeFuRk", b, sizeof(b));
	CHECK_STR(b, "#pull");
	jsc_plain_name("#CeFuRk", b, sizeof(b));
	CHECK_STR(b, "");
	jsc_plain_name("plain", b, 4);
	CHECK_STR(b, "pla");
}

int
main(int argc, char **argv)
{
	load(argc > 1 ? argv[1] : "tests/fixtures/jsc-frames-claude-2.1.197.txt");
	test_names();
	test_leaf_needs_code();
	test_damage();
	test_chain();
	test_learn();
	test_layout_lines();
	test_plain_name();
	return CHECK_DONE();
}
