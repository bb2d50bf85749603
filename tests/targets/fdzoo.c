/*
 * fdzoo: a process holding known numbers of each kind of file descriptor,
 * for cd-fds tests and benchmarks.
 *
 *   fdzoo DIR                 the zoo (counts below), then sleep
 *   fdzoo --leak RATE DIR     the zoo, then open RATE eventfds a second
 *   fdzoo --bench N M DIR     N regular-file fds and M established TCP
 *                             sockets (M/2 loopback pairs) plus a listener
 *   fdzoo --exit-after S ...  exit S seconds after being ready
 *
 * Everything is created under DIR. When ready, DIR/ready holds the pid and
 * the counts as key=value lines. Only fds 0-2 are inherited: everything
 * else is closed first, so the counts are exact.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *dir;

static void
die(const char *what)
{
	fprintf(stderr, "fdzoo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *
under(const char *name)
{
	static char buf[4][4096];
	static int i;
	char *b = buf[i++ & 3];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
	return b;
}

static int
tcp_listener(int family)
{
	int s = socket(family, SOCK_STREAM, 0);
	int one = 1;

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };

		if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4096) < 0) {
			close(s);
			return -1;
		}
		return s;
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4096) < 0)
		die("tcp listen");
	return s;
}

/* A connected loopback pair: *c is the client end, *a the accepted end. */
static void
tcp_pair(int lfd, int *c, int *a)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
		die("getsockname");
	if ((*c = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket");
	if (connect(*c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	if ((*a = accept(lfd, NULL, NULL)) < 0)
		die("accept");
}

static int
open_file(const char *name, int flags, int nbytes)
{
	int fd = open(under(name), flags | O_CREAT, 0600);

	if (fd < 0)
		die(name);
	for (int i = 0; i < nbytes; i++)
		if (write(fd, "x", 1) != 1)
			die("write");
	return fd;
}

static void
ready(const char *counts)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", under("ready"));
	if ((f = fopen(tmp, "w")) == NULL)
		die("ready file");
	fprintf(f, "pid=%d\n%s", (int)getpid(), counts);
	if (fclose(f) != 0 || rename(tmp, under("ready")) < 0)
		die("ready file");
}

static void
zoo(char *counts, size_t len)
{
	int fds[2], p0[2], lfd, l6, c, a, ep, in1, in2, tcp6 = 0;
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t ss;

	/* 5 regular files, fd 3+i at position 10*i; the first read-only. */
	for (int i = 0; i < 5; i++) {
		char name[32];

		snprintf(name, sizeof(name), "file%d", i);
		open_file(name, O_RDWR, 10 * i);
	}
	/* 1 directory. */
	if (open(dir, O_RDONLY | O_DIRECTORY) < 0)
		die("open dir");
	/* 3 pipes = 6 pipe fds. */
	if (pipe(p0) < 0)
		die("pipe");
	for (int i = 0; i < 2; i++)
		if (pipe(fds) < 0)
			die("pipe");
	/* 1 fifo. */
	if (mkfifo(under("fifo"), 0600) < 0 && errno != EEXIST)
		die("mkfifo");
	if (open(under("fifo"), O_RDWR) < 0)
		die("open fifo");
	/*
	 * TCP: 1 LISTEN, 2 pairs ESTABLISHED (4 fds), 3 clients whose
	 * accepted end is closed, so they sit in CLOSE_WAIT.
	 */
	lfd = tcp_listener(AF_INET);
	for (int i = 0; i < 2; i++)
		tcp_pair(lfd, &c, &a);
	for (int i = 0; i < 3; i++) {
		tcp_pair(lfd, &c, &a);
		close(a);
	}
	l6 = tcp_listener(AF_INET6);
	if (l6 >= 0)
		tcp6 = 1;
	/* 2 UDP sockets. */
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int u = socket(AF_INET, SOCK_DGRAM, 0);

		if (u < 0 || bind(u, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("udp");
	}
	/* Unix: 2 socketpairs (4 fds), a named listener, a client, its accepted end. */
	for (int i = 0; i < 2; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
			die("socketpair");
	{
		struct sockaddr_un su = { .sun_family = AF_UNIX };
		int ul = socket(AF_UNIX, SOCK_STREAM, 0), uc;

		snprintf(su.sun_path, sizeof(su.sun_path), "%s", under("sock"));
		unlink(su.sun_path);
		if (ul < 0 || bind(ul, (struct sockaddr *)&su, sizeof(su)) < 0 || listen(ul, 8) < 0)
			die("unix listen");
		if ((uc = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
		    connect(uc, (struct sockaddr *)&su, sizeof(su)) < 0)
			die("unix connect");
		if (accept(ul, NULL, NULL) < 0)
			die("unix accept");
	}
	/* 2 eventfds, 2 timerfds (one armed), 1 signalfd. */
	for (int i = 0; i < 2; i++)
		if (eventfd(i, 0) < 0)
			die("eventfd");
	for (int i = 0; i < 2; i++) {
		int t = timerfd_create(CLOCK_MONOTONIC, 0);
		struct itimerspec its = { .it_value = { 3600, 0 } };

		if (t < 0 || (i == 1 && timerfd_settime(t, 0, &its, NULL) < 0))
			die("timerfd");
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR1);
	if (signalfd(-1, &ss, 0) < 0)
		die("signalfd");
	/* 1 epoll instance watching 3 fds: both ends of a pipe and the listener. */
	if ((ep = epoll_create1(0)) < 0)
		die("epoll");
	if (epoll_ctl(ep, EPOLL_CTL_ADD, p0[0], &ev) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, p0[1], &ev) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("epoll_ctl");
	/* 2 inotify instances: 3 watches on DIR/w0..w2, 1 on DIR itself. */
	if ((in1 = inotify_init1(0)) < 0 || (in2 = inotify_init1(0)) < 0)
		die("inotify");
	for (int i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "w%d", i);
		if (mkdir(under(name), 0700) < 0 && errno != EEXIST)
			die("mkdir");
		if (inotify_add_watch(in1, under(name), IN_ALL_EVENTS) < 0)
			die("inotify_add_watch");
	}
	if (inotify_add_watch(in2, dir, IN_CREATE | IN_DELETE) < 0)
		die("inotify_add_watch");
	/* 2 files deleted while open (1000 bytes each). */
	for (int i = 0; i < 2; i++) {
		char name[32];

		snprintf(name, sizeof(name), "gone%d", i);
		open_file(name, O_RDWR, 1000);
		unlink(under(name));
	}
	/* 1 memfd, 1 pidfd. */
	if (memfd_create("fdzoo-mem", 0) < 0)
		die("memfd_create");
	if (syscall(SYS_pidfd_open, getpid(), 0) < 0)
		die("pidfd_open");

	snprintf(counts, len,
	    "file=5\ndir=1\npipe=6\nfifo=1\ntcp=%d\nlisten=%d\nestablished=4\n"
	    "close_wait=3\nudp=2\nunix=7\neventfd=2\ntimerfd=2\nsignalfd=1\n"
	    "eventpoll=1\nepoll_watched=3\ninotify=2\ninotify_watches=4\n"
	    "deleted=2\nmemfd=1\npidfd=1\n",
	    8 + tcp6, 1 + tcp6);
}

static void
bench(long nfiles, long nsock, char *counts, size_t len)
{
	int lfd = tcp_listener(AF_INET), c, a;
	int f = open_file("bench-file", O_RDWR, 0);

	for (long i = 1; i < nfiles; i++)
		if (open(under("bench-file"), O_RDONLY) < 0)
			die("open");
	(void)f;
	for (long i = 0; i < nsock / 2; i++)
		tcp_pair(lfd, &c, &a);
	snprintf(counts, len, "file=%ld\ntcp=%ld\n", nfiles, nsock / 2 * 2 + 1);
}

int
main(int argc, char **argv)
{
	long leak = 0, nfiles = 0, nsock = 0;
	double exit_after = 0;
	int do_bench = 0;
	char counts[1024];
	struct rlimit rl;

	while (argc > 2 && argv[1][0] == '-') {
		if (strcmp(argv[1], "--leak") == 0) {
			leak = atol(argv[2]);
			argv += 2, argc -= 2;
		} else if (strcmp(argv[1], "--exit-after") == 0) {
			exit_after = atof(argv[2]);
			argv += 2, argc -= 2;
		} else if (strcmp(argv[1], "--bench") == 0 && argc > 4) {
			do_bench = 1;
			nfiles = atol(argv[2]);
			nsock = atol(argv[3]);
			argv += 3, argc -= 3;
		} else {
			break;
		}
	}
	if (argc != 2) {
		fprintf(stderr, "usage: fdzoo [--leak RATE] [--exit-after S] [--bench NFILES NSOCK] DIR\n");
		return 2;
	}
	dir = argv[1];
	signal(SIGPIPE, SIG_IGN);
	/* The bench holds more fds than the usual soft limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* Exact counts: nothing inherited beyond 0-2. */
	syscall(SYS_close_range, 3, ~0U, 0);

	if (do_bench)
		bench(nfiles, nsock, counts, sizeof(counts));
	else
		zoo(counts, sizeof(counts));
	ready(counts);

	uint64_t start = 0;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	start = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (;;) {
		struct timespec tick = { 0, leak > 0 ? 1000000000L / leak : 100000000L };

		nanosleep(&tick, NULL);
		if (leak > 0 && eventfd(0, 0) < 0 && errno != EMFILE)
			die("eventfd");
		if (exit_after > 0) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;

			if (now - start >= (uint64_t)(exit_after * 1000))
				return 0;
		}
	}
}
