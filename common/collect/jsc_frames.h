/*
 * Names of JavaScriptCore's JavaScript frames read from a running process
 * without its help: no jitdump, no restart. The method py-spy and rbspy use
 * for Python and Ruby, applied to JSC (Bun, so the native Claude Code).
 *
 * Every JavaScript function JSC runs (interpreted by the LLInt or compiled
 * by the Baseline, DFG or FTL JIT) has a CallFrame on the machine stack,
 * linked by the frame pointer, whose header is fixed by JSC's calling
 * convention on 64-bit targets (CallFrameSlot):
 *
 *   fp+0  caller's fp     fp+8  return pc     fp+16 CodeBlock*
 *   fp+24 callee          fp+32 argument count (with this)
 *
 * The function's name is three pointers away in the heap:
 *   CodeBlock -> FunctionExecutable (its owner) -> UnlinkedFunctionExecutable
 *   -> the name, a WTF::StringImpl (refcount, length, characters pointer,
 *   hash and flags; 8-bit when flag 1<<2, an atom 1<<4 or symbol 1<<5).
 * The three offsets and the JSType bytes of the three cells (byte 5 of a
 * JSCell header) vary between JSC builds: a struct jsc_layout holds them
 * for one build, found by jsc_learn() from frames a jitdump names.
 *
 * Nothing is written to the target and it is never stopped: memory comes
 * through a read callback (procmem_read: process_vm_readv). A read that
 * fails, a pointer that is not where a cell can be, a type byte that does
 * not match, a length or character that no identifier has: the frame is
 * left unnamed. Frames are tied to the call chain the kernel took at the
 * sample (each header's return pc must equal the next address of that
 * chain), so a stack that moved on since is not read as the sample's.
 */
#ifndef CD_JSC_FRAMES_H
#define CD_JSC_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "js_util.h"

/* Where a function's name is in one JSC build. */
struct jsc_layout {
	char build_id[65];		/* hex GNU build-id of the binary */
	uint16_t cb_owner;		/* CodeBlock: its FunctionExecutable */
	uint16_t exec_unlinked;		/* FunctionExecutable: its unlinked one */
	uint16_t unlinked_name;		/* UnlinkedFunctionExecutable: name */
	uint16_t callee_exec;		/* JSFunction: its executable (0: unknown) */
	uint8_t type_cb, type_exec, type_unlinked;	/* JSType bytes */
	const char *note;		/* where the entry came from */
};

#define JSC_OFF_MAX 256		/* offsets searched and accepted: [0, this) */

/*
 * The layout of build_id: first the per-user cache file (when path is not
 * NULL), then the table compiled in. Returns 0 and fills *l, or -1.
 */
int jsc_layout_find(const char *build_id, const char *cache_path, struct jsc_layout *l);

/*
 * "BUILD-ID owner=64 unlinked=88 name=80 callee=24 types=18,12,13" (no
 * newline).
 */
void jsc_layout_format(const struct jsc_layout *l, char *buf, size_t len);

/* The reverse; # starts a comment. Returns 0, or -1 when malformed. */
int jsc_layout_parse(const char *line, struct jsc_layout *l);

/*
 * Add or replace l in the cache file at path (created 0600, directories
 * 0700, written through a private temporary file and rename). 0 or -1.
 */
int jsc_layout_save(const char *path, const struct jsc_layout *l);

/* ~/.cache/claude-diagnose/jsc-layouts (XDG_CACHE_HOME honoured), malloc'd. */
char *jsc_layout_cache_path(void);

/*
 * Is the ELF file at path a JavaScriptCore binary (Bun's, with its
 * __DATA,__jsc_opcodes section)? 1 yes, 0 no, -1 unreadable. Its hex
 * GNU build-id goes into buf (>= 65 bytes; "" when it has none).
 */
int jsc_binary(const char *path, char *buf, size_t len);

struct jsc_walker;

