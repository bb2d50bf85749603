/*
 * A perf jitdump writer for the JavaScriptCore stand-ins (jitdump-target,
 * jsc-frames-target): the file header, code-load records, and the mapping
 * of the file that marks it, as JSC writes them (perf's jitdump format,
 * x86_64); and the page of generated code the records name.
 */
#ifndef CD_JITDUMP_WRITER_H
#define CD_JITDUMP_WRITER_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "target.h"

__attribute__((unused)) static int jdw_fd = -1;

__attribute__((unused)) static void
jdw_put(const void *p, size_t n)
{
	if (write(jdw_fd, p, n) != (ssize_t)n) {
		perror("jitdump write");
		exit(1);
	}
}

/* DIR/jit-TID-PID.dump created and its header written; any failure exits 1. */
__attribute__((unused)) static void
jdw_open(const char *dir)
{
	char path[4096];
	struct {
		uint32_t magic, version, total_size, elf_mach, pad1, pid;
		uint64_t timestamp, flags;
	} h = { 0x4A695444, 1, 40, 62, 0, (uint32_t)getpid(), 0, 0 };

	snprintf(path, sizeof(path), "%s/jit-%ld-%d.dump", dir, (long)syscall(SYS_gettid),
	    (int)getpid());
	if ((jdw_fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600)) < 0) {
		perror(path);
		exit(1);
	}
	h.timestamp = mono_ns();
	jdw_put(&h, sizeof(h));
}

/* perf's convention: an executable mapping of the dump marks it. */
__attribute__((unused)) static void
jdw_mark(void)
{
	void *marker = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, jdw_fd, 0);

	if (marker == MAP_FAILED)
		marker = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, jdw_fd, 0);
	if (marker == MAP_FAILED)
		perror("marker mmap");
}

/* A JIT_CODE_LOAD record: name for [code, code + size); nothing without a dump. */
__attribute__((unused)) static void
jdw_load(const char *name, const void *code, size_t size, uint64_t index)
{
	struct {
		uint32_t id, total_size;
		uint64_t timestamp;
		uint32_t pid, tid;
		uint64_t vma, code_addr, code_size, code_index;
	} r;
	size_t nl = strlen(name) + 1;

	if (jdw_fd < 0)
		return;
	memset(&r, 0, sizeof(r));
	r.total_size = (uint32_t)(sizeof(r) + nl + size);
	r.timestamp = mono_ns();
	r.pid = (uint32_t)getpid();
	r.tid = (uint32_t)syscall(SYS_gettid);
	r.vma = r.code_addr = (uint64_t)(uintptr_t)code;
	r.code_size = size;
	r.code_index = index;
	jdw_put(&r, sizeof(r));
	jdw_put(name, nl);
	jdw_put(code, size);
}


/* A page for generated code ("JIT memory"); any failure exits 1. */
__attribute__((unused)) static unsigned char *
jdw_page(void)
{
	void *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return mem;
}

/* code copied to the start of the page mem, int3 after it, made executable. */
__attribute__((unused)) static void
jdw_place(unsigned char *mem, const void *code, size_t size)
{
	if (mprotect(mem, 4096, PROT_READ | PROT_WRITE) != 0) {
		perror("mprotect");
		exit(1);
	}
	memset(mem, 0xcc, 4096);
	memcpy(mem, code, size);
	if (mprotect(mem, 4096, PROT_READ | PROT_EXEC) != 0) {
		perror("mprotect");
		exit(1);
	}
}

#endif
