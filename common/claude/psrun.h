/*
 * Process data for the composing programs (claude-trace, claude-diagnose):
 * they run cd-ps and read its records rather than copy its code.
 */
#ifndef CD_PSRUN_H
#define CD_PSRUN_H

#include <cjson/cJSON.h>

#include "cli.h"

struct ps_query {
	double interval_s;		/* cd-ps --interval */
	int tree;			/* --tree */
	int redact;			/* 0: --no-redact */
	const struct pidlist *pids;	/* --pid each; NULL or empty: all */
};

/*
 * Run cd-ps: its process records are appended to procs, its meta record
 * goes to *meta. Returns cd-ps's exit status (-1 when it could not run);
 * whenever that is not 0, *error says why (caller frees), even if some
 * records came (a --pid that is gone).
 */
int ps_run(const struct ps_query *q, cJSON *procs, cJSON **meta, char **error);

#endif
