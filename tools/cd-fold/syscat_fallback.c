/*
 * FALLBACK syscall categories, for records that did not pass through
 * cd-categorize, which holds the authoritative table. This one is kept
 * small on purpose: the common calls of a Node.js or Bun process, by the
 * same category names (file, network, memory, process, event, time, ipc,
 * other).
 */
#include <stdlib.h>
#include <string.h>

#include "fold.h"

static const struct {
	const char *name, *cat;
} table[] = {
	/* sorted by name for bsearch */
	{ "accept", "network" }, { "accept4", "network" }, { "access", "file" },
	{ "bind", "network" }, { "brk", "memory" }, { "chdir", "file" },
	{ "chmod", "file" }, { "clock_gettime", "time" },
	{ "clock_nanosleep", "time" }, { "clone", "process" },
	{ "clone3", "process" }, { "close", "file" }, { "connect", "network" },
	{ "dup", "file" }, { "dup2", "file" }, { "dup3", "file" },
	{ "epoll_create1", "event" }, { "epoll_ctl", "event" },
	{ "epoll_pwait", "event" }, { "epoll_pwait2", "event" },
	{ "epoll_wait", "event" }, { "eventfd2", "event" },
	{ "execve", "process" }, { "exit", "process" },
	{ "exit_group", "process" }, { "faccessat", "file" },
	{ "faccessat2", "file" }, { "fcntl", "file" }, { "fstat", "file" },
	{ "fsync", "file" }, { "ftruncate", "file" }, { "futex", "ipc" },
	{ "getcwd", "file" }, { "getdents64", "file" }, { "getpid", "process" },
	{ "getrandom", "other" }, { "getsockname", "network" },
	{ "getsockopt", "network" }, { "gettid", "process" },
	{ "gettimeofday", "time" }, { "inotify_add_watch", "event" },
	{ "inotify_init1", "event" }, { "inotify_rm_watch", "event" },
	{ "ioctl", "file" }, { "kill", "process" }, { "lseek", "file" },
	{ "lstat", "file" }, { "madvise", "memory" }, { "mkdir", "file" },
	{ "mmap", "memory" }, { "mprotect", "memory" }, { "mremap", "memory" },
	{ "munmap", "memory" }, { "nanosleep", "time" },
	{ "newfstatat", "file" }, { "open", "file" }, { "openat", "file" },
	{ "pipe", "ipc" }, { "pipe2", "ipc" }, { "poll", "event" },
	{ "ppoll", "event" }, { "pread64", "file" }, { "prlimit64", "process" },
	{ "pselect6", "event" }, { "pwrite64", "file" }, { "read", "file" },
	{ "readlink", "file" }, { "readv", "file" }, { "recvfrom", "network" },
	{ "recvmmsg", "network" }, { "recvmsg", "network" },
	{ "rename", "file" }, { "rt_sigaction", "process" },
	{ "rt_sigprocmask", "process" }, { "rt_sigreturn", "process" },
	{ "sched_yield", "process" }, { "select", "event" },
	{ "sendmmsg", "network" }, { "sendmsg", "network" },
	{ "sendto", "network" }, { "setsockopt", "network" },
	{ "shutdown", "network" }, { "socket", "network" },
	{ "socketpair", "ipc" }, { "stat", "file" }, { "statx", "file" },
	{ "timerfd_create", "time" }, { "timerfd_settime", "time" },
	{ "unlink", "file" }, { "unlinkat", "file" }, { "wait4", "process" },
	{ "write", "file" }, { "writev", "file" },
};

static int
cmp(const void *k, const void *e)
{
	return strcmp(k, *(const char *const *)e);
}

const char *
syscat_fallback(const char *name)
{
	const void *hit;

	if (name == NULL)
		return "other";
	hit = bsearch(name, table, sizeof(table) / sizeof(table[0]),
	    sizeof(table[0]), cmp);
	return hit ? ((const char *const *)hit)[1] : "other";
}
