/*
 * Versions: which Claude Code each process runs, the newest installed, the
 * newest published, and the way to get it. The published version is asked
 * of npm itself (npm view), so npm's own configuration decides the
 * registry, proxy and credentials; the updater is Claude Code's own
 * (claude update); the release notes come from GitHub's releases API.
 */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "color.h"
#include "exitcode.h"
#include "msg.h"
#include "psrun.h"
#include "record.h"
#include "stage.h"
#include "trace.h"
#include "units.h"

extern char **environ;

#define PACKAGE "@anthropic-ai/claude-code"
#define RELEASES_URL \
	"https://api.github.com/repos/anthropics/claude-code/releases/latest"
/* npm and curl get this long before they are stopped: never a hang. */
#define NET_TIMEOUT_S 30

/*
 * "2.1.197", "1.0.99-beta.1": dotted numbers, then an optional
 * pre-release after '-'. Not "2.1.197.lock" or "2.1.197.tmp", which an
 * installer may leave beside the versions.
 */
static int
is_version(const char *s)
{
	int dots = 0;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	for (; *s && *s != '-'; s++) {
		if (*s == '.' && s[1] >= '0' && s[1] <= '9')
			dots++;
		else if (*s < '0' || *s > '9')
			return 0;
	}
	if (*s == '-' && s[1] == '\0')
		return 0;
	for (; *s; s++)
		if (!strchr("0123456789.-abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", *s))
			return 0;
	return dots >= 1;
}

static void
consider(char **best, const char *v)
{
	if (!is_version(v))
		return;
	if (*best == NULL || strverscmp(v, *best) > 0) {
		free(*best);
		*best = xstrdup(v);
	}
}

/* The native installer keeps every version in HOME/.local/share/claude/versions. */
static void
scan_home(char **best, const char *home)
{
	char *dir;
	DIR *d;
	struct dirent *e;

	if (home == NULL || *home == '\0')
		return;
	dir = xasprintf("%s/.local/share/claude/versions", home);
	d = opendir(dir);
	free(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		consider(best, e->d_name);
	closedir(d);
}

char *
versions_newest_local(const cJSON *procs)
{
	char *best = NULL;
	const cJSON *p;
	struct pidlist uids = { 0 };

	scan_home(&best, getenv("HOME"));
	cJSON_ArrayForEach(p, procs) {
		int uid = (int)rec_get_num(p, "uid", 0);
		struct passwd *pw;

		consider(&best, rec_get_str(p, "version"));
		/* Each owner once: -w with many sessions of one user would
		 * read the password database and the directory each time. */
		if (pidlist_has(&uids, uid))
			continue;
		pidlist_add(&uids, uid);
		if ((pw = getpwuid((uid_t)uid)) != NULL)
			scan_home(&best, pw->pw_dir);
	}
	pidlist_release(&uids);
	return best;
}

int
versions_mark_outdated(cJSON *procs, const char *latest)
{
	cJSON *p;
	int n = 0;

	cJSON_ArrayForEach(p, procs) {
		const char *v = rec_get_str(p, "version");
		int old = latest && is_version(v) && strverscmp(v, latest) < 0;

		cJSON_DeleteItemFromObjectCaseSensitive(p, "is_outdated");
		cJSON_AddBoolToObject(p, "is_outdated", old);
		n += old;
	}
	return n;
}

/*
 * Run a helper program with its output captured, for at most
 * NET_TIMEOUT_S. Returns its exit status, -1 not found, -2 timed out;
 * out and err are set (caller frees) when it ran.
 */
static int
run_captured(char *const argv[], char **out, char **err)
{
	struct stage st;
	uint64_t end = now_mono_ns() + (uint64_t)NET_TIMEOUT_S * 1000000000ULL;
	size_t len;
	int rc;

	*out = *err = NULL;
	if (stage_start(&st, argv, -1) < 0) {
		rc = st.missing ? -1 : -3;
		stage_release(&st);
		return rc;
	}
	while (!stage_poll(&st)) {
		if (now_mono_ns() > end) {
			stage_signal(&st, SIGKILL);
			stage_wait(&st);
			stage_release(&st);
			return -2;
		}
		usleep(20000);
	}
	*out = stage_stdout(&st, &len);
	*err = stage_stderr(&st);
	rc = st.status;
	stage_release(&st);
	return rc;
}

static void
trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
}

