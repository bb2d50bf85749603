/*
 * A stand-in for a Claude Code process. The tests copy it under names the
 * matcher knows (claude, .../versions/X) or not, and pick a behaviour:
 *   idle           sleep until killed
 *   spin           burn one CPU until killed
 *   exit-after MS  sleep MS milliseconds, then exit
 *   children N     fork N children (as MCP servers would be), then idle
 *   ignore-term    idle, ignoring SIGTERM (only SIGKILL ends it)
 *   spin-threads N N threads burning CPU, all with the process's name
 *   blip           burn 30 ms of CPU a second, sleep the rest
 *   sleepers N     N threads sleeping 200 ms at a time, as an idle
 *                  runtime's timers do
 *   warm MS        burn 20 ms of CPU every 100 ms (in warm_up) for MS
 *                  milliseconds, then spin: busy, then over a threshold
 *   busy-child     run a shell loop that burns a CPU, wrapped as Claude
 *                  Code's Bash tool wraps a command, and idle
 * Extra arguments are ignored (tests pass secrets and prompts in them).
 * With READY_FILE set, writes its pid there once running.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "target.h"

static volatile unsigned long sink;

static void *
spinner(void *arg)
{
	(void)arg;
	for (;;)
		sink++;
	return NULL;
}

static void
blip(void)
{
	struct timespec ts = { 0, 970 * 1000 * 1000 }, t0, t;

	for (;;) {
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
		do {
			sink++;
			clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
		} while ((t.tv_sec - t0.tv_sec) * 1000000000L +
		    (t.tv_nsec - t0.tv_nsec) < 30 * 1000 * 1000);
		nanosleep(&ts, NULL);
	}
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);	/* vDSO: stays in user space */
	return (t.tv_sec - t0->tv_sec) * 1000L +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Kept out of main so a flame graph names it; the burn checks the time
 * only now and then, so the samples land here, not in the kernel.
 */
static __attribute__((noinline)) void
warm_up(long ms)
{
	struct timespec nap = { 0, 80 * 1000 * 1000 }, start, burst;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (ms_since(&start) < ms) {
		clock_gettime(CLOCK_MONOTONIC, &burst);
		while (ms_since(&burst) < 20)
			for (int i = 0; i < 100000; i++)
				sink++;
		nanosleep(&nap, NULL);
	}
}

static void *
sleeper(void *arg)
{
	struct timespec ts = { 0, 200 * 1000 * 1000 };

	(void)arg;
	for (;;)
		nanosleep(&ts, NULL);
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "idle";

	if (strcmp(mode, "children") != 0)
		ready_write(getenv("READY_FILE"));
	if (strcmp(mode, "spin") == 0) {
		for (;;)
			sink++;
	}
	if (strcmp(mode, "children") == 0 && argc > 2) {
		for (int i = 0; i < atoi(argv[2]); i++)
			if (fork() == 0) {
				/* Die with the parent: no strays after a test. */
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				for (;;)
					pause();
			}
		ready_write(getenv("READY_FILE"));
	}
	if (strcmp(mode, "blip") == 0)
		blip();
	if (strcmp(mode, "warm") == 0 && argc > 2) {
		warm_up(atol(argv[2]));
		for (;;)
			sink++;
	}
	if (strcmp(mode, "spin-threads") == 0 && argc > 2) {
		for (int i = 0; i < atoi(argv[2]); i++) {
			pthread_t t;

			pthread_create(&t, NULL, spinner, NULL);
		}
	}
	if (strcmp(mode, "sleepers") == 0 && argc > 2) {
		for (int i = 0; i < atoi(argv[2]); i++) {
			pthread_t t;

			pthread_create(&t, NULL, sleeper, NULL);
		}
	}
	if (strcmp(mode, "ignore-term") == 0)
		signal(SIGTERM, SIG_IGN);
	if (strcmp(mode, "busy-child") == 0) {
		pid_t pid = fork();

		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			execl("/bin/bash", "bash", "-c", "source "
			    "/nonexistent/shell-snapshots/snapshot-bash-1.sh "
			    "2>/dev/null || true && eval 'while :; do :; done' "
			    "< /dev/null && pwd -P >| /dev/null", (char *)NULL);
			_exit(127);
		}
	}
	if (strcmp(mode, "exit-after") == 0 && argc > 2) {
		usleep((useconds_t)atoi(argv[2]) * 1000);
		return 0;
	}
	for (;;)
		pause();
}
