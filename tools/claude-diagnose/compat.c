/*
 * The original claude-diagnose's JSON fields, beside ours, so that scripts
 * written for it (jq '.processes[0].cpu', '.summary.critical_issues[0]',
 * '.processes[0].dtrace.top_syscalls[0].name') keep working. Each field
 * has the original's name and JSON type; the values are what this
 * project measured. Where the original had a per-call figure that a
 * summary capture does not have, claude-diagnose(1) says what stands in.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "msg.h"
#include "record.h"

/* The original's severity words: high goes to critical_issues. */
static const char *
old_severity(const char *s)
{
	if (s && strcmp(s, "critical") == 0)
		return "high";
	if (s && strcmp(s, "warning") == 0)
		return "medium";
	return "low";
}

/* The findings of one stage about pid, as the original's Diagnosis. */
static cJSON *
old_diagnoses(const struct report *r, const char *source, int pid)
{
	cJSON *arr = cJSON_CreateArray();
	const cJSON *d;

	cJSON_ArrayForEach(d, r->findings) {
		const char *src = rec_get_str(d, "source");
		cJSON *o;

		if (src == NULL || strcmp(src, source) != 0 ||
		    (int)rec_get_num(d, "pid", -1) != pid)
			continue;
		o = cJSON_CreateObject();
		rec_add_str(o, "issue", rec_get_str(d, "issue"));
		rec_add_str(o, "severity", old_severity(rec_get_str(d, "severity")));
		rec_add_str(o, "description", rec_get_str(d, "description") ?
		    rec_get_str(d, "description") : "");
		rec_add_str(o, "remedy", rec_get_str(d, "remedy") ?
		    rec_get_str(d, "remedy") : "");
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static void
add_int(cJSON *o, const char *name, double v)
{
	cJSON_AddNumberToObject(o, name, floor(v));
}

static void
add_error(cJSON *sec, const struct capture *cap)
{
	if (cap->error && !cJSON_HasObjectItem(sec, "error"))
		rec_add_str(sec, "error", cap->error);
}

static void
sample_fields(const struct report *r, cJSON *sec, const cJSON *p, int pid)
{
	cJSON *sum = capture_select(r, CAP_SAMPLE, "sample_summary", pid);
	cJSON *arr;
	const cJSON *x;

	add_int(sec, "pid", pid);
	cJSON_AddBoolToObject(sec, "success", cJSON_GetArraySize(sum) > 0);
	cJSON_AddNullToObject(sec, "sample_file");
	add_int(sec, "thread_count", rec_get_num(p, "threads", 0));
	/*
	 * Ours are objects with self and total; the original's "samples"
	 * was the largest count in the call tree, the inclusive one.
	 */
	arr = cJSON_GetObjectItemCaseSensitive(sec, "hot_functions");
	cJSON_ArrayForEach(x, arr) {
		cJSON *h = (cJSON *)x;

		if (!cJSON_HasObjectItem(h, "samples"))
			add_int(h, "samples", rec_get_num(h, "total", 0));
	}
	cJSON_AddItemToObject(sec, "diagnosis", old_diagnoses(r, "cd-sample", pid));
	add_error(sec, &r->cap[CAP_SAMPLE]);
	cJSON_Delete(sum);
}

/*
 * "tcp 1.2.3.4:5 -> 6.7.8.9:443 ESTABLISHED" as lsof's type (IPv4, IPv6)
 * and name, with the protocol beside.
 */
static void
old_connection(cJSON *arr, const char *line)
{
	const char *sp = strchr(line, ' ');
	cJSON *o;
	char *proto;

	if (sp == NULL)
		return;
	o = cJSON_CreateObject();
	proto = xasprintf("%.*s", (int)(sp - line), line);
	rec_add_str(o, "conn_type", strchr(sp + 1, '[') ? "IPv6" : "IPv4");
	rec_add_str(o, "connection", sp + 1);
	rec_add_str(o, "protocol", proto);
	free(proto);
	cJSON_AddItemToArray(arr, o);
}

static void
fd_fields(const struct report *r, cJSON *sec, int pid)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(sec, "summary");
	const cJSON *x, *by = cJSON_GetObjectItemCaseSensitive(s, "by_kind");
	const cJSON *wp = cJSON_GetObjectItemCaseSensitive(s, "watched_paths");
	cJSON *conns;

	add_int(sec, "pid", pid);
	add_int(sec, "total_fds", rec_get_num(s, "total", 0));
	cJSON_AddItemToObject(sec, "by_type", cJSON_IsObject(by) ?
	    cJSON_Duplicate(by, 1) : cJSON_CreateObject());
	cJSON_AddItemToObject(sec, "watched_paths", cJSON_IsArray(wp) ?
	    cJSON_Duplicate(wp, 1) : cJSON_CreateArray());
	conns = cJSON_AddArrayToObject(sec, "network_connections");
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(s, "connection_list"))
		if (cJSON_IsString(x))
			old_connection(conns, x->valuestring);
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(s, "listening"))
		if (cJSON_IsString(x))
			old_connection(conns, x->valuestring);
	cJSON_AddItemToObject(sec, "issues", old_diagnoses(r, "cd-fds", pid));
	add_error(sec, &r->cap[CAP_FDS]);
}

