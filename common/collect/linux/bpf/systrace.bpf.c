/*
 * cd-trace's BPF backend: BTF raw tracepoints on sys_enter and sys_exit
 * that count, time and histogram every call of the target processes in
 * per-CPU maps, so a --summary costs no user-space work per call. Only
 * the calls someone asked to see (the filters are applied here), the fd
 * table's news (opens, closes, connects) and the diagnoses' evidence go
 * to user space, through a ring buffer, with their path and address read
 * here while the caller's memory still holds them.
 *
 * The target set is a pid list plus every process they fork during the
 * capture (sched_process_fork), as the tracepoint method's inherit does.
 * Kernel structures are declared with only the fields read, relocated
 * against the running kernel's BTF (CO-RE), as in fdscan_iter.bpf.c.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "systrace.h"

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct pt_regs {
#if defined(__TARGET_ARCH_x86)
	unsigned long r10, r9, r8, dx, si, di;
#elif defined(__TARGET_ARCH_arm64)
	unsigned long regs[31];
#endif
};
struct task_struct {
	unsigned int flags;
	int pid;
	int tgid;
	char comm[16];
};
#pragma clang attribute pop

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct st_config cfg;

#define PF_EXITING 0x00000004

/* Counters user space reads through the mmap'd .bss. */
unsigned long long n_procs, n_exited, n_threads, lost, overflow, next_slot;
/*
 * fd-keyed counters go to fdstats0 or fdstats1, as fd_side says; fd_made
 * counts the keys made in each. User space empties one during the
 * capture by turning fd_side to the other and waiting out an RCU grace
 * period (membarrier): after it, no program still holds an element of
 * the old map, so all of it can be taken at once. With no grace period
 * to wait on, nothing is emptied before the end and fd_spill is set: a
 * key the first map has no room for goes to the second.
 */
unsigned int fd_side, fd_spill;
unsigned long long fd_made[2];
/* Bumped whenever a process joins the target set or is armed. */
unsigned long long epoch;

/* A traced call in progress. */
struct entry {
	unsigned long long ts;		/* 0: none */
	unsigned int tid;
	unsigned int slot;		/* its process's in procs */
	unsigned long long gen;
	unsigned long long args[8];	/* 6, and room for an index masked by 7 */
	long nr;
};

/*
 * Where a call's entry waits for its exit. Most calls exit on the CPU
 * they entered without anything else running there in between, so the
 * entry is kept in this CPU's slot (a per-CPU array: no hashing, no
 * locking). A thread switched out inside a traced call has its entry
 * parked by tid (on_switch), where its exit finds it, wherever it runs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct entry);
} cur SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct entry);
} parked SEC(".maps");

/*
 * This CPU's last answer to "is this process traced": a CPU runs the
 * same process for many calls in a row, so the targets hash is asked
 * once per run of them. epoch invalidates it when the set changes.
 */
struct verdict {
	unsigned int tgid;
	unsigned int traced;
	unsigned int slot;
	unsigned int pad;
	unsigned long long epoch;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct verdict);
} vcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct st_target);
} targets SEC(".maps");

/*
 * Per process (by slot), its fd-table generation: bumped by every open,
 * close, dup and connect, so fd-keyed counters tell a reused fd apart.
 * An array, not the targets hash: a traced call looks it up.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ST_NR_MAX);
	__type(key, __u32);
	__type(value, struct st_spec);
} specs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* 9 MB zeroed at load otherwise */
	__uint(max_entries, 16384);
	__type(key, struct st_key);
	__type(value, struct st_val);
} stats SEC(".maps");

/*
 * Preallocated, unlike stats: a loop of opens and closes makes a key per
 * call, and a map that allocates in the traced call fails a burst when
 * its per-CPU caches are refilled late (seen on a loaded machine). The
 * CPUs share a value, so it is added to atomically.
 */
struct fdstats_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ST_FD_KEYS);
	__type(key, struct st_fdkey);
	__type(value, struct st_fdval);
};
struct fdstats_map fdstats0 SEC(".maps");
struct fdstats_map fdstats1 SEC(".maps");

