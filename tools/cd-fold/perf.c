/*
 * `perf script` text, folded the way FlameGraph's stackcollapse-perf.pl
 * folds it: the same output for the same input and options. The perl
 * script's regular expressions are reproduced as small hand matchers;
 * each says which expression it stands for, since that is the contract.
 */
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "intern.h"
#include "msg.h"

static int
sp(char c)
{
	/* perl's \s */
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int
dig(char c)
{
	return c >= '0' && c <= '9';
}

static int
word(char c)
{
	return dig(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
hexlow(char c)
{
	return dig(c) || (c >= 'a' && c <= 'f');
}

/*
 * memmem for the short needles and haystacks of one frame: glibc's set-up
 * cost dominated the profile.
 */
static const char *
find(const char *s, size_t n, const char *needle, size_t k)
{
	const char *end = s + n, *p = s;

	if (k == 0 || n < k)
		return NULL;
	while ((p = memchr(p, needle[0], (size_t)(end - p) - (k - 1))) != NULL) {
		if (memcmp(p + 1, needle + 1, k - 1) == 0)
			return p;
		if (++p > end - k)
			break;
	}
	return NULL;
}

static int
has(const char *s, size_t n, const char *needle)
{
	return find(s, n, needle, strlen(needle)) != NULL;
}

struct span {
	const char *s;
	size_t n;
};

/* perl: m{^(\S.+?)\s+(\d+)\/[*](\d+)*\s+} (with \/[*] meaning any slashes) */
static int
match_event(const char *l, size_t n, struct span *comm, struct span *pid,
    struct span *tid)
{
	if (n == 0 || sp(l[0]))
		return 0;
	for (size_t i = 2; i < n; i++) {
		size_t j = i, d;

		if (!sp(l[i]))
			continue;
		while (j < n && sp(l[j]))
			j++;
		d = j;
		while (j < n && dig(l[j]))
			j++;
		if (j == d)
			continue;
		*pid = (struct span){ l + d, j - d };
		while (j < n && l[j] == '/')
			j++;
		d = j;
		while (j < n && dig(l[j]))
			j++;
		*tid = (struct span){ l + d, j - d };
		if (j < n && sp(l[j])) {
			*comm = (struct span){ l, i };
			return 1;
		}
	}
	return 0;
}

/* /:\s*(\d+)*\s+(\S+):\s*$/ */
static int
match_period(const char *l, size_t n, struct span *period, struct span *event)
{
	size_t e = n, s, k, i;

	while (e > 0 && sp(l[e - 1]))
		e--;
	s = e;
	while (s > 0 && !sp(l[s - 1]))
		s--;
	if (e - s < 2 || l[e - 1] != ':' || s == 0)
		return 0;
	k = s;
	while (k > 0 && (sp(l[k - 1]) || dig(l[k - 1])))
		k--;
	if (k == 0 || l[k - 1] != ':')
		return 0;
	i = k;
	while (i < s && sp(l[i]))
		i++;
	*period = (struct span){ l + i, 0 };
	while (i < s && dig(l[i]))
		i++;
	period->n = (size_t)(l + i - period->s);
	for (; i < s; i++)
		if (!sp(l[i]))
			return 0;
	*event = (struct span){ l + s, e - 1 - s };
	return 1;
}

/* /^\s*(\w+)\s*(.+) \((.*)\)/ with perl's greedy backtracking */
static int
match_frame(const char *l, size_t n, struct span *pc, struct span *func,
    struct span *mod)
{
	size_t w0 = 0, w1, r, k = 0, p;
	const char *rp;
	int found = 0;

	while (w0 < n && sp(l[w0]))
		w0++;
	w1 = w0;
	while (w1 < n && word(l[w1]))
		w1++;
	if (w1 == w0)
		return 0;
	rp = memrchr(l, ')', n);
	if (rp == NULL)
		return 0;
	p = (size_t)(rp - l);
	/* the last " (" with the closing paren at or after it + 2 */
	for (size_t i = p >= 2 ? p - 2 + 1 : 0; i-- > 0;) {
		if (l[i] == ' ' && l[i + 1] == '(') {
			k = i;
			found = 1;
			break;
		}
	}
	if (!found || k < w0 + 2)
		return 0;
	if (w1 <= k - 1) {
		size_t ws = w1;

		while (ws < n && sp(l[ws]))
			ws++;
		r = ws < k - 1 ? ws : k - 1;
		*pc = (struct span){ l + w0, w1 - w0 };
	} else {
		r = k - 1;
		*pc = (struct span){ l + w0, r - w0 };
	}
	*func = (struct span){ l + r, k - r };
	*mod = (struct span){ l + k + 2, p - (k + 2) };
	return 1;
}

static void
set_pname(struct fold *f, struct span comm, struct span pid, struct span tid)
{
	struct perf_state *ps = &f->perf;
	size_t need = comm.n + pid.n + tid.n + 8, o;
	int tid_false = tid.n == 0 || (tid.n == 1 && tid.s[0] == '0');

	if (need > ps->pname_cap) {
		ps->pname_cap = need * 2;
		ps->pname = xrealloc(ps->pname, ps->pname_cap);
	}
	/* perl: ($pid, $tid) = ("?", $pid) unless $tid, and "0" is false */
	if (tid_false) {
		tid = pid;
		pid = (struct span){ "?", 1 };
	}
	memcpy(ps->pname, comm.s, comm.n);
	o = comm.n;
	if (f->o.tid || f->o.pid) {
		ps->pname[o++] = '-';
		memcpy(ps->pname + o, pid.s, pid.n);
		o += pid.n;
	}
	if (f->o.tid) {
		ps->pname[o++] = '/';
		memcpy(ps->pname + o, tid.s, tid.n);
		o += tid.n;
	}
	for (size_t i = 0; i < o; i++)
		if (ps->pname[i] == ' ')
			ps->pname[i] = '_';
	ps->pname_len = o;
	ps->have_pname = 1;
	/*
	 * stackcollapse-perf.pl tidies Java names only when the process
	 * name is exactly "java": not once --pid or --tid appended "-PID".
	 */
	ps->java = o == 4 && memcmp(ps->pname, "java", 4) == 0;
}

static uint64_t
parse_period(struct span p)
{
	uint64_t v = 0;

	for (size_t i = 0; i < p.n; i++) {
		unsigned d = (unsigned)(p.s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return UINT64_MAX;
		v = v * 10 + d;
	}
	return v ? v : 1;	/* perl: $period = 1 if not $period */
}

static void
event_line(struct fold *f, const char *l, size_t n, struct span comm,
    struct span pid, struct span tid)
{
	struct perf_state *ps = &f->perf;
	struct span period = { NULL, 0 }, event;

	if (match_period(l, n, &period, &event)) {
		if (ps->event == NULL) {
			/* Only the first event type: mixing cycles and
			 * instructions would mislead. */
			ps->event = xmalloc(event.n + 1);
			memcpy(ps->event, event.s, event.n);
			ps->event[event.n] = '\0';
			ps->event_defaulted = 1;
		} else if (strlen(ps->event) != event.n ||
		    memcmp(ps->event, event.s, event.n) != 0) {
			if (ps->event_defaulted && !ps->event_warned && !f->o.quiet)
				msg_warn("%s: filtering for events of type: %s",
				    f->name, ps->event);
			ps->event_warned = 1;
			return;
		}
	}
	ps->period = parse_period(period);
	set_pname(f, comm, pid, tid);
}

static int
is_kernel_mod(struct span mod)
{
	return mod.n > 0 && (mod.s[0] == '[' ||
	    (mod.n >= 7 && memcmp(mod.s + mod.n - 7, "vmlinux", 7) == 0)) &&
	    !has(mod.s, mod.n, "unknown");
}

/* m:/tmp/perf-\d+\.map: */
static int
is_jit_mod(struct span mod)
{
	const char *p = mod.s, *end = mod.s + mod.n;

	while ((p = find(p, (size_t)(end - p), "/tmp/perf-", 10)) != NULL) {
		const char *d = p + 10, *q = d;

		while (q < end && dig(*q))
			q++;
		if (q > d && end - q >= 4 && memcmp(q, ".map", 4) == 0)
			return 1;
		p++;
	}
	return 0;
}

/* Tidy one "->"-separated part and intern it. */
static uint32_t
tidy_part(struct fold *f, struct span part, struct span pc, struct span mod,
    int inlined)
{
	char *b = fold_scratch(f, part.n + mod.n + pc.n + 16);
	size_t o = 0, i, a, q;

	if (part.n == 9 && memcmp(part.s, "[unknown]", 9) == 0) {
		struct span m;

		if (!(mod.n == 9 && memcmp(mod.s, "[unknown]", 9) == 0)) {
			const char *slash = memrchr(mod.s, '/', mod.n);

			m = slash ? (struct span){ slash + 1, (size_t)(mod.s + mod.n - slash - 1) } : mod;
		} else {
			m = (struct span){ "unknown", 7 };
		}
		b[o++] = '[';
		memcpy(b + o, m.s, m.n);
		o += m.n;
		if (f->o.addrs) {
			memcpy(b + o, " <", 2);
			o += 2;
			memcpy(b + o, pc.s, pc.n);
			o += pc.n;
			b[o++] = '>';
		}
		b[o++] = ']';
	} else {
		memcpy(b, part.s, part.n);
		o = part.n;
	}
	for (i = 0; i < o; i++)
		if (b[i] == ';')
			b[i] = ':';
	/* Not a Go method ("net/http.(*Client).Do"): drop from the first "(" on. */
	{
		const char *go1 = find(b, o, ".(", 2);
		int go = 0;

		if (go1 != NULL) {
			for (a = o; a >= 2 && !go; a--)
				if (b[a - 2] == ')' && b[a - 1] == '.' &&
				    b + a - 2 >= go1 + 2)
					go = 1;
		}
		if (!go) {
			for (q = 0; q < o; q++) {
				if (b[q] != '(')
					continue;
				if (o - q - 1 >= 20 &&
				    memcmp(b + q + 1, "anonymous namespace)", 20) == 0)
					continue;
				o = q;
				break;
			}
		}
	}
	for (i = a = 0; i < o; i++)
		if (b[i] != '"' && b[i] != '\'')
			b[a++] = b[i];
	o = a;
	if (f->perf.java && o > 0 && b[0] == 'L' && memchr(b, '/', o))
		memmove(b, b + 1, --o);
	if (inlined) {
		if (!has(b, o, "_[i]")) {
			memcpy(b + o, "_[i]", 4);
			o += 4;
		}
	} else if (f->o.annotate_kernel && is_kernel_mod(mod)) {
		memcpy(b + o, "_[k]", 4);
		o += 4;
	} else if (f->o.annotate_jit && is_jit_mod(mod) && !has(b, o, "_[j]")) {
		memcpy(b + o, "_[j]", 4);
		o += 4;
	}
	return intern_id(f->frames, b, o);
}

/* The frame ids of one frame line, in push order (leaf-most first). */
static size_t
frame_line(struct fold *f, struct span pc, struct span func, struct span mod,
    uint32_t out[64])
{
	uint32_t parts[64];
	size_t np = 0, start = 0, last_nonempty = 0, k = 0;
	const char *arrow;

	/* s/\+0x[\da-f]+$// */
	{
		size_t e = func.n;

		while (e > 0 && hexlow(func.s[e - 1]))
			e--;
		if (e < func.n && e >= 3 && memcmp(func.s + e - 3, "+0x", 3) == 0)
			func.n = e - 3;
	}
	if (func.n > 0 && func.s[0] == '(')
		return 0;	/* a process name, not a frame */
	if (f->o.drop_kernel && is_kernel_mod(mod))
		return 0;
	/* split /->/, dropping trailing empty fields as perl does */
	struct span fields[64];
	size_t nf = 0;

	for (;;) {
		size_t rest = func.n - start;

		arrow = rest >= 2 ? find(func.s + start, rest, "->", 2) : NULL;
		if (arrow == NULL || nf == 63) {
			fields[nf++] = (struct span){ func.s + start, rest };
			break;
		}
		fields[nf++] = (struct span){ func.s + start, (size_t)(arrow - (func.s + start)) };
		start = (size_t)(arrow - func.s) + 2;
	}
	for (size_t i = 0; i < nf; i++)
		if (fields[i].n > 0)
			last_nonempty = i + 1;
	nf = last_nonempty;
	for (size_t i = 0; i < nf; i++)
		parts[np++] = tidy_part(f, fields[i], pc, mod, i > 0);
	/* unshift @stack, @inline: pushed reversed, reversed again at the end */
	while (np > 0)
		out[k++] = parts[--np];
	return k;
}

static void
cache_put(struct perf_state *ps, int java, const char *l, size_t n,
    const uint32_t *ids, size_t k)
{
	uint32_t id;

	if (ps->cache[java] == NULL)
		ps->cache[java] = intern_new();
	id = intern_id(ps->cache[java], l, n);
	if (id >= ps->ccap[java]) {
		ps->ccap[java] = ps->ccap[java] ? ps->ccap[java] * 2 : 1024;
		ps->centry[java] = xreallocarray(ps->centry[java], ps->ccap[java],
		    sizeof(*ps->centry[java]));
	}
	while (ps->ncparts + k > ps->capcparts) {
		ps->capcparts = ps->capcparts ? ps->capcparts * 2 : 4096;
		ps->cparts = xreallocarray(ps->cparts, ps->capcparts, sizeof(*ps->cparts));
	}
	if (k > 0)	/* a line with no frames: cparts may still be NULL */
		memcpy(ps->cparts + ps->ncparts, ids, k * sizeof(*ids));
	ps->centry[java][id].off = (uint32_t)ps->ncparts;
	ps->centry[java][id].n = (uint32_t)k;
	ps->ncparts += k;
}

/* Push a frame line's frames from the cache; 0 when it is not there. */
static int
cache_get(struct fold *f, const char *l, size_t n)
{
	struct perf_state *ps = &f->perf;
	int java = ps->java;
	uint32_t id;

	if (ps->cache[java] == NULL)
		return 0;
	id = intern_find(ps->cache[java], l, n);
	if (id == UINT32_MAX)
		return 0;
	for (uint32_t i = 0; i < ps->centry[java][id].n; i++)
		fold_push_id(f, ps->cparts[ps->centry[java][id].off + i]);
	return 1;
}

void
perf_release(struct fold *f)
{
	struct perf_state *ps = &f->perf;

	free(ps->pname);
	free(ps->event);
	for (int i = 0; i < 2; i++) {
		intern_free(ps->cache[i]);
		free(ps->centry[i]);
	}
	free(ps->cparts);
}

static void
end_stack(struct fold *f)
{
	struct perf_state *ps = &f->perf;
	uint32_t root;

	if (!ps->have_pname) {
		f->n = 0;	/* perl keeps @stack here; we start clean */
		return;
	}
	root = intern_id(f->frames, ps->pname, ps->pname_len);
	fold_push_id(f, root);
	/* reverse: leaf-first frames plus the root become root-first */
	for (size_t i = 0, j = f->n - 1; i < j; i++, j--) {
		uint32_t t = f->v[i];

		f->v[i] = f->v[j];
		f->v[j] = t;
	}
	fold_commit(f, ps->period);
	ps->have_pname = 0;
}

void
perf_line(struct fold *f, const char *l, size_t n)
{
	struct span comm, pid, tid, pc, func, mod;

	if (n > 0 && l[0] == '#')
		return;
	if (n == 0) {
		end_stack(f);
		return;
	}
	if (match_event(l, n, &comm, &pid, &tid)) {
		event_line(f, l, n, comm, pid, tid);
		return;
	}
	if (f->perf.have_pname && cache_get(f, l, n))
		return;
	if (match_frame(l, n, &pc, &func, &mod)) {
		uint32_t ids[64];
		size_t k;

		if (!f->perf.have_pname)
			return;
		k = frame_line(f, pc, func, mod, ids);
		for (size_t i = 0; i < k; i++)
			fold_push_id(f, ids[i]);
		cache_put(&f->perf, f->perf.java, l, n, ids, k);
		return;
	}
	fold_bad(f, "unrecognized perf script line; skipped");
}

void
perf_end(struct fold *f)
{
	/* stackcollapse-perf.pl drops a last stack not followed by a blank
	 * line; so do we, for the same output. */
	f->n = 0;
}
