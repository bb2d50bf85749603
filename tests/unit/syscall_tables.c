/* The generated syscall tables, errno names and the category table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "syscall_category.h"
#include "syscall_names.h"

static int failures;

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static int
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void
test_names(void)
{
	/* Numbers from the kernel's own tables, stable ABI. */
	CHECK(streq(syscall_name_arch("x86_64", 0), "read"));
	CHECK(streq(syscall_name_arch("x86_64", 257), "openat"));
	CHECK(streq(syscall_name_arch("x86_64", 262), "newfstatat"));
	CHECK(streq(syscall_name_arch("x86_64", 435), "clone3"));
	CHECK(syscall_number_arch("x86_64", "epoll_pwait2") == 441);
	CHECK(streq(syscall_name_arch("aarch64", 56), "openat"));
	CHECK(streq(syscall_name_arch("aarch64", 63), "read"));
	CHECK(streq(syscall_name_arch("aarch64", 79), "newfstatat"));
	CHECK(syscall_number_arch("aarch64", "getppid") == 173);
	CHECK(syscall_number_arch("aarch64", "open") == -1);	/* no open(2) there */
	CHECK(syscall_name_arch("aarch64", 244) == NULL);	/* arch_specific_syscall */
	CHECK(syscall_name_arch("mips", 0) == NULL);
	CHECK(syscall_name(-1) == NULL);
	CHECK(syscall_name(100000) == NULL);
#ifdef __x86_64__
	CHECK(streq(syscall_arch(), "x86_64"));
	CHECK(syscall_number("getppid") == 110);
#endif
}

static void
test_errno(void)
{
	CHECK(streq(errno_name(ENOENT), "ENOENT"));
	CHECK(streq(errno_name(ECONNREFUSED), "ECONNREFUSED"));
	CHECK(errno_name(0) == NULL);
	CHECK(errno_number("EACCES") == EACCES);
	CHECK(errno_number("eacces") == EACCES);
	CHECK(errno_number("2") == 2);
	CHECK(errno_number("ENOTREAL") == -1);
	CHECK(errno_number("") == -1);
	CHECK(errno_number("99999") == -1);
}

static void
test_categories(void)
{
	/* every name of the generated tables resolves without crashing, and bsearch needs the order */
	const char *prev = "";
	static const char *names[] = { "accept", "bind", "openat", "write", "writev" };

	CHECK(streq(syscall_category("openat"), "file"));
	CHECK(streq(syscall_category("epoll_pwait2"), "event"));
	CHECK(streq(syscall_category("clone3"), "process"));
	CHECK(streq(syscall_category("sendto"), "network"));
	CHECK(streq(syscall_category("munmap"), "memory"));
	CHECK(streq(syscall_category("nanosleep"), "time"));
	CHECK(streq(syscall_category("futex"), "ipc"));
	CHECK(streq(syscall_category("nope"), "other"));
	CHECK(streq(syscall_category(NULL), "other"));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CHECK(strcmp(prev, names[i]) < 0);
		CHECK(!streq(syscall_category(names[i]), "other"));
		prev = names[i];
	}
	/* every x86_64 name that the table knows must be found by bsearch */
	for (long nr = 0; nr < 512; nr++) {
		const char *n = syscall_name_arch("x86_64", nr);

		if (n != NULL)
			CHECK(syscall_category(n) != NULL);
	}
	CHECK(syscall_category_known("file"));
	CHECK(!syscall_category_known("disk"));
}

static void
test_map(void)
{
	char path[] = "/tmp/cd-unit-map.XXXXXX";
	int fd = mkstemp(path);
	FILE *f, *err = fopen("/dev/null", "w");
	struct sc_map *m;
	unsigned long bad;

	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# c\nread disk\n\nconnect net # x\nbad line here\nUPPER x\nread disk2\n", f);
	fclose(f);
	m = sc_map_load(path, err, &bad);
	CHECK(m != NULL);
	CHECK(bad == 2);
	CHECK(streq(sc_map_lookup(m, "read"), "disk2"));	/* later entry wins */
	CHECK(streq(sc_map_lookup(m, "connect"), "net"));
	CHECK(streq(sc_map_lookup(m, "mmap"), "other"));
	sc_map_free(m);
	unlink(path);
	CHECK(sc_map_load("/nonexistent/map", err, &bad) == NULL);
	fclose(err);
}

int
main(int argc, char **argv)
{
	(void)argc;
	msg_init(argv[0]);
	test_names();
	test_errno();
	test_categories();
	test_map();
	return failures != 0;
}