struct jsc_stats {
	unsigned long frames;		/* frames looked at */
	unsigned long named;		/* given a name */
	unsigned long cached;		/* of which from the cache */
	unsigned long no_header;	/* header unreadable or off the chain */
	unsigned long not_js;		/* not a JS function's frame (by types) */
	unsigned long bad_name;		/* name unreadable or implausible */
	unsigned long leaf_skipped;	/* innermost frame in a prologue/epilogue */
};

struct jsc_walker *jsc_walker_new(const struct jsc_layout *l, js_read_fn rd, void *arg);
void jsc_walker_free(struct jsc_walker *w);

/*
 * Executable ranges of the target ([lo, hi) pairs, sorted): with them the
 * innermost frame can be named (see jsc_walk). Copied.
 */
void jsc_walker_set_code(struct jsc_walker *w, const uint64_t *ranges, size_t n);

/* Forget cached names (the target may have freed its code). */
void jsc_walker_flush(struct jsc_walker *w);

/*
 * Name the frames of one sample. pcs[0..n) is the user call chain as a
 * frame-pointer walk gives it (pcs[0] = ip, then return addresses; what
 * the kernel's PERF_SAMPLE_CALLCHAIN user part holds, or jsc_chain()).
 * names[i] is set to the name of the function pcs[i] is in, or NULL; a
 * name stays valid until jsc_walker_free. pcs[0] is named only when
 * executable ranges were given, the stack shows no half-built frame and
 * the frame's callee runs the CodeBlock's executable (a tail call reuses
 * the frame: the callee is written before the CodeBlock).
 * Returns how many frames were named.
 */
size_t jsc_walk(struct jsc_walker *w, const struct js_sample *s, const uint64_t *pcs,
    size_t n, const char **names);

/* The frame-pointer chain of a sample, as the kernel builds it: at most max. */
size_t jsc_chain(const struct js_sample *s, js_read_fn rd, void *arg, uint64_t *pcs,
    size_t max);

/*
 * The CodeBlock and callee slots of the frames of pcs (as for jsc_walk),
 * for as long as the chain holds: returns how many frames were read.
 */
size_t jsc_headers(const struct js_sample *s, js_read_fn rd, void *arg, const uint64_t *pcs,
    size_t n, uint64_t *cbs, uint64_t *callees);

const struct jsc_stats *jsc_walker_stats(const struct jsc_walker *w);

/*
 * Learning a build's layout. A frame a jitdump names (a JS function's
 * code, tier prefix and "#hash" dropped) gives a (CodeBlock, name) pair.
 * The first 64 named pairs are searched for the offsets that lead from the
 * CodeBlock to the name; the paths most of them agree on become
 * candidates, and every later pair is checked against each candidate.
 * Pairs must be added while the sampled frames' cells are alive (at the
 * sample): the JIT frees CodeBlocks it replaces.
 */
struct jsc_pair {
	uint64_t cb;
	uint64_t callee;	/* the frame's callee slot, or 0 */
	const char *name;	/* "" for an anonymous function */
};

struct jsc_learned {
	struct jsc_layout l;	/* build_id left empty */
	unsigned long tried;	/* pairs searched */
	unsigned long votes;	/* of which the chosen path reproduces */
	unsigned long agree;	/* checked pairs: the layout gives the jitdump's name */
	unsigned long differ;	/* checked pairs: a name, another one */
	unsigned long unnamed;	/* checked pairs: no name */
};

struct jsc_learner;

struct jsc_learner *jsc_learner_new(js_read_fn rd, void *arg);
void jsc_learner_add(struct jsc_learner *le, const struct jsc_pair *p);
/* Stop searching before 64 pairs: later pairs check the candidates. */
void jsc_learner_freeze(struct jsc_learner *le);

/*
 * The best candidate into *out. Returns 0 when at least min_agree checked
 * pairs agree and at most one in 200 differs, else -1 (*out still the best
 * candidate when there was one).
 */
int jsc_learner_result(struct jsc_learner *le, unsigned long min_agree,
    struct jsc_learned *out);
void jsc_learner_free(struct jsc_learner *le);

/* "name#hash" or "JSC-DFG: name#hash" -> "name" into buf. */
void jsc_plain_name(const char *jd_name, char *buf, size_t len);

#endif