/* Calls entered, per CPU: those never finished are the difference. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} enters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, ST_RING_SIZE);
} ring SEC(".maps");

struct scratch {
	struct st_rec rec;
	unsigned char more[ST_SA_MAX + ST_PATH_MAX];	/* address, then path */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} buf SEC(".maps");

static __always_inline unsigned long long
arg_of(struct pt_regs *regs, int i)
{
#if defined(__TARGET_ARCH_x86)
	switch (i) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->r10;
	case 4: return regs->r8;
	default: return regs->r9;
	}
#elif defined(__TARGET_ARCH_arm64)
	return regs->regs[i & 7];
#else
	return 0;
#endif
}

static __always_inline struct verdict *
verdict(__u32 tgid)
{
	__u32 zero = 0;
	struct verdict *v = bpf_map_lookup_elem(&vcache, &zero);
	unsigned long long ep = epoch;
	struct st_target *t;

	if (v == NULL || (v->tgid == tgid && v->epoch == ep))
		return v;
	t = bpf_map_lookup_elem(&targets, &tgid);
	v->tgid = tgid;
	v->epoch = ep;
	v->traced = t != NULL && t->armed;
	v->slot = t != NULL ? t->slot : 0;
	return v;
}

SEC("tp_btf/sys_enter")
int on_enter(unsigned long long *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	__u64 id = bpf_get_current_pid_tgid();
	struct verdict *v = verdict(id >> 32);
	__u32 zero = 0, slot;
	struct entry *e;
	__u64 *n, *gen;

	if (v == NULL || !v->traced)
		return 0;
	if ((e = bpf_map_lookup_elem(&cur, &zero)) == NULL)
		return 0;
	/* A call still here never returned (exit_group): counted as unfinished. */
	e->tid = (__u32)id;
	e->slot = v->slot;
	e->nr = (long)ctx[1];
	slot = v->slot & (ST_SLOTS - 1);
	e->gen = (gen = bpf_map_lookup_elem(&procs, &slot)) != NULL ? *gen : 0;
	for (int i = 0; i < 6; i++)
		e->args[i] = arg_of(regs, i);
	if ((n = bpf_map_lookup_elem(&enters, &zero)) != NULL)
		(*n)++;
	e->ts = bpf_ktime_get_ns();
	return 0;
}

/* A thread leaving the CPU inside a traced call takes its entry along. */
SEC("tp_btf/sched_switch")
int on_switch(unsigned long long *ctx)
{
	struct task_struct *prev = (struct task_struct *)ctx[1];
	__u32 zero = 0;
	struct entry *e = bpf_map_lookup_elem(&cur, &zero);

	if (e == NULL || e->ts == 0 || e->tid != (__u32)BPF_CORE_READ(prev, pid))
		return 0;
	/* exit_group's own switch: it will never return */
	if (!(BPF_CORE_READ(prev, flags) & PF_EXITING) &&
	    bpf_map_update_elem(&parked, &e->tid, e, BPF_ANY) != 0)
		__sync_fetch_and_add(&overflow, 1);
	e->ts = 0;
	return 0;
}

static __always_inline int
log2_bucket(unsigned long long v)
{
	int r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r >= ST_HIST ? ST_HIST - 1 : r;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ST_CACHE);
	__type(key, __u32);
	__type(value, struct st_scache);
} scache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ST_CACHE);
	__type(key, __u32);
	__type(value, struct st_fcache);
} fcache SEC(".maps");

/* A slot's counters into the stats hash, as its key leaves the slot. */
static __always_inline void
flush_stats(struct st_scache *c)
{
	struct st_val *v = bpf_map_lookup_elem(&stats, &c->k);

	if (v == NULL) {
		if (bpf_map_update_elem(&stats, &c->k, &c->v, BPF_NOEXIST) == 0)
			return;
		if ((v = bpf_map_lookup_elem(&stats, &c->k)) == NULL) {
			__sync_fetch_and_add(&overflow, c->v.count);
			return;
		}
	}
	v->count += c->v.count;
	v->total_ns += c->v.total_ns;
	if (c->v.max_ns > v->max_ns)
		v->max_ns = c->v.max_ns;
	v->spin += c->v.spin;
	for (int b = 0; b < ST_HIST; b++)
		v->hist[b] += c->v.hist[b];
}

