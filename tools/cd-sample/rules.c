#include <stdlib.h>
#include <string.h>

#include "rules.h"

/*
 * Frame patterns are substrings, so they match demangled C++ names,
 * kernel frames (name_[k]) and JIT frames (name_[j]) alike. Thread
 * patterns are prefixes of the thread name (the real Claude Code names
 * its threads HeapHelper, JITWorker, fs.watch, HTTP Client, Bun Pool N).
 *
 * The native Claude Code is Bun, so JavaScriptCore: its binary keeps no
 * JSC symbols, so its GC shows by thread (HeapHelper: the parallel
 * marking helpers), its regular expressions by the jitdump's
 * "JSC-YarrJIT: /pattern/" code, its interpreter as [JS interpreter].
 * Frame patterns for JSC's C++ names match builds that keep symbols.
 * A remedy naming a runtime's flag has a JSC variant (remedy_jsc) used
 * when the samples show a JSC process: no Node flag for Bun.
 */
const struct rule rules[] = {
	{
		.code = "gc_pressure",
		.title = "GC pressure",
		.what = "garbage collection",
		.frames_any = { "v8::internal::Scavenger", "v8::internal::MarkCompact",
		    "v8::internal::ConcurrentMarking", "v8::internal::Sweeper",
		    "v8::internal::Heap::CollectGarbage", "v8::internal::Heap::Scavenge",
		    "v8::internal::MinorMarkCompact", "v8::internal::MarkingVisitor",
		    "v8::internal::ScavengerCollector", "JSC::Heap::", "JSC::MarkedSpace",
		    "JSC::SlotVisitor", "JSC::MarkedBlock", "JSC::IsoCellSet", "Bun__gc",
		    "JSC::GCActivityCallback", "JSC::MarkingConstraint", "JSC::Subspace" },
		.threads = { "HeapHelper", "Heap Helper", "JSC Heap" },
		.warn_pct = 10, .crit_pct = 30,
		.remedy = "The heap is churning: look for allocation in hot loops "
		    "(large strings, arrays rebuilt per event, unbounded caches), "
		    "and check memory growth over time; a long-running session may "
		    "need a restart, or a larger --max-old-space-size if the heap "
		    "is simply too small.",
		.remedy_jsc = "The heap is churning (JavaScriptCore's HeapHelper "
		    "threads mark in parallel while the main thread waits): look for "
		    "allocation in hot loops (large strings, arrays rebuilt per "
		    "event, transcripts or caches kept whole), and check memory "
		    "growth over time with cd-ps; JSC sizes its heap itself (no heap "
		    "flag to raise), so a session that keeps growing needs a restart "
		    "or /compact.",
	},
	{
		.code = "event_loop_spin",
		.title = "Event loop spinning",
		.what = "the event loop polling without waiting",
		.frames_leaf = { "uv__io_poll", "uv_run", "epoll_wait", "epoll_pwait",
		    "do_epoll_wait", "ep_poll", "uv__run_timers", "us_loop_run",
		    "kevent", "__x64_sys_epoll" },
		.warn_pct = 20, .crit_pct = 50, .min_cpu_pct = 50, .cpu_only = 1,
		.remedy = "The event loop wakes up constantly with little work each "
		    "time: look for a timer with a 0 ms interval, a socket or pipe "
		    "that stays readable (a closed peer not handled), or a "
		    "setImmediate/nextTick loop.",
	},
	{
		.code = "file_watcher_activity",
		.title = "File watcher activity",
		.what = "file-watching work",
		.frames_any = { "inotify", "uv__inotify", "uv_fs_event", "fsnotify",
		    "FSWatcher", "PathWatcher", "fs.watch", "fanotify" },
		.threads = { "fs.watch", "FSWatcher", "File Watcher" },
		.warn_pct = 5, .crit_pct = 25,
		.remedy = "A watched tree is changing under the process, or too much "
		    "is watched: exclude build output, node_modules and .git from "
		    "watching, and look for a tool writing files in a loop.",
	},
	{
		.code = "crypto_tls",
		.title = "Crypto and TLS work",
		.what = "cryptography and TLS",
		.frames_any = { "SSL_", "ssl3_", "tls1_", "tls13_", "EVP_", "sha256_block",
		    "sha512_block", "aesni_", "gcm_", "ChaCha20", "chacha20_", "bssl::",
		    "BN_mod_exp", "ecp_nistz256", "CRYPTO_", "x25519" },
		.warn_pct = 15, .crit_pct = 40,
		.remedy = "Much time goes to encryption: look for connections "
		    "re-established per request (no keep-alive), repeated TLS "
		    "handshakes after errors, or large hashing work.",
	},
	{
		.code = "dns_lookup",
		.title = "DNS lookups",
		.what = "DNS lookups",
		.frames_any = { "getaddrinfo", "gaih_inet", "__res_context", "res_nquery",
		    "send_dg", "_nss_", "uv__getaddrinfo", "__GI_getaddrinfo" },
		.warn_pct = 5, .crit_pct = 25, .count_idle = 1,
		.remedy = "Name resolution is slow or repeated: check /etc/resolv.conf "
		    "and the DNS server's reachability, and cache lookups (an "
		    "agent that resolves per request retries the same name).",
	},
	{
		.code = "regex_backtracking",
		.title = "Regular-expression backtracking",
		.what = "regular-expression matching",
		.frames_any = { "v8::internal::RegExp", "v8::internal::IrregexpInterpreter",
		    "RegExpImpl", "RegExp:", "JSC::Yarr", "Yarr::", "JSC-YarrJIT",
		    "pcre2_match", "pcre_exec", "re_search_internal", "onig_search",
		    "regexec" },
		.warn_pct = 10, .crit_pct = 30,
		.remedy = "A regular expression is backtracking heavily on some "
		    "input: look for nested quantifiers such as (a+)+ or .*.* run "
		    "over long lines, and bound the input length.",
		.remedy_jsc = "Regular expressions take the time (JSC's Yarr; the "
		    "evidence shows the pattern): look for nested quantifiers such "
		    "as (a+)+ or .*.* run over long input -- in Claude Code, "
		    "typically markdown or ANSI parsing of a long tool output -- and "
		    "bound the input length.",
	},
	{
		.code = "json_work",
		.title = "JSON parsing and serialising",
		.what = "JSON.parse / JSON.stringify",
		.frames_any = { "JSC::LiteralParser", "JSC::JSONParse", "JSC::Stringifier",
		    "JSC::JSONStringify", "jsonProtoFuncParse", "jsonProtoFuncStringify",
		    "JSONProtoFunc", "v8::internal::JsonParser", "v8::internal::JsonStringifier",
		    "Builtins_JsonParse", "Builtins_JsonStringify", "JsonParse",
		    "JsonStringify", "simdjson" },
		.warn_pct = 10, .crit_pct = 30,
		.remedy = "Much time goes to JSON: look for large documents parsed or "
		    "serialised repeatedly (a whole transcript or settings file "
		    "re-read per event, state cloned through JSON), and parse once "
		    "or stream.",
	},
	{
		.code = "js_interpreted",
		.title = "JavaScript running in the interpreter",
		.what = "JavaScriptCore's interpreter (LLInt)",
		.frames_leaf = { "[JS interpreter]" },
		.warn_pct = 25, .crit_pct = 60, .min_cpu_pct = 20, .cpu_only = 1,
		.remedy = "Much JavaScript runs interpreted, not JIT-compiled: code "
		    "that runs few times each (startup, one-off work over many "
		    "functions) or code that keeps being thrown out of the JIT "
		    "(JSC-DFGOSRExit frames). Interpreted functions are not in the "
		    "jitdump, so their names stay hidden; the JIT-compiled callers "
		    "around them in the flame graph say which work it is.",
	},
	{
		.code = "jit_compilation",
		.title = "JIT compilation",
		.what = "JIT compiler threads",
		.threads = { "JITWorker", "JIT Worklist", "DFG Worklist", "FTL Worklist" },
		.warn_pct = 20, .crit_pct = 50, .cpu_only = 1,
		.remedy = "The JIT keeps compiling: normal for the first seconds of a "
		    "session or a new kind of work; sustained, it means code that "
		    "keeps deoptimising (JSC-DFGOSRExit frames in the main thread) "
		    "or very large generated functions.",
	},
};

