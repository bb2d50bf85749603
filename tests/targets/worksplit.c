/*
 * A CPU-bound target whose split of work is given: each round,
 * steady_work() spins STEADY units and grown_work() GROWN units, so two
 * runs with different GROWN show one function growing against the other
 * (the differential flame graph tests).
 *   worksplit STEADY GROWN [SECONDS]   (runs until killed without SECONDS)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define UNIT 200000UL

static volatile unsigned long sink;

/* Not leaves (they call publish()), so frame-pointer stacks see their callers. */
__attribute__((noinline)) void
publish(unsigned long x)
{
	sink = x;
}

static void
spin(unsigned long n)
{
	unsigned long x = sink;

	for (unsigned long i = 0; i < n; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	publish(x);
}

__attribute__((noinline)) void
steady_work(unsigned long units)
{
	unsigned long x = sink;

	for (unsigned long i = 0; i < units * UNIT; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	publish(x);
}

__attribute__((noinline)) void
grown_work(unsigned long units)
{
	unsigned long x = sink;

	for (unsigned long i = 0; i < units * UNIT; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	publish(x);
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
	unsigned long steady, grown;
	double end;

	if (argc < 3) {
		fprintf(stderr, "usage: worksplit STEADY GROWN [SECONDS]\n");
		return 2;
	}
	steady = strtoul(argv[1], NULL, 10);
	grown = strtoul(argv[2], NULL, 10);
	end = argc > 3 ? now() + atof(argv[3]) : 0;
	spin(1);
	for (;;) {
		steady_work(steady);
		grown_work(grown);
		if (end > 0 && now() > end)
			return 0;
	}
}
