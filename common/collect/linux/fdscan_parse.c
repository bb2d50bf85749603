/*
 * Text parsing for the fd scanner: readlink targets and fdinfo. Pure
 * functions, so the unit tests can feed them captured text.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdscan.h"
#include "msg.h"

static const char *const kind_names[FDK__COUNT] = {
	[FDK_FILE] = "file", [FDK_DIR] = "dir", [FDK_PIPE] = "pipe",
	[FDK_FIFO] = "fifo", [FDK_TCP] = "tcp", [FDK_UDP] = "udp",
	[FDK_UNIX] = "unix", [FDK_NETLINK] = "netlink", [FDK_SOCKET] = "socket",
	[FDK_EVENTPOLL] = "eventpoll", [FDK_INOTIFY] = "inotify",
	[FDK_FANOTIFY] = "fanotify", [FDK_EVENTFD] = "eventfd",
	[FDK_TIMERFD] = "timerfd", [FDK_SIGNALFD] = "signalfd",
	[FDK_PIDFD] = "pidfd", [FDK_MEMFD] = "memfd", [FDK_TTY] = "tty",
	[FDK_CHR] = "chr", [FDK_BLK] = "blk", [FDK_ANON] = "anon",
	[FDK_OTHER] = "other",
};

const char *
fd_kind_name(enum fd_kind k)
{
	if ((unsigned)k >= FDK__COUNT)
		return "other";
	return kind_names[k];
}

/* "pipe:[123]" style: the number in brackets after prefix. */
static int
bracket_num(const char *link, const char *prefix, uint64_t *ino)
{
	size_t n = strlen(prefix);
	char *end;

	if (strncmp(link, prefix, n) != 0 || link[n] != '[')
		return 0;
	*ino = strtoull(link + n + 1, &end, 10);
	return *end == ']';
}

static const struct {
	const char *name;
	enum fd_kind kind;
} anon_kinds[] = {
	{ "eventpoll", FDK_EVENTPOLL }, { "inotify", FDK_INOTIFY },
	{ "fanotify", FDK_FANOTIFY }, { "eventfd", FDK_EVENTFD },
	{ "timerfd", FDK_TIMERFD }, { "signalfd", FDK_SIGNALFD },
	{ "pidfd", FDK_PIDFD },
};

enum fd_kind
fdscan_kind_from_link(const char *link, char **anon_name, uint64_t *ino)
{
	uint64_t n = 0;

	*anon_name = NULL;
	if (bracket_num(link, "socket:", &n)) {
		*ino = n;
		return FDK_SOCKET;
	}
	if (bracket_num(link, "pipe:", &n)) {
		*ino = n;
		return FDK_PIPE;
	}
	if (bracket_num(link, "pidfd:", &n)) {	/* pidfs, Linux 6.9+ */
		*ino = n;
		return FDK_PIDFD;
	}
	if (strncmp(link, "anon_inode:", 11) == 0) {
		const char *name = link + 11;
		size_t len = strlen(name);

		/* "[eventfd]" and "inotify" both occur. */
		if (len >= 2 && name[0] == '[' && name[len - 1] == ']') {
			name++;
			len -= 2;
		}
		for (size_t i = 0; i < sizeof(anon_kinds) / sizeof(anon_kinds[0]); i++)
			if (strlen(anon_kinds[i].name) == len &&
			    strncmp(anon_kinds[i].name, name, len) == 0)
				return anon_kinds[i].kind;
		*anon_name = xmalloc(len + 1);
		memcpy(*anon_name, name, len);
		(*anon_name)[len] = '\0';
		return FDK_ANON;
	}
	if (strncmp(link, "/memfd:", 7) == 0)
		return FDK_MEMFD;
	if (link[0] == '/')
		return FDK_FILE;	/* refined by stat */
	return FDK_OTHER;		/* net:[...], mnt:[...], ... */
}

static void
parse_inotify(const char *text, struct fd_info *fi)
{
	/* This line alone: sscanf and strstr on the rest of the fdinfo text
	 * measure it all for each watch (quadratic: 40 s for 8500 watches
	 * under ASan) and could take a field from the next line. A handle
	 * cut short by the bound is not parsed. */
	char line[512];
	size_t len = strcspn(text, "\n");
	struct fd_watch w = { .handle_type = -1 };
	unsigned long long ino = 0;
	unsigned sdev = 0, mask = 0, hbytes = 0;
	int htype = -1, n = 0;
	const char *h;

	unsigned wd = 0;

	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	memcpy(line, text, len);
	line[len] = '\0';
	/* The kernel prints wd in hex (%x), like ino and sdev. */
	if (sscanf(line, "inotify wd:%x ino:%llx sdev:%x mask:%x%n",
	    &wd, &ino, &sdev, &mask, &n) < 4)
		return;
	w.wd = (int)wd;
	w.ino = ino;
	w.mask = mask;
	/* The kernel's dev_t: 12 bits of major above 20 bits of minor. */
	w.dev_major = sdev >> 20;
	w.dev_minor = sdev & 0xfffff;
	if ((h = strstr(line + n, "fhandle-bytes:")) != NULL &&
	    sscanf(h, "fhandle-bytes:%x fhandle-type:%x", &hbytes, (unsigned *)&htype) == 2 &&
	    hbytes <= sizeof(w.handle) && (h = strstr(h, "f_handle:")) != NULL) {
		h += 9;
		for (unsigned i = 0; i < hbytes; i++) {
			unsigned byte;

			if (sscanf(h + 2 * i, "%2x", &byte) != 1)
				goto nohandle;
			w.handle[i] = (unsigned char)byte;
		}
		w.handle_bytes = hbytes;
		w.handle_type = htype;
	}
nohandle:
	/* Doubled at each power of two: growing by one is quadratic where
	 * realloc always copies (ASan: 40 s for 8500 watches). */
	if ((fi->nwatches & (fi->nwatches - 1)) == 0)
		fi->watches = xreallocarray(fi->watches,
		    fi->nwatches ? 2 * (size_t)fi->nwatches : 1, sizeof(*fi->watches));
	fi->watches[fi->nwatches++] = w;
}

