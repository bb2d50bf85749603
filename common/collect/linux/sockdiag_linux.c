/*
 * sock_diag over NETLINK_SOCK_DIAG: inet_diag for TCP and UDP (v4, v6),
 * unix_diag with names, peers and queue lengths. The table only keeps the
 * inodes it was asked for; everything else in a dump is skipped unparsed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "msg.h"
#include "sockdiag.h"
#include "sockdiag_impl.h"

static const char *const tcp_states[] = {
	[0] = "UNKNOWN", [1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV",
	[4] = "FIN_WAIT1", [5] = "FIN_WAIT2", [6] = "TIME_WAIT", [7] = "CLOSE",
	[8] = "CLOSE_WAIT", [9] = "LAST_ACK", [10] = "LISTEN", [11] = "CLOSING",
	[12] = "NEW_SYN_RECV",
};

const char *
sock_state_name(enum sock_proto p, int state)
{
	if (state < 0 || state >= (int)(sizeof(tcp_states) / sizeof(tcp_states[0])))
		return "UNKNOWN";
	/* A udp or unix socket "closed" is simply not connected. */
	if (state == 7 && p != SP_TCP)
		return "UNCONN";
	return tcp_states[state];
}

const char *
sock_proto_name(enum sock_proto p)
{
	switch (p) {
	case SP_TCP:
		return "tcp";
	case SP_UDP:
		return "udp";
	case SP_UNIX:
		return "unix";
	default:
		return "socket";
	}
}

/* ---- the table ---- */

static uint64_t
hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

struct sock_ent *
socktab_slot(const struct sock_table *t, uint64_t ino)
{
	size_t mask = t->cap - 1;

	if (t->cap == 0)
		return NULL;
	for (size_t i = hash64(ino) & mask;; i = (i + 1) & mask) {
		if (t->v[i].ino == ino)
			return &t->v[i];
		if (t->v[i].ino == 0)
			return NULL;
	}
}

static void
grow(struct sock_table *t, size_t want)
{
	struct sock_ent *old = t->v;
	size_t oldcap = t->cap, cap = t->cap ? t->cap : 64;

	while (cap < want * 2)
		cap *= 2;
	if (cap == t->cap)
		return;
	t->v = xcalloc(cap, sizeof(*t->v));
	t->cap = cap;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].ino == 0)
			continue;
		size_t j = hash64(old[i].ino) & (cap - 1);

		while (t->v[j].ino != 0)
			j = (j + 1) & (cap - 1);
		t->v[j] = old[i];
	}
	free(old);
}

static void
add_wanted(struct sock_table *t, uint64_t ino)
{
	size_t mask, i;

	if (ino == 0 || socktab_slot(t, ino) != NULL)
		return;
	grow(t, t->n + 1);
	mask = t->cap - 1;
	for (i = hash64(ino) & mask; t->v[i].ino != 0; i = (i + 1) & mask)
		;
	t->v[i].ino = ino;
	t->n++;
	t->missing++;
}

/* Fill the wanted entry for e->ino, if wanted and not yet found. */
void
socktab_offer(struct sock_table *t, const struct sock_ent *e)
{
	struct sock_ent *s = socktab_slot(t, e->ino);

	if (s == NULL || s->found)
		return;
	*s = *e;
	s->path = e->path ? xstrdup(e->path) : NULL;
	s->found = 1;
	t->missing--;
}

struct sock_table *
socktab_new(const char *proc_root, int allow_netlink)
{
	struct sock_table *t = xcalloc(1, sizeof(*t));

	t->proc_root = xstrdup(proc_root ? proc_root : "/proc/self");
	t->use_netlink = allow_netlink && proc_root == NULL;
	if (!allow_netlink)
		t->fallback_reason = xstrdup("netlink disabled by --procfs-sockets");
	else if (proc_root != NULL)
		t->fallback_reason = xasprintf("%s is in another network namespace", proc_root);
	return t;
}

void
socktab_free(struct sock_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].path);
	free(t->v);
	free(t->proc_root);
	free(t->fallback_reason);
	free(t);
}

