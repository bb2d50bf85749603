/*
 * A CPU-bound target with known proportions: hot_two_thirds() does twice
 * the work of hot_one_third() in every round, so a sampler should find
 * about 2/3 of the samples in one and 1/3 in the other.
 *   hot2to1 [READY_FILE] [SECONDS]   (runs until killed without SECONDS)
 * With HOT2TO1_THREADS=N it also starts N busy threads after one second
 * (threads born mid-capture), named "late-N".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "hotloop.h"
#include "target.h"

__attribute__((noinline)) void
hot_two_thirds(void)
{
	SPIN(2000000);
}

__attribute__((noinline)) void
hot_one_third(void)
{
	SPIN(1000000);
}

__attribute__((noinline)) void
late_worker_loop(void)
{
	for (;;)
		SPIN(1000000);
}

static void *
late_worker(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "late-%ld", (long)(intptr_t)arg);
	pthread_setname_np(pthread_self(), name);
	late_worker_loop();
	return NULL;
}

int
main(int argc, char **argv)
{
	double end = argc > 2 ? mono_s() + atof(argv[2]) : 0, start = mono_s();
	const char *nt = getenv("HOT2TO1_THREADS");
	const char *nr = getenv("HOT2TO1_ROUNDS");
	int late = nt ? atoi(nt) : 0;
	long rounds = nr ? atol(nr) : 0;

	/* Fixed work, timed by itself: the benchmark's throughput figure. */
	if (rounds > 0) {
		for (long i = 0; i < rounds; i++) {
			hot_two_thirds();
			hot_one_third();
		}
		struct timespec cpu;

		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
		/* wall seconds, then CPU seconds: the CPU figure resists a busy machine */
		printf("%.6f %.6f\n", mono_s() - start, cpu.tv_sec + cpu.tv_nsec / 1e9);
		return 0;
	}

	ready_write(argc > 1 ? argv[1] : NULL);
	for (;;) {
		hot_two_thirds();
		hot_one_third();
		if (late > 0 && mono_s() - start > 1.0) {
			for (long i = 0; i < late; i++) {
				pthread_t t;

				pthread_create(&t, NULL, late_worker, (void *)(intptr_t)i);
			}
			late = 0;
		}
		if (end > 0 && mono_s() > end)
			return 0;
	}
}
