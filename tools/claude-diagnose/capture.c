/*
 * The captures: cd-fds, cd-sample and cd-trace run at the same time, each
 * once for every target process, while the driver shows the time left.
 * Ctrl-C ends them early; each stage writes what it has, and the report
 * still comes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diagnose.h"
#include "msg.h"
#include "record.h"
#include "stage.h"
#include "units.h"

extern volatile sig_atomic_t diag_interrupted;

/* The processes to capture: the top-level ones cd-ps found. */
static void
add_pids(struct stage_argv *a, const struct report *r)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, r->procs) {
		stage_arg(a, "--pid");
		stage_argf(a, "%.0f", rec_get_num(p, "pid", 0));
	}
}

static void
build(struct stage_argv *a, int c, const struct report *r, const struct diag_opts *o)
{
	switch (c) {
	case CAP_FDS:
		stage_arg(a, "cd-fds");
		stage_arg(a, "--summary");
		break;
	case CAP_SAMPLE:
		stage_arg(a, "cd-sample");
		stage_arg(a, "--duration");
		stage_argf(a, "%g", o->sample_s);
		stage_arg(a, "--no-progress");
		break;
	case CAP_TRACE:
		stage_arg(a, "cd-trace");
		stage_arg(a, "--duration");
		stage_argf(a, "%g", o->trace_s);
		stage_arg(a, "--summary");
		if (o->io)
			stage_arg(a, "--io");
		if (o->network)
			stage_arg(a, "--network");
		break;
	}
	add_pids(a, r);
}

static const char *const labels[CAP__N] = {
	[CAP_FDS] = "file descriptors (cd-fds)",
	[CAP_SAMPLE] = "CPU sampling (cd-sample)",
	[CAP_TRACE] = "system-call tracing (cd-trace)",
};

static void
progress(const struct diag_opts *o, double left, int final)
{
	if (o->progress == 0)
		return;
	if (o->progress < 0 && !isatty(2))
		return;
	if (final)
		fprintf(stderr, "\r\033[Kclaude-diagnose: capture done\n");
	else
		fprintf(stderr, "\r\033[Kclaude-diagnose: capturing, %.0f s left "
		    "(Ctrl-C to stop early)", left < 0 ? 0 : left);
}

/*
 * Exit 0 and 1 (critical findings) are success for a stage; anything else
 * is a failure unless records came out anyway (a target exited mid-way).
 * A stage killed by a signal, or claiming success (0, 1) without its
 * meta record (the last it writes), broke: whatever it wrote is not the
 * whole story. One that exits 2 or more has said why (not permitted, not
 * found, no such process): it failed, the rest of the report stands.
 */
static void
finish(struct capture *cap, struct stage *st, int forwarded)
{
	int status = st->status;
	long bad;

	cap->status = status;
	bad = stage_records(st, cap->recs, &cap->meta);
	/* Our SIGINT reached it before its handler did (a stage just
	 * started): stopped, as asked, before it measured anything. */
	if (forwarded && status == 128 + SIGINT &&
	    cJSON_GetArraySize(cap->recs) == 0 && cap->meta == NULL) {
		cap->stopped = 1;
		return;
	}
	cap->broken = status >= 128 || (cap->meta == NULL && status <= 1);
	if ((status > 1 || cap->broken) && cJSON_GetArraySize(cap->recs) == 0)
		cap->error = stage_error(st);
	else if (cap->broken && status > 1) {
		cap->error = stage_error(st);
	} else if (cap->broken) {
		char *e = stage_stderr(st);

		cap->error = xasprintf("%s stopped before its last record (exit "
		    "status %d)%s%s", st->name, status, *e ? ": " : "", e);
		free(e);
	} else if (status > 1 || bad > 0) {
		char *e = stage_stderr(st);

		/* Partial: keep the records, say what went wrong. */
		if (*e)
			cap->error = e;
		else
			free(e);
	}
}

/* cd-categorize adds "category" to the trace's records, for the graph. */
static void
categorize(struct stage *trace)
{
	char *argv[] = { "cd-categorize", NULL };
	struct stage cat;

	if (stage_start(&cat, argv, stage_stdout_fd(trace)) < 0) {
		stage_release(&cat);
		return;
	}
	if (stage_wait(&cat) == 0) {
		/* Swap in the categorised stream. */
		int fd = trace->out_fd;

		trace->out_fd = cat.out_fd;
		cat.out_fd = fd;
	}
	stage_release(&cat);
}

