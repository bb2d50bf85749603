/*
 * V8 (Node.js) frames named from the target's own stack and heap
 * (common/collect/v8_frames.h): which targets get it, naming a sample's frames,
 * and --js-check, each name against a --perf-basic-prof map's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "js_util.h"
#include "msg.h"
#include "procmem.h"
#include "record.h"
#include "sample.h"
#include "v8_frames.h"

/*
 * Look at target p before sampling: a node binary exporting its layout
 * gets a walker. Returns 1 when its samples need stack copies.
 */
int
v8_attach(struct capture *c, struct proc *p)
{
	char exe[64];
	struct v8_layout l;
	struct jscproc *j;
	uint64_t *code = NULL;
	long ncode;

	(void)c;
#if !defined(__x86_64__)
	/* the registers asked for and the frame layout are x86-64's */
	(void)p;
	(void)exe;
	(void)l;
	(void)j;
	(void)code;
	(void)ncode;
	return 0;
#else
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)p->pid);
	if (v8_binary(exe, &l) != 1)
		return 0;
	j = xcalloc(1, sizeof(*j));
	j->pid = p->pid;
	snprintf(j->build_id, sizeof(j->build_id), "%s", l.build_id);
	j->layout_from = "v8dbg_* symbols of the binary";
	j->v8 = v8_walker_new(&l, procmem_read_cb, &j->pid);
	if ((ncode = procmem_code_ranges(p->pid, &code)) > 0)
		v8_walker_set_code(j->v8, code, (size_t)ncode);
	free(code);
	p->jsc = j;
	return 1;
#endif
}

/*
 * Code that runs JavaScript: the JIT's (a region, or unknown to the
 * symbolizer) and the interpreter's and other builtins, which node
 * embeds as Builtins_* symbols. A C++ function called from JavaScript
 * may run on its caller's fp: its frame is never named.
 */
static int
runs_js(enum sym_kind k, const char *name)
{
	return k == SYM_REGION || k == SYM_UNKNOWN || k == SYM_MODOFF ||
	    (k == SYM_NAME && strncmp(name, "Builtins_", 9) == 0);
}

/* --js-check: the perf map's name of a JS frame against the stack's. */
static void
check_frame(struct jscproc *j, const char *map_name, const char *got, size_t depth)
{
	char want[JS_NAME_BUF + 8], plain[JS_NAME_BUF + 8];
	size_t n = strlen(map_name);

	if (n < 4 || strcmp(map_name + n - 4, "_[j]") != 0)
		return;
	snprintf(plain, sizeof(plain), "%.*s", (int)(n - 4), map_name);
	if (!v8_plain_name(plain, want, sizeof(want)))
		return;
	j->map_js++;
	if (got == NULL)
		return;
	jsc_compare(j, want, got, depth);
}

/*
 * The caller a frame-pointer chain skips when the innermost frame is not
 * built: its name goes in after the leaf, when kips has room (cap).
 * Returns the new length.
 */
static size_t
add_skipped_caller(struct jscproc *j, struct proc *p, const struct js_sample *s,
    const uint64_t *pcs, size_t n, uint64_t *kips, size_t nr, size_t u, size_t cap)
{
	const char *name;

	uint64_t ra = 0;
	enum sym_kind k = SYM_UNKNOWN;

	if (nr >= cap || (name = v8_skipped_caller(j->v8, s, pcs, n)) == NULL)
		return nr;
	/*
	 * Its return address is on top of the stack (above the caller's
	 * pushed fp when caught right after the push): a perf map naming
	 * it names the caller, with its script and line.
	 */
	if (s->stack != NULL && s->stack_len >= 16) {
		memcpy(&ra, s->stack, sizeof(ra));
		if (ra == s->bp)
			memcpy(&ra, s->stack + 8, sizeof(ra));
		sym_frame(p->sym, ra, SYM_F_RETADDR, &k);
	}
	memmove(&kips[u + 2], &kips[u + 1], (nr - u - 1) * sizeof(*kips));
	kips[u + 1] = k == SYM_JIT ? ra : sym_js_token(p->sym, name);
	j->named += k != SYM_JIT;
	return nr + 1;
}

/*
 * Name the user frames of one perf sample in place (kips, as the
 * kernel's chain gave them, room for cap). A frame the perf map names
 * keeps that name (it has the script and line). Returns kips' length.
 */
size_t
v8_sample(struct capture *c, struct proc *p, const struct js_sample *s,
    const uint64_t *chain, uint64_t *kips, size_t nr, size_t cap)
{
	struct jscproc *j = p->jsc;
	const char *names[MAX_FRAMES];
	uint64_t pcs[MAX_FRAMES];
	size_t u, n;

	j->samples++;
	if (p->sym == NULL || (n = js_user_chain(chain, nr, &u, pcs)) == 0)
		return nr;
	j->with_stack++;
	v8_walk(j->v8, s, pcs, n, names);
	for (size_t i = 0; i < n; i++) {
		enum sym_kind k;
		const char *sym;

		if (names[i] == NULL && !c->o->jsc_check)
			continue;
		sym = sym_frame(p->sym, pcs[i], i ? SYM_F_RETADDR : 0, &k);
		if (k == SYM_JIT) {
			j->both += names[i] != NULL;
			if (c->o->jsc_check)
				check_frame(j, sym, names[i], i);
			continue;
		}
		if (names[i] == NULL)
			continue;
		if (!runs_js(k, sym)) {
			j->native_skipped++;
			continue;
		}
		j->named++;
		kips[u + i] = sym_js_token(p->sym, names[i]);
	}
	return add_skipped_caller(j, p, s, pcs, n, kips, nr, u, cap);
}

/* meta.jsc_frames[]: a V8 target's part. */
void
v8_meta(cJSON *o, const struct jscproc *j, int check)
{
	const struct v8_stats *st = v8_walker_stats(j->v8);

	rec_add_num(o, "frames_looked_at", (double)st->frames);
	rec_add_num(o, "not_js", (double)st->not_js);
	rec_add_num(o, "off_chain", (double)st->no_header);
	rec_add_num(o, "bad_name", (double)st->bad_name);
	rec_add_num(o, "leaf_skipped", (double)st->leaf_skipped);
	rec_add_num(o, "callers_added", (double)st->callers_added);
	rec_add_num(o, "frames_also_in_perf_map", (double)j->both);
	if (check) {
		rec_add_num(o, "check_perf_map_js_frames", (double)j->map_js);
		rec_add_num(o, "check_named_identically_pct", j->map_js ?
		    (double)(long)(1000.0 * (double)j->agree / (double)j->map_js) / 10 : 0);
	}
}
