#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "claude_match.h"
#include "msg.h"

static const char *
base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int
is_claude_name(const char *path)
{
	const char *b = base(path);

	return strcmp(b, "claude") == 0 || strcmp(b, "claude.exe") == 0;
}

static int
in_native_dir(const char *path)
{
	return strstr(path, "/.local/share/claude/") != NULL;
}

static int
is_js_runtime(const char *path)
{
	const char *b = base(path);

	return strcmp(b, "node") == 0 || strcmp(b, "nodejs") == 0 ||
	    strcmp(b, "bun") == 0 || strncmp(b, "node-", 5) == 0;
}

/* The script a JS runtime runs: the first argument that is not an option. */
static const char *
script_of(const struct match_input *in)
{
	for (size_t i = 1; i < in->argc; i++) {
		const char *a = in->argv[i];

		/* process.title leaves the old argv as empty strings. */
		if (a[0] == '\0')
			continue;
		if (a[0] != '-')
			return a;
		/* Options that take a separate value. */
		if (strcmp(a, "-r") == 0 || strcmp(a, "--require") == 0 ||
		    strcmp(a, "--import") == 0 || strcmp(a, "--loader") == 0)
			i++;
	}
	return NULL;
}

static int
runtime(const struct match_input *in)
{
	if (in->exe && is_js_runtime(in->exe))
		return 1;
	if (in->argc > 0 && is_js_runtime(in->argv[0]))
		return 1;
	return in->comm && is_js_runtime(in->comm);
}

int
claude_is_own_tool(const struct match_input *in)
{
	const char *names[] = { in->comm, in->argc ? in->argv[0] : NULL,
		in->exe };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *b;

		if (names[i] == NULL)
			continue;
		b = base(names[i]);
		if (strncmp(b, "cd-", 3) == 0 ||
		    strcmp(b, "claude-diagnose") == 0 ||
		    strcmp(b, "claude-trace") == 0)
			return 1;
	}
	return 0;
}

enum claude_kind
claude_match(const struct match_input *in)
{
	const char *argv0 = in->argc ? in->argv[0] : NULL;

	if (claude_is_own_tool(in))
		return CLAUDE_NONE;
	if (runtime(in)) {
		const char *s = script_of(in);

		/* Claude Code on Node sets process.title = "claude", which
		 * rewrites argv: the executable still says node. */
		if (argv0 && is_claude_name(argv0) && (in->argc == 1 || s == NULL))
			return CLAUDE_NODE;
		if (s == NULL)
			return CLAUDE_NONE;
		if (ends_with(s, "@anthropic-ai/claude-code/cli.js") ||
		    ends_with(s, "/bin/claude"))
			return CLAUDE_NODE;
		if (strstr(s, "/anthropic/"))
			return CLAUDE_OTHER;
		return CLAUDE_NONE;
	}
	if ((in->exe && (is_claude_name(in->exe) || in_native_dir(in->exe))) ||
	    (argv0 && (is_claude_name(argv0) || in_native_dir(argv0))))
		return CLAUDE_NATIVE;
	/* A kernel thread or an unreadable cmdline leaves only comm. */
	if (argv0 == NULL && in->exe == NULL && in->comm &&
	    is_claude_name(in->comm))
		return CLAUDE_NATIVE;
	if ((in->exe && strstr(in->exe, "/anthropic/")) ||
	    (argv0 && strstr(argv0, "/anthropic/")))
		return CLAUDE_OTHER;
	return CLAUDE_NONE;
}

const char *
claude_kind_name(enum claude_kind k)
{
	switch (k) {
	case CLAUDE_NATIVE:
		return "native";
	case CLAUDE_NODE:
		return "node";
	case CLAUDE_OTHER:
		return "other";
	default:
		return "none";
	}
}

const char *
claude_install_path(const struct match_input *in, enum claude_kind k)
{
	if (k == CLAUDE_NODE || (k == CLAUDE_OTHER && runtime(in)))
		return script_of(in);
	if (in->exe)
		return in->exe;
	return in->argc ? in->argv[0] : NULL;
}

static int
looks_like_version(const char *s)
{
	int dots = 0;

	if (!isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++) {
		if (*s == '.')
			dots++;
		else if (!isdigit((unsigned char)*s) && *s != '-' &&
		    !isalpha((unsigned char)*s))
			return 0;
	}
	return dots >= 1;
}

static char *
read_small(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *buf;
	ssize_t n;

	if (fd < 0)
		return NULL;
	buf = xmalloc(65536);
	n = read(fd, buf, 65535);
	close(fd);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* package.json at dir, if it is Claude Code's. */
static char *
package_version(const char *dir)
{
	char *path = xasprintf("%s/package.json", dir);
	char *text = read_small(path);
	cJSON *doc, *name, *ver;
	char *v = NULL;

	free(path);
	if (text == NULL)
		return NULL;
	doc = cJSON_Parse(text);
	free(text);
	name = cJSON_GetObjectItemCaseSensitive(doc, "name");
	ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
	if (cJSON_IsString(name) && cJSON_IsString(ver) &&
	    strcmp(name->valuestring, "@anthropic-ai/claude-code") == 0)
		v = xstrdup(ver->valuestring);
	cJSON_Delete(doc);
	return v;
}

char *
claude_version(const char *path)
{
	const char *vp;
	char *dir, *slash;
	char *v = NULL;

	if (path == NULL)
		return NULL;
	/* Native installer: ~/.local/share/claude/versions/<version> */
	vp = strstr(path, "/claude/versions/");
	if (vp) {
		char *cand = xstrdup(vp + strlen("/claude/versions/"));

		cand[strcspn(cand, "/")] = '\0';
		if (looks_like_version(cand))
			return cand;
		free(cand);
	}
	/* npm: walk up at most four directories looking for package.json. */
	dir = xstrdup(path);
	for (int i = 0; i < 4 && v == NULL; i++) {
		slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			break;
		*slash = '\0';
		v = package_version(dir);
	}
	free(dir);
	return v;
}

static char *
working_in(const char *prompt)
{
	const char *w = strstr(prompt, "Working in:");
	size_t n;
	char *name, *slash;

	if (w == NULL)
		return NULL;
	w += strlen("Working in:");
	w += strspn(w, " \t");
	n = strcspn(w, "\n\r");
	while (n > 0 && strchr(" \t.,;", w[n - 1]))
		n--;
	if (n == 0)
		return NULL;
	name = xmalloc(n + 1);
	memcpy(name, w, n);
	name[n] = '\0';
	/* A path names its last component. */
	while ((slash = strrchr(name, '/')) && slash[1] == '\0' && slash != name)
		*slash = '\0';
	slash = strrchr(name, '/');
	if (slash && slash[1]) {
		char *b = xstrdup(slash + 1);

		free(name);
		return b;
	}
	return name;
}

char *
claude_project(char *const argv[], size_t argc, const char *cwd)
{
	static const char opt[] = "--append-system-prompt";

	for (size_t i = 1; i < argc; i++) {
		const char *val = NULL;
		char *name;

		if (strcmp(argv[i], opt) == 0 && i + 1 < argc)
			val = argv[i + 1];
		else if (strncmp(argv[i], opt, sizeof(opt) - 1) == 0 &&
		    argv[i][sizeof(opt) - 1] == '=')
			val = argv[i] + sizeof(opt);
		if (val && (name = working_in(val)) != NULL)
			return name;
	}
	if (cwd && *cwd) {
		const char *b = strrchr(cwd, '/');

		if (b && b[1])
			return xstrdup(b + 1);
		return xstrdup(cwd);
	}
	return NULL;
}
