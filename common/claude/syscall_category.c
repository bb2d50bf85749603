#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineread.h"
#include "msg.h"
#include "syscall_category.h"

struct entry {
	const char *name;
	const char *cat;
};

/*
 * Kept sorted by name (bsearch). The original's table named the BSD/macOS
 * calls; Linux adds the *at family, the stat variants, epoll and io_uring.
 */
static const struct entry builtin[] = {
	{ "accept", "network" }, { "accept4", "network" },
	{ "access", "file" }, { "alarm", "time" },
	{ "bind", "network" }, { "bpf", "other" }, { "brk", "memory" },
	{ "chdir", "file" }, { "chmod", "file" }, { "chown", "file" },
	{ "clock_getres", "time" }, { "clock_gettime", "time" },
	{ "clock_nanosleep", "time" }, { "clock_settime", "time" },
	{ "clone", "process" }, { "clone3", "process" }, { "close", "file" },
	{ "close_range", "file" }, { "connect", "network" },
	{ "copy_file_range", "file" }, { "creat", "file" },
	{ "dup", "file" }, { "dup2", "file" }, { "dup3", "file" },
	{ "epoll_create", "event" }, { "epoll_create1", "event" },
	{ "epoll_ctl", "event" }, { "epoll_pwait", "event" },
	{ "epoll_pwait2", "event" }, { "epoll_wait", "event" },
	{ "eventfd", "event" }, { "eventfd2", "event" },
	{ "execve", "process" }, { "execveat", "process" },
	{ "exit", "process" }, { "exit_group", "process" },
	{ "faccessat", "file" }, { "faccessat2", "file" },
	{ "fadvise64", "file" }, { "fallocate", "file" },
	{ "fanotify_init", "event" }, { "fanotify_mark", "event" },
	{ "fchdir", "file" }, { "fchmod", "file" }, { "fchmodat", "file" },
	{ "fchmodat2", "file" }, { "fchown", "file" }, { "fchownat", "file" },
	{ "fcntl", "file" }, { "fdatasync", "file" },
	{ "fgetxattr", "file" }, { "flistxattr", "file" }, { "flock", "file" },
	{ "fork", "process" }, { "fstat", "file" }, { "fstatfs", "file" },
	{ "fsync", "file" }, { "ftruncate", "file" }, { "futex", "ipc" },
	{ "futex_waitv", "ipc" }, { "getcwd", "file" },
	{ "getdents", "file" }, { "getdents64", "file" },
	{ "getegid", "process" }, { "geteuid", "process" },
	{ "getgid", "process" }, { "getpeername", "network" },
	{ "getpgid", "process" }, { "getpgrp", "process" },
	{ "getpid", "process" }, { "getppid", "process" },
	{ "getpriority", "process" }, { "getrandom", "other" },
	{ "getrlimit", "process" }, { "getrusage", "process" },
	{ "getsid", "process" }, { "getsockname", "network" },
	{ "getsockopt", "network" }, { "gettid", "process" },
	{ "gettimeofday", "time" }, { "getuid", "process" },
	{ "getxattr", "file" }, { "inotify_add_watch", "event" },
	{ "inotify_init", "event" }, { "inotify_init1", "event" },
	{ "inotify_rm_watch", "event" }, { "io_cancel", "file" },
	{ "io_destroy", "file" }, { "io_getevents", "file" },
	{ "io_pgetevents", "file" }, { "io_setup", "file" },
	{ "io_submit", "file" }, { "io_uring_enter", "event" },
	{ "io_uring_register", "event" }, { "io_uring_setup", "event" },
	{ "ioctl", "file" }, { "kill", "ipc" },
	{ "lchown", "file" }, { "lgetxattr", "file" }, { "link", "file" },
	{ "linkat", "file" }, { "listen", "network" },
	{ "listxattr", "file" }, { "lseek", "file" }, { "lstat", "file" },
	{ "madvise", "memory" }, { "membarrier", "memory" },
	{ "memfd_create", "memory" }, { "mincore", "memory" },
	{ "mkdir", "file" }, { "mkdirat", "file" }, { "mknod", "file" },
	{ "mknodat", "file" }, { "mlock", "memory" }, { "mlock2", "memory" },
	{ "mlockall", "memory" }, { "mmap", "memory" },
	{ "mprotect", "memory" }, { "mq_open", "ipc" },
	{ "mq_timedreceive", "ipc" }, { "mq_timedsend", "ipc" },
	{ "mremap", "memory" }, { "msgctl", "ipc" }, { "msgget", "ipc" },
	{ "msgrcv", "ipc" }, { "msgsnd", "ipc" }, { "msync", "memory" },
	{ "munlock", "memory" }, { "munlockall", "memory" },
	{ "munmap", "memory" }, { "nanosleep", "time" },
	{ "newfstatat", "file" }, { "open", "file" },
	{ "open_by_handle_at", "file" }, { "openat", "file" },
	{ "openat2", "file" }, { "pause", "ipc" },
	{ "pidfd_getfd", "process" }, { "pidfd_open", "process" },
	{ "pidfd_send_signal", "ipc" }, { "pipe", "ipc" }, { "pipe2", "ipc" },
	{ "pkey_mprotect", "memory" }, { "poll", "event" },
	{ "ppoll", "event" }, { "prctl", "process" }, { "pread64", "file" },
	{ "preadv", "file" }, { "preadv2", "file" },
	{ "prlimit64", "process" }, { "process_madvise", "memory" },
	{ "process_vm_readv", "memory" }, { "process_vm_writev", "memory" },
	{ "pselect6", "event" }, { "ptrace", "process" },
	{ "pwrite64", "file" }, { "pwritev", "file" }, { "pwritev2", "file" },
	{ "read", "file" }, { "readahead", "file" }, { "readlink", "file" },
	{ "readlinkat", "file" }, { "readv", "file" },
	{ "recvfrom", "network" }, { "recvmmsg", "network" },
	{ "recvmsg", "network" }, { "rename", "file" },
	{ "renameat", "file" }, { "renameat2", "file" },
	{ "rmdir", "file" }, { "rseq", "process" },
	{ "rt_sigaction", "ipc" }, { "rt_sigpending", "ipc" },
	{ "rt_sigprocmask", "ipc" }, { "rt_sigqueueinfo", "ipc" },
	{ "rt_sigreturn", "ipc" }, { "rt_sigsuspend", "ipc" },
	{ "rt_sigtimedwait", "ipc" }, { "rt_tgsigqueueinfo", "ipc" },
	{ "sched_getaffinity", "process" }, { "sched_setaffinity", "process" },
	{ "sched_yield", "process" }, { "select", "event" },
	{ "semctl", "ipc" }, { "semget", "ipc" }, { "semop", "ipc" },
	{ "semtimedop", "ipc" }, { "sendfile", "file" },
	{ "sendmmsg", "network" }, { "sendmsg", "network" },
	{ "sendto", "network" }, { "set_robust_list", "process" },
	{ "set_tid_address", "process" }, { "setitimer", "time" },
	{ "setpgid", "process" }, { "setrlimit", "process" },
	{ "setsid", "process" }, { "setsockopt", "network" },
	{ "shmat", "ipc" }, { "shmctl", "ipc" }, { "shmdt", "ipc" },
	{ "shmget", "ipc" }, { "shutdown", "network" },
	{ "sigaltstack", "ipc" }, { "signalfd", "event" },
	{ "signalfd4", "event" }, { "socket", "network" },
	{ "socketpair", "network" }, { "splice", "file" }, { "stat", "file" },
	{ "statfs", "file" }, { "statx", "file" }, { "symlink", "file" },
	{ "symlinkat", "file" }, { "sync", "file" },
	{ "sync_file_range", "file" }, { "syncfs", "file" },
	{ "tee", "file" }, { "tgkill", "ipc" }, { "time", "time" },
	{ "timer_create", "time" }, { "timer_delete", "time" },
	{ "timer_gettime", "time" }, { "timer_settime", "time" },
	{ "timerfd_create", "event" }, { "timerfd_gettime", "event" },
	{ "timerfd_settime", "event" }, { "times", "time" },
	{ "tkill", "ipc" }, { "truncate", "file" }, { "umask", "file" },
	{ "uname", "other" }, { "unlink", "file" }, { "unlinkat", "file" },
	{ "utimensat", "file" }, { "vfork", "process" },
	{ "vmsplice", "file" }, { "wait4", "process" },
	{ "waitid", "process" }, { "write", "file" }, { "writev", "file" },
};

