/* -j: the JSON document scripts written for the original expect. */
#include <string.h>
#include <time.h>

#include "record.h"
#include "sysinfo.h"
#include "trace.h"
#include "units.h"

static cJSON *
proc_json(const cJSON *p, const struct topts *opt)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *kids, *k;

	cJSON_AddNumberToObject(o, "pid", rec_get_num(p, "pid", 0));
	cJSON_AddNumberToObject(o, "ppid", rec_get_num(p, "ppid", 0));
	cJSON_AddNumberToObject(o, "cpu_percent", rec_get_num(p, "cpu_pct", 0));
	cJSON_AddNumberToObject(o, "mem_percent", rec_get_num(p, "mem_pct", 0));
	cJSON_AddNumberToObject(o, "rss_kb", rec_get_num(p, "rss_kb", 0));
	cJSON_AddNumberToObject(o, "vsz_kb", rec_get_num(p, "vsz_kb", 0));
	/* ps's STAT, flags and all ("Sl+"), as the original's ps gave it. */
	rec_add_str(o, "state", rec_get_str(p, "stat") ? rec_get_str(p, "stat") :
	    rec_get_str(p, "state"));
	rec_add_str(o, "elapsed_time", rec_get_str(p, "elapsed"));
	rec_add_str(o, "command", rec_get_str(p, "command"));
	rec_add_str(o, "version", rec_get_str(p, "version"));
	cJSON_AddBoolToObject(o, "is_orphaned",
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "orphaned")));
	cJSON_AddBoolToObject(o, "is_outdated",
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "is_outdated")));
	cJSON_AddNumberToObject(o, "threads", rec_get_num(p, "threads", 0));
	rec_add_str(o, "cwd", rec_get_str(p, "cwd"));
	rec_add_str(o, "project", rec_get_str(p, "project"));
	if (opt->verbose) {
		const cJSON *fds = cJSON_GetObjectItemCaseSensitive(p, "fds");

		/* The original counted lsof's lines; this is /proc/PID/fd. */
		if (cJSON_IsNumber(fds))
			cJSON_AddNumberToObject(o, "open_files", fds->valuedouble);
		else
			cJSON_AddNullToObject(o, "open_files");
		if (rec_get_str(p, "session_id"))
			rec_add_str(o, "session_id", rec_get_str(p, "session_id"));
	}
	kids = cJSON_GetObjectItemCaseSensitive(p, "children");
	if (cJSON_IsArray(kids)) {
		cJSON *arr = cJSON_AddArrayToObject(o, "children");

		cJSON_ArrayForEach(k, kids)
			cJSON_AddItemToArray(arr, proc_json(k, opt));
	}
	return o;
}

cJSON *
snapshot_json(const struct snapshot *s, const struct topts *o)
{
	struct sysinfo_id id;
	cJSON *doc = cJSON_CreateObject(), *tot, *arr;
	const cJSON *p;
	char ts[40], human[16];

	sysinfo_read(&id);
	iso8601(time(NULL), ts, sizeof(ts));
	rec_add_str(doc, "timestamp", ts);
	rec_add_str(doc, "hostname", id.hostname);
	rec_add_str(doc, "os", id.os);
	rec_add_str(doc, "os_version", id.os_version);
	rec_add_str(doc, "distro", id.distro);
	rec_add_str(doc, "latest_local_version", s->latest_local ?
	    s->latest_local : "");
	cJSON_AddNumberToObject(doc, "process_count", s->count);
	cJSON_AddNumberToObject(doc, "orphaned_count", s->orphaned);
	cJSON_AddNumberToObject(doc, "outdated_count", s->outdated);
	tot = cJSON_AddObjectToObject(doc, "totals");
	cJSON_AddNumberToObject(tot, "cpu_percent", s->cpu);
	cJSON_AddNumberToObject(tot, "mem_percent", s->mem);
	cJSON_AddNumberToObject(tot, "rss_kb", s->rss_kb);
	human_kb(s->rss_kb, human, sizeof(human));
	rec_add_str(tot, "rss_human", human);
	arr = cJSON_AddArrayToObject(doc, "processes");
	cJSON_ArrayForEach(p, s->procs)
		cJSON_AddItemToArray(arr, proc_json(p, o));
	if (s->error)
		rec_add_str(doc, "error", s->error);
	return doc;
}