static __always_inline void
count_call(__u32 tgid, long nr, int err, long ret, __u64 dur, const struct st_spec *sp)
{
	__u32 idx = ((__u32)nr ^ (tgid * 7) ^ ((__u32)err << 3)) & (ST_CACHE - 1);
	struct st_scache *c = bpf_map_lookup_elem(&scache, &idx);

	if (c == NULL)
		return;
	if (!c->used || c->k.pid != tgid || c->k.nr != (int)nr || c->k.err != err) {
		if (c->used)
			flush_stats(c);
		__builtin_memset(&c->v, 0, sizeof(c->v));
		c->k.pid = tgid;
		c->k.nr = (int)nr;
		c->k.err = err;
		c->k.pad = 0;
		c->used = 1;
	}
	c->v.count++;
	c->v.total_ns += dur;
	if (dur > c->v.max_ns)
		c->v.max_ns = dur;
	if (sp != NULL && (sp->flags & STF_POLL) && ret == 0 && dur < 1000000)
		c->v.spin++;
	c->v.hist[log2_bucket(dur) & (ST_HIST - 1)]++;
}

/* 0, or -1: the map is full and has no such key. */
static __always_inline int
flush_into(void *map, int side, struct st_fcache *c)
{
	struct st_fdval *v = bpf_map_lookup_elem(map, &c->k);

	if (v == NULL) {
		if (bpf_map_update_elem(map, &c->k, &c->v, BPF_NOEXIST) == 0) {
			__sync_fetch_and_add(&fd_made[side & 1], 1);
			return 0;
		}
		/* Or another CPU made it meanwhile. */
		if ((v = bpf_map_lookup_elem(map, &c->k)) == NULL)
			return -1;
	}
	__sync_fetch_and_add(&v->count, c->v.count);
	__sync_fetch_and_add(&v->bytes, c->v.bytes);
	__sync_fetch_and_add(&v->total_ns, c->v.total_ns);
	return 0;
}

static __always_inline void
flush_fd(struct st_fcache *c)
{
	int rc;

	if (*(volatile unsigned int *)&fd_side)
		rc = flush_into(&fdstats1, 1, c);
	else if ((rc = flush_into(&fdstats0, 0, c)) != 0 && fd_spill)
		rc = flush_into(&fdstats1, 1, c);
	if (rc != 0)
		__sync_fetch_and_add(&overflow, c->v.count);
}

static __always_inline void
count_fd(__u32 tgid, const struct entry *e, int fd, int err, long ret, __u64 dur,
    unsigned short kflags)
{
	__u32 idx = ((__u32)e->nr ^ ((__u32)fd << 4) ^ (tgid * 7) ^ (__u32)e->gen) &
	    (ST_CACHE - 1);
	struct st_fcache *c = bpf_map_lookup_elem(&fcache, &idx);

	if (c == NULL)
		return;
	if (!c->used || c->k.pid != tgid || c->k.nr != (int)e->nr || c->k.fd != fd ||
	    c->k.err != (short)err || c->k.flags != kflags || c->k.gen != e->gen) {
		if (c->used)
			flush_fd(c);
		__builtin_memset(&c->v, 0, sizeof(c->v));
		c->k.pid = tgid;
		c->k.nr = (int)e->nr;
		c->k.fd = fd;
		c->k.err = (short)err;
		c->k.flags = kflags;
		c->k.gen = e->gen;
		c->used = 1;
	}
	c->v.count++;
	if (ret > 0)
		c->v.bytes += (unsigned long long)ret;
	c->v.total_ns += dur;
}

static __always_inline int
wanted(const struct st_spec *sp, int err)
{
	if (cfg.summary || !(sp->flags & STF_KEEP))
		return 0;
	if (cfg.failures && err == 0)
		return 0;
	if (cfg.errno_filter && err != cfg.errno_filter)
		return 0;
	return 1;
}

/* The diagnoses name the paths and peers of file errors and failed connects. */
static __always_inline int
evidence(const struct st_spec *sp, int err)
{
	if (!cfg.diagnose)
		return 0;
	if ((sp->flags & STF_CONNECT) || (sp->flags & STF_NET && sp->addr >= 0))
		return 1;	/* failed, or to port 53: user space tells */
	return (sp->flags & STF_IO) && (err == 2 || err == 13 || err == 1);
}

