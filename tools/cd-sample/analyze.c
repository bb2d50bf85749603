/* Hot functions, CPU by thread, and diagnoses from the rule table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnosis.h"
#include "msg.h"
#include "record.h"
#include "rules.h"
#include "sample.h"

struct fn {
	const char *name;
	unsigned long self, total;
};

struct th {
	int tid;
	const char *thread;
	unsigned long samples;
};

static int
fn_by_self(const void *a, const void *b)
{
	const struct fn *x = a, *y = b;

	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
fn_by_total(const void *a, const void *b)
{
	const struct fn *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return fn_by_self(a, b);
}

static int
th_cmp(const void *a, const void *b)
{
	const struct th *x = a, *y = b;

	if (x->samples != y->samples)
		return x->samples > y->samples ? -1 : 1;
	return x->tid - y->tid;
}

static double
pct(unsigned long part, unsigned long whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* CPU of one core, from samples at freq over duration; -1 when unknown. */
static double
cpu_of(unsigned long samples, const struct analysis_ctx *a)
{
	if (a->wall || a->freq_hz <= 0 || a->duration_s <= 0)
		return -1;
	return 100.0 * (double)samples / (a->freq_hz * a->duration_s);
}

static void
round1(cJSON *r, const char *name, double v)
{
	rec_add_num(r, name, (double)(long long)(v * 10 + 0.5) / 10);
}

/* Per function: samples where it is the leaf (self), and where it is on the stack (total). */
static size_t
hot_functions(const struct sample *v, size_t n, struct fn **out)
{
	struct hmap idx = { 0 };
	struct fn *f = NULL;
	size_t nf = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < v[i].n; j++) {
			const char *name = v[i].frames[j];
			void **slot;
			size_t k;

			for (k = 0; k < j; k++)	/* recursion counts once */
				if (v[i].frames[k] == name)
					break;
			if (k < j)
				continue;
			slot = hmap_insert(&idx, &name, sizeof(name), NULL);
			if (*slot == NULL) {
				f = xreallocarray(f, nf + 1, sizeof(*f));
				f[nf].name = name;
				f[nf].self = f[nf].total = 0;
				*slot = (void *)(uintptr_t)++nf;
			}
			struct fn *e = &f[(uintptr_t)*slot - 1];
			e->total += v[i].count;
			if (j == v[i].n - 1)
				e->self += v[i].count;
		}
	}
	hmap_release(&idx, NULL);
	*out = f;
	return nf;
}

static void
emit_functions(const struct sample *v, size_t n, unsigned long total,
    const struct analysis_ctx *a)
{
	struct fn *f;
	size_t nf = hot_functions(v, n, &f), nsel = 0;
	struct fn *sel = xcalloc(nf ? nf : 1, sizeof(*sel));
	size_t top = (size_t)a->top;

	/* The top by self and the top by total, each once, by self. */
	qsort(f, nf, sizeof(*f), fn_by_total);
	for (size_t i = 0; i < nf && i < top; i++)
		sel[nsel++] = f[i];
	qsort(f, nf, sizeof(*f), fn_by_self);
	for (size_t i = 0; i < nf && i < top && f[i].self > 0; i++) {
		size_t k;

		for (k = 0; k < nsel; k++)
			if (sel[k].name == f[i].name)
				break;
		if (k == nsel)
			sel[nsel++] = f[i];
	}
	qsort(sel, nsel, sizeof(*sel), fn_by_self);
	for (size_t i = 0; i < nsel; i++) {
		cJSON *r = rec_new("hot_function");

		rec_add_num(r, "pid", v[0].pid);
		rec_add_str(r, "comm", v[0].comm);
		rec_add_str(r, "function", sel[i].name);
		rec_add_num(r, "self", (double)sel[i].self);
		rec_add_num(r, "total", (double)sel[i].total);
		round1(r, "self_pct", pct(sel[i].self, total));
		round1(r, "total_pct", pct(sel[i].total, total));
		rec_emit_free(r);
	}
	free(sel);
	free(f);
}