static const char *const known_cats[] = {
	"file", "network", "memory", "process", "event", "time", "ipc", "other",
};

static int
entry_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct entry *)elem)->name);
}

const char *
syscall_category(const char *name)
{
	const struct entry *e;

	if (name == NULL)
		return "other";
	e = bsearch(name, builtin, sizeof(builtin) / sizeof(builtin[0]),
	    sizeof(builtin[0]), entry_cmp);
	return e ? e->cat : "other";
}

int
syscall_category_known(const char *cat)
{
	for (size_t i = 0; i < sizeof(known_cats) / sizeof(known_cats[0]); i++)
		if (strcmp(known_cats[i], cat) == 0)
			return 1;
	return 0;
}

struct sc_map {
	struct entry *v;	/* owned strings; sorted after load */
	size_t n, cap;
};

static int
word_ok(const char *s, int allow_dash)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || (allow_dash && *s == '-')))
			return 0;
	return 1;
}

static int
map_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
	    ((const struct entry *)b)->name);
}

static void
map_put(struct sc_map *m, const char *name, const char *cat)
{
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->v[i].name, name) == 0) {
			free((char *)m->v[i].cat);
			m->v[i].cat = xstrdup(cat);
			return;
		}
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = xreallocarray(m->v, m->cap, sizeof(*m->v));
	}
	m->v[m->n].name = xstrdup(name);
	m->v[m->n].cat = xstrdup(cat);
	m->n++;
}

