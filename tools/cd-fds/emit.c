/* fd and fd_summary records (see cd-fds(1) for every field). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cdfds.h"
#include "exitcode.h"
#include "msg.h"
#include "record.h"

static void
endpoint(const char *addr, int port, int family, char *buf, size_t len)
{
	if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%d", addr, port);
	else
		snprintf(buf, len, "%s:%d", addr, port);
}

static int
has_remote(const struct sock_ent *e)
{
	return e->remote_port != 0;
}

/*
 * One line a person can read, for --table and the connection list: in
 * buf, or the fd's own link text when that says it all.
 */
const char *
fd_describe(const struct proc_fds *p, size_t i, char *buf, size_t len)
{
	const struct fd_info *fi = &p->scan.v[i];
	const struct sock_ent *e = p->sock ? p->sock[i] : NULL;
	char l[80], r[80];

	if (e != NULL && e->proto != SP_UNIX) {
		endpoint(e->local_addr, e->local_port, e->family, l, sizeof(l));
		if (has_remote(e)) {
			endpoint(e->remote_addr, e->remote_port, e->family, r, sizeof(r));
			snprintf(buf, len, "%s -> %s %s", l, r, sock_state_name(e->proto, e->state));
		} else {
			snprintf(buf, len, "%s %s", l, sock_state_name(e->proto, e->state));
		}
		return buf;
	}
	if (e != NULL) {
		snprintf(buf, len, "%s%s%s peer=%llu %s", e->path ? e->path : "",
		    e->path ? " " : "", e->type == SOCK_DGRAM ? "dgram" :
		    e->type == SOCK_SEQPACKET ? "seqpacket" : "stream",
		    (unsigned long long)e->peer_ino, sock_state_name(e->proto, e->state));
		return buf;
	}
	switch (fi->kind) {
	case FDK_EVENTPOLL:
		snprintf(buf, len, "epoll watching %d fds", fi->epoll_count);
		return buf;
	case FDK_INOTIFY:
		snprintf(buf, len, "inotify, %d watch%s%s%s", fi->nwatches,
		    fi->nwatches == 1 ? "" : "es",
		    fi->nwatches && fi->watches[0].path ? ": " : "",
		    fi->nwatches && fi->watches[0].path ? fi->watches[0].path : "");
		return buf;
	case FDK_PIDFD:
		snprintf(buf, len, "pidfd for pid %d", fi->pidfd_pid);
		return buf;
	default:
		if (!fi->deleted)
			return fi->link;
		snprintf(buf, len, "%s (deleted)", fi->link);
		return buf;
	}
}

static const char *
family_name(int f)
{
	return f == AF_INET ? "inet" : f == AF_INET6 ? "inet6" : f == AF_UNIX ? "unix" : "other";
}

static void
add_socket(cJSON *o, const struct sock_ent *e)
{
	char buf[96];

	/* Static names and the socket table outlive the record: not copied. */
	rec_add_str_ref(o, "proto", sock_proto_name(e->proto));
	rec_add_str_ref(o, "family", family_name(e->family));
	rec_add_str_ref(o, "state", sock_state_name(e->proto, e->state));
	rec_add_num(o, "recv_q", e->rq);
	rec_add_num(o, "send_q", e->wq);
	if (e->proto == SP_UNIX) {
		rec_add_str_ref(o, "socket_type", e->type == SOCK_DGRAM ? "dgram" :
		    e->type == SOCK_SEQPACKET ? "seqpacket" : "stream");
		if (e->path)
			rec_add_str_ref(o, "path", e->path);
		if (e->peer_ino)
			rec_add_num(o, "peer_ino", (double)e->peer_ino);
		return;
	}
	endpoint(e->local_addr, e->local_port, e->family, buf, sizeof(buf));
	rec_add_str(o, "local", buf);
	if (has_remote(e)) {
		endpoint(e->remote_addr, e->remote_port, e->family, buf, sizeof(buf));
		rec_add_str(o, "remote", buf);
	}
}

static void
add_watches(cJSON *o, const struct fd_info *fi, long max)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "watches");
	char buf[32];

	rec_add_num(o, "watch_count", fi->nwatches);
	if (arr == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	for (int j = 0; j < fi->nwatches && (max == 0 || j < max); j++) {
		const struct fd_watch *w = &fi->watches[j];
		cJSON *wo = cJSON_CreateObject();

		if (wo == NULL)
			msg_die(CD_EXIT_FAIL, "out of memory");
		rec_add_num(wo, "wd", w->wd);
		if (w->path)
			rec_add_str(wo, "path", w->path);
		snprintf(buf, sizeof(buf), "%u:%u", w->dev_major, w->dev_minor);
		rec_add_str(wo, "dev", buf);
		rec_add_num(wo, "ino", (double)w->ino);
		snprintf(buf, sizeof(buf), "0x%x", w->mask);
		rec_add_str(wo, "mask", buf);
		cJSON_AddItemToArray(arr, wo);
	}
}

