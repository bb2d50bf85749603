/*
 * The call-graph text of macOS sample(1), the kind people attach to bug
 * reports:
 *
 *   Call graph:
 *       825 Thread_15758523   DispatchQueue_1: com.apple.main-thread  (serial)
 *       + 825 start  (in libdyld.dylib) + 1  [0x7fff737cf3d5]
 *       +   825 main  (in rg) + 41  [0x10384b549]
 *
 * Depth is the indentation after four spaces, two characters a level (the
 * characters " +|:!" draw the tree). Frames become "module`function" with
 * .dylib dropped and partly demangled Rust names cleaned, as inferno's
 * collapse-sample writes them. Unlike inferno we keep self time: a
 * node's count less its children's is charged to the node, so the folded
 * total equals what sample saw; --drop-idle removes stacks ending in the
 * well-known blocking calls instead.
 */
#include <string.h>

#include "fold.h"
#include "intern.h"
#include "msg.h"

static const char *idle_leaves[] = {
	"__psynch_cvwait", "__select", "__semwait_signal", "__ulock_wait",
	"__wait4", "__workq_kernreturn", "kevent", "mach_msg_trap", "read",
	"semaphore_wait_trap",
};

static int
indent_char(char c)
{
	return c == ' ' || c == '+' || c == '|' || c == ':' || c == '!';
}

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static int
is_idle(struct fold *f, uint32_t id)
{
	size_t n;
	const char *s = intern_str(f->frames, id, &n);

	for (size_t i = 0; i < sizeof(idle_leaves) / sizeof(idle_leaves[0]); i++)
		if (ends_with(s, n, idle_leaves[i]))
			return 1;
	return 0;
}

/* Charge the top node's self time, then pop it. */
static void
pop(struct fold *f)
{
	struct sample_state *ss = &f->sample;
	struct sample_frame *top = &ss->st[ss->n - 1];
	uint64_t self = top->count > top->children ? top->count - top->children : 0;

	if (self > 0 && !(f->o.drop_idle && is_idle(f, top->id))) {
		f->n = 0;
		for (size_t i = 0; i < ss->n; i++)
			fold_push_id(f, ss->st[i].id);
		fold_commit(f, self);
	}
	ss->n--;
}

static int
hexdigit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static const struct {
	const char *from, *to;
} rust_esc[] = {
	{ "$SP$", "@" }, { "$BP$", "*" }, { "$RF$", "&" }, { "$LT$", "<" },
	{ "$GT$", ">" }, { "$LP$", "(" }, { "$RP$", ")" }, { "$C$", "," },
	{ "$u7e$", "~" }, { "$u20$", " " }, { "$u27$", "'" }, { "$u3d$", "=" },
	{ "$u5b$", "[" }, { "$u5d$", "]" }, { "$u7b$", "{" }, { "$u7d$", "}" },
	{ "$u3b$", ";" }, { "$u2b$", "+" }, { "$u21$", "!" }, { "$u22$", "\"" },
};

/*
 * "rg::main::h6909bd3a32e27a08" -> "rg::main", and the legacy Rust
 * escapes ("_$LT$", "..") undone. Only names ending in a Rust hash are
 * touched. Writes into out (at least n bytes) and returns the length.
 */
static size_t
rust_clean(const char *s, size_t n, char *out)
{
	size_t o = 0, i = 0;

	if (n < 17 || s[n - 17] != 'h') {
		memcpy(out, s, n);
		return n;
	}
	for (size_t j = n - 16; j < n; j++) {
		if (!hexdigit(s[j])) {
			memcpy(out, s, n);
			return n;
		}
	}
	n -= 17;
	if (n >= 2 && s[n - 2] == ':' && s[n - 1] == ':')
		n -= 2;
	if (n >= 2 && s[0] == '_' && s[1] == '$')
		i = 1;
	while (i < n) {
		size_t k;

		if (s[i] == '.') {
			if (i + 1 < n && s[i + 1] == '.') {
				out[o++] = ':';
				out[o++] = ':';
				i += 2;
			} else {
				out[o++] = '.';
				i++;
			}
			continue;
		}
		if (s[i] != '$') {
			out[o++] = s[i++];
			continue;
		}
		for (k = 0; k < sizeof(rust_esc) / sizeof(rust_esc[0]); k++) {
			size_t fl = strlen(rust_esc[k].from);

			if (n - i >= fl && memcmp(s + i, rust_esc[k].from, fl) == 0) {
				out[o++] = rust_esc[k].to[0];
				i += fl;
				break;
			}
		}
		if (k == sizeof(rust_esc) / sizeof(rust_esc[0])) {
			memcpy(out + o, s + i, n - i);
			o += n - i;
			break;
		}
	}
	return o;
}

