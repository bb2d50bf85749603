/* claude-trace internals. */
#ifndef CD_CTRACE_H
#define CD_CTRACE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#include "cli.h"
#include "stage.h"

/* What a one-off action (not the table) should do. */
enum action { ACT_TABLE, ACT_KILL, ACT_CHECK_VERSION, ACT_UPGRADE,
	ACT_RELEASE_NOTES, ACT_PROMETHEUS };

struct topts {
	double watch_s;		/* 0: one shot */
	double cpu_warn;	/* -k, <=0 off */
	double rss_warn_mb;	/* -m, <=0 off */
	int verbose, tree, json, nocolor;
	struct pidlist *pids;
	enum action action;
	int kill_pid;		/* -K */
	int force;		/* -9: SIGKILL */
	const char *capture_dir;	/* --capture: the flight recorder */
	double capture_s;		/* --capture-duration */
	double capture_every_s;		/* --capture-every, per process */
	int capture_keep;		/* --capture-keep folders */
	double capture_before_s;	/* --capture-before; 0 off */
	const char *prom_file;		/* --prometheus-file */
	const char *listen;		/* --listen [ADDR:]PORT */
};

/* --capture-before's rolling sample (presample.c). */
struct prepend {
	int pid;		/* crossed */
	int folder;		/* its capture's folder */
	uint64_t t;		/* when */
};
#define PRE_RING 32
struct prechunk {
	char *text;		/* its records */
	uint64_t t0, t1;
};
struct presample {
	double window_s;	/* 0: off */
	struct stage cur;	/* the running chunk of cd-sample */
	int running, failed, cutting;
	int fails;		/* chunks that failed in a row */
	uint64_t t0;		/* when cur began */
	struct pidlist set;	/* what cur samples */
	struct { int pid; uint64_t t; } *recent;	/* last seen busy */
	size_t nrecent;
	struct prechunk ring[PRE_RING];	/* finished chunks, oldest first */
	size_t nring;
	struct prepend *pend;	/* crossings waiting for cur to end */
	size_t npend;
};
/* Once a frame: collect an ended chunk, start the next on procs. */
void presample_frame(struct presample *p, const cJSON *procs);
/* pid crossed and is captured into folder: its "before" files go there. */
void presample_crossed(struct presample *p, int pid, int folder);
void presample_close(struct presample *p);

/* The flight recorder's state (capture.c). */
#define RECORDER_EVENTS 3
struct capjob {
	int target;		/* the Claude Code pid captured */
	pid_t child;		/* the driver; its process group; 0 ended */
	uint64_t t0;
	int stopping;		/* sent SIGINT because claude-trace is ending */
	char name[64];		/* folder under the capture directory */
};
struct recorder {
	const struct topts *o;
	int dirfd;		/* -1: off */
	char *path;		/* the capture directory, absolute */
	char *driver;		/* claude-diagnose's path */
	struct capjob *jobs;
	size_t njobs;
	struct { int pid; uint64_t t; } *last;	/* last start, per process */
	size_t nlast;
	int started, skipped, removed;
	char *events[RECORDER_EVENTS];	/* newest first */
	struct presample pre;
};

struct snapshot {
	cJSON *procs;		/* array of process records from cd-ps */
	cJSON *meta;
	double cpu, mem, rss_kb;
	int count, orphaned, outdated;
	char *latest_local;	/* newest Claude Code installed; NULL unknown */
	char *error;		/* cd-ps failed: its message */
};

/* The aggregate warnings: together over a core, or 2 GB. */
#define AGG_CPU_PCT 100.0
#define AGG_RSS_KB (2.0 * 1024 * 1024)

/* render.c */
void render_table(FILE *out, const struct snapshot *s, const struct topts *o);
int over_cpu(const cJSON *p, const struct topts *o);
int over_rss(const cJSON *p, const struct topts *o);
/* "1.2G", "512.0M", "900K": the original's format_bytes. */
void human_kb(double kb, char *buf, size_t len);

/* json.c */
cJSON *snapshot_json(const struct snapshot *s, const struct topts *o);

/* versions.c */
/* Newest version installed: versions directories, and the running installs. */
char *versions_newest_local(const cJSON *procs);
/* Mark each record is_outdated; returns how many are. */
int versions_mark_outdated(cJSON *procs, const char *latest);
int do_check_version(const struct topts *o);
int do_upgrade(const struct topts *o);
int do_release_notes(const struct topts *o);

/* capture.c */
/* A new private file in a capture folder, the invoking user's; -1 errno. */
int capture_new_file(int dirfd, const char *name);
void recorder_open(struct recorder *r, const struct topts *o);
/* A process went over a threshold: capture it, unless the limits say not. */
void recorder_crossed(struct recorder *r, int pid, const char *why);
/* Reap ended captures (once a frame). */
void recorder_poll(struct recorder *r);
/* --capture-before: the rolling sample, on this frame's processes. */
void recorder_sample(struct recorder *r, const cJSON *procs);
void recorder_lines(FILE *out, const struct recorder *r, const char *eol);
/* Stop and reap every capture still running; free. */
void recorder_close(struct recorder *r);

/* prom.c */
/* The metrics of these processes (cd-ps records, cd-fds summaries). */
void prom_write(FILE *out, const cJSON *procs, const cJSON *sums);
int do_prometheus(const struct topts *o);
/* cd-fds --summary on these processes: their fd_summary records. */
cJSON *prom_fd_summaries(const cJSON *procs);

/* listen.c */
/* Bind --listen's [ADDR:]PORT (loopback by default); dies on failure. */
int listen_open(const char *spec);
/* Sleep ns, answering GET /metrics for procs meanwhile, until *stop. */
void listen_wait(int lfd, uint64_t ns, volatile int *stop, const cJSON *procs);

/* psstream.c: watch mode's long-lived cd-ps --stream. */
struct ps_query;
struct psstream {
	struct stage st;	/* cd-ps; its stderr emptied each batch */
	int running;
	int req_fd;		/* a request line per batch */
	FILE *out;		/* its records */
	int no_fds;		/* cd-ps --no-fds */
};
/*
 * ps_run for one frame: the same records, meta and error (the batch's
 * stderr); -1 when there is an error. Starts cd-ps first if need be.
 */
int psstream_take(struct psstream *s, const struct ps_query *q, cJSON *procs,
    cJSON **meta, char **error);
/* The frames show no fd count (no -v, -j or --listen): cd-ps need not count. */
void psstream_no_fds(struct psstream *s, int off);
void psstream_close(struct psstream *s);

/* kill.c */
int do_kill(const struct topts *o);

#endif
