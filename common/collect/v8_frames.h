/*
 * Names of V8's JavaScript frames (Node.js) read from a running process
 * without its help: no --perf-basic-prof, no restart. The method of the
 * post-mortem debuggers (mdb_v8, llnode) and of the OpenTelemetry eBPF
 * profiler, applied to a sample's stack copy.
 *
 * A node binary exports its object layout for such debuggers as v8dbg_*
 * data symbols (offsets, instance types, tags): v8_binary() reads them
 * from the ELF file, so no version needs a table of its own. A JavaScript
 * frame (interpreted, baseline or optimized) is linked by the frame
 * pointer; below fp it holds the context (a tagged pointer; a typed
 * frame has a small integer marker there instead) and the JSFunction:
 *
 *   fp+8 return pc   fp+0 caller's fp   fp-8 context   fp-16 JSFunction
 *
 * JSFunction -> SharedFunctionInfo -> name_or_scope_info: the name itself
 * (a String), or a ScopeInfo holding it after its context locals. The
 * ScopeInfo's flags, which say exactly where, are not exported; as llnode
 * does, the first non-empty String among the few slots after the locals
 * is the name: the function's own or, when it has none, the inferred one,
 * as V8's DebugName (and so --perf-basic-prof) gives it.
 *
 * V8's heap moves objects, so nothing read is trusted beyond the sample:
 * every object's map is read and its instance type checked, names are
 * cached by the address of the string or ScopeInfo they came from and only
 * after the SharedFunctionInfo pointing there was read again. Nothing is
 * written to the target and it is never stopped (reads through a
 * js_read_fn, i.e. process_vm_readv). Pointer compression (a 32-bit
 * tagged size) is refused: Node's builds do not use it.
 */
#ifndef CD_V8_FRAMES_H
#define CD_V8_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "js_util.h"		/* js_read_fn, struct js_sample */

/* Where a function's name is in one V8 build: from its v8dbg_* symbols. */
struct v8_layout {
	char build_id[65];
	int fp_function, fp_context;	/* from fp, in bytes */
	uint16_t map, map_type;		/* HeapObject: map; Map: instance type */
	uint16_t fn_shared, sfi_name;	/* JSFunction, SharedFunctionInfo */
	uint16_t str_len, seq1_chars, seq2_chars, cons_first, cons_second, thin_actual;
	uint16_t si_nlocals, si_vars;	/* ScopeInfo: local count, first variable */
	uint16_t t_fn_lo, t_fn_hi;	/* JSFunction instance types [lo, hi) */
	uint16_t t_sfi, t_scope_info, t_first_nonstring;
	uint8_t enc_mask, one_byte, repr_mask, seq, cons, thin;
};

/*
 * Is the ELF file at path a V8 binary exporting its layout? 1 yes (*l
 * filled, build-id included), 0 no, -1 unreadable.
 */
int v8_binary(const char *path, struct v8_layout *l);

struct v8_walker;

struct v8_stats {
	unsigned long frames;		/* frames looked at */
	unsigned long named;		/* given a name */
	unsigned long cached;		/* of which from the cache */
	unsigned long no_header;	/* slots unreadable or off the chain */
	unsigned long not_js;		/* a typed frame, or no JSFunction there */
	unsigned long bad_name;		/* name unreadable or implausible */
	unsigned long leaf_skipped;	/* innermost frame not built */
	unsigned long callers_added;	/* v8_skipped_caller's names */
};

struct v8_walker *v8_walker_new(const struct v8_layout *l, js_read_fn rd, void *arg);
void v8_walker_free(struct v8_walker *w);
/* Executable ranges of the target, as for jsc_walker_set_code. Copied. */
void v8_walker_set_code(struct v8_walker *w, const uint64_t *ranges, size_t n);
const struct v8_stats *v8_walker_stats(const struct v8_walker *w);

/*
 * Name the frames of one sample, as jsc_walk: pcs[0..n) is the user call
 * chain (pcs[0] = ip), names[i] the JavaScript function whose frame pcs[i]
 * runs in, or NULL. The caller keeps only the names of frames whose pc is
 * in code that runs JavaScript (the JIT's, the interpreter's builtins): a
 * native function called from JavaScript runs on its caller's fp when it
 * builds no frame. pcs[0] is named only when the stack shows its frame
 * built. An anonymous function is "(anonymous)". Names stay valid until
 * v8_walker_free. Returns how many frames were named.
 */
size_t v8_walk(struct v8_walker *w, const struct js_sample *s, const uint64_t *pcs,
    size_t n, const char **names);

/*
 * When the sample caught the innermost function entering or leaving (its
 * return address on top of the stack, or the caller's fp pushed above
 * it), bp is still its caller's frame, and a frame-pointer chain skips
 * that caller: its pc is on the stack, not at [bp+8]. Its name, when that
 * frame is a JavaScript function's and ties to the chain ([bp+8] ==
 * pcs[1]), else NULL: the caller puts it between pcs[0] and pcs[1].
 */
const char *v8_skipped_caller(struct v8_walker *w, const struct js_sample *s,
    const uint64_t *pcs, size_t n);

/*
 * "JS:*fib /app/x.js:3:13" (a --perf-basic-prof map entry) -> "fib", or
 * "(anonymous)"; 0 when the entry is not a JavaScript function's.
 */
int v8_plain_name(const char *map_name, char *buf, size_t len);

#endif
