/*
 * Ctrl-C, kill and a closed terminal as a request to stop: the tools end
 * their loops, detach, and still write what they measured, instead of
 * dying mid-record. (cd-trace takes its signals through a signalfd.)
 */
#ifndef CD_SIGSTOP_H
#define CD_SIGSTOP_H

#include <signal.h>

#define SIGSTOP_HUP 1u		/* SIGHUP too */
#define SIGSTOP_RESTART 2u	/* SA_RESTART: interrupted reads resume */

/*
 * From now on SIGINT and SIGTERM (and SIGHUP with SIGSTOP_HUP) store
 * their number in *flag, which must outlive the process's use of it (a
 * static). Without SIGSTOP_RESTART a blocking call returns EINTR at
 * once, so a loop can look at *flag. Exits CD_EXIT_FAIL if refused.
 */
void sigstop_catch(volatile sig_atomic_t *flag, unsigned flags);

#endif
