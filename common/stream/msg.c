#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "msg.h"

static const char *prog = "claude-diagnose";

void
msg_init(const char *argv0)
{
	const char *s;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	s = strrchr(argv0, '/');
	prog = s ? s + 1 : argv0;
}

const char *
msg_prog(void)
{
	return prog;
}

static void
vmsg(int errnum, const char *fmt, va_list ap)
{
	char buf[4096];
	int n;

	/* One fprintf per message so concurrent stages do not interleave. */
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		buf[0] = '\0';
	if (errnum)
		fprintf(stderr, "%s: %s: %s\n", prog, buf, strerror(errnum));
	else
		fprintf(stderr, "%s: %s\n", prog, buf);
}

void
msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
}

void
msg_warnerr(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vmsg(e, fmt, ap);
	va_end(ap);
}

void
msg_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
	exit(code);
}

void
msg_dieerr(int code, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vmsg(e, fmt, ap);
	va_end(ap);
	exit(code);
}

static void *
oom(void *p)
{
	if (p == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	return p;
}

void *
xmalloc(size_t n)
{
	return oom(malloc(n ? n : 1));
}

void *
xcalloc(size_t n, size_t sz)
{
	return oom(calloc(n ? n : 1, sz ? sz : 1));
}

void *
xrealloc(void *p, size_t n)
{
	return oom(realloc(p, n ? n : 1));
}

void *
xreallocarray(void *p, size_t n, size_t sz)
{
	if (sz && n > (size_t)-1 / sz)
		msg_die(CD_EXIT_FAIL, "out of memory");
	return xrealloc(p, n * sz);
}

char *
xstrdup(const char *s)
{
	return oom(strdup(s));
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		msg_die(CD_EXIT_FAIL, "out of memory");
	return s;
}
