/*
 * jsc-frames-target [DIR] [ready-file]: a stand-in for a JavaScriptCore
 * process whose JavaScript frames cd-sample names from the stack, tested
 * end to end without the real runtime. It
 *  - carries a __DATA,__jsc_opcodes section (what marks a JSC binary)
 *    pointing into code without FDEs: its "interpreter";
 *  - builds, in its heap, the cells JSC's call frames lead to: a CodeBlock,
 *    its FunctionExecutable, UnlinkedFunctionExecutable and name (a WTF
 *    StringImpl), and the callee, at offsets and type bytes of its own
 *    (owner=40 unlinked=56 name=32 callee=32 types=20,21,22: not
 *    Claude Code's, so a layout has to be learned or given);
 *  - calls, with a JSC call frame header (CodeBlock, callee, argument
 *    count) written where the callee's frame pointer will find it, generated
 *    code (anonymous executable memory, "JIT") for "outerFn" and the
 *    interpreter stub for "interpFn", each calling a C spin loop;
 *  - with DIR, writes DIR/jit-TID-PID.dump naming the generated code
 *    "JSC-DFG: outerFn#AAAAAA" and maps it as JSC does.
 * At exit it checks that its cells, names and generated code are as it
 * wrote them (a sampler must only read): exit status 3 if not.
 * It runs for TOTAL_S seconds (default 4): 0.1 s of CPU in outerFn three
 * times, then in interpFn once, over again. With ROUNDS=N it does fixed
 * work instead (N calls, a fixed loop each, from DEPTH nested C frames
 * down: a deep stack as Claude Code's), after a 0.5 s pause for a sampler
 * to attach, and prints its wall and CPU seconds (a benchmark's figure). x86_64 only (it emits machine
 * code); elsewhere it exits 77.
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
/*
 * The interpreter stub, without .cfi directives (no FDE, as JSC's LLInt):
 * a frame, room below it, a call to the function in rax.
 */
__asm__(
	".pushsection \"__DATA,__jsc_opcodes\",\"aw\"\n"
	".globl cd_jsc_opcodes\n"
	"cd_jsc_opcodes: .quad .Lcd_interp, .Lcd_interp\n"
	".popsection\n"
	".text\n"
	".balign 4096\n"
	".Lcd_interp:\n"
	"push %rbp\n"
	"mov %rsp, %rbp\n"
	"sub $64, %rsp\n"
	"movq $0, (%rsp)\n"
	"movq $0, 8(%rsp)\n"
	"movq $0, 16(%rsp)\n"
	"call *%rax\n"
	"leave\n"
	"ret\n"
	".balign 4096\n");
extern void *cd_jsc_opcodes[2];

/* The same as generated code. */
static const unsigned char stub_code[] = {
	0x55,					/* push rbp */
	0x48, 0x89, 0xe5,			/* mov rbp, rsp */
	0x48, 0x83, 0xec, 0x40,			/* sub rsp, 64 */
	0x48, 0xc7, 0x04, 0x24, 0, 0, 0, 0,	/* movq $0, (rsp) */
	0x48, 0xc7, 0x44, 0x24, 0x08, 0, 0, 0, 0,	/* movq $0, 8(rsp) */
	0x48, 0xc7, 0x44, 0x24, 0x10, 0, 0, 0, 0,	/* movq $0, 16(rsp) */
	0xff, 0xd0,				/* call *rax */
	0xc9,					/* leave */
	0xc3,					/* ret */
};

#define OFF_OWNER 40
#define OFF_UNLINKED 56
#define OFF_NAME 32
#define OFF_CALLEE_EXEC 32
#define T_CB 20
#define T_EXEC 21
#define T_UNLINKED 22

static double spin_until;
static long spin_loops;		/* fixed work per call when > 0 */

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void
spin(void)
{
	volatile unsigned long k = 0;

	if (spin_loops > 0) {
		for (long i = 0; i < spin_loops; i++)
			k++;
		return;
	}
	while (cpu_s() < spin_until)
		for (int i = 0; i < 10000; i++)
			k++;
}

/* Everything a sampler reads, and a copy to compare with at exit. */
static struct {
	unsigned char *p, copy[256];
	size_t n;
} kept[16];
static int nkept;

static void
keep(unsigned char *p, size_t n)
{
	kept[nkept].p = p;
	kept[nkept].n = n;
	nkept++;
}

static int
all_intact(void)
{
	for (int i = 0; i < nkept; i++)
		if (memcmp(kept[i].p, kept[i].copy, kept[i].n) != 0)
			return 0;
	return 1;
}

static void *
cell(uint8_t type)
{
	unsigned char *c = aligned_alloc(16, 256);

	if (c == NULL)
		exit(1);
	memset(c, 0, 256);
	c[5] = type;
	keep(c, 256);
	return c;
}

