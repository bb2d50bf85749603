/*
 * JavaScriptCore frames named from the target's own stack and heap
 * (common/collect/jsc_frames.h): which targets get it, naming a sample's frames,
 * --jsc-check (each name against the jitdump's) and --learn-jsc-layout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/perf_event.h>

#include <fcntl.h>

#include "jitdump.h"
#include "jsc_frames.h"
#include "msg.h"
#include "procmem.h"
#include "record.h"
#include "sample.h"
#include "v8_frames.h"

#define CHECK_EXAMPLES 10

static void
add_example(struct jscproc *j, const char *want, const char *got, size_t depth)
{
	if (j->nexamples < CHECK_EXAMPLES)
		j->examples[j->nexamples++] = xasprintf("frame %zu from the leaf: jitdump %s, "
		    "stack %s", depth, want, got);
}

/*
 * Look at target p before sampling: a JSC binary whose layout is known
 * gets a walker. Returns 1 when its samples need stack copies.
 */
int
jsc_attach(struct capture *c, struct proc *p)
{
	char exe[64], *cache;
	struct jscproc *j;
	struct jsc_layout l;
	uint64_t *code = NULL;
	long ncode;

#if !defined(__x86_64__)
	/* the registers asked for and the frame layout are x86-64's */
	(void)c;
	(void)p;
	(void)exe;
	(void)cache;
	(void)j;
	(void)l;
	(void)code;
	(void)ncode;
	return 0;
#endif
	if (!c->o->jsc_frames || p->jsc != NULL)
		return p->jsc != NULL && (p->jsc->w != NULL || p->jsc->learner != NULL ||
		    p->jsc->v8 != NULL);
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)p->pid);
	j = xcalloc(1, sizeof(*j));
	j->pid = p->pid;
	if (jsc_binary(exe, j->build_id, sizeof(j->build_id)) != 1) {
		free(j);
		return v8_attach(c, p);
	}
	p->jsc = j;
	cache = jsc_layout_cache_path();
	if (jsc_layout_find(j->build_id, cache, &l) == 0) {
		j->layout_from = l.note;
		j->w = jsc_walker_new(&l, procmem_read_cb, &j->pid);
		if ((ncode = procmem_code_ranges(p->pid, &code)) > 0)
			jsc_walker_set_code(j->w, code, (size_t)ncode);
		free(code);
	}
	free(cache);
	if (c->o->jsc_learn)
		j->learner = jsc_learner_new(procmem_read_cb, &j->pid);
	return j->w != NULL || j->learner != NULL;
}

void
jsc_compare(struct jscproc *j, const char *want, const char *got, size_t depth)
{
	j->compared++;
	j->leaf_compared += depth == 0;
	if (strcmp(want, got) == 0) {
		j->agree++;
		return;
	}
	j->differ++;
	j->leaf_differ += depth == 0;
	add_example(j, want, got, depth);
}

/*
 * --jsc-check's ground truth: the jitdump read up to now, the load that
 * held addr at ns (the symbolizer's binding may predate a reuse of that
 * memory whose load record it had not read yet). 1 when a JS function's.
 */
static int
fresh_jitdump_name(struct jscproc *j, struct symbolizer *sym, uint64_t addr, uint64_t ns,
    char *buf, size_t len)
{
	const struct jd_load *l;
	struct sym_stats st;
	int fd;

	if (j->jd == NULL) {
		sym_get_stats(sym, &st);
		if (st.jitdump == NULL || (fd = open(st.jitdump, O_RDONLY | O_CLOEXEC)) < 0 ||
		    (j->jd = jd_open_fd(fd)) == NULL)
			return 0;
	}
	if (j->jd_ns < ns) {
		jd_update(j->jd);
		j->jd_ns = ns;
	}
	if ((l = jd_lookup(j->jd, addr, jd_arch_clock(j->jd) ? UINT64_MAX : ns)) == NULL ||
	    !jd_frame_name(l->name, buf, len))
		return 0;
	jsc_plain_name(buf, buf, len);
	if (buf[0] == '\0')
		snprintf(buf, len, "(anonymous)");
	return 1;
}

/* The name a jitdump gives token ip, when it is a JS function's, into buf. */
static int
jitdump_js_name(struct symbolizer *sym, uint64_t ip, char *buf, size_t len)
{
	enum sym_kind k;
	const char *name = sym_frame(sym, ip, 0, &k);
	size_t n = strlen(name);

	if (k != SYM_JITDUMP || strncmp(name, "JSC-", 4) == 0 || n < 4 ||
	    strcmp(name + n - 4, "_[j]") != 0)
		return 0;
	snprintf(buf, len, "%.*s", (int)(n - 4), name);
	jsc_plain_name(buf, buf, len);
	if (buf[0] == '\0')
		snprintf(buf, len, "(anonymous)");
	return 1;
}

