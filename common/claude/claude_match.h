/*
 * Which processes are Claude Code. The rules (documented in cd-ps(1)):
 *  - native: the executable or argv[0] is named "claude" or "claude.exe",
 *    or lives under ~/.local/share/claude/ (the native installer's
 *    versions/ directory, where the file is named after its version);
 *  - node: Node.js (or Bun) running .../@anthropic-ai/claude-code/cli.js
 *    or a .../bin/claude script;
 *  - other: the executable or script path contains "/anthropic/";
 * and never a process that merely mentions claude in its arguments
 * (grep claude, vim claude.md), nor this project's own tools.
 */
#ifndef CD_CLAUDE_MATCH_H
#define CD_CLAUDE_MATCH_H

#include <stddef.h>

enum claude_kind {
	CLAUDE_NONE = 0,
	CLAUDE_NATIVE,
	CLAUDE_NODE,
	CLAUDE_OTHER,
};

struct match_input {
	const char *comm;	/* kernel task name, may be truncated */
	const char *exe;	/* /proc/PID/exe target, may be NULL */
	char *const *argv;
	size_t argc;
};

enum claude_kind claude_match(const struct match_input *in);
const char *claude_kind_name(enum claude_kind k);
/* True for claude-diagnose's own programs (cd-*, claude-diagnose, claude-trace). */
int claude_is_own_tool(const struct match_input *in);
/*
 * The path that identifies the install: the script for node, else the
 * executable. Points into in; NULL when none.
 */
const char *claude_install_path(const struct match_input *in, enum claude_kind k);
/*
 * Version from the install path (".../claude/versions/2.1.197") or from the
 * package.json of the @anthropic-ai/claude-code package above it. Never
 * runs anything. Caller frees; NULL when unknown.
 */
char *claude_version(const char *install_path);
/*
 * The project a session works on: the name after "Working in:" in its
 * --append-system-prompt, else the basename of cwd. Caller frees; NULL
 * when neither is known.
 */
char *claude_project(char *const argv[], size_t argc, const char *cwd);

#endif
