/*
 * cd-launch: run a command with the environment that makes its
 * JavaScript nameable by cd-sample (JSC jitdump for Bun builds, V8 perf
 * maps for Node), and remove those dumps when it ends.
 */
#ifndef CD_LAUNCH_H
#define CD_LAUNCH_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

enum runtime { RT_NONE, RT_BUN, RT_NODE };

/* detect.c */
const char *runtime_name(enum runtime rt);
/*
 * The executable a command name runs, as execvp(3) finds it (PATH, or the
 * name itself when it has a '/'); NULL with errno set when there is none.
 */
char *resolve_command(const char *name);
/*
 * What runs path: Bun (its ELF sections), Node (its ELF exports or
 * libnode), or a script whose #! line names one of those. why gets the
 * evidence, for -v.
 */
enum runtime detect_runtime(const char *path, char *why, size_t whylen);

/* A perf map of a process of the launched tree, recorded as it appeared. */
struct perfmap {
	pid_t pid;
	unsigned long long start;	/* the process's start time, /proc/PID/stat */
	dev_t dev;
	ino_t ino;
};

struct dumps {
	enum runtime rt;
	int verbose;
	char *dir;		/* Bun: the private jitdump directory */
	int ino_fd;		/* Node: inotify on /tmp, or -1 */
	pid_t root;		/* the launched command */
	time_t t0;		/* when it was launched */
	struct perfmap *maps;
	size_t nmaps, cap;
};

/* dumps.c */
/* mkdtemp under $XDG_RUNTIME_DIR (when private) or /tmp: mode 0700. */
int dumps_make_dir(struct dumps *d);
/* NODE_OPTIONS with --perf-basic-prof-only-functions added (old may be NULL). */
char *node_options(const char *old);
/* Node: watch /tmp for perf-PID.map files of the launched tree. */
void dumps_watch(struct dumps *d);
/* Read pending inotify events; record maps of processes of the tree. */
void dumps_events(struct dumps *d);
/* Remove the dumps the ended processes left; sizes on stderr with -v. */
void dumps_cleanup(struct dumps *d);

/* run.c */
enum { RUN_EXEC_FAILED = -1, RUN_SETUP_FAILED = -2 };
/*
 * Run argv in the foreground process group and wait for it, forwarding
 * SIGTERM and SIGHUP, following its stops. Returns its wait status,
 * RUN_EXEC_FAILED (errno is exec's error) or RUN_SETUP_FAILED (said why).
 */
int run_command(char **argv, struct dumps *d);

#endif
