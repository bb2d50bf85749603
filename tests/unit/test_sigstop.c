/*
 * sigstop_fork: a stop sent to a child before its exec acts on the child,
 * instead of running the parent's handler in the child's copy (where it
 * was lost: a stage started as a Ctrl-C came ran its whole duration).
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sigstop.h"

static volatile sig_atomic_t stop;

/* A child that meets a SIGINT at once, as a forwarded stop would find it.
 * It exits 0 if a handler took the signal, dies of it otherwise. */
static int
child_status(pid_t (*forker)(void))
{
	pid_t pid;
	int ws;

	stop = 0;
	pid = forker();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		raise(SIGINT);
		_exit(stop ? 0 : 7);
	}
	if (waitpid(pid, &ws, 0) != pid)
		return -1;
	return ws;
}

static pid_t
plain_fork(void)
{
	return fork();
}

static pid_t
stop_fork(void)
{
	return sigstop_fork(0);
}

int
main(void)
{
	sigset_t before, after;
	struct sigaction sa;
	int ws;

	sigstop_catch(&stop, 0);
	/* The trap being fixed: fork's child runs the parent's handler. */
	ws = child_status(plain_fork);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	/* sigstop_fork's child dies of it, as the exec'd program would. */
	ws = child_status(stop_fork);
	CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGINT);

	/* An ignored signal stays ignored in the child (nohup, bats). */
	signal(SIGQUIT, SIG_IGN);
	if ((ws = sigstop_fork(0)) == 0) {
		raise(SIGQUIT);
		_exit(3);
	}
	CHECK(ws > 0 && waitpid(ws, &ws, 0) > 0 && WIFEXITED(ws) &&
	    WEXITSTATUS(ws) == 3);

	/* The parent keeps its mask and its handler. */
	sigemptyset(&before);
	sigaddset(&before, SIGUSR1);
	sigprocmask(SIG_SETMASK, &before, NULL);
	if ((ws = sigstop_fork(0)) == 0) {
		/* ...and so does the child, once its handlers are reset */
		sigprocmask(SIG_SETMASK, NULL, &after);
		_exit(sigismember(&after, SIGUSR1) && !sigismember(&after, SIGINT) ?
		    0 : 5);
	}
	CHECK(ws > 0 && waitpid(ws, &ws, 0) > 0 && WIFEXITED(ws) &&
	    WEXITSTATUS(ws) == 0);
	sigprocmask(SIG_SETMASK, NULL, &after);
	CHECK(sigismember(&after, SIGUSR1) && !sigismember(&after, SIGINT));
	sigaction(SIGINT, NULL, &sa);
	CHECK(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
	stop = 0;
	raise(SIGINT);
	CHECK(stop == SIGINT);
	return CHECK_DONE();
}
