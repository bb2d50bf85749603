/*
 * Socket details by inode: protocol, addresses, state, queues, unix path
 * and peer. On Linux from the kernel's sock_diag netlink interface (as
 * ss(8) does), falling back to /proc/net/{tcp,tcp6,udp,udp6,unix}, which
 * have no unix peers. A port provides its own sockdiag_<os>.c.
 *
 * A table is filled lazily for the inodes a caller wants: protocols are
 * dumped one at a time and the dump stops once every wanted inode is found,
 * so the common case (a process with a few TCP sockets) costs one dump.
 */
#ifndef CD_SOCKDIAG_H
#define CD_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>

enum sock_proto { SP_NONE, SP_TCP, SP_UDP, SP_UNIX };

struct sock_ent {
	uint64_t ino;
	int found;
	enum sock_proto proto;
	int family;		/* AF_INET, AF_INET6, AF_UNIX */
	int type;		/* unix: SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	int state;		/* kernel TCP_* numbering (unix sockets too) */
	char local_addr[48], remote_addr[48];
	int local_port, remote_port;
	uint32_t rq, wq;	/* receive and send queue */
	char *path;		/* unix: bound name, "@name" when abstract */
	uint64_t peer_ino;	/* unix: the other end, 0 unknown */
};

struct sock_table;

/*
 * proc_root: NULL to use netlink in our own network namespace (with the
 * /proc/net fallback), or a "/proc/PID" whose net/ files describe that
 * process's namespace (no netlink there).
 */
struct sock_table *socktab_new(const char *proc_root, int allow_netlink);
void socktab_free(struct sock_table *t);
/* Ask for these inodes; loads what is needed. Returns 0 or an errno. */
int socktab_want(struct sock_table *t, const uint64_t *inos, size_t n);
const struct sock_ent *socktab_find(const struct sock_table *t, uint64_t ino);
/* "sock_diag" or "procfs", and why the fallback was taken (NULL if not). */
const char *socktab_backend(const struct sock_table *t);
const char *socktab_fallback_reason(const struct sock_table *t);
unsigned long socktab_dumps(const struct sock_table *t);

/* "ESTABLISHED", "LISTEN", "CLOSE_WAIT", ..., "UNCONN" for a closed udp/unix. */
const char *sock_state_name(enum sock_proto p, int state);
const char *sock_proto_name(enum sock_proto p);

/* ---- parsing helpers, exposed for unit tests ---- */

/* One line of /proc/net/tcp{,6} or udp{,6} into e (ino included). */
int sockdiag_parse_inet_line(const char *line, int family, struct sock_ent *e);
/* One line of /proc/net/unix. */
int sockdiag_parse_unix_line(const char *line, struct sock_ent *e);

#endif
