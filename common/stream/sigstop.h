/*
 * Ctrl-C, kill and a closed terminal as a request to stop: the tools end
 * their loops, detach, and still write what they measured, instead of
 * dying mid-record. (cd-trace takes its signals through a signalfd.)
 */
#ifndef CD_SIGSTOP_H
#define CD_SIGSTOP_H

#include <signal.h>
#include <sys/types.h>

#define SIGSTOP_HUP 1u		/* SIGHUP too */
#define SIGSTOP_RESTART 2u	/* SA_RESTART: interrupted reads resume */

/*
 * From now on SIGINT and SIGTERM (and SIGHUP with SIGSTOP_HUP) store
 * their number in *flag, which must outlive the process's use of it (a
 * static). Without SIGSTOP_RESTART a blocking call returns EINTR at
 * once, so a loop can look at *flag. Exits CD_EXIT_FAIL if refused.
 */
void sigstop_catch(volatile sig_atomic_t *flag, unsigned flags);

/*
 * fork() for a child that will exec. Until its exec the child has the
 * parent's handlers: a SIGINT sent to it then (a stop forwarded to a
 * stage just started) would set the child's copy of the flag and be lost,
 * and the program it execs would run its whole duration. So signals are
 * blocked across the fork, and the child puts every caught signal back to
 * its default before taking the parent's mask again: one that came in
 * between acts on the child as it would on the program. With deathsig,
 * the child gets that signal when its parent dies (PR_SET_PDEATHSIG), and
 * exits at once if the parent is already gone. Returns as fork.
 */
pid_t sigstop_fork(int deathsig);

#endif
