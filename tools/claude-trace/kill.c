/*
 * -K PID: end a Claude Code process, and only that. The process is looked
 * up through cd-ps, which knows Claude Code when it sees it; anything else
 * (a shell, an editor, this project's own tools) is refused.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "color.h"
#include "exitcode.h"
#include "msg.h"
#include "psrun.h"
#include "record.h"
#include "trace.h"
#include "units.h"

/* Gone, or a zombie its parent has not reaped yet: it has ended. */
static int
ended(int pid)
{
	char path[64], buf[512], *rp;
	FILE *f;
	int gone = 1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return 1;
	if (fgets(buf, sizeof(buf), f) && (rp = strrchr(buf, ')')) != NULL &&
	    rp[1] == ' ')
		gone = rp[2] == 'Z' || rp[2] == 'X';
	fclose(f);
	return gone;
}

static cJSON *
lookup(int pid)
{
	struct pidlist pl = { 0 };
	struct ps_query q = { .interval_s = 0, .redact = 1, .pids = &pl };
	cJSON *procs = cJSON_CreateArray(), *meta = NULL, *p;
	char *error = NULL;

	pidlist_add(&pl, pid);
	ps_run(&q, procs, &meta, &error);
	cJSON_Delete(meta);
	pidlist_release(&pl);
	p = cJSON_DetachItemFromArray(procs, 0);
	cJSON_Delete(procs);
	if (p == NULL)
		msg_warn("%s", error ? error : "no such process");
	free(error);
	return p;
}

int
do_kill(const struct topts *o)
{
	int pid = o->kill_pid, sig = o->force ? SIGKILL : SIGTERM;
	cJSON *p = lookup(pid);
	const char *kind, *cmd;
	uint64_t end;

	if (p == NULL)
		return CD_EXIT_FAIL;
	kind = rec_get_str(p, "kind");
	cmd = rec_get_str(p, "command");
	if (kind == NULL || strcmp(kind, "none") == 0) {
		msg_warn("pid %d is not a Claude Code process (%s): -K ends only "
		    "Claude Code", pid, cmd ? cmd : "?");
		cJSON_Delete(p);
		return CD_EXIT_FAIL;
	}
	printf("Sending %s to pid %d (Claude Code %s, project %s)\n",
	    o->force ? "SIGKILL" : "SIGTERM", pid,
	    rec_get_str(p, "version") ? rec_get_str(p, "version") : "",
	    rec_get_str(p, "project") ? rec_get_str(p, "project") : "-");
	printf("%s  Command: %.100s%s\n", color(C_DIM), cmd ? cmd : "?",
	    color(C_RESET));
	fflush(stdout);
	cJSON_Delete(p);
	if (kill(pid, sig) < 0) {
		if (errno == EPERM)
			msg_warn("pid %d: not permitted (another user's process: "
			    "run as its owner or root)", pid);
		else
			msg_warnerr("pid %d", pid);
		return CD_EXIT_FAIL;
	}
	/* SIGTERM lets Claude Code save its session: give it time. */
	end = now_mono_ns() + 5000000000ULL;
	while (!ended(pid) && now_mono_ns() < end)
		usleep(50000);
	if (!ended(pid)) {
		msg_warn("pid %d is still running 5 s after %s; to force it: "
		    "claude-trace -K %d -9", pid, o->force ? "SIGKILL" :
		    "SIGTERM", pid);
		return CD_EXIT_FAIL;
	}
	printf("%sPid %d ended.%s\n", color(C_GREEN), pid, color(C_RESET));
	return CD_EXIT_OK;
}