const size_t nrules = sizeof(rules) / sizeof(rules[0]);

static const char *const idle_leaf[] = {
	"futex", "__lll_lock_wait", "pthread_cond_", "epoll_wait", "epoll_pwait",
	"poll", "select", "nanosleep", "clock_nanosleep", "sigtimedwait",
	"__libc_read", "do_sys_poll", "schedule", NULL,
};

/* The frames near the leaf: the kernel part and the 3 innermost user frames. */
static size_t
leaf_start(const struct sample *s)
{
	size_t user_end = s->n;

	while (user_end > 0) {
		size_t l = strlen(s->frames[user_end - 1]);

		if (l < 4 || strcmp(s->frames[user_end - 1] + l - 4, "_[k]") != 0)
			break;
		user_end--;
	}
	return user_end > 3 ? user_end - 3 : 0;
}

static int
any_pat(const char *s, const char *const *pats)
{
	for (size_t i = 0; i < RULE_PATS && pats[i]; i++)
		if (strstr(s, pats[i]))
			return 1;
	return 0;
}

int
stack_is_idle(const struct sample *s)
{
	for (size_t i = leaf_start(s); i < s->n; i++)
		for (size_t j = 0; idle_leaf[j]; j++)
			if (strstr(s->frames[i], idle_leaf[j]))
				return 1;
	return 0;
}

