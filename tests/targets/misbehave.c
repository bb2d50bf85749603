/*
 * One misbehaviour at a time, for the driver's tests:
 *   misbehave spin                 epoll_wait with a zero timeout, forever
 *   misbehave fd-leak N            open N fds, then idle
 *   misbehave watch DIR N          N inotify watches on N new dirs in DIR
 *   misbehave enoent DIR           stat missing files in DIR, ~10,000/s
 *   misbehave refused PORT         connect to 127.0.0.1:PORT every 10 ms
 *   misbehave sleepers N           N threads sleeping a second at a time
 *                                  (a tracer attaching interrupts each
 *                                  sleep: it resumes as restart_syscall)
 *   misbehave talk                 a loopback connection made at start, then
 *                                  a byte each way on it every 10 ms
 *   misbehave idle                 sleep
 * With READY_FILE set, writes its pid there once the misbehaviour is set up.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
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

#include "target.h"

/* A connection opened before any tracer looks: only sock_diag names it. */
static void
talk(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c, s;
	char b = 'x';

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&a, &alen) != 0)
		exit(1);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    (s = accept(l, NULL, NULL)) < 0)
		exit(1);
	ready_write(getenv("READY_FILE"));
	for (;;) {
		if (send(c, &b, 1, 0) != 1 || recv(s, &b, 1, 0) != 1)
			exit(1);
		msleep(10);
	}
}

static void *
sleeper(void *arg)
{
	(void)arg;
	for (;;)
		msleep(1000);
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "idle";

	if (strcmp(mode, "sleepers") == 0 && argc > 2) {
		for (int i = 0; i < atoi(argv[2]); i++) {
			pthread_t t;

			if (pthread_create(&t, NULL, sleeper, NULL) != 0)
				return 1;
		}
		ready_write(getenv("READY_FILE"));
		sleeper(NULL);
	}

	if (strcmp(mode, "talk") == 0)
		talk();

	if (strcmp(mode, "spin") == 0) {
		int ep = epoll_create1(0);
		struct epoll_event ev;

		ready_write(getenv("READY_FILE"));
		for (;;)
			epoll_wait(ep, &ev, 1, 0);
	}
	if (strcmp(mode, "fd-leak") == 0 && argc > 2) {
		for (int i = 0; i < atoi(argv[2]); i++)
			if (open("/dev/null", O_RDONLY) < 0)
				break;
	} else if (strcmp(mode, "watch") == 0 && argc > 3) {
		int in = inotify_init1(0);
		char path[4096];

		for (int i = 0; i < atoi(argv[3]); i++) {
			snprintf(path, sizeof(path), "%s/w%d", argv[2], i);
			mkdir(path, 0700);
			inotify_add_watch(in, path, IN_MODIFY);
		}
	} else if (strcmp(mode, "enoent") == 0 && argc > 2) {
		char path[4096];
		struct stat sb;

		ready_write(getenv("READY_FILE"));
		for (unsigned n = 0;; n++) {
			snprintf(path, sizeof(path), "%s/missing-%u", argv[2], n % 50);
			stat(path, &sb);
			if (n % 100 == 0)
				msleep(10);
		}
	} else if (strcmp(mode, "refused") == 0 && argc > 2) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons((unsigned short)atoi(argv[2]));
		ready_write(getenv("READY_FILE"));
		for (;;) {
			int s = socket(AF_INET, SOCK_STREAM, 0);

			connect(s, (struct sockaddr *)&sin, sizeof(sin));
			close(s);
			msleep(10);
		}
	}
	ready_write(getenv("READY_FILE"));
	for (;;)
		pause();
}
