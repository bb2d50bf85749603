/*
 * What cd-trace's BPF programs (systrace.bpf.c) and their reader
 * (tools/cd-trace/bpf.c) share: the map keys and values, the ring buffer
 * record, and the per-syscall table user space fills before the start.
 */
#ifndef CD_SYSTRACE_H
#define CD_SYSTRACE_H

#define ST_NR_MAX 1024		/* syscall numbers below this are traced */
#define ST_HIST 32		/* log2 buckets of ns: 2^31 ns and over in the last */
#define ST_PATH_MAX 4096
#define ST_SA_MAX 128
#define ST_RING_SIZE (16 << 20)

/* Per-syscall flags (struct st_spec.flags), from cd-trace's decode table. */
#define STF_IO		0x01	/* --io keeps it */
#define STF_NET		0x02	/* --network keeps it */
#define STF_KEEP	0x04	/* passes --io/--network: a record is wanted */
#define STF_NAMES	0x08	/* opens, closes, dups, connects: fd table news */
#define STF_POLL	0x10	/* a zero return within 1 ms is a spin */
#define STF_CONNECT	0x20
#define STF_EXECVE	0x40	/* its path is gone once it succeeded */

struct st_spec {
	unsigned char flags;
	signed char path;	/* argument index of a path, -1 none */
	signed char fd;		/* of an fd, -1 none */
	signed char addr, addrlen;	/* sockaddr in, by value length */
	signed char oaddr, oaddrlen;	/* sockaddr out, length by pointer */
	signed char pad;
};

#define ST_SLOTS 8192	/* processes with an fd-table generation of their own */

/* A process in the target set. */
struct st_target {
	unsigned int armed;	/* 0: a spawned command before its execve */
	unsigned int exited;
	unsigned int slot;	/* its fd-table generation in the procs array */
	unsigned int pad;
	char comm[16];
};

/* Per process, syscall and errno (0: succeeded), in a per-CPU hash. */
struct st_key {
	unsigned int pid;
	int nr;
	int err;
	int pad;
};

struct st_val {
	unsigned long long count, total_ns, max_ns;
	unsigned long long spin;	/* STF_POLL calls returning 0 within 1 ms */
	unsigned long long hist[ST_HIST];
};

/*
 * Per process, syscall, fd and fd-table generation: the calls that name
 * their file by descriptor only, so user space can tell which file (from
 * the opens it saw) and whether it is a pipe, socket or terminal.
 */
struct st_fdkey {
	unsigned int pid;
	int nr;
	int fd;
	short err;
	unsigned short flags;	/* STK_* */
	unsigned long long gen;
};

/* An *at() call on "" (AT_EMPTY_PATH): it acts on its dirfd, counted here. */
#define STK_EMPTY_PATH 1

struct st_fdval {
	unsigned long long count, bytes, total_ns;
};

/*
 * Per CPU, the counters of the last few keys, added to in place (an
 * array slot, no hashing): a key is moved to its hash map only when
 * another key takes its slot. User space reads what is left in them at
 * the end, as more of the same counts.
 */
#define ST_CACHE 128

/* Keys in each of the two fd-keyed maps. */
#define ST_FD_KEYS 131072

struct st_scache {
	struct st_key k;
	unsigned long long used;
	struct st_val v;
};

struct st_fcache {
	struct st_fdkey k;
	unsigned long long used;
	struct st_fdval v;
};

/* Ring buffer records. */
#define ST_REC_CALL 1

#define STR_KEEP	0x01	/* passes the filters: a syscall record */
#define STR_TARGET	0x02	/* its path or address counts in io/net summaries */
#define STR_NAMES	0x04	/* changes the fd table */

/*
 * A record: this header, then salen bytes of socket address, then
 * path_len bytes of path (no NUL), so a file call carries no room for an
 * address and a call without a path no room for one.
 */
struct st_rec {
	unsigned int kind;	/* ST_REC_CALL */
	unsigned int flags;	/* STR_* */
	unsigned int pid, tid;
	int nr;
	int path_err;		/* bpf_probe_read_user_str's error, 0 good */
	long long ret;
	unsigned long long ts_ns, dur_ns;
	unsigned long long gen;	/* fd-table generation at entry */
	unsigned long long args[6];
	char comm[16];
	unsigned int salen;
	unsigned int path_len;
};

/* What the programs read from user space before they run (.rodata). */
struct st_config {
	int failures;		/* only failed calls make records */
	int errno_filter;	/* only this errno, 0 none */
	int summary;		/* records only for targets and fd table news */
	int diagnose;		/* records for the diagnoses' evidence too */
};

#endif
