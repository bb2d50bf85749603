/*
 * Running the command as if it ran alone. It stays in cd-launch's process
 * group, which the shell made the terminal's foreground group, so Ctrl-C,
 * Ctrl-\ and Ctrl-Z reach it straight from the terminal. cd-launch itself
 * ignores SIGINT and SIGQUIT while it waits (the command decides what they
 * mean, and cd-launch must live to clean up), forwards SIGTERM and SIGHUP
 * (sent to cd-launch by pid, they are meant for the command), and follows
 * the command's stops: when it stops, cd-launch stops with the same
 * signal so the shell sees the job stop, and continues it on SIGCONT.
 *
 * Signals are read from a signalfd, next to the inotify descriptor that
 * watches for perf maps, in one poll loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "exitcode.h"
#include "launch.h"
#include "msg.h"

struct saved {
	sigset_t mask;
	struct sigaction intr, quit;
};

/* The child gets back what cd-launch was given, ignored signals included. */
static void __attribute__((noreturn))
child(char **argv, const struct saved *sv, int errfd)
{
	int e;

	sigaction(SIGINT, &sv->intr, NULL);
	sigaction(SIGQUIT, &sv->quit, NULL);
	sigprocmask(SIG_SETMASK, &sv->mask, NULL);
	execvp(argv[0], argv);
	e = errno;
	/* the parent reads exec's error from the close-on-exec pipe */
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(CD_EXIT_NOTFOUND);
	_exit(CD_EXIT_NOTFOUND);
}

/* exec's errno, or 0 once the pipe closed on a successful exec. */
static int
exec_error(int fd)
{
	int e = 0;
	ssize_t n;

	do
		n = read(fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(fd);
	return n == (ssize_t)sizeof(e) ? e : 0;
}

/*
 * Whether cd-launch's process group is the foreground group of its
 * terminal: only then is there a shell that a stop should reach.
 */
static int
in_foreground(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	pid_t fg;

	if (fd < 0)
		return 0;
	fg = tcgetpgrp(fd);
	close(fd);
	return fg == getpgrp();
}

/*
 * The command stopped: stop cd-launch the same way, so the shell's job
 * stops too; when something continues cd-launch, continue the command.
 * Without a terminal in front there is no job to stop, and a cd-launch
 * stopped there could stay stopped after the command was continued, so
 * the stop is only waited out, as a parent without job control does.
 */
static void
follow_stop(pid_t pid, int sig)
{
	if (!in_foreground())
		return;
	if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
		sig = SIGSTOP;
	/* SIGTSTP and friends have their default action here: they stop us */
	kill(getpid(), sig);
	kill(pid, SIGCONT);
}

/* 1 when the command has ended (*status filled), 0 while it runs. */
static int
reap(pid_t pid, int *status)
{
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG | WUNTRACED);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0;	/* ECHILD: nothing to wait for */
		if (WIFSTOPPED(st)) {
			follow_stop(pid, WSTOPSIG(st));
			continue;
		}
		*status = st;
		return 1;
	}
}

static int
wait_loop(pid_t pid, int sfd, struct dumps *d)
{
	struct pollfd pf[2] = { { sfd, POLLIN, 0 }, { d->ino_fd, POLLIN, 0 } };
	int status = 0;

	for (;;) {
		struct signalfd_siginfo si;

		if (poll(pf, d->ino_fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			msg_warnerr("poll");
			/* cannot watch any more: wait the plain way */
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return status;
		}
		if (d->ino_fd >= 0 && (pf[1].revents & POLLIN))
			dumps_events(d);
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP)
				kill(pid, (int)si.ssi_signo);
		}
		if (reap(pid, &status))
			return status;
	}
}

int
run_command(char **argv, struct dumps *d)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct saved sv;
	sigset_t watch;
	int sfd, pfd[2], e, status;
	pid_t pid;

	sigemptyset(&watch);
	sigaddset(&watch, SIGCHLD);
	sigaddset(&watch, SIGTERM);
	sigaddset(&watch, SIGHUP);
	/* blocked before fork: a SIGTERM that comes early waits for the loop */
	if (sigprocmask(SIG_BLOCK, &watch, &sv.mask) != 0 ||
	    (sfd = signalfd(-1, &watch, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		msg_warnerr("signalfd");
		return RUN_SETUP_FAILED;
	}
	sigemptyset(&ign.sa_mask);
	if (sigaction(SIGINT, &ign, &sv.intr) != 0 || sigaction(SIGQUIT, &ign, &sv.quit) != 0 ||
	    pipe2(pfd, O_CLOEXEC) != 0) {
		msg_warnerr("cannot set up signals");
		close(sfd);
		return RUN_SETUP_FAILED;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		msg_warnerr("fork");
		close(sfd);
		close(pfd[0]);
		close(pfd[1]);
		return RUN_SETUP_FAILED;
	}
	if (pid == 0) {
		close(pfd[0]);
		close(sfd);
		child(argv, &sv, pfd[1]);
	}
	close(pfd[1]);
	d->root = pid;
	e = exec_error(pfd[0]);
	if (e != 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		close(sfd);
		errno = e;
		return RUN_EXEC_FAILED;
	}
	status = wait_loop(pid, sfd, d);
	close(sfd);
	return status;
}
