/*
 * Watch mode's cd-ps: one long-lived `cd-ps --stream`, asked for a batch
 * each frame, instead of a new cd-ps (an exec, and every /proc entry read
 * again) each frame. Its stdin is a socket so that a request to a cd-ps
 * that died is an error (MSG_NOSIGNAL), not SIGPIPE; its stderr is a
 * memfd emptied before each batch, so a batch's warnings are its error
 * text exactly as a one-shot run's would be. If it dies it is started
 * again on the next frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "msg.h"
#include "psrun.h"
#include "record.h"
#include "stage.h"
#include "trace.h"

static void
child(const struct psstream *s, int req, int out, char *const argv[])
{
	if (dup2(req, 0) < 0 || dup2(out, 1) < 0 || dup2(s->err_fd, 2) < 0)
		_exit(127);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	execv(argv[0], argv);
	fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void
args(struct stage_argv *a, const char *path, const struct ps_query *q,
    int no_fds)
{
	stage_arg(a, path);
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

static int
fail(struct psstream *s, char **error, const char *what)
{
	*error = xasprintf("cannot start cd-ps: %s: %s", what, strerror(errno));
	psstream_close(s);
	return -1;
}

/* Returns 0, or -1 with *error set. */
static int
start(struct psstream *s, const struct ps_query *q, char **error)
{
	struct stage_argv a = { 0 };
	char *path = stage_find("cd-ps");
	int sv[2], po[2];

	if (path == NULL) {
		*error = xasprintf("cd-ps not found beside %s or on PATH",
		    msg_prog());
		return -1;
	}
	if ((s->err_fd = memfd_create("cd-ps", MFD_CLOEXEC)) < 0) {
		free(path);
		return fail(s, error, "memfd_create");
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(path);
		return fail(s, error, "socketpair");
	}
	s->req_fd = sv[0];
	if (pipe2(po, O_CLOEXEC) < 0) {
		close(sv[1]);
		free(path);
		return fail(s, error, "pipe");
	}
	args(&a, path, q, s->no_fds);
	free(path);
	if ((s->pid = fork()) == 0)
		child(s, sv[1], po[1], a.v);
	stage_argv_release(&a);
	close(sv[1]);
	close(po[1]);
	if ((s->out = fdopen(po[0], "r")) == NULL)
		close(po[0]);
	if (s->pid < 0 || s->out == NULL)
		return fail(s, error, s->pid < 0 ? "fork" : "fdopen");
	return 0;
}

static char *
batch_stderr(int fd)
{
	char buf[4096];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	size_t len = n > 0 ? (size_t)n : 0;

	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	return len ? xstrdup(buf) : NULL;
}

/* Why the stream ended: its stderr, else how it ended. */
static char *
ended(struct psstream *s)
{
	char *e = batch_stderr(s->err_fd);
	int ws;

	if (e)
		return e;
	if (s->pid > 0 && waitpid(s->pid, &ws, 0) == s->pid) {
		s->pid = 0;
		if (WIFSIGNALED(ws))
			return xasprintf("cd-ps was killed by signal %d",
			    WTERMSIG(ws));
		return xasprintf("cd-ps exited with status %d",
		    WEXITSTATUS(ws));
	}
	return xstrdup("cd-ps ended");
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
	if (s->pid <= 0 && start(s, q, error) < 0)
		return -1;
	if (ftruncate(s->err_fd, 0) < 0) {
		*error = xasprintf("cd-ps: %s", strerror(errno));
		return -1;
	}
	len = snprintf(req, sizeof(req), "%.3f\n", q->interval_s);
	if (send(s->req_fd, req, (size_t)len, MSG_NOSIGNAL) != len ||
	    read_batch(s, procs, meta) < 0) {
		*error = ended(s);
		psstream_close(s);
		return -1;
	}
	*error = batch_stderr(s->err_fd);
	return *error ? -1 : 0;
}

void
psstream_close(struct psstream *s)
{
	if (s->req_fd > 0)
		close(s->req_fd);	/* end of input: cd-ps ends */
	if (s->out)
		fclose(s->out);
	if (s->pid > 0)
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
	if (s->err_fd > 0)
		close(s->err_fd);
	s->pid = 0;
	s->req_fd = s->err_fd = 0;
	s->out = NULL;
}

void
psstream_no_fds(struct psstream *s, int off)
{
	s->no_fds = off;
}
