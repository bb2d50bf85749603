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

#include "hotloop.h"
#include "target.h"

#define UNIT 200000UL

__attribute__((noinline)) void
steady_work(unsigned long units)
{
	SPIN(units * UNIT);
}

__attribute__((noinline)) void
grown_work(unsigned long units)
{
	SPIN(units * UNIT);
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
	end = argc > 3 ? mono_s() + atof(argv[3]) : 0;
	for (;;) {
		steady_work(steady);
		grown_work(grown);
		if (end > 0 && mono_s() > end)
			return 0;
	}
}
