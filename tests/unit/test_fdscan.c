/* Parsers behind cd-fds: readlink targets, fdinfo text, /proc/net lines. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fdscan.h"
#include "sockdiag.h"

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

static void
kinds(void)
{
	char *anon;
	uint64_t ino = 0;

	CHECK(fdscan_kind_from_link("socket:[12345]", &anon, &ino) == FDK_SOCKET && ino == 12345);
	CHECK(fdscan_kind_from_link("pipe:[7]", &anon, &ino) == FDK_PIPE && ino == 7);
	CHECK(fdscan_kind_from_link("pidfd:[99]", &anon, &ino) == FDK_PIDFD);
	CHECK(fdscan_kind_from_link("anon_inode:[eventpoll]", &anon, &ino) == FDK_EVENTPOLL);
	CHECK(fdscan_kind_from_link("anon_inode:inotify", &anon, &ino) == FDK_INOTIFY);
	CHECK(fdscan_kind_from_link("anon_inode:[timerfd]", &anon, &ino) == FDK_TIMERFD);
	CHECK(fdscan_kind_from_link("anon_inode:[pidfd]", &anon, &ino) == FDK_PIDFD);
	CHECK(fdscan_kind_from_link("anon_inode:[io_uring]", &anon, &ino) == FDK_ANON &&
	    anon && strcmp(anon, "io_uring") == 0);
	free(anon);
	CHECK(fdscan_kind_from_link("anon_inode:bpf-map", &anon, &ino) == FDK_ANON &&
	    anon && strcmp(anon, "bpf-map") == 0);
	free(anon);
	CHECK(fdscan_kind_from_link("/memfd:x (deleted)", &anon, &ino) == FDK_MEMFD);
	CHECK(fdscan_kind_from_link("/tmp/a", &anon, &ino) == FDK_FILE);
	CHECK(fdscan_kind_from_link("net:[4026531840]", &anon, &ino) == FDK_OTHER);
	/* Malformed brackets are not sockets. */
	CHECK(fdscan_kind_from_link("socket:[12x]", &anon, &ino) == FDK_OTHER);
	CHECK(fdscan_kind_from_link("", &anon, &ino) == FDK_OTHER);
	CHECK(strcmp(fd_kind_name(FDK__COUNT), "other") == 0);
}

/* fdinfo text parsed for a descriptor of kind k. */
static struct fd_info
parse_as(enum fd_kind k, const char *text)
{
	struct fd_info fi = { .kind = k };

	fdscan_parse_fdinfo(text, &fi);
	return fi;
}

