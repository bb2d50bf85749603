/*
 * The open file descriptors of a process, classified. The interface is
 * platform-neutral; fdscan_linux.c reads /proc/PID/fd and fdinfo, and a
 * port supplies its own fdscan_<os>.c. Sockets are only recognised here;
 * their protocol, addresses and state come from sockdiag.h.
 */
#ifndef CD_FDSCAN_H
#define CD_FDSCAN_H

#include <stddef.h>
#include <stdint.h>

enum fd_kind {
	FDK_FILE, FDK_DIR, FDK_PIPE, FDK_FIFO,
	FDK_TCP, FDK_UDP, FDK_UNIX, FDK_NETLINK, FDK_SOCKET,	/* socket: other or unknown */
	FDK_EVENTPOLL, FDK_INOTIFY, FDK_FANOTIFY, FDK_EVENTFD, FDK_TIMERFD,
	FDK_SIGNALFD, FDK_PIDFD, FDK_MEMFD, FDK_TTY, FDK_CHR, FDK_BLK,
	FDK_ANON,	/* other anonymous inode: io_uring, bpf, perf_event ... */
	FDK_OTHER,	/* namespaces and whatever else */
	FDK__COUNT
};

const char *fd_kind_name(enum fd_kind k);

/* One inotify watch, from an fdinfo "inotify wd:..." line. */
struct fd_watch {
	int wd;
	uint64_t ino;
	unsigned dev_major, dev_minor;
	uint32_t mask;
	int handle_type;
	unsigned handle_bytes;
	unsigned char handle[128];
	char *path;		/* resolved, or NULL */
};

/*
 * One descriptor. Kept small: a 10,000-fd table is 10,000 of these, and on
 * a virtual machine every fresh page of it costs tens of microseconds.
 */
struct fd_info {
	int fd;
	enum fd_kind kind;
	unsigned flags;		/* open flags, from fdinfo */
	unsigned char deleted;	/* a file whose last link is gone */
	unsigned char have_fdinfo, have_stat;
	unsigned char link_interned;	/* link is owned by the scan, not by us */
	int64_t pos;
	uint64_t ino;		/* inode of the open file (socket inode for sockets) */
	int64_t size;		/* bytes, files only, -1 unknown */
	unsigned rdev_major, rdev_minor;
	char *link;		/* readlink of the fd, " (deleted)" removed */
	char *anon_name;	/* anon_inode:[NAME] */
	struct fd_watch *watches;	/* inotify */
	int nwatches;		/* watches parsed (all of them) */
	uint32_t link_id;	/* while the scan is built */

	/* Details of one kind, read from fdinfo: only the member of fi->kind is set. */
	union {
		struct {	/* FDK_EVENTPOLL */
			int epoll_count;	/* fds it watches */
			int epoll_nfds;
			int *epoll_fds;		/* the first few of them */
		};
		uint64_t eventfd_count;	/* FDK_EVENTFD */
		struct {	/* FDK_TIMERFD */
			int timer_clockid;
			uint64_t timer_ticks;
			int64_t timer_value_ns;	/* time to next expiry, 0 disarmed */
		};
		uint64_t sigmask;	/* FDK_SIGNALFD */
		int pidfd_pid;		/* FDK_PIDFD: the process, -1 gone */
	};
};

struct fd_scan_stats {
	unsigned long fds_vanished;	/* closed between listing and reading */
	unsigned long fdinfo_unreadable;
	unsigned long watches_resolved;
	unsigned long watches_unresolved;
};

struct intern;

struct fd_scan {
	int pid;
	uint32_t uid;
	char comm[64];
	uint64_t netns;		/* network namespace inode, 0 unknown */
	const char *method;	/* what read the table: "bpf_iter" or "procfs" */
	/*
	 * The inotify use of the process's user as the kernel counts it
	 * against fs.inotify.max_user_* (BPF method, uid == euid); else 0.
	 */
	int have_ucounts;
	long user_inotify_instances, user_inotify_watches;
	struct fd_info *v;
	size_t n, cap;
	struct intern *links;	/* link texts shared by many fds, stored once */
	struct fd_scan_stats st;
};

enum {
	FDSCAN_NO_FDINFO = 1 << 0,	/* readlink + stat only (counting) */
	FDSCAN_RESOLVE_WATCHES = 1 << 1,	/* open_by_handle_at for inotify paths */
	/*
	 * fdinfo only where a summary needs it (inotify watches, epoll
	 * targets): no flags or position for the rest, three syscalls fewer
	 * per descriptor.
	 */
	FDSCAN_FDINFO_SPECIAL = 1 << 2,
};

/* How descriptor tables are read. */
enum fdscan_method {
	FDSCAN_AUTO,	/* the BPF iterator where it loads, else procfs */
	FDSCAN_BPF,	/* the BPF iterator, or fail */
	FDSCAN_PROCFS,	/* /proc/PID/fd and fdinfo */
};

/*
 * Choose the method for the scans that follow. FDSCAN_BPF loads the
 * iterator at once: 0, or an errno with *why saying what failed.
 */
int fdscan_set_method(enum fdscan_method m, const char **why);
/* Under FDSCAN_AUTO, why the last scan that fell back to procfs did; NULL. */
const char *fdscan_fallback_reason(void);

/*
 * Scan pid's descriptors. Returns 0, or an errno: ESRCH (no such process,
 * or it exited before the listing was read), EACCES/EPERM (not ours to
 * read). Descriptors closed while we read are skipped and counted.
 */
int fdscan_pid(int pid, unsigned opts, struct fd_scan *out);
void fdscan_release(struct fd_scan *s);

/*
 * Turn inotify watches into paths with open_by_handle_at (needs
 * CAP_DAC_READ_SEARCH), at most max of them per scan (0: all). Watches left
 * unresolved keep only device and inode. Counts go into s->st.
 */
void fdscan_resolve_watches(struct fd_scan *s, size_t max);
/*
 * Forget cached mount fds and the loaded BPF program (between runs, and
 * before exit for leak checkers).
 */
void fdscan_resolve_cleanup(void);

/* Open-file limits of pid; 0 or an errno. RLIM_INFINITY is reported as -1. */
int fdscan_nofile_limit(int pid, int64_t *soft, int64_t *hard);

/* System-wide inotify limits (per user), -1 when unknown. */
struct inotify_limits {
	int64_t max_user_watches;
	int64_t max_user_instances;
};
void fdscan_inotify_limits(struct inotify_limits *l);

/*
 * Inotify instances and watches held by all processes of uid. unreadable
 * counts processes of that user we could not look into.
 */
struct inotify_usage {
	long instances;
	long watches;
	long processes;		/* processes with at least one instance */
	long unreadable;
};
int fdscan_user_inotify(uint32_t uid, struct inotify_usage *u);

/* Our own network namespace, to tell whether sock_diag can see pid's sockets. */
uint64_t fdscan_self_netns(void);

/* ---- parsing helpers, exposed for unit tests ---- */

/* Kind and details from a readlink result (before any stat). */
enum fd_kind fdscan_kind_from_link(const char *link, char **anon_name, uint64_t *ino);
/*
 * Parse an fdinfo text into fi (flags, pos, and the lines of fi->kind:
 * set the kind first).
 */
void fdscan_parse_fdinfo(const char *text, struct fd_info *fi);
/* Open flags as "O_RDWR|O_NONBLOCK|..." into buf. */
void fdscan_flags_str(unsigned flags, char *buf, size_t len);

#endif
