#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "cli.h"
#include "exitcode.h"
#include "msg.h"

void
cli_flush_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		msg_dieerr(CD_EXIT_FAIL, "cannot write the output");
}

void
cli_help(const char *text)
{
	fputs(text, stdout);
	cli_flush_stdout();
	exit(CD_EXIT_OK);
}

void
cli_version(void)
{
	printf("%s (claude-diagnose) %s\n", msg_prog(), CD_VERSION);
	cli_flush_stdout();
	exit(CD_EXIT_OK);
}

void
cli_usage(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n",
	    msg_prog(), buf, msg_prog());
	exit(CD_EXIT_USAGE);
}

void
cli_other(int c, const char *usage)
{
	if (c == CLI_OPT_HELP)
		cli_help(usage);
	if (c == CLI_OPT_VERSION)
		cli_version();
	cli_usage("unknown option");
}

int
cli_choice(const char *s, const char *what, const char *const *names, size_t n)
{
	char list[256];
	size_t off = 0, left = 0;

	for (size_t i = 0; i < n; i++) {
		if (names[i] != NULL && strcmp(s, names[i]) == 0)
			return (int)i;
		left += names[i] != NULL;
	}
	list[0] = '\0';
	for (size_t i = 0; i < n && off < sizeof(list); i++) {
		if (names[i] == NULL)
			continue;
		left--;
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", names[i],
		    left > 1 ? ", " : left == 1 ? " or " : "");
	}
	cli_usage("%s: '%s' is not %s", what, s, list);
}

long
cli_long(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno == ERANGE)
		cli_usage("%s: '%s' is not a whole number", what, s);
	if (v < min || v > max)
		cli_usage("%s: %ld is out of range (%ld to %ld)", what, v, min, max);
	return v;
}

double
cli_double(const char *s, double min, double max, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (s[0] == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v))
		cli_usage("%s: '%s' is not a number", what, s);
	if (v < min || v > max)
		cli_usage("%s: %g is out of range (%g to %g)", what, v, min, max);
	return v;
}

int
cli_pid(const char *s)
{
	return (int)cli_long(s, 1, 0x3fffffff, "--pid");
}

void
pidlist_add(struct pidlist *pl, int pid)
{
	if (pidlist_has(pl, pid))
		return;
	if (pl->n == pl->cap) {
		pl->cap = pl->cap ? pl->cap * 2 : 8;
		pl->v = xreallocarray(pl->v, pl->cap, sizeof(*pl->v));
	}
	pl->v[pl->n++] = pid;
}

int
pidlist_has(const struct pidlist *pl, int pid)
{
	for (size_t i = 0; i < pl->n; i++)
		if (pl->v[i] == pid)
			return 1;
	return 0;
}

void
pidlist_release(struct pidlist *pl)
{
	free(pl->v);
	pl->v = NULL;
	pl->n = pl->cap = 0;
}
