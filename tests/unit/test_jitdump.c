/*
 * The jitdump reader on a real JavaScriptCore dump (Claude Code 2.1.197,
 * tests/fixtures/jsc-jitdump-small.dump), fed whole, byte by byte as a
 * growing file would be, cut, and corrupted.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "jitdump.h"

#define NLOADS 282

static unsigned char *
slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	unsigned char *b;

	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(path);
		exit(2);
	}
	b = malloc((size_t)st.st_size);
	if (b == NULL || read(fd, b, (size_t)st.st_size) != st.st_size)
		exit(2);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static const char *
name_at(struct jitdump *j, uint64_t addr, uint64_t ts)
{
	const struct jd_load *l = jd_lookup(j, addr, ts);

	return l ? l->name : NULL;
}

/* What python's struct module reads from the same file (checked by hand). */
static void
check_whole(struct jitdump *j)
{
	const struct jd_load *l;

	CHECK(jd_error(j) == NULL);
	CHECK(jd_count(j) == NLOADS);
	CHECK(jd_pid(j) == 7006);
	CHECK(!jd_arch_clock(j));
	l = jd_get(j, 0);
	CHECK(l != NULL && l->addr == 0x7efdfe600000ull && l->size == 32 &&
	    l->ts == 206741584493ull && l->tid == 7006);
	CHECK_STR(l ? l->name : NULL, "JSC-Thunk: DefaultCall");
	/* JIT memory reused: the load before the time wins */
	CHECK_STR(name_at(j, 0x7efdfe604f20ull + 100, 206929129291ull), "JSC-DFG: E#CwSdmt");
	CHECK_STR(name_at(j, 0x7efdfe604f20ull + 100, 210049331295ull), "JSC-DFG: E#CwSdmt");
	CHECK_STR(name_at(j, 0x7efdfe604f20ull + 100, 210049331296ull), "JSC-Baseline: P0#C1iBcE");
	CHECK_STR(name_at(j, 0x7efdfe604f20ull + 100, UINT64_MAX), "JSC-Baseline: P0#C1iBcE");
	/* the older, longer code still owns bytes past the newer one's end */
	CHECK_STR(name_at(j, 0x7efdfe604f20ull + 600, UINT64_MAX), "JSC-DFG: E#CwSdmt");
	CHECK(name_at(j, 0x7efdfe604f20ull, 206929129290ull) == NULL);
	CHECK_STR(name_at(j, 0x7efdfe620a00ull + 2303, UINT64_MAX), "JSC-Baseline: wRt#AstH8b");
	CHECK_STR(name_at(j, 139629359552608ull + 351, UINT64_MAX), "JSC-YarrJIT: /\\./g");
	CHECK(name_at(j, 139629359552608ull + 352, 206937530105ull) == NULL ||
	    strcmp(name_at(j, 139629359552608ull + 352, 206937530105ull), "JSC-YarrJIT: /\\./g") != 0);
	CHECK(name_at(j, 0x1000, UINT64_MAX) == NULL);
	CHECK(jd_update(j) == 0);	/* nothing new */
}

static void
test_whole(const unsigned char *b, size_t len)
{
	struct jitdump *j = jd_open_mem(b, len);

	CHECK(jd_update(j) == NLOADS);
	check_whole(j);
	jd_close(j);
}

/* A file being written: every prefix reads without error, and in the end all of it. */
static void
test_growing(const unsigned char *b, size_t len)
{
	int fd = memfd_create("jd", 0);
	struct jitdump *j;
	long total = 0, r;
	size_t at = 0;
	int bad = 0;

	CHECK(fd >= 0);
	j = jd_open_fd(fd);
	while (at < len) {
		size_t step = at < 200 ? 1 : 997;	/* header byte by byte, then odd chunks */

		if (step > len - at)
			step = len - at;
		if (write(fd, b + at, step) != (ssize_t)step)
			exit(2);
		at += step;
		if ((r = jd_update(j)) < 0)
			bad++;
		else
			total += r;
	}
	CHECK(bad == 0);
	CHECK(total == NLOADS);
	check_whole(j);
	jd_close(j);
}

static void
test_truncated(const unsigned char *b, size_t len)
{
	struct jitdump *j = jd_open_mem(b, len - 10);	/* the last load cut short */

	CHECK(jd_update(j) == NLOADS - 1);
	CHECK(jd_error(j) == NULL);
	jd_close(j);
	j = jd_open_mem(b, 20);		/* half a header */
	CHECK(jd_update(j) == 0);
	CHECK(jd_error(j) == NULL);
	CHECK(jd_count(j) == 0);
	jd_close(j);
	j = jd_open_mem(b, 0);
	CHECK(jd_update(j) == 0);
	jd_close(j);
}

