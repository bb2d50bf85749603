/*
 * A target for cd-trace's tests: makes exactly known numbers of known
 * system calls. Usage:
 *   sysloop [--ready FILE] [--go FILE] [--linger SEC] MODE ARGS...
 * --ready: create FILE when set up (before waiting for --go).
 * --go: wait until FILE exists before the work (polls with nanosleep).
 * --linger: sleep SEC seconds after the work before exiting.
 * Modes:
 *   getppid N            N getppid calls
 *   openmissing N PATH   N openat(PATH) that fail (ENOENT for a missing path)
 *   readfile N PATH      N times: openat, read up to 4096 bytes, close
 *   connect N PORT       N connects to 127.0.0.1:PORT, each on a new socket
 *   threads T N          T threads, each N getppid
 *   fork N               a child that makes N getppid; the parent waits
 *   spin N               N epoll_wait calls with a zero timeout
 *   stat N PATH          N stat calls on PATH
 *   forever              getppid every millisecond until killed
 *   bench N              N calls: a mix of getppid, read of /dev/zero,
 *                        write to /dev/null, fstat (the benchmark's load)
 *   talk N               a loopback connection made before --ready, then
 *                        N sends of 1 byte on it and N receives at the
 *                        other end (sockets opened before tracing)
 *   waits N              N rounds of calls that block by design for
 *                        20 ms: nanosleep, poll, epoll_wait, read of a
 *                        pipe a thread writes to, a futex wait (join)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
do_getppid(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static void *
thread_main(void *arg)
{
	do_getppid((long)arg);
	return NULL;
}

static int
do_threads(long t, long n)
{
	pthread_t th[64];

	if (t > 64)
		t = 64;
	for (long i = 0; i < t; i++)
		if (pthread_create(&th[i], NULL, thread_main, (void *)n) != 0)
			return 1;
	for (long i = 0; i < t; i++)
		pthread_join(th[i], NULL);
	return 0;
}

/*
 * Static, not on the stack: the tracepoint method reads the address after
 * the fact, and a stack slot is reused by then (see cd-trace(1)).
 */
static struct sockaddr_in sin;

static int
do_connect(long n, int port)
{

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			return 1;
		connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		close(fd);
	}
	return 0;
}

static int
do_readfile(long n, const char *path)
{
	static char buf[4096];

	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return 1;
		if (read(fd, buf, sizeof(buf)) < 0)
			return 1;
		close(fd);
	}
	return 0;
}

/* The loop's own time goes to stderr: a tracer's start-up is not in it. */
static void
do_bench(long n)
{
	static char buf[64];
	struct stat st;
	struct timespec t0, t1;
	int z = open("/dev/zero", O_RDONLY), nul = open("/dev/null", O_WRONLY);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i += 4) {
		syscall(SYS_getppid);
		if (read(z, buf, sizeof(buf)) < 0)
			break;
		if (write(nul, buf, sizeof(buf)) < 0)
			break;
		fstat(z, &st);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "sysloop bench: %ld calls in %lld ns\n", n,
	    (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
	close(z);
	close(nul);
}

static int talk_fd[2] = { -1, -1 };

/* A listener, a connection to it, the accepted end; the listener closes. */
static int
talk_setup(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(l, 1) != 0 || getsockname(l, (struct sockaddr *)&a, &alen) != 0)
		return -1;
	talk_fd[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (talk_fd[0] < 0 || connect(talk_fd[0], (struct sockaddr *)&a, sizeof(a)) != 0)
		return -1;
	talk_fd[1] = accept(l, NULL, NULL);
	close(l);
	return talk_fd[1] < 0 ? -1 : 0;
}

static int
do_talk(long n)
{
	char c = 'x';

	for (long i = 0; i < n; i++) {
		if (send(talk_fd[0], &c, 1, 0) != 1 || recv(talk_fd[1], &c, 1, 0) != 1)
			return 1;
	}
	return 0;
}

static void *
pipe_writer(void *arg)
{
	int fd = (int)(long)arg;

	nap_ms(20);
	if (write(fd, "x", 1) != 1)
		return NULL;
	return NULL;
}

static int
do_waits(long n)
{
	int p[2], ep = epoll_create1(0);
	struct epoll_event ev;
	struct timespec ts = { 0, 20000000 };
	char c;

	if (pipe(p) != 0 || ep < 0)
		return 1;
	for (long i = 0; i < n; i++) {
		pthread_t th;

		nanosleep(&ts, NULL);
		poll(NULL, 0, 20);
		epoll_wait(ep, &ev, 1, 20);
		if (pthread_create(&th, NULL, pipe_writer, (void *)(long)p[1]) != 0)
			return 1;
		if (read(p[0], &c, 1) != 1)
			return 1;
		pthread_join(th, NULL);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *ready = NULL, *go = NULL;
	long linger = 0;
	int i = 1, rc = 0;

	while (i + 1 < argc && strncmp(argv[i], "--", 2) == 0) {
		if (strcmp(argv[i], "--ready") == 0)
			ready = argv[i + 1];
		else if (strcmp(argv[i], "--go") == 0)
			go = argv[i + 1];
		else if (strcmp(argv[i], "--linger") == 0)
			linger = atol(argv[i + 1]);
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: sysloop [--ready F] [--go F] [--linger S] MODE ARGS\n");
		return 2;
	}
	if (strcmp(argv[i], "talk") == 0 && talk_setup() != 0) {
		perror("sysloop: talk");
		return 1;
	}
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f == NULL)
			return 1;
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	while (go && access(go, F_OK) != 0)
		nap_ms(10);

	const char *mode = argv[i];
	long n = i + 1 < argc ? atol(argv[i + 1]) : 0;
	const char *a2 = i + 2 < argc ? argv[i + 2] : "";

	if (strcmp(mode, "getppid") == 0) {
		do_getppid(n);
	} else if (strcmp(mode, "openmissing") == 0) {
		for (long k = 0; k < n; k++)
			open(a2, O_RDONLY);
	} else if (strcmp(mode, "readfile") == 0) {
		rc = do_readfile(n, a2);
	} else if (strcmp(mode, "connect") == 0) {
		rc = do_connect(n, atoi(a2));
	} else if (strcmp(mode, "threads") == 0) {
		rc = do_threads(n, atol(a2));
	} else if (strcmp(mode, "fork") == 0) {
		pid_t p = fork();

		if (p == 0) {
			do_getppid(n);
			_exit(0);
		}
		waitpid(p, NULL, 0);
	} else if (strcmp(mode, "spin") == 0) {
		int ep = epoll_create1(0);
		struct epoll_event ev;

		for (long k = 0; k < n; k++)
			epoll_wait(ep, &ev, 1, 0);
		close(ep);
	} else if (strcmp(mode, "stat") == 0) {
		struct stat st;

		for (long k = 0; k < n; k++)
			stat(a2, &st);
	} else if (strcmp(mode, "forever") == 0) {
		for (;;) {
			syscall(SYS_getppid);
			nap_ms(1);
		}
	} else if (strcmp(mode, "bench") == 0) {
		do_bench(n);
	} else if (strcmp(mode, "talk") == 0) {
		rc = do_talk(n);
	} else if (strcmp(mode, "waits") == 0) {
		rc = do_waits(n);
	} else {
		fprintf(stderr, "sysloop: unknown mode %s\n", mode);
		return 2;
	}
	if (linger > 0)
		sleep((unsigned)linger);
	return rc;
}