static __always_inline void
read_sa(struct scratch *s, unsigned long long addr, unsigned long long len)
{
	if (addr == 0 || len == 0)
		return;
	if (len > ST_SA_MAX)
		len = ST_SA_MAX;
	if (bpf_probe_read_user(s->more, len, (void *)addr) == 0)
		s->rec.salen = (unsigned int)len;
}

/*
 * Wake the reader as the ring's fill crosses each sixteenth of it, not per
 * record: the reader polls every 20 ms anyway, and a wakeup per record
 * (irq_work, then a context switch) cost the traced call more than the
 * rest of the record did. A reader that fell behind is still woken every
 * megabyte.
 */
static __always_inline __u64
wakeup(unsigned long long size)
{
	__u64 avail = bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA);
	const int shift = __builtin_ctz(ST_RING_SIZE / 16);

	return (avail >> shift) != ((avail + size + 8) >> shift) ?
	    BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void
send(__u32 tgid, const struct entry *e, const struct st_spec *sp, long ret,
    __u64 now, unsigned flags)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&buf, &zero);
	unsigned long long size;
	unsigned int off;
	long n;

	if (s == NULL)
		return;
	s->rec.kind = ST_REC_CALL;
	s->rec.flags = flags;
	s->rec.pid = tgid;
	s->rec.tid = (__u32)bpf_get_current_pid_tgid();
	s->rec.nr = (int)e->nr;
	s->rec.ret = ret;
	s->rec.ts_ns = e->ts;
	s->rec.dur_ns = now - e->ts;
	s->rec.gen = e->gen;
	for (int i = 0; i < 6; i++)
		s->rec.args[i] = e->args[i];
	bpf_get_current_comm(s->rec.comm, sizeof(s->rec.comm));
	s->rec.salen = 0;
	s->rec.path_len = 0;
	s->rec.path_err = 0;
	if (sp->addr >= 0 && sp->addrlen >= 0)
		read_sa(s, e->args[sp->addr & 7], e->args[sp->addrlen & 7]);
	if (sp->oaddr >= 0 && sp->oaddrlen >= 0 && ret >= 0 && e->args[sp->oaddr & 7]) {
		unsigned int olen = 0;

		if (bpf_probe_read_user(&olen, sizeof(olen),
		    (void *)e->args[sp->oaddrlen & 7]) == 0)
			read_sa(s, e->args[sp->oaddr & 7], olen);
	}
	off = s->rec.salen & (ST_SA_MAX * 2 - 1);
	if (off > ST_SA_MAX)
		off = ST_SA_MAX;
	if (sp->path >= 0 && sp->path < 6) {
		/* After a good execve the old memory, and the path, are gone. */
		if ((sp->flags & STF_EXECVE) && ret == 0)
			n = -14;
		else
			n = bpf_probe_read_user_str(s->more + off, ST_PATH_MAX,
			    (void *)e->args[sp->path & 7]);
		if (n > 1)
			s->rec.path_len = (unsigned int)(n - 1) & (ST_PATH_MAX - 1);
		else if (n < 0)
			s->rec.path_err = (int)n;
	}
	size = sizeof(s->rec) + off + s->rec.path_len;
	if (size > sizeof(*s))
		size = sizeof(*s);
	if (bpf_ringbuf_output(&ring, s, size, wakeup(size)) != 0)
		__sync_fetch_and_add(&lost, 1);
}

static __always_inline int
empty_path(unsigned long long p)
{
	char c = 1;

	return p != 0 && bpf_probe_read_user(&c, 1, (void *)p) == 0 && c == 0;
}

