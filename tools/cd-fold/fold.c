/* The folding run: state, the line loop, format detection, output. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "fold.h"
#include "folded.h"
#include "intern.h"
#include "msg.h"

#define PEEK_BYTES (64 * 1024)
#define MAX_LINE (16u << 20)

void
fold_init(struct fold *f, const struct fold_opts *o, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->o = *o;
	f->fmt = o->fmt;
	f->name = name ? name : "stdin";
	f->frames = intern_new();
	f->stacks = stacktab_new();
	if (o->labels)
		f->labels = intern_new();
	if (o->out == OUT_PPROF)
		f->stacks2 = stacktab_new();
	if (o->event_filter)
		f->perf.event = xstrdup(o->event_filter);
}

void
fold_release(struct fold *f)
{
	intern_free(f->frames);
	stacktab_free(f->stacks);
	intern_free(f->labels);
	stacktab_free(f->stacks2);
	free(f->v);
	free(f->scratch);
	perf_release(f);
	cpuprofile_release(f);
	free(f->sample.st);
	for (size_t i = 0; i < f->rec.ntypes; i++)
		free(f->rec.types[i].type);
	free(f->rec.types);
}

const char *
fold_fmt_name(enum fold_fmt fmt)
{
	static const char *names[] = { "auto", "records", "perf", "sample",
	    "dtrace", "folded", "cpuprofile" };

	return names[fmt];
}

const char *
fold_unit(const struct fold *f)
{
	if (f->rec.all_samples > 0 || f->rec.all_syscalls == 0)
		return "samples";
	return f->o.weight == WEIGHT_DURATION ? "ns" : "calls";
}

/* Count malformed input, stop under --strict, say where (line or whole input). */
static void
vbad(struct fold *f, int at_line, const char *fmt, va_list ap)
{
	char buf[512];

	f->bad++;
	if (f->o.strict)
		f->stop = 1;
	if (f->o.quiet)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (at_line)
		msg_warn("%s:%lu: %s", f->name, f->lineno, buf);
	else
		msg_warn("%s: %s", f->name, buf);
}

void
fold_bad(struct fold *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vbad(f, 1, fmt, ap);
	va_end(ap);
}

void
fold_bad_input(struct fold *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vbad(f, 0, fmt, ap);
	va_end(ap);
}

char *
fold_scratch(struct fold *f, size_t need)
{
	if (need > f->scratch_cap) {
		f->scratch_cap = need < 256 ? 256 : need * 2;
		f->scratch = xrealloc(f->scratch, f->scratch_cap);
	}
	return f->scratch;
}

void
fold_push_id(struct fold *f, uint32_t id)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 128;
		f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
	}
	f->v[f->n++] = id;
}

void
fold_push(struct fold *f, const char *s, size_t len)
{
	fold_push_id(f, intern_id(f->frames, s, len));
}

void
fold_commit(struct fold *f, uint64_t count)
{
	if (stacktab_add_label(f->stacks, f->v, f->n, f->label, count) &&
	    !f->overflowed) {
		f->overflowed = 1;
		if (!f->o.quiet)
			msg_warn("%s: a count passed 2^64-1 and was capped", f->name);
	}
	f->n = 0;
}

void
fold_line(struct fold *f, const char *line, size_t len)
{
	if (f->stop)
		return;
	f->lineno++;
	/* Text formats: a NUL would go into a frame name and the output. */
	if (f->fmt != FMT_AUTO && f->fmt != FMT_RECORDS &&
	    memchr(line, '\0', len) != NULL) {
		fold_bad(f, "NUL byte in the line; skipped");
		return;
	}
	switch (f->fmt) {
	case FMT_PERF:
		perf_line(f, line, len);
		break;
	case FMT_SAMPLE:
		sample_line(f, line, len);
		break;
	case FMT_DTRACE:
		dtrace_line(f, line, len);
		break;
	case FMT_FOLDED:
		folded_line(f, line, len);
		break;
	case FMT_CPUPROFILE:
		cpuprofile_line(f, line, len);
		break;
	case FMT_AUTO:
	case FMT_RECORDS:
		records_line(f, line, len);
		break;
	}
}

