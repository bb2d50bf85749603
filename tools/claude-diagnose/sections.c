/*
 * The per-process sections of the human report that come from the
 * captures: hot functions, file descriptors, system calls, and how each was
 * measured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "color.h"
#include "diagnose.h"
#include "record.h"
#include "units.h"

static void
sub(const char *title)
{
	printf("  %s%s%s\n", color(C_BOLD), title, color(C_RESET));
}

/* How a capture was made, and anything lost or given up on. */
static void
method_line(const struct capture *cap)
{
	const cJSON *m = cap->meta;
	const char *method, *why;
	char mbuf[128], fbuf[512];
	double lost;

	if (m == NULL)
		return;
	method = capture_method(m, mbuf, sizeof(mbuf));
	why = capture_fallback(m, fbuf, sizeof(fbuf));
	lost = rec_get_num(m, "lost", 0);
	printf("    %smethod: %s", color(C_DIM), method ? method : "?");
	if (rec_get_num(m, "duration_s", -1) >= 0)
		printf(", %.1f s", rec_get_num(m, "duration_s", 0));
	if (lost > 0)
		printf(", %.0f events lost", lost);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "ended_early")))
		printf(", ended early");
	printf("%s\n", color(C_RESET));
	if (why)
		printf("    %sfallback: %s%s\n", color(C_YELLOW), why, color(C_RESET));
}

/* A stage that failed says so in its section; the report goes on. */
static int
failed(const struct capture *cap)
{
	if (cap->error == NULL)
		return 0;
	printf("    %s%s: %s%s\n", color(C_RED),
	    cJSON_GetArraySize(cap->recs) ? "partly failed" : "failed",
	    cap->error, color(C_RESET));
	return cJSON_GetArraySize(cap->recs) == 0;
}

/*
 * Where the frame names came from (cd-sample's naming_pct), and, for a
 * Bun process started without a jitdump or of a build whose layout is not
 * known, how to get its JavaScript named.
 */
static void
naming_lines(const cJSON *meta)
{
	const cJSON *np = meta ? cJSON_GetObjectItemCaseSensitive(meta, "naming_pct") : NULL;
	const char *hint = meta ? rec_get_str(meta, "jit_names_hint") : NULL;
	const char *jhint = meta ? rec_get_str(meta, "jsc_frames_hint") : NULL;
	const cJSON *x;
	int n = 0;

	if (cJSON_IsObject(np)) {
		printf("    %sframes by source:", color(C_DIM));
		cJSON_ArrayForEach(x, np)
			if (cJSON_IsNumber(x) && x->valuedouble > 0)
				printf("%s %s %.1f%%", n++ ? "," : "", x->string, x->valuedouble);
		printf("%s\n", color(C_RESET));
	}
	if (hint != NULL)
		printf("    %snote:%s %s\n", color(C_YELLOW), color(C_RESET), hint);
	/* a JSC build whose layout cd-sample does not know */
	if (jhint != NULL)
		printf("    %snote:%s %s\n", color(C_YELLOW), color(C_RESET), jhint);
}