size_t
js_user_chain(const uint64_t *chain, size_t nr, size_t *first, uint64_t *pcs)
{
	size_t u = 0, n;

	while (u < nr && chain[u] != (uint64_t)PERF_CONTEXT_USER)
		u++;
	if (u == nr)
		return 0;
	u++;
	for (n = 0; u + n < nr && n < MAX_FRAMES && chain[u + n] < (uint64_t)PERF_CONTEXT_MAX; n++)
		pcs[n] = chain[u + n];
	*first = u;
	return n;
}

/* Learning: frames the jitdump names give (CodeBlock, name) pairs. */
static void
learn_sample(struct jscproc *j, struct symbolizer *sym, const struct js_sample *s,
    const uint64_t *pcs, const uint64_t *kips, size_t n)
{
	uint64_t cbs[MAX_FRAMES], callees[MAX_FRAMES];
	size_t nh = jsc_headers(s, procmem_read_cb, &j->pid, pcs, n, cbs, callees);
	char name[600];

	/* the innermost frame may be mid-prologue: never a pair */
	for (size_t i = 1; i < nh; i++) {
		struct jsc_pair pr;

		if (!sym_is_token(kips[i]) || !jitdump_js_name(sym, kips[i], name, sizeof(name)))
			continue;
		pr.cb = cbs[i];
		pr.callee = callees[i];
		pr.name = strcmp(name, "(anonymous)") == 0 ? "" : name;
		jsc_learner_add(j->learner, &pr);
		j->pairs++;
	}
}

/*
 * Name the user frames of one perf sample, in place: kips is the sample's
 * callchain after sym_stamp (jitdump-bound addresses are tokens already),
 * chain the same as the kernel gave it. A frame the jitdump named keeps
 * that name (it has the "#hash"); --jsc-check compares the two.
 */
void
jsc_sample(struct capture *c, struct proc *p, const struct js_sample *s,
    const uint64_t *chain, uint64_t *kips, size_t nr, uint64_t ns)
{
	struct jscproc *j = p->jsc;
	const char *names[MAX_FRAMES];
	uint64_t pcs[MAX_FRAMES];
	size_t u, n;
	char want[600];

	j->samples++;
	if (p->sym == NULL || (n = js_user_chain(chain, nr, &u, pcs)) == 0)
		return;
	j->with_stack++;
	if (j->learner != NULL)
		learn_sample(j, p->sym, s, pcs, kips + u, n);
	if (j->w == NULL || jsc_walk(j->w, s, pcs, n, names) == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t *k = &kips[u + i];

		enum sym_kind kind;

		if (names[i] == NULL)
			continue;
		if (!sym_is_token(*k)) {
			/*
			 * Only JSC's own code runs JS: a native function's frame
			 * may hold a stale CodeBlock where a header would be.
			 */
			sym_frame(p->sym, pcs[i], i ? SYM_F_RETADDR : 0, &kind);
			if (kind != SYM_REGION) {
				j->native_skipped++;
				continue;
			}
			j->named++;
			*k = sym_js_token(p->sym, names[i]);
			continue;
		}
		j->named++;
		j->both++;
		if (!c->o->jsc_check || !fresh_jitdump_name(j, p->sym, i ? pcs[i] - 1 : pcs[i], ns,
		    want, sizeof(want)))
			continue;
		jsc_compare(j, want, names[i], i);
	}
}

/* --learn-jsc-layout at the end: the layout found, saved to the cache. 0 or -1. */
static int
learn_finish(struct jscproc *j, cJSON *o)
{
	struct jsc_learned r;
	char line[256], *cache;
	int ok = jsc_learner_result(j->learner, 50, &r) == 0;

	snprintf(r.l.build_id, sizeof(r.l.build_id), "%s", j->build_id);
	rec_add_num(o, "learn_pairs", (double)j->pairs);
	rec_add_num(o, "learn_searched", (double)r.tried);
	rec_add_num(o, "learn_agree", (double)r.agree);
	rec_add_num(o, "learn_differ", (double)r.differ);
	rec_add_num(o, "learn_unnamed", (double)r.unnamed);
	if (r.agree + r.differ > 0) {
		jsc_layout_format(&r.l, line, sizeof(line));
		rec_add_str(o, "learned_layout", line);
	}
	if (!ok) {
		rec_add_str(o, "learn_error", j->pairs == 0 ?
		    "no frame named by a jitdump: start the target with cd-launch" :
		    "no layout reproduced the jitdump's names (sample longer, during a busy turn)");
		msg_warn("pid %d: no JavaScriptCore layout learned (%lu jitdump-named frames)",
		    (int)j->pid, j->pairs);
		return -1;
	}
	if ((cache = jsc_layout_cache_path()) == NULL || jsc_layout_save(cache, &r.l) != 0) {
		msg_warn("pid %d: layout learned but not saved%s%s", (int)j->pid,
		    cache ? " to " : " (no HOME)", cache ? cache : "");
		rec_add_str(o, "learn_error", "not saved to the per-user cache");
		free(cache);
		return -1;
	} else {
		rec_add_str(o, "learn_saved", cache);
		msg_warn("pid %d: JavaScriptCore layout learned (%lu of %lu frames agree), "
		    "saved to %s: %s", (int)j->pid, r.agree, r.agree + r.differ + r.unnamed,
		    cache, line);
	}
	free(cache);
	return 0;
}

