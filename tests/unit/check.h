/* A minimal assertion kit for the unit tests: count, report, exit status. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed, check_run;

#define CHECK(cond) do { check_run++; if (!(cond)) { check_failed++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); check_run++; \
	if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) { check_failed++; \
	fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
	a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)
#define CHECK_DONE() (fprintf(stderr, "%s: %d checks, %d failed\n", \
	__FILE__, check_run, check_failed), check_failed ? 1 : 0)

#endif
