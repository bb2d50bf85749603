#define _GNU_SOURCE
/*
 * The built-in demo target: looks like Claude Code to the matcher (the
 * demo runs it as .../claude) and misbehaves the ways real sessions do:
 *   main thread    spins its event loop: epoll_wait with a zero timeout
 *   "fs.watch"     watches many directories with inotify and churns files
 *   "HTTP Client"  stats missing files (ENOENT storm) and retries a
 *                  connection to a closed loopback port (ECONNREFUSED)
 *   "Leaker"       opens a file every 20 ms and never closes it
 * Everything is bounded (fd count, lifetime) so the demo cannot hurt the
 * machine. Usage: claude WORKDIR [SECONDS]   (default lifetime 300 s)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WATCHED_DIRS 200
#define MAX_LEAKED 2000

static const char *workdir;

static void
msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *
fs_watch(void *arg)
{
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char path[4096], buf[4096];

	(void)arg;
	pthread_setname_np(pthread_self(), "fs.watch");
	for (int i = 0; i < WATCHED_DIRS; i++) {
		snprintf(path, sizeof(path), "%s/src/dir%03d", workdir, i);
		mkdir(path, 0700);
		inotify_add_watch(in, path, IN_MODIFY | IN_CREATE | IN_DELETE);
	}
	for (unsigned n = 0;; n++) {
		int fd;

		snprintf(path, sizeof(path), "%s/src/dir%03u/f.tmp", workdir,
		    n % WATCHED_DIRS);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			if (write(fd, "x", 1) < 0)
				perror("write");
			close(fd);
		}
		unlink(path);
		while (read(in, buf, sizeof(buf)) > 0)
			;
		msleep(2);
	}
	return NULL;
}

static void *
http_client(void *arg)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char path[4096];
	struct stat sb;

	(void)arg;
	pthread_setname_np(pthread_self(), "HTTP Client");
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(9);	/* discard: closed on a normal machine */
	for (unsigned n = 0;; n++) {
		for (int i = 0; i < 50; i++) {
			snprintf(path, sizeof(path), "%s/.claude/settings-%u.json",
			    workdir, (n * 50 + (unsigned)i) % 97);
			stat(path, &sb);
		}
		if (n % 10 == 0) {
			int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

			if (s >= 0) {
				connect(s, (struct sockaddr *)&sin, sizeof(sin));
				close(s);
			}
		}
		msleep(10);
	}
	return NULL;
}

static void *
leaker(void *arg)
{
	char path[4096];

	(void)arg;
	pthread_setname_np(pthread_self(), "Leaker");
	snprintf(path, sizeof(path), "%s/session.log", workdir);
	for (int n = 0; n < MAX_LEAKED; n++) {
		if (open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600) < 0)
			break;
		msleep(20);
	}
	for (;;)
		pause();
	return NULL;
}

static void
spin_event_loop(time_t deadline)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev;

	/* A zero timeout with nothing ready: the loop never sleeps. */
	while (time(NULL) < deadline)
		for (int i = 0; i < 1000; i++)
			epoll_wait(ep, &ev, 1, 0);
}

int
main(int argc, char **argv)
{
	pthread_t t;
	char path[4096];
	int secs = argc > 2 ? atoi(argv[2]) : 300;

	if (argc < 2) {
		fprintf(stderr, "usage: %s WORKDIR [SECONDS]\n", argv[0]);
		return 2;
	}
	workdir = argv[1];
	snprintf(path, sizeof(path), "%s/src", workdir);
	mkdir(path, 0700);
	pthread_create(&t, NULL, fs_watch, NULL);
	pthread_create(&t, NULL, http_client, NULL);
	pthread_create(&t, NULL, leaker, NULL);
	spin_event_loop(time(NULL) + (secs > 0 ? secs : 300));
	return 0;
}
