/*
 * A stand-in for a Claude Code process. The tests copy it under names the
 * matcher knows (claude, .../versions/X) or not, and pick a behaviour:
 *   idle           sleep until killed
 *   spin           burn one CPU until killed
 *   exit-after MS  sleep MS milliseconds, then exit
 * Extra arguments are ignored (tests pass secrets and prompts in them).
 * With READY_FILE set, writes its pid there once running.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
ready(void)
{
	const char *f = getenv("READY_FILE");
	FILE *fp;

	if (f == NULL || (fp = fopen(f, "w")) == NULL)
		return;
	fprintf(fp, "%d\n", (int)getpid());
	fclose(fp);
}

static volatile unsigned long sink;

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "idle";

	ready();
	if (strcmp(mode, "spin") == 0) {
		for (;;)
			sink++;
	}
	if (strcmp(mode, "exit-after") == 0 && argc > 2) {
		usleep((useconds_t)atoi(argv[2]) * 1000);
		return 0;
	}
	for (;;)
		pause();
}
