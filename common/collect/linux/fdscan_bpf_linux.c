/*
 * The BPF collector for fd tables: a task_file iterator (bpf_iter, linked
 * to one process with the task filter of Linux 6.1+) writes a record per
 * descriptor into a seq_file that we read in a few large reads. On a
 * process with 10,000 descriptors that replaces 45,000 procfs syscalls.
 *
 * The program comes as a libbpf light skeleton: its CO-RE relocations are
 * applied by a loader program inside the kernel against the kernel's own
 * BTF, so we never parse the 5 MB /sys/kernel/btf/vmlinux ourselves (that
 * alone took libbpf 100 ms here, more than the whole procfs scan). It needs
 * no libbpf at run time either: the skeleton's own bpf(2) wrapper
 * (skel_internal.h) also makes the link and the iterator, which spares
 * loading libbpf, libelf and libz (the startup is a third of a run).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdscan_impl.h"
#include "intern.h"
#include "msg.h"
#include "bpf/fdscan_iter.h"

/* Generated code: keep our warnings for our own lines. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "fdscan_iter.lskel.h"
#pragma GCC diagnostic pop

static struct fdscan_iter *skel;
static int load_err;		/* errno of a failed load: not retried */
static char why_buf[256];

static int
set_why(int err, const char *what)
{
	const char *hint = "";

	if (err == EPERM || err == EACCES)
		hint = " (needs root, or CAP_BPF and CAP_PERFMON)";
	else if (err == ENOSYS)
		hint = " (no bpf() here: kernel or seccomp)";
	else if (err == EINVAL || err == ENOENT || err == EOPNOTSUPP ||
	    err == 524 /* the kernel's own ENOTSUPP */)
		hint = " (needs Linux 6.1+ with BTF)";
	snprintf(why_buf, sizeof(why_buf), "%s: %s%s", what, strerror(err), hint);
	return err;
}

static int
load(const char **why)
{
	int rc;

	if (skel != NULL)
		return 0;
	if (load_err == 0) {
		if ((skel = fdscan_iter__open()) == NULL) {
			load_err = set_why(errno ? errno : ENOMEM, "BPF iterator");
		} else if ((rc = fdscan_iter__load(skel)) < 0) {
			load_err = set_why(-rc, "loading the BPF task_file iterator");
			fdscan_iter__destroy(skel);
			skel = NULL;
		}
	}
	*why = why_buf;
	return skel != NULL ? 0 : load_err;
}

/*
 * A link on the iterator for pid: the fd to read its records from, or -1
 * with errno and *why.
 */