/* "start  (in libdyld.dylib) + 1  [0x7fff737cf3d5]" -> "libdyld`start" */
static uint32_t
frame_id(struct fold *f, const char *s, size_t n)
{
	const char *paren = memchr(s, '(', n), *in = NULL, *p;
	size_t fn = paren ? (size_t)(paren - s) : n, mn = 0, o = 0;
	char *b = fold_scratch(f, 2 * n + 8);
	const char *mod = NULL;

	/* the last "(in " names the module */
	for (p = s; (p = memmem(p, (size_t)(s + n - p), "(in ", 4)) != NULL; p++)
		in = p;
	if (in) {
		const char *close = memchr(in, ')', (size_t)(s + n - in));

		mod = in + 4;
		mn = close ? (size_t)(close - mod) : (size_t)(s + n - mod);
		if (ends_with(mod, mn, ".dylib"))
			mn -= 6;
	}
	if (fn == 0 && paren) {
		/* a name that is all parentheses: keep it to its "(in " */
		fn = in ? (size_t)(in - s) : n;
	}
	while (fn > 0 && (s[fn - 1] == ' ' || s[fn - 1] == '\t'))
		fn--;
	if (mod && mn > 0) {
		memcpy(b, mod, mn);
		o = mn;
		b[o++] = '`';
	}
	/* runs of blanks become one space; ';' would split the stack */
	{
		char *clean = b + n + 4;
		size_t cn = 0;

		for (size_t i = 0; i < fn; i++) {
			char c = s[i] == ';' ? ':' : s[i];

			if ((c == ' ' || c == '\t') && cn > 0 && clean[cn - 1] == ' ')
				continue;
			clean[cn++] = c == '\t' ? ' ' : c;
		}
		o += rust_clean(clean, cn, b + o);
	}
	return intern_id(f->frames, b, o);
}

static void
node_line(struct fold *f, const char *l, size_t n)
{
	struct sample_state *ss = &f->sample;
	size_t i = 4, depth, cs;
	uint64_t count = 0;

	while (i < n && indent_char(l[i]))
		i++;
	if (i == n) {
		fold_bad(f, "call-graph line with only indentation; skipped");
		return;
	}
	if ((i - 4) % 2 != 0) {
		fold_bad(f, "odd indentation in the call graph; skipped");
		return;
	}
	depth = (i - 4) / 2;
	if (depth > ss->n) {
		fold_bad(f, "call graph skips a level of indentation; skipped");
		return;
	}
	cs = i;
	while (i < n && l[i] >= '0' && l[i] <= '9') {
		unsigned d = (unsigned)(l[i] - '0');

		if (count > (UINT64_MAX - d) / 10) {
			fold_bad(f, "sample count does not fit in 64 bits; skipped");
			return;
		}
		count = count * 10 + d;
		i++;
	}
	if (i == cs || i == n || l[i] != ' ') {
		fold_bad(f, "call-graph line without a sample count; skipped");
		return;
	}
	while (i < n && l[i] == ' ')
		i++;
	if (i == n) {
		fold_bad(f, "call-graph line without a function; skipped");
		return;
	}
	while (ss->n > depth)
		pop(f);
	if (ss->n > 0) {
		struct sample_frame *parent = &ss->st[ss->n - 1];

		if (parent->children + count < parent->children)
			parent->children = UINT64_MAX;
		else
			parent->children += count;
	}
	if (ss->n == ss->cap) {
		ss->cap = ss->cap ? ss->cap * 2 : 64;
		ss->st = xreallocarray(ss->st, ss->cap, sizeof(*ss->st));
	}
	ss->st[ss->n++] = (struct sample_frame){ frame_id(f, l + i, n - i), count, 0 };
}

void
sample_line(struct fold *f, const char *l, size_t n)
{
	struct sample_state *ss = &f->sample;

	while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r'))
		n--;
	if (n >= 11 && memcmp(l, "Call graph:", 11) == 0) {
		while (ss->n > 0)
			pop(f);
		ss->phase = 1;
		ss->seen_graph = 1;
		ss->graph_line = f->lineno;
		return;
	}
	if (ss->phase != 1 || n == 0)
		return;
	if (n >= 4 && memcmp(l, "    ", 4) == 0) {
		node_line(f, l, n);
		return;
	}
	while (ss->n > 0)
		pop(f);
	ss->phase = 2;
	if (!(n >= 21 && memcmp(l, "Total number in stack", 21) == 0))
		fold_bad(f, "call graph ends with a line not indented by four spaces");
}

void
sample_end(struct fold *f)
{
	struct sample_state *ss = &f->sample;

	while (ss->n > 0)
		pop(f);
	f->n = 0;
	if (!ss->seen_graph && f->lineno > 0)
		fold_bad(f, "no \"Call graph:\" section in this sample(1) output");
}