static cJSON *
old_syscall(const cJSON *x)
{
	cJSON *o = cJSON_CreateObject();

	rec_add_str(o, "name", rec_get_str(x, "name"));
	add_int(o, "count", rec_get_num(x, "count", 0));
	add_int(o, "total_time_us", rec_get_num(x, "total_ns", 0) / 1000);
	cJSON_AddNumberToObject(o, "avg_time_us",
	    round(rec_get_num(x, "avg_ns", 0) / 10) / 100);
	add_int(o, "errors", rec_get_num(x, "errors", 0));
	return o;
}

/*
 * cd-trace --summary adds calls up per path and per address; each becomes
 * one operation, with calls beside the original's fields. fd is -1 and
 * latency_us 0: a summary has neither (the original's own fallback wrote
 * the same).
 */
static cJSON *
old_io(const cJSON *x)
{
	cJSON *o = cJSON_CreateObject();
	const char *path = rec_get_str(x, "path");

	rec_add_str(o, "syscall", "io");
	add_int(o, "fd", -1);
	if (path && *path)
		rec_add_str(o, "path", path);
	else
		cJSON_AddNullToObject(o, "path");
	add_int(o, "bytes", rec_get_num(x, "bytes_read", 0) +
	    rec_get_num(x, "bytes_written", 0));
	add_int(o, "latency_us", 0);
	add_int(o, "calls", rec_get_num(x, "calls", 0));
	add_int(o, "errors", rec_get_num(x, "errors", 0));
	return o;
}

static cJSON *
old_net(const cJSON *x)
{
	cJSON *o = cJSON_CreateObject();
	const char *addr = rec_get_str(x, "addr");
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	char *end;
	long port = colon ? strtol(colon + 1, &end, 10) : -1;

	rec_add_str(o, "syscall", "net");
	add_int(o, "fd", -1);
	if (colon && *end == '\0' && colon[1] && port >= 0 && port <= 65535 &&
	    strncmp(addr, "socket:", 7) != 0) {
		char *host = xasprintf("%.*s", (int)(colon - addr), addr);

		/* "[::1]" is the address ::1 */
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			char *h = xasprintf("%.*s", (int)strlen(host) - 2, host + 1);

			free(host);
			host = h;
		}
		rec_add_str(o, "address", host);
		add_int(o, "port", port);
		free(host);
	} else {
		if (addr && *addr)
			rec_add_str(o, "address", addr);
		else
			cJSON_AddNullToObject(o, "address");
		cJSON_AddNullToObject(o, "port");
	}
	add_int(o, "bytes", rec_get_num(x, "bytes_sent", 0) +
	    rec_get_num(x, "bytes_received", 0));
	add_int(o, "latency_us", 0);
	add_int(o, "calls", rec_get_num(x, "calls", 0));
	add_int(o, "errors", rec_get_num(x, "errors", 0));
	return o;
}

static int
by_count(const void *a, const void *b)
{
	double x = rec_get_num(*(const cJSON *const *)a, "count", 0);
	double y = rec_get_num(*(const cJSON *const *)b, "count", 0);

	return (x < y) - (x > y);
}

/* The syscall graph's file, when it was written. */
static const char *
graph_path(const struct report *r, const struct diag_opts *o, char *buf, size_t len)
{
	const cJSON *f;

	if (!o->flamegraph || o->output == NULL)
		return NULL;
	snprintf(buf, len, "%s%s.svg", o->output, o->sample ? "-syscalls" : "");
	cJSON_ArrayForEach(f, r->files)
		if (cJSON_IsString(f) && strcmp(f->valuestring, buf) == 0)
			return buf;
	return NULL;
}