static void
add_kind_details(cJSON *o, const struct fd_info *fi, long maxpaths)
{
	char buf[64];

	switch (fi->kind) {
	case FDK_EVENTPOLL: {
		cJSON *arr;

		rec_add_num(o, "watch_count", fi->epoll_count);
		arr = cJSON_CreateIntArray(fi->epoll_fds ? fi->epoll_fds : (const int[]){ 0 },
		    fi->epoll_nfds);
		if (arr == NULL)
			msg_die(CD_EXIT_FAIL, "out of memory");
		cJSON_AddItemToObject(o, "watched_fds", arr);
		break;
	}
	case FDK_INOTIFY:
		add_watches(o, fi, maxpaths);
		break;
	case FDK_EVENTFD:
		rec_add_num(o, "count", (double)fi->eventfd_count);
		break;
	case FDK_TIMERFD:
		rec_add_num(o, "clockid", fi->timer_clockid);
		rec_add_num(o, "ticks", (double)fi->timer_ticks);
		rec_add_bool(o, "armed", fi->timer_value_ns != 0);
		if (fi->timer_value_ns != 0)
			rec_add_num(o, "next_expiry_ns", (double)fi->timer_value_ns);
		break;
	case FDK_SIGNALFD:
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)fi->sigmask);
		rec_add_str(o, "sigmask", buf);
		break;
	case FDK_PIDFD:
		if (fi->have_fdinfo)
			rec_add_num(o, "target_pid", fi->pidfd_pid);
		break;
	case FDK_ANON:
		rec_add_str(o, "name", fi->anon_name ? fi->anon_name : "");
		break;
	case FDK_MEMFD:
		rec_add_str(o, "name", fi->link + 7);
		break;
	case FDK_CHR:
	case FDK_BLK:
	case FDK_TTY:
		snprintf(buf, sizeof(buf), "%u:%u", fi->rdev_major, fi->rdev_minor);
		rec_add_str(o, "rdev", buf);
		break;
	default:
		break;
	}
}

static int
kind_has_path(enum fd_kind k)
{
	return k == FDK_FILE || k == FDK_DIR || k == FDK_FIFO || k == FDK_TTY ||
	    k == FDK_CHR || k == FDK_BLK || k == FDK_MEMFD;
}

void
emit_fds(const struct ctx *c, const struct proc_fds *p)
{
	const struct fd_scan *s = &p->scan;

	rec_arena_begin();
	for (size_t i = 0; i < s->n; i++) {
		const struct fd_info *fi = &s->v[i];
		const struct sock_ent *e = p->sock ? p->sock[i] : NULL;
		cJSON *o = rec_new("fd");
		char desc[256], flags[256];

		/*
		 * 10,000 of these a run: strings that live until the record is
		 * written go in by reference, not copied.
		 */
		rec_add_num(o, "pid", p->pid);
		rec_add_num(o, "fd", fi->fd);
		rec_add_str_ref(o, "kind", fd_kind_name(fi->kind));
		if (kind_has_path(fi->kind) && fi->kind != FDK_MEMFD)
			rec_add_str_ref(o, "path", fi->link);
		rec_add_str_ref(o, "desc", fd_describe(p, i, desc, sizeof(desc)));
		if (fi->have_fdinfo) {
			fdscan_flags_str(fi->flags, flags, sizeof(flags));
			rec_add_str_ref(o, "flags", flags);
			rec_add_num(o, "pos", (double)fi->pos);
		}
		if (fi->ino)
			rec_add_num(o, "ino", (double)fi->ino);
		if (fi->kind == FDK_FILE) {
			rec_add_bool(o, "deleted", fi->deleted);
			if (fi->size >= 0)
				rec_add_num(o, "size", (double)fi->size);
		}
		if (e != NULL)
			add_socket(o, e);
		add_kind_details(o, fi, c->o->paths);
		rec_emit_free(o);
		rec_arena_reset();
	}
	rec_arena_end();
}

