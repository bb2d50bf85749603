/*
 * A reader of the perf jitdump format (linux tools/perf/Documentation/
 * jitdump-specification.txt), the file JavaScriptCore writes under
 * BUN_JSC_useJITDump=1 (Bun, and so the native Claude Code) and V8 under
 * --perf-prof. Used by the symbolizer (symbols.h) to name JIT frames.
 *
 * The file is a header, then records: JIT_CODE_LOAD (a named code range),
 * JIT_CODE_MOVE, JIT_CODE_DEBUG_INFO, JIT_CODE_UNWINDING_INFO and
 * JIT_CODE_CLOSE. Loads and moves are kept; debug and unwinding info are
 * skipped (JSC writes none; V8's line tables are not needed for names).
 *
 * The file grows while the process runs: jd_update() reads what was added
 * since the last call; a record cut short at the end is left for the next
 * call, not an error. Malformed input (bad magic, a record whose size is
 * impossible) stops the reader: jd_error() says what and where, and what
 * was read before stays usable.
 *
 * JIT memory is reused: the same address may hold several functions over
 * time. jd_lookup() resolves an address at a time: the load covering it
 * with the latest timestamp not after that time.
 */
#ifndef CD_JITDUMP_H
#define CD_JITDUMP_H

#include <stddef.h>
#include <stdint.h>

struct jitdump;

struct jd_load {
	uint64_t addr, size;	/* the code range */
	uint64_t ts;		/* when it was loaded (clock: see jd_arch_clock) */
	uint32_t tid;
	const char *name;	/* as written, e.g. "JSC-DFG: get#CBkFLb" */
};

/* A reader of the dump open on fd (the reader owns fd and closes it). */
struct jitdump *jd_open_fd(int fd);

/* A reader of a dump in memory (len bytes at buf, not copied). */
struct jitdump *jd_open_mem(const void *buf, size_t len);

/*
 * Read what the file holds beyond what was read. Returns the number of
 * new loads (0: nothing new), or -1 when the input is malformed (and on
 * every call after that).
 */
long jd_update(struct jitdump *j);

/*
 * The load covering addr at time ts (UINT64_MAX: the latest), or NULL.
 * The pointer stays valid until the next jd_update() or jd_close().
 */
const struct jd_load *jd_lookup(const struct jitdump *j, uint64_t addr, uint64_t ts);

/* The same as an index for jd_get() (stable for the reader's life), or -1. */
long jd_find(const struct jitdump *j, uint64_t addr, uint64_t ts);

size_t jd_count(const struct jitdump *j);
const struct jd_load *jd_get(const struct jitdump *j, size_t i);

/* The process id the header names. */
uint32_t jd_pid(const struct jitdump *j);

/*
 * Nonzero when the timestamps come from the CPU's counter (the header's
 * JITDUMP_FLAGS_ARCH_TIMESTAMP), not CLOCK_MONOTONIC: they cannot be
 * compared with a sample's time, so look up with UINT64_MAX.
 */
int jd_arch_clock(const struct jitdump *j);

/* Why reading stopped, or NULL. */
const char *jd_error(const struct jitdump *j);

/* The time of the newest load read so far (0: none). */
uint64_t jd_last_ts(const struct jitdump *j);

/* Bytes of the file read so far. */
uint64_t jd_offset(const struct jitdump *j);

void jd_close(struct jitdump *j);

/*
 * The frame name for a load's name, into buf: JavaScriptCore's tier prefix
 * ("JSC-Baseline: ", "JSC-DFG: ", "JSC-FTL: ") is dropped so one function
 * is one frame whichever tier ran it; the "#hash" JSC appends stays, since
 * minified names collide ("get#CBkFLb" and "get#EP8poP" are two
 * functions). Other names (JSC's thunks, V8's) are kept as written.
 * Returns 1 when the name is a JavaScript function's, else 0.
 */
int jd_frame_name(const char *name, char *buf, size_t len);

#endif
