/*
 * The stream rule for tools that act on processes: with no --pid and a
 * pipe on stdin, act on the pids of the "process" records read there, and
 * pass every record on unchanged.
 */
#ifndef CD_TARGETS_H
#define CD_TARGETS_H

#include "cli.h"

/*
 * Reads all of stdin when it is not a terminal. Returns the number of
 * malformed lines skipped (each already reported), or -1 under strict on
 * the first one. Records are passed through to pass (rec_stdout() for a
 * filter), or dropped when it is NULL.
 */
struct rec_writer;
long targets_from_stdin(struct pidlist *pl, int strict, struct rec_writer *pass);
/* Records read there: none is no input, some without pids is no target. */
unsigned long targets_records_seen(void);

#endif
