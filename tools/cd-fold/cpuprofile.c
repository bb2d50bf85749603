/*
 * Chrome .cpuprofile JSON (Node's --cpu-prof, Bun's --cpu-prof, Chrome
 * DevTools' saved profiles, the Profiler.stop result wrapped in
 * {"profile": ...}): a tree of call frames and the node each sample was
 * in. Unlike the line formats it is one JSON document, so lines are
 * gathered and the document is folded at the end.
 *
 * Every node's stack is the path from the root to it. Samples are summed
 * per node first, so a node's stack is built once however many samples
 * land in it. A profile whose shape is wrong (an id that names no node, a
 * node with two parents, a cycle) is refused as a whole: folding part of
 * a tree that does not hold together would give a graph that lies.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fold.h"
#include "intern.h"
#include "msg.h"

/* Integers a double holds exactly: every id beyond is refused. */
#define ID_LIMIT 9007199254740992.0

struct pnode {
	long long id;
	int32_t parent;		/* index, -1 for a root */
	uint32_t frame;		/* frame id, UINT32_MAX: the (root) node, no frame */
	uint8_t state;		/* cycle check: 0 new, 1 on the walk, 2 done */
	double w;		/* samples or microseconds */
};

struct idx {
	long long id;
	int32_t i;
};

struct prof {
	struct fold *f;
	struct pnode *n;
	struct idx *by_id;
	size_t nn;
	unsigned long nsamples;
};

/* Refuse the whole profile: one message, counted as malformed input. */
static void __attribute__((format(printf, 2, 3)))
refuse(struct fold *f, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fold_bad_input(f, "cpuprofile: %s; nothing folded from it", buf);
}

void
cpuprofile_line(struct fold *f, const char *line, size_t len)
{
	struct cpuprof_state *c = &f->cpuprof;

	if (c->too_big)
		return;
	if (len + 1 > CPUPROF_MAX_BYTES - c->len) {
		c->too_big = 1;
		return;
	}
	if (c->len + len + 1 > c->cap) {
		c->cap = (c->len + len + 1) * 2;
		c->buf = xrealloc(c->buf, c->cap);
	}
	memcpy(c->buf + c->len, line, len);
	c->len += len;
	c->buf[c->len++] = '\n';
}

void
cpuprofile_release(struct fold *f)
{
	free(f->cpuprof.buf);
	f->cpuprof.buf = NULL;
	f->cpuprof.len = f->cpuprof.cap = 0;
}

/* A JSON number that is an exact integer id; 0 when it is not one. */
static int
id_of(const cJSON *it, long long *out)
{
	double d;

	if (!cJSON_IsNumber(it))
		return 0;
	d = it->valuedouble;
	if (!isfinite(d) || d != floor(d) || d > ID_LIMIT || d < -ID_LIMIT)
		return 0;
	*out = (long long)d;
	return 1;
}

