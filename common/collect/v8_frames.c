/*
 * V8 frame names from the target's stack and heap: see v8_frames.h for the
 * method. The layout comes from the binary's v8dbg_* symbols.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "js_util.h"
#include "msg.h"
#include "v8_frames.h"

#define USER_TOP 0x800000000000ull	/* x86-64 user space ends below */
#define TAG_MASK 3ull
#define HEAP_TAG 1ull
#define SMI_SHIFT 32		/* 64-bit Smis without pointer compression */
#define CACHE_SLOTS 4096	/* direct-mapped, by SharedFunctionInfo */
#define MAPS_PER_WALK 16	/* map -> type, for one sample only */
#define INLINE_LOCALS_MIN 16	/* fewer locals: their names always inline */
/*
 * After the locals: where the name may be. Ten took later Strings too (a
 * block list's): 183 of 1,421 frames of Claude Code 1.0.128 misnamed.
 */
#define NAME_SLOTS 6
#define ANON "(anonymous)"

struct centry {
	uint64_t sfi, nosi;	/* SharedFunctionInfo, its name_or_scope_info */
	const char *name;
};

struct mapent {
	uint64_t map;
	uint16_t type;
};

struct v8_walker {
	struct v8_layout l;
	struct js_reader r;
	struct centry *cache;
	struct mapent maps[MAPS_PER_WALK];
	size_t nmaps;
	struct v8_stats st;
};

/* ---- the layout, from the ELF file's v8dbg_* symbols ---- */

struct want {
	const char *sym;
	int *out;
};

struct syms {
	int fp_function, fp_context, map, map_type, fn_shared, sfi_name, str_len;
	int seq1, seq2, cons1, cons2, thin, si_nlocals, si_first, tagged, smi_shift;
	int t_fn, t_sfi, t_si, t_nonstring, enc_mask, one_byte, repr_mask, seq, cons, thin_tag;
	int found;
};

static int
sym_int(Elf *elf, const GElf_Sym *sym, int *v)
{
	Elf_Scn *scn = elf_getscn(elf, sym->st_shndx);
	GElf_Shdr sh;
	Elf_Data *d;
	uint64_t off;

	if (scn == NULL || gelf_getshdr(scn, &sh) == NULL || sym->st_value < sh.sh_addr)
		return -1;
	if (sh.sh_type == SHT_NOBITS) {
		*v = 0;		/* .bss: a constant that is zero */
		return 0;
	}
	off = sym->st_value - sh.sh_addr;
	if ((d = elf_getdata(scn, NULL)) == NULL || off + sizeof(int) > d->d_size)
		return -1;
	memcpy(v, (const char *)d->d_buf + off, sizeof(int));
	return 0;
}

/* The symbols this reader needs, each with where its value goes. */
static size_t
wanted(struct syms *s, struct want *w)
{
	const struct want t[] = {
		{ "v8dbg_off_fp_function", &s->fp_function },
		{ "v8dbg_off_fp_context_or_frame_type", &s->fp_context },
		{ "v8dbg_class_HeapObject__map__Map", &s->map },
		{ "v8dbg_class_Map__instance_type__uint16_t", &s->map_type },
		{ "v8dbg_class_JSFunction__shared__SharedFunctionInfo", &s->fn_shared },
		{ "v8dbg_class_SharedFunctionInfo__name_or_scope_info__Object", &s->sfi_name },
		{ "v8dbg_class_String__length__int32_t", &s->str_len },
		{ "v8dbg_class_SeqOneByteString__chars__char", &s->seq1 },
		{ "v8dbg_class_SeqTwoByteString__chars__char", &s->seq2 },
		{ "v8dbg_class_ConsString__first__String", &s->cons1 },
		{ "v8dbg_class_ConsString__second__String", &s->cons2 },
		{ "v8dbg_class_ThinString__actual__String", &s->thin },
		{ "v8dbg_scopeinfo_idx_ncontextlocals", &s->si_nlocals },
		{ "v8dbg_scopeinfo_idx_first_vars", &s->si_first },
		{ "v8dbg_TaggedSize", &s->tagged },
		{ "v8dbg_SmiShiftSize", &s->smi_shift },
		{ "v8dbg_type_JSFunction__JS_FUNCTION_TYPE", &s->t_fn },
		{ "v8dbg_type_SharedFunctionInfo__SHARED_FUNCTION_INFO_TYPE", &s->t_sfi },
		{ "v8dbg_type_ScopeInfo__SCOPE_INFO_TYPE", &s->t_si },
		{ "v8dbg_FirstNonstringType", &s->t_nonstring },
		{ "v8dbg_StringEncodingMask", &s->enc_mask },
		{ "v8dbg_OneByteStringTag", &s->one_byte },
		{ "v8dbg_StringRepresentationMask", &s->repr_mask },
		{ "v8dbg_SeqStringTag", &s->seq },
		{ "v8dbg_ConsStringTag", &s->cons },
		{ "v8dbg_ThinStringTag", &s->thin_tag },
	};

	memcpy(w, t, sizeof(t));
	return sizeof(t) / sizeof(t[0]);
}

