#include <string.h>

#include "diagnosis.h"
#include "msg.h"
#include "exitcode.h"
#include "record.h"

cJSON *
diagnosis_new(const struct diagnosis *d)
{
	cJSON *r = rec_new("diagnosis");

	rec_add_str(r, "severity", d->severity);
	rec_add_str(r, "issue", d->issue);
	rec_add_str(r, "code", d->code);
	rec_add_str(r, "description", d->description);
	rec_add_str(r, "remedy", d->remedy);
	/* a number, not rec_add_num's raw text: the driver reads it back */
	if ((d->pid > 0 ? cJSON_AddNumberToObject(r, "pid", d->pid) :
	    cJSON_AddNullToObject(r, "pid")) == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory building a record");
	if (d->comm != NULL)
		rec_add_str(r, "comm", d->comm);
	rec_add_str(r, "source", d->source);
	return r;
}

cJSON *
diagnosis_evidence(cJSON *rec)
{
	cJSON *e = cJSON_AddObjectToObject(rec, "evidence");

	if (e == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory building a record");
	return e;
}

int
diagnosis_is_critical(const char *severity)
{
	return severity != NULL && strcmp(severity, "critical") == 0;
}