static cJSON *
str_list(cJSON *o, const char *name)
{
	cJSON *a = cJSON_AddArrayToObject(o, name);

	if (a == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	return a;
}

static void
push(cJSON *arr, const char *s)
{
	cJSON *it = cJSON_CreateString(s);

	if (it == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	cJSON_AddItemToArray(arr, it);
}

static void
add_connections(cJSON *o, const struct proc_fds *p, long max)
{
	cJSON *states = cJSON_AddObjectToObject(o, "connections");
	cJSON *list = str_list(o, "connection_list");
	cJSON *listen = str_list(o, "listening");
	long shown = 0, more = 0;
	char buf[256];

	if (states == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	for (int st = 0; st < ST_COUNT; st++)
		if (p->conn_by_state[st] > 0)
			rec_add_num(states, sock_state_name(SP_TCP, st), p->conn_by_state[st]);
	for (size_t i = 0; i < p->scan.n; i++) {
		const struct sock_ent *e = p->sock ? p->sock[i] : NULL;
		char ep[96];

		if (e == NULL || e->proto == SP_UNIX)
			continue;
		if (e->proto == SP_TCP && e->state == 10) {
			endpoint(e->local_addr, e->local_port, e->family, ep, sizeof(ep));
			push(listen, ep);
			continue;
		}
		if (!has_remote(e))
			continue;
		if (max != 0 && shown >= max) {
			more++;
			continue;
		}
		snprintf(buf, sizeof(buf), "%s %s", sock_proto_name(e->proto),
		    fd_describe(p, i, ep, sizeof(ep)));
		push(list, buf);
		shown++;
	}
	rec_add_num(o, "connection_list_more", more);
}

static void
add_watched_paths(cJSON *o, const struct proc_fds *p, long max)
{
	cJSON *list = str_list(o, "watched_paths");
	long shown = 0;
	char buf[64];

	for (size_t i = 0; i < p->scan.n; i++) {
		const struct fd_info *fi = &p->scan.v[i];

		for (int j = 0; j < fi->nwatches; j++) {
			const struct fd_watch *w = &fi->watches[j];

			if (max != 0 && shown >= max)
				goto done;
			if (w->path) {
				push(list, w->path);
			} else {
				snprintf(buf, sizeof(buf), "dev %u:%u inode %llu", w->dev_major,
				    w->dev_minor, (unsigned long long)w->ino);
				push(list, buf);
			}
			shown++;
		}
	}
done:
	rec_add_num(o, "watched_paths_more", p->inotify_watches - shown);
}

static double
pct(double part, double whole)
{
	/* Two decimals: enough to see 0.01%, short enough to read. */
	return whole > 0 ? round(10000.0 * part / whole) / 100 : 0;
}

static void
add_watch_growth(cJSON *o, const struct proc_fds *p)
{
	cJSON *g;

	if (p->samples == 0)
		return;
	rec_add_num(o, "watch_s", p->span_s);
	rec_add_num(o, "samples", p->samples);
	rec_add_num(o, "first_total", p->first_total);
	rec_add_num(o, "growth_per_s", p->slope_total);
	if ((g = cJSON_AddObjectToObject(o, "growth_by_kind_per_s")) == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	for (int k = 0; k < FDK__COUNT; k++)
		if (p->slope_kind[k] != 0)
			rec_add_num(g, fd_kind_name((enum fd_kind)k), p->slope_kind[k]);
}

void
emit_summary(const struct ctx *c, const struct proc_fds *p)
{
	cJSON *o = rec_new("fd_summary"), *kinds;

	rec_add_num(o, "pid", p->pid);
	rec_add_str(o, "comm", p->scan.comm);
	rec_add_num(o, "uid", p->scan.uid);
	rec_add_num(o, "total", (double)p->scan.n);
	if (p->exited)
		rec_add_bool(o, "exited", 1);
	if ((kinds = cJSON_AddObjectToObject(o, "by_kind")) == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	for (int k = 0; k < FDK__COUNT; k++)
		if (p->by_kind[k] > 0)
			rec_add_num(kinds, fd_kind_name((enum fd_kind)k), p->by_kind[k]);
	if (p->nofile_soft != -2) {
		rec_add_num(o, "nofile_soft", (double)p->nofile_soft);
		rec_add_num(o, "nofile_hard", (double)p->nofile_hard);
		if (p->nofile_soft > 0)
			rec_add_num(o, "nofile_pct", pct((double)p->scan.n, (double)p->nofile_soft));
	}
	rec_add_num(o, "inotify_instances", p->by_kind[FDK_INOTIFY]);
	rec_add_num(o, "inotify_watches", p->inotify_watches);
	if (p->have_user) {
		rec_add_num(o, "user_inotify_watches", p->user.watches);
		rec_add_num(o, "user_inotify_instances", p->user.instances);
		/* Counted by the kernel (ucounts), or by a walk over /proc. */
		rec_add_str(o, "user_inotify_source", p->user.processes < 0 ? "ucounts" : "procfs");
		if (p->user.processes >= 0) {
			rec_add_num(o, "user_inotify_processes", p->user.processes);
			rec_add_num(o, "user_processes_unreadable", p->user.unreadable);
		} else {
			rec_add_str(o, "user_inotify_processes", NULL);
			rec_add_str(o, "user_processes_unreadable", NULL);
		}
	}
	if (c->ilim.max_user_watches >= 0)
		rec_add_num(o, "max_user_watches", (double)c->ilim.max_user_watches);
	if (c->ilim.max_user_instances >= 0)
		rec_add_num(o, "max_user_instances", (double)c->ilim.max_user_instances);
	if (p->have_user && c->ilim.max_user_watches > 0)
		rec_add_num(o, "user_watches_pct", pct((double)p->user.watches,
		    (double)c->ilim.max_user_watches));
	add_watched_paths(o, p, c->o->paths);
	rec_add_num(o, "epoll_watched", p->epoll_watched);
	rec_add_num(o, "tcp", p->tcp_total);
	rec_add_num(o, "udp", p->udp_total);
	rec_add_num(o, "unix", p->unix_total);
	add_connections(o, p, c->o->paths);
	rec_add_num(o, "sockets_unresolved", p->sockets_unresolved);
	rec_add_num(o, "deleted", p->deleted);
	rec_add_num(o, "deleted_bytes", (double)p->deleted_bytes);
	add_watch_growth(o, p);
	rec_emit_free(o);
}
