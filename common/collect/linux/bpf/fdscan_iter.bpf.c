/*
 * BPF task_file iterator: one record per open descriptor of one process,
 * read in a single pass instead of four or five procfs syscalls per
 * descriptor. Per-kind details (epoll targets, inotify watches, timer
 * state) are still read from fdinfo by the caller, for those few fds only. The kernel structures are declared here with only the fields
 * read, marked preserve_access_index, so libbpf relocates every offset
 * against the running kernel's BTF (CO-RE) and no vmlinux.h is needed.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "fdscan_iter.h"

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct seq_file;
struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 seq_num;
};
typedef struct {
	long long counter;
} atomic64_t;
typedef atomic64_t atomic_long_t;
struct ucounts {
	atomic_long_t ucount[1];
};
typedef struct {
	unsigned int val;
} kuid_t;
struct cred {
	kuid_t uid;
	kuid_t euid;
	struct ucounts *ucounts;
};
struct fdtable {
	unsigned long *close_on_exec;
};
struct files_struct {
	struct fdtable *fdt;
};
struct task_struct {
	int pid;
	int tgid;
	struct files_struct *files;
	const struct cred *cred;
};
struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
	unsigned int __i_nlink;
	unsigned int i_rdev;
	long long i_size;
};
struct path {
	void *mnt;
	void *dentry;
};
struct file {
	struct path f_path;
	struct inode *f_inode;
	unsigned int f_flags;
	long long f_pos;
};
struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	__u32 fd;
	struct file *file;
};
#pragma clang attribute pop

enum ucount_type {
	UCOUNT_INOTIFY_INSTANCES = 8,
	UCOUNT_INOTIFY_WATCHES = 9,
};

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct scratch {
	struct fditer_rec rec;
	char path[FDITER_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} buf SEC(".maps");

#define O_CLOEXEC_BIT 02000000

/* One long of ucounts->ucount[], by an index known only at load time. */
static long
ucount(struct ucounts *uc, unsigned long idx)
{
	long v = 0;
	long *base = (long *)((char *)uc + bpf_core_field_offset(struct ucounts, ucount));

	bpf_probe_read_kernel(&v, sizeof(v), base + idx);
	return v;
}

static void
task_header(struct seq_file *seq, struct task_struct *task)
{
	struct fditer_task h = { .magic = FDITER_TASK_MAGIC };
	const struct cred *cred = BPF_CORE_READ(task, cred);
	struct ucounts *uc;

	h.uid = BPF_CORE_READ(cred, uid.val);
	h.euid = BPF_CORE_READ(cred, euid.val);
	uc = BPF_CORE_READ(cred, ucounts);
	if (uc != NULL && bpf_core_enum_value_exists(enum ucount_type, UCOUNT_INOTIFY_WATCHES) &&
	    bpf_core_enum_value_exists(enum ucount_type, UCOUNT_INOTIFY_INSTANCES)) {
		h.have_ucounts = 1;
		h.inotify_instances = ucount(uc,
		    bpf_core_enum_value(enum ucount_type, UCOUNT_INOTIFY_INSTANCES));
		h.inotify_watches = ucount(uc,
		    bpf_core_enum_value(enum ucount_type, UCOUNT_INOTIFY_WATCHES));
	}
	bpf_seq_write(seq, &h, sizeof(h));
}

SEC("iter/task_file")
int dump_fds(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct inode *inode;
	struct scratch *s;
	unsigned long *coe, word = 0;
	__u32 zero = 0, fd = ctx->fd;
	long n;

	if (task == NULL || file == NULL)
		return 0;
	/*
	 * The link is filtered to one process (Linux 6.1+), whose threads
	 * share one table; /proc/PID/fd shows the leader's, and so do we.
	 */
	if (task->pid != task->tgid)
		return 0;
	if ((s = bpf_map_lookup_elem(&buf, &zero)) == NULL)
		return 0;
	if (ctx->meta->seq_num == 0)
		task_header(seq, task);
	s->rec.magic = FDITER_MAGIC;
	s->rec.fd = (int)fd;
	s->rec.flags = file->f_flags;
	s->rec.pos = file->f_pos;
	inode = file->f_inode;
	s->rec.mode = BPF_CORE_READ(inode, i_mode);
	s->rec.ino = BPF_CORE_READ(inode, i_ino);
	s->rec.nlink = BPF_CORE_READ(inode, __i_nlink);
	s->rec.rdev = BPF_CORE_READ(inode, i_rdev);
	s->rec.size = BPF_CORE_READ(inode, i_size);
	/* fdinfo adds O_CLOEXEC from the table's bitmap; match it. */
	coe = BPF_CORE_READ(task, files, fdt, close_on_exec);
	if (coe != NULL &&
	    bpf_probe_read_kernel(&word, sizeof(word), coe + fd / (8 * sizeof(long))) == 0 &&
	    (word >> (fd % (8 * sizeof(long)))) & 1)
		s->rec.flags |= O_CLOEXEC_BIT;
	n = bpf_d_path(&file->f_path, s->path, sizeof(s->path));
	s->rec.path_err = n < 0 ? (int)n : 0;
	/* d_path's length counts the NUL. */
	s->rec.path_len = n > 1 ? (unsigned int)(n - 1) & (FDITER_PATH_MAX - 1) : 0;
	bpf_seq_write(seq, &s->rec, sizeof(s->rec) + s->rec.path_len);
	return 0;
}
