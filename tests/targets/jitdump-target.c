/*
 * jitdump-target DIR [ready-file]: a stand-in for a JavaScriptCore
 * process, so that cd-sample's JIT naming is tested end to end without
 * the real runtime. It
 *  - carries a __DATA,__jsc_opcodes section (what marks a JSC binary)
 *    pointing into a stretch of code without FDEs: its "interpreter";
 *  - writes DIR/jit-TID-PID.dump in the perf jitdump format (unless
 *    JITDUMP=0) and maps it as JSC does, as the marker;
 *  - runs, for about CPU_S CPU seconds each (default 0.8): the
 *    interpreter loop; generated code at an address it loads in the
 *    dump as "JSC-DFG: hotLoop#AAAAAA"; then the same address reloaded as
 *    "JSC-Baseline: otherLoop#BBBBBB" (JIT memory reused: only the load
 *    time tells the two apart).
 * ROUNDS=N: each phase makes N calls instead (fixed work, for
 * scripts/bench/bench-sample.sh), and the wall and CPU time are printed.
 * JITDUMP=0: no dump; JITDUMP=corrupt: a record with an impossible size
 * right after the header; MARKER=0: the dump is not mapped (found only
 * through cd-sample --jitdump-dir).
 * x86_64 only (it emits machine code); elsewhere it exits 77.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "jitdump_writer.h"

#if defined(__x86_64__)
/* No .cfi directives: no FDE, as JSC's LLInt; no symbol either. */
__asm__(
	".pushsection \"__DATA,__jsc_opcodes\",\"aw\"\n"
	".globl cd_fake_opcodes\n"
	"cd_fake_opcodes: .quad .Lcd_op_loop, .Lcd_op_loop\n"
	".popsection\n"
	".text\n"
	".balign 4096\n"
	".Lcd_op_loop:\n"
	"push %rbp\n"
	"mov %rsp, %rbp\n"
	"1: dec %rdi\n"
	"jnz 1b\n"
	"pop %rbp\n"
	"ret\n"
	".balign 4096\n");
extern void (*cd_fake_opcodes[2])(long);

/* push rbp; mov rbp, rsp; 1: dec rdi; jnz 1b; pop rbp; ret */
static const unsigned char loop_code[] = {
	0x55, 0x48, 0x89, 0xe5, 0x48, 0xff, 0xcf, 0x75, 0xfb, 0x5d, 0xc3,
};

static long rounds;

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The dump, as the environment asks (JITDUMP=corrupt, MARKER=0). */
static void
dump_open(const char *dir)
{
	jdw_open(dir);
	if (getenv("JITDUMP") && strcmp(getenv("JITDUMP"), "corrupt") == 0) {
		uint32_t bad[4] = { 0, 8, 0, 0 };

		jdw_put(bad, sizeof(bad));
	}
	if (getenv("MARKER") && strcmp(getenv("MARKER"), "0") == 0)
		return;
	jdw_mark();
}

/* Generate the loop at mem, load it in the dump under name, run it. */
static void
jit_phase(unsigned char *mem, const char *name, uint64_t index, double secs)
{
	void (*fn)(long);
	double t0;

	jdw_place(mem, loop_code, sizeof(loop_code));
	jdw_load(name, mem, sizeof(loop_code), index);
	fn = (void (*)(long))(uintptr_t)mem;
	if (rounds > 0) {
		for (long i = 0; i < rounds; i++)
			fn(2000000);
		return;
	}
	for (t0 = cpu_s(); cpu_s() - t0 < secs;)
		fn(2000000);
}

int
main(int argc, char **argv)
{
	const char *e = getenv("CPU_S");
	double secs = e ? atof(e) : 0.8, t0, w0 = (double)mono_ns() / 1e9;
	unsigned char *mem;

	if (argc < 2) {
		fprintf(stderr, "usage: jitdump-target DIR [ready-file]\n");
		return 2;
	}
	e = getenv("JITDUMP");
	if (e == NULL || strcmp(e, "0") != 0)
		dump_open(argv[1]);
	mem = jdw_page();
	ready_write(argc > 2 ? argv[2] : NULL);
	if ((e = getenv("ROUNDS")) != NULL)
		rounds = atol(e);
	if (rounds > 0)
		for (long i = 0; i < rounds; i++)
			cd_fake_opcodes[0](2000000);
	else
		for (t0 = cpu_s(); cpu_s() - t0 < secs;)
			cd_fake_opcodes[0](2000000);
	jit_phase(mem, "JSC-DFG: hotLoop#AAAAAA", 1, secs);
	jit_phase(mem, "JSC-Baseline: otherLoop#BBBBBB", 2, secs);
	if (rounds > 0)
		printf("%.6f %.6f\n", (double)mono_ns() / 1e9 - w0, cpu_s());
	return 0;
}
#else
int
main(void)
{
	return 77;
}
#endif