static int
idx_cmp(const void *a, const void *b)
{
	const struct idx *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int32_t
lookup(const struct prof *p, long long id)
{
	size_t lo = 0, hi = p->nn;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->by_id[mid].id == id)
			return p->by_id[mid].i;
		if (p->by_id[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static const char *
str_of(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/*
 * "(program)", "(garbage collector)", "(idle)", "(root)": the profiler's
 * own pseudo-frames, not JavaScript.
 */
static int
pseudo_frame(const char *name, const char *url)
{
	size_t n = strlen(name);

	return *url == '\0' && n >= 2 && name[0] == '(' && name[n - 1] == ')';
}

/*
 * "function (url:line)", line 1-based (the format's lineNumber is 0-based),
 * as DevTools names frames; an empty name is "(anonymous)". ';' would split
 * the folded frame and control characters would end or garble the line.
 */
static uint32_t
frame_of(struct fold *f, const cJSON *cf)
{
	const char *name = str_of(cf, "functionName"), *url = str_of(cf, "url");
	const cJSON *ln = cJSON_GetObjectItemCaseSensitive(cf, "lineNumber");
	char line[32] = "";
	char *s, *b;
	size_t n;
	uint32_t id;
	int jit;

	if (name == NULL || *name == '\0')
		name = "(anonymous)";
	if (url == NULL)
		url = "";
	jit = f->o.annotate_jit && !pseudo_frame(name, url);
	if (cJSON_IsNumber(ln) && ln->valuedouble >= 0 && ln->valuedouble < 1e15)
		snprintf(line, sizeof(line), ":%.0f", floor(ln->valuedouble) + 1);
	if (*url != '\0')
		s = xasprintf("%s (%s%s)%s", name, url, line, jit ? "_[j]" : "");
	else
		s = xasprintf("%s%s", name, jit ? "_[j]" : "");
	n = strlen(s);
	b = fold_scratch(f, n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		b[i] = c == ';' ? ':' : c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	id = intern_id(f->frames, b, n);
	free(s);
	return id;
}

/* Read nodes: ids, frames, and the id index. -1 after refusing. */
static int
read_nodes(struct prof *p, const cJSON *nodes)
{
	const cJSON *nd;
	size_t i = 0;

	p->nn = (size_t)cJSON_GetArraySize(nodes);
	if (p->nn == 0) {
		refuse(p->f, "\"nodes\" is empty");
		return -1;
	}
	if (p->nn > INT32_MAX) {
		refuse(p->f, "too many nodes");
		return -1;
	}
	p->n = xcalloc(p->nn, sizeof(*p->n));
	p->by_id = xcalloc(p->nn, sizeof(*p->by_id));
	cJSON_ArrayForEach(nd, nodes) {
		const cJSON *cf = cJSON_GetObjectItemCaseSensitive(nd, "callFrame");
		const char *fn;

		if (!cJSON_IsObject(nd) || !cJSON_IsObject(cf)) {
			refuse(p->f, "node %zu is not an object with a \"callFrame\" object", i);
			return -1;
		}
		if (!id_of(cJSON_GetObjectItemCaseSensitive(nd, "id"), &p->n[i].id)) {
			refuse(p->f, "node %zu has no integer \"id\" (below 2^53)", i);
			return -1;
		}
		p->n[i].parent = -1;
		fn = str_of(cf, "functionName");
		p->n[i].frame = fn && strcmp(fn, "(root)") == 0 ? UINT32_MAX : frame_of(p->f, cf);
		p->by_id[i].id = p->n[i].id;
		p->by_id[i].i = (int32_t)i;
		i++;
	}
	qsort(p->by_id, p->nn, sizeof(*p->by_id), idx_cmp);
	for (i = 1; i < p->nn; i++)
		if (p->by_id[i].id == p->by_id[i - 1].id) {
			refuse(p->f, "two nodes have id %lld", p->by_id[i].id);
			return -1;
		}
	return 0;
}

static int
set_parent(struct prof *p, int32_t child, int32_t parent)
{
	if (p->n[child].parent == parent)
		return 0;
	if (p->n[child].parent != -1) {
		refuse(p->f, "node %lld has two parents (%lld and %lld)", p->n[child].id,
		    p->n[p->n[child].parent].id, p->n[parent].id);
		return -1;
	}
	p->n[child].parent = parent;
	return 0;
}

/* Parents from "children" lists (Node, Bun) or "parent" ids (older DevTools). */
static int
link_nodes(struct prof *p, const cJSON *nodes)
{
	const cJSON *nd;
	int32_t i = 0;

	cJSON_ArrayForEach(nd, nodes) {
		const cJSON *kids = cJSON_GetObjectItemCaseSensitive(nd, "children");
		const cJSON *par = cJSON_GetObjectItemCaseSensitive(nd, "parent");
		const cJSON *k;
		long long id;
		int32_t j;

		if (kids != NULL && !cJSON_IsArray(kids)) {
			refuse(p->f, "node %lld: \"children\" is not an array", p->n[i].id);
			return -1;
		}
		cJSON_ArrayForEach(k, kids) {
			if (!id_of(k, &id) || (j = lookup(p, id)) < 0) {
				refuse(p->f, "node %lld: a child is not the id of a node", p->n[i].id);
				return -1;
			}
			if (set_parent(p, j, i) < 0)
				return -1;
		}
		if (par != NULL && !cJSON_IsNull(par)) {
			if (!id_of(par, &id) || (j = lookup(p, id)) < 0) {
				refuse(p->f, "node %lld: \"parent\" is not the id of a node", p->n[i].id);
				return -1;
			}
			if (set_parent(p, i, j) < 0)
				return -1;
		}
		i++;
	}
	return 0;
}

/* Walk every node up to a root; a walk that meets itself is a cycle. */
static int
check_cycles(struct prof *p)
{
	for (size_t i = 0; i < p->nn; i++) {
		int32_t c = (int32_t)i;

		while (c >= 0 && p->n[c].state == 0) {
			p->n[c].state = 1;
			c = p->n[c].parent;
		}
		if (c >= 0 && p->n[c].state == 1) {
			refuse(p->f, "the parent links of node %lld form a cycle", p->n[c].id);
			return -1;
		}
		for (c = (int32_t)i; c >= 0 && p->n[c].state == 1; c = p->n[c].parent)
			p->n[c].state = 2;
	}
	return 0;
}

static int
num_of(const cJSON *o, const char *name, double *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
		return 0;
	*out = it->valuedouble;
	return 1;
}

/*
 * Sample i lasts until sample i+1 (timeDeltas[i+1]), the last one until
 * endTime, as DevTools and speedscope charge it. Negative gaps (Chrome
 * may write samples slightly out of order) count as 0.
 */
static int
weigh_samples(struct prof *p, const cJSON *prof, const cJSON *samples)
{
	const cJSON *deltas = cJSON_GetObjectItemCaseSensitive(prof, "timeDeltas");
	int by_time = p->f->o.weight == WEIGHT_DURATION;
	size_t ns = (size_t)cJSON_GetArraySize(samples), i = 0;
	const cJSON *s, *d = NULL;
	double t = 0, start = 0, end = 0;
	int32_t prev = -1;
	int have_end;

	if (by_time && (!cJSON_IsArray(deltas) || (size_t)cJSON_GetArraySize(deltas) != ns)) {
		refuse(p->f, "weighting by time needs \"timeDeltas\" as long as \"samples\"");
		return -1;
	}
	have_end = num_of(prof, "startTime", &start) && num_of(prof, "endTime", &end);
	if (by_time)
		d = deltas->child;
	cJSON_ArrayForEach(s, samples) {
		long long id;
		int32_t j;

		if (!id_of(s, &id) || (j = lookup(p, id)) < 0) {
			refuse(p->f, "sample %zu is not the id of a node", i);
			return -1;
		}
		if (!by_time) {
			p->n[j].w += 1;
		} else {
			if (!cJSON_IsNumber(d) || !isfinite(d->valuedouble)) {
				refuse(p->f, "timeDeltas[%zu] is not a number", i);
				return -1;
			}
			t += d->valuedouble;
			if (prev >= 0 && d->valuedouble > 0)
				p->n[prev].w += d->valuedouble;
			d = d->next;
		}
		prev = j;
		i++;
	}
	if (by_time && prev >= 0 && have_end && end - start > t)
		p->n[prev].w += end - start - t;
	p->nsamples = i;
	return 0;
}

/* No "samples" (some DevTools exports): each node's hitCount. */
static int
weigh_hits(struct prof *p, const cJSON *nodes)
{
	const cJSON *nd;
	size_t i = 0;

	if (p->f->o.weight == WEIGHT_DURATION) {
		refuse(p->f, "no \"samples\" and \"timeDeltas\": cannot weigh by time");
		return -1;
	}
	cJSON_ArrayForEach(nd, nodes) {
		double h = 0;

		if (num_of(nd, "hitCount", &h) && h > 0) {
			p->n[i].w = h;
			p->nsamples += (unsigned long)fmin(h, 1e15);
		}
		i++;
	}
	return 0;
}

static int
idle_node(const struct prof *p, int32_t i)
{
	size_t len;
	const char *s;

	if (p->n[i].frame == UINT32_MAX)
		return 0;
	s = intern_str(p->f->frames, p->n[i].frame, &len);
	return len == 6 && memcmp(s, "(idle)", 6) == 0;
}

/* One folded stack per node that has weight: root first. */
static void
commit_nodes(struct prof *p)
{
	struct fold *f = p->f;
	int32_t *path = NULL;
	size_t cap = 0;

	for (size_t i = 0; i < p->nn; i++) {
		uint64_t w;
		size_t depth = 0;

		if (!(p->n[i].w >= 0.5) || (f->o.drop_idle && idle_node(p, (int32_t)i)))
			continue;
		w = p->n[i].w >= 18446744073709551616.0 ? UINT64_MAX :
		    (uint64_t)(p->n[i].w + 0.5);
		for (int32_t c = (int32_t)i; c >= 0; c = p->n[c].parent) {
			if (depth == cap) {
				cap = cap ? cap * 2 : 64;
				path = xreallocarray(path, cap, sizeof(*path));
			}
			path[depth++] = c;
		}
		f->n = 0;
		while (depth-- > 0)
			if (p->n[path[depth]].frame != UINT32_MAX)
				fold_push_id(f, p->n[path[depth]].frame);
		if (f->n == 0)
			fold_push(f, "(root)", 6);
		fold_commit(f, w);
	}
	free(path);
}

static void
fold_profile(struct fold *f, const cJSON *doc)
{
	const cJSON *prof = doc, *nodes, *samples;
	struct prof p = { .f = f };

	if (cJSON_IsObject(doc) && !cJSON_HasObjectItem(doc, "nodes") &&
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "profile")))
		prof = cJSON_GetObjectItemCaseSensitive(doc, "profile");
	nodes = cJSON_GetObjectItemCaseSensitive(prof, "nodes");
	if (!cJSON_IsObject(prof) || !cJSON_IsArray(nodes)) {
		refuse(f, "no \"nodes\" array: not a .cpuprofile");
		return;
	}
	samples = cJSON_GetObjectItemCaseSensitive(prof, "samples");
	if (samples != NULL && !cJSON_IsArray(samples)) {
		refuse(f, "\"samples\" is not an array");
		return;
	}
	if (read_nodes(&p, nodes) == 0 && link_nodes(&p, nodes) == 0 &&
	    check_cycles(&p) == 0 &&
	    (samples ? weigh_samples(&p, prof, samples) : weigh_hits(&p, nodes)) == 0) {
		commit_nodes(&p);
		f->cpuprof.nodes += p.nn;
		f->cpuprof.samples += p.nsamples;
	}
	free(p.n);
	free(p.by_id);
}

/*
 * Whether the text ends inside a string or with a bracket open: a cut
 * file, told apart from a broken one (cJSON only says where it stopped).
 */
static int
json_open_at_end(const char *s, size_t len)
{
	size_t depth = 0;
	int in_str = 0;

	for (size_t i = 0; i < len; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"') {
			in_str = 1;
		} else if (s[i] == '{' || s[i] == '[') {
			depth++;
		} else if ((s[i] == '}' || s[i] == ']') && depth > 0) {
			depth--;
		}
	}
	return in_str || depth > 0;
}

void
cpuprofile_fold(struct fold *f, const char *buf, size_t len)
{
	const char *end = NULL;
	cJSON *doc;

	if (f->stop)
		return;
	if (len > CPUPROF_MAX_BYTES) {
		refuse(f, "larger than %u MiB", CPUPROF_MAX_BYTES >> 20);
		return;
	}
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	while (len > 0 && strchr(" \t\r\n", buf[len - 1]) && buf[len - 1])
		len--;
	if (len == 0) {
		refuse(f, "empty input");
		return;
	}
	doc = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (doc == NULL) {
		const char *at = cJSON_GetErrorPtr();
		size_t off = at && at >= buf && at <= buf + len ? (size_t)(at - buf) : len;

		if (json_open_at_end(buf, len))
			refuse(f, "the JSON ends early (truncated?): %zu bytes, an object, "
			    "array or string still open", len);
		else
			refuse(f, "not valid JSON at byte %zu", off);
		return;
	}
	if (end && end < buf + len)
		refuse(f, "data after the JSON document at byte %zu", (size_t)(end - buf));
	else
		fold_profile(f, doc);
	cJSON_Delete(doc);
}

void
cpuprofile_end(struct fold *f)
{
	struct cpuprof_state *c = &f->cpuprof;

	if (c->too_big)
		refuse(f, "larger than %u MiB", CPUPROF_MAX_BYTES >> 20);
	else
		cpuprofile_fold(f, c->buf ? c->buf : "", c->len);
	cpuprofile_release(f);
}

/* The first key of a top-level object says whether it is a profile. */
int
cpuprofile_like(const char *buf, size_t len)
{
	static const char *const keys[] = { "nodes", "startTime", "endTime",
	    "samples", "timeDeltas", "profile" };
	size_t i = 0, k;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && strchr(" \t\r\n", buf[i]) && buf[i])
		i++;
	if (i >= len || buf[i++] != '{')
		return 0;
	while (i < len && strchr(" \t\r\n", buf[i]) && buf[i])
		i++;
	if (i >= len || buf[i++] != '"')
		return 0;
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t n = strlen(keys[k]);

		if (len - i > n && memcmp(buf + i, keys[k], n) == 0 && buf[i + n] == '"')
			return 1;
	}
	return 0;
}