#define EPOLL_FDS_KEPT 16

/* The value after "key:" when line starts with it, else NULL. */
static const char *
field(const char *line, const char *key, size_t klen)
{
	if (strncmp(line, key, klen) != 0)
		return NULL;
	line += klen;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

#define FIELD(line, key) field(line, key, sizeof(key) - 1)

/*
 * Dispatch on the first character: this runs once per line of fdinfo
 * for every descriptor, so it avoids trying each sscanf pattern in turn.
 * Per-kind lines are taken only for fi's kind: their fields share memory.
 */
void
fdscan_parse_fdinfo(const char *text, struct fd_info *fi)
{
	const char *p = text, *v;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');

		switch (*p) {
		case 'p':
			if ((v = FIELD(p, "pos:")) != NULL)
				fi->pos = strtoll(v, NULL, 10);
			break;
		case 'f':
			if ((v = FIELD(p, "flags:")) != NULL)
				fi->flags = (unsigned)strtoul(v, NULL, 8);
			break;
		case 'i':
			if ((v = FIELD(p, "ino:")) != NULL) {
				if (fi->ino == 0)
					fi->ino = strtoull(v, NULL, 10);
			} else if (strncmp(p, "inotify wd:", 11) == 0) {
				parse_inotify(p, fi);
			} else if (fi->kind == FDK_TIMERFD && (v = FIELD(p, "it_value:")) != NULL) {
				long long sec, ns;

				if (sscanf(v, "(%lld, %lld)", &sec, &ns) == 2)
					fi->timer_value_ns = sec * 1000000000LL + ns;
			}
			break;
		case 't':
			if (fi->kind == FDK_EVENTPOLL && (v = FIELD(p, "tfd:")) != NULL) {
				if (fi->epoll_nfds < EPOLL_FDS_KEPT) {
					if (fi->epoll_fds == NULL)
						fi->epoll_fds = xcalloc(EPOLL_FDS_KEPT, sizeof(int));
					fi->epoll_fds[fi->epoll_nfds++] = (int)strtol(v, NULL, 10);
				}
				fi->epoll_count++;
			} else if (fi->kind == FDK_TIMERFD && (v = FIELD(p, "ticks:")) != NULL) {
				fi->timer_ticks = strtoull(v, NULL, 10);
			}
			break;
		case 'e':
			if (fi->kind == FDK_EVENTFD && (v = FIELD(p, "eventfd-count:")) != NULL)
				fi->eventfd_count = strtoull(v, NULL, 16);
			break;
		case 'c':
			if (fi->kind == FDK_TIMERFD && (v = FIELD(p, "clockid:")) != NULL)
				fi->timer_clockid = (int)strtol(v, NULL, 10);
			break;
		case 's':
			if (fi->kind == FDK_SIGNALFD && (v = FIELD(p, "sigmask:")) != NULL)
				fi->sigmask = strtoull(v, NULL, 16);
			break;
		case 'P':
			if (fi->kind == FDK_PIDFD && (v = FIELD(p, "Pid:")) != NULL)
				fi->pidfd_pid = (int)strtol(v, NULL, 10);
			break;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	fi->have_fdinfo = 1;
}

/* Append s to buf (size len, used *off), truncating; always terminated. */
static void
append(char *buf, size_t len, size_t *off, const char *s)
{
	size_t n = strlen(s);

	if (*off + 1 >= len)
		return;
	if (n > len - *off - 1)
		n = len - *off - 1;
	memcpy(buf + *off, s, n);
	*off += n;
	buf[*off] = '\0';
}

void
fdscan_flags_str(unsigned flags, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} bits[] = {
		{ O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" },
		{ O_DSYNC, "O_DSYNC" }, { O_SYNC & ~O_DSYNC, "O_SYNC" },
		{ O_DIRECT, "O_DIRECT" }, { O_LARGEFILE, "O_LARGEFILE" },
		{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" },
		{ O_NOATIME, "O_NOATIME" }, { O_CLOEXEC, "O_CLOEXEC" },
		{ O_PATH, "O_PATH" }, { O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE" },
		{ O_ASYNC, "O_ASYNC" },
	};
	const char *acc = (flags & O_ACCMODE) == O_RDONLY ? "O_RDONLY" :
	    (flags & O_ACCMODE) == O_WRONLY ? "O_WRONLY" :
	    (flags & O_ACCMODE) == O_RDWR ? "O_RDWR" : "O_ACCMODE";
	size_t off = 0;

	/* Once per descriptor: appends, not a snprintf per flag. */
	if (len == 0)
		return;
	append(buf, len, &off, acc);
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (flags & bits[i].bit) {
			append(buf, len, &off, "|");
			append(buf, len, &off, bits[i].name);
		}
	}
}