void
section_sample(const struct report *r, int pid)
{
	const struct capture *cap = &r->cap[CAP_SAMPLE];
	cJSON *sum, *hot, *thr;
	const cJSON *x;
	int n = 0;

	if (!cap->wanted)
		return;
	sub("Hot Functions");
	if (failed(cap))
		return;
	sum = capture_select(r, CAP_SAMPLE, "sample_summary", pid);
	hot = capture_select(r, CAP_SAMPLE, "hot_function", pid);
	thr = capture_select(r, CAP_SAMPLE, "thread_cpu", pid);
	cJSON_ArrayForEach(x, sum)
		printf("    %.0f samples, %.1f%% CPU\n", rec_get_num(x, "samples", 0),
		    rec_get_num(x, "cpu_pct", 0));
	if (cJSON_GetArraySize(hot) == 0)
		printf("    no samples: the process did not run during the capture\n");
	else
		printf("    %6s %6s  %s\n", "SELF%", "TOTAL%", "FUNCTION");
	cJSON_ArrayForEach(x, hot) {
		if (n++ >= 15)
			break;
		const char *fn = rec_get_str(x, "function");
		size_t len;

		/* a regex JIT frame names its whole pattern: keep the line short */
		fn = fn ? fn : "?";
		len = strlen(fn);
		if (len > 100)	/* cut on a UTF-8 character boundary */
			for (len = 100; len > 0 && ((unsigned char)fn[len] & 0xc0) == 0x80; len--)
				;
		printf("    %6.1f %6.1f  %.*s%s\n", rec_get_num(x, "self_pct", 0),
		    rec_get_num(x, "total_pct", 0), (int)len, fn, fn[len] ? "..." : "");
	}
	if (cJSON_GetArraySize(thr) > 0) {
		n = 0;
		printf("    threads:");
		cJSON_ArrayForEach(x, thr) {
			if (n++ >= 8)
				break;
			printf("%s %s%s %.0f%%", n > 1 ? "," : "",
			    rec_get_str(x, "thread") ? rec_get_str(x, "thread") : "?",
			    rec_get_num(x, "tid", -1) == rec_get_num(x, "pid", -2) ? " (main)" : "",
			    rec_get_num(x, "share_pct", 0));
		}
		printf("\n");
	}
	method_line(cap);
	if (cap->meta && rec_get_num(cap->meta, "frames_resolved_pct", -1) >= 0)
		printf("    %s%.0f%% of frames named%s\n", color(C_DIM),
		    rec_get_num(cap->meta, "frames_resolved_pct", 0), color(C_RESET));
	naming_lines(cap->meta);
	cJSON_Delete(sum);
	cJSON_Delete(hot);
	cJSON_Delete(thr);
}

static void
list(const char *label, const cJSON *arr, double more)
{
	const cJSON *x;
	int n = 0;

	if (cJSON_GetArraySize(arr) == 0)
		return;
	printf("    %s:", label);
	cJSON_ArrayForEach(x, arr)
		if (cJSON_IsString(x))
			printf("%s %s", n++ ? "," : "", x->valuestring);
	if (more > 0)
		printf(" and %.0f more", more);
	printf("\n");
}

static void
kv_line(const char *label, const cJSON *obj)
{
	const cJSON *x;
	int n = 0;

	if (cJSON_GetArraySize(obj) == 0)
		return;
	printf("    %s:", label);
	cJSON_ArrayForEach(x, obj)
		printf("%s %s %.0f", n++ ? "," : "", x->string, x->valuedouble);
	printf("\n");
}

void
section_fds(const struct report *r, int pid)
{
	const struct capture *cap = &r->cap[CAP_FDS];
	cJSON *sums;
	const cJSON *s;

	if (!cap->wanted)
		return;
	sums = capture_select(r, CAP_FDS, "fd_summary", pid);
	s = cJSON_GetArrayItem(sums, 0);
	if (s == NULL) {
		sub("File Descriptors");
		if (!failed(cap))
			printf("    none read\n");
		cJSON_Delete(sums);
		return;
	}
	printf("  %sFile Descriptors: %.0f open%s", color(C_BOLD),
	    rec_get_num(s, "total", 0), color(C_RESET));
	if (rec_get_num(s, "nofile_soft", 0) > 0)
		printf(" (limit %.0f soft, %.0f hard: %.1f%%)",
		    rec_get_num(s, "nofile_soft", 0), rec_get_num(s, "nofile_hard", 0),
		    rec_get_num(s, "nofile_pct", 0));
	printf("\n");
	failed(cap);
	kv_line("kinds", cJSON_GetObjectItemCaseSensitive(s, "by_kind"));
	printf("    sockets: %.0f tcp, %.0f udp, %.0f unix\n",
	    rec_get_num(s, "tcp", 0), rec_get_num(s, "udp", 0),
	    rec_get_num(s, "unix", 0));
	kv_line("connections", cJSON_GetObjectItemCaseSensitive(s, "connections"));
	list("network", cJSON_GetObjectItemCaseSensitive(s, "connection_list"),
	    rec_get_num(s, "connection_list_more", 0));
	list("listening", cJSON_GetObjectItemCaseSensitive(s, "listening"), 0);
	if (rec_get_num(s, "inotify_watches", 0) > 0) {
		printf("    inotify: %.0f watches in %.0f instances",
		    rec_get_num(s, "inotify_watches", 0),
		    rec_get_num(s, "inotify_instances", 0));
		if (rec_get_num(s, "max_user_watches", 0) > 0)
			printf(" (the user has %.0f of %.0f allowed)",
			    rec_get_num(s, "user_inotify_watches", 0),
			    rec_get_num(s, "max_user_watches", 0));
		printf("\n");
		list("watched paths", cJSON_GetObjectItemCaseSensitive(s,
		    "watched_paths"), rec_get_num(s, "watched_paths_more", 0));
	}
	if (rec_get_num(s, "deleted", 0) > 0)
		printf("    %.0f fds on deleted files\n", rec_get_num(s, "deleted", 0));
	method_line(cap);
	cJSON_Delete(sums);
}

