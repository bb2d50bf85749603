/* Internals shared by the fd-table collectors (procfs, BPF); not for tools. */
#ifndef CD_FDSCAN_IMPL_H
#define CD_FDSCAN_IMPL_H

#include <sys/types.h>

#include "fdscan.h"

/* What the inode behind a descriptor says, from statx or from the kernel. */
struct fd_inode {
	unsigned mode;		/* S_IFMT bits are what count */
	int64_t size;
	unsigned nlink;
	unsigned rdev_major, rdev_minor;
	uint64_t ino;
};

int fdscan_open_at(int dirfd, const char *path, int flags);
/* Read a whole small file at dirfd/path into *buf (grown as needed). */
ssize_t fdscan_slurp_at(int dirfd, const char *path, char **buf, size_t *cap);

/*
 * Start fi for descriptor fd from the text its /proc link reads as (len
 * bytes in link, which is modified): kind, deleted flag, and the link:
 * copied, or interned in links (then fdscan_links_final sets fi->link
 * once the table is complete).
 */
void fdscan_fill_link(struct fd_info *fi, int fd, char *link, size_t len, struct intern *links);
void fdscan_links_final(struct fd_scan *s);
/* A path's kind from its inode: directory, fifo, tty, device; size; deleted. */
void fdscan_refine(struct fd_info *fi, const struct fd_inode *in);
/* Whether fdinfo must be read for fi under opts. */
int fdscan_wants_fdinfo(const struct fd_info *fi, unsigned opts);
void fdscan_info_release(struct fd_info *fi);

/*
 * The BPF task_file iterator. fdscan_bpf_table fills out->v from one pass
 * over pid's table and reads fdinfo (at infodir) only for the kinds whose
 * details live there. 0, or an errno with *why saying what failed; the
 * caller falls back to procfs.
 */
int fdscan_bpf_table(int pid, int fddir, int infodir, unsigned opts, struct fd_scan *out,
    const char **why);
void fdscan_bpf_cleanup(void);

#endif
