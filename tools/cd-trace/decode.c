/*
 * Decoding arguments: which calls take paths, fds, addresses, and reading
 * those from the target's memory (process_vm_readv) at the time of the call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "msg.h"
#include "record.h"
#include "syscall_names.h"
#include "trace.h"

#define NR_MAX 1024

enum {
	F_IO = 1 << 0,		/* --io keeps it */
	F_NET = 1 << 1,		/* --network keeps it */
	F_META = 1 << 2,	/* stat family: metadata */
	F_POLL = 1 << 3,	/* waits for events */
	F_BLOCK = 1 << 4,	/* blocks by design: not "slow" */
	F_READ = 1 << 5,	/* ret is bytes in */
	F_WRITE = 1 << 6,	/* ret is bytes out */
	F_OPEN = 1 << 7,	/* ret is a new fd for the path */
	F_CLOSE = 1 << 8,
	F_STREAM = 1 << 9,	/* blocks when its fd is a pipe, socket, tty */
};

struct spec {
	const char *name;
	int flags;
	int path;		/* path argument index, -1 none */
	int fd;			/* fd argument index, -1 none */
	int oflags;		/* open(2) flags argument, -1 none */
	int addr, addrlen;	/* sockaddr in (value length) at entry */
	int oaddr, oaddrlen;	/* sockaddr out (length pointer) at exit */
	int family;		/* socket(2) domain argument */
};

#define S(n, f, p, fd) { n, f, p, fd, -1, -1, -1, -1, -1, -1 }

