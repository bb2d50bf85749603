/*
 * libFuzzer harness for the JavaScriptCore frame walker and learner on
 * random memory images: the input is the target's memory at BASE (the
 * stack at its start, the heap after), the first words its registers.
 * Never a crash, never a read outside the image, every name handed out a
 * NUL-terminated string of plausible characters; the layout-line parser
 * gets the input as text too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsc_frames.h"

#include "js_image.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsc_layout l = { "00", 64, 88, 80, 24, 18, 12, 13, NULL };
	struct image im = { data, size };
	struct js_sample s;
	struct jsc_walker *w;
	struct jsc_learner *le;
	struct jsc_learned r;
	uint64_t pcs[64], code[2] = { BASE, BASE + 4096 };
	const char *names[64];
	char line[256];
	size_t n;

	if (size > 0 && size < sizeof(line)) {
		memcpy(line, data, size);
		line[size] = '\0';
		if (jsc_layout_parse(line, &l) != 0)
			l = (struct jsc_layout){ "00", 64, 88, 80, 24, 18, 12, 13, NULL };
	}
	if (size < 32)
		return 0;
	img_sample(data, size, &s);
	n = jsc_chain(&s, img_read, &im, pcs, 64);
	w = jsc_walker_new(&l, img_read, &im);
	jsc_walker_set_code(w, code, 1);
	jsc_walk(w, &s, pcs, n, names);
	check_names(names, n);
	jsc_walk(w, &s, pcs, n, names);	/* again: through the cache */
	jsc_walker_free(w);

	le = jsc_learner_new(img_read, &im);
	for (size_t i = 0; i + 16 <= size && i < 256; i += 16) {
		struct jsc_pair p;

		memcpy(&p.cb, data + i, 8);
		p.cb = BASE + (p.cb % size & ~15ull);
		memcpy(&p.callee, data + i + 8, 8);
		p.name = i % 32 ? "ab" : "";
		jsc_learner_add(le, &p);
		if (i == 64)
			jsc_learner_freeze(le);
	}
	if (jsc_learner_result(le, 1, &r) == 0 && (r.l.cb_owner % 8 || r.l.cb_owner >= JSC_OFF_MAX))
		abort();
	jsc_learner_free(le);
	return 0;
}