const struct sock_ent *
socktab_find(const struct sock_table *t, uint64_t ino)
{
	const struct sock_ent *e = socktab_slot(t, ino);

	return e && e->found ? e : NULL;
}

const char *
socktab_backend(const struct sock_table *t)
{
	return t->use_netlink ? "sock_diag" : "procfs";
}

const char *
socktab_fallback_reason(const struct sock_table *t)
{
	return t->fallback_reason;
}

unsigned long
socktab_dumps(const struct sock_table *t)
{
	return t->dumps;
}

/* ---- netlink ---- */

static void
fmt_addr(int family, const void *addr, int port, char *out, size_t len, int *portout)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(family, addr, buf, sizeof(buf)) == NULL)
		snprintf(buf, sizeof(buf), "?");
	snprintf(out, len, "%s", buf);
	*portout = port;
}

static int
nl_open(void)
{
	int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int bufsz = 1 << 20;

	if (s >= 0)
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	return s;
}

static int
nl_send(int s, void *req, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	for (;;) {
		if (sendto(s, req, len, 0, (struct sockaddr *)&sa, sizeof(sa)) >= 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

typedef void (*nl_cb)(struct sock_table *t, const struct nlmsghdr *h, void *arg);

/*
 * Read a dump to its end, or until every wanted inode has been found (the
 * socket is then closed with the rest unread, which the kernel allows).
 */
static int
nl_dump(struct sock_table *t, int s, nl_cb cb, void *arg)
{
	static char buf[64 * 1024] __attribute__((aligned(8)));

	for (;;) {
		ssize_t n = recv(s, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		    h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				errno = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error ? -e->error : EPROTO;
				return -1;
			}
			cb(t, h, arg);
		}
		if (t->missing == 0)
			return 0;
	}
}

/*
 * One SOCK_DIAG dump on a socket of its own: the request (its family part
 * filled in by the caller, the header here) sent, the answer fed to cb.
 */
static int
nl_query(struct sock_table *t, struct nlmsghdr *nh, size_t len, nl_cb cb, void *arg)
{
	int s, rc, e;

	*nh = (struct nlmsghdr){
		.nlmsg_len = (uint32_t)len,
		.nlmsg_type = SOCK_DIAG_BY_FAMILY,
		.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.nlmsg_seq = 1,
	};
	if ((s = nl_open()) < 0)
		return -1;
	t->dumps++;
	rc = nl_send(s, nh, len) < 0 ? -1 : nl_dump(t, s, cb, arg);
	e = errno;
	close(s);
	errno = e;
	return rc;
}

struct inet_arg {
	enum sock_proto proto;
};

static void
inet_cb(struct sock_table *t, const struct nlmsghdr *h, void *arg)
{
	const struct inet_arg *a = arg;
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	struct sock_ent e = { 0 };

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) || m->idiag_inode == 0)
		return;
	if (socktab_slot(t, m->idiag_inode) == NULL)
		return;
	e.ino = m->idiag_inode;
	e.proto = a->proto;
	e.family = m->idiag_family;
	e.state = m->idiag_state;
	e.rq = m->idiag_rqueue;
	e.wq = m->idiag_wqueue;
	fmt_addr(e.family, m->id.idiag_src, ntohs(m->id.idiag_sport),
	    e.local_addr, sizeof(e.local_addr), &e.local_port);
	fmt_addr(e.family, m->id.idiag_dst, ntohs(m->id.idiag_dport),
	    e.remote_addr, sizeof(e.remote_addr), &e.remote_port);
	socktab_offer(t, &e);
}

static int
dump_inet(struct sock_table *t, int family, enum sock_proto proto)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.r = {
			.sdiag_family = (unsigned char)family,
			.sdiag_protocol = proto == SP_TCP ? IPPROTO_TCP : IPPROTO_UDP,
			/* No fd ever holds a TIME_WAIT or SYN_RECV socket. */
			.idiag_states = ~0U & ~((1U << 6) | (1U << 3) | (1U << 12)),
		},
	};
	struct inet_arg a = { proto };

	return nl_query(t, &req.nh, sizeof(req), inet_cb, &a);
}

