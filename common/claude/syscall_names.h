/*
 * System call names by number for the running architecture (tables
 * generated at build time from the kernel headers), and errno names.
 */
#ifndef CD_SYSCALL_NAMES_H
#define CD_SYSCALL_NAMES_H

struct syscall_name {
	int nr;
	const char *name;
};

/* "x86_64", "aarch64": the table syscall_name() uses. */
const char *syscall_arch(void);
/* Name of nr on this architecture, NULL when unknown. */
const char *syscall_name(long nr);
/* Number of name, -1 when unknown. */
long syscall_number(const char *name);
/* The same lookups in a named architecture's table (tests, cross reading). */
const char *syscall_name_arch(const char *arch, long nr);
long syscall_number_arch(const char *arch, const char *name);

/* "ENOENT" for 2; NULL when the C library has no name for it. */
const char *errno_name(int err);
/* 2 for "ENOENT" (case-insensitive), or for "2"; -1 when unknown. */
int errno_number(const char *name);

#endif
