/* claude-diagnose internals: options, the report being built, its renderers. */
#ifndef CD_DIAG_H
#define CD_DIAG_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "cli.h"
#include "procinfo.h"
#include "sysinfo.h"

#define SCHEMA_VERSION 2

struct diag_opts {
	struct pidlist pids;
	int json;
	int nocolor;
	int redact;
	double interval_s;	/* cd-ps CPU interval */
	double cpu_warn, cpu_crit;	/* percent of one core; 0: off */
	double rss_warn_mb, rss_crit_mb;	/* 0: off */
	double child_cpu;	/* a child of Claude Code this busy is named */
	int deep;		/* -d: cd-fds */
	int sample;		/* -s: cd-sample */
	double sample_s;
	int trace;		/* -D: cd-trace */
	double trace_s;
	int io, network;
	int flamegraph;
	const char *output;	/* -o: base name of files written */
	char *output_base;	/* -o x.svg: "x", which output points to */
	const char *baseline;	/* --baseline: an earlier CPU .folded to diff against */
	int progress;		/* -1 auto (tty), 0 off, 1 on */
	const char *json_file;	/* --json-file: the JSON document, too */
};

/* One capture stage run by the driver, and what it produced. */
struct capture {
	const char *label;	/* "file descriptors", "sampling", "tracing" */
	int wanted, ran;
	int status;
	char *error;		/* failed: why, from the stage's stderr */
	int broken;		/* crashed, or ended without its meta record */
	int stopped;		/* ended by the stop we forwarded before it
				 * could catch it: nothing measured, no fault */
	cJSON *recs;		/* every record but meta */
	cJSON *meta;
};

enum { CAP_FDS, CAP_SAMPLE, CAP_TRACE, CAP__N };

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
	struct capture cap[CAP__N];
	cJSON *files;		/* paths written (strings) */
	cJSON *file_errors;	/* what could not be written */
	int interrupted;	/* Ctrl-C ended the captures early */
};

/* collect.c */
int collect_processes(struct report *r, const struct diag_opts *o);

/* capture.c */
void capture_run(struct report *r, const struct diag_opts *o);
void capture_release(struct report *r);
/*
 * How a capture was made, from its meta: "method" (cd-sample, cd-trace),
 * or cd-fds's fd-table method and socket backend together; and the
 * fallback reasons joined. Into buf; NULL when meta says nothing.
 */
const char *capture_method(const cJSON *meta, char *buf, size_t len);
const char *capture_fallback(const cJSON *meta, char *buf, size_t len);
/* Records of type from capture c about pid (a new array of references). */
cJSON *capture_select(const struct report *r, int c, const char *type, int pid);

/* flame.c */
void flame_write(struct report *r, const struct diag_opts *o);
/*
 * The top of pid's CPU call tree (cd-fold --tree), at most max_lines lines
 * of it; NULL when there are no samples or cd-fold failed. Caller frees.
 */
char *flame_tree(const struct report *r, int pid, int max_lines);

/* analyze.c */
void analyze(struct report *r, const struct diag_opts *o);
void finding_add(struct report *r, const char *severity, const char *code,
    const char *issue, int pid, const char *description, const char *remedy);
int findings_count(const struct report *r, const char *severity);

/* sections.c */
void section_sample(const struct report *r, int pid);
void section_fds(const struct report *r, int pid);
void section_trace(const struct report *r, int pid);

/* report_text.c */
void report_text(const struct report *r, const struct diag_opts *o);

/* compat.c: the original's JSON fields */
void compat_process(const struct report *r, const struct diag_opts *o, cJSON *out,
    const cJSON *p);
const char *compat_pressure_level(const struct report *r);
cJSON *compat_issue_strings(const struct report *r, const char *severity);

/* report_json.c */
void report_json(const struct report *r, const struct diag_opts *o, FILE *out);

#endif
