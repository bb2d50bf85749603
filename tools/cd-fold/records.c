/*
 * Our own records: `sample` (a stack and its count) and `syscall` /
 * `syscall_summary` (process -> category -> [user stack] -> syscall).
 * Every other type is counted and otherwise ignored: cd-fold writes
 * folded text, not records, so there is nothing to pass through.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fold.h"
#include "intern.h"
#include "msg.h"
#include "record.h"

static const char *
str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* A JSON number as a count; -1 when absent, -2 when not a usable count. */
static int
count_of(const cJSON *o, const char *name, uint64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	double d;

	if (it == NULL || cJSON_IsNull(it))
		return -1;
	if (!cJSON_IsNumber(it))
		return -2;
	d = it->valuedouble;
	if (!isfinite(d) || d < 0)
		return -2;
	/* 2^64 and up saturate; below, round without going through long long. */
	*out = d >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)(d + 0.5);
	return 0;
}

static long long
num(const cJSON *o, const char *name, long long def)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	/* A value no long long can hold is as good as absent. */
	if (!cJSON_IsNumber(it) || !(it->valuedouble >= -9.2e18 &&
	    it->valuedouble <= 9.2e18))
		return def;
	return (long long)it->valuedouble;
}

/* Push a frame made safe for the folded format: ';' splits, newlines end. */
static void
push_clean(struct fold *f, const char *s, size_t n)
{
	char *b = fold_scratch(f, n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		b[i] = c == ';' ? ':' : c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	fold_push(f, b, n);
}

static void
push_str(struct fold *f, const char *s)
{
	push_clean(f, s, strlen(s));
}

/* "name-123": the root frames that carry a pid or tid. */
static void
push_num(struct fold *f, const char *name, long long v)
{
	char *t = xasprintf("%s-%lld", name, v);

	push_str(f, t);
	free(t);
}

static void
push_root(struct fold *f, const cJSON *o)
{
	const char *comm = str(o, "comm"), *thread = str(o, "thread");
	long long pid = num(o, "pid", -1), tid = num(o, "tid", -1);
	char anon[40];

	if (comm == NULL) {
		snprintf(anon, sizeof(anon), "[pid %lld]", pid);
		comm = anon;
	}
	switch (f->o.root) {
	case ROOT_NONE:
		break;
	case ROOT_PROCESS:
		push_str(f, comm);
		break;
	case ROOT_PID:
		push_num(f, comm, pid);
		break;
	case ROOT_THREAD:
		push_str(f, comm);
		/*
		 * The main thread (tid == pid) is set apart: Bun's other threads
		 * may carry the process's name too, and it runs the JavaScript.
		 */
		if (pid >= 0 && tid == pid) {
			char *t = xasprintf("%s (main)", thread ? thread : comm);

			push_str(f, t);
			free(t);
		} else {
			push_str(f, thread ? thread : comm);
		}
		break;
	case ROOT_TID:
		push_num(f, comm, pid);
		push_num(f, thread ? thread : comm, tid);
		break;
	}
}

static int
suffix(const char *s, size_t n, const char *sfx)
{
	return n >= 4 && memcmp(s + n - 4, sfx, 4) == 0;
}

/* A stack array, root first, into frames; -1 when it is not an array of strings. */
static int
push_stack(struct fold *f, const cJSON *stack)
{
	const cJSON *fr;

	if (stack == NULL || cJSON_IsNull(stack))
		return 0;
	if (!cJSON_IsArray(stack))
		return -1;
	cJSON_ArrayForEach(fr, stack) {
		const char *s;
		size_t n;

		if (!cJSON_IsString(fr))
			return -1;
		s = fr->valuestring;
		n = strlen(s);
		if (suffix(s, n, "_[k]")) {
			if (f->o.drop_kernel)
				continue;
			if (!f->o.annotate_kernel)
				n -= 4;
		} else if (suffix(s, n, "_[j]") && !f->o.annotate_jit) {
			n -= 4;
		}
		push_clean(f, s, n);
	}
	return 0;
}

static void
do_sample(struct fold *f, const cJSON *o)
{
	uint64_t count = 1;
	int r = count_of(o, "count", &count);

	if (r == -2) {
		fold_bad(f, "sample record with a count that is not a non-negative number; skipped");
		return;
	}
	f->n = 0;
	push_root(f, o);
	if (push_stack(f, cJSON_GetObjectItemCaseSensitive(o, "stack")) < 0) {
		f->n = 0;
		fold_bad(f, "sample record whose stack is not an array of strings; skipped");
		return;
	}
	f->rec.samples++;
	if (f->n > 0 && count > 0)
		fold_commit(f, count);
	f->n = 0;
}

static void
do_syscall(struct fold *f, const cJSON *o, int summary)
{
	const char *name = str(o, "name"), *cat = str(o, "category"), *leaf;
	uint64_t w = 1;
	int r;
	char nrbuf[40];

	if (name == NULL) {
		long long nr = num(o, "nr", -1);

		if (nr < 0) {
			fold_bad(f, "%s record without a name or nr; skipped",
			    summary ? "syscall_summary" : "syscall");
			return;
		}
		snprintf(nrbuf, sizeof(nrbuf), "syscall_%lld", nr);
		name = nrbuf;
	}
	if (f->o.weight == WEIGHT_DURATION)
		r = count_of(o, summary ? "total_ns" : "dur_ns", &w);
	else
		r = summary ? count_of(o, "count", &w) : (w = 1, 0);
	if (r == -2 || (r == -1 && (summary || f->o.weight == WEIGHT_DURATION))) {
		fold_bad(f, "%s record without a usable %s; skipped",
		    summary ? "syscall_summary" : "syscall",
		    f->o.weight == WEIGHT_DURATION ? (summary ? "total_ns" : "dur_ns") : "count");
		return;
	}
	f->n = 0;
	push_root(f, o);
	if (!f->o.no_category)
		push_str(f, cat ? cat : syscat_fallback(name));
	if (!summary && push_stack(f, cJSON_GetObjectItemCaseSensitive(o, "stack")) < 0) {
		f->n = 0;
		fold_bad(f, "syscall record whose stack is not an array of strings; skipped");
		return;
	}
	push_str(f, name);
	if (f->o.leaf && !summary) {
		leaf = str(o, "path");
		if (leaf == NULL)
			leaf = str(o, "addr");
		if (leaf == NULL)
			leaf = str(o, "peer");
		if (leaf != NULL)
			push_str(f, leaf);
	}
	if (summary)
		f->rec.summaries++;
	else
		f->rec.syscalls++;
	if (w > 0)
		fold_commit(f, w);
	f->n = 0;
}

static void
count_type(struct fold *f, const char *type)
{
	struct records_state *rs = &f->rec;

	for (size_t i = 0; i < rs->ntypes; i++) {
		if (strcmp(rs->types[i].type, type) == 0) {
			rs->types[i].n++;
			return;
		}
	}
	if (rs->ntypes >= 64)
		return;		/* enough kinds to tell the user */
	rs->types = xreallocarray(rs->types, rs->ntypes + 1, sizeof(*rs->types));
	rs->types[rs->ntypes++] = (struct type_count){ xstrdup(type), 1 };
}

void
records_line(struct fold *f, const char *l, size_t n)
{
	const char *end = NULL, *type;
	cJSON *o;
	size_t i;

	for (i = 0; i < n; i++)
		if (l[i] != ' ' && l[i] != '\t' && l[i] != '\r')
			break;
	if (i == n)
		return;
	if (memchr(l, '\0', n)) {
		fold_bad(f, "binary data (NUL byte) in a record; line skipped");
		return;
	}
	if (!utf8_valid(l, n)) {
		fold_bad(f, "invalid UTF-8; line skipped");
		return;
	}
	o = cJSON_ParseWithLengthOpts(l, n, &end, 0);
	if (o == NULL) {
		fold_bad(f, "malformed JSON; line skipped");
		return;
	}
	for (; end < l + n; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\r') {
			fold_bad(f, "trailing data after the JSON object; line skipped");
			cJSON_Delete(o);
			return;
		}
	}
	type = cJSON_IsObject(o) ? str(o, "type") : NULL;
	if (type == NULL) {
		fold_bad(f, cJSON_IsObject(o) ? "record without a \"type\"; line skipped"
		    : "not a JSON object; line skipped");
	} else if (strcmp(type, "sample") == 0) {
		do_sample(f, o);
	} else if (strcmp(type, "syscall") == 0) {
		do_syscall(f, o, 0);
	} else if (strcmp(type, "syscall_summary") == 0) {
		do_syscall(f, o, 1);
	} else {
		f->ignored++;
		count_type(f, type);
	}
	cJSON_Delete(o);
}

void
records_end(struct fold *f)
{
	f->n = 0;
}
