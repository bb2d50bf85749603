/*
 * The diagnosis rule table: which stacks mean what. One row per finding;
 * add a row to teach cd-sample a new one.
 */
#ifndef CD_SAMPLE_RULES_H
#define CD_SAMPLE_RULES_H

#include <stddef.h>

#include "sample.h"

#define RULE_PATS 24
#define RULE_EVIDENCE 5

struct rule {
	const char *code;		/* snake_case id: the record's "code" */
	const char *title;		/* what the report calls it: "issue" */
	const char *what;		/* for the description: "garbage collection" */
	const char *frames_any[RULE_PATS];	/* substring of any frame */
	const char *frames_leaf[RULE_PATS];	/* substring near the leaf */
	const char *threads[RULE_PATS];	/* thread-name prefix */
	double warn_pct, crit_pct;	/* share of the process's samples */
	double min_cpu_pct;		/* the process's CPU must be this high */
	int cpu_only;			/* meaningless for --wall captures */
	int count_idle;			/* in --wall, count threads that are waiting */
	const char *remedy;
	const char *remedy_jsc;		/* for a JavaScriptCore (Bun) process, if different */
};

struct evidence {
	const char *name;	/* a frame or a thread name */
	int is_thread;
	unsigned long count;
};

struct diag {
	const struct rule *rule;
	int pid;
	const char *severity;	/* "warning" or "critical" */
	unsigned long matched, total;
	double share_pct;
	double cpu_pct;		/* the process's, or -1 when unknown */
	struct evidence ev[RULE_EVIDENCE];
	size_t nev;
	const char *remedy;	/* the rule's, for this process's runtime */
};

extern const struct rule rules[];
extern const size_t nrules;

/*
 * Evaluate every rule over the samples of pid (v may hold other pids).
 * cpu_pct is the process's CPU (-1 unknown). Writes at most max findings
 * to out, most severe first; returns how many.
 */
size_t rules_eval(const struct sample *v, size_t n, int pid, double cpu_pct,
    int wall, struct diag *out, size_t max);

/* Do pid's samples show a JavaScriptCore (Bun) process? */
int samples_are_jsc(const struct sample *v, size_t n, int pid);

/* Does the stack end in a wait (futex, poll, sleep)? Used for --wall. */
int stack_is_idle(const struct sample *s);

#endif
