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

/* Fewer samples than this rank nothing: one sample is 100% of them. */
#define MIN_RANKED_SAMPLES 10

static double
samples_of(const cJSON *sum)
{
	return rec_get_num(cJSON_GetArrayItem(sum, 0), "samples", 0);
}

/*
 * A target that exited during the capture: say so, or a short capture
 * ("perf, 0.8 s") reads as if the tool stopped by itself.
 */
static void
exited_line(const cJSON *m)
{
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(m, "targets_exited");
	const char *by = rec_get_str(m, "stopped_by");
	double req = rec_get_num(m, "requested_duration_s", -1);
	double got = rec_get_num(m, "duration_s", -1);
	int n = cJSON_GetArraySize(ex);

	if (n == 0)
		n = (int)rec_get_num(m, "processes_exited", 0);
	if (n == 0 && (by == NULL || strcmp(by, "targets_exited") != 0))
		return;
	printf("    %s", color(C_YELLOW));
	if (req > 0 && got >= 0 && got + 0.05 < req)
		printf("the process exited %.1f s into the %.0f s capture: this "
		    "covers its life until then", got, req);
	else
		printf("the process exited during the capture");
	printf("%s\n", color(C_RESET));
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
	exited_line(m);
	if (why)
		printf("    %sfallback: %s%s\n", color(C_YELLOW), why, color(C_RESET));
}

/* A stage that failed says so in its section; the report goes on. */
static int
failed(const struct capture *cap)
{
	if (cap->stopped) {
		printf("    %sstopped before it measured anything%s\n",
		    color(C_YELLOW), color(C_RESET));
		return 1;
	}
	if (cap->error == NULL)
		return 0;
	printf("    %s%s: %s%s\n", color(C_RED),
	    cJSON_GetArraySize(cap->recs) ? "partly failed" : "failed",
	    cap->error, color(C_RESET));
	/* What a broken stage wrote is not the whole story: no more of it. */
	return cJSON_GetArraySize(cap->recs) == 0 || cap->broken;
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

/* The hottest paths of the call tree, as macOS sample's call graph reads. */
static void
print_tree(const struct report *r, int pid)
{
	char *tree = flame_tree(r, pid, 14), *line, *save = NULL;

	if (tree == NULL)
		return;
	printf("    %scall tree (hottest path first, frames under 2%% left out):%s\n",
	    color(C_DIM), color(C_RESET));
	for (line = strtok_r(tree, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#')
			printf("    %s\n", line);
	free(tree);
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
	else if (samples_of(sum) < MIN_RANKED_SAMPLES) {
		printf("    too few samples to rank functions (under %d): the "
		    "process barely ran; sample longer during the problem\n",
		    MIN_RANKED_SAMPLES);
		cJSON_Delete(hot);
		hot = cJSON_CreateArray();
	} else
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
	print_tree(r, pid);
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
	if (cap->meta && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cap->meta,
	    "kernel_frames")))
		printf("    %s%s: the stacks stop at the system call%s\n",
		    color(C_YELLOW), rec_get_str(cap->meta, "kernel_frames_reason") ?
		    rec_get_str(cap->meta, "kernel_frames_reason") :
		    "kernel frames not recorded", color(C_RESET));
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

static int
unresolved_watch(const cJSON *s)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(s, "watched_paths"))
		if (cJSON_IsString(x) && strncmp(x->valuestring, "dev ", 4) == 0)
			return 1;
	return 0;
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
		if (unresolved_watch(s))
			printf("    %s(a watch given as device and inode: naming its "
			    "path needs open_by_handle_at, that is root or "
			    "CAP_DAC_READ_SEARCH)%s\n", color(C_DIM), color(C_RESET));
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
		const char *path;

		if (n++ >= 10)
			break;
		fmt_kb(rec_get_num(x, "bytes_read", 0) / 1024, rd, sizeof(rd));
		fmt_kb(rec_get_num(x, "bytes_written", 0) / 1024, wr, sizeof(wr));
		path = rec_get_str(x, "path");
		printf("      %7.0f calls %6.0f errors  read %6s  written %6s  %s\n",
		    rec_get_num(x, "calls", 0), rec_get_num(x, "errors", 0), rd, wr,
		    path && *path ? path : "(no path: an fd closed or not "
		    "resolved before the call was seen)");
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
