/*
 * Reading another process's memory without stopping or changing it
 * (process_vm_readv): the reader JavaScript frame naming uses.
 */
#ifndef CD_PROCMEM_H
#define CD_PROCMEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * len bytes at addr of pid into buf. Returns 0 when all were read, -1
 * otherwise (unmapped, gone, not permitted: errno says which).
 */
int procmem_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* The same as a js_read_fn: arg points at the pid_t. */
int procmem_read_cb(void *arg, uint64_t addr, void *buf, size_t len);

/*
 * The executable mappings of pid as sorted [lo, hi) pairs (malloc'd).
 * Returns the number of ranges, or -1 when maps cannot be read.
 */
long procmem_code_ranges(pid_t pid, uint64_t **ranges);

#endif
