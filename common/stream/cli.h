/* Command-line conventions shared by every tool. */
#ifndef CD_CLI_H
#define CD_CLI_H

#include <stddef.h>

/* Long options every tool takes; values above any short option. */
enum {
	CLI_OPT_HELP = 0x1000,
	CLI_OPT_VERSION,
	CLI_OPT_NO_COLOR,
	CLI_OPT_STRICT,
	CLI_OPT_FIRST_TOOL,	/* tools number their own long-only options from here */
};

#define CLI_COMMON_LONGOPTS \
	{ "help", no_argument, NULL, CLI_OPT_HELP }, \
	{ "version", no_argument, NULL, CLI_OPT_VERSION }, \
	{ "no-color", no_argument, NULL, CLI_OPT_NO_COLOR }, \
	{ "no-colour", no_argument, NULL, CLI_OPT_NO_COLOR }, \
	{ "strict", no_argument, NULL, CLI_OPT_STRICT }

/* Print usage text to stdout and exit 0. */
void cli_help(const char *text) __attribute__((noreturn));
/* "prog (claude-diagnose) 0.1.0" and exit 0. */
void cli_version(void) __attribute__((noreturn));
/* Message, a hint to --help, exit CD_EXIT_USAGE. */
void cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Flush stdout; a write error (a full disk, a closed pipe with SIGPIPE
 * ignored) is said and exits CD_EXIT_FAIL, since output was lost.
 */
void cli_flush_stdout(void);

/*
 * The end of every tool's option switch: --help, --version, and anything
 * else unknown (exit 2). Never returns.
 */
void cli_other(int c, const char *usage) __attribute__((noreturn));

/*
 * One of a fixed set of words, for options such as --method or --sort:
 * the index i with names[i] equal to s (NULL entries are not accepted), else
 * a usage error listing them: "WHAT: 's' is not a, b or c".
 */
int cli_choice(const char *s, const char *what, const char *const *names, size_t n);

/* Strict number parsing: the whole string, within [min, max], else usage error. */
long cli_long(const char *s, long min, long max, const char *what);
double cli_double(const char *s, double min, double max, const char *what);
int cli_pid(const char *s);

struct pidlist {
	int *v;
	size_t n, cap;
};
void pidlist_add(struct pidlist *pl, int pid);	/* ignores duplicates */
int pidlist_has(const struct pidlist *pl, int pid);
void pidlist_release(struct pidlist *pl);

#endif