/* A function as JSC keeps it: returns its CodeBlock; *callee its JSFunction. */
static uint64_t
make_function(const char *name, uint64_t *callee)
{
	unsigned char *cb = cell(T_CB), *exec = cell(T_EXEC), *un = cell(T_UNLINKED);
	unsigned char *fn = cell(30), *str = aligned_alloc(16, 64);
	uint32_t v;
	uint64_t p;

	if (str == NULL)
		exit(1);
	memset(str, 0, 64);
	v = 2;				/* refcount */
	memcpy(str, &v, 4);
	v = (uint32_t)strlen(name);
	memcpy(str + 4, &v, 4);
	p = (uint64_t)(uintptr_t)(str + 20);	/* characters inline */
	memcpy(str + 8, &p, 8);
	v = 0x14 | 0xabcd00;		/* 8-bit, an atom; some hash */
	memcpy(str + 16, &v, 4);
	memcpy(str + 20, name, strlen(name));
	keep(str, 64);
	p = (uint64_t)(uintptr_t)exec;
	memcpy(cb + OFF_OWNER, &p, 8);
	memcpy(fn + OFF_CALLEE_EXEC, &p, 8);
	p = (uint64_t)(uintptr_t)un;
	memcpy(exec + OFF_UNLINKED, &p, 8);
	p = (uint64_t)(uintptr_t)str;
	memcpy(un + OFF_NAME, &p, 8);
	*callee = (uint64_t)(uintptr_t)fn;
	return (uint64_t)(uintptr_t)cb;
}

/*
 * Call code as JSC calls a function: the callee's header (CodeBlock,
 * callee, argument count with this) at the bottom of the caller's frame,
 * where the callee's fp + 16 lands after call and push rbp.
 */
__attribute__((noinline)) static void
call_js(void *code, uint64_t cb, uint64_t callee)
{
	void (*target)(void) = spin;

	(void)getpid();		/* not a leaf: no red zone under rsp */
	__asm__ volatile(
	    "sub $48, %%rsp\n\t"
	    "mov %1, 0(%%rsp)\n\t"
	    "mov %2, 8(%%rsp)\n\t"
	    "movq $1, 16(%%rsp)\n\t"
	    "movq $0, 24(%%rsp)\n\t"
	    "call *%3\n\t"
	    "add $48, %%rsp\n\t"
	    : "+a"(target)
	    : "r"(cb), "r"(callee), "r"(code)
	    : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}

/* ROUNDS calls of the two functions, from depth nested frames down. */
__attribute__((noinline)) static void
fixed_work(int depth, long rounds, void *jit, uint64_t cb[2], uint64_t fn[2])
{
	volatile char pad[192];

	pad[0] = (char)depth;
	if (depth > 0) {
		fixed_work(depth - 1, rounds, jit, cb, fn);
		return;
	}
	for (long i = 0; i < rounds; i++) {
		if (i % 4 == 3)
			call_js(cd_jsc_opcodes[0], cb[1], fn[1]);
		else
			call_js(jit, cb[0], fn[0]);
	}
	(void)pad;
}

int
main(int argc, char **argv)
{
	const char *e = getenv("TOTAL_S");
	double total = e ? atof(e) : 4, t0 = cpu_s();
	struct timespec w0, w;
	uint64_t cb_outer, cb_interp, fn_outer, fn_interp;
	unsigned char *mem;

	if (argc > 1 && argv[1][0] != '\0') {
		jdw_open(argv[1]);
		jdw_mark();
	}
	cb_outer = make_function("outerFn", &fn_outer);
	cb_interp = make_function("interpFn", &fn_interp);
	mem = jdw_page();
	jdw_place(mem, stub_code, sizeof(stub_code));
	jdw_load("JSC-DFG: outerFn#AAAAAA", mem, sizeof(stub_code), 1);
	keep(mem, 256);
	for (int i = 0; i < nkept; i++)
		memcpy(kept[i].copy, kept[i].p, kept[i].n);
	ready_write(argc > 2 ? argv[2] : NULL);
	clock_gettime(CLOCK_MONOTONIC, &w0);
	if ((e = getenv("ROUNDS")) != NULL) {
		struct timespec pause = { 0, 500000000L };
		uint64_t cbs[2] = { cb_outer, cb_interp }, fns[2] = { fn_outer, fn_interp };
		double c0;

		nanosleep(&pause, NULL);
		clock_gettime(CLOCK_MONOTONIC, &w0);
		c0 = cpu_s();
		spin_loops = 1000000;
		fixed_work(getenv("DEPTH") ? atoi(getenv("DEPTH")) : 0, atol(e), mem, cbs, fns);
		clock_gettime(CLOCK_MONOTONIC, &w);
		printf("%.6f %.6f\n", w.tv_sec - w0.tv_sec + (w.tv_nsec - w0.tv_nsec) / 1e9,
		    cpu_s() - c0);
		return all_intact() ? 0 : 3;
	}
	for (int i = 0;; i++) {
		clock_gettime(CLOCK_MONOTONIC, &w);
		if (w.tv_sec - w0.tv_sec + (w.tv_nsec - w0.tv_nsec) / 1e9 >= total)
			break;
		spin_until = cpu_s() + 0.1;
		if (i % 4 == 3)
			call_js(cd_jsc_opcodes[0], cb_interp, fn_interp);
		else
			call_js(mem, cb_outer, fn_outer);
	}
	(void)t0;
	if (!all_intact()) {
		fprintf(stderr, "jsc-frames-target: memory changed under it\n");
		return 3;
	}
	return 0;
}
#else
int
main(void)
{
	return 77;
}
#endif
