#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lineread.h"
#include "msg.h"

#define LR_CHUNK (256 * 1024)

struct lineread {
	int fd;
	size_t maxline;
	char *buf;
	size_t cap, start, end;
	int eof;
	unsigned long lineno;
};

struct lineread *
lr_open(int fd, size_t maxline)
{
	struct lineread *lr = xcalloc(1, sizeof(*lr));

	lr->fd = fd;
	lr->maxline = maxline ? maxline : 64u << 20;
	lr->cap = LR_CHUNK;
	lr->buf = xmalloc(lr->cap + 1);
	return lr;
}

void
lr_close(struct lineread *lr)
{
	if (lr == NULL)
		return;
	free(lr->buf);
	free(lr);
}

void
lr_setmax(struct lineread *lr, size_t maxline)
{
	lr->maxline = maxline ? maxline : 64u << 20;
}

unsigned long
lr_lineno(const struct lineread *lr)
{
	return lr->lineno;
}

/* Read more bytes after lr->end, growing the buffer up to maxline. */
static int
fill(struct lineread *lr)
{
	ssize_t n;

	if (lr->start > 0 && (lr->end == lr->cap || lr->start > lr->cap / 2)) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	if (lr->end == lr->cap) {
		size_t ncap = lr->cap * 2;

		if (ncap > lr->maxline + LR_CHUNK)
			ncap = lr->maxline + LR_CHUNK;
		if (ncap <= lr->cap)
			return 1;	/* full: caller handles too-long */
		lr->buf = xrealloc(lr->buf, ncap + 1);
		lr->cap = ncap;
	}
	do
		n = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		lr->eof = 1;
	lr->end += (size_t)n;
	return 0;
}

/* Discard input through the next newline. */
static enum lr_status
skip_long(struct lineread *lr)
{
	for (;;) {
		char *nl = memchr(lr->buf + lr->start, '\n', lr->end - lr->start);

		if (nl) {
			lr->start = (size_t)(nl - lr->buf) + 1;
			return LR_TOOLONG;
		}
		lr->start = lr->end = 0;
		if (lr->eof)
			return LR_TOOLONG;
		if (fill(lr) < 0)
			return LR_ERROR;
	}
}

enum lr_status
lr_next(struct lineread *lr, char **line, size_t *len)
{
	size_t scanned = 0;

	for (;;) {
		char *p = lr->buf + lr->start + scanned;
		char *nl = memchr(p, '\n', lr->end - lr->start - scanned);
		int r;

		if (nl) {
			*nl = '\0';
			*line = lr->buf + lr->start;
			*len = (size_t)(nl - *line);
			lr->start = (size_t)(nl - lr->buf) + 1;
			lr->lineno++;
			if (*len > lr->maxline)
				return LR_TOOLONG;
			return LR_LINE;
		}
		scanned = lr->end - lr->start;
		if (lr->eof) {
			if (scanned == 0)
				return LR_EOF;
			lr->buf[lr->end] = '\0';
			*line = lr->buf + lr->start;
			*len = scanned;
			lr->start = lr->end;
			lr->lineno++;
			return scanned > lr->maxline ? LR_TOOLONG : LR_PARTIAL;
		}
		if (scanned > lr->maxline) {
			lr->lineno++;
			return skip_long(lr);
		}
		r = fill(lr);
		if (r < 0)
			return LR_ERROR;
		if (r > 0) {
			lr->lineno++;
			return skip_long(lr);
		}
	}
}