static const struct spec specs[] = {
	{ "open", F_IO | F_OPEN, 0, -1, 1, -1, -1, -1, -1, -1 },
	{ "openat", F_IO | F_OPEN, 1, -1, 2, -1, -1, -1, -1, -1 },
	{ "openat2", F_IO | F_OPEN, 1, -1, -1, -1, -1, -1, -1, -1 },
	{ "creat", F_IO | F_OPEN, 0, -1, -1, -1, -1, -1, -1, -1 },
	S("close", F_IO | F_CLOSE, -1, 0),
	S("read", F_IO | F_READ | F_STREAM, -1, 0),
	S("readv", F_IO | F_READ | F_STREAM, -1, 0),
	S("pread64", F_IO | F_READ, -1, 0),
	S("preadv", F_IO | F_READ, -1, 0),
	S("preadv2", F_IO | F_READ, -1, 0),
	S("write", F_IO | F_WRITE | F_STREAM, -1, 0),
	S("writev", F_IO | F_WRITE | F_STREAM, -1, 0),
	S("pwrite64", F_IO | F_WRITE, -1, 0),
	S("pwritev", F_IO | F_WRITE, -1, 0),
	S("pwritev2", F_IO | F_WRITE, -1, 0),
	S("sendfile", F_IO | F_WRITE, -1, 0),
	S("copy_file_range", F_IO | F_WRITE, -1, 2),
	S("lseek", F_IO, -1, 0),
	S("fsync", F_IO, -1, 0),
	S("fdatasync", F_IO, -1, 0),
	S("ftruncate", F_IO, -1, 0),
	S("fallocate", F_IO, -1, 0),
	S("fcntl", F_IO, -1, 0),
	S("ioctl", F_IO, -1, 0),
	S("flock", F_IO | F_BLOCK, -1, 0),
	S("dup", F_IO, -1, 0),
	S("dup2", F_IO, -1, 0),
	S("dup3", F_IO, -1, 0),
	S("getdents", F_IO | F_META, -1, 0),
	S("getdents64", F_IO | F_META, -1, 0),
	S("fstat", F_IO | F_META, -1, 0),
	S("fstatfs", F_IO | F_META, -1, 0),
	S("stat", F_IO | F_META, 0, -1),
	S("lstat", F_IO | F_META, 0, -1),
	S("newfstatat", F_IO | F_META, 1, -1),
	S("statx", F_IO | F_META, 1, -1),
	S("statfs", F_IO | F_META, 0, -1),
	S("access", F_IO | F_META, 0, -1),
	S("faccessat", F_IO | F_META, 1, -1),
	S("faccessat2", F_IO | F_META, 1, -1),
	S("readlink", F_IO | F_META, 0, -1),
	S("readlinkat", F_IO | F_META, 1, -1),
	S("getxattr", F_IO | F_META, 0, -1),
	S("lgetxattr", F_IO | F_META, 0, -1),
	S("listxattr", F_IO | F_META, 0, -1),
	S("unlink", F_IO, 0, -1),
	S("unlinkat", F_IO, 1, -1),
	S("rename", F_IO, 0, -1),
	S("renameat", F_IO, 1, -1),
	S("renameat2", F_IO, 1, -1),
	S("mkdir", F_IO, 0, -1),
	S("mkdirat", F_IO, 1, -1),
	S("rmdir", F_IO, 0, -1),
	S("chdir", F_IO, 0, -1),
	S("truncate", F_IO, 0, -1),
	S("chmod", F_IO, 0, -1),
	S("fchmodat", F_IO, 1, -1),
	S("chown", F_IO, 0, -1),
	S("fchownat", F_IO, 1, -1),
	S("utimensat", F_IO, 1, -1),
	S("link", F_IO, 0, -1),
	S("linkat", F_IO, 1, -1),
	S("symlink", F_IO, 1, -1),
	S("symlinkat", F_IO, 2, -1),
	S("mknodat", F_IO, 1, -1),
	S("inotify_add_watch", F_IO, 1, -1),
	S("execve", 0, 0, -1),
	S("execveat", 0, 1, -1),
	{ "socket", F_NET, -1, -1, -1, -1, -1, -1, -1, 0 },
	S("socketpair", F_NET, -1, -1),
	{ "connect", F_NET, -1, 0, -1, 1, 2, -1, -1, -1 },
	{ "bind", F_NET, -1, 0, -1, 1, 2, -1, -1, -1 },
	S("listen", F_NET, -1, 0),
	{ "accept", F_NET | F_BLOCK | F_OPEN, -1, 0, -1, -1, -1, 1, 2, -1 },
	{ "accept4", F_NET | F_BLOCK | F_OPEN, -1, 0, -1, -1, -1, 1, 2, -1 },
	{ "sendto", F_NET | F_WRITE, -1, 0, -1, 4, 5, -1, -1, -1 },
	{ "recvfrom", F_NET | F_READ | F_STREAM, -1, 0, -1, -1, -1, 4, 5, -1 },
	S("sendmsg", F_NET | F_WRITE, -1, 0),
	S("recvmsg", F_NET | F_READ | F_STREAM, -1, 0),
	S("sendmmsg", F_NET, -1, 0),
	S("recvmmsg", F_NET | F_STREAM, -1, 0),
	S("shutdown", F_NET, -1, 0),
	{ "getpeername", F_NET, -1, 0, -1, -1, -1, 1, 2, -1 },
	{ "getsockname", F_NET, -1, 0, -1, -1, -1, 1, 2, -1 },
	S("setsockopt", F_NET, -1, 0),
	S("getsockopt", F_NET, -1, 0),
	S("poll", F_POLL | F_BLOCK, -1, -1),
	S("ppoll", F_POLL | F_BLOCK, -1, -1),
	S("select", F_POLL | F_BLOCK, -1, -1),
	S("pselect6", F_POLL | F_BLOCK, -1, -1),
	S("epoll_wait", F_POLL | F_BLOCK, -1, 0),
	S("epoll_pwait", F_POLL | F_BLOCK, -1, 0),
	S("epoll_pwait2", F_POLL | F_BLOCK, -1, 0),
	S("io_uring_enter", F_BLOCK, -1, 0),
	S("io_getevents", F_BLOCK, -1, -1),
	S("io_pgetevents", F_BLOCK, -1, -1),
	S("restart_syscall", F_BLOCK, -1, -1),
	S("futex", F_BLOCK, -1, -1),
	S("futex_waitv", F_BLOCK, -1, -1),
	S("nanosleep", F_BLOCK, -1, -1),
	S("clock_nanosleep", F_BLOCK, -1, -1),
	S("pause", F_BLOCK, -1, -1),
	S("wait4", F_BLOCK, -1, -1),
	S("waitid", F_BLOCK, -1, -1),
	S("rt_sigsuspend", F_BLOCK, -1, -1),
	S("rt_sigtimedwait", F_BLOCK, -1, -1),
	S("msgrcv", F_BLOCK, -1, -1),
	S("semop", F_BLOCK, -1, -1),
	S("semtimedop", F_BLOCK, -1, -1),
	S("mq_timedreceive", F_BLOCK, -1, -1),
	/* The rest of a sleep or wait that a signal (or attaching) broke. */
	S("restart_syscall", F_BLOCK, -1, -1),
	/* Gives the CPU away: it takes as long as the others run. */
	S("sched_yield", F_BLOCK, -1, -1),
};