#define NWANT 26

/*
 * One pass over a symbol table: the wanted values, and the least instance
 * type above JS_FUNCTION_TYPE (JSFunction's subclasses, class and promise
 * constructors among them, have no v8dbg_type_ of their own: they sit
 * between JS_FUNCTION_TYPE and the next type that has one).
 */
static void
scan_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, struct syms *s, int *types,
    size_t *ntypes)
{
	struct want w[NWANT];
	size_t nw = wanted(s, w), n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	Elf_Data *d = elf_getdata(scn, NULL);

	for (size_t i = 0; d != NULL && i < n; i++) {
		GElf_Sym sym;
		const char *name;
		int v;

		if (gelf_getsym(d, (int)i, &sym) == NULL ||
		    (name = elf_strptr(elf, sh->sh_link, sym.st_name)) == NULL ||
		    strncmp(name, "v8dbg_", 6) != 0 || sym_int(elf, &sym, &v) != 0)
			continue;
		if (strncmp(name, "v8dbg_type_", 11) == 0 && *ntypes < 4096)
			types[(*ntypes)++] = v;
		for (size_t k = 0; k < nw; k++) {
			if (strcmp(name, w[k].sym) == 0 && !(s->found & (1 << k))) {
				*w[k].out = v;
				s->found |= 1 << k;
			}
		}
	}
}

static int
fits16(int v)
{
	return v >= 0 && v < 65536;
}

/* The layout from the symbols; -1 when one is missing or out of range. */
static int
layout_from(const struct syms *s, const int *types, size_t ntypes, struct v8_layout *l)
{
	int hi = 65536;

	if (s->found != (1 << NWANT) - 1 || s->tagged != 8 || s->smi_shift != 31)
		return -1;
	for (size_t i = 0; i < ntypes; i++)
		if (types[i] > s->t_fn && types[i] < hi)
			hi = types[i];
	if (!fits16(s->map) || !fits16(s->map_type) || !fits16(s->fn_shared) ||
	    !fits16(s->sfi_name) || !fits16(s->str_len) || !fits16(s->seq1) ||
	    !fits16(s->seq2) || !fits16(s->cons1) || !fits16(s->cons2) ||
	    !fits16(s->thin) || !fits16(s->t_fn) || hi == 65536 || !fits16(s->t_sfi) ||
	    !fits16(s->t_si) || !fits16(s->t_nonstring) || s->si_nlocals < 0 ||
	    s->si_first < 0 || s->si_first > 64 || s->fp_function >= 0 || s->fp_context >= 0)
		return -1;
	l->fp_function = s->fp_function;
	l->fp_context = s->fp_context;
	l->map = (uint16_t)s->map;
	l->map_type = (uint16_t)s->map_type;
	l->fn_shared = (uint16_t)s->fn_shared;
	l->sfi_name = (uint16_t)s->sfi_name;
	l->str_len = (uint16_t)s->str_len;
	l->seq1_chars = (uint16_t)s->seq1;
	l->seq2_chars = (uint16_t)s->seq2;
	l->cons_first = (uint16_t)s->cons1;
	l->cons_second = (uint16_t)s->cons2;
	l->thin_actual = (uint16_t)s->thin;
	/* ScopeInfo is a HeapObject whose slots follow its map: index i at 8 + 8i */
	l->si_nlocals = (uint16_t)(8 + 8 * s->si_nlocals);
	l->si_vars = (uint16_t)(8 + 8 * s->si_first);
	l->t_fn_lo = (uint16_t)s->t_fn;
	l->t_fn_hi = (uint16_t)hi;
	l->t_sfi = (uint16_t)s->t_sfi;
	l->t_scope_info = (uint16_t)s->t_si;
	l->t_first_nonstring = (uint16_t)s->t_nonstring;
	l->enc_mask = (uint8_t)s->enc_mask;
	l->one_byte = (uint8_t)s->one_byte;
	l->repr_mask = (uint8_t)s->repr_mask;
	l->seq = (uint8_t)s->seq;
	l->cons = (uint8_t)s->cons;
	l->thin = (uint8_t)s->thin_tag;
	return 0;
}

