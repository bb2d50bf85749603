/*
 * One process: its descriptors (fdscan), their sockets (sockdiag), limits
 * and the inotify budget of its user, counted the way the summary and the
 * diagnoses need them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdfds.h"
#include "msg.h"

/*
 * A fresh table per look, as sockets change state between samples: ours
 * through netlink, another namespace's through /proc/PID/net.
 */
static struct sock_table *
table_for(struct ctx *c, const struct proc_fds *p)
{
	char root[32];

	if (p->scan.netns == 0 || c->self_netns == 0 || p->scan.netns == c->self_netns)
		return socktab_new(NULL, c->o->netlink);
	snprintf(root, sizeof(root), "/proc/%d", p->pid);
	return socktab_new(root, c->o->netlink);
}

/* Remember each distinct backend and fallback reason for meta. */
static void
note_backend(struct ctx *c, const struct sock_table *t)
{
	const char *b = socktab_backend(t), *r = socktab_fallback_reason(t);

	if (strcmp(b, "procfs") == 0)
		c->used_procfs = 1;
	else
		c->used_netlink = 1;
	if (r == NULL)
		return;
	for (size_t i = 0; i < c->nreasons; i++)
		if (strcmp(c->reasons[i], r) == 0)
			return;
	c->reasons = xreallocarray(c->reasons, c->nreasons + 1, sizeof(*c->reasons));
	c->reasons[c->nreasons++] = xstrdup(r);
}

static void
resolve_sockets(struct ctx *c, struct proc_fds *p)
{
	struct fd_scan *s = &p->scan;
	uint64_t *inos = xcalloc(s->n ? s->n : 1, sizeof(*inos));
	struct sock_table *t;
	size_t n = 0;

	p->sock = xcalloc(s->n ? s->n : 1, sizeof(*p->sock));
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].kind == FDK_SOCKET)
			inos[n++] = s->v[i].ino;
	if (n == 0) {
		free(inos);
		return;
	}
	t = p->tab = table_for(c, p);
	if (socktab_want(t, inos, n) != 0)
		msg_warnerr("pid %d: reading socket tables", p->pid);
	note_backend(c, t);
	for (size_t i = 0; i < s->n; i++) {
		const struct sock_ent *e;

		if (s->v[i].kind != FDK_SOCKET)
			continue;
		if ((e = socktab_find(t, s->v[i].ino)) == NULL) {
			p->sockets_unresolved++;
			continue;
		}
		p->sock[i] = e;
		s->v[i].kind = e->proto == SP_TCP ? FDK_TCP : e->proto == SP_UDP ? FDK_UDP : FDK_UNIX;
	}
	free(inos);
}

static void
user_inotify(struct ctx *c, struct proc_fds *p)
{
	uint32_t uid = p->scan.uid;

	/*
	 * The kernel's own count, the one the limit is checked against, read
	 * by the BPF iterator: no walk over every process of the user (10,000
	 * readlinks on a machine where one of them holds 10,000 fds).
	 */
	if (p->scan.have_ucounts) {
		p->user = (struct inotify_usage){ .instances = p->scan.user_inotify_instances,
			.watches = p->scan.user_inotify_watches, .processes = -1 };
		p->have_user = 1;
		return;
	}

	for (size_t i = 0; i < c->nusers; i++) {
		if (c->user_uid[i] == uid) {
			p->user = c->user_usage[i];
			p->have_user = 1;
			return;
		}
	}
	if (fdscan_user_inotify(uid, &p->user) != 0)
		return;
	p->have_user = 1;
	c->user_uid = xreallocarray(c->user_uid, c->nusers + 1, sizeof(*c->user_uid));
	c->user_usage = xreallocarray(c->user_usage, c->nusers + 1, sizeof(*c->user_usage));
	c->user_uid[c->nusers] = uid;
	c->user_usage[c->nusers++] = p->user;
}

static void
count(struct proc_fds *p)
{
	const struct fd_scan *s = &p->scan;

	for (size_t i = 0; i < s->n; i++) {
		const struct fd_info *fi = &s->v[i];
		const struct sock_ent *e = p->sock ? p->sock[i] : NULL;

		p->by_kind[fi->kind]++;
		if (fi->kind == FDK_INOTIFY)
			p->inotify_watches += fi->nwatches;
		if (fi->kind == FDK_EVENTPOLL)
			p->epoll_watched += fi->epoll_count;
		if (fi->deleted) {
			p->deleted++;
			if (fi->size > 0)
				p->deleted_bytes += fi->size;
		}
		if (e != NULL && e->proto == SP_TCP && e->state >= 0 && e->state < ST_COUNT)
			p->conn_by_state[e->state]++;
	}
	p->tcp_total = p->by_kind[FDK_TCP];
	p->udp_total = p->by_kind[FDK_UDP];
	p->unix_total = p->by_kind[FDK_UNIX];
}

/*
 * full: also watch paths, limits and the user's inotify total. A --watch
 * sample reads fdinfo too, so a target that exits mid-watch can still be
 * reported whole from its last sample.
 */
int
collect(struct ctx *c, int pid, int full, struct proc_fds *p)
{
	/* Summaries show no flags or positions: skip fdinfo where unused. */
	unsigned opts = c->o->no_fds && !c->o->table ? FDSCAN_FDINFO_SPECIAL : 0;
	int err;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->nofile_soft = p->nofile_hard = -2;
	if ((err = fdscan_pid(pid, opts, &p->scan)) != 0)
		return err;
	if (strcmp(p->scan.method, "bpf_iter") == 0)
		c->used_bpf = 1;
	else
		c->used_procfs_fds = 1;
	resolve_sockets(c, p);
	if (full && c->o->paths >= 0)
		fdscan_resolve_watches(&p->scan, (size_t)c->o->paths);
	count(p);
	if (!full)
		return 0;
	if (fdscan_nofile_limit(pid, &p->nofile_soft, &p->nofile_hard) != 0)
		p->nofile_soft = p->nofile_hard = -2;
	if (p->by_kind[FDK_INOTIFY] > 0)
		user_inotify(c, p);
	c->fds_vanished += p->scan.st.fds_vanished;
	c->watches_resolved += p->scan.st.watches_resolved;
	c->watches_unresolved += p->scan.st.watches_unresolved;
	c->fdinfo_unreadable += p->scan.st.fdinfo_unreadable;
	c->sockets_unresolved += (unsigned long)p->sockets_unresolved;
	return 0;
}

void
proc_fds_release(struct proc_fds *p)
{
	fdscan_release(&p->scan);
	free(p->sock);
	p->sock = NULL;
	socktab_free(p->tab);
	p->tab = NULL;
}

void
ctx_release(struct ctx *c)
{
	for (size_t i = 0; i < c->nreasons; i++)
		free(c->reasons[i]);
	free(c->reasons);
	free(c->user_uid);
	free(c->user_usage);
	fdscan_resolve_cleanup();
}
