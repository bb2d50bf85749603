/*
 * What every tracing method's loop needs: its deadline, and the signals that
 * end a run, taken through a signalfd rather than a handler so that a
 * signal lands between two events, never inside one.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"
#include "units.h"

/* Blocked from the start, so they arrive through signalfd in the loops. */
int
signals_block(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGCHLD);
	return sigprocmask(SIG_BLOCK, set, NULL);
}

/*
 * Whether setup must give up: the duration is over, or a signal came
 * (taken here, as the loops would, since setup does not read the signalfd).
 */
int
setup_interrupted(struct trace *tr, uint64_t deadline)
{
	static const struct timespec zero;
	sigset_t set;
	int sig;

	if (tr->stop_reason)
		return 1;
	if (deadline && now_mono_ns() >= deadline)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sig = sigtimedwait(&set, NULL, &zero);
	if (sig > 0)
		tr->stop_reason = sig;
	return sig > 0;
}

/* SIGCHLD only wakes the loop: the methods reap their command themselves. */
int
signals_take(struct trace *tr, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo != SIGCHLD)
			tr->stop_reason = (int)si.ssi_signo;
	return tr->stop_reason != 0;
}

/* When the run must end, counted from now; 0 for none. */
uint64_t
run_deadline(const struct trace *tr)
{
	if (tr->opt.duration_s <= 0)
		return 0;
	return now_mono_ns() + (uint64_t)(tr->opt.duration_s * 1e9);
}

/* A poll timeout in ms, cut to end at the deadline (0: none); -1 once past it. */
int
deadline_timeout(uint64_t deadline, int timeout)
{
	uint64_t now;

	if (deadline == 0)
		return timeout;
	if ((now = now_mono_ns()) >= deadline)
		return -1;
	if ((deadline - now) / 1000000 < (uint64_t)timeout)
		timeout = (int)((deadline - now) / 1000000) + 1;
	return timeout;
}