static void
build_id(Elf *elf, char *buf, size_t len)
{
	Elf_Scn *scn = NULL;

	buf[0] = '\0';
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;
		size_t off = 0, noff, doff;

		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_NOTE ||
		    (d = elf_getdata(scn, NULL)) == NULL)
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)d->d_buf + noff, "GNU", 4) != 0)
				continue;
			for (size_t i = 0; i < nh.n_descsz && 2 * i + 2 < len; i++)
				snprintf(buf + 2 * i, 3, "%02x",
				    ((const unsigned char *)d->d_buf)[doff + i]);
			return;
		}
	}
}

int
v8_binary(const char *path, struct v8_layout *l)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	int *types = xcalloc(4096, sizeof(*types));
	size_t ntypes = 0;
	struct syms s;
	Elf_Scn *scn = NULL;
	Elf *elf;

	memset(&s, 0, sizeof(s));
	memset(l, 0, sizeof(*l));
	if (fd < 0) {
		free(types);
		return -1;
	}
	elf_version(EV_CURRENT);
	if ((elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)) == NULL) {
		close(fd);
		free(types);
		return -1;
	}
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) != NULL && sh.sh_type == SHT_DYNSYM)
			scan_symtab(elf, scn, &sh, &s, types, &ntypes);
	}
	if (s.found != 0 && layout_from(&s, types, ntypes, l) == 0) {
		build_id(elf, l->build_id, sizeof(l->build_id));
		rc = 1;
	}
	elf_end(elf);
	close(fd);
	free(types);
	return rc;
}

/* ---- reading the heap ---- */

/* A tagged pointer to a heap object: its address, or 0. */
static uint64_t
heap_addr(uint64_t tagged)
{
	uint64_t a = tagged - HEAP_TAG;

	if ((tagged & TAG_MASK) != HEAP_TAG || a < 0x10000 || a >= USER_TOP)
		return 0;
	return a;
}

/* The instance type of the object at a (untagged), or -1. */
static int
type_of(struct v8_walker *w, uint64_t a)
{
	uint64_t map, m;
	uint16_t t;

	if (w->r.rd(w->r.arg, a + w->l.map, &map, sizeof(map)) != 0 || (m = heap_addr(map)) == 0)
		return -1;
	for (size_t i = 0; i < w->nmaps; i++)
		if (w->maps[i].map == m)
			return w->maps[i].type;
	if (w->r.rd(w->r.arg, m + w->l.map_type, &t, sizeof(t)) != 0)
		return -1;
	if (w->nmaps < MAPS_PER_WALK) {
		w->maps[w->nmaps].map = m;
		w->maps[w->nmaps++].type = t;
	}
	return t;
}

/*
 * The String at tagged pointer str as UTF-8 into out (JS_NAME_BUF): its
 * length, or -1 when it is not a string this reader follows (sliced and
 * external ones; names are internalized, so sequential or thin).
 */
