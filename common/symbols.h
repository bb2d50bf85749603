/*
 * Code addresses of one process to frame names, through elfutils' libdwfl
 * (symbols_dwfl.c). Shared by cd-sample and cd-trace --stacks.
 *
 * A frame name follows claude-diagnose-streams(7):
 *   symbol            resolved from .symtab/.dynsym, MiniDebugInfo
 *                     (.gnu_debugdata) or separate debuginfo found by
 *                     build-id; C++ names demangled
 *   name_[j]          JIT code, from /tmp/perf-PID.map
 *   name_[k]          kernel code, from /proc/kallsyms
 *   module+0xOFFSET   the module is known, the symbol is not; OFFSET is
 *                     the address in the module's own ELF address space
 *                     (what addr2line -e module takes)
 *   [unknown]         not even a module is known
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

/* What sym_frame could find, for "share of frames resolved" figures. */
enum sym_kind {
	SYM_NAME,		/* a symbol from the module's tables */
	SYM_JIT,		/* from the perf map */
	SYM_KNAME,		/* a kernel symbol */
	SYM_MODOFF,		/* module+0xOFFSET */
	SYM_UNKNOWN,		/* [unknown] */
};

struct sym_stats {
	unsigned long modules;		/* modules reported from /proc/PID/maps */
	unsigned long lookups;		/* distinct addresses resolved */
	unsigned long by_kind[SYM_UNKNOWN + 1];
	int jit_map;			/* /tmp/perf-PID.map was read */
	int kallsyms;			/* /proc/kallsyms gave real addresses */
};

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

void sym_get_stats(const struct symbolizer *s, struct sym_stats *st);

void sym_close(struct symbolizer *s);

#endif
