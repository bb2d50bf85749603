/*
 * -j: one JSON document, a superset of the original claude-diagnose's
 * (every field it wrote, by name and type: compat.c), plus ours and
 * schema_version. The schema is in claude-diagnose(1).
 */
#include <stdio.h>
#include <string.h>

#include "exitcode.h"
#include "diagnose.h"
#include "msg.h"
#include "record.h"

static cJSON *
system_json(const struct report *r)
{
	cJSON *sys = cJSON_CreateObject(), *mem;

	cJSON_AddNumberToObject(sys, "cpu_count", (double)r->ncpu);
	mem = cJSON_AddObjectToObject(sys, "memory");
	rec_add_str(mem, "pressure_level", compat_pressure_level(r));
	cJSON_AddNumberToObject(mem, "free_memory_mb", r->have_mem ?
	    (double)(r->mem.available_kb / 1024) : 0);
	if (!r->have_mem)
		return sys;
	cJSON_AddNumberToObject(mem, "total_kb", (double)r->mem.total_kb);
	cJSON_AddNumberToObject(mem, "available_kb", (double)r->mem.available_kb);
	cJSON_AddNumberToObject(mem, "used_kb", (double)r->mem.used_kb);
	cJSON_AddNumberToObject(mem, "swap_total_kb", (double)r->mem.swap_total_kb);
	cJSON_AddNumberToObject(mem, "swap_free_kb", (double)r->mem.swap_free_kb);
	if (r->mem.psi_some_avg10 >= 0) {
		cJSON *psi = cJSON_AddObjectToObject(mem, "pressure");

		cJSON_AddNumberToObject(psi, "some_avg10", r->mem.psi_some_avg10);
		cJSON_AddNumberToObject(psi, "some_avg60", r->mem.psi_some_avg60);
		cJSON_AddNumberToObject(psi, "full_avg10", r->mem.psi_full_avg10);
	} else {
		cJSON_AddNullToObject(mem, "pressure");
	}
	return sys;
}

/* Records of a capture about pid, copied, without their "type". */
static cJSON *
records(const struct report *r, int c, const char *type, int pid)
{
	cJSON *sel = capture_select(r, c, type, pid), *out = cJSON_CreateArray();
	const cJSON *x;

	cJSON_ArrayForEach(x, sel) {
		cJSON *d = cJSON_Duplicate(x, 1);

		cJSON_DeleteItemFromObjectCaseSensitive(d, "type");
		cJSON_AddItemToArray(out, d);
	}
	cJSON_Delete(sel);
	return out;
}

/* How the capture was made: method, fallback, losses, errors. */
static void
capture_info(cJSON *sec, const struct capture *cap)
{
	const cJSON *m = cap->meta;
	char mbuf[128], fbuf[512];

	rec_add_str(sec, "method", capture_method(m, mbuf, sizeof(mbuf)));
	rec_add_str(sec, "fallback_reason", capture_fallback(m, fbuf, sizeof(fbuf)));
	if (cap->error)
		rec_add_str(sec, "error", cap->error);
	if (cap->stopped)
		cJSON_AddBoolToObject(sec, "stopped_before_measuring", 1);
	if (m) {
		cJSON *d = cJSON_Duplicate(m, 1);

		cJSON_DeleteItemFromObjectCaseSensitive(d, "type");
		cJSON_AddItemToObject(sec, "meta", d);
	}
}

/* o's section name, opening with the process's summary record of capture c. */
static cJSON *
summary_section(const struct report *r, cJSON *o, const char *name, int c,
    const char *type, int pid)
{
	cJSON *s = cJSON_AddObjectToObject(o, name);
	cJSON *sum = records(r, c, type, pid);

	cJSON_AddItemToObject(s, "summary", cJSON_Duplicate(cJSON_GetArrayItem(sum, 0), 1));
	cJSON_Delete(sum);
	return s;
}

