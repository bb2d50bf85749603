#include <stdlib.h>

#include "check.h"
#include "claude_match.h"

static enum claude_kind
m(const char *comm, const char *exe, char *const *argv, size_t argc)
{
	struct match_input in = { comm, exe, argv, argc };

	return claude_match(&in);
}

int
main(void)
{
	char *native[] = { "claude", "--resume" };
	char *native_path[] = { "/home/u/.local/share/claude/versions/2.1.197" };
	char *node[] = { "node", "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js" };
	char *node_opts[] = { "node", "--max-old-space-size=4096", "-r", "x.js",
		"/opt/n/@anthropic-ai/claude-code/cli.js", "-c" };
	char *binclaude[] = { "/usr/bin/node", "/home/u/.npm-global/bin/claude" };
	char *anth[] = { "/opt/anthropic/tool", "x" };
	char *grep[] = { "grep", "claude" };
	char *vim[] = { "vim", "/home/u/claude/notes.md" };
	char *nodeother[] = { "node", "server.js", "claude" };
	char *own[] = { "/usr/bin/cd-ps", "--all" };
	char *diag[] = { "claude-diagnose", "-s" };
	char *exe_only[] = { "2.1.197" };
	char *title[] = { "claude" };
	/* process.title on Linux blanks the rest of argv: empty strings. */
	char *title_blank[] = { "claude", "", "", "" };
	char *p1[] = { "claude", "--append-system-prompt", "Be nice.\nWorking in: /home/u/proj-x\nmore" };
	char *p2[] = { "claude", "--append-system-prompt=Working in: acme" };
	char *vers = NULL;

	CHECK(m("claude", "/usr/local/bin/claude", native, 2) == CLAUDE_NATIVE);
	CHECK(m("2.1.197", NULL, native_path, 1) == CLAUDE_NATIVE);
	CHECK(m("2.1.197", "/home/u/.local/share/claude/versions/2.1.197",
	    exe_only, 1) == CLAUDE_NATIVE);
	CHECK(m("node", "/usr/bin/node", node, 2) == CLAUDE_NODE);
	CHECK(m("node", "/usr/bin/node", node_opts, 6) == CLAUDE_NODE);
	CHECK(m("node", "/usr/bin/node", binclaude, 2) == CLAUDE_NODE);
	CHECK(m("tool", "/opt/anthropic/tool", anth, 2) == CLAUDE_OTHER);
	CHECK(m("grep", "/usr/bin/grep", grep, 2) == CLAUDE_NONE);
	CHECK(m("vim", "/usr/bin/vim", vim, 2) == CLAUDE_NONE);
	CHECK(m("node", "/usr/bin/node", nodeother, 3) == CLAUDE_NONE);
	CHECK(m("cd-ps", "/usr/bin/cd-ps", own, 2) == CLAUDE_NONE);
	CHECK(m("claude-diagnose", "/usr/bin/claude-diagnose", diag, 2) == CLAUDE_NONE);
	CHECK(m("claude", NULL, NULL, 0) == CLAUDE_NATIVE);
	CHECK(m("claude", "/usr/bin/node", title, 1) == CLAUDE_NODE);
	CHECK(m("claude", "/usr/bin/node", title_blank, 4) == CLAUDE_NODE);

	vers = claude_version("/home/u/.local/share/claude/versions/2.1.197");
	CHECK_STR(vers, "2.1.197");
	free(vers);
	vers = claude_version("/nonexistent/@anthropic-ai/claude-code/cli.js");
	CHECK(vers == NULL);
	free(vers);

	vers = claude_project(p1, 3, "/tmp");
	CHECK_STR(vers, "proj-x");
	free(vers);
	vers = claude_project(p2, 2, "/tmp");
	CHECK_STR(vers, "acme");
	free(vers);
	vers = claude_project(native, 2, "/home/u/work/site");
	CHECK_STR(vers, "site");
	free(vers);
	vers = claude_project(native, 2, NULL);
	CHECK(vers == NULL);
	return CHECK_DONE();
}
