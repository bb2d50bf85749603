#include <signal.h>
#include <string.h>

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