static long
read_string(struct v8_walker *w, uint64_t str, char *out, int depth)
{
	const struct v8_layout *l = &w->l;
	unsigned char raw[2 * JS_NAME_MAX];
	uint64_t a = heap_addr(str), part;
	int type, repr;
	int32_t len;
	long n1, n2;

	if (a == 0 || depth > 2 || (type = type_of(w, a)) < 0 || type >= l->t_first_nonstring ||
	    w->r.rd(w->r.arg, a + l->str_len, &len, sizeof(len)) != 0 || len < 0 ||
	    len > JS_NAME_MAX)
		return -1;
	repr = type & l->repr_mask;
	if (repr == l->thin) {
		if (w->r.rd(w->r.arg, a + l->thin_actual, &part, sizeof(part)) != 0)
			return -1;
		return read_string(w, part, out, depth + 1);
	}
	if (repr == l->cons) {
		char second[JS_NAME_BUF];

		if (w->r.rd(w->r.arg, a + l->cons_first, &part, sizeof(part)) != 0 ||
		    (n1 = read_string(w, part, out, depth + 1)) < 0 ||
		    w->r.rd(w->r.arg, a + l->cons_second, &part, sizeof(part)) != 0 ||
		    (n2 = read_string(w, part, second, depth + 1)) < 0 ||
		    n1 + n2 >= JS_NAME_BUF)
			return -1;
		memcpy(out + n1, second, (size_t)n2 + 1);
		return n1 + n2;
	}
	if (repr != l->seq)
		return -1;
	if ((type & l->enc_mask) == l->one_byte)
		return w->r.rd(w->r.arg, a + l->seq1_chars, raw, (size_t)len) != 0 ? -1 :
		    js_text_utf8(raw, (size_t)len, 0, out);
	return w->r.rd(w->r.arg, a + l->seq2_chars, raw, 2 * (size_t)len) != 0 ? -1 :
	    js_text_utf8(raw, (size_t)len, 1, out);
}

/* Are the ScopeInfo's local names one hash table (not a String each)? */
static int
names_hashed(struct v8_walker *w, uint64_t a)
{
	uint64_t first;
	int t;

	if (w->r.rd(w->r.arg, a + w->l.si_vars, &first, sizeof(first)) != 0 ||
	    heap_addr(first) == 0 || (t = type_of(w, heap_addr(first))) < 0)
		return 0;
	return t >= w->l.t_first_nonstring;
}

/*
 * The name in a ScopeInfo (untagged address a): the first non-empty
 * String after the context locals' names and infos. 0 when none (an
 * anonymous function), -1 when unreadable.
 */
static long
scope_info_name(struct v8_walker *w, uint64_t a, char *out)
{
	uint64_t v, slots[NAME_SLOTS];
	int64_t nlocals;
	size_t skip;

	if (w->r.rd(w->r.arg, a + w->l.si_nlocals, &v, sizeof(v)) != 0 || (v & 1) != 0)
		return -1;
	nlocals = (int64_t)v >> SMI_SHIFT;
	if (nlocals < 0 || nlocals > 1000000)
		return -1;
	skip = 2 * (size_t)nlocals;
	/*
	 * Past some count (75 in V8 10-11) the names are one hash table, not
	 * a String each: which one, the first slot's type says.
	 */
	if (nlocals >= INLINE_LOCALS_MIN && names_hashed(w, a))
		skip = 1 + (size_t)nlocals;
	if (w->r.rd(w->r.arg, a + w->l.si_vars + 8 * skip, slots, sizeof(slots)) != 0)
		return -1;
	for (size_t i = 0; i < NAME_SLOTS; i++) {
		long n;

		if ((slots[i] & TAG_MASK) != HEAP_TAG)
			continue;	/* a Smi: a count, an index or "no name" */
		if ((n = read_string(w, slots[i], out, 0)) > 0)
			return n;
	}
	return 0;
}