static void
trace_fields(const struct report *r, const struct diag_opts *opt, cJSON *sec, int pid)
{
	cJSON *sys = capture_select(r, CAP_TRACE, "syscall_summary", pid);
	cJSON *io = capture_select(r, CAP_TRACE, "io_summary", pid);
	cJSON *net = capture_select(r, CAP_TRACE, "net_summary", pid);
	const cJSON *m = r->cap[CAP_TRACE].meta, *x;
	cJSON *arr, *top;
	const cJSON **v;
	int n = cJSON_GetArraySize(sys), i = 0;
	char buf[4096];
	const char *fg;

	add_int(sec, "pid", pid);
	add_int(sec, "duration_secs", round(rec_get_num(m, "duration_s",
	    opt->trace_s)));
	cJSON_AddBoolToObject(sec, "success", r->cap[CAP_TRACE].ran &&
	    (n > 0 || r->cap[CAP_TRACE].error == NULL));
	v = calloc((size_t)n + 1, sizeof(*v));
	if (v == NULL)
		n = 0;
	cJSON_ArrayForEach(x, sys)
		if (v && i < n)
			v[i++] = x;
	qsort(v, (size_t)n, sizeof(*v), by_count);
	arr = cJSON_AddArrayToObject(sec, "syscall_summary");
	top = cJSON_AddArrayToObject(sec, "top_syscalls");
	for (i = 0; i < n; i++) {
		cJSON_AddItemToArray(arr, old_syscall(v[i]));
		if (i < 10)
			cJSON_AddItemToArray(top, old_syscall(v[i]));
	}
	free(v);
	arr = cJSON_AddArrayToObject(sec, "io_operations");
	cJSON_ArrayForEach(x, io)
		cJSON_AddItemToArray(arr, old_io(x));
	arr = cJSON_AddArrayToObject(sec, "network_operations");
	cJSON_ArrayForEach(x, net)
		cJSON_AddItemToArray(arr, old_net(x));
	/* The syscall capture is a summary: no stacks to list. */
	cJSON_AddArrayToObject(sec, "stack_samples");
	if ((fg = graph_path(r, opt, buf, sizeof(buf))) != NULL)
		rec_add_str(sec, "flamegraph_path", fg);
	cJSON_AddItemToObject(sec, "issues", old_diagnoses(r, "cd-trace", pid));
	add_error(sec, &r->cap[CAP_TRACE]);
	cJSON_Delete(sys);
	cJSON_Delete(io);
	cJSON_Delete(net);
}

void
compat_process(const struct report *r, const struct diag_opts *o, cJSON *out,
    const cJSON *p)
{
	int pid = (int)rec_get_num(p, "pid", 0);
	cJSON *sec;

	cJSON_AddNumberToObject(out, "cpu", rec_get_num(p, "cpu_pct", 0));
	cJSON_AddNumberToObject(out, "mem", rec_get_num(p, "mem_pct", 0));
	add_int(out, "rss_mb", rec_get_num(p, "rss_kb", 0) / 1024);
	if ((sec = cJSON_GetObjectItemCaseSensitive(out, "sample")) != NULL)
		sample_fields(r, sec, p, pid);
	if ((sec = cJSON_GetObjectItemCaseSensitive(out, "file_descriptors")) != NULL)
		fd_fields(r, sec, pid);
	if ((sec = cJSON_GetObjectItemCaseSensitive(out, "dtrace")) != NULL)
		trace_fields(r, o, sec, pid);
}

/*
 * The original's pressure level, from what Linux has: PSI when the kernel
 * keeps it (the thresholds of the memory_pressure finding), else the share
 * of memory available.
 */
const char *
compat_pressure_level(const struct report *r)
{
	double avail;

	if (!r->have_mem || r->mem.total_kb == 0)
		return "unknown";
	if (r->mem.psi_some_avg10 >= 0) {
		if (r->mem.psi_full_avg10 >= 10)
			return "critical";
		if (r->mem.psi_some_avg10 >= 10)
			return "warning";
		return "normal";
	}
	avail = (double)r->mem.available_kb / (double)r->mem.total_kb;
	return avail < 0.05 ? "critical" : avail < 0.10 ? "warning" : "normal";
}

/* "PID 4242: High CPU usage", as the original's summary listed them. */
cJSON *
compat_issue_strings(const struct report *r, const char *severity)
{
	cJSON *arr = cJSON_CreateArray();
	const cJSON *d;

	cJSON_ArrayForEach(d, r->findings) {
		const char *s = rec_get_str(d, "severity");
		int pid = (int)rec_get_num(d, "pid", 0);
		char buf[512];

		if (s == NULL || strcmp(s, severity) != 0)
			continue;
		if (pid > 0)
			snprintf(buf, sizeof(buf), "PID %d: %s", pid,
			    rec_get_str(d, "issue"));
		else
			snprintf(buf, sizeof(buf), "%s", rec_get_str(d, "issue"));
		cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
	}
	return arr;
}
