/* claude-trace internals. */
#ifndef CLAUDE_TRACE_H
#define CLAUDE_TRACE_H

#include <stdio.h>
#include <cjson/cJSON.h>

struct topts {
	double watch_s;		/* 0: one shot */
	double cpu_warn;	/* -k, <0 off */
	double rss_warn_mb;	/* -m, <0 off */
	int verbose, tree, json, nocolor;
	struct pidlist *pids;
};

struct snapshot {
	cJSON *procs;		/* array of process records from cd-ps */
	cJSON *meta;
	double cpu, mem, rss_kb;
	int count, orphaned;
	char *error;		/* cd-ps failed: its message */
};

/* render.c */
void render_table(FILE *out, const struct snapshot *s, const struct topts *o);
int over_cpu(const cJSON *p, const struct topts *o);
int over_rss(const cJSON *p, const struct topts *o);

/* json.c */
cJSON *snapshot_json(const struct snapshot *s);

#endif
