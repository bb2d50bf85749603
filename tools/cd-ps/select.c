/* Which processes cd-ps reports. */
#include <string.h>

#include "cdps.h"
#include "claude_match.h"

static struct match_input
input_of(const struct procinfo *p)
{
	struct match_input in = {
		.comm = p->comm, .exe = p->exe, .argv = p->argv, .argc = p->argc,
	};

	return in;
}

int
select_kind(const struct procinfo *p)
{
	struct match_input in = input_of(p);
	enum claude_kind k = claude_match(&in);

	/*
	 * Claude Code on Node.js sets process.title to "claude", so argv no
	 * longer shows node; the executable does.
	 */
	if (k == CLAUDE_NATIVE && p->exe) {
		const char *b = strrchr(p->exe, '/');

		b = b ? b + 1 : p->exe;
		if (strcmp(b, "node") == 0 || strcmp(b, "nodejs") == 0 ||
		    strcmp(b, "bun") == 0)
			k = CLAUDE_NODE;
	}
	return k;
}

static int
regex_hit(const struct ps_opts *o, const struct procinfo *p)
{
	for (size_t i = 0; i < o->nmatch; i++) {
		if (regexec(&o->match[i], p->comm, 0, NULL, 0) == 0)
			return 1;
		for (size_t a = 0; a < p->argc && a < 2; a++)
			if (regexec(&o->match[i], p->argv[a], 0, NULL, 0) == 0)
				return 1;
	}
	return 0;
}

int
select_keep(const struct procinfo *p, void *arg)
{
	const struct ps_opts *o = arg;
	struct match_input in = input_of(p);

	if (o->all || pidlist_has(&o->pids, p->pid))
		return 1;
	if (o->pids.n > 0)
		return 0;	/* --pid alone: exactly those */
	if (claude_is_own_tool(&in))
		return 0;
	/* No command line and no executable: a zombie, nothing running. */
	if (p->argc == 0 && p->exe == NULL)
		return 0;
	return claude_match(&in) != CLAUDE_NONE || regex_hit(o, p);
}

/*
 * Mark the descendants of every wanted process as wanted too, so --tree
 * can show MCP servers and shells. want[] is indexed like pl->v.
 */
void
select_tree(struct proclist *pl, int *want)
{
	int changed = 1;

	while (changed) {
		changed = 0;
		for (size_t i = 0; i < pl->n; i++) {
			if (want[i])
				continue;
			for (size_t j = 0; j < pl->n; j++) {
				if (want[j] && pl->v[j].pid == pl->v[i].ppid) {
					want[i] = 1;
					changed = 1;
					break;
				}
			}
		}
	}
}
