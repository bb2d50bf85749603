#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "msg.h"
#include "record.h"
#include "sigstop.h"
#include "stage.h"

static int
executable(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    access(path, X_OK) == 0;
}

char *
stage_find(const char *prog)
{
	char self[PATH_MAX], *slash, *path, *dirs, *save = NULL;
	ssize_t n;

	if (strchr(prog, '/'))
		return executable(prog) ? xstrdup(prog) : NULL;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			path = xasprintf("%s/%s", self, prog);
			if (executable(path))
				return path;
			free(path);
		}
	}
	if (getenv("PATH") == NULL)
		return NULL;
	dirs = xstrdup(getenv("PATH"));
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		path = xasprintf("%s/%s", *d ? d : ".", prog);
		if (executable(path)) {
			free(dirs);
			return path;
		}
		free(path);
	}
	free(dirs);
	return NULL;
}

/* stage_start, stdout to out_wr when it is not -1 (else a memfd). */
static int
start(struct stage *st, char *const argv[], int in_fd, int out_wr)
{
	char *path;
	pid_t pid;

	memset(st, 0, sizeof(*st));
	st->name = xstrdup(argv[0]);
	st->status = -1;
	st->out_fd = st->err_fd = -1;
	path = stage_find(argv[0]);
	if (path == NULL) {
		st->missing = 1;
		return -1;
	}
	if (out_wr < 0)
		st->out_fd = memfd_create(argv[0], MFD_CLOEXEC);
	st->err_fd = memfd_create(argv[0], MFD_CLOEXEC);
	if ((out_wr < 0 && st->out_fd < 0) || st->err_fd < 0) {
		msg_warnerr("%s: memfd_create", argv[0]);
		free(path);
		return -1;
	}
	/* Whatever ends the driver (SIGKILL, a crash) stops its stages too:
	 * they detach and end, not trace on for their duration. */
	pid = sigstop_fork(SIGINT);
	if (pid < 0) {
		msg_warnerr("%s: fork", argv[0]);
		free(path);
		return -1;
	}
	if (pid == 0) {
		int devnull = -1;

		if (in_fd < 0)
			in_fd = devnull = open("/dev/null", O_RDONLY);
		else
			lseek(in_fd, 0, SEEK_SET);
		if (in_fd < 0 || dup2(in_fd, 0) < 0 ||
		    dup2(out_wr < 0 ? st->out_fd : out_wr, 1) < 0 ||
		    dup2(st->err_fd, 2) < 0)
			_exit(CD_EXIT_NOTFOUND);
		/* Stages inherit the default SIGINT so Ctrl-C ends captures. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execv(path, argv);
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		_exit(CD_EXIT_NOTFOUND);
	}
	free(path);
	st->pid = pid;
	return 0;
}

int
stage_start(struct stage *st, char *const argv[], int in_fd)
{
	return start(st, argv, in_fd, -1);
}

int
stage_start_pipe(struct stage *st, char *const argv[], int in_fd, int *out_rd)
{
	int po[2], rc;

	if (pipe2(po, O_CLOEXEC) < 0) {
		memset(st, 0, sizeof(*st));
		st->name = xstrdup(argv[0]);
		st->status = -1;
		st->out_fd = st->err_fd = -1;
		msg_warnerr("%s: pipe", argv[0]);
		return -1;
	}
	rc = start(st, argv, in_fd, po[1]);
	close(po[1]);
	if (rc < 0) {
		close(po[0]);
		return -1;
	}
	*out_rd = po[0];
	return 0;
}

static void
set_status(struct stage *st, int ws)
{
	st->pid = 0;
	if (WIFEXITED(ws))
		st->status = WEXITSTATUS(ws);
	else if (WIFSIGNALED(ws))
		st->status = 128 + WTERMSIG(ws);
}

int
stage_wait(struct stage *st)
{
	int ws;

	if (st->pid <= 0)
		return st->status;
	while (waitpid(st->pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			st->pid = 0;
			return st->status = -1;
		}
	}
	set_status(st, ws);
	return st->status;
}

int
stage_poll(struct stage *st)
{
	int ws;
	pid_t r;

	if (st->pid <= 0)
		return 1;
	r = waitpid(st->pid, &ws, WNOHANG);
	if (r == 0 || (r < 0 && errno == EINTR))
		return 0;
	if (r < 0) {
		st->pid = 0;
		st->status = -1;
		return 1;
	}
	set_status(st, ws);
	return 1;
}

void
stage_signal(struct stage *st, int sig)
{
	if (st->pid > 0)
		kill(st->pid, sig);
}

static char *
slurp(int fd, size_t *len)
{
	off_t end;
	char *buf;
	size_t got = 0;

	*len = 0;
	if (fd < 0)
		return xstrdup("");
	end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		end = 0;
	buf = xmalloc((size_t)end + 1);
	lseek(fd, 0, SEEK_SET);
	while (got < (size_t)end) {
		ssize_t n = read(fd, buf + got, (size_t)end - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

char *
stage_stdout(struct stage *st, size_t *len)
{
	return slurp(st->out_fd, len);
}

char *
stage_stderr(struct stage *st)
{
	size_t len;
	char *s = slurp(st->err_fd, &len);

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
		s[--len] = '\0';
	return s;
}

int
stage_stdout_fd(struct stage *st)
{
	if (st->out_fd >= 0)
		lseek(st->out_fd, 0, SEEK_SET);
	return st->out_fd;
}

void
stage_release(struct stage *st)
{
	if (st->out_fd >= 0)
		close(st->out_fd);
	if (st->err_fd >= 0)
		close(st->err_fd);
	free(st->name);
	memset(st, 0, sizeof(*st));
	st->out_fd = st->err_fd = -1;
}

long
stage_records(struct stage *st, cJSON *arr, cJSON **meta)
{
	struct rec_reader *r;
	cJSON *obj;
	long bad;
	int fd = stage_stdout_fd(st);

	if (meta)
		*meta = NULL;
	if (fd < 0)
		return 0;
	r = rec_reader_open(fd, st->name);
	while (rec_next(r, &obj) == REC_OK) {
		if (rec_is(obj, "meta") && meta) {
			cJSON_Delete(*meta);
			*meta = obj;
		} else {
			cJSON_AddItemToArray(arr, obj);
		}
	}
	bad = (long)rec_bad_lines(r);
	rec_reader_close(r);
	return bad;
}

char *
stage_error(struct stage *st)
{
	char *e;

	if (st->missing)
		return xasprintf("%s not found beside %s or on PATH", st->name,
		    msg_prog());
	e = stage_stderr(st);
	if (*e)
		return e;
	free(e);
	if (st->status >= 128)
		return xasprintf("%s was killed by signal %d", st->name,
		    st->status - 128);
	if (st->status < 0)
		return xasprintf("%s could not be started", st->name);
	return xasprintf("%s exited with status %d", st->name, st->status);
}

void
stage_arg(struct stage_argv *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

void
stage_argf(struct stage_argv *a, const char *fmt, double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), fmt, v);
	stage_arg(a, buf);
}

void
stage_argv_release(struct stage_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}
