/*
 * The CPU-bound loop of the targets with known proportions (hot2to1,
 * worksplit). SPIN is a macro, not a function, so that each hot function
 * holds the loop itself and the samples land in it, not in a shared
 * callee. The loop then calls publish(): not being a leaf, the hot
 * function keeps a frame pointer, so frame-pointer call chains see its
 * caller (gcc omits the frame in leaf functions).
 */
#ifndef CD_HOTLOOP_H
#define CD_HOTLOOP_H

static volatile unsigned long sink;

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

#endif