/* The specs by syscall number, for this machine's numbering. */
struct decoder {
	const struct spec *by_nr[NR_MAX];
};

void
decode_init(struct trace *tr)
{
	tr->dec = xcalloc(1, sizeof(*tr->dec));
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		long nr = syscall_number(specs[i].name);

		if (nr >= 0 && nr < NR_MAX)
			tr->dec->by_nr[nr] = &specs[i];
	}
}

void
decode_release(struct trace *tr)
{
	free(tr->dec);
	tr->dec = NULL;
}

static const struct spec *
spec_of(const struct trace *tr, long nr)
{
	return nr >= 0 && nr < NR_MAX ? tr->dec->by_nr[nr] : NULL;
}

static int
has(const struct trace *tr, long nr, int flag)
{
	const struct spec *s = spec_of(tr, nr);

	return s != NULL && (s->flags & flag) != 0;
}

int call_is_io(const struct trace *tr, long nr) { return has(tr, nr, F_IO); }
int call_is_net(const struct trace *tr, long nr) { return has(tr, nr, F_NET); }
int call_is_metadata(const struct trace *tr, long nr) { return has(tr, nr, F_META); }
int call_is_poll(const struct trace *tr, long nr) { return has(tr, nr, F_POLL); }

int
call_path_arg(const struct trace *tr, long nr)
{
	const struct spec *s = spec_of(tr, nr);

	return s ? s->path : -1;
}

int
call_fd_arg(const struct trace *tr, long nr)
{
	const struct spec *s = spec_of(tr, nr);

	return s ? s->fd : -1;
}

int
call_bytes_dir(const struct trace *tr, long nr)
{
	if (has(tr, nr, F_READ))
		return 1;
	if (has(tr, nr, F_WRITE))
		return -1;
	return 0;
}

int call_blocks_always(const struct trace *tr, long nr) { return has(tr, nr, F_BLOCK); }
int call_is_stream(const struct trace *tr, long nr) { return has(tr, nr, F_STREAM); }

int
call_changes_fds(const struct trace *tr, long nr)
{
	const struct spec *s = spec_of(tr, nr);

	if (s == NULL)
		return 0;
	return (s->flags & (F_OPEN | F_CLOSE)) || strncmp(s->name, "dup", 3) == 0 ||
	    strcmp(s->name, "connect") == 0;
}

void
call_arg_layout(const struct trace *tr, long nr, int idx[6])
{
	const struct spec *s = spec_of(tr, nr);

	if (s == NULL) {
		for (int i = 0; i < 6; i++)
			idx[i] = -1;
		return;
	}
	idx[0] = s->path;
	idx[1] = s->fd;
	idx[2] = s->addr;
	idx[3] = s->addrlen;
	idx[4] = s->oaddr;
	idx[5] = s->oaddrlen;
}

/* What an fd described as desc waits on: not a file or a directory. */
int
fd_desc_blocks(const char *d)
{
	if (d == NULL)
		return 1;	/* unknown fd: do not blame the kernel */
	return d[0] != '/' || strncmp(d, "/dev/", 5) == 0;
}

/*
 * A call that waits for something outside the process (an event, a
 * timeout, a lock, a child, data on a pipe or socket or terminal) is slow
 * because it is meant to be; its latency says nothing about the kernel.
 */
int
call_blocks_by_design(struct trace *tr, const struct call *c)
{
	const struct spec *s = spec_of(tr, c->nr);
	const char *d;

	if (s == NULL)
		return 0;
	if (s->flags & F_BLOCK)
		return 1;
	if (!(s->flags & F_STREAM) || s->fd < 0)
		return 0;
	d = fd_describe(tr, c->pid, (int)c->args[s->fd]);
	return fd_desc_blocks(d);
}

