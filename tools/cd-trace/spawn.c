/*
 * Starting the traced command: the child waits on a pipe until the tracer
 * is ready, so not one of the command's calls is missed, and it starts
 * with the signal mask and dispositions it would have had without us.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "msg.h"
#include "sigstop.h"
#include "trace.h"

pid_t
spawn_gated(char **argv, int *gate)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid = sigstop_fork(0);
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		char c;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(p[1]);
		/* EOF without a byte: the tracer gave up; do not run untraced. */
		if (read(p[0], &c, 1) != 1)
			_exit(CD_EXIT_NOTFOUND);
		close(p[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s: %s\n", msg_prog(), argv[0], strerror(errno));
		_exit(CD_EXIT_NOTFOUND);
	}
	close(p[0]);
	*gate = p[1];
	return pid;
}

void
spawn_go(int *gate)
{
	if (*gate < 0)
		return;
	if (write(*gate, "g", 1) != 1)
		msg_warnerr("releasing the command");
	close(*gate);
	*gate = -1;
}

void
spawn_abort(int *gate)
{
	if (*gate < 0)
		return;
	close(*gate);
	*gate = -1;
}

/* Reap the command if it has exited, keeping its status for the meta record. */
void
spawn_reap(struct target_set *ts)
{
	int st;

	if (ts->child > 0 && !ts->child_reaped &&
	    waitpid(ts->child, &st, WNOHANG) == ts->child) {
		ts->child_status = st;
		ts->child_reaped = 1;
	}
}

/*
 * The command has exited by the tracer's records, which can come a moment
 * before it is waitable: wait for that, a second at most.
 */
void
spawn_reap_exited(struct target_set *ts)
{
	for (int i = 0; i < 100 && !ts->child_reaped; i++) {
		struct timespec nap = { 0, 10000000 };

		spawn_reap(ts);
		if (!ts->child_reaped)
			nanosleep(&nap, NULL);
	}
}
