/* Diagnostics on stderr, prefixed with the program name. */
#ifndef CD_MSG_H
#define CD_MSG_H

#include <stdarg.h>

void msg_init(const char *argv0);
const char *msg_prog(void);
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like msg_warn, with ": strerror(errno)" appended. */
void msg_warnerr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void msg_dieerr(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/*
 * Allocation that cannot fail silently: exits CD_EXIT_FAIL on ENOMEM.
 *
 * Lifetime names, the same in every API of the tree (as in git):
 *   X_init(struct X *)      set up a struct the caller holds (an all-zero
 *                           struct is usually already an empty one);
 *   X_release(struct X *)   free what it owns, not the struct itself;
 *                           set it up again before reusing it;
 *   X_new() / X_open()      allocate and set up; X_free(struct X *) (or
 *                           X_close for what was opened) frees what it
 *                           owns and the struct. X_free(NULL) does nothing.
 */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t sz);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