int
read_user(int pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	if (addr == 0)
		return -1;
	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len
	    ? 0 : -1;
}

/*
 * A NUL-terminated string, read a page at a time so that a string ending
 * just before an unmapped page still reads.
 */
int
read_user_str(int pid, uint64_t addr, char *buf, size_t len)
{
	size_t got = 0;

	if (addr == 0 || len == 0)
		return -1;
	while (got < len - 1) {
		size_t chunk = 4096 - ((addr + got) & 4095);
		struct iovec local, remote;
		ssize_t n;

		if (chunk > len - 1 - got)
			chunk = len - 1 - got;
		local.iov_base = buf + got;
		local.iov_len = chunk;
		remote.iov_base = (void *)(uintptr_t)(addr + got);
		remote.iov_len = chunk;
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			return -1;
		if (memchr(buf + got, '\0', (size_t)n) != NULL)
			return 0;
		got += (size_t)n;
	}
	buf[len - 1] = '\0';
	return 0;
}

/*
 * Read after the call (tracepoint method), a reused buffer gives bytes no
 * path has: control characters, invalid UTF-8. Those are unreadable, not
 * a name to report.
 */
static int
path_plausible(const char *p)
{
	size_t n = strlen(p);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return utf8_valid(p, n);
}

static void
read_sockaddr(struct call *c, uint64_t addr, uint64_t len)
{
	if (len == 0 || addr == 0)
		return;
	if (len > sizeof(c->sa))
		len = sizeof(c->sa);
	if (read_user(c->pid, addr, &c->sa, len) == 0)
		c->salen = (socklen_t)len;
}

void
decode_enter(struct trace *tr, struct call *c)
{
	const struct spec *s = spec_of(tr, c->nr);
	char buf[4096];

	c->salen = 0;
	c->path = NULL;
	c->path_unreadable = 0;
	if (s == NULL)
		return;
	if (s->path >= 0) {
		if (read_user_str(c->pid, c->args[s->path], buf, sizeof(buf)) == 0 &&
		    path_plausible(buf)) {
			c->path = xstrdup(buf);
		} else {
			c->path_unreadable = 1;
			tr->stats.path_unreadable++;
		}
	}
	if (s->addr >= 0)
		read_sockaddr(c, c->args[s->addr], c->args[s->addrlen]);
}

void
decode_exit(struct trace *tr, struct call *c)
{
	const struct spec *s = spec_of(tr, c->nr);
	uint32_t olen;
	char *addr;

	if (s == NULL)
		return;
	if (s->oaddr >= 0 && c->ret >= 0 && c->args[s->oaddr] != 0 &&
	    read_user(c->pid, c->args[s->oaddrlen], &olen, sizeof(olen)) == 0)
		read_sockaddr(c, c->args[s->oaddr], olen);

	/* Keep the fd table true so later reads and writes name their file. */
	if ((s->flags & F_OPEN) && c->ret >= 0) {
		if (c->path != NULL) {
			fd_set_desc(tr, c->pid, (int)c->ret, c->path);
		} else if (c->salen > 0 &&
		    (addr = sockaddr_str(&c->sa, c->salen, NULL, NULL)) != NULL) {
			fd_set_desc(tr, c->pid, (int)c->ret, addr);
			free(addr);
		} else {
			fd_forget(tr, c->pid, (int)c->ret);
		}
	}
	if ((s->flags & F_CLOSE) && c->ret == 0) {
		/* Name what was closed before the table forgets it. */
		const char *d = fd_describe(tr, c->pid, (int)c->args[0]);

		if (d != NULL && c->path == NULL)
			c->path = xstrdup(d);
		fd_forget(tr, c->pid, (int)c->args[0]);
	}
	if (strcmp(s->name, "connect") == 0 && c->salen > 0 &&
	    (addr = sockaddr_str(&c->sa, c->salen, NULL, NULL)) != NULL) {
		fd_set_desc(tr, c->pid, (int)c->args[0], addr);
		free(addr);
	}
	if (strncmp(s->name, "dup", 3) == 0 && c->ret >= 0)
		fd_forget(tr, c->pid, (int)c->ret);
	if (strncmp(s->name, "execve", 6) == 0 && c->ret == 0)
		fd_forget_pid(tr, c->pid);
}