/* One line: 0 when blank/comment or added, else a reason. */
static const char *
map_line(struct sc_map *m, char *line)
{
	char *hash = strchr(line, '#');
	char *name, *cat, *extra, *save;

	if (hash)
		*hash = '\0';
	name = strtok_r(line, " \t\r", &save);
	if (name == NULL)
		return NULL;
	cat = strtok_r(NULL, " \t\r", &save);
	if (cat == NULL)
		return "expected 'NAME CATEGORY'";
	extra = strtok_r(NULL, " \t\r", &save);
	if (extra != NULL)
		return "extra text after the category";
	if (!word_ok(name, 0))
		return "syscall name must be [a-z0-9_]";
	if (!word_ok(cat, 1))
		return "category must be [a-z0-9_-]";
	map_put(m, name, cat);
	return NULL;
}

struct sc_map *
sc_map_load(const char *path, FILE *err, unsigned long *bad)
{
	struct sc_map *m;
	struct lineread *lr;
	FILE *f = fopen(path, "re");
	char *line;
	size_t len;
	unsigned long lineno = 0;
	int st;

	*bad = 0;
	if (f == NULL)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	lr = lr_open(fileno(f), 4096);
	while ((st = lr_next(lr, &line, &len)) != LR_EOF) {
		const char *why;

		lineno++;
		if (st == LR_ERROR) {
			int e = errno;

			lr_close(lr);
			fclose(f);
			sc_map_free(m);
			errno = e;
			return NULL;
		}
		if (st == LR_TOOLONG) {
			why = "line too long";
		} else if (memchr(line, '\0', len) != NULL) {
			why = "NUL byte in line";
		} else {
			why = map_line(m, line);
		}
		if (why) {
			fprintf(err, "%s: %s:%lu: %s\n", msg_prog(), path,
			    lineno, why);
			(*bad)++;
		}
	}
	lr_close(lr);
	fclose(f);
	if (m->n > 0)
		qsort(m->v, m->n, sizeof(*m->v), map_cmp);
	return m;
}

const char *
sc_map_lookup(const struct sc_map *m, const char *name)
{
	const struct entry *e;

	if (name == NULL || m->n == 0)
		return "other";
	e = bsearch(name, m->v, m->n, sizeof(m->v[0]), entry_cmp);
	return e ? e->cat : "other";
}

void
sc_map_free(struct sc_map *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free((char *)m->v[i].name);
		free((char *)m->v[i].cat);
	}
	free(m->v);
	free(m);
}