static void
fdinfo(void)
{
	struct fd_info fi = { 0 };
	const char *epoll =
	    "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1044\n"
	    "tfd:       10 events:       19 data:                0  pos:0 ino:272d sdev:f\n"
	    "tfd:        9 events:       19 data:                0  pos:0 ino:272d sdev:f\n"
	    "tfd:       16 events:       19 data:                0  pos:0 ino:2730 sdev:9\n";
	const char *ino =
	    "pos:\t0\nflags:\t00\nmnt_id:\t15\nino:\t1044\n"
	    "inotify wd:3 ino:a72097 sdev:fe00000 mask:fff ignored_mask:0 fhandle-bytes:8 "
	    "fhandle-type:1 f_handle:9720a70094ce750f\n"
	    "inotify wd:1 ino:7b sdev:800001 mask:300 ignored_mask:0\n";
	char buf[256];

	fi.kind = FDK_EVENTPOLL;
	fdscan_parse_fdinfo(epoll, &fi);
	CHECK(fi.have_fdinfo && fi.pos == 0 && fi.flags == 02000002);
	CHECK(fi.ino == 1044 && fi.epoll_count == 3 && fi.epoll_nfds == 3);
	CHECK(fi.epoll_fds[0] == 10 && fi.epoll_fds[2] == 16);
	free(fi.epoll_fds);

	memset(&fi, 0, sizeof(fi));
	fi.kind = FDK_INOTIFY;
	fdscan_parse_fdinfo(ino, &fi);
	CHECK(fi.nwatches == 2);
	CHECK(fi.watches[0].wd == 3 && fi.watches[0].ino == 0xa72097);
	CHECK(fi.watches[0].dev_major == 254 && fi.watches[0].dev_minor == 0);
	CHECK(fi.watches[0].handle_bytes == 8 && fi.watches[0].handle_type == 1);
	CHECK(fi.watches[0].handle[0] == 0x97 && fi.watches[0].handle[7] == 0x0f);
	CHECK(fi.watches[1].dev_major == 8 && fi.watches[1].dev_minor == 1);
	CHECK(fi.watches[1].handle_bytes == 0 && fi.watches[1].mask == 0x300);
	free(fi.watches);

	/* The kernel prints wd in hex: wd 0x1a must not be lost. */
	memset(&fi, 0, sizeof(fi));
	fdscan_parse_fdinfo("inotify wd:1a ino:a7 sdev:fe00000 mask:2 ignored_mask:0\n"
	    "inotify wd:19 ino:a6 sdev:fe00000 mask:2 ignored_mask:0\n", &fi);
	CHECK(fi.nwatches == 2 && fi.watches[0].wd == 0x1a && fi.watches[1].wd == 0x19);
	free(fi.watches);

	/* Each line alone: a watch without a handle takes none from the next. */
	memset(&fi, 0, sizeof(fi));
	fi.kind = FDK_INOTIFY;
	fdscan_parse_fdinfo("inotify wd:1 ino:a7 sdev:fe00000 mask:2 ignored_mask:0\n"
	    "inotify wd:2 ino:a6 sdev:fe00000 mask:2 ignored_mask:0 fhandle-bytes:8 "
	    "fhandle-type:1 f_handle:9720a70094ce750f\n", &fi);
	CHECK(fi.nwatches == 2 && fi.watches[0].handle_bytes == 0 &&
	    fi.watches[1].handle_bytes == 8 && fi.watches[1].handle[7] == 0x0f);
	free(fi.watches);

	/* Many watches: every one kept, in order, as the array grows. */
	{
		char *many = malloc(1000 * 64), *e = many;

		if (many == NULL)
			abort();
		for (int i = 0; i < 1000; i++)
			e += sprintf(e, "inotify wd:%x ino:%x sdev:fe00000 mask:2 ignored_mask:0\n",
			    i + 1, 1000 + i);
		memset(&fi, 0, sizeof(fi));
		fi.kind = FDK_INOTIFY;
		fdscan_parse_fdinfo(many, &fi);
		CHECK(fi.nwatches == 1000 && fi.watches[0].wd == 1 &&
		    fi.watches[999].wd == 1000 && fi.watches[999].ino == 1999);
		free(fi.watches);
		free(many);
	}

	/* Garbage and truncation: no crash, nothing invented. */
	memset(&fi, 0, sizeof(fi));
	fi.kind = FDK_EVENTPOLL;
	fdscan_parse_fdinfo("inotify wd:zz\ntfd:\nflags:\npos:", &fi);
	CHECK(fi.nwatches == 0 && fi.epoll_count == 1 && fi.flags == 0);
	free(fi.epoll_fds);
	memset(&fi, 0, sizeof(fi));
	fdscan_parse_fdinfo("inotify wd:1 ino:1 sdev:1 mask:1 fhandle-bytes:ff fhandle-type:1 f_handle:00\n", &fi);
	CHECK(fi.nwatches == 1 && fi.watches[0].handle_bytes == 0);
	free(fi.watches);

	fi = parse_as(FDK_TIMERFD, "pos:\t0\nflags:\t02\nclockid: 1\nticks: 5\nsettime flags: 0\n"
	    "it_value: (3599, 494269375)\nit_interval: (0, 0)\n");
	CHECK(fi.timer_clockid == 1 && fi.timer_ticks == 5 &&
	    fi.timer_value_ns == 3599494269375LL);
	{
		static const char *text = "eventfd-count:                a\n"
		    "sigmask:\t0000000000000200\nPid:\t42\ntfd: 7 events: 19\n";

		CHECK(parse_as(FDK_EVENTFD, text).eventfd_count == 10);
		CHECK(parse_as(FDK_SIGNALFD, text).sigmask == 0x200);
		CHECK(parse_as(FDK_PIDFD, text).pidfd_pid == 42);
		/* Another kind's lines never land in the shared fields. */
		fi = parse_as(FDK_FILE, text);
		CHECK(fi.eventfd_count == 0 && fi.epoll_fds == NULL);
	}

	fdscan_flags_str(O_RDWR | O_NONBLOCK | O_CLOEXEC, buf, sizeof(buf));
	CHECK(strcmp(buf, "O_RDWR|O_NONBLOCK|O_CLOEXEC") == 0);
	fdscan_flags_str(O_RDONLY | O_DIRECTORY, buf, sizeof(buf));
	CHECK(strcmp(buf, "O_RDONLY|O_DIRECTORY") == 0);
	fdscan_flags_str(O_WRONLY | O_APPEND, buf, 6);	/* truncated, terminated */
	CHECK(strlen(buf) == 5);
}