/* npm's error in one line: "ECONNREFUSED: ... reason: ...". */
static char *
npm_reason(const char *err)
{
	const char *code = strstr(err, "npm error code ");
	const char *why = strstr(err, "reason: ");
	char c[64] = "", w[256] = "";

	if (code)
		sscanf(code + strlen("npm error code "), "%63s", c);
	if (why)
		snprintf(w, sizeof(w), "%.*s", (int)strcspn(why + 8, "\n"), why + 8);
	if (*c || *w)
		return xasprintf("%s%s%s", c, *c && *w ? ": " : "", w);
	return xasprintf("%.*s", (int)strcspn(err, "\n"), err);
}

/* The newest published version, or NULL with *why set. */
static char *
npm_latest(char **why)
{
	char *argv[] = { "npm", "view", PACKAGE, "version", "--fetch-retries=0",
		"--fetch-timeout=10000", "--logs-max=0", NULL };
	char *out, *err, *v = NULL;
	int rc = run_captured(argv, &out, &err);

	*why = NULL;
	if (rc == -1)
		*why = xstrdup("npm was not found on PATH");
	else if (rc == -2)
		*why = xasprintf("npm did not answer within %d s", NET_TIMEOUT_S);
	else if (rc < 0)
		*why = xstrdup("npm could not be started");
	else if (rc != 0)
		*why = npm_reason(err);
	else {
		trim(out);
		if (is_version(out))
			v = xstrdup(out);
		else
			*why = xasprintf("npm answered '%.60s', not a version", out);
	}
	free(out);
	free(err);
	return v;
}

static const char *
registry_name(void)
{
	const char *r = getenv("npm_config_registry");

	if (r == NULL || *r == '\0')
		r = getenv("NPM_CONFIG_REGISTRY");
	return r && *r ? r : "the registry npm is configured with";
}

static int
take(cJSON **procs, const struct topts *o)
{
	struct ps_query q = { .interval_s = 0, .redact = 1, .pids = o->pids };
	cJSON *meta = NULL;
	char *error = NULL;

	*procs = cJSON_CreateArray();
	ps_run(&q, *procs, &meta, &error);
	cJSON_Delete(meta);
	if (error && cJSON_GetArraySize(*procs) == 0) {
		msg_warn("%s", error);
		free(error);
		return -1;
	}
	free(error);
	return 0;
}

int
do_check_version(const struct topts *o)
{
	cJSON *procs;
	const cJSON *p;
	char *local, *pub, *why;
	int rc = CD_EXIT_OK, outdated;

	if (take(&procs, o) < 0)
		return CD_EXIT_FAIL;
	local = versions_newest_local(procs);
	outdated = versions_mark_outdated(procs, local);
	printf("%sClaude Code versions%s\n", color(C_BOLD), color(C_RESET));
	if (cJSON_GetArraySize(procs) == 0)
		printf("  running:   none\n");
	cJSON_ArrayForEach(p, procs) {
		const char *v = rec_get_str(p, "version");

		printf("  running:   %-10s pid %.0f, %s%s%s%s\n", v ? v : "unknown",
		    rec_get_num(p, "pid", 0), rec_get_str(p, "project") ?
		    rec_get_str(p, "project") : "-", color(C_YELLOW),
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p,
		    "is_outdated")) ? "  OUTDATED" : "", color(C_RESET));
	}
	printf("  installed: %s (newest in ~/.local/share/claude/versions and "
	    "the running installs)\n", local ? local : "none found");
	fflush(stdout);
	pub = npm_latest(&why);
	if (pub == NULL) {
		printf("  published: unknown\n");
		fflush(stdout);
		msg_warn("could not ask %s for the latest %s: %s (offline?)",
		    registry_name(), PACKAGE, why);
		rc = CD_EXIT_FAIL;
	} else {
		printf("  published: %s (%s)\n\n", pub, registry_name());
		if (local && strverscmp(local, pub) < 0) {
			printf("%sUpdate available: %s -> %s%s\n  To upgrade: "
			    "claude-trace --upgrade (runs claude update)\n",
			    color(C_YELLOW), local, pub, color(C_RESET));
			rc = CD_EXIT_FOUND;
		} else if (local) {
			printf("%sUp to date: %s is the latest published.%s\n",
			    color(C_GREEN), local, color(C_RESET));
		}
	}
	if (outdated > 0)
		printf("%d running process%s an older version than %s: restart "
		    "%s to use it.\n", outdated, outdated == 1 ? " runs" :
		    "es run", local, outdated == 1 ? "it" : "them");
	free(local);
	free(pub);
	free(why);
	cJSON_Delete(procs);
	return rc;
}