static void
emit_threads(const struct sample *v, size_t n, unsigned long total,
    const struct analysis_ctx *a)
{
	struct th *t = NULL;
	size_t nt = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < nt; k++)
			if (t[k].tid == v[i].tid)
				break;
		if (k == nt) {
			t = xreallocarray(t, nt + 1, sizeof(*t));
			t[nt].tid = v[i].tid;
			t[nt].thread = v[i].thread;
			t[nt].samples = 0;
			nt++;
		}
		t[k].samples += v[i].count;
	}
	qsort(t, nt, sizeof(*t), th_cmp);
	for (size_t i = 0; i < nt; i++) {
		cJSON *r = rec_new("thread_cpu");
		double c = cpu_of(t[i].samples, a);

		rec_add_num(r, "pid", v[0].pid);
		rec_add_num(r, "tid", t[i].tid);
		rec_add_str(r, "comm", v[0].comm);
		rec_add_str(r, "thread", t[i].thread);
		rec_add_num(r, "samples", (double)t[i].samples);
		round1(r, "share_pct", pct(t[i].samples, total));
		if (c >= 0)
			round1(r, "cpu_pct", c);
		rec_emit_free(r);
	}
	free(t);
}

static int
emit_diagnoses(const struct sample *v, size_t n, double cpu, const struct analysis_ctx *a)
{
	struct diag d[32];
	size_t nd = rules_eval(v, n, v[0].pid, cpu, a->wall, d, 32);
	int crit = 0;

	for (size_t i = 0; i < nd; i++) {
		char *desc = xasprintf("%.0f%% of %s's %s samples (%lu of %lu) are in %s",
		    d[i].share_pct, v[0].comm, a->wall ? "wall-clock" : "CPU",
		    d[i].matched, d[i].total, d[i].rule->what);
		struct diagnosis dr = {
			.source = "cd-sample", .severity = d[i].severity,
			.code = d[i].rule->code, .issue = d[i].rule->title,
			.description = desc, .remedy = d[i].remedy,
			.pid = d[i].pid, .comm = v[0].comm,
		};
		cJSON *r = diagnosis_new(&dr), *ev;

		free(desc);
		round1(r, "share_pct", d[i].share_pct);
		if (cpu >= 0)
			round1(r, "cpu_pct", cpu);
		ev = cJSON_AddArrayToObject(r, "evidence");
		for (size_t k = 0; k < d[i].nev; k++) {
			char *s = xasprintf("%s %s: %lu samples (%.0f%%)",
			    d[i].ev[k].is_thread ? "thread" : "frame", d[i].ev[k].name,
			    d[i].ev[k].count, pct(d[i].ev[k].count, d[i].total));
			char *clean = utf8_sanitize(s, strlen(s));

			cJSON_AddItemToArray(ev, cJSON_CreateString(clean));
			free(clean);
			free(s);
		}
		rec_emit_free(r);
		crit += diagnosis_is_critical(d[i].severity);
	}
	return crit;
}

/* Samples must be sorted by pid (samples_sort). */
int
analyze_emit(const struct samples *s, const struct analysis_ctx *a)
{
	int crit = 0;

	for (size_t i = 0; i < s->n;) {
		size_t j = i;
		unsigned long total = 0;
		double cpu;
		cJSON *r;

		while (j < s->n && s->v[j].pid == s->v[i].pid)
			total += s->v[j++].count;
		cpu = cpu_of(total, a);
		r = rec_new("sample_summary");
		rec_add_num(r, "pid", s->v[i].pid);
		rec_add_str(r, "comm", s->v[i].comm);
		rec_add_num(r, "samples", (double)total);
		if (cpu >= 0)
			round1(r, "cpu_pct", cpu);
		rec_emit_free(r);
		emit_functions(&s->v[i], j - i, total, a);
		emit_threads(&s->v[i], j - i, total, a);
		crit += emit_diagnoses(&s->v[i], j - i, cpu, a);
		i = j;
	}
	return crit;
}