void
fold_end(struct fold *f)
{
	if (f->stop)
		return;
	switch (f->fmt) {
	case FMT_PERF:
		perf_end(f);
		break;
	case FMT_SAMPLE:
		sample_end(f);
		break;
	case FMT_DTRACE:
		dtrace_end(f);
		break;
	case FMT_AUTO:
	case FMT_RECORDS:
		records_end(f);
		break;
	case FMT_CPUPROFILE:
		cpuprofile_end(f);
		break;
	case FMT_FOLDED:
		break;
	}
}

void
fold_buffer(struct fold *f, const char *buf, size_t len)
{
	size_t i = 0;

	if (f->fmt == FMT_AUTO)
		f->fmt = fold_detect(buf, len);
	if (f->fmt == FMT_AUTO)
		f->fmt = FMT_FOLDED;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;

		fold_line(f, buf + i, n);
		i += n + 1;
	}
	fold_end(f);
}

/* ---- detection ---- */

struct cursor {
	const char *p, *end;
};

/* Next line of the peeked prefix; a partial last line counts. */
static int
next_line(struct cursor *c, const char **s, size_t *n)
{
	const char *nl;

	if (c->p >= c->end)
		return 0;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	*s = c->p;
	*n = nl ? (size_t)(nl - c->p) : (size_t)(c->end - c->p);
	c->p += *n + (nl != NULL);
	if (*n > 0 && (*s)[*n - 1] == '\r')
		(*n)--;
	return 1;
}

static int
is_blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static int
starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(s, prefix, k) == 0;
}

/* "    ffffffff8103ce3b native_safe_halt ([kernel.kallsyms])" */
static int
perf_frame_like(const char *s, size_t n)
{
	size_t i = 0, h;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == 0)
		return 0;
	h = i;
	while (i < n && strchr("0123456789abcdefABCDEF", s[i]) && s[i])
		i++;
	return i > h && i < n && s[i] == ' ' && n > 0 && s[n - 1] == ')';
}

/* "              genunix`kmem_cpu_reload+0x20" or an indented count */
static int
dtrace_like(const char *s, size_t n, int *count_line)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == 0 || i == n)
		return 0;
	*count_line = 1;
	for (size_t j = i; j < n; j++)
		if (s[j] < '0' || s[j] > '9')
			*count_line = 0;
	return *count_line || memchr(s + i, '`', n - i) != NULL ||
	    memchr(s + i, '+', n - i) != NULL;
}

enum fold_fmt
fold_detect(const char *buf, size_t len)
{
	struct cursor c = { buf, buf + len };
	const char *s, *prev = NULL;
	size_t n, prevn = 0;
	int lines = 0, dtrace_frames = 0, dtrace_counts = 0;

	/* before the line checks: a pretty-printed profile starts "{" alone */
	if (cpuprofile_like(buf, len))
		return FMT_CPUPROFILE;
	while (next_line(&c, &s, &n)) {
		int cl = 0;

		lines++;
		if (lines == 1 && starts(s, n, "Analysis of sampling"))
			return FMT_SAMPLE;
		if (starts(s, n, "Call graph:"))
			return FMT_SAMPLE;
		if (lines == 1 && starts(s, n, "CPU") && n > 3 &&
		    memmem(s, n, "FUNCTION", 8) != NULL)
			return FMT_DTRACE;
		if (is_blank_line(s, n))
			continue;
		if (s[0] == '#') {
			if (starts(s, n, "# ========") || starts(s, n, "# captured on") ||
			    starts(s, n, "# cmdline"))
				return FMT_PERF;
			continue;
		}
		if (prev == NULL && s[0] == '{')
			return FMT_RECORDS;
		if (prev != NULL && prev[0] != ' ' && prev[0] != '\t' &&
		    perf_frame_like(s, n))
			return FMT_PERF;
		if (dtrace_like(s, n, &cl)) {
			dtrace_frames += !cl;
			dtrace_counts += cl;
			if (dtrace_frames > 0 && dtrace_counts > 0)
				return FMT_DTRACE;
		}
		if (prev == NULL && s[0] != ' ' && s[0] != '\t') {
			size_t sl;
			uint64_t cnt;
			const char *why;
			const char *nl = memchr(s, '\n', (size_t)(c.end - s));

			/* A folded file is folded from its first line. */
			if (folded_parse(s, n, &sl, &cnt, &why) == 0 &&
			    (nl == NULL || nl + 1 >= c.end || nl[1] != ' '))
				return FMT_FOLDED;
		}
		prev = s;
		prevn = n;
	}
	(void)prevn;
	return FMT_AUTO;
}