static int
open_iter(int pid, const char **why)
{
	union bpf_iter_link_info li;
	union bpf_attr attr;
	int link, it, e;

	memset(&li, 0, sizeof(li));
	li.task.pid = (unsigned)pid;
	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = (unsigned)skel->progs.dump_fds.prog_fd;
	attr.link_create.attach_type = BPF_TRACE_ITER;
	attr.link_create.iter_info = (uint64_t)(uintptr_t)&li;
	attr.link_create.iter_info_len = sizeof(li);
	*why = why_buf;
	if ((link = skel_sys_bpf(BPF_LINK_CREATE, &attr, sizeof(attr))) < 0) {
		e = errno;
		/* A kernel without the pid filter will never have it: stop trying. */
		if (e == EINVAL || e == E2BIG) {
			load_err = set_why(e, "linking the BPF iterator to one process");
			fdscan_iter__destroy(skel);
			skel = NULL;
		} else {
			set_why(e, "linking the BPF iterator");
		}
		errno = e;
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.iter_create.link_fd = (unsigned)link;
	it = skel_sys_bpf(BPF_ITER_CREATE, &attr, sizeof(attr));
	e = errno;
	close(link);	/* the iterator holds its own reference */
	if (it < 0) {
		set_why(e, "starting the BPF iterator");
		errno = e;
	}
	return it;
}

/* Kinds whose details (not just flags and position) are only in fdinfo. */
static int
has_details(enum fd_kind k)
{
	return k == FDK_INOTIFY || k == FDK_FANOTIFY || k == FDK_EVENTPOLL ||
	    k == FDK_EVENTFD || k == FDK_TIMERFD || k == FDK_SIGNALFD || k == FDK_PIDFD;
}

/*
 * One record into fi. The path is d_path()'s, the same text readlink on
 * /proc/PID/fd/N gives; when the kernel could not build it, ask procfs.
 * Returns 0, or -1 when the descriptor is gone.
 */
static int
fill(int fddir, const struct fditer_rec *r, const char *path, struct fd_info *fi,
    struct intern *links)
{
	char link[FDITER_PATH_MAX + 1];
	size_t len = r->path_len;

	if (r->path_err != 0 || len == 0) {
		char name[16];
		ssize_t n;

		snprintf(name, sizeof(name), "%d", r->fd);
		if ((n = readlinkat(fddir, name, link, sizeof(link) - 1)) < 0)
			return -1;
		len = (size_t)n;
	} else {
		memcpy(link, path, len);
	}
	link[len] = '\0';
	fdscan_fill_link(fi, r->fd, link, len, links);
	fi->have_fdinfo = 1;
	fi->flags = r->flags;
	fi->pos = r->pos;
	if (fi->kind == FDK_FILE) {
		struct fd_inode in = { r->mode, r->size, r->nlink, r->rdev >> 20,
			r->rdev & 0xfffff, r->ino };

		fdscan_refine(fi, &in);
	}
	if (fi->ino == 0)
		fi->ino = r->ino;
	return 0;
}

static void
details(int infodir, unsigned opts, struct fd_info *fi, struct fd_scan *out,
    char **ibuf, size_t *icap)
{
	char name[16];

	if (!has_details(fi->kind) || !fdscan_wants_fdinfo(fi, opts))
		return;
	snprintf(name, sizeof(name), "%d", fi->fd);
	if (fdscan_slurp_at(infodir, name, ibuf, icap) < 0) {
		if (errno == ENOENT) {
			fdscan_info_release(fi);
			fi->fd = -1;
			out->st.fds_vanished++;
		} else {
			out->st.fdinfo_unreadable++;
		}
		return;
	}
	fdscan_parse_fdinfo(*ibuf, fi);
}

/*
 * Records arrive a seq_file buffer (32 KB) per read. They are parsed as
 * they come into one reused buffer: holding the whole 850 KB output of a
 * 10,000-fd table meant touching 200 fresh pages, which on a virtual
 * machine cost more than parsing it.
 */
#define CHUNK (64 * 1024)
static char *chunk;

/* The record before the first descriptor, if buf holds it. */
static int
task_header(const char *buf, struct fd_scan *out)
{
	struct fditer_task h;

	memcpy(&h, buf, sizeof(h));
	if (h.magic != FDITER_TASK_MAGIC)
		return 0;
	/* inotify charges the euid's count; the cred's ucounts are the uid's. */
	if (h.have_ucounts && h.uid == h.euid) {
		out->have_ucounts = 1;
		out->user_inotify_instances = (long)h.inotify_instances;
		out->user_inotify_watches = (long)h.inotify_watches;
	}
	return 1;
}

/* Parse the whole records in buf[0..len); returns the bytes used, or -1. */
static ssize_t
parse(int fddir, const char *buf, size_t len, struct fd_scan *out)
{
	size_t off = 0;

	while (len - off >= sizeof(struct fditer_task)) {
		struct fditer_rec r;
		struct fd_info *fi;

		if (task_header(buf + off, out)) {
			off += sizeof(struct fditer_task);
			continue;
		}
		if (len - off < sizeof(r))
			break;
		memcpy(&r, buf + off, sizeof(r));
		if (r.magic != FDITER_MAGIC || r.path_len >= FDITER_PATH_MAX)
			return -1;
		if (r.path_len > len - off - sizeof(r))
			break;
		/* The kernel walks the table in fd order; keep the first of a repeat. */
		if (out->n == 0 || r.fd > out->v[out->n - 1].fd) {
			if (out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 256;
				out->v = xreallocarray(out->v, out->cap, sizeof(*out->v));
			}
			fi = &out->v[out->n];
			if (fill(fddir, &r, buf + off + sizeof(r), fi, out->links) == 0)
				out->n++;
			else
				out->st.fds_vanished++;
		}
		off += sizeof(r) + r.path_len;
	}
	return (ssize_t)off;
}

int
fdscan_bpf_table(int pid, int fddir, int infodir, unsigned opts, struct fd_scan *out,
    const char **why)
{
	char *ibuf = NULL;
	size_t icap = 0, have = 0, k = 0;
	int it, err;

	if ((err = load(why)) != 0)
		return err;
	if ((it = open_iter(pid, why)) < 0)
		return errno;
	if (chunk == NULL)
		chunk = xmalloc(CHUNK);
	out->links = intern_new();
	for (;;) {
		ssize_t r = read(it, chunk + have, CHUNK - have), used;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = set_why(errno, "reading the BPF iterator");
			break;
		}
		if (r == 0) {
			if (have != 0) {
				err = EPROTO;
				*why = "the BPF iterator's output ended inside a record";
			}
			break;
		}
		have += (size_t)r;
		if ((used = parse(fddir, chunk, have, out)) < 0) {
			err = EPROTO;
			*why = "the BPF iterator's output was not framed as expected";
			break;
		}
		have -= (size_t)used;
		memmove(chunk, chunk + used, have);
	}
	close(it);
	if (err != 0) {
		fdscan_release(out);
		return err;
	}
	fdscan_links_final(out);
	for (size_t i = 0; i < out->n; i++)
		details(infodir, opts, &out->v[i], out, &ibuf, &icap);
	free(ibuf);
	/* Close the gaps fds closed since the pass left. */
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].fd >= 0)
			out->v[k++] = out->v[i];
	out->n = k;
	return 0;
}

void
fdscan_bpf_cleanup(void)
{
	if (skel != NULL)
		fdscan_iter__destroy(skel);
	skel = NULL;
	free(chunk);
	chunk = NULL;
}
