/*
 * The record the task_file iterator writes for each descriptor, shared by
 * the BPF program (fdscan_iter.bpf.c) and its reader (fdscan_bpf_linux.c).
 * Fixed header, then path_len bytes of d_path() text, no NUL; records are
 * packed back to back in the iterator's seq_file.
 */
#ifndef CD_FDSCAN_ITER_H
#define CD_FDSCAN_ITER_H

#define FDITER_PATH_MAX 4096
#define FDITER_MAGIC 0xfd5ca2u
#define FDITER_TASK_MAGIC 0xfd5ca3u

/*
 * Written once, before the first descriptor: the process's inotify budget
 * as the kernel counts it (ucounts of its user and user namespace), so the
 * user's total needs no walk over every other process.
 */
struct fditer_task {
	unsigned int magic;	/* FDITER_TASK_MAGIC */
	unsigned int uid, euid;
	int have_ucounts;	/* 0: this kernel has no inotify ucounts */
	long long inotify_instances;
	long long inotify_watches;
};

struct fditer_rec {
	unsigned int magic;	/* FDITER_MAGIC: the reader's check on framing */
	int fd;
	unsigned int flags;	/* f_flags, O_CLOEXEC from the fd table */
	unsigned int mode;	/* i_mode */
	long long pos;
	unsigned long long ino;
	long long size;		/* i_size */
	unsigned int nlink;
	unsigned int rdev;	/* kernel dev_t: major << 20 | minor */
	int path_err;		/* bpf_d_path's error, 0 when path is good */
	unsigned int path_len;
};

#endif