/* ---- reading a file descriptor ---- */

static int
read_more(int fd, char **buf, size_t *cap, size_t *end, int *eof)
{
	ssize_t r;

	if (*end == *cap) {
		*cap *= 2;
		*buf = xrealloc(*buf, *cap);
	}
	do
		r = read(fd, *buf + *end, *cap - *end);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (r == 0)
		*eof = 1;
	*end += (size_t)r;
	return 0;
}

int
fold_fd(struct fold *f, int fd)
{
	size_t cap = 256 * 1024, start = 0, end = 0, scanned = 0;
	char *buf = xmalloc(cap);
	int eof = 0, skipping = 0;

	while (!eof && end < PEEK_BYTES)
		if (read_more(fd, &buf, &cap, &end, &eof) < 0)
			goto fail;
	if (f->fmt == FMT_AUTO) {
		f->fmt = fold_detect(buf, end);
		if (f->fmt == FMT_AUTO) {
			if (end > 0) {
				free(buf);
				msg_die(CD_EXIT_USAGE, "%s: cannot tell the input format; name it with --from",
				    f->name);
			}
			f->fmt = FMT_RECORDS;
		}
	}
	if (f->fmt == FMT_CPUPROFILE) {
		/* one document, often a single line longer than MAX_LINE */
		while (!eof && end <= CPUPROF_MAX_BYTES)
			if (read_more(fd, &buf, &cap, &end, &eof) < 0)
				goto fail;
		/* lines for -v, as the line formats count them */
		for (const char *p = buf; p < buf + end; p++) {
			const char *nl = memchr(p, '\n', (size_t)(buf + end - p));

			f->lineno++;
			if (nl == NULL)
				break;
			p = nl;
		}
		cpuprofile_fold(f, buf, end);
		free(buf);
		return 0;
	}
	for (;;) {
		char *nl = memchr(buf + start + scanned, '\n', end - start - scanned);

		if (f->stop)
			break;
		if (nl != NULL) {
			size_t n = (size_t)(nl - (buf + start));

			if (skipping) {
				skipping = 0;
				f->lineno++;
			} else if (n > MAX_LINE) {
				f->lineno++;
				fold_bad(f, "line longer than %u bytes; skipped", MAX_LINE);
			} else {
				fold_line(f, buf + start, n);
			}
			start += n + 1;
			scanned = 0;
			continue;
		}
		scanned = end - start;
		if (scanned > MAX_LINE) {
			/* Drop the head of an over-long line, keep its line count. */
			if (!skipping) {
				f->lineno++;
				fold_bad(f, "line longer than %u bytes; skipped", MAX_LINE);
				f->lineno--;
			}
			skipping = 1;
			start = end;
			scanned = 0;
		}
		if (eof)
			break;
		if (start > 0) {
			memmove(buf, buf + start, end - start);
			end -= start;
			start = 0;
		}
		if (read_more(fd, &buf, &cap, &end, &eof) < 0)
			goto fail;
	}
	if (!f->stop && start < end && !skipping)
		fold_line(f, buf + start, end - start);
	free(buf);
	fold_end(f);
	return 0;
fail:
	msg_warnerr("%s: read error", f->name);
	free(buf);
	return -1;
}

int
fold_write(struct fold *f, FILE *out)
{
	return stacktab_write(f->stacks, f->frames, out);
}
