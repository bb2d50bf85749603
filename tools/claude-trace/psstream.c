/*
 * Watch mode's cd-ps: one long-lived `cd-ps --stream`, asked for a batch
 * each frame, instead of a new cd-ps (an exec, and every /proc entry read
 * again) each frame. Its stdin is a socket so that a request to a cd-ps
 * that died is an error (MSG_NOSIGNAL), not SIGPIPE; its stdout a pipe
 * (stage_start_pipe); its stderr the stage's memfd, emptied before each
 * batch, so a batch's warnings are its error text exactly as a one-shot
 * run's would be. If it dies it is started again on the next frame.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msg.h"
#include "psrun.h"
#include "record.h"
#include "stage.h"
#include "trace.h"

static void
args(struct stage_argv *a, const struct ps_query *q, int no_fds)
{
	stage_arg(a, "cd-ps");
	stage_arg(a, "--stream");
	stage_arg(a, "--interval");
	stage_arg(a, "0");
	if (q->tree)
		stage_arg(a, "--tree");
	if (no_fds)
		stage_arg(a, "--no-fds");
	if (!q->redact)
		stage_arg(a, "--no-redact");
	for (size_t i = 0; q->pids && i < q->pids->n; i++) {
		stage_arg(a, "--pid");
		stage_argf(a, "%.0f", q->pids->v[i]);
	}
}

/* Returns 0, or -1 with *error set. */
static int
start(struct psstream *s, const struct ps_query *q, char **error)
{
	struct stage_argv a = { 0 };
	int sv[2], rd, rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		*error = xasprintf("cannot start cd-ps: socketpair: %s",
		    strerror(errno));
		return -1;
	}
	s->req_fd = sv[0];
	args(&a, q, s->no_fds);
	rc = stage_start_pipe(&s->st, a.v, sv[1], &rd);
	stage_argv_release(&a);
	close(sv[1]);
	if (rc == 0 && (s->out = fdopen(rd, "r")) == NULL) {
		close(rd);
		rc = -1;
	}
	if (rc < 0) {
		*error = s->st.missing ? stage_error(&s->st) :
		    xasprintf("cannot start cd-ps: %s", strerror(errno));
		psstream_close(s);
		return -1;
	}
	s->running = 1;
	return 0;
}

/* This batch's stderr, or NULL when it wrote none. */
static char *
batch_stderr(struct psstream *s)
{
	char *e = stage_stderr(&s->st);

	if (*e)
		return e;
	free(e);
	return NULL;
}

/* Lines up to and with the meta record. Returns 0, -1 the stream ended. */
static int
read_batch(struct psstream *s, cJSON *procs, cJSON **meta)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, s->out)) > 0) {
		cJSON *obj = cJSON_ParseWithLength(line, (size_t)n);

		if (obj == NULL || !cJSON_IsObject(obj)) {
			cJSON_Delete(obj);
			msg_warn("cd-ps: a malformed line");
			continue;
		}
		if (rec_is(obj, "meta")) {
			*meta = obj;
			free(line);
			return 0;
		}
		cJSON_AddItemToArray(procs, obj);
	}
	free(line);
	return -1;
}

int
psstream_take(struct psstream *s, const struct ps_query *q, cJSON *procs,
    cJSON **meta, char **error)
{
	char req[32];
	int len;

	*meta = NULL;
	*error = NULL;
	if (!s->running && start(s, q, error) < 0)
		return -1;
	/*
	 * Emptied, and the offset cd-ps shares with us put back: else its
	 * next warning lands past a hole of NULs, read as no text at all.
	 */
	if (ftruncate(s->st.err_fd, 0) < 0 ||
	    lseek(s->st.err_fd, 0, SEEK_SET) < 0) {
		*error = xasprintf("cd-ps: %s", strerror(errno));
		return -1;
	}
	len = snprintf(req, sizeof(req), "%.3f\n", q->interval_s);
	if (send(s->req_fd, req, (size_t)len, MSG_NOSIGNAL) != len ||
	    read_batch(s, procs, meta) < 0) {
		/* why the stream ended: its stderr, else how it ended */
		if ((*error = batch_stderr(s)) == NULL) {
			stage_wait(&s->st);
			*error = stage_error(&s->st);
		}
		psstream_close(s);
		return -1;
	}
	*error = batch_stderr(s);
	return *error ? -1 : 0;
}

void
psstream_close(struct psstream *s)
{
	if (s->req_fd > 0)
		close(s->req_fd);	/* end of input: cd-ps ends */
	if (s->out)
		fclose(s->out);
	if (s->running)
		stage_wait(&s->st);
	if (s->st.name != NULL)
		stage_release(&s->st);
	s->running = 0;
	s->req_fd = 0;
	s->out = NULL;
}

void
psstream_no_fds(struct psstream *s, int off)
{
	s->no_fds = off;
}