static void
procnet(void)
{
	struct sock_ent e;

	CHECK(sockdiag_parse_inet_line("   0: 0100007F:8AEB 00000000:0000 0A 00000000:00000002 "
	    "00:00000000 00000000     0        0 16595 1 0000000000000000 100 0 0 10 0",
	    AF_INET, &e) == 0);
	CHECK(strcmp(e.local_addr, "127.0.0.1") == 0 && e.local_port == 0x8AEB);
	CHECK(e.state == 10 && e.ino == 16595 && e.rq == 2 && e.remote_port == 0);
	CHECK(strcmp(sock_state_name(SP_TCP, e.state), "LISTEN") == 0);
	CHECK(sockdiag_parse_inet_line("   1: 00000000000000000000000001000000:9979 "
	    "00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 "
	    "00000000     0        0 16606 1 0000000000000000 100 0 0 10 0", AF_INET6, &e) == 0);
	CHECK(strcmp(e.local_addr, "::1") == 0 && e.local_port == 0x9979 && e.ino == 16606);
	CHECK(sockdiag_parse_inet_line("  sl  local_address rem_address   st", AF_INET, &e) < 0);
	CHECK(sockdiag_parse_inet_line("   0: 0100007F 0", AF_INET, &e) < 0);
	CHECK(sockdiag_parse_inet_line("", AF_INET, &e) < 0);

	CHECK(sockdiag_parse_unix_line("0000000000000000: 00000002 00000000 00010000 0001 01 "
	    "16613 /tmp/x/sock\n", &e) == 0);
	CHECK(e.state == 10 && e.ino == 16613 && e.path && strcmp(e.path, "/tmp/x/sock") == 0);
	free(e.path);
	CHECK(sockdiag_parse_unix_line("0000000000000000: 00000003 00000000 00000000 0001 03 16609\n",
	    &e) == 0);
	CHECK(e.state == 1 && e.path == NULL && e.type == 1);
	CHECK(sockdiag_parse_unix_line("Num       RefCount Protocol Flags    Type St Inode Path\n",
	    &e) < 0);
	CHECK(strcmp(sock_state_name(SP_UDP, 7), "UNCONN") == 0);
	CHECK(strcmp(sock_state_name(SP_TCP, 7), "CLOSE") == 0);
	CHECK(strcmp(sock_state_name(SP_TCP, 8), "CLOSE_WAIT") == 0);
	CHECK(strcmp(sock_state_name(SP_TCP, 99), "UNKNOWN") == 0);
}

int
main(void)
{
	kinds();
	fdinfo();
	procnet();
	if (failures)
		fprintf(stderr, "test_fdscan: %d failures\n", failures);
	return failures != 0;
}
