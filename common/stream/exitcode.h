/* Exit codes shared by every tool; documented in claude-diagnose-streams(7). */
#ifndef CD_EXITCODE_H
#define CD_EXITCODE_H

enum cd_exit {
	CD_EXIT_OK = 0,       /* ran; nothing critical */
	CD_EXIT_FOUND = 1,    /* ran; found critical issues (analysers, driver) */
	CD_EXIT_USAGE = 2,    /* bad command line */
	CD_EXIT_FAIL = 3,     /* could not run: no target, no permission, I/O */
	CD_EXIT_DATAERR = 4,  /* input had malformed lines (skipped, or --strict) */
	/* a command we start cannot run (the shell's codes; cd-launch exits with them) */
	CD_EXIT_NOEXEC = 126,   /* found, not executable */
	CD_EXIT_NOTFOUND = 127, /* not found, or the child failed before exec */
};

#endif
