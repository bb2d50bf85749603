/* cd-ps internals. */
#ifndef CD_PS_H
#define CD_PS_H

#include <regex.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "cli.h"
#include "procinfo.h"

enum sort_key { SORT_CPU, SORT_RSS, SORT_PID };

struct ps_opts {
	int all;
	struct pidlist pids;
	regex_t *match;
	size_t nmatch;
	double interval_s;
	int tree;
	int table;
	enum sort_key sort;
	long top;
	int redact;
	int stream;		/* --stream: batches on request */
};

/* One process as reported, derived from procinfo. */
struct row {
	struct procinfo *p;
	int kind;		/* enum claude_kind */
	double cpu_pct, cpu_life_pct, mem_pct;
	double cpu_time_s;	/* user + system CPU over its life */
	int gone;		/* exited during the interval */
	int orphaned;
	char *command, *version, *project;
	struct row **children;	/* --tree: direct children */
	size_t nchildren;
	int is_child;		/* listed under a parent, not at the top */
	int want;		/* 1 matched, 2 (--tree) a descendant only */
};

/*
 * --stream: what is known of every process between batches, so a batch
 * reads in full only the processes it reports and the new ones.
 */
struct known {
	int keep;		/* select_keep's answer */
	int recheck;		/* batches left that read it again */
	int filled;		/* p's full fields read: refresh them */
};
struct pscache {
	struct procinfo *p;	/* by pid, ascending */
	struct known *k;	/* the same index */
	size_t n;
	uint64_t full_t;	/* the last full scan; 0 never */
	long batches;
	int full;		/* this batch scanned every process */
	size_t fresh;		/* processes read again this batch */
};

/* main.c */
int ps_batch(struct ps_opts *o, struct pscache *c);

/* stream.c */
int stream_run(struct ps_opts *o, volatile int *stop);
/* The processes of this batch, as procinfo_scan gives them. */
int stream_gather(struct pscache *c, const struct ps_opts *o,
    struct proclist *pl);
void stream_meta(const struct pscache *c, cJSON *meta);

/* select.c */
int select_keep(const struct procinfo *p, void *opts);
int select_kind(const struct procinfo *p);
void select_tree(struct proclist *pl, int *want);

/* emit.c */
cJSON *row_json(const struct row *r);
void emit_rows(struct row **rows, size_t n);

/* table.c */
void table_print(struct row **rows, size_t n);

#endif