void
capture_run(struct report *r, const struct diag_opts *o)
{
	struct stage st[CAP__N];
	int want[CAP__N] = { o->deep, o->sample, o->trace };
	double longest = 0;
	uint64_t t0;
	int running = 0, forwarded = 0;

	memset(st, 0, sizeof(st));
	for (int c = 0; c < CAP__N; c++) {
		/* Never close fd 0 for a stage that did not start. */
		st[c].out_fd = st[c].err_fd = -1;
		r->cap[c].label = labels[c];
		r->cap[c].wanted = want[c];
		r->cap[c].recs = cJSON_CreateArray();
		r->cap[c].status = -1;
	}
	if (cJSON_GetArraySize(r->procs) == 0)
		return;
	for (int c = 0; c < CAP__N; c++) {
		struct stage_argv a = { 0 };

		if (!want[c])
			continue;
		build(&a, c, r, o);
		if (stage_start(&st[c], a.v, -1) < 0) {
			r->cap[c].error = st[c].missing ?
			    xasprintf("%s was not found beside claude-diagnose or "
			    "on PATH", a.v[0]) : xasprintf("%s could not be started",
			    a.v[0]);
		} else {
			r->cap[c].ran = 1;
			running++;
		}
		stage_argv_release(&a);
	}
	if (o->sample)
		longest = o->sample_s;
	if (o->trace && o->trace_s > longest)
		longest = o->trace_s;

	t0 = now_mono_ns();
	while (running > 0) {
		double left = longest - (double)(now_mono_ns() - t0) / 1e9;

		if (diag_interrupted && !forwarded) {
			/* From a terminal the stages got the SIGINT too; from
			 * kill(1) only we did. Either way, once is enough. */
			for (int c = 0; c < CAP__N; c++)
				stage_signal(&st[c], SIGINT);
			forwarded = 1;
			r->interrupted = 1;
		}
		progress(o, left, 0);
		sleep_ns(200 * 1000000ull, NULL);
		for (int c = 0; c < CAP__N; c++) {
			if (!r->cap[c].ran || st[c].pid == 0)
				continue;
			if (stage_poll(&st[c]))
				running--;
		}
	}
	progress(o, 0, 1);
	for (int c = 0; c < CAP__N; c++) {
		if (!r->cap[c].ran) {
			if (want[c])
				stage_release(&st[c]);
			continue;
		}
		if (c == CAP_TRACE)
			categorize(&st[c]);
		finish(&r->cap[c], &st[c], forwarded);
		stage_release(&st[c]);
	}
}

void
capture_release(struct report *r)
{
	for (int c = 0; c < CAP__N; c++) {
		cJSON_Delete(r->cap[c].recs);
		cJSON_Delete(r->cap[c].meta);
		free(r->cap[c].error);
	}
}

cJSON *
capture_select(const struct report *r, int c, const char *type, int pid)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *x;

	cJSON_ArrayForEach(x, r->cap[c].recs) {
		if (!rec_is(x, type))
			continue;
		if (pid > 0 && (int)rec_get_num(x, "pid", -1) != pid)
			continue;
		cJSON_AddItemReferenceToArray(out, (cJSON *)x);
	}
	return out;
}

const char *
capture_method(const cJSON *m, char *buf, size_t len)
{
	const char *method, *fd = NULL, *sock;

	if (m == NULL)
		return NULL;
	if ((method = rec_get_str(m, "method")) != NULL)
		return method;
	fd = rec_get_str(m, "fd_method");
	sock = rec_get_str(m, "backend");
	/* cd-fds says "none" for sockets when the target had none. */
	if (sock != NULL && strcmp(sock, "none") == 0)
		sock = NULL;
	if (fd == NULL || strcmp(fd, "none") == 0)
		return sock;
	if (sock == NULL)
		return fd;
	snprintf(buf, len, "%s, %s", fd, sock);
	return buf;
}

const char *
capture_fallback(const cJSON *m, char *buf, size_t len)
{
	const char *a, *b;

	if (m == NULL)
		return NULL;
	a = rec_get_str(m, "fd_method_fallback");
	b = rec_get_str(m, "fallback_reason");
	if (a == NULL || b == NULL)
		return a != NULL ? a : b;
	snprintf(buf, len, "%s; %s", a, b);
	return buf;
}
