/*
 * Code addresses of one process to frame names, through elfutils' libdwfl
 * (symbols_dwfl.c). Shared by cd-sample and cd-trace --stacks.
 *
 * A frame name follows claude-diagnose-streams(7):
 *   symbol            resolved from .symtab/.dynsym, MiniDebugInfo
 *                     (.gnu_debugdata) or separate debuginfo found by
 *                     build-id; C++ names demangled
 *   name_[j]          JIT code, from the process's jitdump (JavaScriptCore's
 *                     tier prefix dropped: see jitdump.h) or from
 *                     /tmp/perf-PID.map (Node's --perf-basic-prof)
 *   name_[k]          kernel code, from /proc/kallsyms
 *   module+0xSTART    no symbol, but the .eh_frame FDE of the function is
 *                     known: START is where the function begins, so every
 *                     address of one function is one frame
 *   module+0xOFFSET   the module is known, the symbol and FDE are not;
 *                     OFFSET is the address in the module's own ELF
 *                     address space (what addr2line -e module takes)
 *   [JS interpreter]  JavaScriptCore's interpreter (LLInt): the range of
 *                     a JSC binary that has no FDE and holds the LLInt
 *                     opcode handlers
 *   [JIT]             anonymous executable memory no JIT record names
 *   [unknown]         not even a mapping is known
 *
 * Symbol tables are loaded once per module and cached for the life of the
 * symbolizer; every name returned is interned and stays valid until
 * sym_close(). Not thread-safe: one symbolizer per thread of use.
 */
#ifndef CD_SYMBOLS_H
#define CD_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct symbolizer;

/* Flags for sym_frame. */
enum {
	SYM_F_KERNEL = 1,	/* ip is a kernel address */
	SYM_F_RETADDR = 2,	/* ip is a return address: look up ip - 1 */
};

/*
 * Where a frame's name came from: the naming source, counted per frame in
 * cd-sample's meta (sym_kind_name gives the key). A source added later
 * (a name read from the target's own stack) takes a kind before
 * SYM_UNKNOWN, which stays last.
 */
enum sym_kind {
	SYM_NAME,		/* a symbol from the module's tables */
	SYM_JIT,		/* from the perf map */
	SYM_JITDUMP,		/* from the jitdump */
	SYM_FDE,		/* module+0xSTART of an FDE */
	SYM_REGION,		/* [JS interpreter], [JIT] */
	SYM_KNAME,		/* a kernel symbol */
	SYM_MODOFF,		/* module+0xOFFSET */
	SYM_JSFRAME,		/* a JS frame read from the target's stack (jsc_frames.h) */
	SYM_UNKNOWN,		/* [unknown] */
	SYM_NKINDS
};

struct sym_stats {
	unsigned long modules;		/* modules reported from /proc/PID/maps */
	unsigned long lookups;		/* distinct addresses resolved */
	unsigned long by_kind[SYM_NKINDS];
	int jit_map;			/* /tmp/perf-PID.map was read */
	int kallsyms;			/* /proc/kallsyms gave real addresses */
	int jsc;			/* a JavaScriptCore binary is mapped (Bun) */
	const char *llint_how;		/* how its interpreter was found, or NULL */
	const char *jitdump;		/* the jitdump read, or NULL */
	const char *jitdump_error;	/* why reading it stopped, or NULL */
	unsigned long jitdump_loads;	/* code loads read from it */
	unsigned long long jitdump_bytes;	/* its size, as far as read */
	unsigned long stamped;		/* JIT addresses named by load time */
	unsigned long stamp_missed;	/* JIT addresses no load covered */
};

/* The meta key of a kind: "symtab", "jitdump", "perf_map", "fde", ... */
const char *sym_kind_name(enum sym_kind k);

/*
 * Also look for jitdumps (jit-*-PID.dump) in dir, besides the one the
 * process maps as its marker. Call before sym_open.
 */
void sym_jitdump_dir(const char *dir);

/*
 * Report the modules mapped by pid now. Returns NULL with errno set when
 * /proc/PID/maps cannot be read (ESRCH: gone, EACCES: not permitted).
 */
struct symbolizer *sym_open(pid_t pid);

/*
 * Re-read the process's maps (modules loaded since) and its perf map.
 * Keeps what it knew when the process has gone. Returns 0, or -1 with
 * errno set when the maps could not be read.
 */
int sym_refresh(struct symbolizer *s);

/*
 * sym_refresh, but the maps only when reading them has cost under 1% of
 * the time since: a busy JIT runtime's change every 0.25 s, and reading
 * them that often took 60% of a 19 Hz cd-sample's CPU time.
 */
int sym_refresh_budget(struct symbolizer *s);

/* The frame name for ip (see above). Never NULL. */
const char *sym_frame(struct symbolizer *s, uint64_t ip, unsigned flags,
    enum sym_kind *kind);

/*
 * A perf_event callchain (leaf first, PERF_CONTEXT_* markers included, as
 * PERF_SAMPLE_CALLCHAIN gives it) to frame names, ROOT FIRST, in out[0..].
 * At most max frames are written (the root-most ones are dropped first).
 * Every frame but the leaf is looked up as a return address. Returns the
 * number written.
 */
size_t sym_callchain(struct symbolizer *s, const uint64_t *ips, size_t n,
    const char **out, size_t max);

/* The same, with each frame's kind in kinds[0..] (root first too). */
size_t sym_callchain_kinds(struct symbolizer *s, const uint64_t *ips, size_t n,
    const char **out, enum sym_kind *kinds, size_t max);

/*
 * Bind the JIT addresses of a callchain (as above, or leaf-first return
 * addresses with perfchain 0) to the jitdump load that held them at time
 * ns (CLOCK_MONOTONIC), in place: JIT memory is reused, so an address
 * alone does not say which function ran there once the sample is old.
 * A bound address is a token only this symbolizer names; stacks stamped
 * alike aggregate alike. Returns how many were bound.
 */
size_t sym_stamp(struct symbolizer *s, uint64_t *ips, size_t n, int perfchain,
    uint64_t ns);

/*
 * A token standing for a frame named outside the symbolizer (a JS frame
 * read from the target's stack): put in a callchain in place of the
 * address, it is named "name_[js]", of kind SYM_JSFRAME.
 */
uint64_t sym_js_token(struct symbolizer *s, const char *name);

/* Is ip a jitdump-bound address (sym_stamp) or a sym_js_token? */
int sym_is_token(uint64_t ip);

void sym_get_stats(const struct symbolizer *s, struct sym_stats *st);

void sym_close(struct symbolizer *s);

#endif
