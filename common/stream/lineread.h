/*
 * Line reader over a file descriptor with a hard cap on line length, so a
 * 1 GB line of garbage costs a bounded buffer, not all of memory.
 */
#ifndef CD_LINEREAD_H
#define CD_LINEREAD_H

#include <stddef.h>

enum lr_status {
	LR_LINE,      /* a complete line (newline stripped) */
	LR_PARTIAL,   /* last line of the input had no newline */
	LR_TOOLONG,   /* a line over the cap; skipped through its newline */
	LR_EOF,
	LR_ERROR,     /* read(2) failed; errno set */
};

struct lineread;

struct lineread *lr_open(int fd, size_t maxline);
void lr_close(struct lineread *lr);
/* Line valid until the next call; NUL-terminated, may contain NULs. */
enum lr_status lr_next(struct lineread *lr, char **line, size_t *len);
unsigned long lr_lineno(const struct lineread *lr);
void lr_setmax(struct lineread *lr, size_t maxline);

#endif
