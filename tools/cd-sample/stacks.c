/* Aggregation of symbolized stacks into sample records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intern.h"
#include "msg.h"
#include "record.h"
#include "sample.h"

static struct intern *strings;

const char *
intern(const char *s)
{
	if (strings == NULL)
		strings = intern_new();
	return intern_str(strings, intern_id(strings, s, strlen(s)), NULL);
}

void
strings_free(void)
{
	intern_free(strings);
	strings = NULL;
}

/*
 * module+0xOFFSET (kernel ones end _[k]; FDE starts look the same),
 * [unknown] and the region labels [JIT] and [JS interpreter] are frames
 * we could not name; everything else, JIT names included, is resolved.
 */
int
frame_resolved(const char *f)
{
	const char *p = strstr(f, "+0x");
	size_t l;

	if (strcmp(f, "[unknown]") == 0 || strcmp(f, "[unknown]_[k]") == 0 ||
	    strcmp(f, "[JIT]") == 0 || strcmp(f, "[JS interpreter]") == 0)
		return 0;
	l = strlen(f);
	if (l >= 4 && strcmp(f + l - 4, "_[j]") == 0)
		return 1;
	if (p == NULL)
		return 1;
	for (p += 3; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return strcmp(p, "_[k]") != 0;
	return 0;
}

void
samples_add(struct samples *s, int pid, int tid, const char *comm,
    const char *thread, const char **frames, size_t n, unsigned long count)
{
	size_t klen = sizeof(int) * 2 + sizeof(char *) * (2 + n);
	char *key = xmalloc(klen), *p = key;
	void **slot;

	/* Every string is interned, so pointers identify them. */
	memcpy(p, &pid, sizeof(int)); p += sizeof(int);
	memcpy(p, &tid, sizeof(int)); p += sizeof(int);
	memcpy(p, &comm, sizeof(comm)); p += sizeof(comm);
	memcpy(p, &thread, sizeof(thread)); p += sizeof(thread);
	memcpy(p, frames, sizeof(char *) * n);
	slot = hmap_insert(&s->idx, key, klen, NULL);
	free(key);
	for (size_t i = 0; i < n; i++) {
		s->frames_total += count;
		if (frame_resolved(frames[i]))
			s->frames_resolved += count;
	}
	if (*slot != NULL) {
		s->v[(uintptr_t)*slot - 1].count += count;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	struct sample *e = &s->v[s->n++];
	e->pid = pid;
	e->tid = tid;
	e->comm = comm;
	e->thread = thread;
	e->n = n;
	e->frames = xmalloc(sizeof(char *) * (n ? n : 1));
	memcpy(e->frames, frames, sizeof(char *) * n);
	e->count = count;
	*slot = (void *)(uintptr_t)s->n;
}

static int
sample_cmp(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* By pid, then most frequent first. Invalidates the index. */
void
samples_sort(struct samples *s)
{
	if (s->n > 1)	/* qsort(NULL, 0) is undefined */
		qsort(s->v, s->n, sizeof(*s->v), sample_cmp);
	hmap_release(&s->idx, NULL);
}

void
samples_release(struct samples *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].frames);
	free(s->v);
	hmap_release(&s->idx, NULL);
	memset(s, 0, sizeof(*s));
}

int
samples_emit(const struct samples *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct sample *e = &s->v[i];
		cJSON *r = rec_new("sample"), *st;

		rec_add_num(r, "pid", e->pid);
		rec_add_num(r, "tid", e->tid);
		rec_add_str(r, "comm", e->comm);
		rec_add_str(r, "thread", e->thread);
		st = cJSON_AddArrayToObject(r, "stack");
		for (size_t j = 0; j < e->n; j++) {
			char *clean = utf8_sanitize(e->frames[j], strlen(e->frames[j]));

			cJSON_AddItemToArray(st, cJSON_CreateString(clean));
			free(clean);
		}
		rec_add_num(r, "count", (double)e->count);
		if (rec_emit_free(r) != 0)
			return -1;
	}
	return 0;
}