/* The function's name, from its SharedFunctionInfo's name_or_scope_info. */
static const char *
sfi_name(struct v8_walker *w, uint64_t nosi)
{
	char name[JS_NAME_BUF];
	uint64_t a = heap_addr(nosi);
	long n = 0;
	int type;

	if (a != 0) {
		if ((type = type_of(w, a)) < 0)
			return NULL;
		if (type < w->l.t_first_nonstring)
			n = read_string(w, nosi, name, 0);
		else if (type == w->l.t_scope_info)
			n = scope_info_name(w, a, name);
		else
			return NULL;
	} else if ((nosi & 1) != 0) {
		return NULL;	/* neither a Smi (no name) nor an object */
	}
	if (n < 0)
		return NULL;
	return n == 0 ? js_names_keep(w->r.names, ANON, strlen(ANON)) :
	    js_names_keep(w->r.names, name, (size_t)n);
}

/* The name of the JSFunction at tagged fn, or NULL (counted). */
static const char *
function_name(struct v8_walker *w, uint64_t fn)
{
	const struct v8_layout *l = &w->l;
	uint64_t a = heap_addr(fn), sfi, sa, nosi;
	struct centry *e;
	int type;

	if (a == 0 || (type = type_of(w, a)) < l->t_fn_lo || type >= l->t_fn_hi ||
	    w->r.rd(w->r.arg, a + l->fn_shared, &sfi, sizeof(sfi)) != 0 || (sa = heap_addr(sfi)) == 0 ||
	    type_of(w, sa) != l->t_sfi || w->r.rd(w->r.arg, sa + l->sfi_name, &nosi, sizeof(nosi)) != 0) {
		w->st.not_js++;
		return NULL;
	}
	/*
	 * The SharedFunctionInfo was just read again: a cached name stands
	 * unless both it and its name's object were moved and replaced by
	 * another function's pair at the same two addresses.
	 */
	e = &w->cache[(sa / 8) % CACHE_SLOTS];
	if (e->sfi == sa && e->nosi == nosi && e->name != NULL) {
		w->st.cached++;
		return e->name;
	}
	if ((e->name = sfi_name(w, nosi)) == NULL) {
		e->sfi = 0;
		w->st.bad_name++;
		return NULL;
	}
	e->sfi = sa;
	e->nosi = nosi;
	return e->name;
}

/* ---- walking a sample ---- */

struct v8_walker *
v8_walker_new(const struct v8_layout *l, js_read_fn rd, void *arg)
{
	struct v8_walker *w = xcalloc(1, sizeof(*w));

	w->l = *l;
	js_reader_init(&w->r, rd, arg);
	w->cache = xcalloc(CACHE_SLOTS, sizeof(*w->cache));
	return w;
}

void
v8_walker_free(struct v8_walker *w)
{
	if (w == NULL)
		return;
	js_reader_release(&w->r);
	free(w->cache);
	free(w);
}

void
v8_walker_set_code(struct v8_walker *w, const uint64_t *ranges, size_t n)
{
	js_reader_set_code(&w->r, ranges, n);
}

const struct v8_stats *
v8_walker_stats(const struct v8_walker *w)
{
	return &w->st;
}

/*
 * The slots of the frame at fp, from the function slot to the return pc
 * (fp_function .. fp+16): from the stack copy when it holds them.
 */
static int
read_slots(const struct v8_walker *w, const struct js_sample *s, uint64_t fp, uint64_t *v,
    size_t nwords)
{
	uint64_t lo = fp + (uint64_t)(int64_t)w->l.fp_function;
	size_t need = nwords * sizeof(uint64_t);

	if (fp % 8 != 0 || fp >= USER_TOP || lo > fp)
		return -1;
	return js_stack_read(s, w->r.rd, w->r.arg, lo, v, need);
}

/*
 * The innermost frame is built once its prologue has pushed the caller's
 * fp, the context and the function, and until its epilogue pops them:
 * before that (and after) bp is still the caller's, and [sp] is the
 * return address or the caller's fp.
 */
static int
leaf_frame_built(const struct v8_walker *w, const struct js_sample *s)
{
	uint64_t top;

	if (w->r.ncode == 0 || s->stack == NULL || s->stack_len < 8 || s->sp >= s->bp ||
	    s->bp - s->sp < (uint64_t)-(int64_t)w->l.fp_function)
		return 0;
	memcpy(&top, s->stack, sizeof(top));
	return top != s->bp && !js_in_ranges(w->r.code, w->r.ncode, top);
}

