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

static volatile unsigned long sink;

/*
 * Each hot function holds its own loop and then calls publish(): not
 * being a leaf, it keeps a frame pointer, so frame-pointer call chains
 * see its caller (gcc omits the frame in leaf functions).
 */
__attribute__((noinline)) void
publish(unsigned long x)
{
	sink = x;
}

#define SPIN(n) do { \
	unsigned long x_ = sink; \
	for (unsigned long i_ = 0; i_ < (n); i_++) \
		x_ = x_ * 6364136223846793005UL + 1442695040888963407UL; \
	publish(x_); \
} while (0)

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

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	double end = argc > 2 ? now() + atof(argv[2]) : 0, start = now();
	const char *nt = getenv("HOT2TO1_THREADS");
	int late = nt ? atoi(nt) : 0;

	if (argc > 1 && argv[1][0]) {
		FILE *f = fopen(argv[1], "w");

		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	for (;;) {
		hot_two_thirds();
		hot_one_third();
		if (late > 0 && now() - start > 1.0) {
			for (long i = 0; i < late; i++) {
				pthread_t t;

				pthread_create(&t, NULL, late_worker, (void *)(intptr_t)i);
			}
			late = 0;
		}
		if (end > 0 && now() > end)
			return 0;
	}
}