static void
add_sections(const struct report *r, cJSON *o, int pid)
{
	if (r->cap[CAP_SAMPLE].wanted) {
		cJSON *s = summary_section(r, o, "sample", CAP_SAMPLE, "sample_summary", pid);

		cJSON_AddItemToObject(s, "hot_functions",
		    records(r, CAP_SAMPLE, "hot_function", pid));
		cJSON_AddItemToObject(s, "threads",
		    records(r, CAP_SAMPLE, "thread_cpu", pid));
		capture_info(s, &r->cap[CAP_SAMPLE]);
	}
	if (r->cap[CAP_FDS].wanted)
		capture_info(summary_section(r, o, "file_descriptors", CAP_FDS, "fd_summary", pid),
		    &r->cap[CAP_FDS]);
	if (r->cap[CAP_TRACE].wanted) {
		cJSON *t = cJSON_AddObjectToObject(o, "dtrace");

		cJSON_AddItemToObject(t, "syscalls",
		    records(r, CAP_TRACE, "syscall_summary", pid));
		cJSON_AddItemToObject(t, "io", records(r, CAP_TRACE, "io_summary", pid));
		cJSON_AddItemToObject(t, "network",
		    records(r, CAP_TRACE, "net_summary", pid));
		capture_info(t, &r->cap[CAP_TRACE]);
	}
}

static cJSON *
process_json(const struct report *r, const struct diag_opts *opt, const cJSON *p)
{
	cJSON *o = cJSON_Duplicate(p, 1), *diag;
	const cJSON *d;
	int pid = (int)rec_get_num(p, "pid", 0);

	cJSON_DeleteItemFromObjectCaseSensitive(o, "type");
	diag = cJSON_AddArrayToObject(o, "diagnoses");
	cJSON_ArrayForEach(d, r->findings)
		if ((int)rec_get_num(d, "pid", -1) == pid)
			cJSON_AddItemToArray(diag, cJSON_Duplicate(d, 1));
	add_sections(r, o, pid);
	compat_process(r, opt, o, p);
	return o;
}

void
report_json(const struct report *r, const struct diag_opts *o, FILE *out)
{
	cJSON *doc = cJSON_CreateObject(), *procs, *sum;
	const cJSON *p;
	char *txt;

	cJSON_AddNumberToObject(doc, "schema_version", SCHEMA_VERSION);
	rec_add_str(doc, "tool", "claude-diagnose");
	rec_add_str(doc, "version", CD_VERSION);
	rec_add_str(doc, "timestamp", r->timestamp);
	rec_add_str(doc, "hostname", r->id.hostname);
	rec_add_str(doc, "os", r->id.os);
	rec_add_str(doc, "os_version", r->id.os_version);
	rec_add_str(doc, "distro", r->id.distro);
	cJSON_AddNumberToObject(doc, "process_count", cJSON_GetArraySize(r->procs));
	procs = cJSON_AddArrayToObject(doc, "processes");
	cJSON_ArrayForEach(p, r->procs)
		cJSON_AddItemToArray(procs, process_json(r, o, p));
	cJSON_AddItemToObject(doc, "system", system_json(r));
	sum = cJSON_AddObjectToObject(doc, "summary");
	cJSON_AddNumberToObject(sum, "total_cpu", r->total_cpu);
	cJSON_AddNumberToObject(sum, "total_mem", r->total_mem);
	cJSON_AddNumberToObject(sum, "total_rss_mb",
	    (double)(long long)(r->total_rss_kb / 1024));
	/* The original's lists of strings; the objects are in findings. */
	cJSON_AddItemToObject(sum, "critical_issues",
	    compat_issue_strings(r, "critical"));
	cJSON_AddItemToObject(sum, "warnings", compat_issue_strings(r, "warning"));
	cJSON_AddItemToObject(sum, "findings", cJSON_Duplicate(r->findings, 1));
	cJSON_AddItemToObject(doc, "recommendations", cJSON_Duplicate(r->actions, 1));
	cJSON_AddItemToObject(doc, "files_written", cJSON_Duplicate(r->files, 1));
	if (cJSON_GetArraySize(r->file_errors) > 0)
		cJSON_AddItemToObject(doc, "files_not_written",
		    cJSON_Duplicate(r->file_errors, 1));
	cJSON_AddBoolToObject(doc, "interrupted", r->interrupted);
	if (r->ps_error)
		rec_add_str(doc, "error", r->ps_error);
	txt = cJSON_Print(doc);
	if (txt == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory");
	fprintf(out, "%s\n", txt);
	cJSON_free(txt);
	cJSON_Delete(doc);
}
