#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "exitcode.h"
#include "msg.h"
#include "sigstop.h"

static volatile sig_atomic_t *stop_flag;

static void
on_stop(int sig)
{
	*stop_flag = sig;
}

void
sigstop_catch(volatile sig_atomic_t *flag, unsigned flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = (flags & SIGSTOP_RESTART) ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	stop_flag = flag;
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
	    ((flags & SIGSTOP_HUP) && sigaction(SIGHUP, &sa, NULL) != 0))
		msg_dieerr(CD_EXIT_FAIL, "sigaction");
}

pid_t
sigstop_fork(int deathsig)
{
	sigset_t all, old;
	struct sigaction sa;
	pid_t pid, parent = getpid();
	int e;

	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &old) != 0)
		return -1;
	pid = fork();
	if (pid != 0) {
		e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		errno = e;
		return pid;
	}
	for (int sig = 1; sig < NSIG; sig++) {
		if (sigaction(sig, NULL, &sa) != 0 || sa.sa_handler == SIG_DFL ||
		    sa.sa_handler == SIG_IGN)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(sig, &sa, NULL);
	}
	if (deathsig != 0) {
		prctl(PR_SET_PDEATHSIG, deathsig);
		if (getppid() != parent)	/* it died before the line above */
			_exit(CD_EXIT_NOTFOUND);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}
