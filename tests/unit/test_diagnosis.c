/* The diagnosis record every analyser writes: its fields, as the stream contract names them. */
#include <stdlib.h>

#include "check.h"
#include "diagnosis.h"
#include "record.h"

int
main(void)
{
	struct diagnosis d = {
		.source = "cd-test", .severity = "critical", .code = "x_storm",
		.issue = "X storm", .description = "bad\xff byte", .remedy = "calm down",
		.pid = 42, .comm = "node",
	};
	cJSON *r = diagnosis_new(&d), *ev;
	char *s;

	ev = diagnosis_evidence(r);
	rec_add_num(ev, "rate_per_s", 12.5);
	s = cJSON_PrintUnformatted(r);
	/* Invalid UTF-8 replaced; pid a number the driver can read back. */
	CHECK_STR(s, "{\"type\":\"diagnosis\",\"severity\":\"critical\",\"issue\":\"X storm\","
	    "\"code\":\"x_storm\",\"description\":\"bad\xef\xbf\xbd byte\","
	    "\"remedy\":\"calm down\",\"pid\":42,\"comm\":\"node\",\"source\":\"cd-test\","
	    "\"evidence\":{\"rate_per_s\":12.5}}");
	CHECK(rec_get_num(r, "pid", -1) == 42);
	free(s);
	cJSON_Delete(r);

	/* A system-wide finding: pid null, no comm. */
	d.pid = 0;
	d.comm = NULL;
	r = diagnosis_new(&d);
	CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "pid")));
	CHECK(cJSON_GetObjectItemCaseSensitive(r, "comm") == NULL);
	cJSON_Delete(r);

	CHECK(diagnosis_is_critical("critical"));
	CHECK(!diagnosis_is_critical("warning"));
	CHECK(!diagnosis_is_critical(NULL));
	return CHECK_DONE();
}
