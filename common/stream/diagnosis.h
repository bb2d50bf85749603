/*
 * The "diagnosis" record: one finding, the same shape whichever tool made
 * it (cd-fds, cd-sample, cd-trace, the claude-diagnose overview), so the
 * report lists them together. See man/claude-diagnose-streams.7.
 */
#ifndef CD_DIAGNOSIS_H
#define CD_DIAGNOSIS_H

#include <cjson/cJSON.h>

struct diagnosis {
	const char *source;		/* the tool that found it: "cd-trace" */
	const char *severity;		/* "critical", "warning" or "info" */
	const char *code;		/* stable snake_case id: "event_loop_spin" */
	const char *issue;		/* its title for people: "Event loop spinning" */
	const char *description;	/* what was measured */
	const char *remedy;		/* what to do */
	int pid;			/* <= 0: none, written as null */
	const char *comm;		/* the process's name, or NULL */
};

/*
 * A new diagnosis record holding d's fields (strings copied, made valid
 * UTF-8); the caller adds evidence and emits or keeps it.
 */
cJSON *diagnosis_new(const struct diagnosis *d);
/* Its "evidence" object, added empty. */
cJSON *diagnosis_evidence(cJSON *rec);
/* Whether a severity is "critical". */
int diagnosis_is_critical(const char *severity);

#endif