int
do_upgrade(const struct topts *o)
{
	char *argv[] = { "claude", "update", NULL };
	char *path = stage_find("claude");
	cJSON *procs = NULL;
	pid_t pid;
	int status, err;

	if (path == NULL) {
		msg_warn("claude is not on PATH: install or upgrade with "
		    "'npm install -g %s', or the native installer", PACKAGE);
		return CD_EXIT_FAIL;
	}
	printf("Running Claude Code's updater: %s update\n", path);
	fflush(stdout);
	err = posix_spawn(&pid, path, NULL, NULL, argv, environ);
	if (err != 0) {
		errno = err;
		msg_warnerr("%s", path);
		free(path);
		return CD_EXIT_FAIL;
	}
	free(path);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return CD_EXIT_FAIL;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		msg_warn("the updater failed (%s %d)", WIFEXITED(status) ?
		    "exit status" : "signal", WIFEXITED(status) ?
		    WEXITSTATUS(status) : WTERMSIG(status));
		return CD_EXIT_FAIL;
	}
	if (take(&procs, o) == 0 && cJSON_GetArraySize(procs) > 0)
		printf("Restart the %d running Claude Code session%s to use the "
		    "new version.\n", cJSON_GetArraySize(procs),
		    cJSON_GetArraySize(procs) == 1 ? "" : "s");
	cJSON_Delete(procs);
	return CD_EXIT_OK;
}

static const char *
str_of(const cJSON *doc, const char *name, const char *def)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(doc, name);

	return cJSON_IsString(x) && x->valuestring[0] ? x->valuestring : def;
}

int
do_release_notes(const struct topts *o)
{
	const char *url = getenv("CLAUDE_TRACE_RELEASES_URL");
	char tmo[16];
	char *argv[] = { "curl", "-sS", "-L", "--max-time", tmo, "-H",
		"Accept: application/vnd.github+json", "-H",
		"User-Agent: claude-trace", NULL, NULL };
	char *out, *err;
	cJSON *doc;
	int rc;

	(void)o;
	if (url == NULL || *url == '\0')
		url = RELEASES_URL;
	argv[9] = (char *)url;
	snprintf(tmo, sizeof(tmo), "%d", NET_TIMEOUT_S - 5);
	rc = run_captured(argv, &out, &err);
	if (rc == -1) {
		msg_warn("curl was not found: the release notes are at "
		    "https://github.com/anthropics/claude-code/releases");
		return CD_EXIT_FAIL;
	}
	if (rc != 0) {
		if (err)
			trim(err);
		msg_warn("could not fetch the release notes from %s: %s "
		    "(offline?)", url, rc == -2 ? "no answer" : err && *err ?
		    err : "curl failed");
		free(out);
		free(err);
		return CD_EXIT_FAIL;
	}
	doc = cJSON_Parse(out);
	if (str_of(doc, "tag_name", NULL) == NULL) {
		msg_warn("%s did not give release notes: %s", url,
		    str_of(doc, "message", doc ? "no tag_name" : "not JSON"));
		cJSON_Delete(doc);
		free(out);
		free(err);
		return CD_EXIT_FAIL;
	}
	printf("%sClaude Code %s%s  (%.10s)\n%s\n\n%s\n", color(C_BOLD),
	    str_of(doc, "tag_name", "?"), color(C_RESET),
	    str_of(doc, "published_at", "unknown"), str_of(doc, "html_url", ""),
	    str_of(doc, "body", "No release notes given."));
	cJSON_Delete(doc);
	free(out);
	free(err);
	return CD_EXIT_OK;
}
