/*
 * The folded-stack line: "frame;frame;...;leaf COUNT", root first, as
 * FlameGraph, inferno and speedscope read and write it.
 */
#ifndef CD_FOLDED_H
#define CD_FOLDED_H

#include <stddef.h>
#include <stdint.h>

/*
 * Split one line (no newline) into its stack and count. Trailing
 * whitespace and a CR are ignored; the count is the last blank-separated
 * field and must be a whole number that fits in 64 bits. On success
 * returns 0 with *stack_len the length of the stack text (which starts at
 * line[0]); on failure returns -1 with *why saying what is wrong. A blank
 * line is reported as -1 with *why NULL, so callers can skip it quietly.
 */
int folded_parse(const char *line, size_t len, size_t *stack_len,
    uint64_t *count, const char **why);

/* a + b, saturating at UINT64_MAX; returns 1 when it saturated. */
int folded_add(uint64_t *a, uint64_t b);

#endif