size_t
v8_walk(struct v8_walker *w, const struct js_sample *s, const uint64_t *pcs, size_t n,
    const char **names)
{
	const struct v8_layout *l = &w->l;
	/* slots from fp_function to fp + 16: the function, ..., fp, pc */
	size_t nwords = (size_t)(-l->fp_function / 8) + 2;
	size_t ifn = 0, ictx = (size_t)((l->fp_context - l->fp_function) / 8);
	size_t ifp = nwords - 2, ipc = nwords - 1, named = 0;
	uint64_t fp = s->bp, v[16];

	w->nmaps = 0;
	for (size_t i = 0; i < n; i++)
		names[i] = NULL;
	if (nwords > 16)
		return 0;
	for (size_t i = 0; i < n; i++) {
		w->st.frames++;
		if (read_slots(w, s, fp, v, nwords) != 0 || (i + 1 < n && v[ipc] != pcs[i + 1])) {
			/* off the sampled chain: what is left was not the sample's */
			w->st.no_header++;
			break;
		}
		if (i == 0 && !leaf_frame_built(w, s)) {
			w->st.leaf_skipped++;
		} else if ((v[ictx] & TAG_MASK) != HEAP_TAG) {
			w->st.not_js++;	/* a typed frame's marker, not a context */
		} else if ((names[i] = function_name(w, v[ifn])) != NULL) {
			named++;
			w->st.named++;
		}
		if (v[ifp] <= fp)
			break;
		fp = v[ifp];
	}
	return named;
}

/*
 * The innermost function is entering (or has just left) its frame: [sp]
 * is its return address, or the caller's fp pushed above it. Then bp is
 * the caller's frame. (Right after "mov rbp, rsp" bp is the function's
 * own, half built: its caller is at [bp+8], in the chain already.)
 */
static int
leaf_entering(const struct v8_walker *w, const struct js_sample *s)
{
	uint64_t top[2];

	if (w->r.ncode == 0 || s->stack == NULL || s->stack_len < sizeof(top) ||
	    s->sp >= s->bp)
		return 0;
	memcpy(top, s->stack, sizeof(top));
	return js_in_ranges(w->r.code, w->r.ncode, top[0] == s->bp ? top[1] : top[0]);
}

const char *
v8_skipped_caller(struct v8_walker *w, const struct js_sample *s, const uint64_t *pcs,
    size_t n)
{
	const struct v8_layout *l = &w->l;
	size_t nwords = (size_t)(-l->fp_function / 8) + 2;
	size_t ictx = (size_t)((l->fp_context - l->fp_function) / 8);
	uint64_t v[16];
	const char *name;

	if (n < 2 || nwords > 16 || !leaf_entering(w, s) ||
	    read_slots(w, s, s->bp, v, nwords) != 0 || v[nwords - 1] != pcs[1] ||
	    (v[ictx] & TAG_MASK) != HEAP_TAG)
		return NULL;
	w->nmaps = 0;
	if ((name = function_name(w, v[0])) != NULL)
		w->st.callers_added++;
	return name;
}

int
v8_plain_name(const char *map_name, char *buf, size_t len)
{
	const char *p, *sp;

	if (strncmp(map_name, "JS:", 3) == 0)
		p = map_name + 3;
	else if (strncmp(map_name, "LazyCompile:", 12) == 0)
		p = map_name + 12;
	else if (strncmp(map_name, "Function:", 9) == 0)
		p = map_name + 9;
	else
		return 0;
	/* the tier: * optimized, ~ interpreted, ^ baseline, + maglev */
	if (*p == '*' || *p == '~' || *p == '^' || *p == '+')
		p++;
	/*
	 * "name file:line:col", or " file:line:col" when anonymous: the
	 * script is after the last space (a getter's name is "get x").
	 */
	sp = strrchr(p, ' ');
	if (sp != NULL && strchr(sp, ':') == NULL)
		sp = NULL;	/* no script part: all of it is the name */
	if (*p == '\0' || sp == p)
		snprintf(buf, len, "%s", ANON);
	else
		snprintf(buf, len, "%.*s", sp ? (int)(sp - p) : (int)strlen(p), p);
	return 1;
}
