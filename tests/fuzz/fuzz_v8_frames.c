/*
 * libFuzzer harness for the V8 frame walker on random memory images: the
 * input is the target's memory at BASE (the stack at its start, the heap
 * after), the first words its registers; the layout is node 20's. Never
 * a crash, never a read outside the image, every name handed out a
 * NUL-terminated string of plausible characters. The perf-map name
 * parser gets the input as text too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "v8_frames.h"

#include "js_image.h"

static const struct v8_layout node20 = {
	.fp_function = -16, .fp_context = -8, .map = 0, .map_type = 12,
	.fn_shared = 24, .sfi_name = 16, .str_len = 12, .seq1_chars = 16,
	.seq2_chars = 16, .cons_first = 16, .cons_second = 24, .thin_actual = 16,
	.si_nlocals = 24, .si_vars = 32, .t_fn_lo = 2066, .t_fn_hi = 2097,
	.t_sfi = 262, .t_scope_info = 261, .t_first_nonstring = 128,
	.enc_mask = 8, .one_byte = 8, .repr_mask = 7, .seq = 0, .cons = 1, .thin = 5,
};

/*
 * Half the inputs are laid over a well-formed frame: a JS frame whose
 * function, SharedFunctionInfo and maps are right, so the bytes reach the
 * name (its type, length, characters, a ScopeInfo's count and slots, cons
 * and thin strings pointing anywhere in the image).
 */
#define IMG 4096
static uint8_t scaffold[IMG];

static void
put(size_t off, uint64_t v)
{
	memcpy(scaffold + off, &v, 8);
}

static void
put16(size_t off, uint16_t v)
{
	memcpy(scaffold + off, &v, 2);
}

static const uint8_t *
well_formed(const uint8_t *data, size_t size, size_t *n)
{
	const uint64_t T = BASE + 1;	/* tagged pointers into the image */

	memset(scaffold, 0, sizeof(scaffold));
	/* the stack: sp at 16, bp at 64: function, context, caller fp, pc */
	put(0, BASE + 0x100);		/* ip */
	put(8, 64);			/* bp offset */
	put(16, 0x1234);		/* [sp]: not a code address, not bp */
	put(48, T + 0x200);		/* fp-16: the JSFunction */
	put(56, T + 0x300);		/* fp-8: a context (tagged) */
	put(64, 0);			/* caller fp: the end */
	put(72, 0);
	/* maps: 0x400 a JSFunction's, 0x440 a SFI's, 0x480 a ScopeInfo's, 0x4c0 a string's */
	put16(0x400 + 12, 2066);
	put16(0x440 + 12, 262);
	put16(0x480 + 12, 261);
	put16(0x4c0 + 12, 8);
	put(0x200, T + 0x400);		/* JSFunction: map, shared at 24 */
	put(0x200 + 24, T + 0x240);
	put(0x240, T + 0x440);		/* SFI: map, name_or_scope_info at 16 */
	put(0x240 + 16, T + 0x500);
	put(0x500, T + 0x480);		/* a ScopeInfo by default */
	/* the input overwrites from 0x4c0 on: maps' types, the name's objects */
	memcpy(scaffold + 0x4c0 + 12, data, size < 2 ? size : 2);
	if (size > 2)
		memcpy(scaffold + 0x500, data + 2, size - 2 < IMG - 0x500 ? size - 2 : IMG - 0x500);
	*n = IMG;
	return scaffold;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image im = { data, size };
	struct js_sample s;
	struct v8_walker *w;
	uint64_t pcs[64], code[2] = { BASE, BASE + 4096 };
	const char *names[64];
	char text[256], out[64];
	size_t n;

	if (size > 0 && size < sizeof(text)) {
		memcpy(text, data, size);
		text[size] = '\0';
		if (v8_plain_name(text, out, sizeof(out)) && strlen(out) >= sizeof(out))
			abort();
	}
	if (size < 32)
		return 0;
	if (data[0] & 1) {
		data = well_formed(data + 1, size - 1, &size);
		im.p = data;
		im.n = size;
	}
	img_sample(data, size, &s);
	n = jsc_chain(&s, img_read, &im, pcs, 64);
	w = v8_walker_new(&node20, img_read, &im);
	v8_walker_set_code(w, code, 1);
	v8_walk(w, &s, pcs, n, names);
	check_names(names, n);
	v8_walk(w, &s, pcs, n, names);	/* again: through the cache */
	check_names(names, n);
	names[0] = v8_skipped_caller(w, &s, pcs, n);
	check_names(names, 1);
	v8_walker_free(w);
	return 0;
}
