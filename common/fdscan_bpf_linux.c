/*
 * The BPF collector for fd tables: a task_file iterator (bpf_iter, linked
 * to one process with the task filter of Linux 6.1+) writes a record per
 * descriptor into a seq_file that we read in a few large reads. On a
 * process with 10,000 descriptors that replaces 45,000 procfs syscalls.
 *
 * The program comes as a libbpf light skeleton: its CO-RE relocations are
 * applied by a loader program inside the kernel against the kernel's own
 * BTF, so we never parse the 5 MB /sys/kernel/btf/vmlinux ourselves (that
 * alone took libbpf 100 ms here, more than the whole procfs scan).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "fdscan_impl.h"
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

/* Everything the iterator wrote for pid, in *buf; bytes, or -1 with errno. */
static ssize_t
read_iter(int pid, char **buf, size_t *cap, const char **why)
{
	union bpf_iter_link_info li;
	LIBBPF_OPTS(bpf_link_create_opts, lo, .iter_info = &li, .iter_info_len = sizeof(li));
	int link, it, e;
	size_t len = 0;

	memset(&li, 0, sizeof(li));
	li.task.pid = (unsigned)pid;
	if ((link = bpf_link_create(skel->progs.dump_fds.prog_fd, 0, BPF_TRACE_ITER, &lo)) < 0) {
		e = errno;
		/* A kernel without the pid filter will never have it: stop trying. */
		if (e == EINVAL || e == E2BIG) {
			load_err = set_why(e, "linking the BPF iterator to one process");
			fdscan_iter__destroy(skel);
			skel = NULL;
		} else {
			set_why(e, "linking the BPF iterator");
		}
		*why = why_buf;
		errno = e;
		return -1;
	}
	if ((it = bpf_iter_create(link)) < 0) {
		e = errno;
		close(link);
		*why = why_buf;
		set_why(e, "starting the BPF iterator");
		errno = e;
		return -1;
	}
	for (;;) {
		ssize_t r;

		if (*cap - len < 64 * 1024) {
			*cap = *cap ? *cap * 2 : 256 * 1024;
			*buf = xrealloc(*buf, *cap);
		}
		r = read(it, *buf + len, *cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			close(it);
			close(link);
			*why = why_buf;
			set_why(e, "reading the BPF iterator");
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(it);
	close(link);
	return (ssize_t)len;
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
fill(int fddir, const struct fditer_rec *r, const char *path, struct fd_info *fi)
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
	fdscan_fill_link(fi, r->fd, link, len);
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
			fdscan_info_free(fi);
			fi->fd = -1;
			out->st.fds_vanished++;
		} else {
			out->st.fdinfo_unreadable++;
		}
		return;
	}
	fdscan_parse_fdinfo(*ibuf, fi);
}

int
fdscan_bpf_table(int pid, int fddir, int infodir, unsigned opts, struct fd_scan *out,
    const char **why)
{
	char *buf = NULL, *ibuf = NULL;
	size_t cap = 0, icap = 0, off = 0, k = 0;
	ssize_t len;
	int err;

	if ((err = load(why)) != 0)
		return err;
	if ((len = read_iter(pid, &buf, &cap, why)) < 0) {
		err = errno;
		free(buf);
		return err;
	}
	out->cap = (size_t)len / sizeof(struct fditer_rec) + 1;
	out->v = xcalloc(out->cap, sizeof(*out->v));
	while ((size_t)len - off >= sizeof(struct fditer_rec)) {
		struct fditer_rec r;

		memcpy(&r, buf + off, sizeof(r));
		if (r.magic != FDITER_MAGIC || r.path_len >= FDITER_PATH_MAX ||
		    r.path_len > (size_t)len - off - sizeof(r))
			break;
		/* The kernel walks the table in fd order; keep the first of a repeat. */
		if ((k == 0 || r.fd > out->v[k - 1].fd) &&
		    fill(fddir, &r, buf + off + sizeof(r), &out->v[k]) == 0)
			k++;
		else if (k == 0 || r.fd > out->v[k - 1].fd)
			out->st.fds_vanished++;
		off += sizeof(r) + r.path_len;
	}
	free(buf);
	if (off != (size_t)len) {
		out->n = k;
		fdscan_free(out);
		*why = "the BPF iterator's output was not framed as expected";
		return EPROTO;
	}
	for (size_t i = 0; i < k; i++)
		details(infodir, opts, &out->v[i], out, &ibuf, &icap);
	free(ibuf);
	/* Close the gaps fds closed since the pass left. */
	out->n = 0;
	for (size_t i = 0; i < k; i++)
		if (out->v[i].fd >= 0)
			out->v[out->n++] = out->v[i];
	return 0;
}

void
fdscan_bpf_cleanup(void)
{
	if (skel != NULL)
		fdscan_iter__destroy(skel);
	skel = NULL;
}
