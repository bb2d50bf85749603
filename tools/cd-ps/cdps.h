/* cd-ps internals. */
#ifndef CD_PS_H
#define CD_PS_H

#include <regex.h>
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
};

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