static void
test_malformed(const unsigned char *b, size_t len)
{
	unsigned char *c = malloc(len);
	struct jitdump *j;
	uint32_t v;

	/* bad magic */
	memcpy(c, b, len);
	c[0] = 'X';
	j = jd_open_mem(c, len);
	CHECK(jd_update(j) == -1);
	CHECK(jd_error(j) != NULL && strstr(jd_error(j), "not a jitdump") != NULL);
	CHECK(jd_update(j) == -1);
	jd_close(j);

	/* the third record's size below a record header */
	memcpy(c, b, len);
	{
		size_t off = 40;

		for (int i = 0; i < 2; i++) {
			memcpy(&v, c + off + 4, 4);
			off += v;
		}
		v = 8;
		memcpy(c + off + 4, &v, 4);
		j = jd_open_mem(c, len);
		CHECK(jd_update(j) == -1);
		CHECK(jd_count(j) == 2);	/* what came before stays */
		CHECK(jd_error(j) != NULL && strstr(jd_error(j), "size 8 is invalid") != NULL);
		CHECK_STR(name_at(j, 0x7efdfe600000ull, UINT64_MAX), "JSC-Thunk: DefaultCall");
		jd_close(j);
	}

	/* the first load's code size larger than its record */
	memcpy(c, b, len);
	v = 0xffffff;
	memcpy(c + 40 + 16 + 24, &v, 4);
	j = jd_open_mem(c, len);
	CHECK(jd_update(j) == -1);
	CHECK(jd_error(j) != NULL && strstr(jd_error(j), "does not fit") != NULL);
	jd_close(j);

	/* a name without its terminator */
	memcpy(c, b, len);
	memcpy(&v, c + 40 + 4, 4);
	memset(c + 40 + 56, 'A', v - 56);
	memset(c + 40 + 16 + 24, 0, 8);		/* code size 0: all of it is name */
	j = jd_open_mem(c, len);
	CHECK(jd_update(j) == -1);
	CHECK(jd_error(j) != NULL && strstr(jd_error(j), "not terminated") != NULL);
	jd_close(j);

	/* a header claiming an absurd size */
	memcpy(c, b, len);
	v = 1u << 30;
	memcpy(c + 8, &v, 4);
	j = jd_open_mem(c, len);
	CHECK(jd_update(j) == -1);
	jd_close(j);
	free(c);
}

/* A byte-swapped (big-endian writer) dump of one load reads the same. */
static void
test_swapped(void)
{
	unsigned char d[40 + 56 + 4 + 8];
	struct jitdump *j;
	uint32_t w[] = { 0x4A695444, 1, 40, 62, 0, 42 };
	unsigned char *p = d;

	memset(d, 0, sizeof(d));
	for (size_t i = 0; i < 6; i++) {
		uint32_t s = __builtin_bswap32(w[i]);

		memcpy(p + 4 * i, &s, 4);
	}
	p = d + 40;
	{
		uint32_t id = 0, size = __builtin_bswap32(56 + 4 + 8);
		uint64_t ts = __builtin_bswap64(5), addr = __builtin_bswap64(0x10000),
		    csize = __builtin_bswap64(8);

		memcpy(p, &id, 4);
		memcpy(p + 4, &size, 4);
		memcpy(p + 8, &ts, 8);
		memcpy(p + 16 + 16, &addr, 8);
		memcpy(p + 16 + 24, &csize, 8);
		memcpy(p + 56, "fn!", 4);
	}
	j = jd_open_mem(d, sizeof(d));
	CHECK(jd_update(j) == 1);
	CHECK(jd_pid(j) == 42);
	CHECK_STR(name_at(j, 0x10007, 5), "fn!");
	CHECK(name_at(j, 0x10008, 5) == NULL);
	CHECK(name_at(j, 0x10000, 4) == NULL);
	jd_close(j);
}

static void
test_frame_names(void)
{
	char buf[64];

	CHECK(jd_frame_name("JSC-DFG: processTicksAndRejections#ANHpxE", buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "processTicksAndRejections#ANHpxE");
	CHECK(jd_frame_name("JSC-Baseline: get#EP8poP", buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "get#EP8poP");
	CHECK(jd_frame_name("JSC-FTL: #AUeS4x", buf, sizeof(buf)) == 1);
	CHECK_STR(buf, "#AUeS4x");
	CHECK(jd_frame_name("JSC-InlineCache: GetById", buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "JSC-InlineCache: GetById");
	CHECK(jd_frame_name("JSC-DFG: ", buf, sizeof(buf)) == 0);
	CHECK(jd_frame_name("LazyCompile:*foo /x.js:1", buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "LazyCompile:*foo /x.js:1");
}

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "tests/fixtures/jsc-jitdump-small.dump";
	size_t len;
	unsigned char *b = slurp(path, &len);

	test_whole(b, len);
	test_growing(b, len);
	test_truncated(b, len);
	test_malformed(b, len);
	test_swapped();
	test_frame_names();
	free(b);
	return CHECK_DONE();
}