/*
 * meta.jsc_frames: per JSC target, how its stack was read; the hint when a
 * build's layout is unknown. Returns -1 when --learn-jsc-layout learned
 * nothing (for no target or for one of them).
 */
int
jsc_meta(cJSON *m, struct capture *c)
{
	struct proc *p;
	cJSON *arr = cJSON_AddArrayToObject(m, "jsc_frames");
	const char *unknown_id = NULL;
	int learned = 0, failed = 0;

	for (size_t i = 0; (p = cap_next_proc(c, &i)) != NULL;) {
		struct jscproc *j;
		cJSON *o, *ex;

		if ((j = p->jsc) == NULL)
			continue;
		o = cJSON_CreateObject();
		rec_add_num(o, "pid", p->pid);
		rec_add_str(o, "engine", j->v8 ? "v8" : "jsc");
		rec_add_str(o, "build_id", j->build_id);
		if (j->layout_from)
			rec_add_str(o, "layout", j->layout_from);
		else
			cJSON_AddNullToObject(o, "layout");
		if (j->layout_from == NULL && unknown_id == NULL)
			unknown_id = j->build_id;
		rec_add_num(o, "samples_with_stack", (double)j->with_stack);
		rec_add_num(o, "frames_named", (double)j->named);
		if (j->v8 == NULL)
			rec_add_num(o, "frames_also_in_jitdump", (double)j->both);
		else
			v8_meta(o, j, c->o->jsc_check);
		rec_add_num(o, "native_frames_skipped", (double)j->native_skipped);
		if (j->w != NULL) {
			const struct jsc_stats *st = jsc_walker_stats(j->w);

			rec_add_num(o, "frames_looked_at", (double)st->frames);
			rec_add_num(o, "not_js", (double)st->not_js);
			rec_add_num(o, "off_chain", (double)st->no_header);
			rec_add_num(o, "bad_name", (double)st->bad_name);
			rec_add_num(o, "leaf_skipped", (double)st->leaf_skipped);
		}
		if (c->o->jsc_check) {
			rec_add_num(o, "check_compared", (double)j->compared);
			rec_add_num(o, "check_agree", (double)j->agree);
			rec_add_num(o, "check_differ", (double)j->differ);
			rec_add_num(o, "check_innermost_compared", (double)j->leaf_compared);
			rec_add_num(o, "check_innermost_differ", (double)j->leaf_differ);
			ex = cJSON_AddArrayToObject(o, "check_differ_examples");
			for (size_t k = 0; k < j->nexamples; k++)
				cJSON_AddItemToArray(ex, cJSON_CreateString(j->examples[k]));
		}
		if (j->learner != NULL && learn_finish(j, o) == 0)
			learned++;
		else if (j->learner != NULL)
			failed++;
		cJSON_AddItemToArray(arr, o);
	}
	if (unknown_id != NULL && !c->o->jsc_learn) {
		char *h = xasprintf("its JavaScript could be named from its stack, but this "
		    "JavaScriptCore build (%s) has no known layout: learn it once, starting it "
		    "with `cd-launch claude`, then `cd-sample --learn-jsc-layout --pid PID` "
		    "during a busy turn", unknown_id);

		rec_add_str(m, "jsc_frames_hint", h);
		free(h);
	}
	if (c->o->jsc_learn && learned == 0 && failed == 0)
		msg_warn("--learn-jsc-layout: no target is a JavaScriptCore binary");
	return c->o->jsc_learn && (failed > 0 || learned == 0) ? -1 : 0;
}

int
jsc_named_any(const struct proc *p)
{
	return p->jsc != NULL && p->jsc->named > 0;
}

void
jsc_free(struct jscproc *j)
{
	if (j == NULL)
		return;
	jsc_walker_free(j->w);
	v8_walker_free(j->v8);
	jsc_learner_free(j->learner);
	jd_close(j->jd);
	for (size_t k = 0; k < j->nexamples; k++)
		free(j->examples[k]);
	free(j);
}