SEC("tp_btf/sys_exit")
int on_exit(unsigned long long *ctx)
{
	long ret = (long)ctx[1];
	__u64 id = bpf_get_current_pid_tgid();
	const struct st_spec *sp;
	struct entry *e, *pe;
	struct verdict *v;
	unsigned flags = 0;
	__u32 tgid, nr, tid = (__u32)id, zero = 0;
	__u64 now, dur;
	int err;

	if ((e = bpf_map_lookup_elem(&cur, &zero)) == NULL)
		return 0;
	if (e->ts == 0 || e->tid != tid) {
		/* Not entered here: parked, if traced at all. */
		v = verdict(id >> 32);
		if (v == NULL || !v->traced ||
		    (pe = bpf_map_lookup_elem(&parked, &tid)) == NULL)
			return 0;
		__builtin_memcpy(e, pe, sizeof(*e));
		bpf_map_delete_elem(&parked, &tid);
		if (e->ts == 0)
			return 0;
	}
	now = bpf_ktime_get_ns();
	dur = now - e->ts;
	tgid = id >> 32;
	err = ret < 0 && ret >= -4095 ? (int)-ret : 0;
	nr = (__u32)e->nr;
	sp = bpf_map_lookup_elem(&specs, &nr);
	count_call(tgid, e->nr, err, ret, dur, sp);
	if (sp == NULL)
		goto done;
	if (sp->path == 1 && empty_path(e->args[1])) {
		/* fstat() is newfstatat(fd, "", AT_EMPTY_PATH): a call on its fd */
		count_fd(tgid, e, (int)e->args[0], err, ret, dur, STK_EMPTY_PATH);
		if (!cfg.summary)
			flags |= STR_TARGET;
	} else if (sp->path >= 0 || sp->addr >= 0 || sp->oaddr >= 0) {
		flags |= STR_TARGET;
	}
	if (sp->fd >= 0)
		count_fd(tgid, e, (int)e->args[sp->fd & 7], err, ret, dur, 0);
	if ((sp->flags & STF_NAMES) && ret >= 0) {
		__u32 slot = e->slot & (ST_SLOTS - 1);
		__u64 *gen = bpf_map_lookup_elem(&procs, &slot);

		flags |= STR_NAMES;
		if (gen != NULL)
			__sync_fetch_and_add(gen, 1);
	}
	if (wanted(sp, err))
		flags |= STR_KEEP;
	if ((flags & (STR_KEEP | STR_NAMES)) ||
	    ((flags & STR_TARGET) && (cfg.summary || evidence(sp, err))))
		send(tgid, e, sp, ret, now, flags);
done:
	e->ts = 0;
	return 0;
}

SEC("tp_btf/sched_process_fork")
int on_fork(unsigned long long *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx[1];
	__u32 ptgid = bpf_get_current_pid_tgid() >> 32, pid, tgid;
	struct st_target *pt, nt = { .armed = 1 };

	pt = bpf_map_lookup_elem(&targets, &ptgid);
	if (pt == NULL || !pt->armed)
		return 0;
	pid = (__u32)BPF_CORE_READ(child, pid);
	tgid = (__u32)BPF_CORE_READ(child, tgid);
	if (pid != tgid) {
		__sync_fetch_and_add(&n_threads, 1);
		return 0;
	}
	bpf_get_current_comm(nt.comm, sizeof(nt.comm));
	nt.slot = (unsigned int)__sync_fetch_and_add(&next_slot, 1);
	if (bpf_map_update_elem(&targets, &tgid, &nt, BPF_NOEXIST) == 0) {
		__sync_fetch_and_add(&epoch, 1);
		__sync_fetch_and_add(&n_procs, 1);
		__sync_fetch_and_add(&n_threads, 1);
	}
	return 0;
}

SEC("tp_btf/sched_process_exec")
int on_exec(unsigned long long *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct st_target *t = bpf_map_lookup_elem(&targets, &tgid);

	(void)ctx;
	if (t == NULL)
		return 0;
	if (!t->armed) {
		t->armed = 1;
		__sync_fetch_and_add(&epoch, 1);
	}
	bpf_get_current_comm(t->comm, sizeof(t->comm));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int on_proc_exit(unsigned long long *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct st_target *t;

	(void)ctx;
	if ((__u32)id != tgid)
		return 0;
	if ((t = bpf_map_lookup_elem(&targets, &tgid)) == NULL || t->exited)
		return 0;
	t->exited = 1;
	__sync_fetch_and_add(&n_exited, 1);
	return 0;
}