static void
unix_cb(struct sock_table *t, const struct nlmsghdr *h, void *arg)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	struct sock_ent e = { 0 };
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 2];
	int alen;

	(void)arg;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) || socktab_slot(t, m->udiag_ino) == NULL)
		return;
	e.ino = m->udiag_ino;
	e.proto = SP_UNIX;
	e.family = AF_UNIX;
	e.type = m->udiag_type;
	e.state = m->udiag_state;
	alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (const struct rtattr *at = (const struct rtattr *)(m + 1); RTA_OK(at, alen);
	    at = RTA_NEXT(at, alen)) {
		size_t plen = RTA_PAYLOAD(at);
		const char *p = RTA_DATA(at);

		switch (at->rta_type) {
		case UNIX_DIAG_NAME:
			if (plen == 0 || plen >= sizeof(name) - 1)
				break;
			if (p[0] == '\0') {	/* abstract: shown as @name */
				name[0] = '@';
				memcpy(name + 1, p + 1, plen - 1);
				name[plen] = '\0';
			} else {
				memcpy(name, p, plen);
				name[plen] = '\0';
			}
			/* Abstract names may hold NULs; the rest is cut. */
			e.path = name;
			break;
		case UNIX_DIAG_PEER:
			if (plen >= sizeof(uint32_t)) {
				uint32_t peer;

				memcpy(&peer, p, sizeof(peer));
				e.peer_ino = peer;
			}
			break;
		case UNIX_DIAG_RQLEN:
			if (plen >= sizeof(struct unix_diag_rqlen)) {
				struct unix_diag_rqlen q;

				memcpy(&q, p, sizeof(q));
				e.rq = q.udiag_rqueue;
				e.wq = q.udiag_wqueue;
			}
			break;
		}
	}
	socktab_offer(t, &e);
}

static int
dump_unix(struct sock_table *t)
{
	struct {
		struct nlmsghdr nh;
		struct unix_diag_req r;
	} req = {
		.r = {
			.sdiag_family = AF_UNIX,
			.udiag_states = ~0U,
			.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN,
		},
	};

	return nl_query(t, &req.nh, sizeof(req), unix_cb, NULL);
}

/* The order sources are tried in; each runs once per table. */
enum src { S_TCP4, S_TCP6, S_UNIX, S_UDP4, S_UDP6, S__COUNT };

static int
load_netlink(struct sock_table *t, enum src s)
{
	switch (s) {
	case S_TCP4:
		return dump_inet(t, AF_INET, SP_TCP);
	case S_TCP6:
		return dump_inet(t, AF_INET6, SP_TCP);
	case S_UDP4:
		return dump_inet(t, AF_INET, SP_UDP);
	case S_UDP6:
		return dump_inet(t, AF_INET6, SP_UDP);
	default:
		return dump_unix(t);
	}
}

static int
load_procfs(struct sock_table *t, enum src s)
{
	static const char *const files[S__COUNT] = {
		[S_TCP4] = "tcp", [S_TCP6] = "tcp6", [S_UNIX] = "unix",
		[S_UDP4] = "udp", [S_UDP6] = "udp6",
	};

	t->dumps++;
	return socktab_load_procfs(t, files[s]);
}

int
socktab_want(struct sock_table *t, const uint64_t *inos, size_t n)
{
	int err = 0;

	/* Sized once: rehashing through every doubling touched fresh pages each time. */
	grow(t, t->n + n);
	for (size_t i = 0; i < n; i++)
		add_wanted(t, inos[i]);
	for (int s = 0; s < S__COUNT && t->missing > 0; s++) {
		if (t->loaded & (1U << s))
			continue;
		t->loaded |= 1U << s;
		if (t->use_netlink && load_netlink(t, (enum src)s) == 0)
			continue;
		if (t->use_netlink) {
			/* No sock_diag (module missing, seccomp, EPERM): /proc/net from here on. */
			t->fallback_reason = xasprintf("sock_diag failed: %s", strerror(errno));
			t->use_netlink = 0;
		}
		if (load_procfs(t, (enum src)s) < 0 && errno != ENOENT)
			err = errno;
	}
	return err;
}
