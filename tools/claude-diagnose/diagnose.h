/* claude-diagnose internals: options, the report being built, its renderers. */
#ifndef CLAUDE_DIAGNOSE_H
#define CLAUDE_DIAGNOSE_H

#include <cjson/cJSON.h>

#include "cli.h"
#include "procinfo.h"
#include "sysinfo.h"

#define SCHEMA_VERSION 1

struct dopts {
	struct pidlist pids;
	int json;
	int nocolor;
	int redact;
	double interval_s;	/* cd-ps CPU interval */
	double cpu_warn, cpu_crit;	/* percent of one core */
	double rss_warn_mb, rss_crit_mb;
};

struct report {
	char timestamp[40];
	struct sysinfo_id id;
	struct sysmem mem;
	int have_mem;
	cJSON *procs;		/* process records from cd-ps */
	cJSON *ps_meta;
	cJSON *findings;	/* diagnosis objects, all severities */
	cJSON *actions;		/* recommended commands (strings) */
	char *ps_error;		/* cd-ps failed: why */
	double total_cpu, total_mem, total_rss_kb;
	long ncpu;
};

/* collect.c */
int collect_processes(struct report *r, const struct dopts *o);

/* analyze.c */
void analyze(struct report *r, const struct dopts *o);
void finding_add(struct report *r, const char *severity, const char *issue,
    int pid, const char *description, const char *remedy);
int findings_count(const struct report *r, const char *severity);

/* report_text.c */
void report_text(const struct report *r, const struct dopts *o);

/* report_json.c */
void report_json(const struct report *r, const struct dopts *o);

#endif
