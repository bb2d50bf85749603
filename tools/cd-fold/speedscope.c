/*
 * --output speedscope: speedscope's JSON file format
 * (https://www.speedscope.app/file-format-schema.json): the frames once in
 * "shared", and one "sampled" profile per process/thread when the input
 * said who ran each stack (records), else one for the whole input. Each
 * distinct stack is one sample weighted by its count, so the file is as
 * small as the folded text.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "exitcode.h"
#include "fold.h"
#include "folded.h"
#include "intern.h"
#include "msg.h"
#include "record.h"

/* "node pid 12 / libuv-worker tid 13" from the label key pid\x1ftid\x1fcomm\x1fthread */
static char *
label_name(const struct fold *f, uint32_t label)
{
	const char *k, *p[4];
	size_t len, n[4];
	int i = 1;

	if (label == 0 || f->labels == NULL)
		return xstrdup("all");
	k = intern_str(f->labels, label - 1, &len);
	p[0] = k;
	for (size_t j = 0; j < len && i < 4; j++)
		if (k[j] == '\x1f')
			p[i++] = k + j + 1;
	if (i < 4)
		return xstrdup("all");
	for (i = 0; i < 3; i++)
		n[i] = (size_t)(p[i + 1] - p[i]) - 1;
	n[3] = (size_t)(k + len - p[3]);
	if (n[3] == 0) {	/* no thread name: the process's */
		p[3] = p[2];
		n[3] = n[2];
	}
	return xasprintf("%.*s pid %.*s / %.*s tid %.*s", (int)n[2], p[2],
	    (int)n[0], p[0], (int)n[3], p[3], (int)n[1], p[1]);
}

static cJSON *
profile_for(cJSON *profiles, cJSON **by_label, const struct fold *f,
    uint32_t label, const char *unit)
{
	cJSON *p;
	char *name;

	if (by_label[label])
		return by_label[label];
	p = cJSON_CreateObject();
	name = label_name(f, label);
	cJSON_AddStringToObject(p, "type", "sampled");
	if (!utf8_valid(name, strlen(name))) {
		char *clean = utf8_sanitize(name, strlen(name));

		free(name);
		name = clean;
	}
	cJSON_AddStringToObject(p, "name", name);
	cJSON_AddStringToObject(p, "unit", unit);
	cJSON_AddNumberToObject(p, "startValue", 0);
	cJSON_AddNumberToObject(p, "endValue", 0);
	cJSON_AddItemToObject(p, "samples", cJSON_CreateArray());
	cJSON_AddItemToObject(p, "weights", cJSON_CreateArray());
	cJSON_AddItemToArray(profiles, p);
	free(name);
	by_label[label] = p;
	return p;
}

int
fold_speedscope_write(const struct fold *f, FILE *out)
{
	cJSON *doc = cJSON_CreateObject(), *frames, *profiles, **by_label, *x;
	uint32_t nlabels = f->labels ? intern_count(f->labels) : 0;
	const char *unit = strcmp(fold_unit(f), "ns") == 0 ? "nanoseconds" : "none";
	char *text;
	int r;

	cJSON_AddStringToObject(doc, "$schema",
	    "https://www.speedscope.app/file-format-schema.json");
	frames = cJSON_AddArrayToObject(cJSON_AddObjectToObject(doc, "shared"), "frames");
	for (uint32_t i = 0; i < intern_count(f->frames); i++) {
		size_t len;
		const char *s = intern_str(f->frames, i, &len);
		cJSON *fr = cJSON_CreateObject();
		char *clean = NULL;

		/* JSON is UTF-8: perf and sample input may not be (cJSON stops at a NUL) */
		if (!utf8_valid(s, len))
			s = clean = utf8_sanitize(s, len);
		cJSON_AddStringToObject(fr, "name", s);
		free(clean);
		cJSON_AddItemToArray(frames, fr);
	}
	profiles = cJSON_AddArrayToObject(doc, "profiles");
	by_label = xcalloc((size_t)nlabels + 1, sizeof(*by_label));
	for (size_t i = 0; i < stacktab_slots(f->stacks); i++) {
		const uint32_t *ids;
		size_t n;
		uint64_t count;
		uint32_t label;
		cJSON *p, *st;

		if (!stacktab_entry(f->stacks, i, &ids, &n, &count, &label) || count == 0)
			continue;
		p = profile_for(profiles, by_label, f, label <= nlabels ? label : 0, unit);
		st = cJSON_CreateArray();
		for (size_t k = 0; k < n; k++)	/* root first */
			cJSON_AddItemToArray(st, cJSON_CreateNumber(ids[k]));
		cJSON_AddItemToArray(cJSON_GetObjectItem(p, "samples"), st);
		cJSON_AddItemToArray(cJSON_GetObjectItem(p, "weights"),
		    cJSON_CreateNumber((double)count));
		x = cJSON_GetObjectItem(p, "endValue");
		cJSON_SetNumberValue(x, x->valuedouble + (double)count);
	}
	free(by_label);
	text = utf8_sanitize(f->name, strlen(f->name));
	cJSON_AddStringToObject(doc, "name", text);
	free(text);
	cJSON_AddNumberToObject(doc, "activeProfileIndex", 0);
	cJSON_AddStringToObject(doc, "exporter", "cd-fold " CD_VERSION);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (text == NULL)
		msg_die(CD_EXIT_FAIL, "out of memory writing JSON");
	r = fputs(text, out) == EOF || putc('\n', out) == EOF ? -1 : 0;
	free(text);
	return r;
}