static void
io_lines(const struct report *r, int pid)
{
	cJSON *io = capture_select(r, CAP_TRACE, "io_summary", pid);
	cJSON *net = capture_select(r, CAP_TRACE, "net_summary", pid);
	const cJSON *x;
	int n = 0;

	if (cJSON_GetArraySize(io) > 0)
		printf("    I/O activity (%d paths):\n", cJSON_GetArraySize(io));
	cJSON_ArrayForEach(x, io) {
		char rd[16], wr[16];

		if (n++ >= 10)
			break;
		fmt_kb(rec_get_num(x, "bytes_read", 0) / 1024, rd, sizeof(rd));
		fmt_kb(rec_get_num(x, "bytes_written", 0) / 1024, wr, sizeof(wr));
		printf("      %7.0f calls %6.0f errors  read %6s  written %6s  %s\n",
		    rec_get_num(x, "calls", 0), rec_get_num(x, "errors", 0), rd, wr,
		    rec_get_str(x, "path"));
	}
	n = 0;
	if (cJSON_GetArraySize(net) > 0)
		printf("    Network activity (%d addresses):\n", cJSON_GetArraySize(net));
	cJSON_ArrayForEach(x, net) {
		if (n++ >= 10)
			break;
		printf("      %7.0f calls %6.0f connects (%0.f failed)  sent %.0f B  "
		    "received %.0f B  %s\n", rec_get_num(x, "calls", 0),
		    rec_get_num(x, "connects", 0), rec_get_num(x, "connect_failed", 0),
		    rec_get_num(x, "bytes_sent", 0), rec_get_num(x, "bytes_received", 0),
		    rec_get_str(x, "addr"));
	}
	cJSON_Delete(io);
	cJSON_Delete(net);
}

void
section_trace(const struct report *r, int pid)
{
	const struct capture *cap = &r->cap[CAP_TRACE];
	cJSON *sys;
	const cJSON *x;
	int n = 0;

	if (!cap->wanted)
		return;
	sub("Top Syscalls");
	if (failed(cap))
		return;
	sys = capture_select(r, CAP_TRACE, "syscall_summary", pid);
	if (cJSON_GetArraySize(sys) == 0)
		printf("    no system calls seen\n");
	else
		printf("    %-20s %9s %10s %10s %7s\n", "SYSCALL", "COUNT",
		    "TOTAL ms", "AVG us", "ERRORS");
	cJSON_ArrayForEach(x, sys) {
		if (n++ >= 15)
			break;
		printf("    %-20s %9.0f %10.1f %10.1f %7.0f\n", rec_get_str(x, "name"),
		    rec_get_num(x, "count", 0), rec_get_num(x, "total_ns", 0) / 1e6,
		    rec_get_num(x, "avg_ns", 0) / 1e3, rec_get_num(x, "errors", 0));
	}
	cJSON_Delete(sys);
	io_lines(r, pid);
	method_line(cap);
}