/* The frame (or thread name) that makes s match r, or NULL. */
static const char *
match(const struct rule *r, const struct sample *s, int *is_thread)
{
	*is_thread = 0;
	/* Leaf-most first: the evidence then names the deepest cause. */
	for (size_t i = s->n; i-- > 0;)
		if (any_pat(s->frames[i], r->frames_any))
			return s->frames[i];
	for (size_t i = s->n; i-- > leaf_start(s);)
		if (any_pat(s->frames[i], r->frames_leaf))
			return s->frames[i];
	for (size_t i = 0; i < RULE_PATS && r->threads[i]; i++)
		if (s->thread && strncmp(s->thread, r->threads[i], strlen(r->threads[i])) == 0) {
			*is_thread = 1;
			return s->thread;
		}
	return NULL;
}

static void
tally(struct evidence *ev, size_t *nev, size_t cap, const char *name,
    int is_thread, unsigned long count)
{
	size_t i;

	for (i = 0; i < *nev; i++)
		if (ev[i].is_thread == is_thread && strcmp(ev[i].name, name) == 0) {
			ev[i].count += count;
			return;
		}
	if (*nev == cap)
		return;
	ev[*nev].name = name;
	ev[*nev].is_thread = is_thread;
	ev[*nev].count = count;
	(*nev)++;
}

static int
ev_cmp(const void *a, const void *b)
{
	const struct evidence *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static int
diag_cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	int cx = strcmp(x->severity, "critical") == 0;
	int cy = strcmp(y->severity, "critical") == 0;

	if (cx != cy)
		return cy - cx;
	return x->share_pct < y->share_pct ? 1 : x->share_pct > y->share_pct ? -1 : 0;
}

size_t
rules_eval(const struct sample *v, size_t n, int pid, double cpu_pct,
    int wall, struct diag *out, size_t max)
{
	unsigned long total = 0;
	size_t nout = 0;
	int jsc;

	for (size_t i = 0; i < n; i++)
		if (v[i].pid == pid)
			total += v[i].count;
	if (total == 0)
		return 0;
	for (size_t r = 0; r < nrules && nout < max; r++) {
		const struct rule *rule = &rules[r];
		struct evidence ev[64];
		size_t nev = 0;
		unsigned long matched = 0;
		double share;

		if (wall && rule->cpu_only)
			continue;
		if (rule->min_cpu_pct > 0 && cpu_pct >= 0 && cpu_pct < rule->min_cpu_pct)
			continue;
		for (size_t i = 0; i < n; i++) {
			const char *m;
			int is_thread;

			if (v[i].pid != pid)
				continue;
			if (wall && !rule->count_idle && stack_is_idle(&v[i]))
				continue;
			if ((m = match(rule, &v[i], &is_thread)) == NULL)
				continue;
			matched += v[i].count;
			tally(ev, &nev, 64, m, is_thread, v[i].count);
		}
		share = 100.0 * (double)matched / (double)total;
		if (matched == 0 || share < rule->warn_pct)
			continue;
		struct diag *d = &out[nout++];
		memset(d, 0, sizeof(*d));
		d->rule = rule;
		d->pid = pid;
		d->severity = share >= rule->crit_pct ? "critical" : "warning";
		d->matched = matched;
		d->total = total;
		d->share_pct = share;
		d->cpu_pct = cpu_pct;
		qsort(ev, nev, sizeof(ev[0]), ev_cmp);
		d->nev = nev < RULE_EVIDENCE ? nev : RULE_EVIDENCE;
		memcpy(d->ev, ev, d->nev * sizeof(ev[0]));
	}
	qsort(out, nout, sizeof(*out), diag_cmp);
	jsc = samples_are_jsc(v, n, pid);
	for (size_t i = 0; i < nout; i++)
		out[i].remedy = jsc && out[i].rule->remedy_jsc ? out[i].rule->remedy_jsc :
		    out[i].rule->remedy;
	return nout;
}

/*
 * A JavaScriptCore process (Bun): its threads (HeapHelper, JITWorker,
 * Bun Pool N) or frames ([JS interpreter], jitdump "JSC-" names, JSC::)
 * say so. Records read back by --analyze carry no more than this.
 */
int
samples_are_jsc(const struct sample *v, size_t n, int pid)
{
	static const char *const threads[] = { "HeapHelper", "JITWorker", "Bun Pool",
		"JSC ", NULL };

	for (size_t i = 0; i < n; i++) {
		if (v[i].pid != pid)
			continue;
		for (size_t t = 0; threads[t]; t++)
			if (v[i].thread && strncmp(v[i].thread, threads[t], strlen(threads[t])) == 0)
				return 1;
		for (size_t j = 0; j < v[i].n; j++)
			if (strcmp(v[i].frames[j], "[JS interpreter]") == 0 ||
			    strncmp(v[i].frames[j], "JSC-", 4) == 0 ||
			    strncmp(v[i].frames[j], "JSC::", 5) == 0)
				return 1;
	}
	return 0;
}