int
call_is_dns(const struct call *c)
{
	const struct sockaddr_in *in = (const void *)&c->sa;
	const struct sockaddr_in6 *in6 = (const void *)&c->sa;

	if (c->salen < sizeof(sa_family_t))
		return 0;
	if (c->sa.ss_family == AF_INET && c->salen >= sizeof(*in))
		return ntohs(in->sin_port) == 53;
	if (c->sa.ss_family == AF_INET6 && c->salen >= sizeof(*in6))
		return ntohs(in6->sin6_port) == 53;
	return 0;
}

/* "127.0.0.1:80", "[::1]:80", "/run/x.sock", "@abstract"; caller frees. */
char *
sockaddr_str(const struct sockaddr_storage *sa, socklen_t len, int *port,
    const char **family)
{
	char ip[INET6_ADDRSTRLEN];

	if (port)
		*port = -1;
	if (family)
		*family = NULL;
	if (len < sizeof(sa_family_t))
		return NULL;
	switch (sa->ss_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const void *)sa;

		if (len < sizeof(*in))
			return NULL;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		if (port)
			*port = ntohs(in->sin_port);
		if (family)
			*family = "inet";
		return xasprintf("%s:%u", ip, ntohs(in->sin_port));
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		if (len < sizeof(*in6))
			return NULL;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		if (port)
			*port = ntohs(in6->sin6_port);
		if (family)
			*family = "inet6";
		return xasprintf("[%s]:%u", ip, ntohs(in6->sin6_port));
	}
	case AF_UNIX: {
		const struct sockaddr_un *un = (const void *)sa;
		size_t plen = len - offsetof(struct sockaddr_un, sun_path);
		char path[sizeof(un->sun_path) + 2];

		if (family)
			*family = "unix";
		if (len <= offsetof(struct sockaddr_un, sun_path))
			return xstrdup("unnamed");
		if (plen > sizeof(un->sun_path))
			plen = sizeof(un->sun_path);
		if (un->sun_path[0] == '\0') {	/* abstract namespace */
			path[0] = '@';
			memcpy(path + 1, un->sun_path + 1, plen - 1);
			path[plen] = '\0';
		} else {
			memcpy(path, un->sun_path, plen);
			path[plen] = '\0';
		}
		for (char *p = path + 1; *p; p++)
			if (*p < 0x20)
				*p = '?';
		return xstrdup(path);
	}
	case AF_NETLINK:
		if (family)
			*family = "netlink";
		return xstrdup("netlink");
	default:
		if (family)
			*family = "other";
		return xasprintf("family %u", sa->ss_family);
	}
}

const char *
open_flags_str(unsigned long flags, char *buf, size_t len)
{
	static const struct { unsigned long bit; const char *name; } bits[] = {
		{ O_CREAT, "O_CREAT" }, { O_EXCL, "O_EXCL" },
		{ O_NOCTTY, "O_NOCTTY" }, { O_TRUNC, "O_TRUNC" },
		{ O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" },
		{ O_DSYNC, "O_DSYNC" }, { O_DIRECT, "O_DIRECT" },
		{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" },
		{ O_NOATIME, "O_NOATIME" }, { O_CLOEXEC, "O_CLOEXEC" },
		{ O_PATH, "O_PATH" }, { O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE" },
		{ O_LARGEFILE, "O_LARGEFILE" },
	};
	const char *acc = (flags & O_ACCMODE) == O_WRONLY ? "O_WRONLY" :
	    (flags & O_ACCMODE) == O_RDWR ? "O_RDWR" : "O_RDONLY";
	size_t n = (size_t)snprintf(buf, len, "%s", acc);

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]) && n < len; i++)
		if (bits[i].bit != 0 && (flags & bits[i].bit) == bits[i].bit)
			n += (size_t)snprintf(buf + n, len - n, "|%s", bits[i].name);
	return buf;
}
