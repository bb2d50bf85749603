/* The record reader against every kind of bad input, and the writer. */
#include <math.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "record.h"

static int
memfd_with(const char *data, size_t len)
{
	int fd = memfd_create("t", 0);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Count good records and bad lines in data. */
static void
scan(const char *data, size_t len, int strict, int *good, unsigned long *bad,
    enum rec_status *last)
{
	int fd = memfd_with(data, len);
	struct rec_reader *r = rec_reader_open(fd, "test");
	cJSON *o;

	rec_reader_strict(r, strict);
	*good = 0;
	while ((*last = rec_next(r, &o)) == REC_OK) {
		(*good)++;
		cJSON_Delete(o);
	}
	*bad = rec_bad_lines(r);
	rec_reader_close(r);
	close(fd);
}

int
main(void)
{
	int good;
	unsigned long bad;
	enum rec_status last;
	static const char mixed[] =
	    "{\"type\":\"a\"}\n"
	    "not json\n"
	    "[1,2]\n"
	    "{\"x\":1}\n"
	    "{\"type\":\"\"}\n"
	    "\n"
	    "{\"type\":\"b\"} trailing\n"
	    "{\"type\":\"c\",\"s\":\"\xff\xfe\"}\n"
	    "{\"type\":\"d\"}\n";
	static const char nul[] = "{\"type\":\"a\"}\n{\"ty\0pe\":1}\n{\"type\":\"b\"}\n";
	static const char trunc_ok[] = "{\"type\":\"a\"}\n{\"type\":\"b\"}";
	static const char trunc_bad[] = "{\"type\":\"a\"}\n{\"type\":\"b\",\"x\":";
	char *huge;
	size_t hn = (17u << 20) + 10;

	scan(mixed, sizeof(mixed) - 1, 0, &good, &bad, &last);
	CHECK(good == 2);
	CHECK(bad == 6);
	CHECK(last == REC_EOF);

	scan(mixed, sizeof(mixed) - 1, 1, &good, &bad, &last);
	CHECK(good == 1);
	CHECK(last == REC_BAD);

	scan(nul, sizeof(nul) - 1, 0, &good, &bad, &last);
	CHECK(good == 2);
	CHECK(bad == 1);

	scan(trunc_ok, sizeof(trunc_ok) - 1, 0, &good, &bad, &last);
	CHECK(good == 2);
	CHECK(bad == 0);

	scan(trunc_bad, sizeof(trunc_bad) - 1, 0, &good, &bad, &last);
	CHECK(good == 1);
	CHECK(bad == 1);

	scan("", 0, 0, &good, &bad, &last);
	CHECK(good == 0 && bad == 0 && last == REC_EOF);

	/* A line over the 16 MiB limit is skipped, and the next one is read. */
	huge = malloc(hn + 40);
	memset(huge, 'x', hn);
	memcpy(huge + hn, "\n{\"type\":\"after\"}\n", 18);
	scan(huge, hn + 18, 0, &good, &bad, &last);
	CHECK(good == 1);
	CHECK(bad == 1);
	free(huge);

	/* utf8 helpers */
	CHECK(utf8_valid("h\xc3\xa9llo", 6));
	CHECK(!utf8_valid("\xc0\xaf", 2));	/* overlong */
	CHECK(!utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	{
		char *s = utf8_sanitize("a\xffz", 3);

		CHECK_STR(s, "a\xef\xbf\xbdz");
		free(s);
	}

	/* The writer: whole lines, sanitised strings, passthrough unchanged. */
	{
		int fd = memfd_create("w", 0);
		char buf[512];
		ssize_t n;
		cJSON *o = rec_new("t");

		char ref[] = "by\"ref", badref[] = "x\xfey";

		rec_out_init(fd);
		rec_add_str(o, "name", "bad\xffname");
		rec_add_num(o, "big", 6000000000.0);
		/* Integers exactly, within and beyond 2^53; fractions and NaN via cJSON. */
		rec_add_num(o, "neg", -42);
		rec_add_num(o, "huge", 1e300);
		rec_add_num(o, "frac", 0.5);
		rec_add_num(o, "nan", NAN);
		/* By reference: escaped like a copy; invalid UTF-8 still sanitised. */
		rec_add_str_ref(o, "ref", ref);
		rec_add_str_ref(o, "badref", badref);
		rec_add_str_ref(o, "null", NULL);
		rec_emit_free(o);
		rec_emit_raw("{\"type\":\"raw\"}", 14);
		CHECK(rec_flush() == 0);
		lseek(fd, 0, SEEK_SET);
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		CHECK_STR(buf, "{\"type\":\"t\",\"name\":\"bad\xef\xbf\xbdname\","
		    "\"big\":6000000000,\"neg\":-42,\"huge\":1e+300,\"frac\":0.5,\"nan\":null,"
		    "\"ref\":\"by\\\"ref\",\"badref\":\"x\xef\xbf\xbdy\",\"null\":null}\n"
		    "{\"type\":\"raw\"}\n");
		close(fd);
	}

	/* Two writers at once: each holds its own lines until its own flush. */
	{
		int fa = memfd_create("a", 0), fb = memfd_create("b", 0);
		struct rec_writer *a = rec_writer_new(fa), *b = rec_writer_new(fb);
		char buf[128];
		ssize_t n;
		cJSON *o = rec_new("a");

		CHECK(rec_writer_emit(a, o) == 0);
		cJSON_Delete(o);
		CHECK(rec_writer_emit_raw(b, "{\"type\":\"b\"}", 12) == 0);
		CHECK(lseek(fa, 0, SEEK_END) == 0);	/* still buffered */
		CHECK(rec_writer_flush(b) == 0);
		CHECK(lseek(fa, 0, SEEK_END) == 0);
		CHECK(rec_writer_close(a) == 0);
		lseek(fa, 0, SEEK_SET);
		n = read(fa, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		CHECK_STR(buf, "{\"type\":\"a\"}\n");
		lseek(fb, 0, SEEK_SET);
		n = read(fb, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		CHECK_STR(buf, "{\"type\":\"b\"}\n");
		/* A write error stays with its writer. */
		rec_writer_free(a);
		close(fa);
		a = rec_writer_new(fa);	/* closed: the flush fails */
		rec_writer_emit_raw(a, "{}", 2);
		CHECK(rec_writer_flush(a) == -1);
		CHECK(rec_writer_emit_raw(b, "{}", 2) == 0 && rec_writer_flush(b) == 0);
		rec_writer_free(a);
		rec_writer_free(b);
		close(fb);
	}
	return CHECK_DONE();
}
